# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Typed pods from ``rkt list --format=json``, ``rkt status`` and ``rkt cat-manifest``.

Private module: not part of the collection's public API.

Formats as rkt 1.30.0 prints them:

- ``rkt list --format=json`` prints one JSON array of pods, or the literal
  ``null`` when there are no pods. A pod has ``name`` (the full UUID),
  ``state``, ``app_names``, ``apps`` (``name``, ``state``, ``created_at``,
  ``started_at``, ``exit_code``, ``image_id``), ``created_at`` and
  ``started_at``. Pod times are Unix seconds, app times Unix nanoseconds;
  ``started_at`` and ``exit_code`` are left out when unknown, and pods run with
  the fly stage1 never have an ``exit_code``. The list carries no annotations.
- ``rkt status UUID`` prints ``key=value`` lines (``state``, ``created``,
  ``started``, ``networks``, ``pid``, ``exited`` and ``app-<name>=<exit code>``),
  each only when known.
- ``rkt cat-manifest UUID`` prints the pod manifest as JSON; user annotations
  are in ``apps[].app.userAnnotations``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from collections import namedtuple

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.pod_config import ANNOTATION_NAME

STATE_RUNNING = 'running'
STATE_EXITED = 'exited'
STATE_PREPARED = 'prepared'

AppStatus = namedtuple('AppStatus', ['name', 'state', 'image_id', 'exit_code', 'created_at', 'started_at'])
PodSummary = namedtuple('PodSummary', ['uuid', 'state', 'app_names', 'apps', 'created_at', 'started_at'])
PodStatus = namedtuple('PodStatus', ['state', 'pid', 'exited', 'app_exit_codes', 'fields'])
ManifestApp = namedtuple('ManifestApp', ['name', 'image_name', 'image_id', 'image_labels', 'exec_args', 'user', 'group',
                                         'isolators', 'user_annotations', 'user_labels'])
PodManifest = namedtuple('PodManifest', ['apps', 'volumes', 'annotations'])


class PodOutputError(ValueError):
    """rkt printed something the module can not read; the message quotes it."""


def _load_json(text, command):
    try:
        return json.loads(text)
    except ValueError as error:
        raise PodOutputError('the output of %s is not JSON (%s): %r' % (command, error, text[:200]))


def _pod_from_json(item):
    if not isinstance(item, dict) or 'name' not in item:
        raise PodOutputError('a pod in the output of rkt list --format=json has no name: %r' % (item,))
    apps = []
    for app in item.get('apps') or []:
        apps.append(AppStatus(
            name=app.get('name'),
            state=app.get('state'),
            image_id=app.get('image_id'),
            exit_code=app.get('exit_code'),
            created_at=app.get('created_at'),
            started_at=app.get('started_at'),
        ))
    return PodSummary(
        uuid=item['name'],
        state=item.get('state'),
        app_names=list(item.get('app_names') or []),
        apps=apps,
        created_at=item.get('created_at'),
        started_at=item.get('started_at'),
    )


def parse_pod_list(text):
    """Parse ``rkt list --format=json`` into a list of PodSummary; ``null`` is an empty list."""
    data = _load_json(text.strip() or 'null', 'rkt list --format=json')
    if data is None:
        return []
    if not isinstance(data, list):
        raise PodOutputError('rkt list --format=json printed %s instead of a list of pods' % type(data).__name__)
    return [_pod_from_json(item) for item in data]


def parse_status(text):
    """Parse the ``key=value`` lines of ``rkt status`` into a PodStatus."""
    fields = {}
    app_exit_codes = {}
    for line in text.splitlines():
        if '=' not in line:
            continue
        key, value = line.split('=', 1)
        key = key.strip()
        if key.startswith('app-'):
            try:
                app_exit_codes[key[len('app-'):]] = int(value)
            except ValueError:
                pass
            continue
        fields[key] = value.strip()

    pid = None
    if fields.get('pid', '').isdigit():
        pid = int(fields['pid'])
    exited = None
    if 'exited' in fields:
        exited = fields['exited'] == 'true'
    return PodStatus(state=fields.get('state'), pid=pid, exited=exited, app_exit_codes=app_exit_codes, fields=fields)


def parse_manifest(text):
    """Parse ``rkt cat-manifest`` output into a PodManifest."""
    data = _load_json(text, 'rkt cat-manifest')
    if not isinstance(data, dict):
        raise PodOutputError('rkt cat-manifest printed %s instead of a pod manifest' % type(data).__name__)

    apps = []
    for item in data.get('apps') or []:
        image = item.get('image') or {}
        app = item.get('app') or {}
        isolators = {}
        for isolator in app.get('isolators') or []:
            value = isolator.get('value') or {}
            isolators[isolator.get('name')] = value.get('limit', value)
        apps.append(ManifestApp(
            name=item.get('name'),
            image_name=image.get('name'),
            image_id=image.get('id'),
            image_labels=dict((label.get('name'), label.get('value')) for label in image.get('labels') or []),
            exec_args=list(app.get('exec') or []),
            user=app.get('user'),
            group=app.get('group'),
            isolators=isolators,
            user_annotations=dict(app.get('userAnnotations') or {}),
            user_labels=dict(app.get('userLabels') or {}),
        ))
    annotations = dict((item.get('name'), item.get('value')) for item in data.get('annotations') or [])
    return PodManifest(apps=apps, volumes=list(data.get('volumes') or []), annotations=annotations)


def candidate_pods(pods, name):
    """Return the pods whose only app is named ``name``, newest first.

    The module names the app after the pod, so these are the pods it may have
    started; their manifest annotations confirm it (see owned_app).
    """
    matches = [pod for pod in pods if pod.app_names == [name]]
    return sorted(matches, key=lambda pod: pod.created_at or 0, reverse=True)


def find_pod(pods, uuid):
    """Return the PodSummary with this UUID, or None."""
    for pod in pods:
        if pod.uuid == uuid:
            return pod
    return None


def owned_app(manifest, name):
    """Return the manifest's app that this module started for ``name``, or None."""
    for app in manifest.apps:
        if app.user_annotations.get(ANNOTATION_NAME) == name:
            return app
    return None


def pod_result(uuid, summary=None, manifest=None, status=None):
    """Return the ``pod`` return value: uuid, state, app name, image, pid, exit code and isolators.

    Each source may be None; a value that no source provides is None (``pid`` is
    only known from ``rkt status``, ``isolators`` only from the manifest).
    """
    app_status = summary.apps[0] if summary and summary.apps else None
    manifest_app = manifest.apps[0] if manifest and manifest.apps else None

    state = status.state if status and status.state else (summary.state if summary else None)
    app_name = manifest_app.name if manifest_app else (app_status.name if app_status else None)
    image_id = (manifest_app.image_id if manifest_app else None) or (app_status.image_id if app_status else None)
    exit_code = app_status.exit_code if app_status else None
    if exit_code is None and status and app_name in status.app_exit_codes:
        exit_code = status.app_exit_codes[app_name]

    return dict(
        uuid=uuid,
        state=state,
        app_name=app_name,
        image_name=manifest_app.image_name if manifest_app else None,
        image_id=image_id,
        pid=status.pid if status else None,
        exit_code=exit_code,
        isolators=dict(manifest_app.isolators) if manifest_app else {},
    )
