"""Tests of the loopback HTTP server, in-process and as the detached `serve` process."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from testkit import server  # noqa: E402  pylint: disable=wrong-import-position

CLI = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "testkit", "cli.py")

PAYLOAD = bytes(range(256)) * 64  # 16 KiB with every byte value


class MetaTags(HTMLParser):
    """Collects <meta name=... content=...> pairs."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        if tag == "meta":
            attributes = dict(attrs)
            self.tags.append((attributes.get("name"), attributes.get("content")))


def meta_tags(page):
    parser = MetaTags()
    parser.feed(page)
    return parser.tags


@pytest.fixture
def root(tmp_path):
    directory = tmp_path / "mirror"
    (directory / "v1.30.0").mkdir(parents=True)
    (directory / "hello.aci").write_bytes(PAYLOAD)
    (directory / "v1.30.0" / "rkt-v1.30.0.tar.gz").write_bytes(PAYLOAD)
    (directory / "pubkeys.gpg").write_bytes(b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n")
    (tmp_path / "secret.txt").write_bytes(b"outside the root")
    return directory


@pytest.fixture
def loopback(root, tmp_path):
    with server.LoopbackServer(str(root), {"discovery": ["/hello"]}, log_path=str(tmp_path / "requests.jsonl")) as running:
        yield running


def fetch(url, timeout=30):
    """Return (status, body) for a GET of `url`; HTTP errors return their status too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_binds_to_loopback_only(loopback):
    assert loopback._httpd.server_address[0] == "127.0.0.1"  # pylint: disable=protected-access
    assert loopback.port > 0
    assert loopback.url("/hello.aci") == "http://127.0.0.1:%d/hello.aci" % loopback.port
    assert loopback.prefix("/hello") == "127.0.0.1/hello"


def test_serves_files_and_404(loopback):
    assert fetch(loopback.url("/hello.aci")) == (200, PAYLOAD)
    assert fetch(loopback.url("/v1.30.0/rkt-v1.30.0.tar.gz")) == (200, PAYLOAD)
    assert fetch(loopback.url("/missing.aci"))[0] == 404
    assert fetch(loopback.url("/v1.30.0"))[0] == 404


def test_head_request_sends_no_body(loopback):
    connection = http.client.HTTPConnection("127.0.0.1", loopback.port, timeout=30)
    try:
        connection.request("HEAD", "/hello.aci")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert response.status == 200
    assert response.getheader("Content-Length") == str(len(PAYLOAD))
    assert body == b""


def test_path_traversal_is_refused(loopback):
    connection = http.client.HTTPConnection("127.0.0.1", loopback.port, timeout=30)
    try:
        connection.request("GET", "/../secret.txt")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert response.status == 404
    assert b"outside the root" not in body


def test_discovery_page_has_meta_tags(loopback):
    status, body = fetch(loopback.url("/hello?ac-discovery=1"))

    assert status == 200
    prefix = "127.0.0.1/hello"
    assert meta_tags(body.decode()) == [
        ("ac-discovery", "%s http://127.0.0.1:%d/{name}-{version}-{os}-{arch}.{ext}" % (prefix, loopback.port)),
        ("ac-discovery-pubkeys", "%s http://127.0.0.1:%d/pubkeys.gpg" % (prefix, loopback.port)),
    ]


def test_discovery_prefix_with_port(root):
    # Real rkt rejects prefixes with a port (no appc ACIdentifier); a test of
    # that rejection requests them explicitly.
    with server.LoopbackServer(str(root), {"discovery": ["/hello"], "prefix_host": "127.0.0.1:{port}"}) as running:
        status, body = fetch(running.url("/hello?ac-discovery=1"))

        assert status == 200
        assert running.prefix("/hello") == "127.0.0.1:%d/hello" % running.port
        assert meta_tags(body.decode())[1] == ("ac-discovery-pubkeys",
                                               "127.0.0.1:%d/hello %s" % (running.port, running.url("/pubkeys.gpg")))


def test_discovery_unknown_path_is_404(loopback):
    assert fetch(loopback.url("/missing?ac-discovery=1"))[0] == 404


def test_discovery_entries_can_drop_tags(loopback):
    loopback.add_discovery("/nometa", pubkeys=None, template=None)
    loopback.add_discovery("/keysonly", template=None, pubkeys="/keys/other.gpg", prefix="127.0.0.1:{port}/custom")

    nometa = fetch(loopback.url("/nometa?ac-discovery=1"))
    keys_only = fetch(loopback.url("/keysonly?ac-discovery=1"))

    assert nometa[0] == 200
    assert meta_tags(nometa[1].decode()) == []
    assert meta_tags(keys_only[1].decode()) == [
        ("ac-discovery-pubkeys", "127.0.0.1:%d/custom http://127.0.0.1:%d/keys/other.gpg" % (loopback.port, loopback.port)),
    ]


def test_plain_path_without_discovery_query_serves_file(loopback, root):
    (root / "hello").write_bytes(b"a file named hello")

    assert fetch(loopback.url("/hello")) == (200, b"a file named hello")


def test_fault_corrupt_flips_one_byte(loopback):
    loopback.set_fault("/hello.aci", "corrupt")

    status, body = fetch(loopback.url("/hello.aci"))

    assert status == 200
    assert len(body) == len(PAYLOAD)
    differences = [index for index in range(len(body)) if body[index] != PAYLOAD[index]]
    assert differences == [len(PAYLOAD) // 2]


def test_fault_truncate_sends_half(loopback):
    loopback.set_fault("/hello.aci", "truncate")

    assert fetch(loopback.url("/hello.aci")) == (200, PAYLOAD[:len(PAYLOAD) // 2])


def test_fault_drop_breaks_the_download(loopback):
    loopback.set_fault("/hello.aci", "drop")

    with pytest.raises(http.client.IncompleteRead):
        fetch(loopback.url("/hello.aci"))


def test_fault_status_code_and_count(loopback):
    loopback.set_fault("/hello.aci", {"kind": "500", "count": 1})

    first = fetch(loopback.url("/hello.aci"))
    second = fetch(loopback.url("/hello.aci"))

    assert first[0] == 500
    assert second == (200, PAYLOAD)
    assert [entry["fault"] for entry in loopback.requests("/hello.aci")] == ["500", None]


def test_fault_hang_times_out_client(loopback):
    loopback.set_fault("/hello.aci", {"kind": "hang", "seconds": 60})

    with pytest.raises((socket.timeout, urllib.error.URLError)):
        fetch(loopback.url("/hello.aci"), timeout=0.5)

    logged = loopback.requests("/hello.aci")
    assert len(logged) == 1
    assert logged[0]["fault"] == "hang"
    assert logged[0]["status"] == 0


def test_fault_slow_delivers_everything(loopback):
    loopback.set_fault("/hello.aci", {"kind": "slow", "seconds": 0.2})

    assert fetch(loopback.url("/hello.aci")) == (200, PAYLOAD)


def test_clear_faults(loopback):
    loopback.set_fault("/hello.aci", "404")
    loopback.clear_faults()

    assert fetch(loopback.url("/hello.aci")) == (200, PAYLOAD)


def test_requests_are_logged(loopback, tmp_path):
    fetch(loopback.url("/hello?ac-discovery=1"))
    fetch(loopback.url("/pubkeys.gpg"))
    fetch(loopback.url("/missing"))

    logged = server.read_request_log(str(tmp_path / "requests.jsonl"))

    assert [(entry["method"], entry["path"], entry["query"], entry["status"]) for entry in logged] == [
        ("GET", "/hello", "ac-discovery=1", 200),
        ("GET", "/pubkeys.gpg", "", 200),
        ("GET", "/missing", "", 404),
    ]
    assert logged == loopback.requests()


def test_read_request_log_of_missing_file(tmp_path):
    assert server.read_request_log(str(tmp_path / "none.jsonl")) == []


def test_stop_ends_a_hanging_request(root):
    running = server.LoopbackServer(str(root), {"faults": {"/hello.aci": {"kind": "hang", "seconds": 600}}}).start()
    client = socket.create_connection(("127.0.0.1", running.port), timeout=30)
    try:
        client.sendall(b"GET /hello.aci HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        deadline = time.monotonic() + 30
        while not running.requests() and time.monotonic() < deadline:
            time.sleep(0.05)
        running.stop()
        # The hanging handler wakes up and closes the connection without a response.
        assert client.recv(1024) == b""
    finally:
        client.close()


@pytest.mark.parametrize("config, message", [
    ({"unknown": 1}, "unknown server config keys"),
    ({"prefix_host": "http://127.0.0.1"}, "invalid prefix_host"),
    ({"discovery": [42]}, "invalid discovery entry"),
    ({"discovery": ["hello"]}, "invalid discovery path"),
    ({"faults": {"hello.aci": "404"}}, "invalid fault path"),
    ({"faults": {"/a": "explode"}}, "invalid fault kind 'explode'"),
    ({"faults": {"/a": "599"}}, "invalid fault kind '599'"),
    ({"faults": {"/a": {"kind": "hang", "seconds": 10000}}}, "invalid seconds"),
    ({"faults": {"/a": {"kind": "404", "count": 0}}}, "invalid count"),
    ({"faults": {"/a": {"kind": "404", "count": "once"}}}, "invalid count 'once'"),
    ({"faults": {"/a": {"kind": "hang", "seconds": "long"}}}, "invalid seconds 'long'"),
])
def test_invalid_config_is_rejected(root, config, message):
    with pytest.raises(server.ServerConfigError, match=message):
        server.LoopbackServer(str(root), config)


def test_missing_root_is_rejected(tmp_path):
    with pytest.raises(server.ServerConfigError, match="is not a directory"):
        server.LoopbackServer(str(tmp_path / "nothing"))


def test_fault_option_parsing():
    assert server.parse_fault_option("/a.aci=hang:10") == ("/a.aci", {"kind": "hang", "seconds": 10.0})
    assert server.parse_fault_option("/b=404x1") == ("/b", {"kind": "404", "count": 1})
    assert server.parse_fault_option("/c=corrupt") == ("/c", {"kind": "corrupt"})
    with pytest.raises(server.ServerConfigError, match="invalid fault"):
        server.parse_fault_option("c=corrupt")


# The detached server started by `cli.py serve`.

def run_cli(*arguments):
    return subprocess.run([sys.executable, CLI] + list(arguments), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120, check=False)


def process_alive(pid):
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.fixture
def detached(root, tmp_path):
    """Paths for a detached server; stops it at teardown if a test left it running."""
    paths = {"port": str(tmp_path / "server.port"), "pid": str(tmp_path / "server.pid"),
             "log": str(tmp_path / "server.jsonl"), "config": str(tmp_path / "server.json")}
    yield paths
    if os.path.exists(paths["pid"]):
        run_cli("stop", "--pid-file", paths["pid"])


def test_cli_serve_and_stop(root, detached):
    with open(detached["config"], "w", encoding="utf-8") as stream:
        json.dump({"discovery": [{"path": "/hello", "template": None}], "faults": {"/bad.aci": "404"}}, stream)

    started = run_cli("serve", "--root", str(root), "--port-file", detached["port"], "--pid-file", detached["pid"],
                      "--log", detached["log"], "--config", detached["config"], "--fault", "/hello.aci=truncate",
                      "--discovery", "/other", "--prefix-host", "127.0.0.1:{port}", "--max-seconds", "300")

    assert started.returncode == 0, started.stderr
    port = int(started.stdout.decode().strip())
    with open(detached["port"], encoding="ascii") as stream:
        assert int(stream.read()) == port
    with open(detached["pid"], encoding="ascii") as stream:
        pid = int(stream.read())
    assert process_alive(pid)

    base = "http://127.0.0.1:%d" % port
    discovery = fetch(base + "/hello?ac-discovery=1")
    assert meta_tags(discovery[1].decode()) == [("ac-discovery-pubkeys", "127.0.0.1:%d/hello %s/pubkeys.gpg" % (port, base))]
    other = fetch(base + "/other?ac-discovery=1")
    assert ("ac-discovery-pubkeys", "127.0.0.1:%d/other %s/pubkeys.gpg" % (port, base)) in meta_tags(other[1].decode())
    assert fetch(base + "/hello.aci") == (200, PAYLOAD[:len(PAYLOAD) // 2])
    assert fetch(base + "/bad.aci")[0] == 404

    second = run_cli("serve", "--root", str(root), "--port-file", detached["port"], "--pid-file", detached["pid"])
    assert second.returncode == 2
    assert b"already runs" in second.stderr

    stopped = run_cli("stop", "--pid-file", detached["pid"])
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout)["stopped"] is True
    assert not process_alive(pid)
    assert not os.path.exists(detached["pid"])
    assert not os.path.exists(detached["port"])
    paths = [entry["path"] for entry in server.read_request_log(detached["log"])]
    assert paths == ["/hello", "/other", "/hello.aci", "/bad.aci"]

    again = run_cli("stop", "--pid-file", detached["pid"])
    assert again.returncode == 0
    assert json.loads(again.stdout)["stopped"] is False


def test_cli_serve_stops_after_max_seconds(root, detached):
    started = run_cli("serve", "--root", str(root), "--port-file", detached["port"], "--pid-file", detached["pid"],
                      "--max-seconds", "0.5")
    assert started.returncode == 0, started.stderr
    with open(detached["pid"], encoding="ascii") as stream:
        pid = int(stream.read())

    # Bounded wait for the self-stop; this checks that it happens, not how fast.
    deadline = time.monotonic() + 60
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert not process_alive(pid)
    assert not os.path.exists(detached["pid"])


def test_cli_serve_reports_bad_root(tmp_path, detached):
    result = run_cli("serve", "--root", str(tmp_path / "missing"), "--port-file", detached["port"],
                     "--pid-file", detached["pid"])

    assert result.returncode == 2
    assert b"is not a directory" in result.stderr
    assert not os.path.exists(detached["port"])


def test_cli_stop_refuses_foreign_process(detached):
    with open(detached["pid"], "w", encoding="ascii") as stream:
        stream.write("%d\n" % os.getpid())

    result = run_cli("stop", "--pid-file", detached["pid"])
    os.unlink(detached["pid"])

    assert result.returncode == 2
    assert b"is not a testkit server" in result.stderr


def test_cli_serve_rejects_bad_fault(root, detached):
    result = run_cli("serve", "--root", str(root), "--port-file", detached["port"], "--pid-file", detached["pid"],
                     "--fault", "/x=explode")

    assert result.returncode == 2
    assert b"invalid fault kind 'explode'" in result.stderr


def test_sigterm_stops_foreground_server(root, detached):
    process = subprocess.Popen([sys.executable, CLI, "serve", "--foreground", "--root", str(root),
                                "--port-file", detached["port"], "--pid-file", detached["pid"]],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(detached["port"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.path.exists(detached["port"])
        process.send_signal(signal.SIGTERM)
        stderr = process.communicate(timeout=60)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0
    assert b"stopped" in stderr
    assert not os.path.exists(detached["port"])
