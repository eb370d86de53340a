# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The desired pod configuration of rkt_task: normalised values, hash and diff.

Private module: not part of the collection's public API.

Every parameter that shapes the pod is normalised once into a PodConfig. Two
configurations are equal exactly when their canonical JSON (``to_dict``) is
equal, and that JSON and its SHA-256 are stored on the pod as user annotations
of the app, so the next run can compare without side files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re
from collections import namedtuple

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.quantity import (
    QuantityError,
    normalize_cpu,
    normalize_memory,
)

# User annotations the module puts on the app. rkt stores them in the pod
# manifest under apps[].app.userAnnotations.
ANNOTATION_PREFIX = 'nomad_drivers.rkt/'
ANNOTATION_NAME = ANNOTATION_PREFIX + 'name'
ANNOTATION_CONFIG = ANNOTATION_PREFIX + 'config'
ANNOTATION_CONFIG_HASH = ANNOTATION_PREFIX + 'config-sha256'

# A pod name becomes the app name (an appc AC name), a file name and part of a
# systemd unit name, so it is limited to what all three accept.
NAME_PATTERN = re.compile(r'^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$')
PORT_NAME_PATTERN = re.compile(r'^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$')
ENV_NAME_PATTERN = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')

INSECURE_OPTION_VALUES = (
    'none', 'image', 'tls', 'ondisk', 'http', 'pubkey', 'capabilities', 'paths', 'seccomp',
    'all-fetch', 'all-run', 'all',
)


class ConfigError(ValueError):
    """Invalid parameter; the message names the value and the fix."""


Volume = namedtuple('Volume', ['source', 'target', 'read_only'])


class PodConfig(object):
    """The normalised pod configuration. Build it with from_params()."""

    FIELDS = (
        'name', 'image', 'command', 'args', 'env', 'dns_servers', 'dns_search_domains', 'net',
        'port_map', 'volumes', 'hostname', 'user', 'group', 'labels', 'annotations', 'debug',
        'no_overlay', 'stage1', 'insecure_options', 'cpu', 'memory', 'supervisor',
    )

    def __init__(self, **values):
        for field in self.FIELDS:
            setattr(self, field, values.get(field))

    def to_dict(self):
        """Return the configuration as plain JSON-ready values (volumes as dicts)."""
        result = {}
        for field in self.FIELDS:
            value = getattr(self, field)
            if field == 'volumes':
                value = [dict(source=v.source, target=v.target, read_only=v.read_only) for v in value]
            elif isinstance(value, tuple):
                value = list(value)
            result[field] = value
        return result

    @classmethod
    def from_dict(cls, values):
        """Return the configuration that to_dict() returned, as recorded in a pod's annotations."""
        values = dict(values)
        values['volumes'] = [Volume(volume['source'], volume['target'], volume['read_only']) for volume in values.get('volumes') or []]
        if values.get('stage1'):
            values['stage1'] = tuple(values['stage1'])
        return cls(**values)

    def canonical_json(self):
        """Return the compact JSON with sorted keys that the hash is computed from."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(',', ':'))

    def config_hash(self):
        """Return the SHA-256 hex digest of canonical_json()."""
        return hashlib.sha256(self.canonical_json().encode('utf-8')).hexdigest()

    def pod_annotations(self):
        """Return the user annotations that identify the pod and record this configuration."""
        return {
            ANNOTATION_NAME: self.name,
            ANNOTATION_CONFIG: self.canonical_json(),
            ANNOTATION_CONFIG_HASH: self.config_hash(),
        }


def _require_string(name, value, hint):
    if isinstance(value, bool):
        raise ConfigError('%s is the YAML boolean %r, not a string; quote it, for example "%s"%s'
                          % (name, value, str(value).lower(), hint))
    if isinstance(value, (int, float)):
        # YAML has already rewritten the number (1.10 became 1.1, 010 became 8), so the
        # message cannot show what the user typed.
        raise ConfigError('%s is the YAML number %r, not a string; quote the value exactly as you wrote it, '
                          'because YAML changes numbers such as 1.10 (read as 1.1)%s' % (name, value, hint))
    if not isinstance(value, str):
        raise ConfigError('%s must be a string, got %r' % (name, value))
    return value


def validate_name(name):
    """Check a pod name; it becomes the app name, a file name and part of a systemd unit name."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfigError('name %r is invalid; use 1 to 63 lower-case letters, digits and dashes, starting and '
                          'ending with a letter or digit, for example "web-1"' % (name,))
    return name


