"""Loopback HTTP server for tests: a release mirror, ACI discovery and faults.

The server binds to 127.0.0.1 on an ephemeral port and never contacts any
other host.  It serves files below a root directory, responds to appc meta
discovery (`GET /<path>?ac-discovery=1`) for configured paths, injects faults
per path, and logs every request as one JSON line.

Configuration (a dict, or a JSON file for the CLI):

    {
      "prefix_host": "127.0.0.1",               # optional; this is the default
      "discovery": [
        {"path": "/hello",                      # served for GET /hello?ac-discovery=1
         "prefix": "{host}/hello",              # optional; this is the default
         "pubkeys": "/pubkeys.gpg",             # optional; null leaves the tag out
         "template": "/{name}-{version}-{os}-{arch}.{ext}"}   # optional; null leaves the tag out
      ],
      "faults": {
        "/rkt-v1.30.0.tar.gz": "corrupt",
        "/slow.aci": {"kind": "slow", "seconds": 5},
        "/once.aci": {"kind": "404", "count": 1}
      }
    }

rkt's discovery URL is `https://<prefix>?ac-discovery=1` (http with
`--insecure-allow-http`), so the host part of a prefix decides where rkt
connects.  Real rkt 1.30.0 validates prefixes and image names as appc
ACIdentifiers (`^[a-z0-9]+([-._~/][a-z0-9]+)*$`), which cannot contain a
port: against real rkt, discovery works only on ports 443 and 80 (the
recorded run used `127.0.0.1/hello` on port 80).  So pages name port-less
prefixes such as `127.0.0.1/hello` by default, while the URLs in them keep
the server's port.  The rkt simulator's "http_ports" test control sends its
port-80 requests for 127.0.0.1 to this server.  "prefix_host":
"127.0.0.1:{port}" gives prefixes with the port, which rkt rejects; only a
test of that rejection needs them.

Fault kinds (all bodies are the file's bytes unless said otherwise):
- "404", "500", or any other status code: that status with a short body;
- "corrupt": the file with one byte flipped (same length);
- "truncate": the first half of the file, with a matching Content-Length
  (a damaged file on the mirror; the client sees a successful download);
- "drop": Content-Length of the whole file, then half the bytes and a closed
  connection (the client sees a failed download);
- "hang": read the request, send nothing, close after `seconds` (default 30)
  or when the server stops;
- "slow": send the file in 16 chunks spread over `seconds` (default 5).
A fault with "count": N fires for the first N matching requests only.
"""

import html
import json
import os
import posixpath
import re
import sys
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOPBACK_HOST = "127.0.0.1"

DEFAULT_PREFIX_HOST = LOOPBACK_HOST
DEFAULT_PUBKEYS_PATH = "/pubkeys.gpg"
DEFAULT_TEMPLATE_PATH = "/{name}-{version}-{os}-{arch}.{ext}"

# Bounds for the hang and slow faults in seconds: long enough for a client
# timeout to fire, short enough that a forgotten server cannot block a test run.
DEFAULT_HANG_SECONDS = 30
DEFAULT_SLOW_SECONDS = 5
MAX_FAULT_SECONDS = 600

SLOW_CHUNKS = 16

# How often serve_forever checks for a shutdown request, in seconds.
SHUTDOWN_POLL_SECONDS = 0.05

FAULT_KINDS = ("corrupt", "truncate", "drop", "hang", "slow")
FAULT_OPTION_PATTERN = re.compile(r"^(?P<kind>[a-z0-9]+?)(:(?P<seconds>[0-9]+(\.[0-9]+)?))?(x(?P<count>[0-9]+))?$")


class ServerConfigError(ValueError):
    """Invalid server configuration."""


