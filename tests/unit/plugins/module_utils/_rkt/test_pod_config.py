# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import pod_config
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.pod_config import (
    ConfigError,
    Volume,
    config_diff,
    config_from_annotations,
)
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.run_argv import build_run_argv
from ansible_collections.nomad_drivers.rkt.tests.unit.plugins.module_utils._rkt.pod_configs import build


# Normalisers ----------------------------------------------------------------

@pytest.mark.parametrize('name', ['web', 'web-1', 'a', 'x' * 63])
def test_name_valid(name):
    assert pod_config.validate_name(name) == name


@pytest.mark.parametrize('name', ['Web', 'web_1', '-web', 'web-', '', 'a/b', '../x', 'x' * 64, 'web.1'])
def test_name_invalid(name):
    with pytest.raises(ConfigError) as error:
        pod_config.validate_name(name)
    assert repr(name) in str(error.value)


def test_env_sorted_strings():
    assert pod_config.normalize_env({'B': '2', 'A': 'x=y'}) == {'A': 'x=y', 'B': '2'}


@pytest.mark.parametrize('value, shown', [(True, 'boolean True'), (False, 'boolean False'), (1, 'number 1'), (1.1, 'number 1.1')])
def test_env_yaml_scalars_rejected(value, shown):
    with pytest.raises(ConfigError) as error:
        pod_config.normalize_env({'DEBUG': value})
    message = str(error.value)
    assert 'env value of DEBUG' in message
    assert shown in message
    assert 'quote ' in message


def test_env_number_message_warns_yaml_rewrote_it():
    # YAML reads 1.10 as 1.1, so the message must not suggest quoting "1.1".
    with pytest.raises(ConfigError) as error:
        pod_config.normalize_env({'VERSION': 1.1})
    message = str(error.value)
    assert 'quote the value exactly as you wrote it' in message
    assert '"1.1"' not in message


@pytest.mark.parametrize('key', ['1X', 'A-B', '', 'A=B'])
def test_env_bad_name_rejected(key):
    with pytest.raises(ConfigError):
        pod_config.normalize_env({key: 'v'})


@pytest.mark.parametrize('servers', [['8.8.8.8'], ['8.8.8.8', '2001:db8::1'], ['host'], ['none'], []])
def test_dns_valid(servers):
    assert pod_config.normalize_dns_servers(servers) == servers


@pytest.mark.parametrize('servers, fragment', [
    (['host', '8.8.8.8'], 'mixes "host"'),
    (['dns.example.com'], 'not an IP address'),
    (['none', 'host'], 'mixes'),
])
def test_dns_invalid(servers, fragment):
    with pytest.raises(ConfigError) as error:
        pod_config.normalize_dns_servers(servers)
    assert fragment in str(error.value)


def test_port_map_normalised():
    assert pod_config.normalize_port_map({'http': '8080', 'admin': 9000}, []) == {'admin': 9000, 'http': 8080}


@pytest.mark.parametrize('port_map, fragment', [
    ({'http': 0}, 'not a port number'),
    ({'http': 70000}, 'not a port number'),
    ({'http': 'eighty'}, 'not a port number'),
    ({'http': True}, 'boolean'),
    ({'HTTP': 80}, 'not a port name'),
])
def test_port_map_invalid(port_map, fragment):
    with pytest.raises(ConfigError) as error:
        pod_config.normalize_port_map(port_map, [])
    assert fragment in str(error.value)


def test_port_map_with_host_network_rejected():
    with pytest.raises(ConfigError) as error:
        pod_config.normalize_port_map({'http': 80}, ['host'])
    assert 'net: [host]' in str(error.value)


def test_volumes_parsed():
    assert pod_config.normalize_volumes(['/srv/a:/a', '/srv/b:/b:readOnly']) == [
        Volume('/srv/a', '/a', False), Volume('/srv/b', '/b', True)]


@pytest.mark.parametrize('entry, fragment', [
    ('/srv/a', 'is invalid'),
    ('/srv/a:/a:ro', 'is invalid'),
    ('srv/a:/a', 'relative path'),
    ('/srv/a:a', 'relative path'),
    ('/srv/a,b:/a', 'comma'),
    ('/a:/b:readOnly:x', 'is invalid'),
])
def test_volumes_invalid(entry, fragment):
    with pytest.raises(ConfigError) as error:
        pod_config.normalize_volumes([entry])
    assert fragment in str(error.value)


@pytest.mark.parametrize('stage1, expected', [
    ('/usr/lib/rkt/stage1-images/stage1-host.aci', ('--stage1-path', '/usr/lib/rkt/stage1-images/stage1-host.aci')),
    ('https://example.com/stage1.aci', ('--stage1-url', 'https://example.com/stage1.aci')),
    ('stage1-host.aci', ('--stage1-from-dir', 'stage1-host.aci')),
    ('coreos.com/rkt/stage1-host:1.30.0', ('--stage1-name', 'coreos.com/rkt/stage1-host:1.30.0')),
    (None, None),
])
def test_stage1_flag(stage1, expected):
    assert pod_config.normalize_stage1(stage1) == expected


