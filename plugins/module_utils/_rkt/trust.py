# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""rkt's trusted-key store, trust decisions and the ``rkt trust`` argv.

Private module: not part of the collection's public API.

rkt 1.30.0 stores a key trusted for a prefix as
``<local-config>/trustedkeys/prefix.d/<prefix>/<fingerprint>`` (40 lower-case hex
digits, one file per key, the prefix's slashes as nested directories) and a
root key as ``<local-config>/trustedkeys/root.d/<fingerprint>``. rkt has no
command that lists trust, so these directories are the state.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

DEFAULT_LOCAL_CONFIG = '/etc/rkt'
DEFAULT_SYSTEM_CONFIG = '/usr/lib/rkt'

FINGERPRINT_PATTERN = re.compile(r'^[0-9a-f]{40}$')
SCHEME_PATTERN = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:')

# An appc identifier (ACIdentifier in the appc spec, schema/types/acidentifier.go).
# rkt 1.30.0 stores a trusted key only for a prefix of this form and fails
# otherwise, after it has already printed the key.
ACIDENTIFIER_PATTERN = re.compile(r'^[a-z0-9]+([-._~/][a-z0-9]+)*$')


class TrustError(ValueError):
    """Invalid trust parameter or key; the message names the value and the fix."""


def validate_prefix(prefix):
    """Check a trust prefix so that it can not leave the trusted-keys directory and rkt accepts it.

    Reject empty values, URL schemes (rkt rejects them too), absolute paths,
    empty, ``.`` and ``..`` segments, backslashes and control characters, and
    then anything that is not an appc identifier, such as a host with a port
    or upper-case letters, which rkt rejects.
    """
    if not isinstance(prefix, str) or not prefix:
        raise TrustError('trust_prefix must be a non-empty string such as "example.com/app"')
    if SCHEME_PATTERN.match(prefix) and '://' in prefix:
        raise TrustError('trust_prefix "%s" contains a URL scheme; omit it, for example "%s"' % (prefix, prefix.split('://', 1)[1]))
    if prefix.startswith('/'):
        raise TrustError('trust_prefix "%s" is an absolute path; use an image name prefix such as "example.com/app"' % prefix)
    if '\\' in prefix or any(ord(character) < 32 for character in prefix):
        raise TrustError('trust_prefix %r contains a backslash or a control character; use an image name prefix such as '
                         '"example.com/app"' % (prefix,))
    for segment in prefix.split('/'):
        if segment in ('', '.', '..'):
            raise TrustError('trust_prefix "%s" contains an empty, "." or ".." segment; use an image name prefix such as '
                             '"example.com/app" without "//", "./" or "../"' % prefix)
    if not ACIDENTIFIER_PATTERN.match(prefix):
        raise TrustError(_acidentifier_message(prefix))
    return prefix


def _acidentifier_message(prefix):
    """Return the error for a trust prefix that is not an appc identifier, with the most likely fix first."""
    message = ('trust_prefix "%s" is not a valid appc identifier, which rkt requires: use lower-case letters, digits '
               'and the separators "-._~/", with a letter or digit at both ends and between separators '
               '(pattern ^[a-z0-9]+([-._~/][a-z0-9]+)*$), for example "example.com/app"' % prefix)
    host = prefix.split('/', 1)[0]
    if re.match(r'^[^:]+:[0-9]+$', host):
        message += ('. Remove the port "%s": rkt discovers keys on port 443 (80 with insecure_allow_http) and accepts '
                    'no port in a prefix' % host.split(':', 1)[1])
    elif prefix.lower() != prefix:
        message += '. Write it in lower case: "%s"' % prefix.lower()
    return message


def normalize_fingerprint(fingerprint):
    """Return a fingerprint as 40 lower-case hex digits; spaces and a 0x prefix are removed."""
    text = re.sub(r'\s+', '', str(fingerprint)).lower()
    if text.startswith('0x'):
        text = text[2:]
    if not FINGERPRINT_PATTERN.match(text):
        raise TrustError('trust_fingerprint "%s" is not an OpenPGP v4 fingerprint; use the 40 hex digits that '
                         '`gpg --fingerprint` prints' % fingerprint)
    return text


def prefix_key_dirs(prefix, local_config=None, system_config=None):
    """Return the directories whose keys rkt trusts for prefix: local config first, then system config."""
    segments = prefix.split('/')
    return [
        os.path.join(local_config or DEFAULT_LOCAL_CONFIG, 'trustedkeys', 'prefix.d', *segments),
        os.path.join(system_config or DEFAULT_SYSTEM_CONFIG, 'trustedkeys', 'prefix.d', *segments),
    ]


def trusted_fingerprints(prefix, local_config=None, system_config=None):
    """Return the sorted fingerprints of the keys trusted for exactly this prefix."""
    fingerprints = set()
    for directory in prefix_key_dirs(prefix, local_config, system_config):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if FINGERPRINT_PATTERN.match(name) and os.path.isfile(os.path.join(directory, name)):
                fingerprints.add(name)
    return sorted(fingerprints)


def is_url(location):
    return bool(re.match(r'^[a-z][a-z0-9+.-]*://', location or '', re.IGNORECASE))


def build_trust_argv(global_args, prefix, key=None, insecure_allow_http=False, local_config=None):
    """Return the ``rkt trust`` arguments after the executable.

    ``--skip-fingerprint-review`` is always passed, because rkt can only ask for
    the review on a terminal; the module checks ``trust_fingerprint`` itself.
    ``local_config`` overrides rkt's local configuration directory, which the
    module uses to let rkt fetch a key into a scratch directory first.
    """
    argv = list(global_args)
    if local_config:
        argv.append('--local-config=%s' % local_config)
    argv.extend(['trust', '--prefix=%s' % prefix, '--skip-fingerprint-review'])
    if insecure_allow_http:
        argv.append('--insecure-allow-http')
    if key:
        argv.append(key)
    return argv


def decide_trust(prefix, key, fingerprint, local_config=None, system_config=None):
    """Return (needed, reason, known_fingerprints) without running rkt.

    With a pinned fingerprint, trust is needed unless that key is trusted for the
    prefix. With a local key file and no pin, the file's own fingerprint decides.
    Otherwise (discovery, or a URL) any key already trusted for the prefix counts,
    because the key is only known after a download.
    """
    known = trusted_fingerprints(prefix, local_config, system_config)
    if fingerprint:
        if fingerprint in known:
            return False, 'key %s is already trusted for prefix %s' % (fingerprint, prefix), known
        return True, 'key %s is not trusted for prefix %s yet' % (fingerprint, prefix), known

    if key and not is_url(key):
        # Imported here: only a local key file without a pin is read, on every run that sets one.
        from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.openpgp import key_file_fingerprints

        file_fingerprints = key_file_fingerprints(key)
        if all(item in known for item in file_fingerprints):
            return False, 'the key in %s is already trusted for prefix %s' % (key, prefix), known
        return True, 'the key in %s is not trusted for prefix %s yet' % (key, prefix), known

    if known:
        return False, 'a key is already trusted for prefix %s' % prefix, known
    return True, 'no key is trusted for prefix %s yet' % prefix, known


def find_key_file(local_config, prefix):
    """Return (fingerprint, path) of every key file under local_config for prefix."""
    directory = prefix_key_dirs(prefix, local_config)[0]
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [(name, os.path.join(directory, name)) for name in names if FINGERPRINT_PATTERN.match(name)]
