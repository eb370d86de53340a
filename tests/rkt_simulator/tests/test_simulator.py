"""Tests of the simulator's own interface: test controls, invocation log, discovery, helpers.

The recorded rkt behaviour is covered by test_contract.py; these tests cover
what the transcript cannot show (the control file, the log, the zipapp
build) and paths the transcript only shows partly.
"""

import json
import os
import subprocess
import sys
import time

import pytest

SIMULATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SIMULATOR_DIR not in sys.path:
    sys.path.insert(0, SIMULATOR_DIR)

import testkit  # noqa: E402  pylint: disable=wrong-import-position
from rktsim.formats import binary_size, go_time, parse_go_duration, progress_bytes, tabwriter  # noqa: E402
from rktsim.quantity import parse_cpu, parse_memory  # noqa: E402

RKT = os.path.join(SIMULATOR_DIR, "rkt")


class Sim:
    """Run the simulator in a fresh RKT_SIM_ROOT."""

    def __init__(self, root):
        self.root = root
        self.env = dict(os.environ, RKT_SIM_ROOT=root)
        self.env.pop("RKT_SIM_CONTROL", None)
        self.env.pop("RKT_SIM_LOG", None)

    def __call__(self, *arguments, env=None, stdin=b""):
        return subprocess.run([RKT] + list(arguments), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=dict(self.env, **(env or {})), timeout=60, check=False)

    def control(self, value):
        os.makedirs(os.path.join(self.root, "rkt-sim"), exist_ok=True)
        with open(os.path.join(self.root, "rkt-sim", "control.json"), "w", encoding="utf-8") as handle:
            json.dump(value, handle)

    def log(self):
        with open(os.path.join(self.root, "rkt-sim", "invocations.jsonl"), encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]


@pytest.fixture
def sim(tmp_path):
    return Sim(str(tmp_path / "root"))


@pytest.fixture
def hello_aci(tmp_path):
    path = str(tmp_path / "hello.aci")
    testkit.build_aci(path, "example.com/hello", "0.0.1")
    return path


# ---------------------------------------------------------------- controls

def test_version_text_from_control(sim):
    sim.control({"version_stdout": "rkt version 0.8.1\nappc version 0.5.1\n", "version_stderr": "warn\n",
                 "version_rc": 3})
    result = sim("version")
    assert result.stdout == b"rkt version 0.8.1\nappc version 0.5.1\n"
    assert result.stderr == b"warn\n"
    assert result.returncode == 3


def test_version_default_text(sim):
    result = sim("version")
    assert result.returncode == 0
    assert result.stdout.decode().splitlines()[0] == "rkt Version: 1.30.0"


def test_fault_fires_count_times(sim):
    sim.control({"faults": [{"command": "image list", "rc": 7, "stdout": "out\n", "stderr": "boom\n", "count": 2}]})
    first = sim("image", "list")
    second = sim("image", "list")
    third = sim("image", "list")
    assert (first.returncode, first.stdout, first.stderr) == (7, b"out\n", b"boom\n")
    assert second.returncode == 7
    assert third.returncode == 0
    assert third.stdout == b"ID\tNAME\tSIZE\tIMPORT TIME\tLAST USED\n"


def test_fault_matches_only_its_command(sim):
    sim.control({"faults": [{"command": "run", "rc": 254, "stderr": "run: injected\n"}]})
    assert sim("list").returncode == 0
    result = sim("run", "example.com/hello:0.0.1")
    assert result.returncode == 254
    assert result.stderr == b"run: injected\n"


def test_fault_hang_then_exit(sim):
    sim.control({"faults": [{"command": "trust", "rc": 254, "hang_seconds": 0.2}]})
    assert sim("trust", "--prefix=example.com/x").returncode == 254


def test_euid_control_rejects_run_and_keeps_version(sim):
    sim.control({"euid": 1000})
    run = sim("run", "example.com/hello:0.0.1")
    assert run.returncode == 254
    assert run.stderr == b"run: cannot run as unprivileged user\n"
    assert sim("version").returncode == 0
    listing = sim("list")
    assert listing.stderr.decode().endswith("/var/lib/rkt/pods: permission denied\n")


def test_control_and_log_paths_from_environment(sim, tmp_path):
    control = tmp_path / "elsewhere.json"
    log = tmp_path / "calls.jsonl"
    control.write_text(json.dumps({"version_stdout": "garbage"}))
    result = sim("version", env={"RKT_SIM_CONTROL": str(control), "RKT_SIM_LOG": str(log)})
    assert result.stdout == b"garbage"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [record["command"] for record in records] == ["version"]


