# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Keep a started pod running after the module exits: a systemd transient unit, or a detached process.

Private module: not part of the collection's public API.

systemd: the module runs ``systemd-run --unit=rkt-task-<name> --slice=machine
--collect ... rkt run ...``, the way rkt's documentation starts pods under
systemd. A transient unit was chosen over a unit file because it writes
nothing to /etc, so a failed start leaves no unit behind and check mode has
nothing to predict about files; ``--collect`` unloads the unit when the pod
ends, even when ``rkt run`` exits non-zero (a stopped fly pod exits 143). A
transient unit does not survive a reboot, which rkt pods do not either.

none: the module starts ``rkt run`` in a new session (so it does not get the
signals of the Ansible process group), with stdin from /dev/null and stdout
and stderr appended to ``<state_dir>/<name>.log``.

Both pass ``--uuid-file-save``, so the pod's UUID is on disk for the next run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

SUPERVISOR_SYSTEMD = 'systemd'
SUPERVISOR_NONE = 'none'
SUPERVISOR_AUTO = 'auto'

UNIT_PREFIX = 'rkt-task-'


def systemd_is_running(run_dir='/run/systemd/system'):
    """Return True when systemd is the init system (the check sd_booted(3) makes)."""
    return os.path.isdir(run_dir)


def resolve_supervisor(requested, run_dir='/run/systemd/system'):
    """Return ``systemd`` or ``none`` for the supervisor parameter; ``auto`` picks systemd when it is PID 1."""
    if requested == SUPERVISOR_AUTO:
        return SUPERVISOR_SYSTEMD if systemd_is_running(run_dir) else SUPERVISOR_NONE
    return requested


def unit_name(name):
    """Return the systemd unit name for a pod name (already validated: lower-case letters, digits, dashes)."""
    return '%s%s.service' % (UNIT_PREFIX, name)


def uuid_file_path(state_dir, name):
    """Return the path of the file that holds the UUID of the pod for name."""
    return os.path.join(state_dir, '%s.uuid' % name)


def pending_uuid_file_path(state_dir, name):
    """Return where ``rkt run`` saves the UUID until the pod is confirmed running."""
    return os.path.join(state_dir, '%s.uuid.new' % name)


def log_file_path(state_dir, name):
    """Return the log file of a pod started with supervisor none."""
    return os.path.join(state_dir, '%s.log' % name)


def build_systemd_run_argv(systemd_run, name, rkt_argv):
    """Return the systemd-run argv that starts rkt_argv as a transient service in machine.slice."""
    return [
        systemd_run,
        '--unit=%s' % unit_name(name),
        '--slice=machine',
        '--collect',
        '--description=rkt pod %s (nomad_drivers.rkt.rkt_task)' % name,
        # KillMode=mixed sends SIGTERM to rkt only and SIGKILL to the rest
        # after the stop timeout, which is what rkt's systemd examples use.
        '--property=KillMode=mixed',
        '--',
    ] + list(rkt_argv)


def start_detached(rkt_argv, log_path, environ=None):
    """Start rkt_argv in its own session with output appended to log_path; return the Popen object."""
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        with open(os.devnull, 'rb') as devnull:
            # AnsibleModule.run_command waits for the command to end, but the pod must outlive the module.
            process = subprocess.Popen(  # pylint: disable=ansible-bad-function
                rkt_argv,
                stdin=devnull,
                stdout=log_fd,
                stderr=log_fd,
                close_fds=True,
                start_new_session=True,
                env=environ,
            )
    finally:
        os.close(log_fd)
    return process


def read_uuid_file(path):
    """Return the UUID saved in path (rkt writes it without a newline), or None when there is no file."""
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except (IOError, OSError):
        return None
    return text or None


def read_log_tail(path, max_bytes=4000):
    """Return the last max_bytes of a log file as text, '' when it does not exist."""
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            return handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return ''
