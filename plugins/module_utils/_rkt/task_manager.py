# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The state machine of the rkt_task module: observe the pod, decide, act.

Private module: not part of the collection's public API.

How the module finds its pod again: the app is named after the task (``--name``)
and carries user annotations with the task name and the normalised
configuration (pod_config.ANNOTATION_*). The UUID of the current pod is saved
with ``--uuid-file-save`` in ``<state_dir>/<name>.uuid``.

The list JSON of rkt 1.30.0 carries no annotations, so the configuration of
a pod comes from ``rkt cat-manifest``. The module keeps a copy of the
manifest of the pod in the UUID file (manifest_cache), so the no-op path runs
rkt once: ``rkt list --format=json`` for the pod's state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import platform
import shutil
import tempfile
import time

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.cli import (
    RktCli,
    RktCommandError,
    RktNotFoundError,
    global_flags,
)
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.interpolation import InterpolationContext
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import manifest_cache
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import pod_config
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import pods as pods_lib
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import supervisor as supervisor_lib
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import trust as trust_lib
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.locking import LockTimeout, PodLock, make_private_dirs

# Seconds between checks while waiting for a pod to start or stop. A fly pod
# of rkt 1.30.0 runs about 0.1 s after `rkt run` starts, and each check is one
# short `rkt status` call, so a short interval ends the wait soon after the
# pod changes state, at little cost.
POLL_SECONDS = 0.05


class TaskFailure(Exception):
    """A failure to report with fail_json; ``details`` are extra result keys."""

    def __init__(self, message, **details):
        super(TaskFailure, self).__init__(message)
        self.message = message
        self.details = details


class Observation(object):
    """Pods and records of one task name, as the module found them on the node."""

    def __init__(self):
        self.pods = []
        self.uuid_from_file = None
        self.current = None
        self.current_manifest = None
        self.current_config = None
        self.current_hash = None
        self.from_uuid_file = False


