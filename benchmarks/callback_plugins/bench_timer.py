# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Callback plugin of the benchmarks: writes the wall time of every task on every host.

Not part of the collection's content. benchmarks/run_benchmarks.py enables it with
ANSIBLE_CALLBACK_PLUGINS and ANSIBLE_CALLBACKS_ENABLED=bench_timer and names the output
file in BENCH_TIMINGS_FILE.
"""

from __future__ import annotations

DOCUMENTATION = r'''
name: bench_timer
type: aggregate
short_description: Write the wall time of each task and host as JSON lines
description:
  - Writes one JSON line per task result to the file named in the environment variable E(BENCH_TIMINGS_FILE).
  - The start is the moment the strategy hands the task to a worker process (C(v2_runner_on_start)) and the end the moment
    the controller receives the result, both read from C(time.monotonic) in the controller's main process. Playbook
    start-up, inventory parsing and the gaps between tasks are therefore not counted.
  - When the environment variable E(BENCH_INVOCATION_LOG) names the rkt simulator's invocation log, each record also lists
    the rkt commands that the log gained since the previous record, so that a task's rkt calls can be counted.
requirements:
  - the environment variable E(BENCH_TIMINGS_FILE)
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    """Record the wall time of each task on each host."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.output_path = os.environ.get('BENCH_TIMINGS_FILE')
        self.play_name = None
        self.play_serial = 0
        self.task_started = {}
        self.host_started = {}
        self.invocation_log = os.environ.get('BENCH_INVOCATION_LOG')
        self.invocation_offset = 0

    def read_new_invocations(self):
        """Return the ``command`` of each line that the invocation log gained since the last call."""
        if not self.invocation_log:
            return []
        try:
            with open(self.invocation_log, 'rb') as log:
                log.seek(self.invocation_offset)
                data = log.read()
        except FileNotFoundError:
            return []
        # A line still being written is left for the next call.
        complete = data[:data.rfind(b'\n') + 1]
        self.invocation_offset += len(complete)
        return [json.loads(line).get('command') for line in complete.splitlines() if line.strip()]

    def write(self, record):
        if not self.output_path:
            return
        with open(self.output_path, 'a', encoding='utf-8') as output:
            output.write(json.dumps(record, sort_keys=True) + '\n')

    def v2_playbook_on_play_start(self, play):
        self.play_serial += 1
        self.play_name = play.get_name()
        self.write({'event': 'play_start', 'play': self.play_name, 'play_serial': self.play_serial,
                    'monotonic': time.monotonic(), 'epoch': time.time()})

    def start_task(self, task):
        # rkt calls made before this task (by an unmeasured task) must not be counted for it.
        self.read_new_invocations()
        self.task_started[task._uuid] = time.monotonic()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.start_task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self.start_task(task)

    def v2_runner_on_start(self, host, task):
        self.host_started[(host.get_name(), task._uuid)] = time.monotonic()

    def record_result(self, result, status):
        # Read the clock first, so that writing the record is not counted.
        end = time.monotonic()
        epoch_end = time.time()
        task = result._task
        host_name = result._host.get_name()
        start = self.host_started.pop((host_name, task._uuid), None)
        payload = result._result
        self.write({
            'event': 'result',
            'play': self.play_name,
            'play_serial': self.play_serial,
            'task': task.get_name(),
            'action': task.action,
            'host': host_name,
            'status': status,
            'changed': bool(payload.get('changed', False)),
            'items': len(payload['results']) if isinstance(payload.get('results'), list) else None,
            'task_start': self.task_started.get(task._uuid),
            'start': start,
            'end': end,
            'epoch_end': epoch_end,
            'seconds': None if start is None else end - start,
            'rkt_commands': self.read_new_invocations(),
        })

    def v2_runner_on_ok(self, result):
        self.record_result(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self.record_result(result, 'ignored' if ignore_errors else 'failed')

    def v2_runner_on_skipped(self, result):
        self.record_result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self.record_result(result, 'unreachable')
