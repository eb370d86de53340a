# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin nomad_drivers.rkt.warn: show a message as an Ansible warning.

ansible-core has no task that warns without failing: ansible.builtin.debug
only prints, and ansible.builtin.fail and ansible.builtin.assert stop the host.
A message in the task result's ``warnings`` list is shown as ``[WARNING]``,
kept in the registered result and counted by callbacks, on every ansible-core
release the collection supports (2.16 and newer).

The rkt role uses it. Its documentation is in plugins/modules/warn.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Return ``msg`` as the task's only warning; never changes or fails."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(('msg',))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)

        dummy, args = self.validate_argument_spec(argument_spec={'msg': {'type': 'str', 'required': True}})

        result['changed'] = False
        result['msg'] = args['msg']
        result['warnings'] = [args['msg']]
        return result
