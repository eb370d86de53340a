"""Tests of the ACI builder and of the app scripts it puts into images."""

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import tarfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from testkit import aci  # noqa: E402  pylint: disable=wrong-import-position

CLI = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "testkit", "cli.py")

# Output of `rkt image cat-manifest --pretty-print=false example.com/hello:0.0.1`
# recorded from real rkt 1.30.0 for its test image hello.aci.
RECORDED_HELLO_MANIFEST = (
    '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/hello","labels":[{"name":"version",'
    '"value":"0.0.1"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],"app":{"exec":["/bin/busybox",'
    '"echo","hello from manifest exec"],"user":"0","group":"0"}}'
)


def extract(aci_path, destination):
    with tarfile.open(aci_path, mode="r:*") as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(destination, filter="data")
        else:
            archive.extractall(destination)
    return os.path.join(destination, "rootfs")


@pytest.fixture
def rootfs(tmp_path):
    image = tmp_path / "hello.aci"
    aci.build_aci(str(image), "example.com/hello")
    return extract(str(image), str(tmp_path / "unpacked"))


def run_app(rootfs_path, *arguments, env=None):
    return subprocess.run(["/bin/sh", os.path.join(rootfs_path, "bin/hello")] + list(arguments),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60, check=False)


def test_default_manifest_matches_recorded_hello():
    manifest = aci.build_manifest("example.com/hello")

    assert json.dumps(manifest, separators=(",", ":")) == RECORDED_HELLO_MANIFEST


def test_manifest_with_ports_env_and_annotations():
    manifest = aci.build_manifest("example.com/web", "1.2.3", ["/bin/hello", "--sleep", "60"], user="1000",
                                  group="100", environment={"GREETING": "hi"}, ports=["http:8080", "dns:53/udp"],
                                  annotations={"authors": "tests"})

    assert manifest["labels"][0] == {"name": "version", "value": "1.2.3"}
    assert manifest["app"]["exec"] == ["/bin/hello", "--sleep", "60"]
    assert manifest["app"]["user"] == "1000"
    assert manifest["app"]["group"] == "100"
    assert manifest["app"]["environment"] == [{"name": "GREETING", "value": "hi"}]
    assert manifest["app"]["ports"] == [
        {"name": "http", "protocol": "tcp", "port": 8080, "count": 1, "socketActivated": False},
        {"name": "dns", "protocol": "udp", "port": 53, "count": 1, "socketActivated": False},
    ]
    assert manifest["annotations"] == [{"name": "authors", "value": "tests"}]


def test_manifest_without_version_label():
    manifest = aci.build_manifest("example.com/hello", version="")

    assert [label["name"] for label in manifest["labels"]] == ["os", "arch"]


@pytest.mark.parametrize("arguments, message", [
    ({"name": "Example.com/Hello"}, "invalid image name"),
    ({"name": "example.com/hello", "exec_argv": ["bin/hello"]}, "invalid exec"),
    ({"name": "example.com/hello", "exec_argv": []}, "invalid exec"),
    ({"name": "example.com/hello", "ports": ["http"]}, "invalid port"),
    ({"name": "example.com/hello", "ports": ["http:70000"]}, "invalid port"),
])
def test_manifest_rejects_invalid_input(arguments, message):
    with pytest.raises(aci.AciError, match=message):
        aci.build_manifest(**arguments)


def test_environment_entry_parsing():
    assert aci.parse_environment("A=b=c") == {"name": "A", "value": "b=c"}
    with pytest.raises(aci.AciError, match="invalid environment entry"):
        aci.parse_environment("1A=b")
    with pytest.raises(aci.AciError, match="invalid environment entry"):
        aci.parse_environment("NOVALUE")


def test_build_is_deterministic(tmp_path):
    first = tmp_path / "first.aci"
    second = tmp_path / "second.aci"

    first_id = aci.build_aci(str(first), "example.com/hello")
    second_id = aci.build_aci(str(second), "example.com/hello")

    assert first.read_bytes() == second.read_bytes()
    assert first_id == second_id
    assert first_id == "sha512-" + hashlib.sha512(first.read_bytes()).hexdigest()
    assert aci.aci_image_id(str(first)) == first_id


