#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r'''
---
module: rkt_task
short_description: Run an image as a named rkt pod with CPU and memory limits, idempotently
version_added: 0.1.0
description:
  - Runs an image as a named rkt pod on a node and takes the task configuration of Nomad's rkt driver, so that a playbook
    can do on one node what a Nomad job does on a cluster.
  - Optionally makes rkt trust the signing key of an image name prefix first (C(rkt trust)), and checks a pinned key
    fingerprint before anything is trusted.
  - The pod is found again by its app, which is named after O(name) and carries user annotations with the task name and the
    normalised configuration. The pod list of rkt 1.30.0 has no annotations, so the module reads them with
    C(rkt cat-manifest) once per pod and keeps a copy of that manifest in O(state_dir). A repeated run with the same
    parameters changes nothing and runs rkt once (C(rkt list --format=json)), or twice when O(command) or O(args)
    reference C(${attr.*}), which needs C(rkt version).
  - Changing any parameter that shapes the pod replaces the pod. The running pod is stopped only after the new configuration
    was validated and the new image fetched. When the new pod then fails to start, the earlier configuration is started
    again as a new pod from the same image (rkt cannot restart an exited pod), and the failure message names that pod.
  - Two runs for the same O(name) on one node never start two pods, because each run holds a lock per name.
author:
  - nomad_drivers.rkt maintainers (@nomad-drivers)
