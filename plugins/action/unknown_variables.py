# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin nomad_drivers.rkt.unknown_variables: report variables that are not inputs of a role.

Ansible validates a role's declared inputs against meta/argument_specs.yml but
ignores every other variable, so a misspelled input such as ``rkt_verion``
silently leaves the default in place. The rkt role passes the names of all
variables that start with ``rkt_`` (from the ansible.builtin.varnames lookup)
and the option names of its argument spec. This plugin names each unknown
variable together with the closest known one. Its documentation is in
plugins/modules/unknown_variables.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import re

from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = {
    'variables': {'type': 'list', 'elements': 'str', 'required': True},
    'known': {'type': 'list', 'elements': 'str', 'required': True},
    'ignore': {'type': 'list', 'elements': 'str', 'default': []},
    'on_unknown': {'type': 'str', 'choices': ['warn', 'fail', 'ignore'], 'default': 'warn'},
    'role': {'type': 'str', 'required': True},
    'hint': {'type': 'str', 'default': ''},
}

# difflib's default cutoff: a ratio of 0.6 finds one or two wrong, missing or
# swapped letters in names of this length (rkt_verion -> rkt_version) without
# proposing unrelated inputs.
CLOSEST_NAME_CUTOFF = 0.6


def compile_ignore_patterns(patterns):
    """Compile the ignore patterns; return (compiled patterns, error texts of the invalid ones)."""
    compiled = []
    errors = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            errors.append('"%s" (%s)' % (pattern, error))
    return compiled, errors


def find_unknown_variables(variables, known, ignore_patterns):
    """Return [(name, closest known name or None)] for the names neither known nor ignored, sorted by name."""
    known_names = sorted(set(known))
    unknown = []
    for name in sorted(set(variables)):
        if name in known_names:
            continue
        if any(pattern.fullmatch(name) for pattern in ignore_patterns):
            continue
        closest = difflib.get_close_matches(name, known_names, n=1, cutoff=CLOSEST_NAME_CUTOFF)
        unknown.append((name, closest[0] if closest else None))
    return unknown


def describe_unknown_variable(name, closest, role):
    """Return the sentence that names one unknown variable and its closest known input."""
    if closest:
        return '%s is not an input of the role %s and has no effect; did you mean %s?' % (name, role, closest)
    return '%s is not an input of the role %s and has no effect; no input has a similar name.' % (name, role)


class ActionModule(ActionBase):
    """Warn about, or fail on, variables that are not inputs of a role."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)

        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)

        result['changed'] = False
        result['unknown_variables'] = []
        if args['on_unknown'] == 'ignore':
            result['msg'] = 'on_unknown is ignore, so the variables were not checked.'
            return result

        ignore_patterns, invalid_patterns = compile_ignore_patterns(args['ignore'])
        if invalid_patterns:
            result['failed'] = True
            result['msg'] = ('ignore contains invalid regular expressions: %s. Write each entry as a Python regular '
                             'expression that matches whole variable names, for example site_rkt_.* or rkt_backup_dir.'
                             % '; '.join(invalid_patterns))
            return result

        unknown = find_unknown_variables(args['variables'], args['known'], ignore_patterns)
        result['unknown_variables'] = [{'name': name, 'closest': closest} for name, closest in unknown]
        if not unknown:
            result['msg'] = 'Every variable is an input of the role %s or ignored.' % args['role']
            return result

        messages = [' '.join(filter(None, (describe_unknown_variable(name, closest, args['role']), args['hint'])))
                    for name, closest in unknown]
        result['msg'] = ' '.join(messages)
        if args['on_unknown'] == 'fail':
            result['failed'] = True
        else:
            result['warnings'] = messages
        return result
