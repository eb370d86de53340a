"""Tests of the release tarball builder (real gpg, the real simulator package)."""

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from testkit import aci, gpg, release  # noqa: E402  pylint: disable=wrong-import-position
from testkit.release_files import MANPAGE_COMMANDS  # noqa: E402  pylint: disable=wrong-import-position

CLI = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "testkit", "cli.py")

# Files of the real rkt-v1.30.0.tar.gz besides the man pages, below rkt-v1.30.0/.
RELEASE_FILES = [
    "bash_completion/rkt.bash",
    "init/systemd/rkt-api-tcp.socket",
    "init/systemd/rkt-api.service",
    "init/systemd/rkt-gc.service",
    "init/systemd/rkt-gc.timer",
    "init/systemd/rkt-metadata.service",
    "init/systemd/rkt-metadata.socket",
    "init/systemd/tmpfiles.d/rkt.conf",
    "rkt",
    "scripts/setup-data-dir.sh",
    "stage1-coreos.aci",
    "stage1-fly.aci",
    "stage1-kvm.aci",
]


@pytest.fixture(scope="module")
def home():
    with gpg.TemporaryGpgHome() as temporary_home:
        yield temporary_home


@pytest.fixture(scope="module")
def key(home):
    return home.generate_key("rkt test release signer <release@example.com>")


@pytest.fixture(scope="module")
def built(tmp_path_factory, key):
    return release.build_release(str(tmp_path_factory.mktemp("release")), "1.29.0", key=key)


def members(tarball):
    with tarfile.open(tarball, "r:gz") as archive:
        return {member.name: member for member in archive.getmembers()}


def read_member(tarball, name):
    with tarfile.open(tarball, "r:gz") as archive:
        return archive.extractfile(name).read()


def verify_with_public_key_only(public_key, path, signature, tmp_path):
    """Return True when a fresh keyring holding only `public_key` accepts the signature."""
    with gpg.TemporaryGpgHome() as verifier:
        gpg.run_gpg(verifier.path, ["--import", public_key])
        return gpg.verify_signature(verifier.path, path, signature)


def test_release_layout(built):
    names = members(built.tarball)
    expected = {"rkt-v1.29.0/" + path for path in RELEASE_FILES}
    expected |= {"rkt-v1.29.0/manpages/%s.1" % command for command in MANPAGE_COMMANDS}

    assert os.path.basename(built.tarball) == "rkt-v1.29.0.tar.gz"
    assert {name for name, member in names.items() if member.isfile()} == expected
    assert names["rkt-v1.29.0/rkt"].mode == 0o755
    assert names["rkt-v1.29.0/scripts/setup-data-dir.sh"].mode == 0o755
    assert names["rkt-v1.29.0/init/systemd/rkt-gc.timer"].mode == 0o644
    assert names["rkt-v1.29.0"].isdir()


def test_unit_files_have_release_content(built):
    timer = read_member(built.tarball, "rkt-v1.29.0/init/systemd/rkt-gc.timer").decode()
    tmpfiles = read_member(built.tarball, "rkt-v1.29.0/init/systemd/tmpfiles.d/rkt.conf").decode()
    setup = read_member(built.tarball, "rkt-v1.29.0/scripts/setup-data-dir.sh").decode()

    assert "OnUnitActiveSec=12h" in timer
    assert "d /var/lib/rkt 2750 root rkt\n" in tmpfiles
    assert "d /var/lib/rkt/cas/tree 2700 root rkt\n" in tmpfiles
    assert "d /etc/rkt 2770 root rkt-admin\n" in tmpfiles
    assert setup.startswith("#!/usr/bin/env bash\n")
    assert 'make_directory "${datadir}/pods/exited-garbage" 2750 "rkt"' in setup


def test_stage1_images_are_valid_acis(built, tmp_path):
    for flavor in release.STAGE1_FLAVORS:
        data = read_member(built.tarball, "rkt-v1.29.0/stage1-%s.aci" % flavor)
        path = tmp_path / ("stage1-%s.aci" % flavor)
        path.write_bytes(data)

        manifest = aci.read_manifest(str(path))

        assert manifest["name"] == "coreos.com/rkt/stage1-%s" % flavor
        assert manifest["labels"][0] == {"name": "version", "value": "1.29.0"}
        assert "app" not in manifest


