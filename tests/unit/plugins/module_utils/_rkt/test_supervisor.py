# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import supervisor


def test_resolve_auto(tmp_path):
    assert supervisor.resolve_supervisor('auto', str(tmp_path / 'missing')) == 'none'
    assert supervisor.resolve_supervisor('auto', str(tmp_path)) == 'systemd'
    assert supervisor.resolve_supervisor('none', str(tmp_path)) == 'none'
    assert supervisor.resolve_supervisor('systemd', str(tmp_path / 'missing')) == 'systemd'


def test_paths():
    assert supervisor.uuid_file_path('/s', 'web') == '/s/web.uuid'
    assert supervisor.pending_uuid_file_path('/s', 'web') == '/s/web.uuid.new'
    assert supervisor.log_file_path('/s', 'web') == '/s/web.log'
    assert supervisor.unit_name('web') == 'rkt-task-web.service'


def test_systemd_run_argv():
    argv = supervisor.build_systemd_run_argv('/usr/bin/systemd-run', 'web', ['/usr/bin/rkt', 'run', 'img'])
    assert argv[:4] == ['/usr/bin/systemd-run', '--unit=rkt-task-web.service', '--slice=machine', '--collect']
    assert argv[-4:] == ['--', '/usr/bin/rkt', 'run', 'img']


def test_uuid_file_without_newline(tmp_path):
    path = tmp_path / 'web.uuid'
    path.write_text('c950360c-dec2-40b0-bbbd-b701c72ec9ea')
    assert supervisor.read_uuid_file(str(path)) == 'c950360c-dec2-40b0-bbbd-b701c72ec9ea'
    assert supervisor.read_uuid_file(str(tmp_path / 'missing')) is None


def test_start_detached_new_session_and_log(tmp_path):
    log = str(tmp_path / 'web.log')
    process = supervisor.start_detached(['/bin/sh', '-c', 'echo out; echo err >&2; ps -o sid= -p $$'], log)
    assert process.wait(timeout=10) == 0
    output = open(log).read().split('\n')
    assert output[0] == 'out'
    assert 'err' in output
    # The child leads its own session: its session ID is its own PID.
    assert int(output[2].strip()) == process.pid


def test_log_tail(tmp_path):
    path = tmp_path / 'x.log'
    path.write_bytes(b'a' * 10 + b'tail')
    assert supervisor.read_log_tail(str(path), max_bytes=4) == 'tail'
    assert supervisor.read_log_tail(str(tmp_path / 'missing')) == ''
