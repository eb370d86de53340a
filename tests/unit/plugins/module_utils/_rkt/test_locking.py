# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.locking import LockTimeout, PodLock, make_private_dirs

HOLD_LOCK = r'''
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
sys.stdout.write("locked\n")
sys.stdout.flush()
sys.stdin.read()
'''


def hold_lock_in_other_process(path):
    process = subprocess.Popen([sys.executable, '-c', HOLD_LOCK, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdout.readline() == b'locked\n'
    return process


def test_lock_creates_private_file(tmp_path):
    with PodLock(str(tmp_path), 'web', timeout=1) as lock:
        assert os.path.exists(lock.path)
    assert oct(os.stat(str(tmp_path / 'locks')).st_mode & 0o777) == '0o700'


def test_lock_creates_missing_state_dir_private(tmp_path):
    state_dir = tmp_path / 'missing' / 'state'
    with PodLock(str(state_dir), 'web', timeout=1):
        pass
    assert oct(os.stat(str(tmp_path / 'missing')).st_mode & 0o777) == '0o700'
    assert oct(os.stat(str(state_dir)).st_mode & 0o777) == '0o700'


def test_private_dirs_keep_existing_parent_mode(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    make_private_dirs(str(tmp_path / 'state'))
    make_private_dirs(str(tmp_path / 'state'))
    assert oct(os.stat(str(tmp_path)).st_mode & 0o777) == '0o755'
    assert oct(os.stat(str(tmp_path / 'state')).st_mode & 0o777) == '0o700'


def test_lock_times_out_while_other_process_holds_it(tmp_path):
    os.makedirs(str(tmp_path / 'locks'))
    holder = hold_lock_in_other_process(str(tmp_path / 'locks' / 'web.lock'))
    try:
        with pytest.raises(LockTimeout) as error:
            PodLock(str(tmp_path), 'web', timeout=0.3).acquire()
        assert 'web.lock' in str(error.value)
        # Another name is not blocked.
        with PodLock(str(tmp_path), 'db', timeout=0.3):
            pass
    finally:
        holder.communicate(b'')
    with PodLock(str(tmp_path), 'web', timeout=1):
        pass


def test_check_mode_lock_creates_nothing(tmp_path):
    with PodLock(str(tmp_path / 'state'), 'web', timeout=1, create=False):
        pass
    assert not (tmp_path / 'state').exists()
