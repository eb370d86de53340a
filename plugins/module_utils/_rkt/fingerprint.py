# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Build the rkt facts that Nomad's rkt driver fingerprint reports, and more.

Private to the nomad_drivers.rkt collection: the names in this file may change
without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.cli import (
    RktCommandError,
    RktNotFoundError,
    first_line,
)
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.version import (
    is_at_least,
    parse_version_output,
    too_old_warning,
)


# The stage1 image directory of rkt's release builds and distribution packages
# (stage1-fly.aci, stage1-coreos.aci, stage1-kvm.aci).
DEFAULT_STAGE1_DIR = '/usr/lib/rkt/stage1-images'

STAGE1_IMAGE_PREFIX = 'stage1-'
STAGE1_IMAGE_SUFFIX = '.aci'

# Values of the `reason` fact when rkt is not detected.
REASON_NOT_FOUND = 'not_found'
REASON_NOT_ROOT = 'not_root'
REASON_EXEC_FAILED = 'exec_failed'
REASON_UNPARSABLE = 'unparsable'

# Nomad's attribute names for the rkt driver.
ATTRIBUTE_DRIVER = 'driver.rkt'
ATTRIBUTE_VERSION = 'driver.rkt.version'
ATTRIBUTE_APPC_VERSION = 'driver.rkt.appc.version'

# The cgroup controllers behind rkt's resource isolators: resource/cpu needs
# "cpu" and resource/memory needs "memory".
ISOLATOR_CONTROLLERS = ('cpu', 'memory')

# cgroup v2 lists its controllers in this file at the root of the unified
# hierarchy. rkt (since 1.16.0) treats /sys/fs/cgroup as unified when a cgroup2
# file system is mounted there, which is when this file exists.
CGROUP2_CONTROLLERS_FILE = 'sys/fs/cgroup/cgroup.controllers'

# cgroup v1 lists controllers in /proc/cgroups as "name hierarchy num_cgroups enabled".
CGROUP1_CONTROLLERS_FILE = 'proc/cgroups'


def list_stage1_images(stage1_dir):
    """List the stage1 ACI files in ``stage1_dir``, sorted by file name.

    Each item is a dict with ``name`` (file name), ``path`` and ``flavor`` (the
    part between ``stage1-`` and ``.aci``, None for other names). A missing or
    unreadable directory gives an empty list.
    """
    try:
        names = os.listdir(stage1_dir)
    except OSError:
        return []

    images = []
    for name in sorted(names):
        path = os.path.join(stage1_dir, name)
        if not name.endswith(STAGE1_IMAGE_SUFFIX) or not os.path.isfile(path):
            continue

        flavor = None
        if name.startswith(STAGE1_IMAGE_PREFIX) and len(name) > len(STAGE1_IMAGE_PREFIX) + len(STAGE1_IMAGE_SUFFIX):
            flavor = name[len(STAGE1_IMAGE_PREFIX):-len(STAGE1_IMAGE_SUFFIX)]

        images.append(dict(name=name, path=path, flavor=flavor))
    return images


def _read_text(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return None


def _cgroup2_controllers(text):
    return set(text.split())


def _cgroup1_controllers(text):
    controllers = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0].startswith('#'):
            continue

        name, hierarchy, enabled = fields[0], fields[1], fields[3]
        # hierarchy 0 means the controller is not mounted on a cgroup v1
        # hierarchy (unmounted, disabled, or bound to the v2 hierarchy).
        if enabled == '1' and hierarchy != '0':
            controllers.add(name)
    return controllers


