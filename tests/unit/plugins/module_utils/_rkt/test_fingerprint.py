# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.cli import RktCli
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.fingerprint import (
    empty_facts,
    fingerprint,
    list_stage1_images,
    read_isolation,
)
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.version import Version

FIXTURE_PATH = os.path.join(os.path.dirname(__file__), 'fixtures', 'rkt_version_records.jsonl')

with open(FIXTURE_PATH) as fixture_file:
    RECORDS = {record['id']: record for record in (json.loads(line) for line in fixture_file if line.strip())}

RKT_1_30_OUTPUT = RECORDS['version']['stdout'].encode('utf-8')

FACT_KEYS = sorted([
    'detected', 'reason', 'reason_message', 'unparsable_output', 'version', 'appc_version', 'go_version',
    'go_os_arch', 'features', 'path', 'min_version', 'meets_min_version', 'attributes', 'stage1_images', 'isolation',
])

ROOT = 0
NOBODY = 65534


@pytest.fixture
def fake_rkt(tmp_path):
    """Return a function that writes an rkt stand-in printing ``stdout`` and exiting ``rc``.

    The stand-in appends one line per invocation to ``<tmp_path>/calls``.
    """
    def write(stdout=b'', rc=0, stderr=b''):
        (tmp_path / 'stdout').write_bytes(stdout)
        (tmp_path / 'stderr').write_bytes(stderr)
        path = tmp_path / 'rkt'
        path.write_text(
            '#!/bin/sh\n'
            'echo "$@" >> "%(dir)s/calls"\n'
            'cat "%(dir)s/stdout"\n'
            'cat "%(dir)s/stderr" >&2\n'
            'exit %(rc)d\n' % dict(dir=tmp_path, rc=rc))
        path.chmod(0o755)
        return str(path)
    return write


def count_calls(tmp_path):
    calls = tmp_path / 'calls'
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def run_fingerprint(module, executable, tmp_path, euid=ROOT, min_version='0.14.0'):
    cli = RktCli(module, executable=executable)
    facts, warnings = fingerprint(
        cli, Version(min_version), stage1_dir=str(tmp_path / 'stage1'), euid=euid, fs_root=str(tmp_path / 'root'))
    # Facts go back to Ansible as JSON.
    json.dumps(facts)
    return facts, warnings, cli.commands


def test_detected_rkt_1_30(module, fake_rkt, tmp_path):
    path = fake_rkt(RKT_1_30_OUTPUT)

    facts, warnings, commands = run_fingerprint(module, path, tmp_path)

    assert sorted(facts) == FACT_KEYS
    assert facts['detected'] is True
    assert facts['reason'] is None
    assert facts['reason_message'] is None
    assert facts['unparsable_output'] is None
    assert facts['version'] == '1.30.0'
    assert facts['appc_version'] == '0.8.11'
    assert facts['go_version'] == 'go1.19.8'
    assert facts['go_os_arch'] == 'linux/amd64'
    assert facts['features'] == ['-TPM', '+SDJOURNAL']
    assert facts['path'] == path
    assert facts['min_version'] == '0.14.0'
    assert facts['meets_min_version'] is True
    assert facts['attributes'] == {
        'driver.rkt': '1',
        'driver.rkt.version': '1.30.0',
        'driver.rkt.appc.version': '0.8.11',
    }
    assert warnings == []
    assert commands == [[path, 'version']]
    assert count_calls(tmp_path) == 1


def test_too_old_is_detected_with_driver_zero(module, fake_rkt, tmp_path):
    path = fake_rkt(b'rkt version 0.8.1\nappc version 0.5.1\n')

    facts, warnings, commands = run_fingerprint(module, path, tmp_path)

    assert facts['detected'] is True
    assert facts['meets_min_version'] is False
    assert facts['attributes'] == {
        'driver.rkt': '0',
        'driver.rkt.version': '0.8.1',
        'driver.rkt.appc.version': '0.5.1',
    }
    assert warnings == ['rkt 0.8.1 is older than the minimum 0.14.0; upgrade rkt']
    assert facts['go_version'] is None
    assert facts['features'] == []
    assert len(commands) == 1


@pytest.mark.parametrize('version, min_version, driver', [
    ('0.13.9', '0.14.0', '0'),
    ('0.14.0-rc', '0.14.0', '0'),
    ('0.14.0', '0.14.0', '1'),
    ('1.9.0', '1.10.0', '0'),
    ('1.10.0', '1.9.0', '1'),
    ('1.30.0', '1.30.1', '0'),
])
def test_min_version_boundaries(module, fake_rkt, tmp_path, version, min_version, driver):
    path = fake_rkt(('rkt Version: %s\nappc Version: 0.8.11\n' % version).encode('utf-8'))

    facts, warnings, dummy = run_fingerprint(module, path, tmp_path, min_version=min_version)

    assert facts['attributes']['driver.rkt'] == driver
    assert facts['meets_min_version'] is (driver == '1')
    assert facts['min_version'] == min_version
    assert len(warnings) == (1 if driver == '0' else 0)