options:
  name:
    description:
      - The pod's identity on the node. It is the app name inside the pod, names the UUID file, the log file and the systemd
        unit, and finds the pod for O(state=stopped) and O(state=absent).
      - 1 to 63 lower-case letters, digits and dashes, starting and ending with a letter or digit.
    type: str
    required: true
  image:
    description:
      - The image to run, by name (V(example.com/app:1.0)), image ID (V(sha512-...)), ACI file path or URL, or a
        V(docker://) reference.
      - Required for O(state=started) and O(state=exited).
      - The module compares the value of O(image), not the image it names, so a rebuilt ACI file at the same path or a new
        image under the same name and version goes unnoticed. Give each build its own version or path
        (V(example.com/app:1.1)). The fetch uses C(--pull-policy=new), so an image of that name in rkt's store is used as it is.
    type: str
  command:
    description:
      - Overrides the exec of the image (C(rkt run --exec)). References are interpolated as in O(args).
    type: str
  args:
    description:
      - Arguments passed to the app after C(--). Each entry reaches the app as one argument, unchanged by any shell.
      - Before the pod starts, C(${VAR}) and C($VAR) are replaced from O(env), then from the environment of the target;
        C(${attr.<name>}) by a node attribute of M(nomad_drivers.rkt.rkt_fingerprint) such as C(${attr.driver.rkt.version});
        C(${meta.<key>}) from O(meta); C(${node.unique.name}) by the host name of the node. C($$) is a literal dollar sign.
      - An unknown reference fails the task and names it; it never becomes an empty string.
      - An entry C(---) is rejected, because rkt reads it as the end of the app's arguments.
    type: list
    elements: str
    default: []
  meta:
    description:
      - Values for C(${meta.<key>}) references in O(command) and O(args), like a Nomad job's C(meta) block.
    type: dict
    default: {}
  env:
    description:
      - Environment variables of the app (C(rkt run --set-env)). The environment of the target is not passed on.
      - Values must be strings. A YAML boolean or number (C(yes), C(1.10)) fails the task, because its text would not be
        what you typed; quote it.
      - The values are visible to anyone who can read the pod manifest (C(rkt cat-manifest)), and they appear in
        RV(rkt_commands) and the log of O(supervisor=none). Set the task keyword C(no_log) to true when they hold secrets.
    type: dict
    default: {}
  cpu:
    description:
      - CPU limit. A number without a unit is millicores, as Nomad's C(cpu) (V(500) gives C(--cpu=500m)). That holds for a string
        of digits too, because ad hoc C(-a cpu=500) and templates pass strings.
      - Any other string is a Kubernetes-style quantity, as rkt reads C(--cpu) (V("500m") is 500 millicores, V("0.5") and
        V("2.0") are CPUs).
      - Compared in rkt's canonical form, so V("0.5") and V(500) are the same limit.
      - Only stage1 flavors with cgroup isolation enforce it; the fly stage1 records it in the pod manifest only.
    type: raw
  memory:
    description:
      - Memory limit. A number without a unit is megabytes (10^6 bytes), as Nomad's C(memory) (V(256) gives C(--memory=256M)).
        That holds for a string of digits too, because ad hoc C(-a memory=256) and templates pass strings.
      - Any other string is a quantity with a unit (V("256M"), V("1G"), V("512Mi")).
      - Compared in rkt's canonical form, so V(1000) and V("1G") are the same limit.
    type: raw
  trust_prefix:
    description:
      - Before running, make rkt trust the signing key for this image name prefix
        (C(rkt trust --prefix=... --skip-fingerprint-review)). Nothing happens when a key is already trusted for the prefix.
      - Without O(trust_key) the key is found by rkt's meta discovery on the prefix.
      - Must be an appc identifier, as rkt requires (lower-case letters, digits and C(-._~/), so no port such as C(:8080)),
        and must not contain a URL scheme, an absolute path, or empty, C(.) or C(..) segments.
    type: str
  trust_key:
    description:
      - Location of the armored public key (a file on the target, or a URL) to trust for O(trust_prefix), instead of meta
        discovery.
    type: str
  trust_fingerprint:
    description:
      - Expected OpenPGP v4 fingerprint of the key for O(trust_prefix) (40 hex digits; spaces are ignored).
      - rkt first fetches the key into a scratch directory, the module compares its fingerprint with this pin, and only a
        matching key is trusted. A mismatch fails the task and trusts nothing.
      - Without a pin the key is trusted without review, as Nomad does.
    type: str
  insecure_allow_http:
    description:
      - Allow key discovery and key download over plain http (C(rkt trust --insecure-allow-http)).
    type: bool
    default: false
  insecure_options:
    description:
      - Security checks to disable (C(rkt --insecure-options)), for example V(image) or V(image,ondisk).
      - When both this and O(trust_prefix) are empty, the image runs without signature verification as with Nomad, and the
        module warns. Nomad passes V(all), which also disables seccomp and capability restrictions in rkt 1.x; this
        module passes only V(image).
      - V([none]) requires a trusted signature.
    type: list
    elements: str
    choices: [none, image, tls, ondisk, http, pubkey, capabilities, paths, seccomp, all-fetch, all-run, all]
  dns_servers:
    description:
      - DNS servers of the pod (C(rkt run --dns)). IP addresses, or a single V(host) (the host's resolv.conf) or V(none).
    type: list
    elements: str
    default: []
  dns_search_domains:
    description:
      - DNS search domains of the pod (C(rkt run --dns-search)).
    type: list
    elements: str
    default: []
  net:
    description:
      - Networks of the pod (C(rkt run --net)), for example V([host]) or V([default]).
    type: list
    elements: str
    default: []
  port_map:
    description:
      - Maps a port name declared in the image to a host port (C(rkt run --port=NAME:PORT)).
      - Can not be combined with O(net=[host]), because rkt rejects C(--port) with host networking.
    type: dict
    default: {}
  volumes:
    description:
      - Host directories to mount, as C(host_path:container_path) or C(host_path:container_path:readOnly), as in Nomad.
    type: list
    elements: str
    default: []
  hostname:
    description:
      - Host name of the pod (C(rkt run --hostname)). The fly stage1 ignores it.
    type: str
  user:
    description:
      - User (name or ID) the app runs as (C(rkt run --user)).
    type: str
  group:
    description:
      - Group (name or ID) the app runs as (C(rkt run --group)).
    type: str
  labels:
    description:
      - User labels of the app (C(rkt run --user-label)).
    type: dict
    default: {}
  annotations:
    description:
      - User annotations of the app (C(rkt run --user-annotation)). Keys starting with C(nomad_drivers.rkt/) are reserved.
    type: dict
    default: {}
  debug:
    description:
      - Run rkt with C(--debug).
    type: bool
    default: false
  no_overlay:
    description:
      - Disable overlayfs for the pod (C(rkt run --no-overlay)).
    type: bool
    default: false
  stage1:
    description:
      - The stage1 image. An absolute path selects C(--stage1-path), a URL C(--stage1-url), a bare file name ending in
        C(.aci) C(--stage1-from-dir), and anything else an image name (C(--stage1-name)).
    type: str
  state:
    description:
      - V(started) makes sure a running pod with exactly this configuration exists. A pod with another configuration is
        replaced, and an exited pod is started again.
      - V(stopped) makes sure no pod with this name runs. The pod and its UUID file stay for inspection.
      - V(absent) stops and removes the pod (C(rkt rm)) and deletes its UUID and log files.
      - V(exited) runs the pod once in the foreground to completion and returns RV(rc), RV(stdout) and RV(stderr). When a pod
        with this name and this configuration already exited with 0, it is not run again unless O(force=true). A non-zero
        exit fails the task with rkt's output and removes the failed pod. If the run stopped a running pod with this name
        first, that pod's configuration is started again.
    type: str
    choices: [started, stopped, absent, exited]
    default: started
  force:
    description:
      - Replace the pod (V(started)) or run it again (V(exited)) even when its configuration is unchanged.
    type: bool
    default: false
  supervisor:
    description:
      - What keeps a V(started) pod running after the module exits.
      - V(systemd) starts C(rkt run) as a transient service C(rkt-task-<name>.service) in C(machine.slice) with
        C(systemd-run), as rkt's documentation recommends. A transient unit writes no file, so a failed start leaves nothing
        behind; it does not survive a reboot, and neither do rkt pods.
      - V(none) starts C(rkt run) in its own session, with its output appended to C(<state_dir>/<name>.log).
      - V(auto) picks V(systemd) when systemd is the init system, V(none) otherwise.
      - Changing the supervisor replaces the pod.
    type: str
    choices: [auto, systemd, none]
    default: auto
  wait_timeout:
    description:
      - Seconds to wait for a started pod to reach C(running) (polled with C(rkt status)), for a stopped pod to exit, and for
        the lock of another run for the same O(name).
    type: int
    default: 60
  state_dir:
    description:
      - Directory for the UUID files, manifest copies, logs and locks of the module, created with mode 0700.
    type: path
    default: /var/lib/nomad_drivers_rkt
  data_dir:
    description:
      - rkt's data directory (C(rkt --dir)), for nodes that keep rkt's data outside C(/var/lib/rkt).
      - A pod is not moved to another data directory, because rkt lists the pods of one data directory only. When O(data_dir)
        differs from the one the pod was started with, the task fails and names both; remove the pod with O(state=absent) and
        the old O(data_dir) first.
    type: path
  local_config:
    description:
      - rkt's local configuration directory (C(rkt --local-config)), where trusted keys are stored. The default is C(/etc/rkt).
    type: path
  executable:
    description:
      - Path of the rkt executable, or a command name to look up on E(PATH).
    type: path
    default: rkt
extends_documentation_fragment:
  - nomad_drivers.rkt.attributes
  - nomad_drivers.rkt.attributes.actions
  - nomad_drivers.rkt.attributes.platform
attributes:
  check_mode:
    support: full
    details:
      - Runs only read-only rkt commands (C(list), C(cat-manifest), C(version)) and predicts RV(ignore:changed) as a real run
        would. It trusts, fetches, runs, stops and removes nothing and writes no file or unit.
      - A pinned O(trust_fingerprint) is checked in check mode only for a local O(trust_key) file.
      - The image is not fetched in check mode, so a missing or unverifiable image is found only by a real run.
  diff_mode:
    support: full
    details:
      - Shows the configuration keys that change, and the pod state, before and after.
notes:
  - Runs rkt as an argv list, never through a shell, so values with spaces, quotes, C(;) or C($(...)) reach rkt and the app
    unchanged.
  - Each rkt option is gated on the rkt version that introduced it; a too old rkt fails the task with the option, the found
    and the needed version.
  - rkt does not record the exit code of pods run with the fly stage1, so for O(state=exited) the UUID file is kept only
    for a run that exited with 0.
seealso:
  - module: nomad_drivers.rkt.rkt_fingerprint
  - name: rkt run
    description: rkt's documentation of C(rkt run) and its options.
    link: https://github.com/rkt/rkt/blob/master/Documentation/subcommands/run.md
'''

EXAMPLES = r'''
- name: Trust the signing key of example.com/web, pinned to its fingerprint
  nomad_drivers.rkt.rkt_task:
    name: web
    image: example.com/web:1.0
    trust_prefix: example.com/web
    trust_fingerprint: 772622CF5A3DA29829C8DABA936D97E05EB0B3AF
    cpu: 500
    memory: 256
    port_map:
      http: 8080
    env:
      LOG_LEVEL: info
      WORKERS: "4"
    args:
      - --listen=0.0.0.0:8080
      - --node=${node.unique.name}
  become: true

- name: Run a one-off migration and show its output
  nomad_drivers.rkt.rkt_task:
    name: migrate-1-0
    image: /srv/aci/migrate-1.0.aci
    insecure_options: [image]
    state: exited
    volumes:
      - /srv/data:/data
  register: migration
  become: true

- name: Print what the migration wrote
  ansible.builtin.debug:
    var: migration.stdout_lines

- name: Stop the web pod but keep it for inspection
  nomad_drivers.rkt.rkt_task:
    name: web
    state: stopped
  become: true

- name: Remove the web pod and its records
  nomad_drivers.rkt.rkt_task:
    name: web
    state: absent
  become: true
'''

RETURN = r'''
pod:
  description:
    - The pod of this task after the run; null when there is none.
    - C(pod.pid) is known only after the module started or stopped the pod, because C(rkt list) does not show it.
    - C(pod.exit_code) is null for pods of the fly stage1, which rkt does not record.
  returned: always
  type: dict
  sample:
    uuid: 01628001-48cd-4be2-be58-3f67b380b375
    state: running
    app_name: web
    image_name: example.com/web
    image_id: sha512-bac85d09b1acdd6a418603d26bffe452d783d6c2990834bfed4cdae2b2224898
    pid: 3669
    exit_code: null
    isolators:
      resource/memory: 256M
      resource/cpu: 500m
rkt_commands:
  description: The argv of every command the module ran (rkt, and systemd-run for O(supervisor=systemd)), in order.
  returned: always
  type: list
  elements: list
  sample:
    - [/usr/bin/rkt, list, --format=json]
trust_changed:
  description: Whether the module trusted a key (or would have, in check mode).
  returned: when O(state) is V(started) or V(exited)
  type: bool
  sample: false
rc:
  description: Exit code of C(rkt run), which is the app's exit code. V(0) without a run when the pod already exited with 0.
  returned: when O(state=exited)
  type: int
  sample: 0
stdout:
  description: Standard output of C(rkt run); empty when the pod was not run again.
  returned: when O(state=exited)
  type: str
  sample: "hello from manifest exec\n"
stderr:
  description: Standard error of C(rkt run); empty when the pod was not run again.
  returned: when O(state=exited)
  type: str
  sample: ""
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.task_manager import TaskFailure, TaskManager


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            image=dict(type='str'),
            command=dict(type='str'),
            args=dict(type='list', elements='str', default=[]),
            meta=dict(type='dict', default={}),
            env=dict(type='dict', default={}),
            cpu=dict(type='raw'),
            memory=dict(type='raw'),
            trust_prefix=dict(type='str'),
            trust_key=dict(type='str', no_log=False),
            trust_fingerprint=dict(type='str'),
            insecure_allow_http=dict(type='bool', default=False),
            insecure_options=dict(type='list', elements='str',
                                  choices=['none', 'image', 'tls', 'ondisk', 'http', 'pubkey', 'capabilities', 'paths',
                                           'seccomp', 'all-fetch', 'all-run', 'all']),
            dns_servers=dict(type='list', elements='str', default=[]),
            dns_search_domains=dict(type='list', elements='str', default=[]),
            net=dict(type='list', elements='str', default=[]),
            port_map=dict(type='dict', default={}),
            volumes=dict(type='list', elements='str', default=[]),
            hostname=dict(type='str'),
            user=dict(type='str'),
            group=dict(type='str'),
            labels=dict(type='dict', default={}),
            annotations=dict(type='dict', default={}),
            debug=dict(type='bool', default=False),
            no_overlay=dict(type='bool', default=False),
            stage1=dict(type='str'),
            state=dict(type='str', default='started', choices=['started', 'stopped', 'absent', 'exited']),
            force=dict(type='bool', default=False),
            supervisor=dict(type='str', default='auto', choices=['auto', 'systemd', 'none']),
            wait_timeout=dict(type='int', default=60),
            state_dir=dict(type='path', default='/var/lib/nomad_drivers_rkt'),
            data_dir=dict(type='path'),
            local_config=dict(type='path'),
            executable=dict(type='path', default='rkt'),
        ),
        required_if=[
            ('state', 'started', ['image']),
            ('state', 'exited', ['image']),
        ],
        supports_check_mode=True,
    )

    manager = TaskManager(module)
    try:
        result = manager.run()
    except TaskFailure as failure:
        details = dict(failure.details)
        details.setdefault('rkt_commands', manager.cli.commands)
        module.fail_json(msg=failure.message, **details)

    warnings = result.pop('warnings', [])
    for warning in warnings:
        module.warn(warning)
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
