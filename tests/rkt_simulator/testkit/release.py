"""Build an rkt release tarball `rkt-vX.Y.Z.tar.gz` whose `rkt` is the simulator.

The tarball has the layout of the real rkt v1.30.0 release:

    rkt-vX.Y.Z/rkt                       the simulator as a single-file zipapp, reporting X.Y.Z
    rkt-vX.Y.Z/stage1-{coreos,fly,kvm}.aci
    rkt-vX.Y.Z/init/systemd/...          units and tmpfiles.d/rkt.conf
    rkt-vX.Y.Z/scripts/setup-data-dir.sh
    rkt-vX.Y.Z/bash_completion/rkt.bash
    rkt-vX.Y.Z/manpages/*.1

Next to it go `rkt-vX.Y.Z.tar.gz.asc` (armored detached signature, when a key
is given), `rkt-vX.Y.Z.tar.gz.sha512` (`<hex>  rkt-vX.Y.Z.tar.gz`) and the
signing key's public half as `app-signing-pubkey.gpg` (armored, named like the
CoreOS key file).  Defects for failure tests damage the artefacts after the
signature and the checksum were made from the good tarball.
"""

import hashlib
import io
import os
import re
import tarfile
import zipfile
from collections import namedtuple

from . import aci
from . import gpg
from .release_files import release_text_files

SIMULATOR_PACKAGE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "rktsim")

VERSION_PATTERN = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$")
RKT_VERSION_LINE = re.compile(r'^RKT_VERSION = "[^"]*"$', re.MULTILINE)

STAGE1_FLAVORS = ("coreos", "fly", "kvm")
PUBLIC_KEY_FILE = "app-signing-pubkey.gpg"

# Damage that build_release can apply for failure tests:
# wrong-key: the .asc is made by another key than the published one;
# truncated: the tarball is cut to half its size;
# corrupt: one byte of the tarball is inverted;
# garbage-signature: the .asc contains text that is not an OpenPGP signature;
# no-signature: no .asc is written although a key is given.
DEFECTS = ("wrong-key", "truncated", "corrupt", "garbage-signature", "no-signature")

# Zip entry time of the packed simulator (zip cannot store times before 1980).
ZIP_DATE_TIME = (2020, 1, 1, 0, 0, 0)

Release = namedtuple("Release", "version tarball signature sha512_file sha512 sha256 fingerprint public_key defect")
Release.__doc__ = """Paths and sums of a built release.

sha512 and sha256 are hex digests of the good tarball, also when a defect
damaged the file afterwards; signature, fingerprint and public_key are None
without a signing key.
"""


class ReleaseError(ValueError):
    """Invalid input for a release build."""


def _read_simulator_sources(simulator_dir):
    """Return {relative path: bytes} of every file in the simulator package except bytecode."""
    if not os.path.isfile(os.path.join(simulator_dir, "__main__.py")):
        raise ReleaseError("simulator package %s has no __main__.py, so it cannot run as a zipapp" % (simulator_dir,))
    sources = {}
    for directory, subdirectories, files in os.walk(simulator_dir):
        subdirectories[:] = [name for name in subdirectories if name != "__pycache__"]
        for name in files:
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(directory, name)
            with open(path, "rb") as stream:
                sources[os.path.relpath(path, simulator_dir).replace(os.sep, "/")] = stream.read()
    return sources


def build_simulator_zipapp(out, version, simulator_dir=SIMULATOR_PACKAGE_DIR):
    """Write the simulator as an executable zipapp that reports rkt `version`; return `out`.

    The archive is what `python3 -m zipapp` makes (a `#!/usr/bin/env python3`
    line followed by a zip with a top-level __main__.py), but it is written
    with zipfile directly so that entries are sorted and dated identically on
    every build.
    """
    sources = _read_simulator_sources(simulator_dir)
    version_source = sources.get("version.py", b"").decode()
    if not RKT_VERSION_LINE.search(version_source):
        raise ReleaseError('%s/version.py has no line RKT_VERSION = "..." to replace with %s' % (simulator_dir, version))
    sources["version.py"] = RKT_VERSION_LINE.sub('RKT_VERSION = "%s"' % version, version_source).encode()

    entries = {"rktsim/" + path: data for path, data in sources.items()}
    # run_module with alter_sys=False keeps sys.argv[0] as called (the path of
    # the installed rkt), which the simulator writes to its invocation log.
    entries["__main__.py"] = b'import runpy\n\nrunpy.run_module("rktsim", run_name="__main__", alter_sys=False)\n'

    buffer = io.BytesIO()
    buffer.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])

    with open(out, "wb") as stream:
        stream.write(buffer.getvalue())
    os.chmod(out, 0o755)
    return out


def stage1_manifest(flavor, version):
    """Return the image manifest of the test stage1 image for `flavor`."""
    # NOTE: the annotation names follow rkt's stage1 interface documentation
    # (interface version 5); the simulator does not read them.
    annotations = {
        "coreos.com/rkt/stage1/interface-version": "5",
        "coreos.com/rkt/stage1/run": "/init",
        "coreos.com/rkt/stage1/enter": "/enter",
        "coreos.com/rkt/stage1/gc": "/gc",
        "coreos.com/rkt/stage1/stop": "/stop",
    }
    return aci.build_manifest("coreos.com/rkt/stage1-%s" % flavor, version, annotations=annotations, with_app=False)