def test_gzip_build_keeps_image_id(tmp_path):
    plain = tmp_path / "plain.aci"
    compressed = tmp_path / "compressed.aci"
    compressed_again = tmp_path / "compressed-again.aci"

    plain_id = aci.build_aci(str(plain), "example.com/hello")
    compressed_id = aci.build_aci(str(compressed), "example.com/hello", compress=True)
    aci.build_aci(str(compressed_again), "example.com/hello", compress=True)

    assert compressed.read_bytes()[:2] == b"\x1f\x8b"
    assert gzip.decompress(compressed.read_bytes()) == plain.read_bytes()
    assert compressed_id == plain_id
    assert aci.aci_image_id(str(compressed)) == plain_id
    assert compressed.read_bytes() == compressed_again.read_bytes()


def test_different_inputs_give_different_ids(tmp_path):
    first_id = aci.build_aci(str(tmp_path / "a.aci"), "example.com/hello", "0.0.1")
    second_id = aci.build_aci(str(tmp_path / "b.aci"), "example.com/hello", "0.0.2")

    assert first_id != second_id


def test_tar_entries_are_sorted_and_owned_by_root(tmp_path):
    image = tmp_path / "hello.aci"
    aci.build_aci(str(image), "example.com/hello", extra_files={"etc/hosts": "127.0.0.1 localhost\n"})

    with tarfile.open(str(image)) as archive:
        members = archive.getmembers()
    names = [member.name for member in members]

    assert names[0] == "manifest"
    assert names[1:] == sorted(names[1:])
    assert "rootfs/etc/hosts" in names
    assert all(member.uid == 0 and member.gid == 0 for member in members)
    assert all(member.mtime == aci.FIXED_MTIME for member in members)
    modes = {member.name: member.mode for member in members}
    assert modes["rootfs/bin/hello"] == 0o755
    assert modes["rootfs/bin/busybox"] == 0o755
    assert modes["rootfs/etc/hosts"] == 0o644


def test_read_manifest_round_trip(tmp_path):
    image = tmp_path / "hello.aci"
    aci.build_aci(str(image), "example.com/hello", compress=True, ports=["http:80"])

    manifest = aci.read_manifest(str(image))

    assert manifest["name"] == "example.com/hello"
    assert manifest["app"]["ports"][0]["name"] == "http"


def test_manifest_bytes_are_written_verbatim(tmp_path):
    image = tmp_path / "broken.aci"
    aci.build_aci(str(image), "example.com/broken", manifest_bytes=b"{not json")

    with tarfile.open(str(image)) as archive:
        assert archive.extractfile("manifest").read() == b"{not json"


def test_etc_dir_and_rootfs_path_checks(tmp_path):
    image = tmp_path / "etc.aci"
    aci.build_aci(str(image), "example.com/hello-etc", etc_dir=True)

    with tarfile.open(str(image)) as archive:
        assert archive.getmember("rootfs/etc").isdir()

    with pytest.raises(aci.AciError, match="invalid rootfs path"):
        aci.build_aci(str(tmp_path / "bad.aci"), "example.com/bad", extra_files={"../escape": "x"})


def test_hello_without_arguments(rootfs):
    result = run_app(rootfs)

    assert result.returncode == 0
    assert result.stdout == b"hello\n"


def test_hello_runs_options_in_order(rootfs, tmp_path):
    env = {"PATH": os.environ["PATH"], "GREETING": "hi there"}
    marker = tmp_path / "starts.txt"

    result = run_app(rootfs, "--say", "first", "--err", "to stderr", "--env", "GREETING", "--env", "UNSET",
                     "--append", str(marker), "started", "--append", str(marker), "again", "--args", "a", "b c", "--exit",
                     env=env)

    assert result.returncode == 0
    assert result.stdout == b"first\nGREETING=hi there\nUNSET=\na\nb c\n--exit\n"
    assert result.stderr == b"to stderr\n"
    assert marker.read_text() == "started\nagain\n"