def test_not_found(module, tmp_path):
    missing = str(tmp_path / 'missing' / 'rkt')

    facts, warnings, commands = run_fingerprint(module, missing, tmp_path)

    assert sorted(facts) == FACT_KEYS
    assert facts['detected'] is False
    assert facts['reason'] == 'not_found'
    assert missing in facts['reason_message']
    assert facts['path'] is None
    assert facts['version'] is None
    assert facts['meets_min_version'] is None
    assert facts['attributes'] == {}
    assert warnings == []
    assert commands == []


def test_exec_failed_on_nonzero_exit(module, fake_rkt, tmp_path):
    # Even a parsable version counts for nothing when rkt exits non-zero, as in Nomad.
    path = fake_rkt(RKT_1_30_OUTPUT, rc=254, stderr=b'Error: broken\n')

    facts, warnings, commands = run_fingerprint(module, path, tmp_path)

    assert facts['detected'] is False
    assert facts['reason'] == 'exec_failed'
    assert 'exit code 254' in facts['reason_message']
    assert 'Error: broken' in facts['reason_message']
    assert facts['path'] == path
    assert facts['version'] is None
    assert facts['attributes'] == {}
    assert warnings == []
    assert len(commands) == 1


def test_exec_failed_when_not_a_program(module, tmp_path):
    path = tmp_path / 'rkt'
    path.write_bytes(b'\x00\x01 not a program')
    path.chmod(0o755)

    facts, dummy, commands = run_fingerprint(module, str(path), tmp_path)

    assert facts['reason'] == 'exec_failed'
    assert 'could not run' in facts['reason_message']
    assert len(commands) == 1


@pytest.mark.parametrize('stdout, first_line', [
    pytest.param(b'', '', id='empty'),
    pytest.param(b'\xff\xfe\x00garbage\x80\nsecond line\n', u'\ufffd\ufffd\x00garbage\ufffd', id='binary'),
    pytest.param(b'rkt Version: 1.30.0\r\nGo Version: go1.19.8\r\n', 'rkt Version: 1.30.0', id='missing-appc-crlf'),
    pytest.param(b'hello\n', 'hello', id='text'),
])
def test_unparsable_output(module, fake_rkt, tmp_path, stdout, first_line):
    path = fake_rkt(stdout)

    facts, warnings, commands = run_fingerprint(module, path, tmp_path)

    assert facts['detected'] is False
    assert facts['reason'] == 'unparsable'
    assert facts['unparsable_output'] == first_line
    assert repr(first_line) in facts['reason_message']
    assert facts['version'] is None
    assert facts['attributes'] == {}
    assert warnings == []
    assert len(commands) == 1


def test_windows_line_endings(module, fake_rkt, tmp_path):
    path = fake_rkt(RKT_1_30_OUTPUT.replace(b'\n', b'\r\n'))

    facts, dummy, dummy2 = run_fingerprint(module, path, tmp_path)

    assert facts['detected'] is True
    assert facts['version'] == '1.30.0'
    assert facts['go_os_arch'] == 'linux/amd64'
    assert facts['features'] == ['-TPM', '+SDJOURNAL']


def test_not_root_reports_version_only(module, fake_rkt, tmp_path):
    path = fake_rkt(RKT_1_30_OUTPUT)

    facts, warnings, commands = run_fingerprint(module, path, tmp_path, euid=NOBODY)

    assert facts['detected'] is False
    assert facts['reason'] == 'not_root'
    assert '65534' in facts['reason_message']
    assert 'become' in facts['reason_message']
    assert facts['version'] == '1.30.0'
    assert facts['meets_min_version'] is True
    assert facts['attributes'] == {}
    assert warnings == []
    assert len(commands) == 1
    assert count_calls(tmp_path) == 1


def test_not_root_wins_over_not_found(module, tmp_path):
    facts, dummy, commands = run_fingerprint(module, str(tmp_path / 'missing'), tmp_path, euid=NOBODY)

    assert facts['reason'] == 'not_root'
    assert commands == []


def test_not_root_old_rkt_gives_no_warning(module, fake_rkt, tmp_path):
    path = fake_rkt(b'rkt version 0.8.1\nappc version 0.5.1\n')

    facts, warnings, dummy = run_fingerprint(module, path, tmp_path, euid=NOBODY)

    assert facts['reason'] == 'not_root'
    assert facts['meets_min_version'] is False
    assert warnings == []


def test_euid_defaults_to_process(module, fake_rkt, tmp_path, monkeypatch):
    path = fake_rkt(RKT_1_30_OUTPUT)
    monkeypatch.setattr(os, 'geteuid', lambda: 1000)

    facts, dummy = fingerprint(RktCli(module, executable=path), Version('0.14.0'), stage1_dir=str(tmp_path), fs_root=str(tmp_path))

    assert facts['reason'] == 'not_root'


