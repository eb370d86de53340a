"""Minimal OpenPGP public-key reading: armor, fingerprints and user IDs.

Enough of RFC 4880 to print what `rkt trust` prints: the v4 fingerprint is the
SHA-1 of 0x99, the two-byte body length and the public-key packet body.
"""

import base64
import hashlib
import re

ARMOR_PATTERN = re.compile(
    r"-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(.*?)-----END PGP PUBLIC KEY BLOCK-----", re.DOTALL)


class PgpError(Exception):
    """Unreadable key data; the message is the one Go's openpgp package returns."""


class PublicKey:
    """A primary public key: FINGERPRINT (upper-case hex) and its USER_IDS."""

    def __init__(self, fingerprint, user_ids):
        self.fingerprint = fingerprint
        self.user_ids = user_ids

    def spaced_fingerprint(self):
        """Return the fingerprint as gpg groups it: "7726 22CF ... 5A3D  A298 ..."."""
        groups = [self.fingerprint[index:index + 4] for index in range(0, len(self.fingerprint), 4)]
        half = len(groups) // 2
        return " ".join(groups[:half]) + "  " + " ".join(groups[half:])


def dearmor(text_bytes):
    """Return the binary packets of the first armored public key block."""
    text = text_bytes.decode("utf-8", "replace")
    match = ARMOR_PATTERN.search(text)
    if match is None:
        raise PgpError("openpgp: invalid argument: no armored data found")
    body = match.group(1).replace("\r", "")
    # Armor headers ("Comment: ...") end with a blank line; without headers
    # the blank line directly follows the BEGIN line.
    _headers, separator, payload = body.partition("\n\n")
    if not separator:
        payload = body
    lines = [line.strip() for line in payload.split("\n") if line.strip()]
    lines = [line for line in lines if not line.startswith("=")]
    try:
        return base64.b64decode("".join(lines))
    except ValueError:
        raise PgpError("openpgp: invalid data: armor body is not valid base64")


def packets(data):
    """Yield (tag, body) for each OpenPGP packet in DATA."""
    position = 0
    while position < len(data):
        header = data[position]
        if not header & 0x80:
            raise PgpError("openpgp: invalid data: tag byte does not have MSB set")
        position += 1
        if header & 0x40:
            tag = header & 0x3F
            first = data[position]
            if first < 192:
                length, position = first, position + 1
            elif first < 224:
                length = ((first - 192) << 8) + data[position + 1] + 192
                position += 2
            elif first == 255:
                length = int.from_bytes(data[position + 1:position + 5], "big")
                position += 5
            else:
                raise PgpError("openpgp: unsupported feature: partial body length in a key")
        else:
            tag = (header >> 2) & 0x0F
            length_type = header & 0x03
            size = {0: 1, 1: 2, 2: 4}.get(length_type)
            if size is None:
                length = len(data) - position
            else:
                length = int.from_bytes(data[position:position + size], "big")
                position += size
        yield tag, data[position:position + length]
        position += length


def read_public_key(armored):
    """Parse the first primary key of an armored key block into a PublicKey."""
    data = dearmor(armored)
    fingerprint = None
    user_ids = []
    for tag, body in packets(data):
        if tag == 6 and fingerprint is None:
            if body[0] == 4:
                digest = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest()
            else:
                digest = hashlib.sha256(b"\x9a" + len(body).to_bytes(4, "big") + body).hexdigest()
            fingerprint = digest.upper()
        elif tag == 13 and fingerprint is not None:
            user_ids.append(body.decode("utf-8", "replace"))
        elif tag == 14:
            break
    if fingerprint is None:
        raise PgpError("openpgp: invalid argument: no public key found")
    return PublicKey(fingerprint, user_ids)
