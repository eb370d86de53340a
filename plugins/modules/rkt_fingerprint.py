#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


DOCUMENTATION = r'''
---
module: rkt_fingerprint
short_description: Report whether a node can run Nomad rkt tasks, as Nomad's rkt driver fingerprints it
version_added: 0.1.0
description:
  - Runs C(rkt version) once and returns the C(driver.rkt) client attributes that Nomad's rkt driver would report for this
    node, in C(ansible_facts.rkt), together with facts Nomad does not report. These are the Go build, the compiled-in
    features, the stage1 images and whether the cgroup controllers behind rkt's CPU and memory isolators are available.
  - >-
    Reads the rkt version and the appc version the way Nomad does, from C(rkt Version: 1.30.0) as rkt 1.x prints it and
    from the older C(rkt version 0.8.1) form. The word C(version) may have any case and an optional colon. Both the rkt
    and the appc version must be present.
  - Never fails because rkt is missing or broken. That is a fact, returned as RV(ansible_facts.rkt.detected=false) with a
    RV(ansible_facts.rkt.reason). The module fails only on invalid parameters.
  - Like Nomad, the module reports rkt as detected only when it runs as root (effective user ID 0). Nomad checks this before
    it runs rkt and then skips rkt. This module still runs C(rkt version) once as another user, because that command works for
    unprivileged users, so the version facts are filled in while RV(ansible_facts.rkt.reason) is V(not_root) and no
    attributes are set.
  - Works as a facts module in C(gather_facts) (set C(ansible_facts_modules) or C(FACTS_MODULES) to
    V([smart, nomad_drivers.rkt.rkt_fingerprint])) and ad hoc (C(ansible all -m nomad_drivers.rkt.rkt_fingerprint)).
author:
  - nomad_drivers.rkt maintainers (@nomad-drivers)
options:
  executable:
    description:
      - Path of the rkt executable, or a command name to look up on E(PATH). Like other Ansible modules, the lookup also
        searches C(/sbin), C(/usr/sbin) and C(/usr/local/sbin).
      - A path that does not exist or is not executable gives RV(ansible_facts.rkt.reason=not_found), not a failure.
    type: path
    default: rkt
  min_version:
    description:
      - Minimum rkt version. C(driver.rkt) is V("1") when rkt is at least this version, V("0") when it is older.
      - The default is the first rkt with the CPU and memory isolators that Nomad passes to C(rkt run).
      - Compared as versions, number by number (V(1.9.0) is older than V(1.10.0)), and a pre-release is older than its
        release (V(0.14.0-rc) is older than V(0.14.0)).
    type: str
    default: 0.14.0
  stage1_dir:
    description:
      - Directory to list in RV(ansible_facts.rkt.stage1_images).
      - The default is the stage1 directory of rkt's release builds and distribution packages, which contains
        C(stage1-fly.aci), C(stage1-coreos.aci) and C(stage1-kvm.aci).
    type: path
    default: /usr/lib/rkt/stage1-images
extends_documentation_fragment:
  - nomad_drivers.rkt.attributes
  - nomad_drivers.rkt.attributes.facts
  - nomad_drivers.rkt.attributes.platform
attributes:
  check_mode:
    details:
      - The module only reads, so it runs C(rkt version) and returns the same facts in check mode.
notes:
  - Runs exactly one rkt command, C(rkt version), which needs no rkt data directory.
  - A too old rkt is reported as detected, with C(driver.rkt) set to V("0") and a warning, as Nomad's built-in rkt driver
    did.
  - RV(ansible_facts.rkt.attributes) keeps the whole version as rkt prints it, including a pre-release or build suffix
    such as V(1.30.0+git1234abc). Nomad's driver keeps only the leading numbers and dots.
seealso:
  - name: rkt commands
    description: rkt's documentation of its commands, C(rkt version) among them.
    link: https://github.com/rkt/rkt/blob/master/Documentation/commands.md
'''

EXAMPLES = r'''
- name: Read the rkt facts of a node
  nomad_drivers.rkt.rkt_fingerprint:
  become: true

- name: Stop when the node can not run Nomad rkt tasks
  ansible.builtin.assert:
    that:
      - ansible_facts.rkt.attributes['driver.rkt'] | default('0') == '1'
    fail_msg: "rkt is not usable: {{ ansible_facts.rkt.reason_message | default('rkt is older than the minimum', true) }}"

- name: Require a newer rkt and use one outside PATH
  nomad_drivers.rkt.rkt_fingerprint:
    executable: /opt/bin/rkt
    min_version: 1.27.0
  become: true

# To gather the rkt facts with the standard facts, list the module among the
# facts modules of a play (or set FACTS_MODULES in ansible.cfg):
#
# - hosts: nomad_clients
#   become: true
#   gather_facts: true
#   vars:
#     ansible_facts_modules:
#       - smart
#       - nomad_drivers.rkt.rkt_fingerprint
#   tasks:
#     - name: Show the Nomad attributes
#       ansible.builtin.debug:
#         var: ansible_facts.rkt.attributes
'''

