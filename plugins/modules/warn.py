#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The action plugin plugins/action/warn.py does the work on the controller;
# this file only documents it.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r'''
---
module: warn
short_description: Show a message as an Ansible warning without failing
version_added: 0.1.0
description:
  - Adds O(msg) to the task result's C(warnings), so Ansible shows it as C([WARNING]), keeps it in a registered
    result and counts it in callbacks, and the play goes on.
  - M(ansible.builtin.debug) only prints a message, and M(ansible.builtin.fail) and M(ansible.builtin.assert) stop the
    host. The rkt role uses this action to warn about an unverified install (C(rkt_verify=none)).
  - Runs on the controller and never contacts the node.
options:
  msg:
    description:
      - The warning text.
    type: str
    required: true
extends_documentation_fragment:
  - nomad_drivers.rkt.attributes
  - nomad_drivers.rkt.attributes.controller_action
author:
  - nomad_drivers.rkt maintainers (@nomad-drivers)
'''

EXAMPLES = r'''
- name: Warn about unsigned images and go on
  nomad_drivers.rkt.warn:
    msg: >-
      {{ inventory_hostname }} runs images without signature checks (insecure_options: [image]);
      sign the images and set trust_prefix.
  register: unsigned_warning

- name: Show that the warning is part of the result
  ansible.builtin.assert:
    that:
      - unsigned_warning.warnings | length == 1
'''

RETURN = r'''
msg:
  description: The warning text, as given.
  returned: always
  type: str
  sample: rkt_verify is none, so the release tarball is installed without any signature or checksum check.
'''
