# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run the benchmarks of the nomad_drivers.rkt collection and write the results table.

Run it from the repository root with the virtualenv's Python (``make bench``
does this):

    .venv/bin/python benchmarks/run_benchmarks.py [--runs N] [--no-write]

It measures, against the rkt simulator on this machine (local connection, a
fresh RKT_SIM_ROOT in a temporary folder, servers on 127.0.0.1 only):

1. an rkt_task no-op against ``rkt list --format=json`` through the command module;
2. rkt_fingerprint against ``rkt version`` through the command module;
3. the second run of the role nomad_drivers.rkt.rkt against its first run;
4. loops of rkt_task no-ops over 1, 10 and 50 pods, and the peak memory of
   the module processes of the 50-pod loop;
5. rkt_fingerprint on fleets of 1, 10 and 50 inventory hosts (--forks 10).

benchmarks/README.md explains each figure, and docs/performance.md the method.
The results section of docs/performance.md (between the BEGIN and END markers)
is replaced with the Markdown that this script also prints; --no-write only
prints it. The raw records stay in the work folder with --keep-work-dir.
"""

import argparse
import datetime
import grp
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(REPO_ROOT, 'benchmarks')
PLAYBOOK_DIR = os.path.join(BENCH_DIR, 'playbooks')
SIMULATOR_DIR = os.path.join(REPO_ROOT, 'tests', 'rkt_simulator')
TESTKIT = os.path.join(SIMULATOR_DIR, 'testkit', 'cli.py')
DEFAULT_OUTPUT = os.path.join(REPO_ROOT, 'docs', 'performance.md')

RESULTS_BEGIN = '<!-- BEGIN results: written by benchmarks/run_benchmarks.py; edit the script, not this section -->'
RESULTS_END = '<!-- END results -->'

# Targets from the project's performance goals. The scaling criterion is this
# benchmark's reading of "time per pod stays flat": the time per pod of the
# largest loop may exceed that of the smallest by the same 15 % as the no-op.
TARGET_NOOP_RATIO = 1.15
TARGET_NOOP_INVOCATIONS = 1
TARGET_FINGERPRINT_RATIO = 1.05
TARGET_ROLE_DOWNLOADS = 0
TARGET_ROLE_CHANGED = 0
TARGET_SCALING_GROWTH = 1.15
TARGET_SCALING_INVOCATIONS_PER_POD = 1

# Seconds that the benchmark's pods sleep. run_benchmarks.py stops them at the
# end; the limit only matters when it was killed before it could.
POD_SECONDS = 1800

# The test release server stops itself after this many seconds, in case this
# script is killed before it stops the server.
SERVER_MAX_SECONDS = 1800

# Group names that the role creates; the ones that did not exist before the
# benchmark are removed at the end.
ROLE_GROUPS = ('rkt', 'rkt-admin')

FLEET_SIZES = (1, 10, 50)
FLEET_FORKS = 10


class BenchError(Exception):
    """A step of the benchmark failed; the message names the step and the file with its output."""


# Statistics -----------------------------------------------------------------------


def summarize(values):
    """Return median, min and max of a non-empty list of numbers."""
    return {'median': statistics.median(values), 'min': min(values), 'max': max(values), 'count': len(values)}


def format_ms(seconds):
    return '%.1f' % (seconds * 1000.0)


def format_ms_summary(summary):
    """Format a summary of seconds as 'median ms (min to max)'."""
    return '%s (%s to %s)' % (format_ms(summary['median']), format_ms(summary['min']), format_ms(summary['max']))


def format_ratio_summary(summary):
    return '%.3f (%.3f to %.3f)' % (summary['median'], summary['min'], summary['max'])


def format_count_summary(summary):
    if summary['min'] == summary['max']:
        return '%g' % summary['median']
    return '%g (%g to %g)' % (summary['median'], summary['min'], summary['max'])


# Machine ----------------------------------------------------------------------------


def read_cpu_times():
    """Return (busy, total) jiffies of all CPUs from /proc/stat."""
    with open('/proc/stat', encoding='ascii') as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def sample_cpu_busy(seconds):
    """Return the share of CPU time (0 to 1, all cores) that was busy during the next SECONDS."""
    busy_before, total_before = read_cpu_times()
    time.sleep(seconds)
    busy_after, total_after = read_cpu_times()
    return (busy_after - busy_before) / max(1, total_after - total_before)


def read_load_average():
    with open('/proc/loadavg', encoding='ascii') as loadavg:
        return ' '.join(loadavg.read().split()[:3])


def describe_machine(module_python):
    """Return the facts about this machine and its software that the results depend on."""
    cpu_model = 'unknown'
    with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as cpuinfo:
        for line in cpuinfo:
            if line.startswith('model name'):
                cpu_model = line.split(':', 1)[1].strip()
                break
    memory_kib = 0
    with open('/proc/meminfo', encoding='ascii') as meminfo:
        for line in meminfo:
            if line.startswith('MemTotal:'):
                memory_kib = int(line.split()[1])
                break
    os_name = 'unknown'
    if os.path.exists('/etc/os-release'):
        with open('/etc/os-release', encoding='utf-8') as os_release:
            for line in os_release:
                if line.startswith('PRETTY_NAME='):
                    os_name = line.split('=', 1)[1].strip().strip('"')

    ansible_version = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible'), '--version'],
                                     capture_output=True, text=True, check=True).stdout.splitlines()[0]
    simulator_python = subprocess.run(['/usr/bin/python3', '--version'], capture_output=True, text=True, check=True).stdout.strip()
    return {
        'cpu_model': cpu_model,
        'cpu_count': os.cpu_count(),
        'cpus_usable': len(os.sched_getaffinity(0)),
        'memory_gib': round(memory_kib / 1024.0 / 1024.0, 1),
        'kernel': platform.release(),
        'os': os_name,
        'python': platform.python_version(),
        'module_python': module_python,
        'simulator_python': simulator_python,
        'ansible': ansible_version,
    }


def describe_commit():
    """Return the short commit and whether the product files differ from it."""
    commit = subprocess.run(['git', '-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'],
                            capture_output=True, text=True, check=False).stdout.strip() or 'unknown'
    changed = subprocess.run(['git', '-C', REPO_ROOT, 'status', '--porcelain', '--', 'plugins', 'roles'],
                             capture_output=True, text=True, check=False).stdout.strip()
    return commit, bool(changed)


# Work folder and tools -----------------------------------------------------------------


def path_without_pyenv_shims(path):
    """Drop pyenv shim folders from PATH.

    The rkt that the role installs starts with ``#!/usr/bin/env python3``. Through a
    pyenv shim, every rkt call would also pay for the shim, which nodes do not have.
    """
    return os.pathsep.join(entry for entry in path.split(os.pathsep) if entry and '/.pyenv/' not in entry + '/')


class Bench:
    """One benchmark run: its work folder, environment, playbook runs and records."""

    def __init__(self, args):
        self.args = args
        self.work_dir = tempfile.mkdtemp(prefix='nomad-rkt-bench-', dir=args.work_dir_parent)
        self.sim_root = os.path.join(self.work_dir, 'sim-root')
        self.sim_bin_dir = os.path.join(self.sim_root, 'bin')
        self.invocation_log = os.path.join(self.sim_root, 'rkt-sim', 'invocations.jsonl')
        self.log_dir = os.path.join(self.work_dir, 'logs')
        self.records_dir = os.path.join(self.work_dir, 'records')
        self.gnupg_home = os.path.join(self.work_dir, 'gnupg')
        self.mirror_dir = os.path.join(self.work_dir, 'mirror')
        self.server_log = os.path.join(self.work_dir, 'mirror-requests.jsonl')
        self.server_pid_file = os.path.join(self.work_dir, 'mirror.pid')
        self.rss_log = os.path.join(self.records_dir, 'rss.jsonl')
        self.module_python = sys.executable
        self.ansible_bin_dir = os.path.dirname(sys.executable)
        self.groups_before = set()
        self.server_started = False
        self.extra_vars = {}
        self.env = {}

    # Set-up -------------------------------------------------------------------

    def log(self, message):
        print('bench: %s' % message, file=sys.stderr, flush=True)

    def run_tool(self, argv, what):
        """Run a set-up command; raise BenchError with its output when it fails."""
        result = subprocess.run(argv, capture_output=True, text=True, env=self.env or None, check=False)
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip()
            raise BenchError('%s failed (exit code %s): %s\n%s' % (what, result.returncode, ' '.join(argv), output))
        return result.stdout

    def prepare(self):
        for folder in (self.sim_bin_dir, os.path.dirname(self.invocation_log), self.log_dir, self.records_dir):
            os.makedirs(folder, mode=0o755, exist_ok=True)

        # The collection under test is this work tree, reached through a
        # collections path of its own.
        collection_parent = os.path.join(self.work_dir, 'collections', 'ansible_collections', 'nomad_drivers')
        os.makedirs(collection_parent)
        os.symlink(REPO_ROOT, os.path.join(collection_parent, 'rkt'))

        # The same launcher as the integration tests' setup_rkt_simulator
        # target: an absolute interpreter path, and -S to skip the site module.
        launcher = os.path.join(self.sim_bin_dir, 'rkt')
        with open(launcher, 'w', encoding='utf-8') as handle:
            handle.write('#!/usr/bin/python3 -S\n'
                         '"""rkt simulator launcher written by benchmarks/run_benchmarks.py."""\n'
                         'import sys\n'
                         'sys.path.insert(0, %s)\n'
                         'from rktsim.cli import main  # noqa: E402\n'
                         'sys.exit(main())\n' % json.dumps(SIMULATOR_DIR))
        os.chmod(launcher, 0o755)

        self.env = dict(os.environ)
        self.env.update({
            'PATH': os.pathsep.join([self.sim_bin_dir, path_without_pyenv_shims(os.environ.get('PATH', ''))]),
            'RKT_SIM_ROOT': self.sim_root,
            'ANSIBLE_COLLECTIONS_PATH': os.path.join(self.work_dir, 'collections'),
            'ANSIBLE_CALLBACK_PLUGINS': os.path.join(BENCH_DIR, 'callback_plugins'),
            'ANSIBLE_CALLBACKS_ENABLED': 'bench_timer',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_RETRY_FILES_ENABLED': 'false',
            'BENCH_INVOCATION_LOG': self.invocation_log,
        })
        for variable in ('ANSIBLE_CONFIG', 'ANSIBLE_FORCE_COLOR', 'RKT_SIM_LOG', 'RKT_SIM_CONTROL'):
            self.env.pop(variable, None)

        self.log('work folder %s' % self.work_dir)
        key = json.loads(self.run_tool([sys.executable, TESTKIT, 'key', '--homedir', self.gnupg_home, '--json'],
                                       'making the throwaway signing key'))
        image_path = os.path.join(self.work_dir, 'images', 'hello.aci')
        os.makedirs(os.path.dirname(image_path))
        image = json.loads(self.run_tool([sys.executable, TESTKIT, 'aci', '--out', image_path, '--name', 'example.com/hello',
                                          '--sign-homedir', self.gnupg_home], 'building the signed image'))

        self.extra_vars = {
            'bench_image': image['path'],
            'bench_trust_prefix': image['name'],
            'bench_trust_key': key['public_key'],
            'bench_trust_fingerprint': key['fingerprint'],
            'bench_pod_seconds': str(POD_SECONDS),
            'bench_state_dir': os.path.join(self.work_dir, 'task-state'),
            'bench_local_config': os.path.join(self.sim_root, 'etc', 'rkt'),
            'bench_invocation_log': self.invocation_log,
            'bench_scale_sizes': self.args.scale_sizes,
            'bench_scale_runs': self.args.scale_runs,
            'bench_rss_interpreter': self.write_rss_interpreter(),
            'bench_role_root': os.path.join(self.work_dir, 'role-root'),
        }
        self.write_inventory()

    def write_rss_interpreter(self):
        """Write the interpreter that runs a module under measure_rss.py and return its path.

        Ansible quotes ansible_python_interpreter as one word, so the arguments of
        measure_rss.py need this small script.
        """
        path = os.path.join(self.work_dir, 'python-with-rss')
        command = ' '.join(shlex.quote(word) for word in (self.module_python, os.path.join(BENCH_DIR, 'measure_rss.py'), self.rss_log))
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write('#!/bin/sh\n# Written by benchmarks/run_benchmarks.py: run a module under measure_rss.py.\n'
                         'exec %s "$@"\n' % command)
        os.chmod(path, 0o755)
        return path

    def write_inventory(self):
        """Write localhost and the fleet hosts, all this machine over the local connection."""
        host_vars = {'ansible_connection': 'local', 'ansible_python_interpreter': self.module_python}
        fleet_hosts = ['bench-host-%02d' % number for number in range(1, max(FLEET_SIZES) + 1)]
        inventory = {
            'all': {
                'hosts': {'localhost': dict(host_vars)},
                'children': {
                    'bench_fleet_%d' % size: {'hosts': {name: dict(host_vars) for name in fleet_hosts[:size]}}
                    for size in FLEET_SIZES
                },
            },
        }
        self.inventory = os.path.join(self.work_dir, 'inventory.json')
        with open(self.inventory, 'w', encoding='utf-8') as handle:
            json.dump(inventory, handle, indent=1)

    def start_server(self):
        """Build the signed test release of rkt 1.30.0 and serve it on 127.0.0.1."""
        self.run_tool([sys.executable, TESTKIT, 'release', '--out', os.path.join(self.mirror_dir, 'v1.30.0'), '--version', '1.30.0',
                       '--homedir', self.gnupg_home], 'building the signed test release')
        port_file = os.path.join(self.work_dir, 'mirror.port')
        self.server_started = True
        self.run_tool([sys.executable, TESTKIT, 'serve', '--root', self.mirror_dir, '--port-file', port_file,
                       '--pid-file', self.server_pid_file, '--log', self.server_log,
                       '--max-seconds', str(SERVER_MAX_SECONDS)], 'starting the release server')
        with open(port_file, encoding='ascii') as handle:
            self.extra_vars['bench_mirror_url'] = 'http://127.0.0.1:%d' % int(handle.read())

    # Playbook runs --------------------------------------------------------------

    def run_playbooks(self, label, playbooks, extra_argv=()):
        """Run the playbooks in one ansible-playbook run and return the records of the timing callback."""
        timings = os.path.join(self.records_dir, '%s-timings.jsonl' % label)
        log_path = os.path.join(self.log_dir, '%s.log' % label)
        vars_file = os.path.join(self.work_dir, 'extra-vars.json')
        with open(vars_file, 'w', encoding='utf-8') as handle:
            json.dump(self.extra_vars, handle, indent=1)

        argv = [os.path.join(self.ansible_bin_dir, 'ansible-playbook'), '--inventory', self.inventory,
                '--extra-vars', '@' + vars_file] + list(extra_argv) + [os.path.join(PLAYBOOK_DIR, name) for name in playbooks]
        env = dict(self.env, BENCH_TIMINGS_FILE=timings)
        self.log('%s: ansible-playbook with %d playbook runs (output in %s)' % (label, len(playbooks), log_path))
        started = time.monotonic()
        with open(log_path, 'w', encoding='utf-8') as log:
            result = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.work_dir, check=False)
        self.log('%s: done in %.0f s' % (label, time.monotonic() - started))
        if result.returncode != 0:
            with open(log_path, encoding='utf-8') as log:
                tail = ''.join(log.readlines()[-40:])
            raise BenchError('%s: ansible-playbook failed with exit code %d; the last lines of %s:\n%s'
                             % (label, result.returncode, log_path, tail))
        records = []
        with open(timings, encoding='utf-8') as handle:
            for line in handle:
                records.append(json.loads(line))
        return records

    # Clean-up ------------------------------------------------------------------

    def stop_pods(self):
        """Stop every running pod of the simulator root at once (faster than 50 rkt_task runs with state absent)."""
        launcher = os.path.join(self.sim_bin_dir, 'rkt')
        if not os.path.exists(launcher):
            return
        listed = subprocess.run([launcher, 'list', '--format=json'], capture_output=True, text=True, env=self.env, check=False)
        try:
            pods = json.loads(listed.stdout or 'null') or []
        except ValueError:
            self.log('could not read the pod list to stop the pods: %r' % listed.stdout[:200])
            return
        running = [pod['name'] for pod in pods if pod.get('state') == 'running']
        if running:
            stopped = subprocess.run([launcher, 'stop', '--force'] + running, capture_output=True, text=True, env=self.env, check=False)
            if stopped.returncode != 0:
                self.log('rkt stop --force of %d pods failed: %s' % (len(running), stopped.stderr.strip()))
            else:
                self.log('stopped %d pods' % len(running))

    def clean_up(self):
        try:
            self.stop_pods()
        finally:
            if self.server_started:
                subprocess.run([sys.executable, TESTKIT, 'stop', '--pid-file', self.server_pid_file],
                               capture_output=True, text=True, check=False)
            for group in sorted(set(ROLE_GROUPS) - self.groups_before):
                if group_exists(group):
                    subprocess.run(['groupdel', group], check=False)
                    self.log('removed the group %s, which the role created' % group)
            if self.args.keep_work_dir:
                self.log('kept the work folder %s' % self.work_dir)
            else:
                shutil.rmtree(self.work_dir, ignore_errors=True)


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


# Figures --------------------------------------------------------------------------------


def results_of(records, play, task):
    """Return the result records of TASK in PLAY, in the order they arrived."""
    return [record for record in records if record['event'] == 'result' and record['play'] == play and record['task'] == task]


def check_ok(results, what):
    if not results:
        raise BenchError('%s: the timing callback recorded no results; check the task names in benchmarks/playbooks' % what)
    failed = [record for record in results if record['status'] != 'ok']
    if failed:
        raise BenchError('%s: %d results had the status %s; rerun with --keep-work-dir and read logs/ in the work folder'
                         % (what, len(failed), failed[0]['status']))


def compare_rounds(records, play, task_a, task_b):
    """Summarise an A B B A comparison: per-run times of both sides and the per-round ratio of their means."""
    results_a = results_of(records, play, task_a)
    results_b = results_of(records, play, task_b)
    check_ok(results_a, task_a)
    check_ok(results_b, task_b)
    rounds = sorted({record['play_serial'] for record in results_a})
    ratios = []
    for serial in rounds:
        seconds_a = [record['seconds'] for record in results_a if record['play_serial'] == serial]
        seconds_b = [record['seconds'] for record in results_b if record['play_serial'] == serial]
        ratios.append(statistics.mean(seconds_a) / statistics.mean(seconds_b))
    return {
        'rounds': len(rounds),
        'a_seconds': summarize([record['seconds'] for record in results_a]),
        'b_seconds': summarize([record['seconds'] for record in results_b]),
        'ratio': summarize(ratios),
        'a_invocations': summarize([len(record['rkt_commands']) for record in results_a]),
        'b_invocations': summarize([len(record['rkt_commands']) for record in results_b]),
        'a_commands': sorted({' '.join(record['rkt_commands']) for record in results_a}),
    }


def measure_noop_and_fingerprint(bench):
    rounds = ['noop_round.yml', 'fingerprint_round.yml'] * bench.args.runs
    records = bench.run_playbooks('noop-fingerprint', ['noop_setup.yml'] + rounds)
    return {
        'noop': compare_rounds(records, 'Round: rkt_task no-op against rkt list',
                               'Measure A: rkt_task no-op', 'Measure B: rkt list --format=json'),
        'fingerprint': compare_rounds(records, 'Round: rkt_fingerprint against rkt version',
                                      'Measure A: rkt_fingerprint', 'Measure B: rkt version'),
    }


def measure_scaling(bench):
    records = bench.run_playbooks('scaling', ['scale.yml'])
    play = 'Scaling: rkt_task no-ops over more and more pods'
    loops = results_of(records, play, 'Measure A: rkt_task no-op over every pod')
    lists = results_of(records, play, 'Measure B: rkt list --format=json')
    check_ok(loops, 'scaling loops')
    check_ok(lists, 'scaling rkt list')

    # Each round runs one loop, then one rkt list: a list belongs to the size of the loop just before it.
    list_sizes = []
    for listing in lists:
        previous = max((loop for loop in loops if loop['end'] <= listing['start']), key=lambda loop: loop['end'])
        list_sizes.append((previous['items'], listing))

    sizes = []
    for size in bench.args.scale_sizes:
        size_loops = [record for record in loops if record['items'] == size]
        size_lists = [listing for listed_size, listing in list_sizes if listed_size == size]
        if not size_loops:
            raise BenchError('scaling: no loop over %d pods was recorded' % size)
        sizes.append({
            'pods': size,
            'rounds': len(size_loops),
            'loop_seconds': summarize([record['seconds'] for record in size_loops]),
            'seconds_per_pod': summarize([record['seconds'] / size for record in size_loops]),
            'invocations_per_pod': summarize([len(record['rkt_commands']) / size for record in size_loops]),
            'list_seconds': summarize([record['seconds'] for record in size_lists]),
            'commands': sorted({command for record in size_loops for command in record['rkt_commands']}),
        })

    rss = []
    if os.path.exists(bench.rss_log):
        with open(bench.rss_log, encoding='utf-8') as handle:
            rss = [json.loads(line) for line in handle]
    if not rss:
        raise BenchError('scaling: measure_rss.py recorded nothing in %s' % bench.rss_log)
    self_values = [record['self_max_rss_kib'] for record in rss if record['self_max_rss_kib'] is not None]
    return {
        'sizes': sizes,
        'growth': sizes[-1]['seconds_per_pod']['median'] / sizes[0]['seconds_per_pod']['median'],
        'rss_processes': len(rss),
        'rss_failed': sum(1 for record in rss if record['exit_code'] != 0),
        'rss_tree_kib': summarize([record['tree_max_rss_kib'] for record in rss]),
        'rss_self_kib': summarize(self_values) if self_values else None,
        'rss_self_missing': len(rss) - len(self_values),
    }


def measure_fleet(bench):
    playbooks = ['fleet_round.yml'] * bench.args.fleet_runs
    records = bench.run_playbooks('fleet', playbooks, ['--forks', str(FLEET_FORKS)])
    fleets = []
    for size in FLEET_SIZES:
        play = 'Fleet of %d host%s' % (size, '' if size == 1 else 's')
        results = results_of(records, play, 'Measure: rkt_fingerprint')
        check_ok(results, play)
        spans = []
        for serial in sorted({record['play_serial'] for record in results}):
            round_results = [record for record in results if record['play_serial'] == serial]
            if len(round_results) != size:
                raise BenchError('%s: round %d has %d results, expected %d' % (play, serial, len(round_results), size))
            spans.append(max(record['end'] for record in round_results) - round_results[0]['task_start'])
        fleets.append({
            'hosts': size,
            'rounds': len(spans),
            'task_seconds': summarize(spans),
            'seconds_per_host': summarize([span / size for span in spans]),
            'module_seconds': summarize([record['seconds'] for record in results]),
            'invocations_per_host': sum(len(record['rkt_commands']) for record in results) / float(len(results)),
        })
    return {'forks': FLEET_FORKS, 'fleets': fleets}


def play_runs(records, play):
    """Return one dict per run of PLAY: wall time from its first task start to its last result, and its results."""
    runs = []
    starts = {record['play_serial']: record for record in records if record['event'] == 'play_start' and record['play'] == play}
    for serial in sorted(starts):
        results = [record for record in records if record['event'] == 'result' and record['play_serial'] == serial]
        if not results:
            raise BenchError('%s: run %d recorded no task results' % (play, serial))
        first_task = min(record['task_start'] for record in results if record['task_start'] is not None)
        failed = [record for record in results if record['status'] == 'failed']
        if failed:
            raise BenchError('%s: task %r failed; rerun with --keep-work-dir and read logs/ in the work folder' % (play, failed[0]['task']))
        runs.append({
            'seconds': max(record['end'] for record in results) - first_task,
            'epoch_start': starts[serial]['epoch'],
            'epoch_end': max(record['epoch_end'] for record in results),
            'changed_tasks': [record['task'] for record in results if record['changed']],
            'rkt_invocations': sum(len(record['rkt_commands']) for record in results),
            'tasks': len(results),
        })
    return runs


def read_requests(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding='utf-8') as handle:
        return [json.loads(line) for line in handle if line.strip()]


def measure_role(bench):
    bench.start_server()
    records = bench.run_playbooks('role', ['role_round.yml'] * bench.args.role_runs)
    requests = read_requests(bench.server_log)
    first_runs = play_runs(records, 'Role: first run')
    second_runs = play_runs(records, 'Role: second run')
    if len(first_runs) != len(second_runs) or not first_runs:
        raise BenchError('role: %d first and %d second runs were recorded' % (len(first_runs), len(second_runs)))

    def requests_during(run):
        return [request for request in requests if run['epoch_start'] <= request['time'] <= run['epoch_end']]

    second_requests = [requests_during(run) for run in second_runs]
    return {
        'rounds': len(first_runs),
        'first_seconds': summarize([run['seconds'] for run in first_runs]),
        'second_seconds': summarize([run['seconds'] for run in second_runs]),
        'ratio': summarize([second['seconds'] / first['seconds'] for first, second in zip(first_runs, second_runs)]),
        'first_requests': summarize([len(requests_during(run)) for run in first_runs]),
        'second_requests': summarize([len(found) for found in second_requests]),
        'second_request_paths': sorted({request['path'] for found in second_requests for request in found}),
        'second_changed': summarize([len(run['changed_tasks']) for run in second_runs]),
        'second_changed_tasks': sorted({task for run in second_runs for task in run['changed_tasks']}),
        'second_tasks': summarize([run['tasks'] for run in second_runs]),
        'second_rkt_invocations': summarize([run['rkt_invocations'] for run in second_runs]),
        'total_requests': len(requests),
    }


# Report ----------------------------------------------------------------------------------


def verdict(met, detail):
    return ('met' if met else '**missed**') + ', ' + detail


def margin(value, target):
    """Describe how far VALUE lies from TARGET, in percent of the target."""
    percent = (value / target - 1) * 100
    return '%.1f %% %s the target' % (abs(percent), 'above' if percent > 0 else 'below')


def render_targets(results):
    rows = []

    noop = results.get('noop')
    if noop:
        invocations = noop['a_invocations']
        rows.append(('rkt_task no-op: rkt invocations', '%d' % TARGET_NOOP_INVOCATIONS, format_count_summary(invocations),
                     verdict(invocations['max'] <= TARGET_NOOP_INVOCATIONS,
                             'commands: %s' % '; '.join(noop['a_commands']))))
        ratio = noop['ratio']['median']
        rows.append(('rkt_task no-op / rkt list, time', 'at most %.2f' % TARGET_NOOP_RATIO, format_ratio_summary(noop['ratio']),
                     verdict(ratio <= TARGET_NOOP_RATIO, margin(ratio, TARGET_NOOP_RATIO))))

    fingerprint = results.get('fingerprint')
    if fingerprint:
        ratio = fingerprint['ratio']['median']
        rows.append(('rkt_fingerprint / rkt version, time', 'at most %.2f' % TARGET_FINGERPRINT_RATIO, format_ratio_summary(fingerprint['ratio']),
                     verdict(ratio <= TARGET_FINGERPRINT_RATIO, margin(ratio, TARGET_FINGERPRINT_RATIO))))

    role = results.get('role')
    if role:
        downloads = role['second_requests']
        rows.append(('role, second run: HTTP requests', '%d' % TARGET_ROLE_DOWNLOADS, format_count_summary(downloads),
                     verdict(downloads['max'] <= TARGET_ROLE_DOWNLOADS,
                             'paths: %s' % (', '.join(role['second_request_paths']) or 'none'))))
        changed = role['second_changed']
        rows.append(('role, second run: changed tasks', '%d' % TARGET_ROLE_CHANGED, format_count_summary(changed),
                     verdict(changed['max'] <= TARGET_ROLE_CHANGED,
                             'tasks: %s' % (', '.join(role['second_changed_tasks']) or 'none'))))

    scaling = results.get('scaling')
    if scaling:
        sizes = scaling['sizes']
        rows.append(('no-op loop: time per pod, %d pods / %d pod%s' % (sizes[-1]['pods'], sizes[0]['pods'], '' if sizes[0]['pods'] == 1 else 's'),
                     'at most %.2f (flat)' % TARGET_SCALING_GROWTH, '%.3f (ratio of the medians)' % scaling['growth'],
                     verdict(scaling['growth'] <= TARGET_SCALING_GROWTH, margin(scaling['growth'], TARGET_SCALING_GROWTH))))
        worst = max(size['invocations_per_pod']['max'] for size in sizes)
        rows.append(('no-op loop: rkt invocations per pod', '%d' % TARGET_SCALING_INVOCATIONS_PER_POD, '%g (largest of all loops)' % worst,
                     verdict(worst <= TARGET_SCALING_INVOCATIONS_PER_POD,
                             'commands: %s' % ', '.join(sorted({command for size in sizes for command in size['commands']})))))

    lines = ['| Target | Goal | Measured: median (min to max) | Verdict |', '| --- | --- | --- | --- |']
    lines.extend('| %s |' % ' | '.join(row) for row in rows)
    return lines


def render_markdown(results, machine, settings):
    lines = [RESULTS_BEGIN, '']
    dirty = ' with uncommitted changes in plugins/ or roles/' if settings['dirty'] else ''
    lines.append('Run of %s UTC on commit `%s`%s, written by `benchmarks/run_benchmarks.py`. Times are wall-clock '
                 'milliseconds per task as median (min to max) over all measured runs. Ratios are the median (min to max) '
                 'of the per-round ratios.' % (settings['date'], settings['commit'], dirty))
    lines.append('')
    lines.append('### Machine')
    lines.append('')
    lines.append('| | |')
    lines.append('| --- | --- |')
    lines.append('| CPU | %s, %d cores (%d usable) |' % (machine['cpu_model'], machine['cpu_count'], machine['cpus_usable']))
    lines.append('| RAM | %.1f GiB |' % machine['memory_gib'])
    lines.append('| OS, kernel | %s, Linux %s |' % (machine['os'], machine['kernel']))
    lines.append('| Python | %s (controller and modules), simulator on /usr/bin/python3: %s |' % (machine['python'], machine['simulator_python']))
    lines.append('| Ansible | %s |' % machine['ansible'])
    lines.append('| Other load | CPU %.0f %% busy in the second before the run; load average %s before, %s after |'
                 % (settings['cpu_busy_before'] * 100, settings['load_before'], settings['load_after']))
    lines.append('| Settings | %s |' % settings['knobs'])
    lines.append('| Duration | %.0f s |' % settings['duration'])
    lines.append('')

    lines.append('### Targets')
    lines.append('')
    lines.extend(render_targets(results))
    lines.append('')

    noop = results.get('noop')
    fingerprint = results.get('fingerprint')
    if noop or fingerprint:
        lines.append('### 1 and 2: modules against the rkt command they run')
        lines.append('')
        lines.append('| Comparison (A / B) | Rounds | A: ms | B: ms | A / B | rkt calls of A | rkt calls of B |')
        lines.append('| --- | --- | --- | --- | --- | --- | --- |')
        for label, figure in (('rkt_task no-op / `command: rkt list --format=json`', noop),
                              ('rkt_fingerprint / `command: rkt version`', fingerprint)):
            if figure:
                lines.append('| %s | %d | %s | %s | %s | %s | %s |' % (
                    label, figure['rounds'], format_ms_summary(figure['a_seconds']), format_ms_summary(figure['b_seconds']),
                    format_ratio_summary(figure['ratio']), format_count_summary(figure['a_invocations']),
                    format_count_summary(figure['b_invocations'])))
        lines.append('')

    role = results.get('role')
    if role:
        lines.append('### 3: role nomad_drivers.rkt.rkt, first and second run')
        lines.append('')
        lines.append('| Rounds | First run: ms | Second run: ms | Second / first | HTTP requests, first run | HTTP requests, second run '
                     '| Changed tasks, second run | rkt calls, second run |')
        lines.append('| --- | --- | --- | --- | --- | --- | --- | --- |')
        lines.append('| %d | %s | %s | %s | %s | %s | %s | %s |' % (
            role['rounds'], format_ms_summary(role['first_seconds']), format_ms_summary(role['second_seconds']),
            format_ratio_summary(role['ratio']), format_count_summary(role['first_requests']),
            format_count_summary(role['second_requests']), format_count_summary(role['second_changed']),
            format_count_summary(role['second_rkt_invocations'])))
        lines.append('')

    scaling = results.get('scaling')
    if scaling:
        lines.append('### 4: loops of rkt_task no-ops on one node')
        lines.append('')
        lines.append('| Pods on the node and in the loop | Rounds | Loop: ms | Per pod: ms | rkt calls per pod | `rkt list` alone: ms |')
        lines.append('| --- | --- | --- | --- | --- | --- |')
        for size in scaling['sizes']:
            lines.append('| %d | %d | %s | %s | %s | %s |' % (
                size['pods'], size['rounds'], format_ms_summary(size['loop_seconds']), format_ms_summary(size['seconds_per_pod']),
                format_count_summary(size['invocations_per_pod']), format_ms_summary(size['list_seconds'])))
        lines.append('')
        self_rss = scaling['rss_self_kib']
        lines.append('Peak memory of the %d module processes of one more %d-pod no-op loop (measure_rss.py): '
                     'module process alone %s MiB median, %s MiB max; with the rkt processes it ran (os.wait4) '
                     '%.1f MiB median, %.1f MiB max.%s' % (
                         scaling['rss_processes'], scaling['sizes'][-1]['pods'],
                         '%.1f' % (self_rss['median'] / 1024.0) if self_rss else 'n/a',
                         '%.1f' % (self_rss['max'] / 1024.0) if self_rss else 'n/a',
                         scaling['rss_tree_kib']['median'] / 1024.0, scaling['rss_tree_kib']['max'] / 1024.0,
                         ' %d processes wrote no figure of their own.' % scaling['rss_self_missing'] if scaling['rss_self_missing'] else ''))
        lines.append('')

    fleet = results.get('fleet')
    if fleet:
        lines.append('### 5: rkt_fingerprint on a fleet (local connection, --forks %d)' % fleet['forks'])
        lines.append('')
        lines.append('| Hosts | Rounds | Task: ms | Per host: ms | One host\'s module run: ms | rkt calls per host |')
        lines.append('| --- | --- | --- | --- | --- | --- |')
        for size in fleet['fleets']:
            lines.append('| %d | %d | %s | %s | %s | %g |' % (
                size['hosts'], size['rounds'], format_ms_summary(size['task_seconds']), format_ms_summary(size['seconds_per_host']),
                format_ms_summary(size['module_seconds']), size['invocations_per_host']))
        lines.append('')

    lines.append(RESULTS_END)
    return '\n'.join(lines) + '\n'


def write_results(path, block):
    """Replace the section between the markers in PATH with BLOCK."""
    with open(path, encoding='utf-8') as handle:
        text = handle.read()
    begin = text.find(RESULTS_BEGIN)
    end = text.find(RESULTS_END)
    if begin < 0 or end < begin:
        raise BenchError('%s has no results section; add the lines %r and %r where the results belong, or run with --no-write'
                         % (path, RESULTS_BEGIN, RESULTS_END))
    text = text[:begin] + block + text[end + len(RESULTS_END) + 1:]
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)


# Main ---------------------------------------------------------------------------------


FIGURES = ('noop', 'scaling', 'fleet', 'role')


def parse_sizes(text):
    sizes = sorted({int(value) for value in text.split(',') if value.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError('sizes must be positive integers separated by commas, for example 1,10,50; got %r' % text)
    return sizes


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError('must be 1 or more, got %s' % text)
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--runs', type=positive, default=7,
                        help='rounds of figures 1 and 2; each round times both sides twice, A B B A (default 7)')
    parser.add_argument('--scale-runs', type=positive, default=3, help='rounds per size of figure 4 (default 3)')
    parser.add_argument('--scale-sizes', type=parse_sizes, default=[1, 10, 50], help='pod counts of figure 4 (default 1,10,50)')
    parser.add_argument('--fleet-runs', type=positive, default=3, help='rounds of figure 5 (default 3)')
    parser.add_argument('--role-runs', type=positive, default=3, help='first and second role runs of figure 3 (default 3)')
    parser.add_argument('--only', default=','.join(FIGURES),
                        help='figures to measure, separated by commas: noop (1 and 2), scaling (4 and memory), fleet (5), role (3)')
    parser.add_argument('--output', default=DEFAULT_OUTPUT, help='Markdown file whose results section is replaced (default docs/performance.md)')
    parser.add_argument('--no-write', action='store_true', help='print the results section only')
    parser.add_argument('--keep-work-dir', action='store_true', help='keep the work folder with the logs and raw records')
    parser.add_argument('--work-dir-parent', default=None, help='folder for the temporary work folder (default: the system temp folder)')
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(',') if name.strip()]
    unknown = sorted(set(args.only) - set(FIGURES))
    if unknown:
        parser.error('unknown figure(s) in --only: %s; choose from %s' % (', '.join(unknown), ', '.join(FIGURES)))
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()
    cpu_busy_before = sample_cpu_busy(1.0)
    load_before = read_load_average()
    commit, dirty = describe_commit()

    bench = Bench(args)
    bench.groups_before = {group for group in ROLE_GROUPS if group_exists(group)}
    results = {}
    try:
        machine = describe_machine(sys.executable)
        bench.prepare()
        if 'noop' in args.only:
            results.update(measure_noop_and_fingerprint(bench))
        if 'scaling' in args.only:
            results['scaling'] = measure_scaling(bench)
        if 'fleet' in args.only:
            results['fleet'] = measure_fleet(bench)
        if 'role' in args.only:
            results['role'] = measure_role(bench)
        if args.keep_work_dir:
            with open(os.path.join(bench.records_dir, 'results.json'), 'w', encoding='utf-8') as handle:
                json.dump(results, handle, indent=1, sort_keys=True)
    except BenchError as error:
        print('bench: %s' % error, file=sys.stderr)
        return 1
    finally:
        bench.clean_up()

    settings = {
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M'),
        'commit': commit,
        'dirty': dirty,
        'cpu_busy_before': cpu_busy_before,
        'load_before': load_before,
        'load_after': read_load_average(),
        'duration': time.monotonic() - started,
        'knobs': '--runs %d --scale-runs %d --scale-sizes %s --fleet-runs %d --role-runs %d --only %s' % (
            args.runs, args.scale_runs, ','.join(str(size) for size in args.scale_sizes), args.fleet_runs, args.role_runs,
            ','.join(args.only)),
    }
    block = render_markdown(results, machine, settings)
    print(block)
    if not args.no_write:
        write_results(args.output, block)
        print('bench: wrote the results section of %s' % args.output, file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
