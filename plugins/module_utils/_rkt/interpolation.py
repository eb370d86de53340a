# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Nomad-style variable interpolation for a task's ``command`` and ``args``.

Private module: not part of the collection's public API.

Nomad replaces references in a task's arguments before it launches the task.
The module does the same, with these references:

- ``${VAR}`` and ``$VAR``: the task's ``env`` first, then the target's environment;
- ``${attr.<name>}``: a client attribute such as ``driver.rkt.version``;
- ``${meta.<key>}``: the ``meta`` parameter;
- ``${node.unique.name}``: the node's host name;
- ``$$``: a literal dollar sign.

Unlike Nomad, an unknown reference is an error, so a typo never becomes an empty argument.
A ``$`` that starts no reference (``$1``, ``a$``, ``$-``) stays as it is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

VARIABLE_NAME = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


class InterpolationError(ValueError):
    """Unknown or malformed reference; the message names it."""


class InterpolationContext(object):
    """Values that references resolve to.

    ``attributes`` may be a callable that returns the attribute dict; it is called
    only when a text references ``${attr.*}``, because reading attributes runs rkt.
    """

    def __init__(self, task_env=None, target_env=None, attributes=None, meta=None, node_name=None):
        self.task_env = task_env or {}
        self.target_env = target_env or {}
        self._attributes = attributes
        self.meta = meta or {}
        self.node_name = node_name

    def attributes(self):
        if callable(self._attributes):
            self._attributes = self._attributes()
        return self._attributes or {}

    def resolve_variable(self, name, reference):
        if name in self.task_env:
            return self.task_env[name]
        if name in self.target_env:
            return self.target_env[name]
        raise InterpolationError('unknown reference %s: %s is neither in env nor in the environment of the target; '
                                 'set it in env, or write $$ for a literal dollar sign' % (reference, name))

    def resolve_braced(self, expression, reference):
        if expression.startswith('attr.'):
            attributes = self.attributes()
            key = expression[len('attr.'):]
            if key not in attributes:
                raise InterpolationError('unknown reference %s: node attribute "%s" does not exist; known attributes: %s'
                                         % (reference, key, ', '.join(sorted(attributes)) or 'none'))
            return attributes[key]

        if expression.startswith('meta.'):
            key = expression[len('meta.'):]
            if key not in self.meta:
                raise InterpolationError('unknown reference %s: "%s" is not a key of the meta parameter; add it to meta'
                                         % (reference, key))
            return self.meta[key]

        if expression == 'node.unique.name':
            if not self.node_name:
                raise InterpolationError('unknown reference %s: the host name of the node is not known' % reference)
            return self.node_name

        if VARIABLE_NAME.fullmatch(expression):
            return self.resolve_variable(expression, reference)

        raise InterpolationError('unknown reference %s: use ${VAR}, ${attr.<name>}, ${meta.<key>} or '
                                 '${node.unique.name}, or write $$ for a literal dollar sign' % reference)


def interpolate(text, context):
    """Return text with every reference replaced; raise InterpolationError for an unknown one."""
    pieces = []
    position = 0
    length = len(text)

    while position < length:
        dollar = text.find('$', position)
        if dollar < 0:
            pieces.append(text[position:])
            break
        pieces.append(text[position:dollar])
        following = text[dollar + 1:dollar + 2]

        if following == '$':
            pieces.append('$')
            position = dollar + 2
            continue

        if following == '{':
            closing = text.find('}', dollar + 2)
            if closing < 0:
                raise InterpolationError('unterminated reference "%s" in "%s"; close it with } or write $$ for a literal '
                                         'dollar sign' % (text[dollar:], text))
            reference = text[dollar:closing + 1]
            pieces.append(str(context.resolve_braced(text[dollar + 2:closing].strip(), reference)))
            position = closing + 1
            continue

        name_match = VARIABLE_NAME.match(text, dollar + 1)
        if name_match:
            name = name_match.group(0)
            pieces.append(str(context.resolve_variable(name, '$' + name)))
            position = name_match.end()
            continue

        pieces.append('$')
        position = dollar + 1

    return ''.join(pieces)