class TaskManager(object):
    """Bring one rkt pod to the requested state; see the rkt_task module documentation."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.name = self.params['name']
        self.state_dir = self.params['state_dir']

        self.global_args = global_flags(data_dir=self.params['data_dir'], local_config=self.params['local_config'])
        self.cli = RktCli(module, self.params['executable'], self.global_args)
        self.warnings = []
        self._rkt_version = None
        self._attributes = None

        self.uuid_file = supervisor_lib.uuid_file_path(self.state_dir, self.name)
        self.pending_uuid_file = supervisor_lib.pending_uuid_file_path(self.state_dir, self.name)
        self.log_file = supervisor_lib.log_file_path(self.state_dir, self.name)
        # Records the data_dir of the pod named in the UUID file, because rkt list reads one data dir only.
        self.data_dir_file = os.path.join(self.state_dir, '%s.data_dir' % self.name)
        self.manifest_cache_file = manifest_cache.cache_file_path(self.state_dir, self.name)
        # Manifest text per pod UUID, as rkt cat-manifest printed it in this run.
        self.manifest_texts = {}

    # Entry point -----------------------------------------------------------

    def run(self):
        """Return the result dict for module.exit_json; raise TaskFailure on failure."""
        handlers = {
            'started': self.ensure_started,
            'stopped': self.ensure_stopped,
            'absent': self.ensure_absent,
            'exited': self.ensure_exited,
        }
        try:
            pod_config.validate_name(self.name)
            lock = PodLock(self.state_dir, self.name, self.params['wait_timeout'], create=not self.check_mode)
            with lock:
                result = handlers[self.params['state']]()
        except LockTimeout as error:
            raise TaskFailure(str(error))
        except RktNotFoundError as error:
            raise TaskFailure(error.message)
        except RktCommandError as error:
            raise TaskFailure(error.message, **error.to_result())
        except (pod_config.ConfigError, trust_lib.TrustError, pods_lib.PodOutputError) as error:
            raise TaskFailure(str(error))

        result['rkt_commands'] = self.cli.commands
        result['warnings'] = self.warnings
        return result

    # rkt facts ---------------------------------------------------------------

    # The version and fingerprint modules are imported in the two methods below,
    # because only runs that change something or resolve ${attr.*} need them, and
    # Python compiles every imported module_utils file on each run (AnsiballZ ships
    # sources), which is most of the no-op run's own cost (docs/performance.md).

    def rkt_version(self):
        """Return the version of rkt (runs ``rkt version`` once)."""
        from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.version import parse_version_output

        if self._rkt_version is None:
            if self._attributes is not None and self._attributes.get('driver.rkt.version'):
                self._rkt_version = self._attributes['driver.rkt.version']
            else:
                result = self.cli.run(['version'])
                info = parse_version_output(result.stdout)
                if info is None:
                    raise TaskFailure('could not read the rkt version from the output of %s version: %r; check the '
                                      'executable parameter' % (self.cli.find(), result.stdout[:200]))
                self._rkt_version = info.version
        return self._rkt_version

    def attributes(self):
        """Return the Nomad client attributes of rkt_fingerprint (runs ``rkt version`` once)."""
        from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.fingerprint import fingerprint
        from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.version import DEFAULT_MIN_VERSION, Version

        if self._attributes is None:
            facts, warnings = fingerprint(self.cli, Version(DEFAULT_MIN_VERSION))
            self.warnings.extend(warnings)
            if not facts['detected']:
                raise TaskFailure('${attr.*} references need the rkt attributes, but rkt was not detected: %s'
                                  % facts['reason_message'])
            self._attributes = facts['attributes']
        return self._attributes

    # Desired configuration -----------------------------------------------------

    def desired_config(self, supervisor):
        context = InterpolationContext(
            task_env=self.params.get('env') or {},
            target_env=os.environ,
            attributes=self.attributes,
            meta=self.params.get('meta') or {},
            node_name=platform.node(),
        )
        config, warnings = pod_config.from_params(self.params, context, supervisor)
        self.warnings.extend(warnings)
        return config

    # Observation -----------------------------------------------------------------

    def read_manifest(self, uuid, remember=False):
        """Return the pod manifest of uuid from rkt cat-manifest; with remember, also save it in the manifest cache."""
        manifest_text = self.cli.run(['cat-manifest', '--pretty-print=false', uuid]).stdout
        manifest = pods_lib.parse_manifest(manifest_text)
        self.manifest_texts[uuid] = manifest_text
        if remember:
            self.remember_manifest(uuid)
        return manifest

    def remember_manifest(self, uuid):
        """Save the manifest that rkt printed for uuid in this run as the manifest cache (never in check mode)."""
        if self.check_mode or uuid not in self.manifest_texts:
            return
        try:
            manifest_cache.save(self.manifest_cache_file, uuid, self.manifest_texts[uuid])
        except (IOError, OSError) as error:
            # The copy only saves an rkt call on the next run, so failing to write it does not fail the task.
            self.warnings.append('could not save the manifest copy %s (%s); the next run reads the manifest with rkt cat-manifest'
                                 % (self.manifest_cache_file, error))

    def recorded_manifest(self, uuid):
        """Return the pod manifest of the UUID file's pod: the cached copy when it is this pod's, else from rkt."""
        manifest_text = manifest_cache.load(self.manifest_cache_file, uuid)
        if manifest_text is not None:
            try:
                return pods_lib.parse_manifest(manifest_text)
            except pods_lib.PodOutputError:
                pass
        return self.read_manifest(uuid, remember=True)

    def record_data_dir(self):
        """Write the data_dir of the pod just recorded in the UUID file ('' for rkt's default)."""
        record_fd = os.open(self.data_dir_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(record_fd, 'w') as record:
            record.write(self.params['data_dir'] or '')

    def check_same_data_dir(self, uuid):
        """Fail when the pod of the UUID file lives in another data_dir, where this run cannot see it.

        Without this check a changed data_dir would start a second pod and leave the first one running.
        """
        try:
            with open(self.data_dir_file) as record:
                recorded = record.read()
        except (IOError, OSError):
            return
        current = self.params['data_dir'] or ''
        if recorded != current:
            def describe(data_dir):
                return 'data_dir "%s"' % data_dir if data_dir else "rkt's default data_dir"
            raise TaskFailure('pod %s (%s) was started with %s, but this run uses %s; remove it first with state: absent '
                              'and %s, then start it with the new data_dir'
                              % (self.name, uuid, describe(recorded), describe(current), describe(recorded)))

    def observe(self):
        """List the pods and find the current pod of this task (1 rkt call when the UUID file and the manifest cache are there)."""
        observation = Observation()
        observation.uuid_from_file = supervisor_lib.read_uuid_file(self.uuid_file)
        observation.pods = pods_lib.parse_pod_list(self.cli.run(['list', '--format=json']).stdout)
        if observation.uuid_from_file and pods_lib.find_pod(observation.pods, observation.uuid_from_file) is None:
            self.check_same_data_dir(observation.uuid_from_file)

        candidates = []
        if observation.uuid_from_file:
            summary = pods_lib.find_pod(observation.pods, observation.uuid_from_file)
            if summary is not None:
                candidates.append((summary, True))
        for summary in pods_lib.candidate_pods(observation.pods, self.name):
            if summary.uuid != observation.uuid_from_file:
                candidates.append((summary, False))

        for summary, from_file in candidates:
            manifest = self.recorded_manifest(summary.uuid) if from_file else self.read_manifest(summary.uuid)
            app = pods_lib.owned_app(manifest, self.name)
            if app is None:
                continue
            observation.current = summary
            observation.current_manifest = manifest
            observation.current_config = pod_config.config_from_annotations(app.user_annotations)
            observation.current_hash = app.user_annotations.get(pod_config.ANNOTATION_CONFIG_HASH)
            observation.from_uuid_file = from_file
            break
        return observation

    def owned_pods(self, observation, only_running=False):
        """Return (uuid, state) of every pod this task owns: the current one, the UUID file's and confirmed others."""
        owned = {}
        if observation.current is not None:
            owned[observation.current.uuid] = observation.current.state
        if observation.uuid_from_file:
            summary = pods_lib.find_pod(observation.pods, observation.uuid_from_file)
            if summary is not None:
                owned[summary.uuid] = summary.state
        for summary in pods_lib.candidate_pods(observation.pods, self.name):
            if summary.uuid in owned or (only_running and summary.state != pods_lib.STATE_RUNNING):
                continue
            manifest_text = self.manifest_texts.get(summary.uuid)
            manifest = pods_lib.parse_manifest(manifest_text) if manifest_text is not None else self.read_manifest(summary.uuid)
            if pods_lib.owned_app(manifest, self.name) is not None:
                owned[summary.uuid] = summary.state
        return sorted(owned.items())

    # Trust -----------------------------------------------------------------------

    def trust_plan(self):
        """Return (needed, reason, fingerprint) for trust_prefix; needed is False without trust_prefix."""
        prefix = self.params.get('trust_prefix')
        if not prefix:
            for parameter in ('trust_key', 'trust_fingerprint'):
                if self.params.get(parameter):
                    raise TaskFailure('%s is set but trust_prefix is not; set trust_prefix to the image name prefix '
                                      'the key signs' % parameter)
            return False, None, None
        trust_lib.validate_prefix(prefix)
        pinned = self.params.get('trust_fingerprint')
        pinned = trust_lib.normalize_fingerprint(pinned) if pinned else None
        needed, reason, dummy_known = trust_lib.decide_trust(
            prefix, self.params.get('trust_key'), pinned, self.local_config(), None)
        return needed, reason, pinned

    def local_config(self):
        return self.params.get('local_config') or trust_lib.DEFAULT_LOCAL_CONFIG

    def check_pinned_local_key(self, pinned):
        """In check mode, compare a local key file with the pin without running rkt."""
        key = self.params.get('trust_key')
        if not pinned or not key or trust_lib.is_url(key):
            return
        with open(key, 'rb') as handle:
            found = trust_lib.key_fingerprints(handle.read())
        if pinned not in found:
            raise TaskFailure('trust_key %s has the fingerprint %s, not the trust_fingerprint %s; nothing was trusted. '
                              'Check the key source or the pin' % (key, ', '.join(found), pinned))

    def apply_trust(self, pinned):
        prefix = self.params['trust_prefix']
        key = self.params.get('trust_key')
        allow_http = self.params.get('insecure_allow_http')

        if not pinned:
            self.cli.run(trust_lib.build_trust_argv([], prefix, key, allow_http))
            return

        # rkt trust writes the key before anything could compare it with the pin, so
        # rkt first fetches it into a scratch configuration directory; only the key
        # that matches the pin is then trusted in the real one.
        scratch = tempfile.mkdtemp(prefix='rkt-task-trust-')
        try:
            scratch_flags = global_flags(data_dir=self.params['data_dir'], local_config=scratch)
            self.cli.run(trust_lib.build_trust_argv([], prefix, key, allow_http), global_args=scratch_flags)
            fetched = trust_lib.find_key_file(scratch, prefix)
            for file_fingerprint, path in fetched:
                with open(path, 'rb') as handle:
                    content_fingerprints = trust_lib.key_fingerprints(handle.read())
                if file_fingerprint == pinned and pinned in content_fingerprints:
                    self.cli.run(trust_lib.build_trust_argv([], prefix, path, False))
                    return
            raise TaskFailure('the key for prefix %s has the fingerprint %s, not the trust_fingerprint %s; nothing was '
                              'trusted. Check the key source or the pin'
                              % (prefix, ', '.join(name for name, dummy in fetched) or 'unknown', pinned))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    # Actions ---------------------------------------------------------------------

    def check_gates(self, config, extra_options=()):
        try:
            pod_config.check_version_gates(config, self.rkt_version(), extra_options)
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

    def stop_running(self, owned):
        """Stop the running pods among owned (uuid, state) pairs; return the UUIDs of the pods stopped."""
        stopped = []
        for uuid, state in owned:
            if state == pods_lib.STATE_RUNNING:
                self.stop_pod(uuid)
                stopped.append(uuid)
        return stopped

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
        except TaskFailure as error:
            return '; starting the earlier configuration again failed too, so no pod %s runs: %s' % (self.name, error.message)
        self.read_manifest(uuid, remember=True)
        for old_uuid in stopped:
            self.remove_pod(old_uuid)
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
        rkt_argv = self.cli.build_argv(pod_config.build_run_argv([], config, self.pending_uuid_file, image_ref))

        process = None
        unit = None
        unit_started_at = None
        if supervisor == supervisor_lib.SUPERVISOR_SYSTEMD:
            unit = supervisor_lib.unit_name(self.name)
            self.wait_unit_gone(unit)
            # Rounded down to whole seconds for journalctl --since, so the unit's first lines are included.
            unit_started_at = int(time.time())
            argv = supervisor_lib.build_systemd_run_argv(self.module.get_bin_path('systemd-run', required=True), self.name, rkt_argv)
            self.cli.commands.append(argv)
            rc, stdout, stderr = self.module.run_command(argv)
            if rc != 0:
                raise TaskFailure('systemd-run could not start the pod (exit code %s): %s; on a node where systemd is not PID 1, '
                                  'use supervisor: none or auto' % (rc, stderr.strip()),
                                  cmd=argv, rc=rc, stdout=stdout, stderr=stderr)
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
                status = self.status(uuid)
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
                log_tail = self.read_unit_journal(unit, unit_started_at)
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

    def unit_is_running(self, unit):
        """Return True while systemd reports the unit active or on its way there (False once it ended or was unloaded)."""
        dummy_rc, stdout, dummy_stderr = self.module.run_command(['systemctl', 'show', '--property=ActiveState', '--value', unit])
        return stdout.strip() in ('active', 'activating', 'reloading')

    def read_unit_journal(self, unit, since):
        """Return the last lines that the unit logged since the epoch second since, '' when journalctl has none."""
        rc, stdout, dummy_stderr = self.module.run_command(
            ['journalctl', '--unit=%s' % unit, '--since=@%d' % since, '--lines=40', '--no-pager', '--output=cat'])
        if rc != 0 or stdout.strip() == '-- No entries --':
            return ''
        return stdout.strip()

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

    # States ----------------------------------------------------------------------

    def _diff(self, observation, before_state, after_config, after_state):
        before = dict(observation.current_config or {}) if observation.current is not None else {}
        if observation.current is not None:
            before['state'] = before_state
        after = after_config.to_dict() if after_config is not None else {}
        if after_state is not None:
            after['state'] = after_state
        return pod_config.config_diff(before, after)

    def ensure_started(self):
        supervisor = supervisor_lib.resolve_supervisor(self.params['supervisor'])
        config = self.desired_config(supervisor)
        trust_needed, dummy_reason, pinned = self.trust_plan()
        observation = self.observe()
        current = observation.current

        pod_matches = (current is not None and current.state == pods_lib.STATE_RUNNING
                       and observation.current_hash == config.config_hash())
        replace = self.params['force'] or not pod_matches

        result = dict(changed=trust_needed or replace, trust_changed=trust_needed)
        result['diff'] = self._diff(observation, current.state if current else None, config, pods_lib.STATE_RUNNING) \
            if replace else dict(before={}, after={})
        if not result['changed']:
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest)
            return result

        if self.check_mode:
            self.check_gates(config)
            self.check_pinned_local_key(pinned)
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest) if current else None
            return result

        self.check_gates(config, ['fetch --pull-policy'])
        if trust_needed:
            self.apply_trust(pinned)
        if not replace:
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest)
            return result

        # Replace only after the configuration is valid and the image is in the store.
        image_id = self.fetch_image(config)
        owned = self.owned_pods(observation)
        stopped = self.stop_running(owned)

        try:
            uuid, status = self.start_pod(config, image_id, supervisor)
        except TaskFailure as failure:
            failure.message += self.restore_previous_pod(observation, stopped)
            raise
        for old_uuid, dummy_state in owned:
            self.remove_pod(old_uuid)

        result['pod'] = pods_lib.pod_result(uuid, None, self.read_manifest(uuid, remember=True), status)
        return result

    def ensure_stopped(self):
        observation = self.observe()
        running = self.owned_pods(observation, only_running=True)
        running = [uuid for uuid, state in running if state == pods_lib.STATE_RUNNING]
        result = dict(changed=bool(running))
        current = observation.current
        if running:
            result['diff'] = dict(before=dict(state=pods_lib.STATE_RUNNING), after=dict(state=pods_lib.STATE_EXITED))
        else:
            result['diff'] = dict(before={}, after={})

        if self.check_mode or not running:
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest) if current else None
            return result

        statuses = {}
        for uuid in running:
            statuses[uuid] = self.stop_pod(uuid)
        if current is not None:
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest, statuses.get(current.uuid))
        else:
            result['pod'] = None
        return result

    def ensure_absent(self):
        observation = self.observe()
        owned = self.owned_pods(observation)
        leftover_files = [path for path in (self.uuid_file, self.pending_uuid_file, self.log_file, self.data_dir_file,
                                            self.manifest_cache_file)
                          if os.path.exists(path)]
        result = dict(changed=bool(owned or leftover_files), pod=None)
        if owned:
            before = dict(observation.current_config or {})
            before['state'] = observation.current.state if observation.current else owned[0][1]
            result['diff'] = dict(before=before, after={})
        else:
            result['diff'] = dict(before={}, after={})

        if self.check_mode or not result['changed']:
            return result

        for uuid, state in owned:
            if state == pods_lib.STATE_RUNNING:
                self.stop_pod(uuid)
            self.remove_pod(uuid)
        for path in leftover_files:
            self.remove_file(path)
        return result

    def ensure_exited(self):
        config = self.desired_config('foreground')
        trust_needed, dummy_reason, pinned = self.trust_plan()
        observation = self.observe()
        current = observation.current

        # rkt records no exit code for pods of the fly stage1, so the module keeps the
        # UUID file of an exited pod only when its rkt run exited 0.
        succeeded = (current is not None and observation.from_uuid_file
                     and current.state == pods_lib.STATE_EXITED
                     and observation.current_hash == config.config_hash()
                     and all(app.exit_code in (None, 0) for app in current.apps))
        run_needed = self.params['force'] or not succeeded

        result = dict(changed=trust_needed or run_needed, trust_changed=trust_needed)
        result['diff'] = self._diff(observation, current.state if current else None, config, pods_lib.STATE_EXITED) \
            if run_needed else dict(before={}, after={})
        if not result['changed'] or (self.check_mode):
            if self.check_mode and result['changed']:
                self.check_gates(config)
                self.check_pinned_local_key(pinned)
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest) if current else None
            if not run_needed:
                result.update(rc=0, stdout='', stderr='',
                              msg='pod %s already exited 0 with this configuration; set force: true to run it again' % self.name)
            return result

        self.check_gates(config, ['fetch --pull-policy'])
        if trust_needed:
            self.apply_trust(pinned)
        if not run_needed:
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest)
            result.update(rc=0, stdout='', stderr='')
            return result

        image_id = self.fetch_image(config)
        owned = self.owned_pods(observation)
        stopped = self.stop_running(owned)

        self.ensure_state_dir()
        self.remove_file(self.pending_uuid_file)
        run = self.cli.run(pod_config.build_run_argv([], config, self.pending_uuid_file, image_id), check=False)
        uuid = supervisor_lib.read_uuid_file(self.pending_uuid_file)
        manifest = self.read_manifest(uuid) if uuid else None
        status = self.status(uuid) if uuid else None
        pod = pods_lib.pod_result(uuid, None, manifest, status) if uuid else None
        result.update(rc=run.rc, stdout=run.stdout, stderr=run.stderr, pod=pod)

        if run.rc != 0:
            # Leave the node as it was: the failed pod goes, the earlier pod and its UUID file stay,
            # and an earlier pod that this run stopped runs again.
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
        self.remember_manifest(uuid)
        for old_uuid, dummy_state in owned:
            self.remove_pod(old_uuid)
        return result