def test_invocation_log_records_argv_and_command(sim):
    sim("version")
    sim("--debug", "image", "list", "--full")
    sim("frobnicate")
    records = sim.log()
    assert [record["command"] for record in records] == ["version", "image list", "frobnicate"]
    assert records[1]["argv"] == [RKT, "--debug", "image", "list", "--full"]
    assert all(isinstance(record["pid"], int) and isinstance(record["time"], float) for record in records)


def test_no_log_without_root_or_log_path(monkeypatch):
    from rktsim import cli  # pylint: disable=import-outside-toplevel

    monkeypatch.delenv("RKT_SIM_ROOT", raising=False)
    monkeypatch.delenv("RKT_SIM_LOG", raising=False)
    touched = []
    monkeypatch.setattr(cli.os, "makedirs", lambda *arguments, **options: touched.append(arguments))
    monkeypatch.setattr("builtins.open", lambda *arguments, **options: touched.append(arguments))

    cli.log_invocation(["rkt", "version"], "version")

    assert touched == []


def test_pod_uuids_control_sets_uuids(sim, hello_aci):
    planned = "11111111-2222-3333-4444-555555555555"
    sim.control({"pod_uuids": [planned]})
    result = sim("prepare", "--insecure-options=image", hello_aci)
    assert result.stdout == (planned + "\n").encode()
    second = sim("prepare", "--insecure-options=image", hello_aci)
    assert second.stdout.decode().strip() != planned


# ---------------------------------------------------------------- paths and runs

def test_explicit_dir_is_used_as_given(sim, tmp_path, hello_aci):
    data = str(tmp_path / "data")
    assert sim("fetch", "--insecure-options=image", "--dir=" + data, hello_aci).returncode == 0
    assert os.path.isdir(os.path.join(data, "cas", "blob", "sha512"))
    assert not os.path.exists(os.path.join(sim.root, "var", "lib", "rkt", "cas"))


