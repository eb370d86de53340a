# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import manifest_cache

POD_UUID = '01628001-48cd-4be2-be58-3f67b380b375'
OTHER_UUID = 'f2a6d6d0-2f0b-4c0e-9d53-7d0b4a3c1e11'
MANIFEST_TEXT = '{"acVersion":"1.30.0","acKind":"PodManifest","apps":[{"name":"web"}]}'


def test_cache_file_is_named_after_the_pod(tmp_path):
    assert manifest_cache.cache_file_path(str(tmp_path), 'web') == os.path.join(str(tmp_path), 'web.manifest.json')


def test_saved_manifest_loads_for_the_same_pod(tmp_path):
    path = manifest_cache.cache_file_path(str(tmp_path), 'web')
    manifest_cache.save(path, POD_UUID, MANIFEST_TEXT)

    assert manifest_cache.load(path, POD_UUID) == MANIFEST_TEXT


def test_save_writes_private_file_only(tmp_path):
    path = manifest_cache.cache_file_path(str(tmp_path), 'web')
    manifest_cache.save(path, POD_UUID, MANIFEST_TEXT)

    assert oct(os.stat(path).st_mode & 0o777) == '0o600'
    assert os.listdir(str(tmp_path)) == ['web.manifest.json']


def test_saving_replaces_the_copy_of_an_earlier_pod(tmp_path):
    path = manifest_cache.cache_file_path(str(tmp_path), 'web')
    manifest_cache.save(path, OTHER_UUID, '{"apps": []}')
    manifest_cache.save(path, POD_UUID, MANIFEST_TEXT)

    assert manifest_cache.load(path, OTHER_UUID) is None
    assert manifest_cache.load(path, POD_UUID) == MANIFEST_TEXT


def test_copy_of_another_pod_is_ignored(tmp_path):
    path = manifest_cache.cache_file_path(str(tmp_path), 'web')
    manifest_cache.save(path, OTHER_UUID, MANIFEST_TEXT)

    assert manifest_cache.load(path, POD_UUID) is None


def test_missing_copy_is_ignored(tmp_path):
    assert manifest_cache.load(manifest_cache.cache_file_path(str(tmp_path), 'web'), POD_UUID) is None


@pytest.mark.parametrize('content', [
    '{not json',
    '',
    '[]',
    json.dumps({'uuid': POD_UUID}),
    json.dumps({'uuid': POD_UUID, 'manifest': ''}),
    json.dumps({'uuid': POD_UUID, 'manifest': {'apps': []}}),
])
def test_damaged_copy_is_ignored(tmp_path, content):
    path = manifest_cache.cache_file_path(str(tmp_path), 'web')
    with open(path, 'w') as cache_file:
        cache_file.write(content)

    assert manifest_cache.load(path, POD_UUID) is None


def test_failed_save_keeps_old_copy(tmp_path, monkeypatch):
    path = manifest_cache.cache_file_path(str(tmp_path), 'web')
    manifest_cache.save(path, OTHER_UUID, MANIFEST_TEXT)

    def fail_rename(source, destination):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(manifest_cache.os, 'rename', fail_rename)
    with pytest.raises(OSError):
        manifest_cache.save(path, POD_UUID, MANIFEST_TEXT)

    assert manifest_cache.load(path, OTHER_UUID) == MANIFEST_TEXT
    assert os.listdir(str(tmp_path)) == ['web.manifest.json']