def test_hello_exit_code_and_env_all(rootfs):
    result = run_app(rootfs, "--env-all", "--exit", "7", "--say", "never", env={"A": "1", "B": "2"})

    assert result.returncode == 7
    assert b"A=1\nB=2\n" in result.stdout
    assert b"never" not in result.stdout


def test_hello_id_and_cwd(rootfs):
    result = run_app(rootfs, "--id", "--cwd")

    assert result.returncode == 0
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "uid=%d gid=%d" % (os.getuid(), os.getgid())
    assert lines[1] == os.getcwd()


@pytest.mark.parametrize("arguments, message", [
    (["--bogus"], b"unknown option '--bogus'"),
    (["--sleep", "soon"], b"needs a whole number"),
    (["--exit"], b"needs a value"),
    (["--env", "A;B"], b"invalid variable name"),
    (["--append", "only-file"], b"needs FILE and TEXT"),
])
def test_hello_rejects_bad_options(rootfs, arguments, message):
    result = run_app(rootfs, *arguments)

    assert result.returncode == 2
    assert message in result.stderr


def test_hello_sleep_ends_on_sigterm(rootfs, tmp_path):
    pid_file = tmp_path / "app.pid"
    process = subprocess.Popen(["/bin/sh", os.path.join(rootfs, "bin/hello"), "--write-pid", str(pid_file),
                                "--sleep", "300", "--say", "not reached"], stdout=subprocess.PIPE)
    try:
        # Wait (bounded) until the app has written its pid, i.e. reached --sleep.
        deadline = time.monotonic() + 30
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pid_file.read_text().strip() == str(process.pid)

        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == -signal.SIGTERM
    assert output == b""


def test_hello_short_sleep_then_exit(rootfs):
    result = run_app(rootfs, "--sleep", "1", "--exit", "4")

    assert result.returncode == 4


def test_busybox_shim_runs_host_applets(rootfs):
    busybox = os.path.join(rootfs, "bin/busybox")

    echo = subprocess.run([busybox, "echo", "hello from manifest exec"], stdout=subprocess.PIPE, check=False)
    exit_code = subprocess.run([busybox, "sh", "-c", "exit 3"], check=False)
    # rkt does not pass the caller's environment, so PATH may be missing.
    without_path = subprocess.run(["/bin/sh", busybox, "sh", "-c", "echo FOO=$FOO"], stdout=subprocess.PIPE,
                                  env={"FOO": "bar"}, check=False)
    no_applet = subprocess.run([busybox], stderr=subprocess.PIPE, check=False)

    assert echo.stdout == b"hello from manifest exec\n"
    assert exit_code.returncode == 3
    assert without_path.stdout == b"FOO=bar\n"
    assert no_applet.returncode == 1
    assert b"usage: busybox" in no_applet.stderr


def test_cli_aci_builds_and_prints_json(tmp_path):
    image = tmp_path / "cli.aci"
    result = subprocess.run([sys.executable, CLI, "aci", "--out", str(image), "--name", "example.com/cli",
                             "--version", "2.0.0", "--exec", "/bin/hello", "--exec-arg=--sleep", "--exec-arg", "60",
                             "--port", "http:80", "--env", "A=b=c", "--gzip"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["path"] == str(image)
    assert output["image_id"] == aci.aci_image_id(str(image))
    assert output["short_id"] == output["image_id"][:39]
    manifest = aci.read_manifest(str(image))
    assert manifest["app"]["exec"] == ["/bin/hello", "--sleep", "60"]
    assert manifest["app"]["environment"] == [{"name": "A", "value": "b=c"}]
    assert manifest["labels"][0]["value"] == "2.0.0"


def test_cli_aci_reports_bad_input(tmp_path):
    result = subprocess.run([sys.executable, CLI, "aci", "--out", str(tmp_path / "x.aci"), "--name", "BAD"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)

    assert result.returncode == 2
    assert b"invalid image name 'BAD'" in result.stderr
    assert not (tmp_path / "x.aci").exists()
