# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.pod_config import ConfigError
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.run_argv import (
    OPTION_MIN_VERSIONS,
    build_run_argv,
    check_version_gates,
    used_options,
)
from ansible_collections.nomad_drivers.rkt.tests.unit.plugins.module_utils._rkt.pod_configs import build

RECORDS_PATH = os.path.join(os.path.dirname(__file__), 'fixtures', 'rkt_1_30_0_records.json')


# Version gates ---------------------------------------------------------------

def test_gates_pass_on_1_30_0():
    config, dummy = build(cpu=500, memory=256, labels={'a': 'b'}, hostname='h', stage1='stage1-host.aci')
    check_version_gates(config, '1.30.0', ['fetch --pull-policy'])


def test_gate_names_option_and_versions():
    config, dummy = build()
    with pytest.raises(ConfigError) as error:
        check_version_gates(config, '1.20.0', ['fetch --pull-policy'])
    message = str(error.value)
    assert 'fetch --pull-policy' in message
    assert '1.25.0' in message
    assert '1.20.0' in message


def test_gate_for_options_the_module_always_uses():
    config, dummy = build()
    with pytest.raises(ConfigError) as error:
        check_version_gates(config, '1.2.0')
    message = str(error.value)
    assert message.startswith('rkt_task needs rkt 1.16.0 or later')
    assert '--name' in message
    assert '1.2.0' in message


def test_gate_for_every_used_option_exists():
    config, dummy = build(cpu=500, memory=256, env={'A': 'b'}, net=['host'], volumes=['/a:/b'], no_overlay=True,
                          dns_servers=['8.8.8.8'], dns_search_domains=['x'], hostname='h', user='1', group='1',
                          labels={'l': 'v'}, command='/bin/x', stage1='/s.aci')
    for option in used_options(config):
        assert option in OPTION_MIN_VERSIONS


# rkt run argv ------------------------------------------------------------------

def test_argv_minimal_layout():
    config, dummy = build(insecure_options=['image'])
    argv = build_run_argv(['--dir=/d'], config, '/state/web.uuid.new')
    image_index = argv.index('example.com/hello:0.0.1')
    assert argv[:4] == ['--dir=/d', '--insecure-options=image', 'run', '--uuid-file-save=/state/web.uuid.new']
    assert argv[image_index + 1] == '--name=web'
    annotation_flags = [item for item in argv if item.startswith('--user-annotation=')]
    assert [flag.split('=', 2)[1] for flag in annotation_flags] == [
        'nomad_drivers.rkt/config', 'nomad_drivers.rkt/config-sha256', 'nomad_drivers.rkt/name']
    assert '--' not in argv


def test_argv_pod_flags_before_image_app_flags_after():
    config, dummy = build(
        command='/bin/busybox', args=['sh', '-c', 'echo "a b"; $(id)'.replace('$(', '$$(')], env={'FOO': 'bar', 'A': 'b=c'},
        cpu=250, memory=128, dns_servers=['8.8.8.8'], dns_search_domains=['example.com'], net=['none'],
        port_map={'http': 8080}, volumes=['/srv/vol:/data:readOnly'], hostname='h1', user='0', group='0',
        labels={'tier': 'frontend'}, annotations={'team': 'ops'}, debug=True, no_overlay=True, stage1='stage1-host.aci',
        trust_prefix='example.com/hello')
    argv = build_run_argv([], config, '/s/web.uuid.new', image_ref='sha512-bac85d09b1acdd6a418603d26bffe452')
    image_index = argv.index('sha512-bac85d09b1acdd6a418603d26bffe452')
    before, after = argv[:image_index], argv[image_index + 1:]

    assert before == [
        '--debug', 'run', '--uuid-file-save=/s/web.uuid.new', '--no-overlay', '--stage1-from-dir=stage1-host.aci',
        '--net=none', '--dns=8.8.8.8', '--dns-search=example.com', '--hostname=h1', '--set-env=A=b=c', '--set-env=FOO=bar',
        '--volume', 'volume-0,kind=host,source=/srv/vol,readOnly=true', '--mount', 'volume=volume-0,target=/data',
        '--port=http:8080']
    assert after[:7] == ['--name=web', '--exec=/bin/busybox', '--user=0', '--group=0', '--cpu=250m', '--memory=128M',
                         '--user-annotation=nomad_drivers.rkt/config=' + config.canonical_json()]
    assert '--user-annotation=team=ops' in after
    assert '--user-label=tier=frontend' in after
    dash_index = after.index('--')
    assert after[dash_index + 1:] == ['sh', '-c', 'echo "a b"; $(id)']


def test_argv_args_are_separate_items():
    config, dummy = build(args=['a b', "it's", ';', '`id`'])
    argv = build_run_argv([], config, '/u')
    assert argv[-5:] == ['--', 'a b', "it's", ';', '`id`']


def flag_names(items):
    return set(item.split('=', 1)[0] for item in items if item.startswith('--'))


def split_at_image(argv, image):
    index = argv.index(image)
    end = argv.index('--') if '--' in argv else len(argv)
    return flag_names(argv[:index]), flag_names(argv[index + 1:end])


def test_argv_flag_placement_matches_recorded_rkt_run():
    with open(RECORDS_PATH) as handle:
        recorded = json.load(handle)['run-many-options-host']['argv']
    recorded_pod, recorded_app = split_at_image(recorded, 'example.com/hello-etc:0.0.1')

    config, dummy = build(volumes=['/srv/vol:/data:readOnly'], cpu=250, memory=128, env={'FOO': 'bar'}, hostname='h1',
                          dns_servers=['8.8.8.8'], dns_search_domains=['example.com'], net=['none'], user='0', group='0',
                          labels={'tier': 'frontend'}, annotations={'team': 'ops'}, command='/bin/busybox', args=['sh'],
                          stage1='/usr/lib/rkt/stage1-images/stage1-host.aci')
    ours = build_run_argv([], config, '/u')[1:]
    pod_flags, app_flags = split_at_image(ours, 'example.com/hello:0.0.1')

    assert pod_flags - {'--insecure-options'} == recorded_pod
    assert app_flags == recorded_app - {'--environment', '--annotation', '--working-dir'}