def read_isolation(fs_root='/'):
    """Report whether the cgroup controllers that rkt's isolators need exist.

    ``fs_root`` is the directory that contains ``proc`` and ``sys`` (``/`` on a
    node, a temporary directory in tests). Returns a dict with ``cgroup_version``
    (1, 2 or None when neither file can be read), ``cpu``, ``memory``,
    ``available`` (both) and ``source`` (the file read).
    """
    cgroup2_path = os.path.join(fs_root, CGROUP2_CONTROLLERS_FILE)
    cgroup1_path = os.path.join(fs_root, CGROUP1_CONTROLLERS_FILE)

    cgroup_version = None
    source = None
    controllers = set()

    text = _read_text(cgroup2_path)
    if text is not None:
        cgroup_version = 2
        source = cgroup2_path
        controllers = _cgroup2_controllers(text)
    else:
        text = _read_text(cgroup1_path)
        if text is not None:
            cgroup_version = 1
            source = cgroup1_path
            controllers = _cgroup1_controllers(text)

    isolation = dict(cgroup_version=cgroup_version, source=source)
    for controller in ISOLATOR_CONTROLLERS:
        isolation[controller] = controller in controllers
    isolation['available'] = all(isolation[controller] for controller in ISOLATOR_CONTROLLERS)
    return isolation


def empty_facts(min_version):
    """Return the rkt facts with every key present and nothing detected."""
    return dict(
        detected=False,
        reason=None,
        reason_message=None,
        unparsable_output=None,
        version=None,
        appc_version=None,
        go_version=None,
        go_os_arch=None,
        features=[],
        path=None,
        min_version=str(min_version),
        meets_min_version=None,
        attributes={},
        stage1_images=[],
        isolation={},
    )


def _set_not_detected(facts, reason, message):
    # Nomad's rule: the first reason found wins, and the root check comes first.
    if facts['reason'] is None:
        facts['reason'] = reason
        facts['reason_message'] = message


def fingerprint(cli, min_version, stage1_dir=DEFAULT_STAGE1_DIR, euid=None, fs_root='/'):
    """Fingerprint rkt on this node the way Nomad's rkt driver does.

    Run ``rkt version`` once through ``cli`` (a RktCli) and return
    ``(facts, warnings)``. A missing or broken rkt raises nothing and is
    reported in ``facts['reason']``. ``min_version`` is a Version; ``euid`` is the
    effective user ID (None reads it with os.geteuid()).

    Nomad checks for root before it runs rkt and then does not run rkt at all.
    Here rkt still runs once when the user is not root, because ``rkt version``
    works for unprivileged users, so the version facts are filled in either way;
    the reason stays ``not_root`` and no attributes are set, as in Nomad.
    """
    facts = empty_facts(min_version)
    warnings = []

    facts['stage1_images'] = list_stage1_images(stage1_dir)
    facts['isolation'] = read_isolation(fs_root)

    if euid is None:
        euid = os.geteuid()
    if euid != 0:
        _set_not_detected(
            facts, REASON_NOT_ROOT,
            'Nomad enables the rkt driver only for a client running as root, and this module runs as user ID %d; '
            'run it with become: true' % euid)

    info = None
    try:
        facts['path'] = cli.find()
        # NOTE: run_command has no timeout, so an rkt that hangs blocks the module,
        # as it blocks Nomad's fingerprint.
        result = cli.run(['version'], check=True)
    except RktNotFoundError as error:
        _set_not_detected(facts, REASON_NOT_FOUND, error.message)
    except RktCommandError as error:
        _set_not_detected(facts, REASON_EXEC_FAILED, error.message)
    else:
        info = parse_version_output(result.stdout)
        if info is None:
            facts['unparsable_output'] = first_line(result.stdout)
            _set_not_detected(
                facts, REASON_UNPARSABLE,
                'the output of %s version contains no "rkt Version:" and "appc Version:" lines; first line: %r'
                % (facts['path'], facts['unparsable_output']))

    if info is not None:
        facts['version'] = info.version
        facts['appc_version'] = info.appc_version
        facts['go_version'] = info.go_version
        facts['go_os_arch'] = info.go_os_arch
        facts['features'] = list(info.features)
        facts['meets_min_version'] = is_at_least(info.version, min_version)

    if facts['reason'] is None:
        facts['detected'] = True
        facts['attributes'] = {
            ATTRIBUTE_DRIVER: '1' if facts['meets_min_version'] else '0',
            ATTRIBUTE_VERSION: info.version,
            ATTRIBUTE_APPC_VERSION: info.appc_version,
        }
        if not facts['meets_min_version']:
            warnings.append(too_old_warning(info.version, min_version))

    return facts, warnings
