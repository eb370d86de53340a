# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""OpenPGP fingerprints of ASCII-armored public keys, as rkt trust reads them.

Private module: not part of the collection's public API.

rkt 1.x accepts only ASCII-armored version 4 keys and names a trusted key file
after the key's v4 fingerprint. The module reads fingerprints to compare a key
with ``trust_fingerprint`` before rkt trusts it. Kept apart from trust.py
because only runs that trust a key, or that set a local ``trust_key`` without
``trust_fingerprint``, read one, and Python compiles every imported file on
each run (docs/performance.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.trust import TrustError

# The packet tag of a public key (RFC 4880 section 4.3).
PUBLIC_KEY_TAG = 6


def dearmor(text):
    """Return the binary packets of an ASCII-armored OpenPGP block."""
    if isinstance(text, bytes):
        text = text.decode('ascii', 'replace')
    lines = text.replace('\r\n', '\n').split('\n')
    try:
        start = next(index for index, line in enumerate(lines) if line.startswith('-----BEGIN PGP PUBLIC KEY BLOCK-----'))
    except StopIteration:
        raise TrustError('no armored OpenPGP public key found; rkt trust accepts only ASCII-armored keys '
                         '(export them with `gpg --armor --export`)')

    # Armor headers (such as "Version: ...") end at the first blank line.
    index = start + 1
    while index < len(lines) and lines[index].strip() and ':' in lines[index]:
        index += 1

    body = []
    for line in lines[index:]:
        line = line.strip()
        if line.startswith('-----END PGP PUBLIC KEY BLOCK-----'):
            break
        if not line or line.startswith('='):
            # The line starting with "=" is the CRC-24 checksum of the armor.
            continue
        body.append(line)
    # Imported here because only runs that read a key need it, and its import took about 3 ms.
    import base64

    try:
        return base64.b64decode(''.join(body), validate=True)
    except (ValueError, TypeError):
        raise TrustError('the armored OpenPGP key is corrupt: its base64 data does not decode')


def iter_packets(data):
    """Yield (tag, body) for each OpenPGP packet (RFC 4880 section 4.2)."""
    position = 0
    while position < len(data):
        header = data[position]
        if not header & 0x80:
            raise TrustError('the OpenPGP key is corrupt: byte %d is not a packet header' % position)

        if header & 0x40:
            # New packet format.
            tag = header & 0x3f
            first = data[position + 1]
            if first < 192:
                length, header_length = first, 2
            elif first < 224:
                length, header_length = ((first - 192) << 8) + data[position + 2] + 192, 3
            elif first == 255:
                length, header_length = int.from_bytes(data[position + 2:position + 6], 'big'), 6
            else:
                raise TrustError('the OpenPGP key uses partial body lengths, which key packets never use')
        else:
            # Old packet format.
            tag = (header >> 2) & 0x0f
            length_type = header & 0x03
            if length_type == 3:
                length, header_length = len(data) - position - 1, 1
            else:
                size = 1 << length_type
                length, header_length = int.from_bytes(data[position + 1:position + 1 + size], 'big'), 1 + size

        body = data[position + header_length:position + header_length + length]
        if len(body) != length:
            raise TrustError('the OpenPGP key is corrupt: a packet is cut short')
        yield tag, body
        position += header_length + length


def key_fingerprints(armored_key):
    """Return the v4 fingerprints (40 lower-case hex digits) of the primary keys in an armored key block.

    A v4 fingerprint is SHA-1 over 0x99, the two-byte packet length and the
    public-key packet body (RFC 4880 section 12.2).
    """
    fingerprints = []
    for tag, body in iter_packets(dearmor(armored_key)):
        if tag != PUBLIC_KEY_TAG:
            continue
        if not body or body[0] != 4:
            raise TrustError('the OpenPGP key has version %s; only version 4 keys, which rkt 1.x reads, are supported'
                             % (body[0] if body else 'unknown'))
        digest = hashlib.sha1(b'\x99' + len(body).to_bytes(2, 'big') + body)
        fingerprints.append(digest.hexdigest())
    if not fingerprints:
        raise TrustError('the armored OpenPGP block contains no public key')
    return fingerprints


def key_file_fingerprints(path):
    """Return the v4 fingerprints of the armored key in the file at path (trust_key); raise TrustError when it cannot be read."""
    try:
        with open(path, 'rb') as handle:
            armored_key = handle.read()
    except (IOError, OSError) as error:
        raise TrustError('trust_key %s can not be read: %s; give the path of an armored public key file' % (path, error))
    return key_fingerprints(armored_key)
