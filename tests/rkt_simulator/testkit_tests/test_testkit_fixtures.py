"""Tests of the pytest fixtures that other suites import from testkit.fixtures."""

import os
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from testkit import gpg  # noqa: E402  pylint: disable=wrong-import-position
from testkit.fixtures import gpg_key, hello_aci, loopback_server  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import


def test_hello_aci_is_signed(hello_aci, gpg_key):  # pylint: disable=redefined-outer-name
    assert os.path.isfile(hello_aci)
    assert gpg.verify_signature(gpg_key.homedir, hello_aci, hello_aci + ".asc")


def test_loopback_server_serves_the_public_key(loopback_server, gpg_key):  # pylint: disable=redefined-outer-name
    with urllib.request.urlopen(loopback_server.url("/pubkeys.gpg"), timeout=30) as response:
        served = response.read()
    with urllib.request.urlopen(loopback_server.url("/hello?ac-discovery=1"), timeout=30) as response:
        page = response.read().decode()

    assert served == gpg_key.export_public()
    assert 'content="%s %s"' % (loopback_server.prefix("/hello"), loopback_server.url("/pubkeys.gpg")) in page
    assert [entry["path"] for entry in loopback_server.requests()] == ["/pubkeys.gpg", "/hello"]