def test_packed_simulator_reports_release_version(built, tmp_path):
    (tmp_path / "rkt").write_bytes(read_member(built.tarball, "rkt-v1.29.0/rkt"))
    os.chmod(str(tmp_path / "rkt"), 0o755)
    # Only the zipapp itself: no PYTHONPATH and a working directory away from the sources.
    env = {"PATH": os.environ["PATH"], "RKT_SIM_ROOT": str(tmp_path / "root")}

    result = subprocess.run([str(tmp_path / "rkt"), "version"], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines()[0] == "rkt Version: 1.29.0"
    assert read_member(built.tarball, "rkt-v1.29.0/rkt").startswith(b"#!/usr/bin/env python3\n")


def test_checksums_and_sum_file(built):
    with open(built.tarball, "rb") as stream:
        data = stream.read()

    assert built.sha512 == hashlib.sha512(data).hexdigest()
    assert built.sha256 == hashlib.sha256(data).hexdigest()
    with open(built.sha512_file, encoding="ascii") as stream:
        assert stream.read() == "%s  rkt-v1.29.0.tar.gz\n" % built.sha512
    checked = subprocess.run(["sha512sum", "--check", os.path.basename(built.sha512_file)],
                             cwd=os.path.dirname(built.tarball), stdout=subprocess.PIPE, check=False)
    assert checked.returncode == 0


def test_signature_verifies_with_published_key(built, key, tmp_path):
    assert built.fingerprint == key.fingerprint
    assert built.signature == built.tarball + ".asc"
    assert os.path.basename(built.public_key) == "app-signing-pubkey.gpg"
    assert verify_with_public_key_only(built.public_key, built.tarball, built.signature, tmp_path)


def test_build_is_deterministic_without_key(tmp_path):
    first = release.build_release(str(tmp_path / "first"), "1.30.0")
    second = release.build_release(str(tmp_path / "second"), "1.30.0")

    assert first.sha512 == second.sha512
    assert first.signature is None
    assert first.public_key is None
    assert not os.path.exists(first.tarball + ".asc")


def test_defect_wrong_key(tmp_path, key):
    built = release.build_release(str(tmp_path), "1.30.0", key=key, defect="wrong-key")

    assert not verify_with_public_key_only(built.public_key, built.tarball, built.signature, tmp_path)
    with gpg.TemporaryGpgHome() as verifier:
        gpg.run_gpg(verifier.path, ["--import", built.public_key])
        status = subprocess.run(["gpg", "--homedir", verifier.path, "--batch", "--status-fd", "1", "--verify",
                                 built.signature, built.tarball], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                check=False)
    # NO_PUBKEY: the signature is well-formed but made by a key that was not published.
    assert b"NO_PUBKEY" in status.stdout


def test_defect_wrong_key_with_given_other_key(tmp_path, key):
    with gpg.TemporaryGpgHome() as other_home:
        other_key = other_home.generate_key("Other <other@example.com>")
        built = release.build_release(str(tmp_path), "1.30.0", key=key, defect="wrong-key", other_key=other_key)

        assert gpg.verify_signature(other_home.path, built.tarball, built.signature)
    assert not verify_with_public_key_only(built.public_key, built.tarball, built.signature, tmp_path)


@pytest.mark.parametrize("defect", ["truncated", "corrupt"])
def test_damaged_tarball_fails_checksum_and_signature(tmp_path, key, defect):
    good = release.build_release(str(tmp_path / "good"), "1.30.0", key=key)
    damaged = release.build_release(str(tmp_path / "damaged"), "1.30.0", key=key, defect=defect)
    with open(damaged.tarball, "rb") as stream:
        data = stream.read()
    good_size = os.path.getsize(good.tarball)

    assert damaged.sha512 == good.sha512
    assert hashlib.sha512(data).hexdigest() != damaged.sha512
    if defect == "truncated":
        assert len(data) == good_size // 2
    else:
        assert len(data) == good_size
    assert not verify_with_public_key_only(damaged.public_key, damaged.tarball, damaged.signature, tmp_path)
    checked = subprocess.run(["sha512sum", "--check", os.path.basename(damaged.sha512_file)],
                             cwd=os.path.dirname(damaged.tarball), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             check=False)
    assert checked.returncode != 0


def test_defect_garbage_and_missing_signature(tmp_path, key):
    garbage = release.build_release(str(tmp_path / "garbage"), "1.30.0", key=key, defect="garbage-signature")
    missing = release.build_release(str(tmp_path / "missing"), "1.30.0", key=key, defect="no-signature")

    with open(garbage.signature, encoding="ascii") as stream:
        assert "BEGIN PGP" not in stream.read()
    assert missing.signature is None
    assert not os.path.exists(missing.tarball + ".asc")
    assert os.path.exists(missing.public_key)


def test_rebuild_removes_stale_signature(tmp_path, key):
    release.build_release(str(tmp_path), "1.30.0", key=key)
    rebuilt = release.build_release(str(tmp_path), "1.30.0")

    assert rebuilt.signature is None
    assert not os.path.exists(rebuilt.tarball + ".asc")
    assert not os.path.exists(os.path.join(str(tmp_path), release.PUBLIC_KEY_FILE))


@pytest.mark.parametrize("arguments, message", [
    ({"version": "v1.30"}, "invalid version 'v1.30'"),
    ({"version": "1.30.0", "defect": "melted"}, "unknown defect 'melted'"),
    ({"version": "1.30.0", "defect": "wrong-key"}, "defect wrong-key needs a signing key"),
    ({"version": "1.30.0", "flavors": ["host"]}, "unknown stage1 flavor 'host'"),
])
def test_invalid_input_is_rejected(tmp_path, arguments, message):
    with pytest.raises(release.ReleaseError, match=message):
        release.build_release(str(tmp_path), **arguments)


def test_zipapp_needs_version_constant(tmp_path):
    package = tmp_path / "fakesim"
    package.mkdir()
    (package / "__main__.py").write_text("print('fake')\n")
    (package / "version.py").write_text("VERSION = '1'\n")

    with pytest.raises(release.ReleaseError, match='no line RKT_VERSION = "..."'):
        release.build_simulator_zipapp(str(tmp_path / "rkt"), "1.0.0", str(package))


def test_zipapp_needs_main_module(tmp_path):
    package = tmp_path / "fakesim"
    package.mkdir()
    (package / "version.py").write_text('RKT_VERSION = "1.30.0"\n')

    with pytest.raises(release.ReleaseError, match="has no __main__.py"):
        release.build_simulator_zipapp(str(tmp_path / "rkt"), "1.0.0", str(package))


def test_zipapp_skips_bytecode_and_replaces_version(tmp_path):
    package = tmp_path / "fakesim"
    (package / "__pycache__").mkdir(parents=True)
    (package / "__pycache__" / "version.cpython-311.pyc").write_bytes(b"stale")
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text("from rktsim import version\nprint(version.RKT_VERSION)\n")
    (package / "version.py").write_text('"""Versions."""\n\nRKT_VERSION = "1.30.0"\nAPPC_VERSION = "0.8.11"\n')
    (package / "data.json").write_text("{}\n")
    out = tmp_path / "rkt"

    release.build_simulator_zipapp(str(out), "0.9.0", str(package))
    result = subprocess.run([str(out)], cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"PATH": os.environ["PATH"]}, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout == b"0.9.0\n"
    import zipfile  # pylint: disable=import-outside-toplevel
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        assert sorted(archive.namelist()) == ["__main__.py", "rktsim/__init__.py", "rktsim/__main__.py",
                                              "rktsim/data.json", "rktsim/version.py"]


def test_cli_release(tmp_path):
    homedir = str(tmp_path / "gnupg")
    try:
        made = subprocess.run([sys.executable, CLI, "key", "--homedir", homedir], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
        built = subprocess.run([sys.executable, CLI, "release", "--out", str(tmp_path / "out"), "--version", "1.30.0",
                                "--homedir", homedir, "--stage1-flavor", "fly"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        failed = subprocess.run([sys.executable, CLI, "release", "--out", str(tmp_path / "bad"), "--version", "x"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    finally:
        gpg.kill_agent(homedir)

    assert made.returncode == 0, made.stderr
    assert built.returncode == 0, built.stderr
    output = json.loads(built.stdout)
    assert output["fingerprint"] == made.stdout.decode().strip()
    assert output["tarball"] == str(tmp_path / "out" / "rkt-v1.30.0.tar.gz")
    names = members(output["tarball"])
    assert "rkt-v1.30.0/stage1-fly.aci" in names
    assert "rkt-v1.30.0/stage1-kvm.aci" not in names
    assert failed.returncode == 2
    assert b"invalid version 'x'" in failed.stderr