def build_stage1_bytes(flavor, version):
    """Return the uncompressed tar of a small stage1 ACI for `flavor`."""
    placeholder = "#!/bin/sh\necho 'stage1-%s %s of an rkt test release: not runnable' >&2\nexit 1\n" % (flavor, version)
    files = {name: (placeholder, 0o755) for name in ("init", "enter", "gc", "stop")}
    return aci.build_aci_bytes(stage1_manifest(flavor, version), extra_files=files, include_apps=False)


def _tar_info(name, kind, mode, size=0):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.mtime = aci.FIXED_MTIME
    info.uid = 0
    info.gid = 0
    info.uname = "root"
    info.gname = "root"
    return info


def build_tarball_bytes(version, simulator_dir=SIMULATOR_PACKAGE_DIR, flavors=STAGE1_FLAVORS, workdir=None):
    """Return the gzip-compressed release tarball for `version` as bytes."""
    top = "rkt-v%s" % version
    files = {}
    for path, (text, mode) in release_text_files(version).items():
        files[path] = (text.encode(), mode)
    for flavor in flavors:
        if flavor not in STAGE1_FLAVORS:
            raise ReleaseError("unknown stage1 flavor %r: use %s" % (flavor, ", ".join(STAGE1_FLAVORS)))
        files["stage1-%s.aci" % flavor] = (build_stage1_bytes(flavor, version), 0o644)

    zipapp_path = os.path.join(workdir, "rkt.pyz")
    build_simulator_zipapp(zipapp_path, version, simulator_dir)
    with open(zipapp_path, "rb") as stream:
        files["rkt"] = (stream.read(), 0o755)
    os.unlink(zipapp_path)

    directories = {top}
    for path in files:
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directories.add(top + "/" + "/".join(parts[:depth]))

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        entries = [(directory, None) for directory in directories]
        entries += [(top + "/" + path, entry) for path, entry in files.items()]
        for name, entry in sorted(entries):
            if entry is None:
                archive.addfile(_tar_info(name, tarfile.DIRTYPE, 0o755))
            else:
                data, mode = entry
                archive.addfile(_tar_info(name, tarfile.REGTYPE, mode, len(data)), io.BytesIO(data))
    return aci.gzip_bytes(buffer.getvalue())


def build_release(out_dir, version, key=None, defect=None, other_key=None, simulator_dir=SIMULATOR_PACKAGE_DIR,
                  flavors=STAGE1_FLAVORS):
    """Build rkt-v`version`.tar.gz and its .asc, .sha512 and public key in `out_dir`; return a Release.

    `key` (a gpg.GpgKey) signs the tarball.  `defect` is one of DEFECTS;
    "wrong-key" signs with `other_key`, or with a throwaway key made for the
    call when `other_key` is None.
    """
    if not VERSION_PATTERN.match(version):
        raise ReleaseError("invalid version %r: use X.Y.Z, e.g. 1.30.0" % (version,))
    if defect is not None and defect not in DEFECTS:
        raise ReleaseError("unknown defect %r: use one of %s" % (defect, ", ".join(DEFECTS)))
    if defect in ("wrong-key", "garbage-signature", "no-signature") and key is None:
        raise ReleaseError("defect %s needs a signing key: pass key (CLI: --homedir)" % (defect,))

    os.makedirs(out_dir, exist_ok=True)
    name = "rkt-v%s.tar.gz" % version
    tarball = os.path.join(out_dir, name)
    data = build_tarball_bytes(version, simulator_dir, flavors, workdir=out_dir)
    with open(tarball, "wb") as stream:
        stream.write(data)

    sha512 = hashlib.sha512(data).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    sha512_file = tarball + ".sha512"
    with open(sha512_file, "w", encoding="ascii") as stream:
        stream.write("%s  %s\n" % (sha512, name))

    signature = None
    public_key = None
    fingerprint = None
    # Artefacts of an earlier build in the same directory would not match this one.
    for stale in (tarball + ".asc", os.path.join(out_dir, PUBLIC_KEY_FILE)):
        if os.path.exists(stale):
            os.unlink(stale)
    if key is not None:
        fingerprint = key.fingerprint
        public_key = os.path.join(out_dir, PUBLIC_KEY_FILE)
        key.export_public(public_key)
        signature = _write_signature(tarball, key, defect, other_key)

    if defect == "truncated":
        with open(tarball, "wb") as stream:
            stream.write(data[:len(data) // 2])
    elif defect == "corrupt":
        middle = len(data) // 2
        with open(tarball, "wb") as stream:
            stream.write(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])

    return Release(version, tarball, signature, sha512_file, sha512, sha256, fingerprint, public_key, defect)


def _write_signature(tarball, key, defect, other_key):
    signature = tarball + ".asc"
    if defect == "no-signature":
        return None
    if defect == "garbage-signature":
        with open(signature, "w", encoding="ascii") as stream:
            stream.write("this is not an OpenPGP signature\n")
        return signature
    if defect == "wrong-key":
        if other_key is not None:
            return gpg.sign_file(other_key, tarball, signature)
        with gpg.TemporaryGpgHome() as home:
            return gpg.sign_file(home.generate_key("rkt test impostor <impostor@example.com>"), tarball, signature)
    return gpg.sign_file(key, tarball, signature)
