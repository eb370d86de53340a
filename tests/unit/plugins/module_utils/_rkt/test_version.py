# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.version import (
    DEFAULT_MIN_VERSION,
    Version,
    is_at_least,
    parse_version_output,
    require_version,
    too_old_warning,
)


# Records of `rkt version` and `rkt --version` from a real rkt 1.30.0, one JSON
# object per line with the argv, rc, stdout and stderr of the command.
FIXTURE_PATH = os.path.join(os.path.dirname(__file__), 'fixtures', 'rkt_version_records.jsonl')


def load_records():
    with open(FIXTURE_PATH) as handle:
        return {record['id']: record for record in (json.loads(line) for line in handle if line.strip())}


RECORDS = load_records()

RKT_1_30_OUTPUT = RECORDS['version']['stdout']


@pytest.mark.parametrize('record_id', ['version', 'nonroot-version'])
def test_parse_recorded_rkt_1_30(record_id):
    info = parse_version_output(RECORDS[record_id]['stdout'])

    assert info is not None
    assert info.version == '1.30.0'
    assert info.appc_version == '0.8.11'
    assert info.go_version == 'go1.19.8'
    assert info.go_os_arch == 'linux/amd64'
    assert info.features == ['-TPM', '+SDJOURNAL']


def test_parse_recorded_version_flag_usage():
    # `rkt --version` is not a command: it prints the usage (which contains
    # "VERSION:" and "1.30.0" on separate lines) and exits 254.
    record = RECORDS['version-flag']

    assert record['rc'] == 254
    assert parse_version_output(record['stdout']) is None


def test_fixture_covers_version_records():
    assert sorted(RECORDS) == ['nonroot-version', 'version', 'version-flag']


@pytest.mark.parametrize('output, version, appc_version', [
    ('rkt version 0.8.1\nappc version 0.5.1\n', '0.8.1', '0.5.1'),
    ('rkt Version 0.8.1\nappc Version 0.5.1\n', '0.8.1', '0.5.1'),
    ('RKT VERSION: 0.13.0\nAPPC VERSION: 0.7.4\n', '0.13.0', '0.7.4'),
    ('rkt version: 1.2.0\nappc version: 0.7.4\n', '1.2.0', '0.7.4'),
    ('rkt Version:1.30.0\nappc Version:0.8.11\n', '1.30.0', '0.8.11'),
    ('rkt\tVersion:\t1.30.0\nappc\tVersion:\t0.8.11\n', '1.30.0', '0.8.11'),
    ('  rkt Version: 1.30.0\n  appc Version: 0.8.11\n', '1.30.0', '0.8.11'),
])
def test_parse_old_and_loose_forms(output, version, appc_version):
    info = parse_version_output(output)

    assert info is not None
    assert info.version == version
    assert info.appc_version == appc_version


def test_parse_old_form_has_no_go_lines():
    info = parse_version_output('rkt version 0.8.1\nappc version 0.5.1\n')

    assert info.go_version is None
    assert info.go_os_arch is None
    assert info.features == []


def test_parse_windows_line_endings():
    info = parse_version_output(RKT_1_30_OUTPUT.replace('\n', '\r\n'))

    assert info.version == '1.30.0'
    assert info.appc_version == '0.8.11'
    assert info.go_version == 'go1.19.8'
    assert info.go_os_arch == 'linux/amd64'
    assert info.features == ['-TPM', '+SDJOURNAL']


def test_parse_extra_lines_around_output():
    output = 'warning: something odd\n' + RKT_1_30_OUTPUT + 'Extra: line\n\n'

    info = parse_version_output(output)

    assert info.version == '1.30.0'
    assert info.appc_version == '0.8.11'
    assert info.features == ['-TPM', '+SDJOURNAL']


def test_parse_lines_in_other_order():
    info = parse_version_output('appc Version: 0.8.11\nrkt Version: 1.30.0\n')

    assert info.version == '1.30.0'
    assert info.appc_version == '0.8.11'


@pytest.mark.parametrize('output, version', [
    ('rkt Version: 1.25.0+git2d5b6e1\nappc Version: 0.8.10\n', '1.25.0+git2d5b6e1'),
    ('rkt Version: 0.14.0-rc\nappc Version: 0.7.1\n', '0.14.0-rc'),
    ('rkt Version: 1.30.0-rc.1+dirty\nappc Version: 0.8.11\n', '1.30.0-rc.1+dirty'),
])
def test_parse_keeps_prerelease_and_build(output, version):
    assert parse_version_output(output).version == version


def test_parse_empty_features_line():
    info = parse_version_output('rkt Version: 1.30.0\nappc Version: 0.8.11\nFeatures:\n')

    assert info.features == []


