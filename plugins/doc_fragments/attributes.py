# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Shared ``attributes`` documentation for the modules of nomad_drivers.rkt.

    Use ``nomad_drivers.rkt.attributes`` in every module, then one of the
    ``.facts`` (fact modules) or ``.actions`` (modules that change the node)
    sub-fragments, then ``.platform``. A module sets ``support`` and ``details``
    of check_mode and diff_mode itself: its own values win over a fragment's.
    """

    # Descriptions of check_mode and diff_mode. Every module adds their `support`.
    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
'''

    # A module that only reads the node and returns ansible_facts.
    FACTS = r'''
options: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
    details:
      - This module only reads the node and never changes anything, so there is no difference to show.
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
'''

    # A module that changes the node and returns no facts.
    ACTIONS = r'''
options: {}
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: none
'''

    # An action plugin that runs on the controller only and changes nothing.
    CONTROLLER_ACTION = r'''
options: {}
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
'''

    # rkt runs on Linux only, so every rkt module of this collection does too.
    PLATFORM = r'''
options: {}
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
    details:
      - Linux only, because rkt runs only on Linux.
'''