RETURN = r'''
rkt_commands:
  description: The argv of each rkt command the module ran, in order (one command, or none when rkt was not found).
  returned: always
  type: list
  elements: list
  sample:
    - ["/usr/bin/rkt", "version"]
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    rkt:
      description: What the module found out about rkt on the node. Every key is always present.
      returned: always
      type: dict
      contains:
        detected:
          description:
            - Whether Nomad's rkt driver would report rkt on this node. V(true) when rkt was found, ran, printed both
              versions and the module ran as root, also when rkt is older than O(min_version).
          returned: always
          type: bool
          sample: true
        reason:
          description:
            - Why rkt was not detected; V(null) when it was.
            - V(not_root) when the module does not run as root (checked first, as Nomad does).
            - V(not_found) when no rkt executable exists at O(executable) or on E(PATH).
            - V(exec_failed) when rkt could not be started or exited with a non-zero code.
            - V(unparsable) when the output of C(rkt version) lacks the rkt or the appc version.
          returned: always
          type: str
          sample: null
        reason_message:
          description: The reason in words, with the path, exit code or output line involved; V(null) when detected.
          returned: always
          type: str
          sample: null
        unparsable_output:
          description:
            - The first line of the output of C(rkt version) when RV(ansible_facts.rkt.reason=unparsable) (an empty string
              for empty output); V(null) otherwise.
            - Bytes that are not UTF-8 appear as U+FFFD replacement characters.
          returned: always
          type: str
          sample: null
        version:
          description: The rkt version as printed, V(null) when unknown.
          returned: always
          type: str
          sample: 1.30.0
        appc_version:
          description: The appc specification version rkt implements, V(null) when unknown.
          returned: always
          type: str
          sample: 0.8.11
        go_version:
          description: The Go release rkt was built with (rkt 1.x prints it), V(null) when not printed.
          returned: always
          type: str
          sample: go1.19.8
        go_os_arch:
          description: The operating system and architecture rkt was built for, V(null) when not printed.
          returned: always
          type: str
          sample: linux/amd64
        features:
          description: The compiled-in features from the C(Features:) line, C(+) enabled and C(-) disabled; empty when not printed.
          returned: always
          type: list
          elements: str
          sample: ["-TPM", "+SDJOURNAL"]
        path:
          description: The absolute path of the rkt executable that was run, V(null) when not found.
          returned: always
          type: str
          sample: /usr/bin/rkt
        min_version:
          description: The minimum version the module compared against (O(min_version)).
          returned: always
          type: str
          sample: 0.14.0
        meets_min_version:
          description: Whether RV(ansible_facts.rkt.version) is at least O(min_version); V(null) when the version is unknown.
          returned: always
          type: bool
          sample: true
        attributes:
          description:
            - The client attributes Nomad's rkt driver reports, keyed by their dotted Nomad names. Empty when rkt is not
              detected.
            - C(driver.rkt) is V("1") when rkt meets O(min_version) and V("0") when it is older.
            - C(driver.rkt.version) and C(driver.rkt.appc.version) are the versions as printed.
          returned: always
          type: dict
          sample:
            driver.rkt: "1"
            driver.rkt.version: 1.30.0
            driver.rkt.appc.version: 0.8.11
        stage1_images:
          description: The stage1 image files (C(*.aci)) in O(stage1_dir), sorted by name; empty when the directory is missing.
          returned: always
          type: list
          elements: dict
          contains:
            name:
              description: The file name.
              type: str
              sample: stage1-fly.aci
            path:
              description: The absolute path.
              type: str
              sample: /usr/lib/rkt/stage1-images/stage1-fly.aci
            flavor:
              description: The stage1 flavor from a C(stage1-<flavor>.aci) file name, V(null) for other names.
              type: str
              sample: fly
          sample:
            - name: stage1-fly.aci
              path: /usr/lib/rkt/stage1-images/stage1-fly.aci
              flavor: fly
        isolation:
          description:
            - Whether the cgroup controllers behind rkt's isolators are available. rkt's C(--cpu) needs the C(cpu)
              controller and C(--memory) the C(memory) controller.
            - Read from C(/sys/fs/cgroup/cgroup.controllers) when the unified cgroup v2 hierarchy is mounted there,
              otherwise from C(/proc/cgroups), where a cgroup v1 controller counts when it is enabled and mounted.
          returned: always
          type: dict
          contains:
            cgroup_version:
              description: V(2) for the unified hierarchy, V(1) for cgroup v1, V(null) when neither file can be read.
              type: int
              sample: 2
            cpu:
              description: Whether the C(cpu) controller is available.
              type: bool
              sample: true
            memory:
              description: Whether the C(memory) controller is available.
              type: bool
              sample: true
            available:
              description: Whether both controllers are available, so rkt can enforce CPU and memory limits.
              type: bool
              sample: true
            source:
              description: The file that was read, V(null) when none could be read.
              type: str
              sample: /sys/fs/cgroup/cgroup.controllers
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.cli import RktCli
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.fingerprint import DEFAULT_STAGE1_DIR, fingerprint
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.version import DEFAULT_MIN_VERSION, Version


def main():
    module = AnsibleModule(
        argument_spec=dict(
            executable=dict(type='path', default='rkt'),
            min_version=dict(type='str', default=DEFAULT_MIN_VERSION),
            stage1_dir=dict(type='path', default=DEFAULT_STAGE1_DIR),
        ),
        supports_check_mode=True,
    )

    executable = module.params['executable']
    if not executable or not executable.strip():
        module.fail_json(msg='executable is empty; set it to the path of rkt or leave it out to look up rkt on PATH')

    try:
        min_version = Version(module.params['min_version'])
    except ValueError:
        module.fail_json(
            msg='min_version %r is not a version; use a dotted version such as 0.14.0 or 1.30.0' % (module.params['min_version'],))

    cli = RktCli(module, executable=executable)
    facts, warnings = fingerprint(cli, min_version, stage1_dir=module.params['stage1_dir'])

    for warning in warnings:
        module.warn(warning)

    module.exit_json(changed=False, ansible_facts=dict(rkt=facts), rkt_commands=cli.commands)


if __name__ == '__main__':
    main()