def normalize_fault(path, spec):
    """Return a fault dict {"kind", "seconds", "count"} for a config entry."""
    if isinstance(spec, (str, int)):
        spec = {"kind": str(spec)}
    if not isinstance(spec, dict) or "kind" not in spec:
        raise ServerConfigError("invalid fault for %s: %r; use a kind such as \"corrupt\" or {\"kind\": \"hang\", \"seconds\": 10}"
                                % (path, spec))
    kind = str(spec["kind"])
    known_statuses = {str(status.value) for status in HTTPStatus}
    if kind not in FAULT_KINDS and kind not in known_statuses:
        raise ServerConfigError("invalid fault kind %r for %s: use one of %s or an HTTP status code such as 404"
                                % (kind, path, ", ".join(FAULT_KINDS)))
    default_seconds = DEFAULT_SLOW_SECONDS if kind == "slow" else DEFAULT_HANG_SECONDS
    seconds = spec.get("seconds", default_seconds)
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= MAX_FAULT_SECONDS:
        raise ServerConfigError("invalid seconds %r for fault %s on %s: use a number from 0 to %d"
                                % (seconds, kind, path, MAX_FAULT_SECONDS))
    count = spec.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ServerConfigError("invalid count %r for fault on %s: use a positive whole number or leave it out" % (count, path))
    return {"kind": kind, "seconds": float(seconds), "count": count}


def parse_fault_option(option):
    """Parse the CLI form `PATH=KIND[:SECONDS][xCOUNT]`, e.g. `/a.aci=hang:10` or `/b=404x1`."""
    path, separator, spec = option.partition("=")
    match = FAULT_OPTION_PATTERN.match(spec)
    if not separator or not path.startswith("/") or match is None:
        raise ServerConfigError("invalid fault %r: use PATH=KIND[:SECONDS][xCOUNT], e.g. /hello.aci=corrupt" % (option,))
    fault = {"kind": match.group("kind")}
    if match.group("seconds") is not None:
        fault["seconds"] = float(match.group("seconds"))
    if match.group("count") is not None:
        fault["count"] = int(match.group("count"))
    return path, fault


def normalize_config(config):
    """Validate a server configuration and fill in defaults."""
    config = dict(config or {})
    unknown = set(config) - {"discovery", "faults", "prefix_host"}
    if unknown:
        raise ServerConfigError("unknown server config keys %s: use discovery, faults and prefix_host" % sorted(unknown))

    discovery = []
    for entry in config.get("discovery", []):
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict):
            raise ServerConfigError("invalid discovery entry %r: use a path string or {\"path\": \"/hello\", ...}" % (entry,))
        path = entry.get("path", "")
        if not path.startswith("/"):
            raise ServerConfigError("invalid discovery path %r: use an absolute URL path such as /hello" % (path,))
        discovery.append({
            "path": path.rstrip("/") or "/",
            "prefix": entry.get("prefix"),
            "pubkeys": entry.get("pubkeys", DEFAULT_PUBKEYS_PATH),
            "template": entry.get("template", DEFAULT_TEMPLATE_PATH),
        })

    faults = {}
    for path, spec in (config.get("faults") or {}).items():
        if not path.startswith("/"):
            raise ServerConfigError("invalid fault path %r: use an absolute URL path such as /hello.aci" % (path,))
        faults[path] = normalize_fault(path, spec)
    prefix_host = config.get("prefix_host") or DEFAULT_PREFIX_HOST
    if "/" in prefix_host or "://" in prefix_host:
        raise ServerConfigError("invalid prefix_host %r: use a host with an optional port, e.g. 127.0.0.1" % (prefix_host,))
    return {"discovery": discovery, "faults": faults, "prefix_host": prefix_host}


def corrupt_bytes(data):
    """Return `data` with the middle byte inverted."""
    if not data:
        return data
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]


