# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ``rkt run`` argv of a pod configuration, and the rkt versions its options need.

Private module: not part of the collection's public API.

Only runs that start a pod, or check in check mode that they could, need this
module. actions.py imports it, and task_manager imports actions only on those
runs, so a no-op run does not compile it (docs/performance.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.pod_config import ConfigError
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.version import require_version

# The rkt release that introduced each option the module passes. NOTE: these
# versions come from memory of rkt's changelog, not from a recorded run; only
# 1.30.0 supporting all of them is recorded. Nomad's rkt driver states that
# the CPU and memory isolators arrived in rkt 0.14.0.
OPTION_MIN_VERSIONS = {
    '--insecure-options': '0.12.0',
    '--cpu': '0.14.0',
    '--memory': '0.14.0',
    '--uuid-file-save': '0.14.0',
    '--exec': '0.8.0',
    '--set-env': '0.8.0',
    '--net': '0.8.0',
    '--port': '0.8.0',
    '--volume': '0.8.0',
    '--mount': '0.8.0',
    '--no-overlay': '0.8.0',
    '--dns': '0.14.0',
    '--dns-search': '0.14.0',
    '--stage1-path': '1.0.0',
    '--stage1-name': '1.0.0',
    '--stage1-url': '1.0.0',
    '--stage1-from-dir': '1.0.0',
    '--hostname': '1.3.0',
    '--user': '1.1.0',
    '--group': '1.1.0',
    '--name': '1.16.0',
    '--user-annotation': '1.17.0',
    '--user-label': '1.17.0',
    'fetch --pull-policy': '1.25.0',
}


# Options every rkt run of the module passes, whatever the parameters.
ALWAYS_USED_OPTIONS = ('--uuid-file-save', '--name', '--user-annotation')


def used_options(config):
    """Return the rkt options that a run of config passes, for the version gates."""
    options = ['--uuid-file-save', '--name']
    checks = (
        (config.insecure_options, '--insecure-options'),
        (config.command, '--exec'),
        (config.env, '--set-env'),
        (config.net, '--net'),
        (config.port_map, '--port'),
        (config.volumes, '--volume'),
        (config.volumes, '--mount'),
        (config.no_overlay, '--no-overlay'),
        (config.dns_servers, '--dns'),
        (config.dns_search_domains, '--dns-search'),
        (config.hostname, '--hostname'),
        (config.user, '--user'),
        (config.group, '--group'),
        (config.labels, '--user-label'),
        (config.cpu, '--cpu'),
        (config.memory, '--memory'),
    )
    for value, option in checks:
        if value:
            options.append(option)
    if config.stage1:
        options.append(config.stage1[0])
    # The module always records its own annotations.
    options.append('--user-annotation')
    return options


def check_version_gates(config, rkt_version, extra_options=()):
    """Raise ConfigError naming the first option that rkt_version does not support."""
    for option in used_options(config) + list(extra_options):
        needed = OPTION_MIN_VERSIONS[option]
        message = require_version(rkt_version, needed, option)
        if message is None:
            continue
        if option in ALWAYS_USED_OPTIONS:
            message = ('rkt_task needs rkt %s or later, because it passes %s to find its pod again, but the rkt found is %s; '
                       'upgrade rkt' % (needed, option, rkt_version))
        raise ConfigError(message)


def build_run_argv(global_args, config, uuid_file, image_ref=None):
    """Return the ``rkt run`` arguments after the executable.

    ``global_args`` are rkt's global flags (data dir); the config adds
    ``--insecure-options`` and ``--debug``. Pod flags come before the image and
    the app flags after it, because rkt rejects app flags before an image
    (``--name must follow an image``). ``image_ref`` replaces the image, for
    example with the image ID that ``rkt fetch`` printed.
    """
    argv = list(global_args)
    if config.insecure_options:
        argv.append('--insecure-options=%s' % ','.join(config.insecure_options))
    if config.debug:
        argv.append('--debug')
    argv.append('run')

    argv.append('--uuid-file-save=%s' % uuid_file)
    if config.no_overlay:
        argv.append('--no-overlay')
    if config.stage1:
        argv.append('%s=%s' % tuple(config.stage1))
    if config.net:
        argv.append('--net=%s' % ','.join(config.net))
    for server in config.dns_servers:
        argv.append('--dns=%s' % server)
    for domain in config.dns_search_domains:
        argv.append('--dns-search=%s' % domain)
    if config.hostname:
        argv.append('--hostname=%s' % config.hostname)
    for key in sorted(config.env):
        argv.append('--set-env=%s=%s' % (key, config.env[key]))
    for index, volume in enumerate(config.volumes):
        volume_name = 'volume-%d' % index
        spec = '%s,kind=host,source=%s' % (volume_name, volume.source)
        if volume.read_only:
            spec += ',readOnly=true'
        argv.extend(['--volume', spec, '--mount', 'volume=%s,target=%s' % (volume_name, volume.target)])
    for port_name in sorted(config.port_map):
        argv.append('--port=%s:%d' % (port_name, config.port_map[port_name]))

    argv.append(image_ref or config.image)

    argv.append('--name=%s' % config.name)
    if config.command:
        argv.append('--exec=%s' % config.command)
    if config.user:
        argv.append('--user=%s' % config.user)
    if config.group:
        argv.append('--group=%s' % config.group)
    if config.cpu:
        argv.append('--cpu=%s' % config.cpu)
    if config.memory:
        argv.append('--memory=%s' % config.memory)
    annotations = dict(config.annotations)
    annotations.update(config.pod_annotations())
    for key in sorted(annotations):
        argv.append('--user-annotation=%s=%s' % (key, annotations[key]))
    for key in sorted(config.labels):
        argv.append('--user-label=%s=%s' % (key, config.labels[key]))

    if config.args:
        argv.append('--')
        argv.extend(config.args)
    return argv