def test_run_passes_environment_and_args(sim, hello_aci, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=1\n")
    result = sim("run", "--insecure-options=image", "--set-env=A=b=c", "--set-env-file=" + str(env_file),
                 hello_aci, "--exec", "/bin/hello", "--", "--env", "A", "--env", "FROM_FILE", "--env", "HOME")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"A=b=c\nFROM_FILE=1\nHOME=\n"


def test_inherit_env_passes_caller_environment(sim, hello_aci):
    result = sim("run", "--insecure-options=image", "--inherit-env", hello_aci, "--exec", "/bin/hello", "--",
                 "--env", "CALLER_VALUE", env={"CALLER_VALUE": "x"})
    assert result.stdout == b"CALLER_VALUE=x\n"


def test_prepare_then_run_prepared_host_flavor(sim, hello_aci):
    prepared = sim("prepare", "--insecure-options=image", "--stage1-name=coreos.com/rkt/stage1-host:1.30.0",
                   hello_aci, "--exec", "/bin/hello", "--", "--say", "hi", "--exit", "4")
    pod_uuid = prepared.stdout.decode().strip()
    result = sim("run-prepared", pod_uuid)
    assert result.returncode == 4
    assert result.stdout.decode().endswith("]: hi\r\n")
    status = sim("status", pod_uuid).stdout.decode()
    assert "app-hello=4\n" in status
    assert "exited=true\n" in status


def test_status_wait_returns_when_pod_exits(sim, hello_aci, tmp_path):
    uuid_file = str(tmp_path / "uuid")
    process = subprocess.Popen([RKT, "run", "--insecure-options=image", "--uuid-file-save=" + uuid_file, hello_aci,
                                "--exec", "/bin/hello", "--", "--sleep", "1"], env=sim.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(uuid_file) and os.path.getsize(uuid_file):
                break
            time.sleep(0.05)
        result = sim("status", "--wait=30s", "--uuid-file=" + uuid_file)
        assert result.returncode == 0
        assert "state=exited\n" in result.stdout.decode()
    finally:
        process.wait(timeout=30)


def test_fetch_by_name_with_http_discovery(sim, tmp_path, hello_aci):
    www = tmp_path / "www"
    www.mkdir()
    key = testkit.generate_key(str(tmp_path / "gpg"), "discovery signer <d@example.com>")
    with testkit.LoopbackServer(str(www), {"discovery": ["/hello"], "prefix_host": "127.0.0.1"}) as server:
        sim.control({"http_ports": {"127.0.0.1": server.port}})
        name = server.prefix("/hello")
        assert name == "127.0.0.1/hello"
        # The server's template is /{name}-{version}-{os}-{arch}.{ext}, and
        # {name} is the whole image name, host included.
        image = str(www / name) + "-0.0.1-linux-amd64.aci"
        os.makedirs(os.path.dirname(image))
        testkit.build_aci(image, name, "0.0.1")
        key.sign(image)
        key.export_public(str(www / "pubkeys.gpg"))

        assert sim("fetch", name + ":0.0.1").stderr == b"fetch: discovery failed\n"
        trust = sim("trust", "--prefix=" + name, "--insecure-allow-http", "--skip-fingerprint-review")
        assert trust.returncode == 0, trust.stderr
        result = sim("fetch", "--insecure-options=http", name + ":0.0.1")
        assert result.returncode == 0, result.stderr
        assert result.stdout.decode().startswith("sha512-")
        assert b"image: signature verified:\n  discovery signer <d@example.com>\n" in result.stderr
        requested = [(entry["path"], entry["query"]) for entry in server.requests()]
        assert ("/hello", "ac-discovery=1") in requested
        assert ("/127.0.0.1/hello-0.0.1-linux-amd64.aci", "") in requested


def test_http_ports_redirects_port_80(sim, tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    key = testkit.generate_key(str(tmp_path / "gpg"), "port signer <p@example.com>")
    key.export_public(str(www / "pubkeys.gpg"))
    with testkit.LoopbackServer(str(www), {}) as server:
        sim.control({"http_ports": {"127.0.0.1": server.port}})
        result = sim("trust", "--prefix=127.0.0.1/url", "--insecure-allow-http", "--skip-fingerprint-review",
                     "http://127.0.0.1/pubkeys.gpg")
        assert result.returncode == 0, result.stderr
        assert 'Trusting "http://127.0.0.1/pubkeys.gpg" for prefix "127.0.0.1/url"' in result.stdout.decode()
        assert [entry["path"] for entry in server.requests()] == ["/pubkeys.gpg"]

        # Only port 80 is redirected: an explicit port is used as given.
        explicit = sim("trust", "--prefix=127.0.0.1/url", "--insecure-allow-http", "--skip-fingerprint-review",
                       "http://127.0.0.1:%d/pubkeys.gpg" % server.port)
        assert explicit.returncode == 0, explicit.stderr
        assert len(server.requests()) == 2


def test_http_ports_closed_port_message(sim):
    from contract_world import closed_port

    sim.control({"http_ports": {"127.0.0.1": closed_port()}})
    result = sim("--debug", "trust", "--prefix=127.0.0.1/hello", "--insecure-allow-http", "--skip-fingerprint-review")
    assert result.returncode == 254
    assert ('Get "http://127.0.0.1/hello?ac-discovery=1": dial tcp 127.0.0.1:80: connect: connection refused'
            in result.stderr.decode())


def _trusted_key_files(sim):
    found = []
    for folder, _dirs, files in os.walk(os.path.join(sim.root, "etc", "rkt", "trustedkeys")):
        found.extend(os.path.join(folder, name) for name in files)
    return found


@pytest.mark.parametrize("prefix, message", [
    ("127.0.0.1:8080/hello", 'ACIdentifier must contain only lower case alphanumeric characters plus "-._~/"'),
    ("Example.com/hello", 'ACIdentifier must contain only lower case alphanumeric characters plus "-._~/"'),
    ("example.com/hello/", "ACIdentifier must start and end with only lower case alphanumeric characters"),
    ("-example.com", "ACIdentifier must start and end with only lower case alphanumeric characters"),
])
def test_trust_key_file_invalid_prefix(sim, tmp_path, prefix, message):
    key = testkit.generate_key(str(tmp_path / "gpg"), "prefix signer <s@example.com>")
    key_file = str(tmp_path / "key.asc")
    key.export_public(key_file)

    result = sim("trust", "--prefix=" + prefix, "--skip-fingerprint-review", key_file)

    assert result.returncode == 254
    # rkt prints the key and the "Trusting" line before its keystore checks the prefix.
    assert 'Trusting "%s" for prefix "%s" without fingerprint review.\n' % (key_file, prefix) in result.stdout.decode()
    assert "Added key" not in result.stdout.decode()
    assert result.stderr.decode().endswith("trust: error adding keys: %s\n" % message)
    assert _trusted_key_files(sim) == []


def test_trust_discovery_prefix_with_port(sim, tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    # A page for /hello exists, but rkt reads "127.0.0.1:PORT/hello" as app
    # "127.0.0.1" with version "PORT/hello" and requests only the host's root page.
    with testkit.LoopbackServer(str(www), {"discovery": ["/hello"], "prefix_host": "127.0.0.1"}) as server:
        sim.control({"http_ports": {"127.0.0.1": server.port}})
        prefix = "127.0.0.1:%d/hello" % server.port
        result = sim("trust", "--prefix=" + prefix, "--insecure-allow-http", "--skip-fingerprint-review")
        assert result.returncode == 254
        assert result.stderr == b"trust: error determining key location: discovery failed\n"
        assert [(entry["path"], entry["query"]) for entry in server.requests()] == [("/", "ac-discovery=1")]
    assert _trusted_key_files(sim) == []


def test_trust_discovery_rejects_two_colons(sim):
    result = sim("trust", "--prefix=127.0.0.1:80/hello:1", "--insecure-allow-http", "--skip-fingerprint-review")
    assert result.returncode == 254
    assert result.stderr == (b"trust: error determining key location: "
                             b"malformed app string - colon may appear at most once\n")


@pytest.mark.parametrize("image, message", [
    ("127.0.0.1:8080/hello:0.0.1",
     'parse "127.0.0.1:8080/hello:0.0.1": first path segment in URL cannot contain colon'),
    ("Example.com/hello:0.0.1",
     'invalid appc image string "Example.com/hello:0.0.1": '
     'ACIdentifier must contain only lower case alphanumeric characters plus "-._~/"'),
    ("localhost:8080/hello:0.0.1",
     'invalid appc image string "localhost:8080/hello:0.0.1": malformed app string - colon may appear at most once'),
])
def test_invalid_image_names_rejected(sim, image, message):
    for command, prefix in (("fetch", "fetch"), ("run", "run")):
        result = sim(command, "--insecure-options=image", image)
        assert result.returncode == 254, (command, result.stderr)
        assert result.stderr.decode() == "%s: %s\n" % (prefix, message)


def test_help_for_commands(sim):
    assert sim("help", "image", "list").stdout.decode().startswith("NAME:\n\timage list - ")
    assert sim("stop", "--help").stdout.decode().startswith("NAME:\n\tstop - ")
    result = sim("image", "frob")
    assert result.returncode == 254
    assert result.stderr == b'Error: unknown command "frob" for "rkt image"\nRun \'rkt image --help\' for usage.\n'


def test_zipapp_reports_overridden_version(tmp_path):
    from testkit.release import build_simulator_zipapp

    path = str(tmp_path / "rkt.pyz")
    build_simulator_zipapp(path, "1.2.3")
    os.chmod(path, 0o755)
    result = subprocess.run([sys.executable, path, "version"], stdout=subprocess.PIPE, check=False,
                            env=dict(os.environ, RKT_SIM_ROOT=str(tmp_path / "root")))
    assert result.stdout.decode().splitlines()[0] == "rkt Version: 1.2.3"
    bad = subprocess.run([sys.executable, path, "list", "--bogus"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         check=False, env=dict(os.environ, RKT_SIM_ROOT=str(tmp_path / "root")))
    assert bad.returncode == 254


# ---------------------------------------------------------------- formats

@pytest.mark.parametrize("text, canonical", [
    ("128M", "128M"), ("1G", "1G"), ("512Mi", "512Mi"), ("100000000", "100M"), ("1024Mi", "1Gi"),
    ("1000M", "1G"), ("4096", "4096"), ("2e9", "2e9"),
])
def test_memory_canonical_form(text, canonical):
    assert parse_memory(text) == canonical


@pytest.mark.parametrize("text, canonical", [
    ("250m", "250m"), ("1", "1"), ("0.5", "500m"), ("0", "0"), ("-1", "-1"), ("1.5", "1500m"), ("2000m", "2"),
])
def test_cpu_canonical_form(text, canonical):
    assert parse_cpu(text) == canonical


@pytest.mark.parametrize("text, message", [
    ("abc", "error parsing request: quantities must match the regular expression"),
    ("16m", "memory limit of 1 bytes too low"),
    ("4095", "memory limit of 4095 bytes too low"),
])
def test_memory_rejected(text, message):
    with pytest.raises(ValueError, match=message):
        parse_memory(text)


def test_go_formats():
    assert go_time(1796413586270976090) == "2026-12-04 19:46:26.27 +0000 UTC"
    assert go_time(1796413586000000000) == "2026-12-04 19:46:26 +0000 UTC"
    assert [progress_bytes(value) for value in (0, 488, 32768, 1996800)] == ["0 B", "488 B", "32.8 KB", "2 MB"]
    assert [binary_size(value) for value in (1996800, 34691830, 83313152)] == ["1.9MiB", "33MiB", "80MiB"]
    assert parse_go_duration("1h30m") == 5400
    with pytest.raises(ValueError, match='missing unit in duration "5"'):
        parse_go_duration("5")


def test_tabwriter_pads_with_tabs():
    text = tabwriter([["UUID", "APP", "NETWORKS"], ["01628001", "hello", ""]])
    assert text == "UUID\t\tAPP\tNETWORKS\n01628001\thello\t\n"
