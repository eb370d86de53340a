# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.interpolation import (
    InterpolationContext,
    InterpolationError,
    interpolate,
)


def make_context(**overrides):
    values = dict(
        task_env={'PORT': '8080', 'SHARED': 'from-task'},
        target_env={'HOME': '/root', 'SHARED': 'from-target'},
        attributes={'driver.rkt.version': '1.30.0', 'driver.rkt': '1'},
        meta={'team': 'ops'},
        node_name='node-1',
    )
    values.update(overrides)
    return InterpolationContext(**values)


@pytest.mark.parametrize('text, expected', [
    ('--port=${PORT}', '--port=8080'),
    ('--port=$PORT', '--port=8080'),
    ('$HOME/data', '/root/data'),
    ('${SHARED}', 'from-task'),
    ('${attr.driver.rkt.version}', '1.30.0'),
    ('${meta.team}', 'ops'),
    ('${node.unique.name}', 'node-1'),
    ('$$PORT', '$PORT'),
    ('$${PORT}', '${PORT}'),
    ('price: 5$', 'price: 5$'),
    ('$1 and $-', '$1 and $-'),
    ('no references', 'no references'),
    ('${PORT}${PORT}', '80808080'),
    ('$PORT_X', None),
])
def test_interpolate_references(text, expected):
    context = make_context()
    if expected is None:
        with pytest.raises(InterpolationError):
            interpolate(text, context)
    else:
        assert interpolate(text, context) == expected


def test_task_env_wins_over_target_env():
    assert interpolate('$SHARED', make_context()) == 'from-task'


@pytest.mark.parametrize('text, named', [
    ('${MISSING}', '${MISSING}'),
    ('$MISSING', '$MISSING'),
    ('${attr.driver.nosuch}', 'driver.nosuch'),
    ('${meta.nosuch}', 'nosuch'),
    ('${nomad.datacenter}', '${nomad.datacenter}'),
])
def test_unknown_reference_names_it(text, named):
    with pytest.raises(InterpolationError) as error:
        interpolate(text, make_context())
    assert named in str(error.value)


def test_unterminated_reference_rejected():
    with pytest.raises(InterpolationError) as error:
        interpolate('${PORT', make_context())
    assert 'unterminated' in str(error.value)


def test_attributes_loaded_only_when_referenced():
    calls = []

    def load_attributes():
        calls.append(1)
        return {'driver.rkt.version': '1.30.0'}

    context = make_context(attributes=load_attributes)
    assert interpolate('${PORT}', context) == '8080'
    assert calls == []
    assert interpolate('${attr.driver.rkt.version}', context) == '1.30.0'
    assert interpolate('${attr.driver.rkt.version}', context) == '1.30.0'
    assert calls == [1]


def test_shell_characters_pass_unchanged():
    # "$(" and "`" start no reference, so the text stays as it is.
    text = 'a b; $(rm -rf /) `id` "q" \'s\''
    assert interpolate(text, make_context()) == text


def test_unknown_name_after_shell_characters_fails():
    with pytest.raises(InterpolationError) as error:
        interpolate('$(id) $NOPE', make_context())
    assert '$NOPE' in str(error.value)
