# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.cli import (
    RktCli,
    RktCommandError,
    RktNotFoundError,
    decode_output,
    first_line,
    global_flags,
)


def write_executable(directory, name, body, mode=0o755):
    """Write a POSIX shell script ``name`` into ``directory`` and return its path."""
    path = os.path.join(str(directory), name)
    with open(path, 'wb') as handle:
        handle.write(b'#!/bin/sh\n' + body.encode('utf-8') + b'\n')
    os.chmod(path, mode)
    return path


def test_find_explicit_path(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', 'exit 0')

    assert RktCli(module, executable=path).find() == path


def test_find_missing_path_raises_not_found(module, tmp_path):
    missing = str(tmp_path / 'no-such-rkt')

    with pytest.raises(RktNotFoundError) as error:
        RktCli(module, executable=missing).find()

    assert error.value.executable == missing
    assert missing in error.value.message
    assert 'not found' in error.value.message


def test_find_directory_raises_not_found(module, tmp_path):
    with pytest.raises(RktNotFoundError):
        RktCli(module, executable=str(tmp_path)).find()


def test_find_non_executable_file_raises_not_found(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', 'exit 0', mode=0o644)

    with pytest.raises(RktNotFoundError) as error:
        RktCli(module, executable=path).find()

    assert 'not executable' in error.value.message
    assert 'chmod +x' in error.value.message


def test_find_on_path(module, tmp_path, monkeypatch):
    path = write_executable(tmp_path, 'rkt', 'exit 0')
    monkeypatch.setenv('PATH', str(tmp_path))

    assert RktCli(module).find() == path


def test_find_not_on_path(module, tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))
    # get_bin_path also searches the sbin directories; none of them may hold rkt.
    monkeypatch.setattr(module, 'get_bin_path', lambda name, required=False, opt_dirs=None: None)

    with pytest.raises(RktNotFoundError) as error:
        RktCli(module).find()

    assert error.value.message == 'rkt not found on PATH; install rkt or set executable to its path'


def test_run_returns_output_and_records_argv(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', 'printf "args:%s|" "$@"; printf "err" >&2')
    cli = RktCli(module, executable=path)

    result = cli.run(['version'])

    assert result.argv == [path, 'version']
    assert result.rc == 0
    assert result.stdout == 'args:version|'
    assert result.stderr == 'err'
    assert cli.commands == [[path, 'version']]


def test_run_passes_arguments_literally(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', 'for arg in "$@"; do printf "[%s]" "$arg"; done')
    cli = RktCli(module, executable=path)
    tricky = ['a b', '"quoted"', "it's", '$(id)', '; rm -rf /', '~', '$HOME']

    result = cli.run(tricky)

    assert result.stdout == ''.join('[%s]' % arg for arg in tricky)


def test_run_global_args_before_subcommand(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', 'printf "%s " "$@"')
    cli = RktCli(module, executable=path, global_args=global_flags(data_dir='/srv/rkt data'))

    result = cli.run(['list', '--full'])

    assert result.argv == [path, '--dir=/srv/rkt data', 'list', '--full']
    assert result.stdout == '--dir=/srv/rkt data list --full '


def test_run_global_args_override_once(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', 'printf "%s " "$@"')
    cli = RktCli(module, executable=path, global_args=global_flags(local_config='/etc/rkt'))

    scratch = cli.run(['trust', '--prefix=example.com/app'], global_args=global_flags(local_config='/tmp/scratch'))
    default = cli.run(['list'])

    assert scratch.argv == [path, '--local-config=/tmp/scratch', 'trust', '--prefix=example.com/app']
    assert default.argv == [path, '--local-config=/etc/rkt', 'list']


def test_run_nonzero_exit_raises_with_output(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', 'echo out; echo "Error: unknown flag: --version" >&2; echo second >&2; exit 254')
    cli = RktCli(module, executable=path)

    with pytest.raises(RktCommandError) as error:
        cli.run(['--version'])

    assert error.value.argv == [path, '--version']
    assert error.value.rc == 254
    assert error.value.stdout == 'out\n'
    assert error.value.stderr == 'Error: unknown flag: --version\nsecond\n'
    assert error.value.message == 'command %s --version failed with exit code 254: Error: unknown flag: --version' % path
    assert error.value.to_result() == dict(cmd=[path, '--version'], rc=254, stdout='out\n', stderr=error.value.stderr)
    assert cli.commands == [[path, '--version']]


def test_run_nonzero_exit_without_check(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', 'exit 3')

    result = RktCli(module, executable=path).run(['run'], check=False)

    assert result.rc == 3


def test_run_nonzero_exit_message_without_output(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', 'exit 1')

    with pytest.raises(RktCommandError) as error:
        RktCli(module, executable=path).run(['version'])

    assert error.value.message.endswith('failed with exit code 1: no output')


def test_run_exec_format_error_raises_command_error(module, tmp_path):
    # An executable file that is no program: exec fails with ENOEXEC.
    path = str(tmp_path / 'rkt')
    with open(path, 'wb') as handle:
        handle.write(b'\x7fELF\x00\x00garbage')
    os.chmod(path, stat.S_IRWXU)

    with pytest.raises(RktCommandError) as error:
        RktCli(module, executable=path).run(['version'])

    assert error.value.rc is None
    assert 'could not run %s' % path in error.value.message
    assert error.value.stderr


def test_run_invalid_utf8_is_replaced(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', r"printf 'rkt \377\376 \200ok\n'; printf '\351' >&2")

    result = RktCli(module, executable=path).run(['version'])

    assert result.stdout == u'rkt \ufffd\ufffd \ufffdok\n'
    assert result.stderr == u'\ufffd'
    json.dumps(result._asdict())


def test_run_sends_stdin(module, tmp_path):
    path = write_executable(tmp_path, 'rkt', 'cat')

    result = RktCli(module, executable=path).run(['trust'], data='yes')

    assert result.stdout == 'yes\n'


def test_run_missing_executable_records_nothing(module, tmp_path):
    cli = RktCli(module, executable=str(tmp_path / 'missing'))

    with pytest.raises(RktNotFoundError):
        cli.run(['version'])

    assert cli.commands == []


def test_global_flags_all():
    flags = global_flags(
        data_dir='/d', local_config='/l', system_config='/s', user_config='/u',
        debug=True, insecure_options=['image', 'ondisk'])

    assert flags == ['--dir=/d', '--local-config=/l', '--system-config=/s', '--user-config=/u',
                     '--insecure-options=image,ondisk', '--debug']


def test_global_flags_none():
    assert global_flags() == []


@pytest.mark.parametrize('text, expected', [
    ('', ''),
    (None, ''),
    ('one\r\ntwo', 'one'),
    ('\nsecond', ''),
    ('only', 'only'),
])
def test_first_line(text, expected):
    assert first_line(text) == expected


def test_decode_output():
    assert decode_output(b'ok \xff') == u'ok \ufffd'
    assert decode_output(None) == ''
    assert decode_output('text') == 'text'
