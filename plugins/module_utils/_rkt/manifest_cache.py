# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A copy of the pod manifest of the pod named in the UUID file, so a no-op run needs one rkt call.

Private module: not part of the collection's public API.

rkt writes a pod's manifest once, when ``rkt run`` prepares the pod, and
``rkt cat-manifest UUID`` prints that file. Pods started with ``rkt run``
never change it afterwards (only the experimental ``rkt app add`` of app
sandboxes rewrites a pod manifest, and the module does not use it). So the
module keeps the text that ``rkt cat-manifest`` printed in
``<state_dir>/<name>.manifest.json``, together with the pod UUID. When the
UUID file names the same pod, the copy replaces the ``rkt cat-manifest``
call, and a run that changes nothing only runs ``rkt list --format=json``.

The copy is a cache, never the truth: a missing, unreadable or foreign file
(another UUID, not JSON) is ignored and ``rkt cat-manifest`` runs instead.

NOTE: the recorded transcript does not show that the manifest of a ``rkt
run`` pod never changes. This follows from rkt's documentation: stage0
writes the manifest before the pod starts, and only the ``rkt app``
commands change a pod after it is created.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import tempfile


def cache_file_path(state_dir, name):
    """Return the path of the manifest copy for the pod name."""
    return os.path.join(state_dir, '%s.manifest.json' % name)


def load(path, uuid):
    """Return the manifest text saved for uuid, or None when the file is missing, unreadable or for another pod."""
    try:
        with open(path) as cache_file:
            record = json.load(cache_file)
    except (IOError, OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get('uuid') != uuid:
        return None
    manifest_text = record.get('manifest')
    if not isinstance(manifest_text, str) or not manifest_text.strip():
        return None
    return manifest_text


def save(path, uuid, manifest_text):
    """Write the manifest text of pod uuid, readable by the owner only, replacing the file in one step.

    The manifest contains the pod's environment, which may carry secrets, hence mode 0600.
    """
    directory = os.path.dirname(path) or '.'
    descriptor, temporary_path = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(descriptor, 'w') as temporary_file:
            json.dump(dict(uuid=uuid, manifest=manifest_text), temporary_file)
        os.rename(temporary_path, path)
    except Exception:
        try:
            os.unlink(temporary_path)
        except OSError:
            pass
        raise
