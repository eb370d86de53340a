# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The steps of rkt_task that change the node: trust a key, fetch an image, start, stop and remove pods.

Private module: not part of the collection's public API.

task_manager.TaskManager observes the pod and decides what a run has to do;
TaskActions does it. TaskManager imports this module only when a run changes
something, or checks in check mode that it could. AnsiballZ ships module_utils
as sources and Python compiles each imported file on every run, so a no-op
run, which needs none of this, is faster without it (docs/performance.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import tempfile
import time

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.cli import RktCommandError, global_flags
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.locking import make_private_dirs
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.openpgp import key_file_fingerprints, key_fingerprints
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import pod_config
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import pods as pods_lib
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.run_argv import build_run_argv, check_version_gates
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import supervisor as supervisor_lib
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import trust as trust_lib
# No import cycle: task_manager imports this module only inside TaskManager.actions().
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.task_manager import TaskFailure

# Seconds between checks while waiting for a pod to start or stop. A fly pod
# of rkt 1.30.0 runs about 0.1 s after `rkt run` starts, and each check is one
# short `rkt status` call, so a short interval ends the wait soon after the
# pod changes state, at little cost.
POLL_SECONDS = 0.05


class TaskActions(object):
    """The changes of one rkt_task run, on behalf of its TaskManager."""

    def __init__(self, manager):
        self.manager = manager
        self.module = manager.module
        self.params = manager.params
        self.name = manager.name
        self.cli = manager.cli
        self.state_dir = manager.state_dir
        self.uuid_file = manager.uuid_file
        self.pending_uuid_file = manager.pending_uuid_file
        self.log_file = manager.log_file
        self.data_dir_file = manager.data_dir_file

    # Replacing and running pods ----------------------------------------------------

    def replace_pod(self, config, observation, supervisor):
        """Start config as the task's pod in place of the pods the task owns; return the new pod's result.

        The image is fetched before any pod stops. When the new pod fails to start, the
        configuration of the earlier pod runs again (restore_previous_pod).
        """
        image_id = self.fetch_image(config)
        owned = self.manager.owned_pods(observation)

        stopped = []
        try:
            self.stop_running(owned, stopped)
            uuid, status = self.start_pod(config, image_id, supervisor)
        except (TaskFailure, RktCommandError) as error:
            raise self.failure_after_restore(error, observation, stopped)
        for old_uuid, dummy_state in owned:
            self.remove_pod(old_uuid)

        return pods_lib.pod_result(uuid, None, self.manager.read_manifest(uuid, remember=True), status)

    def run_to_exit(self, config, observation, result):
        """Run config in the foreground until it exits (state exited); fill in and return result.

        When the run fails, the node is left as it was: the failed pod goes, the earlier pod
        and its UUID file stay, and an earlier pod that this run stopped runs again.
        """
        image_id = self.fetch_image(config)
        owned = self.manager.owned_pods(observation)

        # NOTE: when rkt fails after rkt run created the job's pod (rkt status or cat-manifest),
        # that exited pod stays. Later runs count it among the task's pods and remove it when they
        # replace or remove the pod.
        stopped = []
        try:
            self.stop_running(owned, stopped)
            self.ensure_state_dir()
            self.remove_file(self.pending_uuid_file)
            run = self.cli.run(build_run_argv([], config, self.pending_uuid_file, image_id), check=False)
            uuid = supervisor_lib.read_uuid_file(self.pending_uuid_file)
            manifest = self.manager.read_manifest(uuid) if uuid else None
            status = self.status(uuid) if uuid else None
        except (TaskFailure, RktCommandError) as error:
            raise self.failure_after_restore(error, observation, stopped)
        pod = pods_lib.pod_result(uuid, None, manifest, status) if uuid else None
        result.update(rc=run.rc, stdout=run.stdout, stderr=run.stderr, pod=pod)

        if run.rc != 0:
            self.remove_file(self.pending_uuid_file)
            if uuid:
                self.cli.run(['rm', uuid], check=False)
            run_output = run.stderr.strip() or run.stdout.strip() or 'no output'
            restored = self.restore_previous_pod(observation, stopped)
            raise TaskFailure('pod %s exited with code %s: %s%s' % (self.name, run.rc, run_output, restored),
                              rc=run.rc, stdout=run.stdout, stderr=run.stderr, cmd=run.argv, pod=pod,
                              rkt_commands=self.cli.commands, changed=True)

        os.rename(self.pending_uuid_file, self.uuid_file)
        self.record_data_dir()
        self.manager.remember_manifest(uuid)
        for old_uuid, dummy_state in owned:
            self.remove_pod(old_uuid)
        return result

    def failure_after_restore(self, error, observation, stopped):
        """Return the TaskFailure for error (a TaskFailure or RktCommandError), after restore_previous_pod ran.

        Its message ends with what the restore did, so a failed replacement never leaves the
        earlier pod stopped without saying so.
        """
        if isinstance(error, RktCommandError):
            failure = TaskFailure(error.message, **error.to_result())
        else:
            failure = error
        failure.message += self.restore_previous_pod(observation, stopped)
        return failure

    # Trust -----------------------------------------------------------------------

    def check_pinned_local_key(self, pinned):
        """In check mode, compare a local key file with the pin without running rkt."""
        key = self.params.get('trust_key')
        if not pinned or not key or trust_lib.is_url(key):
            return
        found = key_file_fingerprints(key)
        if pinned not in found:
            raise TaskFailure('trust_key %s has the fingerprint %s, not the trust_fingerprint %s; nothing was trusted. '
                              'Check the key source or the pin' % (key, ', '.join(found), pinned))

    def apply_trust(self, pinned):
        """Trust the key of trust_prefix, and warn when the module cannot see the trusted key afterwards."""
        self.trust_key(pinned)

        # The module decides from the files under local_config. When rkt keeps its keys
        # elsewhere, every later run would trust the prefix again and report a change.
        prefix = self.params['trust_prefix']
        local_config = self.manager.local_config()
        still_needed, dummy_reason, dummy_known = trust_lib.decide_trust(prefix, self.params.get('trust_key'), pinned, local_config)
        if still_needed:
            self.manager.warnings.append(
                'rkt trust succeeded, but the trusted key for prefix %s is not under %s, where this module looks, so every run '
                'trusts it again and reports a change; set local_config to the local configuration directory that rkt uses '
                "(rkt's --local-config)" % (prefix, os.path.join(local_config, 'trustedkeys', 'prefix.d')))

    def trust_key(self, pinned):
        """Run rkt trust for trust_prefix; with a pinned fingerprint, trust only the key that matches it."""
        prefix = self.params['trust_prefix']
        key = self.params.get('trust_key')
        allow_http = self.params.get('insecure_allow_http')

        if not pinned:
            self.cli.run(trust_lib.build_trust_argv([], prefix, key, allow_http))
            return

        # rkt trust writes the key before anything could compare it with the pin. So rkt
        # first fetches it into a scratch configuration directory, and only the key that
        # matches the pin is then trusted in the real one.
        scratch = tempfile.mkdtemp(prefix='rkt-task-trust-')
        try:
            scratch_flags = global_flags(data_dir=self.params['data_dir'], local_config=scratch)
            self.cli.run(trust_lib.build_trust_argv([], prefix, key, allow_http), global_args=scratch_flags)
            fetched = trust_lib.find_key_file(scratch, prefix)
            for file_fingerprint, path in fetched:
                with open(path, 'rb') as handle:
                    content_fingerprints = key_fingerprints(handle.read())
                if file_fingerprint == pinned and pinned in content_fingerprints:
                    self.cli.run(trust_lib.build_trust_argv([], prefix, path, False))
                    return
            raise TaskFailure('the key for prefix %s has the fingerprint %s, not the trust_fingerprint %s; nothing was '
                              'trusted. Check the key source or the pin'
                              % (prefix, ', '.join(name for name, dummy in fetched) or 'unknown', pinned))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    # Checks and single steps -------------------------------------------------------

    def check_gates(self, config, extra_options=()):
        """Raise TaskFailure when the rkt found is too old for an option that config or extra_options pass."""
        try:
            check_version_gates(config, self.manager.rkt_version(), extra_options)
        except ValueError as error:
            raise TaskFailure(str(error))

    def fetch_image(self, config):
        """Fetch the image into the store and return its ID (``sha512-...``), as printed by rkt fetch."""
        argv = list()
        if config.insecure_options:
            argv.append('--insecure-options=%s' % ','.join(config.insecure_options))
        argv.extend(['fetch', '--pull-policy=new', config.image])
        result = self.cli.run(argv, check=False)
        image_ids = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith('sha512-')]
        if result.rc != 0 or not image_ids:
            raise TaskFailure('rkt could not fetch image %s (exit code %s): %s' % (
                config.image, result.rc, result.stderr.strip() or result.stdout.strip() or 'no output'),
                cmd=result.argv, rc=result.rc, stdout=result.stdout, stderr=result.stderr)
        return image_ids[-1]

    def status(self, uuid):
        return pods_lib.parse_status(self.cli.run(['status', uuid]).stdout)

    def stop_pod(self, uuid):
        """Stop a running pod and wait until rkt reports it exited."""
        self.cli.run(['stop', uuid])
        deadline = time.monotonic() + self.params['wait_timeout']
        while True:
            status = self.status(uuid)
            if status.state != pods_lib.STATE_RUNNING:
                return status
            if time.monotonic() >= deadline:
                raise TaskFailure('pod %s was still running %s seconds after rkt stop; stop it with rkt stop --force %s'
                                  % (uuid, self.params['wait_timeout'], uuid))
            time.sleep(POLL_SECONDS)

    def stop_running(self, owned, stopped):
        """Stop the running pods among owned (uuid, state) pairs and add the UUID of each to stopped.

        The caller passes the list, so that it still contains the pods stopped so far when a
        later stop fails.
        """
        for uuid, state in owned:
            if state == pods_lib.STATE_RUNNING:
                self.stop_pod(uuid)
                stopped.append(uuid)

    def restore_previous_pod(self, observation, stopped):
        """Run the configuration of the current pod again after this run stopped it and then failed.

        rkt cannot restart an exited pod, so the recorded configuration starts as a new pod from the
        same image ID, and the stopped pods are removed once it runs. Return a sentence for the
        failure message ('' when this run stopped no current pod).
        """
        current = observation.current
        if current is None or current.uuid not in stopped:
            return ''
        app = pods_lib.owned_app(observation.current_manifest, self.name)
        if not observation.current_config or app is None or not app.image_id:
            return '; the earlier pod %s stays stopped, because it carries no configuration to start again' % current.uuid

        previous = pod_config.PodConfig.from_dict(observation.current_config)
        try:
            uuid, dummy_status = self.start_pod(previous, app.image_id, previous.supervisor)
        except (TaskFailure, RktCommandError) as error:
            return '; starting the earlier configuration again failed too, so no pod %s runs: %s' % (self.name, error.message)
        try:
            self.manager.read_manifest(uuid, remember=True)
            for old_uuid in stopped:
                self.remove_pod(old_uuid)
        except RktCommandError as error:
            return ('; the earlier configuration runs again as pod %s, but removing the stopped pods failed: %s'
                    % (uuid, error.message))
        return '; the earlier configuration runs again as pod %s' % uuid

    def remove_pod(self, uuid):
        self.cli.run(['rm', uuid])

    def remove_file(self, path):
        try:
            os.unlink(path)
            return True
        except OSError:
            return False

    def ensure_state_dir(self):
        make_private_dirs(self.state_dir)

    def start_pod(self, config, image_ref, supervisor):
        """Start the pod under the supervisor and wait until it runs; return (uuid, status).

        On failure the new pod is stopped and removed and no UUID file is left.
        """
        self.ensure_state_dir()
        self.remove_file(self.pending_uuid_file)
        rkt_argv = self.cli.build_argv(build_run_argv([], config, self.pending_uuid_file, image_ref))

        process = None
        unit = None
        unit_started_at = None
        unit_invocation_id = None
        if supervisor == supervisor_lib.SUPERVISOR_SYSTEMD:
            unit = supervisor_lib.unit_name(self.name)
            self.wait_unit_gone(unit)
            # Taken after the earlier unit of this name is gone, so that its journal lines come before it.
            unit_started_at = time.time()
            argv = supervisor_lib.build_systemd_run_argv(self.module.get_bin_path('systemd-run', required=True), self.name, rkt_argv)
            self.cli.commands.append(argv)
            rc, stdout, stderr = self.module.run_command(argv)
            if rc != 0:
                raise TaskFailure('systemd-run could not start the pod (exit code %s): %s; on a node where systemd is not PID 1, '
                                  'use supervisor: none or auto' % (rc, stderr.strip()),
                                  cmd=argv, rc=rc, stdout=stdout, stderr=stderr)
            unit_invocation_id = self.unit_property(unit, 'InvocationID')
        else:
            self.cli.commands.append(rkt_argv)
            # The log repeats the rkt run argv, which carries the environment: readable by the owner only.
            log_fd = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(log_fd, 'ab') as log:
                log.write(('--- %s %s\n' % (time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), ' '.join(rkt_argv))).encode('utf-8'))
            process = supervisor_lib.start_detached(rkt_argv, self.log_file)

        uuid = None
        deadline = time.monotonic() + self.params['wait_timeout']
        failure = None
        while True:
            if uuid is None:
                uuid = supervisor_lib.read_uuid_file(self.pending_uuid_file)
            if uuid is not None:
                try:
                    status = self.status(uuid)
                except RktCommandError as error:
                    # Through the failure path below, so that the new pod is stopped and removed.
                    failure = 'rkt could not report the state of pod %s: %s' % (uuid, error.message)
                    break
                # Wait for the pid as well: rkt stop fails on a pod that is running but has no pid yet.
                if status.state == pods_lib.STATE_RUNNING and status.pid:
                    break
                if status.state not in (pods_lib.STATE_RUNNING, 'prepared', 'preparing', 'embryo'):
                    failure = 'pod %s reached state %s instead of running' % (uuid, status.state)
                    break
            exit_code = process.poll() if process is not None else None
            if exit_code is not None and uuid is None:
                failure = 'rkt run exited with code %s before the pod started' % exit_code
                break
            # systemd has no process for the module to poll: a unit that has ended is the sign
            # that rkt run exited. The UUID file is read once more, because rkt run may have
            # saved it just before the unit ended.
            if unit is not None and uuid is None and not self.unit_is_running(unit):
                uuid = supervisor_lib.read_uuid_file(self.pending_uuid_file)
                if uuid is None:
                    failure = 'rkt run in unit %s exited before the pod started' % unit
                    break
                continue
            if time.monotonic() >= deadline:
                failure = 'pod did not reach state running within %s seconds (wait_timeout)' % self.params['wait_timeout']
                break
            time.sleep(POLL_SECONDS)

        if failure is not None:
            self.clean_up_failed_start(uuid, process, unit)
            if process is not None:
                log_tail = supervisor_lib.read_log_tail(self.log_file)
            elif unit is not None:
                log_tail = self.read_unit_journal(unit, unit_invocation_id, unit_started_at)
            else:
                log_tail = ''
            message = 'could not start pod %s: %s' % (self.name, failure)
            if log_tail:
                message += '; output of rkt run:\n%s' % log_tail
            elif unit:
                message += '; see journalctl -u %s' % unit
            raise TaskFailure(message, rkt_run_output=log_tail)

        os.rename(self.pending_uuid_file, self.uuid_file)
        self.record_data_dir()
        return uuid, status

    def clean_up_failed_start(self, uuid, process, unit):
        if unit:
            self.module.run_command(['systemctl', 'stop', unit])
        if uuid:
            self.cli.run(['stop', '--force', uuid], check=False)
            if process is not None:
                try:
                    process.wait(timeout=self.params['wait_timeout'])
                except Exception:  # pylint: disable=broad-except
                    pass
            self.cli.run(['rm', uuid], check=False)
        elif process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self.remove_file(self.pending_uuid_file)

    def unit_property(self, unit, name):
        """Return the value of the unit's property name as systemctl show prints it, '' for an unloaded unit."""
        dummy_rc, stdout, dummy_stderr = self.module.run_command(['systemctl', 'show', '--property=%s' % name, '--value', unit])
        return stdout.strip()

    def unit_is_running(self, unit):
        """Return True while systemd reports the unit active or on its way there (False once it ended or was unloaded)."""
        return self.unit_property(unit, 'ActiveState') in ('active', 'activating', 'reloading')

    def read_unit_journal(self, unit, invocation_id, since):
        """Return the last lines that this run of the unit logged, '' when the journal has none.

        The earlier unit of the same name may have logged its last lines within the same
        second, and journald timestamps a line when it receives it. So a line counts when it
        carries invocation_id (_SYSTEMD_INVOCATION_ID on the unit's output, INVOCATION_ID on
        systemd's lines about the unit, systemd.journal-fields(7)), and a line without an
        invocation ID counts when it came at or after since (seconds since the epoch).
        """
        rc, stdout, dummy_stderr = self.module.run_command(
            ['journalctl', '--unit=%s' % unit, '--since=@%d' % int(since), '--no-pager', '--output=json'])
        if rc != 0:
            return ''

        lines = []
        for entry_text in stdout.splitlines():
            try:
                entry = json.loads(entry_text)
            except ValueError:
                # A line that is not JSON, such as "-- No entries --", which some journalctl
                # versions print when nothing matches.
                continue
            entry_invocation_id = entry.get('_SYSTEMD_INVOCATION_ID') or entry.get('INVOCATION_ID')
            if invocation_id and entry_invocation_id:
                if entry_invocation_id != invocation_id:
                    continue
            elif int(entry.get('__REALTIME_TIMESTAMP') or 0) < since * 1000000:
                continue

            message = entry.get('MESSAGE')
            if isinstance(message, list):
                # journalctl prints a message that is not valid UTF-8 as a list of byte values.
                message = bytes(message).decode('utf-8', 'replace')
            if message:
                lines.append(message)
        return '\n'.join(lines[-40:]).strip()

    def wait_unit_gone(self, unit):
        """Wait until a unit of an earlier pod with this name has ended, so systemd-run can reuse the name."""
        deadline = time.monotonic() + self.params['wait_timeout']
        while True:
            rc, stdout, dummy_stderr = self.module.run_command(['systemctl', 'is-active', unit])
            if stdout.strip() not in ('active', 'activating', 'deactivating', 'reloading'):
                self.module.run_command(['systemctl', 'reset-failed', unit])
                return
            if time.monotonic() >= deadline:
                raise TaskFailure('systemd unit %s of an earlier pod is still %s; stop it with systemctl stop %s'
                                  % (unit, stdout.strip(), unit))
            time.sleep(POLL_SECONDS)

    def record_data_dir(self):
        """Write the data_dir of the pod just recorded in the UUID file ('' for rkt's default)."""
        record_fd = os.open(self.data_dir_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(record_fd, 'w') as record:
            record.write(self.params['data_dir'] or '')