class _RequestHandler(BaseHTTPRequestHandler):
    server_version = "rkt-testkit"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        # Requests go to the JSONL log instead of stderr.
        return

    def do_GET(self):  # pylint: disable=invalid-name
        self._handle(send_body=True)

    def do_HEAD(self):  # pylint: disable=invalid-name
        self._handle(send_body=False)

    def _handle(self, send_body):
        loopback = self.server.loopback
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        entry = {"time": time.time(), "method": self.command, "path": path, "query": url.query,
                 "status": None, "fault": None, "bytes": 0}
        try:
            self._respond(loopback, path, url.query, entry, send_body)
        except (BrokenPipeError, ConnectionResetError) as error:
            sys.stderr.write("testkit server: client closed the connection during %s %s: %s\n" % (self.command, path, error))
        finally:
            if not entry.get("logged"):
                self._log(entry)

    def _log(self, entry):
        # Requests are logged before the response goes out, so a client that
        # has read its response always finds the request in the log.
        entry["logged"] = True
        self.server.loopback.record_request({key: value for key, value in entry.items() if key != "logged"})

    def _respond(self, loopback, path, query, entry, send_body):
        fault = loopback.take_fault(path)
        if fault is not None:
            entry["fault"] = fault["kind"]
            kind = fault["kind"]
            if kind.isdigit():
                self._send_status(int(kind), entry, send_body)
                return
            if kind == "hang":
                entry["status"] = 0
                self._log(entry)
                loopback.stopping.wait(fault["seconds"])
                self.close_connection = True
                return

        if "ac-discovery=1" in query.split("&"):
            page = loopback.discovery_page(path)
            if page is not None:
                self._send_bytes(page.encode(), "text/html; charset=utf-8", entry, send_body)
                return

        data = loopback.read_file(path)
        if data is None:
            self._send_status(HTTPStatus.NOT_FOUND, entry, send_body)
            return

        if fault is None:
            self._send_bytes(data, "application/octet-stream", entry, send_body)
        elif fault["kind"] == "corrupt":
            self._send_bytes(corrupt_bytes(data), "application/octet-stream", entry, send_body)
        elif fault["kind"] == "truncate":
            self._send_bytes(data[:len(data) // 2], "application/octet-stream", entry, send_body)
        elif fault["kind"] == "drop":
            half = data[:len(data) // 2] if send_body else b""
            self._send_headers(HTTPStatus.OK, "application/octet-stream", len(data), entry, len(half))
            self._write(half)
            self.close_connection = True
        elif fault["kind"] == "slow":
            body = data if send_body else b""
            self._send_headers(HTTPStatus.OK, "application/octet-stream", len(data), entry, len(body))
            self._send_slowly(loopback, body, fault["seconds"])

    def _send_slowly(self, loopback, data, seconds):
        chunk_size = max(1, -(-len(data) // SLOW_CHUNKS))
        pause = seconds / SLOW_CHUNKS
        for start in range(0, len(data), chunk_size):
            self._write(data[start:start + chunk_size])
            if loopback.stopping.wait(pause):
                self.close_connection = True
                return

    def _send_status(self, status, entry, send_body):
        status = HTTPStatus(status)
        body = ("%d %s\n" % (status.value, status.phrase)).encode()
        self._send_bytes(body, "text/plain; charset=utf-8", entry, send_body, status)

    def _send_bytes(self, data, content_type, entry, send_body, status=HTTPStatus.OK):
        body = data if send_body else b""
        self._send_headers(status, content_type, len(data), entry, len(body))
        self._write(body)

    def _send_headers(self, status, content_type, length, entry, body_bytes):
        """Log the request with the status and the number of body bytes it will get, then send the headers."""
        entry["status"] = int(status)
        entry["bytes"] = body_bytes
        self._log(entry)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def _write(self, data):
        if data:
            self.wfile.write(data)
            self.wfile.flush()


class LoopbackServer:
    """HTTP server on 127.0.0.1 serving `root`, run in a background thread.

    Use as a context manager:

        with LoopbackServer(root, {"discovery": ["/hello"]}) as server:
            server.url("/hello.aci")      # http://127.0.0.1:PORT/hello.aci
            server.prefix("/hello")       # 127.0.0.1:PORT/hello
            server.requests()             # list of logged request dicts
    """

    def __init__(self, root, config=None, log_path=None, port=0):
        self.root = os.path.realpath(root)
        if not os.path.isdir(self.root):
            raise ServerConfigError("server root %s is not a directory: create it or pass another --root" % (root,))
        self.config = normalize_config(config)
        self.log_path = log_path
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._requests = []
        self._fault_hits = {}
        self._httpd = ThreadingHTTPServer((LOOPBACK_HOST, port), _RequestHandler)
        self._httpd.daemon_threads = True
        self._httpd.loopback = self
        self.port = self._httpd.server_address[1]
        self._thread = None

    @property
    def base_url(self):
        return "http://%s:%d" % (LOOPBACK_HOST, self.port)

    def url(self, path="/"):
        """Return the absolute http URL of `path` on this server."""
        return self.base_url + "/" + path.lstrip("/")

    @property
    def prefix_host(self):
        """Host part of the prefixes in discovery pages, e.g. 127.0.0.1."""
        return self.config["prefix_host"].replace("{port}", str(self.port))

    def prefix(self, path):
        """Return the rkt trust prefix for `path` as discovery pages name it, e.g. 127.0.0.1/hello."""
        return "%s/%s" % (self.prefix_host, path.strip("/"))

    def start(self):
        """Serve in a daemon thread; return self."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(SHUTDOWN_POLL_SECONDS,),
                                        name="loopback-http-%d" % self.port, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        """Serve in the calling thread until stop() or shutdown."""
        self._httpd.serve_forever(SHUTDOWN_POLL_SECONDS)

    def stop(self):
        """Stop serving, end hanging and slow responses, and close the socket."""
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def request_shutdown(self):
        """Make serve_forever() return soon; safe to call from a signal handler or timer."""
        self.stopping.set()
        threading.Thread(target=self._httpd.shutdown, name="loopback-http-shutdown", daemon=True).start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # Configuration changes while serving (tests switch faults between steps).
    def set_fault(self, path, spec):
        """Add or replace the fault for `path`; spec as in the config file."""
        with self._lock:
            self.config["faults"][path] = normalize_fault(path, spec)
            self._fault_hits.pop(path, None)

    def clear_faults(self):
        with self._lock:
            self.config["faults"].clear()
            self._fault_hits.clear()

    def add_discovery(self, path, pubkeys=DEFAULT_PUBKEYS_PATH, template=DEFAULT_TEMPLATE_PATH, prefix=None):
        """Serve `GET path?ac-discovery=1` with meta tags for `pubkeys` and `template` (None leaves one out)."""
        entry = normalize_config({"discovery": [{"path": path, "pubkeys": pubkeys, "template": template,
                                                 "prefix": prefix}]})["discovery"][0]
        with self._lock:
            self.config["discovery"] = [item for item in self.config["discovery"] if item["path"] != entry["path"]]
            self.config["discovery"].append(entry)

    def take_fault(self, path):
        """Return the fault for `path` and count the hit, or None when none applies (any more)."""
        with self._lock:
            fault = self.config["faults"].get(path)
            if fault is None:
                return None
            hits = self._fault_hits.get(path, 0)
            if fault["count"] is not None and hits >= fault["count"]:
                return None
            self._fault_hits[path] = hits + 1
            return fault

    def discovery_page(self, path):
        """Return the HTML discovery page for `path`, or None when `path` is not configured."""
        wanted = path.rstrip("/") or "/"
        with self._lock:
            entry = next((item for item in self.config["discovery"] if item["path"] == wanted), None)
        if entry is None:
            return None
        prefix = (entry["prefix"] or "{host}" + entry["path"]).replace("{host}", self.prefix_host)
        prefix = prefix.replace("{port}", str(self.port))
        tags = []
        if entry["template"]:
            tags.append('<meta name="ac-discovery" content="%s %s">'
                        % (html.escape(prefix), html.escape(self._absolute(entry["template"]))))
        if entry["pubkeys"]:
            tags.append('<meta name="ac-discovery-pubkeys" content="%s %s">'
                        % (html.escape(prefix), html.escape(self._absolute(entry["pubkeys"]))))
        head = "\n".join("    " + tag for tag in tags)
        return "<!DOCTYPE html>\n<html>\n  <head>\n%s\n  </head>\n  <body></body>\n</html>\n" % head

    def _absolute(self, location):
        if location.startswith(("http://", "https://")):
            return location.replace("{port}", str(self.port))
        return self.url(location)

    def read_file(self, path):
        """Return the bytes of the file at URL `path` below the root, or None."""
        relative = posixpath.normpath("/" + path).lstrip("/")
        candidate = os.path.realpath(os.path.join(self.root, relative))
        if candidate != self.root and not candidate.startswith(self.root + os.sep):
            return None
        if not os.path.isfile(candidate):
            return None
        with open(candidate, "rb") as stream:
            return stream.read()

    def record_request(self, entry):
        with self._lock:
            self._requests.append(entry)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps(entry, sort_keys=True) + "\n")

    def requests(self, path=None):
        """Return the logged requests (all, or those for `path`), oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._requests if path is None or entry["path"] == path]


def read_request_log(log_path):
    """Return the request dicts from a server's JSONL log (empty when the file is missing)."""
    if not os.path.exists(log_path):
        return []
    with open(log_path, encoding="utf-8") as log:
        return [json.loads(line) for line in log if line.strip()]