@pytest.mark.parametrize('output', [
    pytest.param('rkt Version: 1.30.0\nGo Version: go1.19.8\n', id='missing-appc-line'),
    pytest.param('appc Version: 0.8.11\n', id='missing-rkt-line'),
    pytest.param('', id='empty'),
    pytest.param(None, id='none'),
    pytest.param('\n\n', id='blank-lines'),
    pytest.param('rkt Version: \nappc Version: \n', id='no-numbers'),
    pytest.param('rkt Version: 1\nappc Version: 0\n', id='single-numbers'),
    pytest.param('rkt Version: v1.30.0\nappc Version: v0.8.11\n', id='v-prefix'),
    pytest.param('rkt Version 1.30.0 appc', id='appc-without-version'),
    pytest.param('rktVersion: 1.30.0\nappcVersion: 0.8.11\n', id='no-space-before-version'),
    pytest.param('xrkt Version: 1.30.0\nxappc Version: 0.8.11\n', id='not-whole-words'),
    pytest.param('rkt version1.30.0\nappc version0.8.11\n', id='no-separator'),
    pytest.param('\x00\x01\x02\ufffd\ufffd garbage \x7f', id='binary-garbage'),
    pytest.param('NAME:\n\trkt - rkt\n\nVERSION:\n\t1.30.0\n', id='usage-text'),
    pytest.param('command not found: rkt\n', id='shell-error'),
])
def test_parse_returns_none_without_both_versions(output):
    assert parse_version_output(output) is None


@pytest.mark.parametrize('older, newer', [
    ('0.13.9', '0.14.0'),
    ('0.14.0-rc', '0.14.0'),
    ('0.14.0-rc1', '0.14.0'),
    ('0.14.0-alpha', '0.14.0-beta'),
    ('0.14.0-rc.2', '0.14.0-rc.10'),
    ('0.14.0-1', '0.14.0-alpha'),
    ('0.14.0', '0.14.1'),
    ('1.9.0', '1.10.0'),
    ('1.9.9', '1.10.0'),
    ('0.8.1', '0.14.0'),
    ('1.29.0', '1.30.0'),
    ('0.14.0', '1.0.0'),
])
def test_version_ordering(older, newer):
    assert Version(older) < Version(newer)
    assert Version(newer) > Version(older)
    assert Version(older) != Version(newer)
    assert not is_at_least(older, newer)
    assert is_at_least(newer, older)


@pytest.mark.parametrize('left, right', [
    ('1.9', '1.9.0'),
    ('1.30.0', '1.30.0+git2d5b6e1'),
    ('v1.30.0', '1.30.0'),
    ('0.14.0', '0.14.0'),
])
def test_version_equality(left, right):
    assert Version(left) == Version(right)
    assert Version(left) <= Version(right)
    assert Version(left) >= Version(right)
    assert hash(Version(left)) == hash(Version(right))


def test_version_is_not_compared_as_string():
    versions = ['1.9.0', '1.10.0', '1.2.0']

    # As strings, "1.10.0" sorts before "1.9.0" and "1.2.0".
    assert sorted(versions, key=Version) == ['1.2.0', '1.9.0', '1.10.0']


def test_version_keeps_text():
    version = Version(' 1.30.0+git2d5b6e1 ')

    assert str(version) == '1.30.0+git2d5b6e1'
    assert version.release == (1, 30, 0)
    assert version.prerelease == ()
    assert version.build == 'git2d5b6e1'
    assert repr(version) == "Version('1.30.0+git2d5b6e1')"


def test_version_compared_with_other_type():
    assert Version('1.0.0') != '1.0.0'
    with pytest.raises(TypeError):
        Version('1.0.0') < '1.0.0'  # pylint: disable=expression-not-assigned


@pytest.mark.parametrize('text', ['', 'abc', '1.x', '1..0', '1.0.', '.1', '1.0-', '1.0 beta', '１.０', '¹.2'])
def test_version_rejects_non_versions(text):
    with pytest.raises(ValueError) as error:
        Version(text)
    assert 'is not a version' in str(error.value)
    assert '0.14.0' in str(error.value)


@pytest.mark.parametrize('value', [None, 1.3, 14])
def test_version_rejects_non_strings(value):
    with pytest.raises(ValueError):
        Version(value)


@pytest.mark.parametrize('found, expected', [
    ('0.13.9', False),
    ('0.14.0-rc', False),
    ('0.14.0', True),
    ('0.14.1', True),
    ('1.30.0', True),
])
def test_default_min_version_boundary(found, expected):
    assert DEFAULT_MIN_VERSION == '0.14.0'
    assert is_at_least(found, DEFAULT_MIN_VERSION) is expected


def test_require_version_met():
    assert require_version('1.30.0', '1.10.0', 'cpu') is None
    assert require_version(Version('1.10.0'), Version('1.10.0'), 'cpu') is None


def test_require_version_not_met_names_everything():
    message = require_version('1.9.0', '1.10.0', 'dns_search_domains')

    assert message == (
        'option dns_search_domains needs rkt 1.10.0 or later, but the rkt found is 1.9.0; '
        'upgrade rkt or remove dns_search_domains'
    )


def test_too_old_warning_text():
    assert too_old_warning('0.8.1', '0.14.0') == 'rkt 0.8.1 is older than the minimum 0.14.0; upgrade rkt'
