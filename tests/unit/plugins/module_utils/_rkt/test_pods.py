# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import pods
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.pods import PodOutputError

RECORDS_PATH = os.path.join(os.path.dirname(__file__), 'fixtures', 'rkt_1_30_0_records.json')


def record(record_id):
    with open(RECORDS_PATH) as handle:
        return json.load(handle)[record_id]


def test_empty_list_is_null():
    assert record('list-empty-json')['stdout'].strip() == 'null'
    assert pods.parse_pod_list(record('list-empty-json')['stdout']) == []


def test_list_mixed():
    parsed = pods.parse_pod_list(record('list-mixed-json')['stdout'])
    assert len(parsed) == 8
    by_uuid = dict((pod.uuid, pod) for pod in parsed)

    running = by_uuid['01628001-48cd-4be2-be58-3f67b380b375']
    assert running.state == 'running'
    assert running.app_names == ['hello']
    assert running.apps[0].image_id.startswith('sha512-bac85d09')
    assert running.apps[0].exit_code is None

    host_exited = by_uuid['476f9e28-71f0-47a7-bae9-e4f0c7aadbd2']
    assert host_exited.state == 'exited'
    assert host_exited.apps[0].exit_code == 7

    prepared = by_uuid['456f4c17-a841-4ff4-bc48-57d493e4e117']
    assert prepared.state == 'prepared'
    assert prepared.apps[0].state == 'created'
    assert prepared.started_at is None


def test_list_exit_code_zero_kept():
    parsed = pods.parse_pod_list(record('list-running-host-started-json')['stdout'])
    assert [pod.apps[0].exit_code for pod in parsed if pod.uuid.startswith('4cf66d02')] == [0]


@pytest.mark.parametrize('text', ['not json', '{"name": "x"}', '[{"state": "running"}]'])
def test_list_garbage_rejected(text):
    with pytest.raises(PodOutputError):
        pods.parse_pod_list(text)


def test_status_running_fly():
    status = pods.parse_status(record('status-running-fly')['stdout'])
    assert status.state == 'running'
    assert status.pid == 3669
    assert status.exited is False
    assert status.app_exit_codes == {}


def test_status_exited_host_has_app_exit_code():
    status = pods.parse_status(record('status-exited-host')['stdout'])
    assert status.state == 'exited'
    assert status.exited is True
    assert status.app_exit_codes == {'hello': 7}


def test_status_prepared_has_no_pid():
    status = pods.parse_status(record('status-prepared')['stdout'])
    assert status.state == 'prepared'
    assert status.pid is None
    assert status.exited is None


def test_status_running_host_without_pid_yet():
    status = pods.parse_status(record('status-running-host')['stdout'])
    assert status.state == 'running'
    assert status.pid is None


def test_manifest_many_options():
    manifest = pods.parse_manifest(record('catman-many-options-host')['stdout'])
    app = manifest.apps[0]
    assert app.name == 'web'
    assert app.image_name == 'example.com/hello-etc'
    assert app.image_labels['version'] == '0.0.1'
    assert app.isolators == {'resource/memory': '128M', 'resource/cpu': '250m'}
    assert app.user_annotations == {'team': 'ops'}
    assert app.user_labels == {'tier': 'frontend'}
    assert manifest.volumes[0]['readOnly'] is True
    assert manifest.annotations == {'coreos.com/rkt/stage1/mutable': 'false'}


def test_manifest_minimal_has_no_isolators():
    manifest = pods.parse_manifest(record('catman-run-name-web')['stdout'])
    assert manifest.apps[0].isolators == {}
    assert manifest.apps[0].user_annotations == {}
    assert manifest.volumes == []


def test_owned_app_by_annotation():
    manifest = pods.parse_manifest(record('catman-many-options-host')['stdout'])
    assert pods.owned_app(manifest, 'web') is None
    data = json.loads(record('catman-many-options-host')['stdout'])
    data['apps'][0]['app']['userAnnotations']['nomad_drivers.rkt/name'] = 'web'
    assert pods.owned_app(pods.parse_manifest(json.dumps(data)), 'web').name == 'web'
    assert pods.owned_app(pods.parse_manifest(json.dumps(data)), 'other') is None


def test_candidates_by_app_name_newest_first():
    parsed = pods.parse_pod_list(record('list-mixed-json')['stdout'])
    candidates = pods.candidate_pods(parsed, 'hello')
    assert len(candidates) == 7
    assert [pod.created_at for pod in candidates] == sorted((pod.created_at for pod in candidates), reverse=True)
    assert pods.candidate_pods(parsed, 'web') == []


def test_pod_result_combines_sources():
    summary = pods.find_pod(pods.parse_pod_list(record('list-mixed-json')['stdout']), '01628001-48cd-4be2-be58-3f67b380b375')
    manifest = pods.parse_manifest(record('catman-run-cpu-250m-memory-128M')['stdout'])
    status = pods.parse_status(record('status-running-fly')['stdout'])
    result = pods.pod_result(summary.uuid, summary, manifest, status)
    assert result == dict(
        uuid='01628001-48cd-4be2-be58-3f67b380b375', state='running', app_name='hello', image_name='example.com/hello',
        image_id='sha512-bac85d09b1acdd6a418603d26bffe452d783d6c2990834bfed4cdae2b2224898', pid=3669, exit_code=None,
        isolators={'resource/memory': '128M', 'resource/cpu': '250m'})


def test_pod_result_exit_code_from_status():
    status = pods.parse_status(record('status-exited-host')['stdout'])
    manifest = pods.parse_manifest(record('catman-run-cpu-1')['stdout'])
    assert pods.pod_result('u', None, manifest, status)['exit_code'] == 7