def normalize_env(env):
    """Return env as a dict of str to str; reject values that YAML did not read as strings."""
    result = {}
    for key, value in sorted((env or {}).items()):
        if not isinstance(key, str) or not ENV_NAME_PATTERN.match(key):
            raise ConfigError('env name %r is invalid; use letters, digits and underscores, not starting with a digit' % (key,))
        result[key] = _require_string('env value of %s' % key, value, ', so that rkt receives exactly that text')
    return result


def normalize_string_map(parameter, mapping):
    """Return labels or annotations as a dict of str to str."""
    result = {}
    for key, value in sorted((mapping or {}).items()):
        if not isinstance(key, str) or not key or '=' in key:
            raise ConfigError('%s key %r is invalid; use a non-empty string without "="' % (parameter, key))
        if key.startswith(ANNOTATION_PREFIX):
            raise ConfigError('%s key %r uses the prefix %s, which this module reserves for its own annotations; '
                              'choose another key' % (parameter, key, ANNOTATION_PREFIX))
        result[key] = _require_string('%s value of %s' % (parameter, key), value, '')
    return result


def normalize_dns_servers(servers):
    """Return the DNS servers: IP addresses, or a single ``host`` or ``none``."""
    servers = list(servers or [])
    special = [server for server in servers if server in ('host', 'none')]
    if special:
        if len(servers) != 1:
            raise ConfigError('dns_servers %r mixes "%s" with other entries; use ["%s"] alone, or only IP addresses'
                              % (servers, special[0], special[0]))
        return servers
    if not servers:
        return servers

    # Imported here because its import took about 10 ms per rkt_task run (python -X
    # importtime, see docs/performance.md), and most tasks set no dns_servers.
    import ipaddress

    for server in servers:
        try:
            ipaddress.ip_address(server)
        except ValueError:
            raise ConfigError('dns_servers entry %r is not an IP address; use IP addresses such as "8.8.8.8", or ["host"] '
                              'or ["none"]' % (server,))
    return servers


def normalize_port_map(port_map, net):
    """Return port_map as a dict of image port name to host port number."""
    result = {}
    for port_name, host_port in sorted((port_map or {}).items()):
        if not isinstance(port_name, str) or not PORT_NAME_PATTERN.match(port_name):
            raise ConfigError('port_map key %r is not a port name; use the name of a port declared in the image, '
                              'for example "http"' % (port_name,))
        if isinstance(host_port, bool):
            raise ConfigError('port_map value for %s is a boolean; use a port number from 1 to 65535' % port_name)
        try:
            number = int(host_port)
        except (TypeError, ValueError):
            raise ConfigError('port_map value %r for %s is not a port number; use a number from 1 to 65535' % (host_port, port_name))
        if str(number) != str(host_port).strip() or not 1 <= number <= 65535:
            raise ConfigError('port_map value %r for %s is not a port number; use a number from 1 to 65535' % (host_port, port_name))
        result[port_name] = number
    if result and 'host' in (net or []):
        raise ConfigError('port_map cannot be used with net: [host], because rkt rejects --port with host networking; '
                          'remove port_map or use another network')
    return result


def normalize_volumes(volumes):
    """Parse ``host_path:container_path[:readOnly]`` strings into Volume tuples."""
    result = []
    for text in volumes or []:
        text = _require_string('volumes entry', text, '')
        parts = text.split(':')
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] != 'readOnly'):
            raise ConfigError('volumes entry "%s" is invalid; use "host_path:container_path" or '
                              '"host_path:container_path:readOnly"' % text)
        source, target = parts[0], parts[1]
        for path in (source, target):
            if not path.startswith('/'):
                raise ConfigError('volumes entry "%s" contains the relative path "%s"; use absolute paths' % (text, path))
            if ',' in path:
                raise ConfigError('volumes entry "%s" contains a comma in "%s", which rkt\'s --volume syntax cannot '
                                  'carry; use a path without commas' % (text, path))
        result.append(Volume(source, target, len(parts) == 3))
    return result


def normalize_stage1(stage1):
    """Return (rkt flag, value) for the stage1 parameter, or None.

    An absolute path selects ``--stage1-path``, a URL ``--stage1-url``, a bare
    file name ending in ``.aci`` ``--stage1-from-dir`` (rkt's stage1 images
    directory), and anything else an image name (``--stage1-name``).
    """
    if not stage1:
        return None
    if stage1.startswith('/'):
        return ('--stage1-path', stage1)
    if re.match(r'^[a-z][a-z0-9+.-]*://', stage1):
        return ('--stage1-url', stage1)
    if '/' not in stage1 and stage1.endswith('.aci'):
        return ('--stage1-from-dir', stage1)
    return ('--stage1-name', stage1)


