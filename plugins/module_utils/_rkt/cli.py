# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Find the rkt executable and run it as an argv list.

Private to the nomad_drivers.rkt collection: the names in this file may change
without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from collections import namedtuple


RKT_COMMAND_NAME = 'rkt'

# rkt writes UTF-8. Output that is not valid UTF-8 (a broken binary, a wrong file
# given as the executable) is decoded with U+FFFD replacement characters, so that
# every result stays valid JSON for Ansible.
_OUTPUT_ENCODING = 'utf-8'
_OUTPUT_ERRORS = 'replace'


RktResult = namedtuple('RktResult', ['argv', 'rc', 'stdout', 'stderr'])
RktResult.__doc__ = 'One finished rkt invocation: the argv it ran, exit code and decoded output.'


class RktNotFoundError(Exception):
    """Raised when no rkt executable exists at the given path or on PATH."""

    def __init__(self, executable, message):
        super(RktNotFoundError, self).__init__(message)
        self.executable = executable
        self.message = message


class RktCommandError(Exception):
    """Raised when rkt can not be started or exits with a non-zero code.

    ``rc`` is None when the process could not be started at all (``stderr`` then
    contains the operating system's error).
    """

    def __init__(self, argv, rc, stdout, stderr, message=None):
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        if message is None:
            message = 'command %s failed with exit code %s: %s' % (
                ' '.join(self.argv), rc, first_line(stderr) or first_line(stdout) or 'no output')
        self.message = message
        super(RktCommandError, self).__init__(message)

    def to_result(self):
        """Return the fields Ansible modules add to a failed result."""
        return dict(cmd=self.argv, rc=self.rc, stdout=self.stdout, stderr=self.stderr)


def first_line(text):
    """Return the first line of ``text`` without its line ending, '' for no text."""
    lines = text.splitlines() if text else []
    return lines[0] if lines else ''


def decode_output(data):
    """Decode rkt's output bytes to text, replacing bytes that are not UTF-8."""
    if data is None:
        return ''
    if isinstance(data, bytes):
        return data.decode(_OUTPUT_ENCODING, _OUTPUT_ERRORS)
    return data


def global_flags(data_dir=None, local_config=None, system_config=None, user_config=None, debug=False, insecure_options=None):
    """Build rkt's global flags as a list of ``--flag=value`` strings.

    rkt accepts global flags before or after the subcommand, and RktCli puts
    them before it. Each flag is one argv item, so values need no quoting.
    """
    flags = []
    if data_dir:
        flags.append('--dir=%s' % data_dir)
    if local_config:
        flags.append('--local-config=%s' % local_config)
    if system_config:
        flags.append('--system-config=%s' % system_config)
    if user_config:
        flags.append('--user-config=%s' % user_config)
    if insecure_options:
        flags.append('--insecure-options=%s' % ','.join(insecure_options))
    if debug:
        flags.append('--debug')
    return flags


class RktCli:
    """Run rkt through an AnsibleModule and record every argv it ran.

    ``executable`` is a path (containing ``/``) or a command name looked up on
    PATH; None means ``rkt``. ``global_args`` (see global_flags) go before each
    subcommand. ``commands`` lists the argv of every invocation, in order, for a
    module's ``rkt_commands`` return value.
    """

    def __init__(self, module, executable=None, global_args=None):
        self.module = module
        self.executable = executable
        self.global_args = list(global_args or [])
        self.commands = []
        self._path = None

    def find(self):
        """Return the absolute path of the rkt executable.

        Raise RktNotFoundError when a given path does not exist or is not an
        executable file, or when the command name is not on PATH.
        """
        if self._path is not None:
            return self._path

        executable = self.executable or RKT_COMMAND_NAME
        if '/' in executable:
            path = os.path.abspath(executable)
            if not os.path.isfile(path):
                raise RktNotFoundError(executable, 'rkt executable %s not found; install rkt or set executable to its path' % path)
            if not os.access(path, os.X_OK):
                raise RktNotFoundError(
                    executable, 'rkt executable %s is not executable; make it executable (chmod +x) or set executable to another path' % path)
        else:
            # get_bin_path searches PATH and the sbin directories; required=False
            # makes it return None instead of failing the module.
            path = self.module.get_bin_path(executable, required=False)
            if not path:
                raise RktNotFoundError(executable, '%s not found on PATH; install rkt or set executable to its path' % executable)

        self._path = path
        return path

    def build_argv(self, args, global_args=None):
        """Return the full argv for the rkt subcommand and arguments ``args``.

        ``global_args`` replaces the client's global flags for this one command.
        """
        if global_args is None:
            global_args = self.global_args
        return [self.find()] + list(global_args) + list(args)

    def run(self, args, check=True, data=None, global_args=None):
        """Run rkt with ``args`` and return a RktResult.

        ``data`` is text sent to rkt's stdin, and ``global_args`` replaces the
        client's global flags for this one command. Raise RktNotFoundError when
        rkt is missing, and RktCommandError when it can not be started or, with
        ``check``, exits with a non-zero code.
        """
        argv = self.build_argv(args, global_args)
        self.commands.append(argv)

        try:
            # encoding=None returns bytes, decoded below without ever failing.
            # handle_exceptions=False raises OSError (for example "Exec format
            # error") instead of ending the module with fail_json.
            rc, stdout, stderr = self.module.run_command(
                argv, check_rc=False, data=data, encoding=None,
                expand_user_and_vars=False, handle_exceptions=False)
        except OSError as error:
            raise RktCommandError(
                argv, None, '', str(error),
                message='could not run %s: %s; check that it is an rkt executable for this machine' % (argv[0], error))

        result = RktResult(argv=argv, rc=rc, stdout=decode_output(stdout), stderr=decode_output(stderr))
        if check and rc != 0:
            raise RktCommandError(result.argv, result.rc, result.stdout, result.stderr)
        return result