def test_stage1_images_listed(tmp_path):
    stage1_dir = tmp_path / 'stage1'
    stage1_dir.mkdir()
    for name in ['stage1-fly.aci', 'stage1-coreos.aci', 'custom.aci', 'stage1-.aci', 'README', 'stage1-kvm.aci.asc']:
        (stage1_dir / name).write_bytes(b'x')
    (stage1_dir / 'stage1-dir.aci').mkdir()

    images = list_stage1_images(str(stage1_dir))

    assert images == [
        dict(name='custom.aci', path=str(stage1_dir / 'custom.aci'), flavor=None),
        dict(name='stage1-.aci', path=str(stage1_dir / 'stage1-.aci'), flavor=None),
        dict(name='stage1-coreos.aci', path=str(stage1_dir / 'stage1-coreos.aci'), flavor='coreos'),
        dict(name='stage1-fly.aci', path=str(stage1_dir / 'stage1-fly.aci'), flavor='fly'),
    ]


def test_stage1_images_missing_dir(tmp_path):
    assert list_stage1_images(str(tmp_path / 'missing')) == []


def test_stage1_images_without_rkt(module, tmp_path):
    (tmp_path / 'stage1').mkdir()
    (tmp_path / 'stage1' / 'stage1-fly.aci').write_bytes(b'x')

    facts, dummy, dummy2 = run_fingerprint(module, str(tmp_path / 'missing'), tmp_path)

    assert facts['reason'] == 'not_found'
    assert [image['name'] for image in facts['stage1_images']] == ['stage1-fly.aci']


def write_file(root, relative_path, text):
    path = os.path.join(str(root), relative_path)
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    with open(path, 'w') as handle:
        handle.write(text)
    return path


CGROUP1_TABLE = (
    '#subsys_name\thierarchy\tnum_cgroups\tenabled\n'
    'cpuset\t2\t1\t1\n'
    'cpu\t3\t70\t1\n'
    'cpuacct\t3\t70\t1\n'
    'memory\t5\t102\t1\n'
)


def test_isolation_cgroup2(tmp_path):
    source = write_file(tmp_path, 'sys/fs/cgroup/cgroup.controllers', 'cpuset cpu io memory hugetlb pids rdma misc\n')
    write_file(tmp_path, 'proc/cgroups', CGROUP1_TABLE.replace('\t1\n', '\t0\n'))

    isolation = read_isolation(str(tmp_path))

    assert isolation == dict(cgroup_version=2, source=source, cpu=True, memory=True, available=True)


def test_isolation_cgroup2_without_memory(tmp_path):
    write_file(tmp_path, 'sys/fs/cgroup/cgroup.controllers', 'cpuset cpu io pids\n')

    isolation = read_isolation(str(tmp_path))

    assert isolation['cgroup_version'] == 2
    assert isolation['cpu'] is True
    assert isolation['memory'] is False
    assert isolation['available'] is False


def test_isolation_cgroup2_empty_controllers(tmp_path):
    write_file(tmp_path, 'sys/fs/cgroup/cgroup.controllers', '')

    isolation = read_isolation(str(tmp_path))

    assert isolation['cgroup_version'] == 2
    assert isolation['available'] is False


def test_isolation_cgroup1(tmp_path):
    source = write_file(tmp_path, 'proc/cgroups', CGROUP1_TABLE)

    isolation = read_isolation(str(tmp_path))

    assert isolation == dict(cgroup_version=1, source=source, cpu=True, memory=True, available=True)


def test_isolation_cgroup1_memory_disabled(tmp_path):
    write_file(tmp_path, 'proc/cgroups', CGROUP1_TABLE.replace('memory\t5\t102\t1', 'memory\t0\t1\t0'))

    isolation = read_isolation(str(tmp_path))

    assert isolation['cpu'] is True
    assert isolation['memory'] is False
    assert isolation['available'] is False


def test_isolation_cgroup1_controller_not_mounted(tmp_path):
    # Enabled, but hierarchy 0: not mounted on any cgroup v1 hierarchy.
    write_file(tmp_path, 'proc/cgroups', CGROUP1_TABLE.replace('cpu\t3\t70\t1', 'cpu\t0\t1\t1'))

    isolation = read_isolation(str(tmp_path))

    assert isolation['cpu'] is False
    assert isolation['available'] is False


def test_isolation_cgroup1_garbage_lines(tmp_path):
    write_file(tmp_path, 'proc/cgroups', 'garbage\n\ncpu 3\n' + CGROUP1_TABLE.replace('cpu\t3\t70\t1\n', ''))

    isolation = read_isolation(str(tmp_path))

    assert isolation['cgroup_version'] == 1
    assert isolation['cpu'] is False
    assert isolation['memory'] is True


def test_isolation_unknown(tmp_path):
    isolation = read_isolation(str(tmp_path))

    assert isolation == dict(cgroup_version=None, source=None, cpu=False, memory=False, available=False)


def test_empty_facts_has_every_key():
    facts = empty_facts(Version('1.0.0'))

    assert sorted(facts) == FACT_KEYS
    assert facts['min_version'] == '1.0.0'
    assert facts['detected'] is False