def test_labels_reserved_prefix_rejected():
    with pytest.raises(ConfigError) as error:
        pod_config.normalize_string_map('annotations', {'nomad_drivers.rkt/name': 'x'})
    assert 'reserves' in str(error.value)


def test_insecure_default_warns_and_uses_image():
    options, warning = pod_config.effective_insecure_options(None, None)
    assert options == ['image']
    assert 'without signature verification' in warning


def test_insecure_with_trust_prefix_verifies():
    assert pod_config.effective_insecure_options(None, 'example.com/hello') == ([], None)


def test_insecure_none_enforces_verification():
    assert pod_config.effective_insecure_options(['none'], None) == (['none'], None)


def test_insecure_unknown_rejected():
    with pytest.raises(ConfigError):
        pod_config.effective_insecure_options(['bogus'], None)


# Interpolation in from_params ------------------------------------------------

def test_args_interpolated():
    config, dummy = build(args=['--home=$HOME', '--dc=${meta.dc}', '--node=${node.unique.name}', '--v=${attr.driver.rkt.version}', '$$5'],
                          env={'X': '1'})
    assert config.args == ['--home=/root', '--dc=eu1', '--node=node-1', '--v=1.30.0', '$5']


def test_args_unknown_reference_names_it():
    with pytest.raises(ConfigError) as error:
        build(args=['${NOPE}'])
    assert '${NOPE}' in str(error.value)


def test_args_triple_dash_rejected():
    with pytest.raises(ConfigError) as error:
        build(args=['---'])
    assert '---' in str(error.value)


def test_image_with_space_rejected():
    with pytest.raises(ConfigError):
        build(image='example.com/a b')


# Hash and diff ---------------------------------------------------------------

def test_hash_stable_for_equivalent_input():
    first, dummy = build(cpu=500, memory=1000, env={'B': '2', 'A': '1'})
    second, dummy = build(cpu='0.5', memory='1G', env={'A': '1', 'B': '2'})
    assert first.config_hash() == second.config_hash()
    assert len(first.config_hash()) == 64


@pytest.mark.parametrize('change', [
    dict(image='example.com/hello:0.0.2'), dict(command='/bin/other'), dict(args=['x']), dict(env={'A': '1'}),
    dict(cpu=250), dict(memory=128), dict(dns_servers=['8.8.8.8']), dict(dns_search_domains=['example.com']),
    dict(net=['host']), dict(port_map={'http': 80}), dict(volumes=['/a:/b']), dict(hostname='h1'), dict(user='1000'),
    dict(group='100'), dict(labels={'l': 'v'}), dict(annotations={'a': 'v'}), dict(debug=True), dict(no_overlay=True),
    dict(stage1='stage1-host.aci'), dict(insecure_options=['image', 'ondisk']),
])
def test_hash_changes_for_each_parameter(change):
    base, dummy = build()
    changed, dummy = build(**change)
    assert base.config_hash() != changed.config_hash()


def test_annotations_round_trip():
    config, dummy = build(cpu=500)
    annotations = config.pod_annotations()
    assert annotations['nomad_drivers.rkt/name'] == 'web'
    assert config_from_annotations(annotations) == config.to_dict()
    assert annotations['nomad_drivers.rkt/config-sha256'] == config.config_hash()


def test_config_rebuilt_from_recorded_dict():
    config, dummy = build(cpu=500, volumes=['/srv/a:/a:readOnly'], stage1='stage1-fly.aci', port_map={'http': 8080},
                          net=['default'], env={'A': '1'})
    recorded = config_from_annotations(config.pod_annotations())

    rebuilt = pod_config.PodConfig.from_dict(recorded)

    assert rebuilt.config_hash() == config.config_hash()
    assert rebuilt.volumes == [Volume('/srv/a', '/a', True)]
    assert build_run_argv([], rebuilt, '/state/web.uuid') == build_run_argv([], config, '/state/web.uuid')


@pytest.mark.parametrize('annotations', [{}, None, {'nomad_drivers.rkt/config': 'not json'}, {'nomad_drivers.rkt/config': '[1]'}])
def test_annotations_missing_or_broken(annotations):
    assert config_from_annotations(annotations) is None


def test_diff_only_changed_keys():
    diff = config_diff({'cpu': '500m', 'image': 'a', 'env': {}}, {'cpu': '250m', 'image': 'a', 'env': {}, 'net': ['host']})
    assert diff == {'before': {'cpu': '500m'}, 'after': {'cpu': '250m', 'net': ['host']}}


def test_diff_no_pod_before():
    diff = config_diff(None, {'cpu': '500m'})
    assert diff == {'before': {}, 'after': {'cpu': '500m'}}
