"""Reading ACI files (tar archives holding `manifest` and `rootfs/`)."""

import bz2
import gzip
import io
import json
import lzma
import os
import tarfile

from rktsim.errors import RktError


def decompress(data):
    """Return the tar bytes of an ACI that may be gzip, bzip2 or xz compressed."""
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    if data[:3] == b"BZh":
        return bz2.decompress(data)
    if data[:6] == b"\xfd7zXZ\x00":
        return lzma.decompress(data)
    return data


def read_manifest(tar_bytes, prefix):
    """Return the image manifest of the ACI in TAR_BYTES as an ordered dict.

    PREFIX starts the error messages ("fetch", "run", ...).
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as archive:
            member = archive.getmember("manifest")
            raw = archive.extractfile(member).read()
    except (tarfile.TarError, KeyError):
        # NOTE: real rkt reports a broken or manifest-less ACI with a longer
        # error chain; the simulator keeps only the cause.
        raise RktError("%s: error extracting the image manifest: missing manifest" % prefix)
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError as error:
        raise RktError("%s: error parsing the image manifest: %s" % (prefix, error))


def extract_rootfs(tar_bytes, destination):
    """Extract the `rootfs/` entries of an ACI below DESTINATION/rootfs.

    Entries with absolute paths or `..` components are skipped. Returns the
    total size of the regular files written, in bytes.
    """
    total = 0
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as archive:
        members = []
        for member in archive.getmembers():
            name = member.name.lstrip("./") if member.name.startswith("./") else member.name
            parts = name.split("/")
            if name.startswith("/") or ".." in parts or parts[0] != "rootfs":
                continue
            if member.islnk() and (member.linkname.startswith("/") or ".." in member.linkname.split("/")):
                continue
            if member.isdev():
                continue
            member.name = name
            members.append(member)
            if member.isfile():
                total += member.size
        os.makedirs(destination, exist_ok=True)
        if hasattr(tarfile, "fully_trusted_filter"):
            archive.extractall(destination, members=members, filter="fully_trusted")
        else:
            archive.extractall(destination, members=members)
    return total
