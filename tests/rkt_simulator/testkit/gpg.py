"""Throwaway OpenPGP keys and detached signatures made with the gpg binary.

Every operation runs with an explicit temporary homedir (never ~/.gnupg), in
batch mode with an empty passphrase.  Keys are RSA (2048 bits by default):
rkt 1.30.0 verifies with golang.org/x/crypto/openpgp, which reads RSA keys.

rkt 1.30.0 rejects a valid RSA signature whose value has a leading zero byte
(about 1 signature in 256), because its openpgp code does not left-pad the
signature before the RSA check.  sign_file() therefore re-signs until the
signature value has the full key length, so that the signatures made here
also pass a real rkt.
"""

import atexit
import base64
import os
import re
import shutil
import subprocess
import tempfile
import threading

DEFAULT_UID = "rkt test signer <signer@example.com>"
DEFAULT_KEY_TYPE = "rsa2048"

# Upper bound for one gpg call in seconds; RSA-2048 generation takes well under
# a second to a few seconds, so this only ends a gpg that waits for input.
GPG_TIMEOUT_SECONDS = 120

# Attempts at a signature without a leading zero byte; each attempt fails
# with probability 1/256, so 8 attempts fail together with probability 2**-64.
MAX_SIGN_ATTEMPTS = 8


class GpgError(RuntimeError):
    """A gpg call failed; the message carries gpg's stderr."""


def _gpg_binary():
    binary = shutil.which("gpg")
    if binary is None:
        raise GpgError("gpg not found on PATH: install the Debian package gnupg")
    return binary


