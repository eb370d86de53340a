# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Set the arguments of AnsibleModule objects built in unit tests, and build such modules.

Import it as ``ansible_collections.nomad_drivers.rkt.tests.unit.module_args``.
tests/unit/conftest.py builds its ``module`` fixture with it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19
    patch_module_args = None


@contextlib.contextmanager
def module_args(args):
    """Make ``args`` the module arguments of AnsibleModule instances built inside."""
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return

    saved = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = json.dumps(dict(ANSIBLE_MODULE_ARGS=args)).encode('utf-8')
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = saved


def build_module(params=None, check_mode=False):
    """Return a real AnsibleModule whose ``params`` are exactly ``params``.

    Every key is declared with type ``raw``, so AnsibleModule keeps the values
    as given and adds no defaults: a test passes each parameter the code under
    test reads. ``check_mode`` sets the module's check mode the way Ansible
    does, through ``_ansible_check_mode``.
    """
    params = dict(params or {})
    argument_spec = dict((key, dict(type='raw')) for key in params)
    args = dict(params)
    if check_mode:
        args['_ansible_check_mode'] = True
    with module_args(args):
        return AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
