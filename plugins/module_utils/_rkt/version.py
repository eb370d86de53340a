# -*- coding: utf-8 -*-
# Copyright (c) nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Parse the output of ``rkt version`` and compare rkt versions.

Private to the nomad_drivers.rkt collection: the names in this file may change
without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple


# The first rkt with the CPU and memory isolators that Nomad's rkt driver passes
# (--cpu, --memory). Nomad's built-in rkt driver used the same minimum.
DEFAULT_MIN_VERSION = '0.14.0'

# One version token: a dotted release with at least two numbers, then an optional
# pre-release ("-rc1") and build suffix ("+git2d5b6e1"). Nomad's rkt driver reads
# only the dotted part (`\d[.\d]+`). The suffixes are kept here because a
# pre-release sorts before its release (0.14.0-rc < 0.14.0).
_VERSION_TOKEN = r'[0-9]+(?:\.[0-9]+)+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.+-]+)?'

# rkt 1.x prints "rkt Version: 1.30.0", and older releases printed "rkt version 0.8.1".
# Nomad accepts both (`rkt [vV]ersion[:]? `) and so do these patterns, with the
# words in any case, and a colon or blanks before the number. As in Nomad, a
# match may start anywhere in a line, but "rkt" and "appc" must be whole words.
# Only the words are matched without case ((?i:...)): the whole pattern with
# re.IGNORECASE took about 0.5 ms more to compile, on every run of the modules.
_RKT_VERSION_RE = re.compile(r'\b(?i:rkt[ \t]+version)(?::[ \t]*|[ \t]+)(' + _VERSION_TOKEN + r')')
_APPC_VERSION_RE = re.compile(r'\b(?i:appc[ \t]+version)(?::[ \t]*|[ \t]+)(' + _VERSION_TOKEN + r')')

# The other "Key: value" lines of rkt 1.x (rkt 1.30.0 prints "Go Version: go1.19.8",
# "Go OS/Arch: linux/amd64" and "Features: -TPM +SDJOURNAL").
_GO_VERSION_RE = re.compile(r'^[ \t]*go[ \t]+version:[ \t]*(\S+)', re.IGNORECASE | re.MULTILINE)
_GO_OS_ARCH_RE = re.compile(r'^[ \t]*go[ \t]+os/arch:[ \t]*(\S+)', re.IGNORECASE | re.MULTILINE)
_FEATURES_RE = re.compile(r'^[ \t]*features:[ \t]*(.*)$', re.IGNORECASE | re.MULTILINE)

_NUMERIC_RE = re.compile(r'^[0-9]+$')
_VERSION_RE = re.compile(r'^[vV]?([0-9]+(?:\.[0-9]+)*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.+-]+))?$')


RktVersionInfo = namedtuple('RktVersionInfo', ['version', 'appc_version', 'go_version', 'go_os_arch', 'features'])
RktVersionInfo.__doc__ = """Fields read from ``rkt version``.

``version`` and ``appc_version`` are strings as printed; ``go_version`` and
``go_os_arch`` are None when rkt does not print them (rkt before 1.0);
``features`` is a list of strings such as ``-TPM`` and ``+SDJOURNAL``, empty when
rkt prints no ``Features:`` line.
"""


def parse_version_output(output):
    """Parse the stdout of ``rkt version`` into a RktVersionInfo.

    Return None when the rkt version or the appc version is missing, because
    Nomad's rkt driver requires both. ``output`` is text. Windows line endings,
    extra lines and text around the version lines are tolerated.
    """
    if not output:
        return None

    rkt_match = _RKT_VERSION_RE.search(output)
    appc_match = _APPC_VERSION_RE.search(output)
    if rkt_match is None or appc_match is None:
        return None

    go_version_match = _GO_VERSION_RE.search(output)
    go_os_arch_match = _GO_OS_ARCH_RE.search(output)
    features_match = _FEATURES_RE.search(output)

    return RktVersionInfo(
        version=rkt_match.group(1),
        appc_version=appc_match.group(1),
        go_version=go_version_match.group(1) if go_version_match else None,
        go_os_arch=go_os_arch_match.group(1) if go_os_arch_match else None,
        features=features_match.group(1).split() if features_match else [],
    )


class Version:
    """A version number that compares as rkt's release numbers do.

    The dotted release compares number by number, with missing trailing numbers
    read as zeros (1.9 == 1.9.0 < 1.10.0). A pre-release sorts before its release
    and pre-release parts compare as in Semantic Versioning 2.0.0 (numbers as
    numbers, numbers before words), so 0.14.0-rc < 0.14.0. Build metadata after
    ``+`` is kept for display and ignored in comparisons.
    """

    def __init__(self, text):
        if not isinstance(text, str):
            raise ValueError('%r is not a version string' % (text,))

        match = _VERSION_RE.match(text.strip())
        if match is None:
            raise ValueError('%r is not a version; use a dotted version such as 0.14.0 or 1.30.0' % (text,))

        self.text = text.strip()
        self.release = tuple(int(number) for number in match.group(1).split('.'))
        self.prerelease = tuple(match.group(2).split('.')) if match.group(2) else ()
        self.build = match.group(3) or ''

    def __str__(self):
        return self.text

    def __repr__(self):
        return 'Version(%r)' % (self.text,)

    def _release_key(self):
        # Drop trailing zeros so that 1.9 and 1.9.0 compare equal.
        release = list(self.release)
        while len(release) > 1 and release[-1] == 0:
            release.pop()
        return tuple(release)

    def _prerelease_key(self):
        # A release without a pre-release part sorts after every pre-release of it.
        if not self.prerelease:
            return (1,)

        parts = []
        for part in self.prerelease:
            if _NUMERIC_RE.match(part):
                parts.append((0, int(part), ''))
            else:
                parts.append((1, 0, part))
        return (0, tuple(parts))

    def _key(self):
        return (self._release_key(), self._prerelease_key())

    def __eq__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __ne__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() != other._key()

    def __lt__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __le__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() <= other._key()

    def __gt__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() > other._key()

    def __ge__(self, other):
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() >= other._key()

    def __hash__(self):
        return hash(self._key())


def to_version(value):
    """Return ``value`` as a Version; accept a Version or a version string."""
    if isinstance(value, Version):
        return value
    return Version(value)


def is_at_least(found, needed):
    """Return True when version ``found`` is ``needed`` or later."""
    return to_version(found) >= to_version(needed)


def require_version(found, needed, option_name):
    """Check that rkt ``found`` supports an option introduced in rkt ``needed``.

    Return None when it does, or an error message that names the option, both
    versions and the fix.
    """
    if is_at_least(found, needed):
        return None
    return (
        'option %s needs rkt %s or later, but the rkt found is %s; upgrade rkt or remove %s'
        % (option_name, needed, found, option_name)
    )


def too_old_warning(found, minimum):
    """Return the warning text for an rkt older than the minimum version."""
    return 'rkt %s is older than the minimum %s; upgrade rkt' % (found, minimum)
