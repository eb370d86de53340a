#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The action plugin plugins/action/unknown_variables.py does the work on the
# controller; this file only documents it.

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r'''
---
module: unknown_variables
short_description: Warn about or reject variables that are not inputs of a role
version_added: 0.1.0
description:
  - Ansible checks a role's declared inputs against its C(meta/argument_specs.yml) but ignores every other variable, so
    a misspelled input such as C(rkt_verion) silently leaves the default in place.
  - This action compares the variable names in O(variables) with the role's inputs in O(known) and reports each name
    that is neither known nor matched by O(ignore), together with the closest known name.
  - The rkt role runs it first, with the C(rkt_*) variables from the P(ansible.builtin.varnames#lookup) lookup.
  - Runs on the controller and never contacts the node.
options:
  variables:
    description:
      - The variable names to check, for example C(query('ansible.builtin.varnames', '^rkt_')).
    type: list
    elements: str
    required: true
  known:
    description:
      - The role's input names, for example the options of its argument spec.
    type: list
    elements: str
    required: true
  ignore:
    description:
      - Python regular expressions; a name that one of them matches in full is never reported.
    type: list
    elements: str
    default: []
  on_unknown:
    description:
      - V(warn) adds one warning per unknown variable to the task result.
      - V(fail) fails the task with all of them in C(msg).
      - V(ignore) checks nothing.
    type: str
    choices: [warn, fail, ignore]
    default: warn
  role:
    description:
      - The role's name, used in the messages.
    type: str
    required: true
  hint:
    description:
      - A sentence appended to each message that says how to fix or silence it.
    type: str
    default: ""
extends_documentation_fragment:
  - nomad_drivers.rkt.attributes
  - nomad_drivers.rkt.attributes.controller_action
author:
  - nomad_drivers.rkt maintainers (@nomad-drivers)
'''

EXAMPLES = r'''
# In a role's tasks, the inputs come from its own argument spec:
#   known: "{{ (lookup('ansible.builtin.file', role_path ~ '/meta/argument_specs.yml') | from_yaml).argument_specs.main.options | list }}"
- name: Look for app_ variables that are not inputs of the app role
  nomad_drivers.rkt.unknown_variables:
    variables: "{{ query('ansible.builtin.varnames', '^app_') }}"
    known: [app_port, app_version]
    ignore:
      - app_site_.*
    on_unknown: warn
    role: example.apps.app
    hint: Correct the name, or add it to the ignore list.
  vars:
    app_port: 8080
    app_verison: 1.2.0
    app_site_name: eu1
  register: app_variables

- name: Show the misspelled variable that was found
  ansible.builtin.assert:
    that:
      - app_variables.unknown_variables | map(attribute='name') | list == ['app_verison']
      - app_variables.unknown_variables[0].closest == 'app_version'
'''

RETURN = r'''
unknown_variables:
  description: The reported variables, sorted by name, each with the closest known name (null when none is similar).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "rkt_verion", "closest": "rkt_version"}]
msg:
  description: All reports in one text, or a note that nothing was found.
  returned: always
  type: str
  sample: rkt_verion is not an input of the role nomad_drivers.rkt.rkt and has no effect; did you mean rkt_version?
'''