def effective_insecure_options(insecure_options, trust_prefix):
    """Return (options, warning) for --insecure-options.

    Without trust_prefix and insecure_options the image runs without signature
    verification, as in Nomad; Nomad passes ``all`` there, which in rkt 1.x also
    disables seccomp, capabilities and path restrictions, so only ``image`` is
    passed here.
    """
    options = list(insecure_options or [])
    for option in options:
        if option not in INSECURE_OPTION_VALUES:
            raise ConfigError('insecure_options entry %r is unknown; use one of %s' % (option, ', '.join(INSECURE_OPTION_VALUES)))
    if options:
        return sorted(set(options)), None
    if trust_prefix:
        return [], None
    return ['image'], ('the image runs without signature verification (--insecure-options=image), as with Nomad when '
                       'no trust_prefix is set; set trust_prefix to verify it, or insecure_options: [none] to require '
                       'a trusted signature')


def interpolate_all(parameter, texts, make_context):
    """Return texts with their references replaced; make_context() gives the InterpolationContext.

    A text without "$" contains no reference, and most tasks have none, so only a
    text with one imports the interpolation module and makes the context: every
    imported module_utils file costs compile time on each run (docs/performance.md).
    """
    result = []
    for text in texts:
        text = _require_string('%s entry' % parameter, text, '')
        if '$' not in text:
            result.append(text)
            continue

        from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.interpolation import InterpolationError, interpolate

        try:
            result.append(interpolate(text, make_context()))
        except InterpolationError as error:
            raise ConfigError('%s entry "%s": %s' % (parameter, text, error))
    return result


def from_params(params, make_context, supervisor):
    """Build (PodConfig, warnings) from the module parameters.

    ``make_context`` returns the InterpolationContext for ``command`` and ``args``;
    ``supervisor`` is the resolved supervisor (``systemd``, ``none``) or
    ``foreground`` for ``state: exited``.
    """
    warnings = []
    name = validate_name(params['name'])

    image = params['image']
    if not image or any(character.isspace() for character in image):
        raise ConfigError('image %r is invalid; use a name such as "example.com/app:1.0", a sha512- hash, a path, '
                          'a URL or a docker:// reference' % (image,))

    command = None
    if params.get('command') is not None:
        command = interpolate_all('command', [params['command']], make_context)[0]

    args = interpolate_all('args', params.get('args') or [], make_context)
    for arg in args:
        # rkt reads "---" as the end of one app's arguments, so it can never reach the app.
        if arg == '---':
            raise ConfigError('args entry "---" cannot be passed, because rkt reads it as the end of the app\'s arguments')

    try:
        cpu = normalize_cpu(params.get('cpu'))
        memory = normalize_memory(params.get('memory'))
    except QuantityError as error:
        raise ConfigError(str(error))

    net = list(params.get('net') or [])
    for network in net:
        if not network or ',' in network:
            raise ConfigError('net entry %r is invalid; use a network name such as "default", "host" or "none"' % (network,))

    insecure_options, insecure_warning = effective_insecure_options(params.get('insecure_options'), params.get('trust_prefix'))
    if insecure_warning:
        warnings.append(insecure_warning)

    user = params.get('user')
    group = params.get('group')

    config = PodConfig(
        name=name,
        image=image,
        command=command,
        args=args,
        env=normalize_env(params.get('env')),
        dns_servers=normalize_dns_servers(params.get('dns_servers')),
        dns_search_domains=list(params.get('dns_search_domains') or []),
        net=net,
        port_map=normalize_port_map(params.get('port_map'), net),
        volumes=normalize_volumes(params.get('volumes')),
        hostname=params.get('hostname') or None,
        user=str(user) if user is not None else None,
        group=str(group) if group is not None else None,
        labels=normalize_string_map('labels', params.get('labels')),
        annotations=normalize_string_map('annotations', params.get('annotations')),
        debug=bool(params.get('debug')),
        no_overlay=bool(params.get('no_overlay')),
        stage1=normalize_stage1(params.get('stage1')),
        insecure_options=insecure_options,
        cpu=cpu,
        memory=memory,
        supervisor=supervisor,
    )
    return config, warnings


def config_from_annotations(user_annotations):
    """Return the configuration dict recorded on a pod, or None when the pod carries none or a broken one."""
    recorded = (user_annotations or {}).get(ANNOTATION_CONFIG)
    if not recorded:
        return None
    try:
        value = json.loads(recorded)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def config_diff(before, after):
    """Return Ansible's diff dict with only the keys whose values differ.

    ``before`` or ``after`` may be None (no pod before, or no pod after).
    """
    before = before or {}
    after = after or {}
    changed_keys = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
    return {
        'before': dict((key, before[key]) for key in changed_keys if key in before),
        'after': dict((key, after[key]) for key in changed_keys if key in after),
    }
