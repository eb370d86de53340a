"""Tests of throwaway GPG keys and detached signatures (real gpg, temporary homedirs)."""

import json
import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from testkit import gpg  # noqa: E402  pylint: disable=wrong-import-position

CLI = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "testkit", "cli.py")

# `rkt trust` prints fingerprints like this (recorded from real rkt 1.30.0):
# "gpg key fingerprint is: 7726 22CF 5A3D A298 29C8  DABA 936D 97E0 5EB0 B3AF"
SPACED_FINGERPRINT = re.compile(r"^([0-9A-F]{4} ){4}[0-9A-F]{4}  ([0-9A-F]{4} ){4}[0-9A-F]{4}$")


@pytest.fixture(scope="module")
def home():
    with gpg.TemporaryGpgHome() as temporary_home:
        yield temporary_home


@pytest.fixture(scope="module")
def key(home):
    return home.generate_key("Testkit Signer <signer@example.com>")


def agent_processes_for(homedir):
    """Return the pids of running processes whose command line names `homedir`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as stream:
                command_line = stream.read()
        except OSError:
            continue
        if homedir.encode() in command_line:
            pids.append(int(entry))
    return pids


def wait_for_agents_to_exit(homedir):
    """Return the agent pids still running for `homedir` after a bounded wait (gpgconf --kill is asynchronous)."""
    deadline = time.monotonic() + 30
    remaining = agent_processes_for(homedir)
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = agent_processes_for(homedir)
    return remaining


def test_key_has_fingerprint_forms(key):
    assert re.fullmatch(r"[0-9A-F]{40}", key.fingerprint)
    assert key.rkt_fingerprint == key.fingerprint.lower()
    assert SPACED_FINGERPRINT.match(key.spaced_fingerprint)
    assert key.spaced_fingerprint.replace(" ", "") == key.fingerprint
    assert key.uid == "Testkit Signer <signer@example.com>"
    assert key.key_bits == 2048


def test_generate_key_reuses_existing_uid(home, key):
    again = home.generate_key("Testkit Signer <signer@example.com>")

    assert again.fingerprint == key.fingerprint
    assert len(gpg.list_secret_keys(home.path)) >= 1


def test_generate_key_rejects_non_rsa(home):
    with pytest.raises(gpg.GpgError, match="unsupported key type 'ed25519'"):
        home.generate_key("Other <other@example.com>", key_type="ed25519")


def test_export_public_is_armored(key, tmp_path):
    out = tmp_path / "pubkey.asc"

    armored = key.export_public(str(out))

    assert armored.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert out.read_bytes() == armored


def test_uid_with_colon_is_read_back(home):
    colon_key = home.generate_key("Colon: Test <colon@example.com>")

    assert colon_key.uid == "Colon: Test <colon@example.com>"
    assert gpg.find_key(home.path, "Colon: Test <colon@example.com>").fingerprint == colon_key.fingerprint


def test_signature_verifies_and_detects_tampering(home, key, tmp_path):
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"release bytes\n")

    signature = key.sign(str(payload))

    assert signature == str(payload) + ".asc"
    armored = payload.with_name("payload.bin.asc").read_bytes()
    assert armored.startswith(b"-----BEGIN PGP SIGNATURE-----")
    assert gpg.verify_signature(home.path, str(payload), signature)

    payload.write_bytes(b"release bytes, changed\n")
    assert not gpg.verify_signature(home.path, str(payload), signature)


def test_signature_value_has_full_key_length(key, tmp_path):
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"x" * 1000)

    signature = key.sign(str(payload), str(tmp_path / "custom.sig"))

    with open(signature, "rb") as stream:
        bits = gpg.rsa_signature_bits(stream.read())
    assert 2040 < bits <= 2048


def test_sign_retries_on_leading_zero_byte(key, tmp_path, monkeypatch):
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"data\n")
    real_bits = gpg.rsa_signature_bits
    calls = []
    gpg_arguments = []
    real_run_gpg = gpg.run_gpg

    def short_first(armored):
        calls.append(armored)
        # The first signature pretends to be a 2039-bit value (leading zero byte).
        return 2039 if len(calls) == 1 else real_bits(armored)

    def recording_run_gpg(homedir, arguments, input_bytes=None):
        gpg_arguments.append(list(arguments))
        return real_run_gpg(homedir, arguments, input_bytes)

    monkeypatch.setattr(gpg, "rsa_signature_bits", short_first)
    monkeypatch.setattr(gpg, "run_gpg", recording_run_gpg)

    signature = key.sign(str(payload))

    assert len(calls) == 2
    assert "--sig-notation" not in gpg_arguments[0]
    assert "--sig-notation" in gpg_arguments[1]
    assert calls[0] != calls[1]
    with open(signature, "rb") as stream:
        assert stream.read() == calls[1]


def test_sign_missing_file_fails(key, tmp_path):
    with pytest.raises(gpg.GpgError, match="no such file"):
        key.sign(str(tmp_path / "missing.bin"))


def test_dearmor_rejects_plain_text():
    with pytest.raises(gpg.GpgError, match="no armored OpenPGP data"):
        gpg.dearmor(b"not a signature\n")


def test_temporary_home_cleans_up_agent():
    with gpg.TemporaryGpgHome() as temporary_home:
        path = temporary_home.path
        signing_key = temporary_home.generate_key()
        payload = os.path.join(path, "payload")
        with open(payload, "wb") as stream:
            stream.write(b"data")
        signing_key.sign(payload)

    assert not os.path.exists(path)
    assert wait_for_agents_to_exit(path) == []


def test_session_key_is_cached():
    first = gpg.session_key("Session <session@example.com>")
    second = gpg.session_key("Session <session@example.com>")

    assert first.fingerprint == second.fingerprint
    assert first.homedir == second.homedir


def test_cli_key_and_sign(tmp_path):
    homedir = str(tmp_path / "gnupg")
    payload = tmp_path / "file.txt"
    payload.write_text("payload\n")
    try:
        created = subprocess.run([sys.executable, CLI, "key", "--homedir", homedir, "--uid", "Cli <cli@example.com>"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        reused = subprocess.run([sys.executable, CLI, "key", "--homedir", homedir, "--uid", "Cli <cli@example.com>",
                                 "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        signed = subprocess.run([sys.executable, CLI, "sign", "--homedir", homedir, "--file", str(payload)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)

        assert created.returncode == 0, created.stderr
        fingerprint = created.stdout.decode().strip()
        assert re.fullmatch(r"[0-9A-F]{40}", fingerprint)
        assert reused.returncode == 0, reused.stderr
        details = json.loads(reused.stdout)
        assert details["fingerprint"] == fingerprint
        assert details["rkt_fingerprint"] == fingerprint.lower()
        assert os.path.isfile(details["public_key"])
        assert signed.returncode == 0, signed.stderr
        assert json.loads(signed.stdout)["signature"] == str(payload) + ".asc"
        assert gpg.verify_signature(homedir, str(payload), str(payload) + ".asc")
        # The CLI stops the agent after each call, so nothing is left running.
        assert wait_for_agents_to_exit(homedir) == []
    finally:
        gpg.kill_agent(homedir)


def test_cli_sign_without_key_fails(tmp_path):
    payload = tmp_path / "file.txt"
    payload.write_text("payload\n")

    result = subprocess.run([sys.executable, CLI, "sign", "--homedir", str(tmp_path / "empty"), "--file", str(payload)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)

    assert result.returncode == 2
    assert b"no secret key in gpg homedir" in result.stderr
    assert not (tmp_path / "file.txt.asc").exists()
