# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
import yaml

from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.nomad_drivers.rkt.plugins.modules import rkt_fingerprint
from ansible_collections.nomad_drivers.rkt.tests.unit.module_args import module_args


RKT_1_30_OUTPUT = 'rkt Version: 1.30.0\nappc Version: 0.8.11\nGo Version: go1.19.8\nGo OS/Arch: linux/amd64\nFeatures: -TPM +SDJOURNAL\n'


def run_module(args, capsys):
    """Run the module's main() with ``args`` and return its JSON result."""
    with module_args(args):
        with pytest.raises(SystemExit):
            rkt_fingerprint.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def fake_rkt(tmp_path):
    """Return a function that writes an rkt stand-in printing ``stdout``; it logs each call to ``calls``."""
    def write(stdout, rc=0):
        (tmp_path / 'stdout').write_text(stdout)
        path = tmp_path / 'bin' / 'rkt'
        path.parent.mkdir(exist_ok=True)
        path.write_text('#!/bin/sh\necho "$@" >> "%s/calls"\ncat "%s/stdout"\nexit %d\n' % (tmp_path, tmp_path, rc))
        path.chmod(0o755)
        return str(path)
    return write


@pytest.fixture(autouse=True)
def clear_warnings():
    # AnsibleModule keeps warnings in a process-wide collection; each test runs
    # the module afresh, as Ansible does.
    ansible_warnings._global_warnings.clear()


@pytest.fixture
def as_root(monkeypatch):
    monkeypatch.setattr(os, 'geteuid', lambda: 0)


def warning_texts(result):
    """Return the warning messages of a module result.

    ansible-core 2.19 and later return each warning as a structured summary
    ({"event": {"msg": ...}}); older cores return plain strings.
    """
    texts = []
    for warning in result.get('warnings', []):
        if isinstance(warning, dict):
            warning = warning['event']['msg']
        texts.append(warning)
    return texts


def count_calls(tmp_path):
    calls = tmp_path / 'calls'
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def test_found_on_path(fake_rkt, tmp_path, monkeypatch, capsys, as_root):
    path = fake_rkt(RKT_1_30_OUTPUT)
    monkeypatch.setenv('PATH', os.path.dirname(path) + os.pathsep + os.environ.get('PATH', ''))

    result = run_module({'stage1_dir': str(tmp_path / 'stage1')}, capsys)

    facts = result['ansible_facts']['rkt']
    assert result['changed'] is False
    assert 'failed' not in result
    assert facts['detected'] is True
    assert facts['path'] == path
    assert facts['attributes'] == {'driver.rkt': '1', 'driver.rkt.version': '1.30.0', 'driver.rkt.appc.version': '0.8.11'}
    assert result['rkt_commands'] == [[path, 'version']]
    assert 'warnings' not in result
    assert count_calls(tmp_path) == 1


def test_check_mode_gives_same_facts(fake_rkt, tmp_path, capsys, as_root):
    path = fake_rkt(RKT_1_30_OUTPUT)
    args = {'executable': path, 'stage1_dir': str(tmp_path / 'stage1')}

    normal = run_module(args, capsys)
    checked = run_module(dict(args, _ansible_check_mode=True), capsys)

    assert checked['changed'] is False
    assert checked['ansible_facts'] == normal['ansible_facts']
    assert count_calls(tmp_path) == 2


def test_too_old_warns(fake_rkt, tmp_path, capsys, as_root):
    path = fake_rkt('rkt version 0.8.1\nappc version 0.5.1\n')

    result = run_module({'executable': path, 'stage1_dir': str(tmp_path)}, capsys)

    assert result['ansible_facts']['rkt']['attributes']['driver.rkt'] == '0'
    assert warning_texts(result) == ['rkt 0.8.1 is older than the minimum 0.14.0; upgrade rkt']
    assert 'failed' not in result


def test_custom_min_version(fake_rkt, tmp_path, capsys, as_root):
    path = fake_rkt(RKT_1_30_OUTPUT)

    result = run_module({'executable': path, 'min_version': '1.30.1', 'stage1_dir': str(tmp_path)}, capsys)

    facts = result['ansible_facts']['rkt']
    assert facts['min_version'] == '1.30.1'
    assert facts['attributes']['driver.rkt'] == '0'
    assert warning_texts(result) == ['rkt 1.30.0 is older than the minimum 1.30.1; upgrade rkt']


def test_missing_executable_does_not_fail(tmp_path, capsys, as_root):
    missing = str(tmp_path / 'nowhere' / 'rkt')

    result = run_module({'executable': missing, 'stage1_dir': str(tmp_path)}, capsys)

    facts = result['ansible_facts']['rkt']
    assert 'failed' not in result
    assert facts['detected'] is False
    assert facts['reason'] == 'not_found'
    assert result['rkt_commands'] == []


@pytest.mark.parametrize('min_version', ['abc', '1.x', '', 'latest'])
def test_invalid_min_version_fails(fake_rkt, tmp_path, capsys, min_version, as_root):
    path = fake_rkt(RKT_1_30_OUTPUT)

    result = run_module({'executable': path, 'min_version': min_version}, capsys)

    assert result['failed'] is True
    assert result['msg'] == 'min_version %r is not a version; use a dotted version such as 0.14.0 or 1.30.0' % min_version
    assert count_calls(tmp_path) == 0


def test_empty_executable_fails(capsys, as_root):
    result = run_module({'executable': ''}, capsys)

    assert result['failed'] is True
    assert 'executable is empty' in result['msg']


def test_unknown_option_fails(capsys):
    result = run_module({'version': '1.0'}, capsys)

    assert result['failed'] is True
    assert 'version' in result['msg']


def test_not_root(fake_rkt, tmp_path, capsys, monkeypatch):
    path = fake_rkt(RKT_1_30_OUTPUT)
    monkeypatch.setattr(os, 'geteuid', lambda: 65534)

    result = run_module({'executable': path, 'stage1_dir': str(tmp_path)}, capsys)

    facts = result['ansible_facts']['rkt']
    assert facts['reason'] == 'not_root'
    assert facts['attributes'] == {}
    assert facts['version'] == '1.30.0'
    assert count_calls(tmp_path) == 1


def test_documentation_parses():
    documentation = yaml.safe_load(rkt_fingerprint.DOCUMENTATION)
    returns = yaml.safe_load(rkt_fingerprint.RETURN)
    yaml.safe_load(rkt_fingerprint.EXAMPLES)

    assert sorted(documentation['options']) == ['executable', 'min_version', 'stage1_dir']
    assert documentation['options']['min_version']['default'] == '0.14.0'
    fact_keys = returns['ansible_facts']['contains']['rkt']['contains']
    assert sorted(fact_keys) == sorted([
        'detected', 'reason', 'reason_message', 'unparsable_output', 'version', 'appc_version', 'go_version',
        'go_os_arch', 'features', 'path', 'min_version', 'meets_min_version', 'attributes', 'stage1_images', 'isolation',
    ])