def run_gpg(homedir, arguments, input_bytes=None):
    """Run gpg in batch mode with `homedir` and return its stdout bytes."""
    argv = [_gpg_binary(), "--homedir", homedir, "--batch", "--no-tty", "--yes",
            "--pinentry-mode", "loopback", "--passphrase", ""] + list(arguments)
    try:
        completed = subprocess.run(argv, input=input_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   timeout=GPG_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired as error:
        raise GpgError("gpg timed out after %s s: %s" % (GPG_TIMEOUT_SECONDS, " ".join(argv))) from error
    if completed.returncode != 0:
        raise GpgError("gpg failed (rc %d): %s\n%s" % (completed.returncode, " ".join(argv),
                                                       completed.stderr.decode(errors="replace").strip()))
    return completed.stdout


def prepare_homedir(homedir):
    """Create `homedir` with mode 0700, as gpg requires for a private homedir."""
    os.makedirs(homedir, mode=0o700, exist_ok=True)
    os.chmod(homedir, 0o700)


def kill_agent(homedir):
    """Stop the gpg-agent (and any other gpg daemon) started for `homedir`."""
    gpgconf = shutil.which("gpgconf")
    if gpgconf is None or not os.path.isdir(homedir):
        return
    subprocess.run([gpgconf, "--homedir", homedir, "--kill", "all"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=GPG_TIMEOUT_SECONDS, check=False)


class GpgKey:
    """A secret key in a gpg homedir: its fingerprint, uid and key size."""

    def __init__(self, homedir, fingerprint, uid, key_bits):
        self.homedir = homedir
        self.fingerprint = fingerprint
        self.uid = uid
        self.key_bits = key_bits

    def __repr__(self):
        return "GpgKey(%r, %r, %r)" % (self.homedir, self.fingerprint, self.uid)

    @property
    def rkt_fingerprint(self):
        """Fingerprint as rkt names trusted-key files: lower-case hex without spaces."""
        return self.fingerprint.lower()

    @property
    def spaced_fingerprint(self):
        """Fingerprint as `rkt trust` prints it: groups of four, two spaces in the middle."""
        groups = [self.fingerprint[index:index + 4] for index in range(0, 40, 4)]
        return " ".join(groups[:5]) + "  " + " ".join(groups[5:])

    def export_public(self, out=None):
        """Return the armored public key; also write it to `out` when given."""
        armored = run_gpg(self.homedir, ["--armor", "--export", self.fingerprint])
        if not armored:
            raise GpgError("gpg exported nothing for %s from %s" % (self.fingerprint, self.homedir))
        if out is not None:
            _write_bytes(out, armored)
        return armored

    def sign(self, path, out=None):
        """Write an armored detached signature of `path` (default `path`.asc) and return its path."""
        return sign_file(self, path, out)


def _write_bytes(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path, "wb") as stream:
        stream.write(data)


def list_secret_keys(homedir):
    """Return a GpgKey for every secret primary key in `homedir`, in gpg's order."""
    if not os.path.isdir(homedir):
        return []
    output = run_gpg(homedir, ["--with-colons", "--fixed-list-mode", "--list-secret-keys"]).decode()
    keys = []
    current = None
    for line in output.splitlines():
        fields = line.split(":")
        if fields[0] == "sec":
            current = {"bits": int(fields[2] or 0), "fingerprint": None, "uid": None}
            keys.append(current)
        elif current is not None and fields[0] == "fpr" and current["fingerprint"] is None:
            current["fingerprint"] = fields[9].upper()
        elif current is not None and fields[0] == "uid" and current["uid"] is None:
            current["uid"] = _unescape_colons(fields[9])
    return [GpgKey(homedir, key["fingerprint"], key["uid"], key["bits"]) for key in keys]


def _unescape_colons(value):
    # gpg --with-colons writes ':' and control bytes of a UTF-8 uid as \xNN.
    raw = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda match: bytes([int(match.group(1), 16)]), value.encode("utf-8"))
    return raw.decode("utf-8", errors="replace")


def find_key(homedir, uid=None):
    """Return the first secret key in `homedir` (with exactly `uid` when given), or None."""
    for key in list_secret_keys(homedir):
        if uid is None or key.uid == uid:
            return key
    return None


def generate_key(homedir, uid=DEFAULT_UID, key_type=DEFAULT_KEY_TYPE, reuse=True):
    """Create a signing key without passphrase in `homedir` and return it.

    With `reuse`, an existing secret key with the same uid is returned instead,
    because key generation is the slowest step of most tests.
    """
    prepare_homedir(homedir)
    if reuse:
        existing = find_key(homedir, uid)
        if existing is not None:
            return existing

    if not key_type.startswith("rsa"):
        raise GpgError("unsupported key type %r: use rsaNNNN, e.g. rsa2048 (rkt 1.30.0 verifies RSA keys)" % (key_type,))
    before = {key.fingerprint for key in list_secret_keys(homedir)}
    run_gpg(homedir, ["--quick-generate-key", uid, key_type, "sign", "never"])
    created = [key for key in list_secret_keys(homedir) if key.fingerprint not in before]
    if len(created) != 1:
        raise GpgError("expected one new key in %s after generating %r, found %d" % (homedir, uid, len(created)))
    return created[0]


def dearmor(armored):
    """Return the binary packets inside an ASCII-armored OpenPGP block."""
    lines = armored.decode("ascii").splitlines()
    try:
        start = next(index for index, line in enumerate(lines) if line.startswith("-----BEGIN PGP"))
    except StopIteration as error:
        raise GpgError("no armored OpenPGP data found") from error
    body = []
    index = start + 1
    # Armor headers end at the first empty line.
    while index < len(lines) and lines[index].strip():
        if ":" not in lines[index]:
            break
        index += 1
    for line in lines[index:]:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("-----END PGP") or stripped.startswith("="):
            break
        body.append(stripped)
    return base64.b64decode("".join(body))


def _packet_body(data):
    """Return (tag, body) of the first OpenPGP packet in `data`."""
    header = data[0]
    if not header & 0x80:
        raise GpgError("not an OpenPGP packet (header byte 0x%02x)" % header)
    if header & 0x40:
        tag = header & 0x3F
        first = data[1]
        if first < 192:
            length, offset = first, 2
        elif first < 224:
            length, offset = ((first - 192) << 8) + data[2] + 192, 3
        elif first == 255:
            length, offset = int.from_bytes(data[2:6], "big"), 6
        else:
            raise GpgError("partial-length OpenPGP packets are not supported here")
    else:
        tag = (header >> 2) & 0x0F
        length_type = header & 0x03
        size = {0: 1, 1: 2, 2: 4}.get(length_type)
        if size is None:
            raise GpgError("indeterminate-length OpenPGP packets are not supported here")
        length, offset = int.from_bytes(data[1:1 + size], "big"), 1 + size
    return tag, data[offset:offset + length]


def rsa_signature_bits(armored_signature):
    """Return the bit length of the RSA value in a version 4 signature packet."""
    tag, body = _packet_body(dearmor(armored_signature))
    if tag != 2 or body[0] != 4:
        raise GpgError("expected a version 4 signature packet, got tag %d version %d" % (tag, body[0]))
    public_key_algorithm = body[2]
    if public_key_algorithm not in (1, 3):
        raise GpgError("expected an RSA signature, got public-key algorithm %d" % public_key_algorithm)
    offset = 4
    hashed_length = int.from_bytes(body[offset:offset + 2], "big")
    offset += 2 + hashed_length
    unhashed_length = int.from_bytes(body[offset:offset + 2], "big")
    offset += 2 + unhashed_length
    offset += 2  # left 16 bits of the signed hash
    return int.from_bytes(body[offset:offset + 2], "big")


def sign_file(key, path, out=None):
    """Write an armored detached signature of `path` by `key` and return the signature path.

    The signature goes to `out` (default `path` + ".asc").
    """
    if not os.path.isfile(path):
        raise GpgError("cannot sign %s: no such file" % (path,))
    out = out or path + ".asc"
    key_bytes = (key.key_bits + 7) // 8
    for attempt in range(MAX_SIGN_ATTEMPTS):
        arguments = ["--local-user", key.fingerprint, "--armor", "--detach-sign", "--output", "-"]
        if attempt:
            # A notation changes the signed data and therefore the RSA value.
            arguments[0:0] = ["--sig-notation", "resign@testkit.example=%d" % attempt]
        signature = run_gpg(key.homedir, arguments + [path])
        if (rsa_signature_bits(signature) + 7) // 8 == key_bytes:
            _write_bytes(out, signature)
            return out
    raise GpgError("every one of %d signatures of %s had a leading zero byte" % (MAX_SIGN_ATTEMPTS, path))


def verify_signature(homedir, path, signature):
    """Return True when gpg in `homedir` accepts `signature` as a signature of `path`."""
    try:
        run_gpg(homedir, ["--verify", signature, path])
    except GpgError:
        return False
    return True


class TemporaryGpgHome:
    """A temporary gpg homedir that is deleted, agent included, on close.

    Use as a context manager; `generate_key()` makes a key in it.
    """

    def __init__(self, prefix="tk-gpg-"):
        # A short path under the system temp dir keeps gpg-agent's socket path
        # below the 108-byte limit for Unix sockets.
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o700)

    def generate_key(self, uid=DEFAULT_UID, key_type=DEFAULT_KEY_TYPE):
        return generate_key(self.path, uid, key_type)

    def close(self):
        if self.path and os.path.isdir(self.path):
            kill_agent(self.path)
            shutil.rmtree(self.path, ignore_errors=True)
        self.path = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


_session_lock = threading.Lock()
_session_homes = {}


def session_key(uid=DEFAULT_UID, key_type=DEFAULT_KEY_TYPE):
    """Return a key that lives until the Python process exits, made once per uid and type.

    Tests that only need "some trusted key" share it instead of paying for key
    generation each time.  The homedir and its agent are removed at exit.
    """
    with _session_lock:
        cache_key = (uid, key_type)
        home = _session_homes.get(cache_key)
        if home is None:
            home = TemporaryGpgHome()
            _session_homes[cache_key] = home
        return home.generate_key(uid, key_type)


@atexit.register
def _close_session_homes():
    for home in _session_homes.values():
        home.close()
    _session_homes.clear()
