"""HTTP downloads for fetch, trust and discovery, restricted to the loopback host.

The simulator never speaks TLS and never contacts another host: an https://
URL fails as if nothing listened on port 443, and a host other than 127.0.0.1
or localhost fails as an unknown host. NOTE: real rkt would connect; tests only
ever serve files on 127.0.0.1.

Test control, not rkt behaviour: the control file key "http_ports", e.g.
{"http_ports": {"127.0.0.1": 41234}}, makes plain-http requests to port 80 of
that host connect to the given port instead. Real rkt discovers only on
ports 443 and 80, because a port is no valid part of an appc name or prefix.
The redirect lets a test server on an ephemeral port stand in for port 80.
URLs and error messages keep port 80, as real rkt prints them.
"""

import http.client
import urllib.parse

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")

# NOTE: real rkt sets no download timeout; the simulator gives up after this
# many seconds so a hanging test server cannot block a test forever.
TIMEOUT_SECONDS = 60


class FetchError(Exception):
    """A failed request; the message is Go's net/http error text."""


class Response:
    """STATUS code and BODY bytes of a completed request."""

    def __init__(self, status, body):
        self.status = status
        self.body = body


def get(url, progress=None):
    """GET URL and return a Response; PROGRESS(done, total) is called while reading.

    Raises FetchError with Go's wording for connection failures.
    """
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "https":
        raise FetchError('Get "%s": dial tcp %s:%d: connect: connection refused' % (url, host, port))
    if host not in LOOPBACK_HOSTS:
        raise FetchError('Get "%s": dial tcp: lookup %s: no such host' % (url, host))

    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    connection = http.client.HTTPConnection(host, _connect_port(host, port), timeout=TIMEOUT_SECONDS)
    try:
        connection.request("GET", path, headers={"User-Agent": "rkt-simulator"})
        response = connection.getresponse()
        total = int(response.getheader("Content-Length") or 0)
        chunks = []
        done = 0
        if progress is not None and response.status == 200:
            progress(0, total)
        while True:
            chunk = response.read(32768)
            if not chunk:
                break
            chunks.append(chunk)
            done += len(chunk)
            if progress is not None and response.status == 200:
                progress(done, total)
        return Response(response.status, b"".join(chunks))
    except ConnectionRefusedError:
        raise FetchError('Get "%s": dial tcp %s:%d: connect: connection refused' % (url, host, port))
    except OSError as error:
        raise FetchError('Get "%s": %s' % (url, error))
    finally:
        connection.close()


def _connect_port(host, port):
    """Return the port to connect to: the "http_ports" test control's port for HOST instead of 80."""
    if port != 80:
        return port
    from rktsim.cli import load_control

    redirects = load_control().get("http_ports") or {}
    return int(redirects.get(host, port))


class ProgressPrinter:
    """Draw "Downloading LABEL: x/y" lines on stderr like rkt without a terminal.

    ioprogress pads each line to the longest line drawn so far and ends with
    an empty line.
    """

    def __init__(self, context, label):
        from rktsim.formats import progress_bytes

        self.context = context
        self.label = label
        self.format_bytes = progress_bytes
        self.longest = 0
        self.drawn = 0

    def __call__(self, done, total):
        # Draw the start, the first chunk and the end, like a fast download.
        if 0 < done < total and self.drawn >= 2:
            return
        line = "Downloading %s:  %s/%s" % (self.label, self.format_bytes(done), self.format_bytes(total))
        if len(line) < self.longest:
            line += " " * (self.longest - len(line))
        self.longest = len(line)
        self.context.err(line + "\n")
        self.drawn += 1

    def finish(self):
        self.context.err("\n")
