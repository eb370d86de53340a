# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import quantity
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.quantity import (
    QuantityError,
    canonical_quantity,
    normalize_cpu,
    normalize_memory,
)

RECORDS_PATH = os.path.join(os.path.dirname(__file__), 'fixtures', 'rkt_1_30_0_records.json')


def load_records():
    with open(RECORDS_PATH) as handle:
        return json.load(handle)


def recorded_limit(record, isolator_name):
    manifest = json.loads(record['stdout'])
    for isolator in manifest['apps'][0]['app']['isolators']:
        if isolator['name'] == isolator_name:
            return isolator['value']['limit']
    raise AssertionError('no isolator %s' % isolator_name)


# (record id, isolator, the value passed to rkt run), from real rkt 1.30.0.
RECORDED_CASES = [
    ('catman-run-cpu-0.5', 'resource/cpu', '0.5'),
    ('catman-run-cpu-1', 'resource/cpu', '1'),
    ('catman-run-memory-512Mi', 'resource/memory', '512Mi'),
    ('catman-run-memory-bytes-plain', 'resource/memory', '100000000'),
    ('catman-run-cpu-250m-memory-128M', 'resource/cpu', '250m'),
    ('catman-run-cpu-250m-memory-128M', 'resource/memory', '128M'),
]


@pytest.mark.parametrize('record_id, isolator, typed', RECORDED_CASES)
def test_canonical_matches_rkt_manifest(record_id, isolator, typed):
    expected = recorded_limit(load_records()[record_id], isolator)
    assert canonical_quantity(typed) == expected


@pytest.mark.parametrize('typed, expected', [
    ('1G', '1G'),
    ('0', '0'),
    ('-1', '-1'),
    ('1000m', '1'),
    ('1.5', '1500m'),
    ('.5', '500m'),
    ('1024Mi', '1Gi'),
    ('1536Mi', '1536Mi'),
    ('0.5Gi', '512Mi'),
    ('1.5Ki', '1536'),
    ('1000M', '1G'),
    ('1e3', '1e3'),
    ('1500e0', '1500'),
    ('0.0000000001', '1n'),
])
def test_canonical_kubernetes_rules(typed, expected):
    assert canonical_quantity(typed) == expected


@pytest.mark.parametrize('text', ['abc', '', '1.2.3', '5x', 'M'])
def test_canonical_rejects_non_quantity(text):
    with pytest.raises(QuantityError):
        canonical_quantity(text)


@pytest.mark.parametrize('value, expected', [
    (500, '500m'),
    (250, '250m'),
    (1000, '1'),
    (1500, '1500m'),
    ('500m', '500m'),
    ('0.5', '500m'),
    ('2.0', '2'),
    (' 2.0 ', '2'),
    # Strings of digits come from ad hoc key=value arguments and templates.
    ('500', '500m'),
    (' 2000 ', '2'),
])
def test_cpu_normalised(value, expected):
    assert normalize_cpu(value) == expected


def test_cpu_int_and_string_compare_equal():
    assert normalize_cpu(500) == normalize_cpu('0.5') == normalize_cpu('500m')


def test_cpu_none_is_none():
    assert normalize_cpu(None) is None


@pytest.mark.parametrize('value, fragment', [
    ('abc', 'cpu "abc" is not a quantity'),
    (0, 'must be greater than zero'),
    ('-1', 'must be greater than zero'),
    (True, 'is a boolean'),
    (0.5, 'ambiguous; quote it'),
])
def test_cpu_invalid(value, fragment):
    with pytest.raises(QuantityError) as error:
        normalize_cpu(value)
    assert fragment in str(error.value)
    assert '"500m"' in str(error.value)


@pytest.mark.parametrize('value, expected', [
    (256, '256M'),
    (1000, '1G'),
    ('256M', '256M'),
    ('1G', '1G'),
    ('512Mi', '512Mi'),
    ('100000000k', '100G'),
    # Strings of digits come from ad hoc key=value arguments and templates.
    ('256', '256M'),
    ('1000', '1G'),
])
def test_memory_normalised(value, expected):
    assert normalize_memory(value) == expected


def test_memory_int_and_string_compare_equal():
    assert normalize_memory(1000) == normalize_memory('1G') == normalize_memory('1000M')


def test_adhoc_strings_match_nomad_integers():
    assert normalize_cpu('500') == normalize_cpu(500)
    assert normalize_memory('256') == normalize_memory(256)


def test_memory_error_message_names_value_and_fix():
    with pytest.raises(QuantityError) as error:
        normalize_memory('abc')
    assert str(error.value) == 'memory "abc" is not a quantity; use a number of MB or a string such as "256M" or "1Gi"'


@pytest.mark.parametrize('value', [0, '0', '-1', -5])
def test_memory_zero_or_negative_rejected(value, ):
    # rkt 1.30.0 rejects these with "memory limit of N bytes too low".
    with pytest.raises(QuantityError) as error:
        normalize_memory(value)
    assert 'at least one byte' in str(error.value)


@pytest.mark.parametrize('value', [True, False, 1.5])
def test_memory_yaml_types_rejected(value):
    with pytest.raises(QuantityError):
        normalize_memory(value)


# Nomad's integer values take a path without fractions; it must write what the general parser writes.
WHOLE_COUNTS = [1, 2, 999, 1000, 1001, 1500, 2000, 10 ** 6, 1234000, 10 ** 9, 10 ** 12, 10 ** 15, 10 ** 18]


@pytest.mark.parametrize('count', WHOLE_COUNTS)
def test_integer_cpu_matches_general_parser(count):
    assert quantity.normalize_cpu(count) == quantity.canonical_quantity('%dm' % count)


@pytest.mark.parametrize('count', WHOLE_COUNTS)
def test_integer_memory_matches_general_parser(count):
    assert quantity.normalize_memory(count) == quantity.canonical_quantity('%dM' % count)
