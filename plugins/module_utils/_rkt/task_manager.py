# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The state machine of the rkt_task module: observe the pod and decide; actions.py acts.

Private module: not part of the collection's public API.

How the module finds its pod again: the app is named after the task (``--name``)
and carries user annotations with the task name and the normalised
configuration (pod_config.ANNOTATION_*). The UUID of the current pod is saved
with ``--uuid-file-save`` in ``<state_dir>/<name>.uuid``.

The list JSON of rkt 1.30.0 carries no annotations, so the configuration of
a pod comes from ``rkt cat-manifest``. The module keeps a copy of the
manifest of the pod in the UUID file (manifest_cache), so the no-op path runs
rkt once: ``rkt list --format=json`` for the pod's state.

Imports: AnsiballZ ships module_utils as sources, and Python compiles every
imported file on each run, which is most of a no-op run's own cost
(docs/performance.md). So the modules that only some runs need are imported
where they are first used: actions (with run_argv and openpgp) by runs that
change something (openpgp also by every run with a local trust_key and no
trust_fingerprint), version and fingerprint by runs that check version gates or
resolve ``${attr.*}``, interpolation by runs whose command or args contain a
reference. The unit tests check that a no-op run imports none of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import platform

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.cli import (
    RktCli,
    RktCommandError,
    RktNotFoundError,
    global_flags,
)
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import manifest_cache
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import pod_config
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import pods as pods_lib
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import supervisor as supervisor_lib
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import trust as trust_lib
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.locking import LockTimeout, PodLock


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
        self._actions = None
        self._interpolation_context = None

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

    def actions(self):
        """Return the TaskActions that change the node (imported on first use, see the module docstring).

        Only runs that change something, or check in check mode that they could, call this.
        """
        if self._actions is None:
            from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.actions import TaskActions
            self._actions = TaskActions(self)
        return self._actions

    # rkt facts ---------------------------------------------------------------

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

    def interpolation_context(self):
        """Return the values that ${...} references in command and args resolve to.

        pod_config calls this only for a text with a reference.
        """
        if self._interpolation_context is None:
            from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.interpolation import InterpolationContext

            self._interpolation_context = InterpolationContext(
                task_env=self.params.get('env') or {},
                target_env=os.environ,
                attributes=self.attributes,
                meta=self.params.get('meta') or {},
                node_name=platform.node(),
            )
        return self._interpolation_context

    def desired_config(self, supervisor):
        config, warnings = pod_config.from_params(self.params, self.interpolation_context, supervisor)
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

        actions = self.actions()
        if self.check_mode:
            actions.check_gates(config)
            actions.check_pinned_local_key(pinned)
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest) if current else None
            return result

        actions.check_gates(config, ['fetch --pull-policy'])
        if trust_needed:
            actions.apply_trust(pinned)
        if not replace:
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest)
            return result

        # Replace only after the configuration is valid and the key is trusted.
        result['pod'] = actions.replace_pod(config, observation, supervisor)
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

        actions = self.actions()
        statuses = {}
        for uuid in running:
            statuses[uuid] = actions.stop_pod(uuid)
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
            # Unset fields are left out, as in the diff of state started.
            before = dict((key, value) for key, value in (observation.current_config or {}).items() if value is not None)
            before['state'] = observation.current.state if observation.current else owned[0][1]
            result['diff'] = dict(before=before, after={})
        else:
            result['diff'] = dict(before={}, after={})

        if self.check_mode or not result['changed']:
            return result

        actions = self.actions()
        for uuid, state in owned:
            if state == pods_lib.STATE_RUNNING:
                actions.stop_pod(uuid)
            actions.remove_pod(uuid)
        for path in leftover_files:
            actions.remove_file(path)
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
                actions = self.actions()
                actions.check_gates(config)
                actions.check_pinned_local_key(pinned)
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest) if current else None
            if not run_needed:
                result.update(rc=0, stdout='', stderr='',
                              msg='pod %s already exited 0 with this configuration; set force: true to run it again' % self.name)
            return result

        actions = self.actions()
        actions.check_gates(config, ['fetch --pull-policy'])
        if trust_needed:
            actions.apply_trust(pinned)
        if not run_needed:
            result['pod'] = pods_lib.pod_result(current.uuid, current, observation.current_manifest)
            result.update(rc=0, stdout='', stderr='')
            return result

        return actions.run_to_exit(config, observation, result)
