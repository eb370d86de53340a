"""pytest fixtures built on the testkit (this module imports pytest; the rest of the testkit does not).

Use them from a conftest.py or a test module:

    from testkit.fixtures import gpg_key, hello_aci, loopback_server  # noqa: F401

- gpg_key: a session-wide RSA signing key (testkit.gpg.GpgKey);
- hello_aci: the default test image example.com/hello:0.0.1, written to a
  temporary directory and signed by gpg_key (path; `.asc` next to it);
- loopback_server: a running LoopbackServer whose root is a fresh temporary
  directory, with discovery for /hello and gpg_key's public key at /pubkeys.gpg.
"""

import pytest

from . import aci, gpg
from .server import LoopbackServer


@pytest.fixture(scope="session")
def gpg_key():
    """Return a signing key shared by every test in the session."""
    return gpg.session_key()


@pytest.fixture
def hello_aci(tmp_path, gpg_key):  # pylint: disable=redefined-outer-name
    """Return the path of a signed example.com/hello:0.0.1 image."""
    path = str(tmp_path / "hello.aci")
    aci.build_aci(path, "example.com/hello", "0.0.1")
    gpg.sign_file(gpg_key, path)
    return path


@pytest.fixture
def loopback_server(tmp_path, gpg_key):  # pylint: disable=redefined-outer-name
    """Yield a LoopbackServer on 127.0.0.1 serving tmp_path/www; stopped after the test."""
    root = tmp_path / "www"
    root.mkdir()
    gpg_key.export_public(str(root / "pubkeys.gpg"))
    with LoopbackServer(str(root), {"discovery": ["/hello"]}, log_path=str(tmp_path / "requests.jsonl")) as server:
        yield server
