# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run a Python program as a child process and record its peak memory (max RSS).

Usage: ``python measure_rss.py RECORD_FILE PROGRAM [ARG...]``. Ansible takes
ansible_python_interpreter as a single path, so run_benchmarks.py writes a
shell script that runs ``exec /path/to/python measure_rss.py RECORD_FILE "$@"``
and names that script as the interpreter; Ansible appends the module's file.

It runs ``sys.executable`` with the remaining arguments as its child, waits
for it with ``os.wait4``, and appends one JSON line to RECORD_FILE:

- ``tree_max_rss_kib``: ``ru_maxrss`` from ``os.wait4``. On Linux this is the
  largest peak RSS of the child and of every descendant that the child waited
  for, here the rkt processes that the module ran.
- ``self_max_rss_kib``: ``ru_maxrss`` of the child process alone, read by the
  child itself at exit (``resource.getrusage(RUSAGE_SELF)``), through the
  sitecustomize module in rss_hook/, which this script puts on the child's
  PYTHONPATH. It is null when the child exits without running atexit handlers
  (os._exit or a signal).

The child's output, stdin and exit code pass through unchanged, so Ansible
reads the module's result as usual.
"""

import json
import os
import subprocess
import sys
import tempfile

HOOK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'rss_hook')


def main():
    if len(sys.argv) < 3:
        sys.stderr.write('usage: measure_rss.py RECORD_FILE PROGRAM [ARG...]\n')
        return 2
    record_file = sys.argv[1]
    child_argv = [sys.executable] + sys.argv[2:]

    self_fd, self_file = tempfile.mkstemp(prefix='bench-rss-self-')
    os.close(self_fd)
    child_env = dict(os.environ)
    child_env['PYTHONPATH'] = os.pathsep.join(filter(None, [HOOK_DIR, os.environ.get('PYTHONPATH')]))
    child_env['BENCH_RSS_SELF_FILE'] = self_file

    try:
        child = subprocess.Popen(child_argv, env=child_env)
        dummy_pid, status, usage = os.wait4(child.pid, 0)
        # Popen must not wait for the pid again: it was reaped above.
        child.returncode = os.waitstatus_to_exitcode(status)
        with open(self_file, encoding='utf-8') as handle:
            self_text = handle.read().strip()
    finally:
        os.unlink(self_file)

    record = {
        'argv': child_argv,
        'exit_code': child.returncode,
        'tree_max_rss_kib': usage.ru_maxrss,
        'self_max_rss_kib': int(self_text) if self_text else None,
    }
    with open(record_file, 'a', encoding='utf-8') as handle:
        handle.write(json.dumps(record, sort_keys=True) + '\n')

    # A child killed by a signal gives a negative code; report it as the shell does.
    return child.returncode if child.returncode >= 0 else 128 - child.returncode


if __name__ == '__main__':
    sys.exit(main())
