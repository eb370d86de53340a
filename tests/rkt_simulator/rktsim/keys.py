"""Trusted keys on disk and detached-signature checks with the gpg binary.

Keys live at <config>/trustedkeys/prefix.d/<prefix>/<fingerprint> and
<config>/trustedkeys/root.d/<fingerprint> in both the local and the system
configuration directory, as with rkt.
"""

import os
import shutil
import subprocess
import tempfile

from rktsim.errors import RktError
from rktsim.pgp import PgpError, read_public_key

UNKNOWN_ENTITY_HINT = "image: If you expected the signing key to change, try running:\nimage:     rkt trust --prefix <image>\n"


def trusted_key_files(context, image_name):
    """Return the key files trusted for IMAGE_NAME: every path prefix of it, then root keys."""
    prefixes = []
    parts = image_name.split("/")
    for end in range(len(parts), 0, -1):
        prefixes.append("/".join(parts[:end]))

    files = []
    for config in (context.local_config, context.system_config):
        base = os.path.join(config, "trustedkeys")
        folders = [os.path.join(base, "prefix.d", prefix) for prefix in prefixes] + [os.path.join(base, "root.d")]
        for folder in folders:
            if os.path.isdir(folder):
                for name in sorted(os.listdir(folder)):
                    path = os.path.join(folder, name)
                    if os.path.isfile(path):
                        files.append(path)
    return files


def verify_signature(context, prefix, image_name, data, signature):
    """Check SIGNATURE (bytes of an .asc file) over DATA against the keys trusted for IMAGE_NAME.

    On success prints rkt's "image: signature verified:" block on stderr.
    Raises RktError with rkt's messages on failure.
    """
    if b"-----BEGIN PGP SIGNATURE-----" not in signature:
        if not signature or not signature[0] & 0x80:
            raise RktError("%s: openpgp: invalid data: tag byte does not have MSB set" % prefix)

    key_files = trusted_key_files(context, image_name)
    if not key_files:
        raise RktError(UNKNOWN_ENTITY_HINT + "%s: openpgp: signature made by unknown entity" % prefix)

    gpg = shutil.which("gpg")
    if gpg is None:
        raise RktError("%s: rkt simulator: the gpg binary is needed to verify signatures but was not found in PATH" % prefix)

    home = tempfile.mkdtemp(prefix="rktsim-gpg-")
    try:
        os.chmod(home, 0o700)
        data_path = os.path.join(home, "image.aci")
        signature_path = os.path.join(home, "image.aci.asc")
        with open(data_path, "wb") as handle:
            handle.write(data)
        with open(signature_path, "wb") as handle:
            handle.write(signature)
        subprocess.run([gpg, "--homedir", home, "--batch", "--quiet", "--import"] + key_files,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        result = subprocess.run([gpg, "--homedir", home, "--batch", "--status-fd", "1", "--verify",
                                 signature_path, data_path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    status = result.stdout.decode("utf-8", "replace").splitlines()
    primary = None
    for line in status:
        fields = line.split()
        if len(fields) >= 3 and fields[1] == "VALIDSIG":
            primary = fields[-1].upper()
        if len(fields) >= 2 and fields[1] == "BADSIG":
            # NOTE: Go's openpgp reports a bad RSA signature this way; other
            # key algorithms give other texts in real rkt.
            raise RktError("%s: openpgp: invalid signature: RSA verification failure" % prefix)
    if primary is None:
        if any(" NO_PUBKEY " in line or " ERRSIG " in line for line in status):
            raise RktError(UNKNOWN_ENTITY_HINT + "%s: openpgp: signature made by unknown entity" % prefix)
        if any(" NODATA " in line for line in status):
            raise RktError("%s: openpgp: invalid data: tag byte does not have MSB set" % prefix)
        raise RktError("%s: openpgp: invalid signature: %s" % (prefix, result.stderr.decode("utf-8", "replace").strip()))

    user_ids = []
    for path in key_files:
        try:
            with open(path, "rb") as handle:
                key = read_public_key(handle.read())
        except (OSError, PgpError):
            continue
        if key.fingerprint == primary:
            user_ids = key.user_ids
            break
    context.err("image: signature verified:\n" + "".join("  %s\n" % user_id for user_id in user_ids))
