# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures shared by every unit test of the collection."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nomad_drivers.rkt.tests.unit.module_args import build_module


@pytest.fixture
def module():
    """Return an AnsibleModule without parameters, for code that only runs commands through it."""
    return build_module()
