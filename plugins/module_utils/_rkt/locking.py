# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One lock per pod name, so two runs for the same name never start two pods.

Private module: not part of the collection's public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os
import time

POLL_SECONDS = 0.1


def make_private_dirs(path):
    """Create path and each missing parent with mode 0700 (less the umask).

    os.makedirs applies its mode only to the last directory, so a state
    directory created on the way to its locks folder would get 0755. The UUID
    files and logs below it carry the pods' environment, which may hold secrets.
    """
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except OSError as error:
            if error.errno != errno.EEXIST:
                raise


class LockTimeout(Exception):
    """Another run held the lock for longer than the timeout."""


class PodLock(object):
    """An exclusive fcntl lock on ``<state_dir>/locks/<name>.lock``.

    The kernel releases the lock when the process ends, so a killed run never
    leaves a stale lock; the lock file itself stays, empty. With
    ``create=False`` (check mode) no directory or file is created: the lock is
    taken shared when the file exists and skipped otherwise.
    """

    def __init__(self, state_dir, name, timeout, create=True):
        self.path = os.path.join(state_dir, 'locks', '%s.lock' % name)
        self.timeout = timeout
        self.create = create
        self._fd = None

    def acquire(self):
        if self.create:
            make_private_dirs(os.path.dirname(self.path))
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            operation = fcntl.LOCK_EX
        else:
            try:
                self._fd = os.open(self.path, os.O_RDONLY)
            except OSError as error:
                if error.errno == errno.ENOENT:
                    return self
                raise
            operation = fcntl.LOCK_SH

        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self._fd, operation | fcntl.LOCK_NB)
                return self
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if time.monotonic() >= deadline:
                os.close(self._fd)
                self._fd = None
                raise LockTimeout('another rkt_task run held the lock %s for more than %s seconds; wait for it to '
                                  'finish, or raise wait_timeout' % (self.path, self.timeout))
            time.sleep(POLL_SECONDS)

    def release(self):
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, exc_type, exc_value, traceback):
        self.release()
        return False
