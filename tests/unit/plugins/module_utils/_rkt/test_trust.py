# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import openpgp, trust
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.trust import TrustError
from ansible_collections.nomad_drivers.rkt.tests.unit.plugins.module_utils._rkt.unit_test_key import UNIT_TEST_FINGERPRINT, UNIT_TEST_KEY, read_key


@pytest.mark.parametrize('prefix', ['example.com/hello', '127.0.0.1/hello', 'example.com', 'quay.io/coreos/etcd',
                                    'example.com/app_v1', 'a', 'sub-domain.example.com/org/product'])
def test_prefix_valid(prefix):
    assert trust.validate_prefix(prefix) == prefix


@pytest.mark.parametrize('prefix, fragment', [
    ('', 'non-empty'),
    ('https://example.com/hello', 'URL scheme'),
    ('/etc/passwd', 'absolute path'),
    ('example.com/../../etc', '".."'),
    ('example.com//hello', 'empty'),
    ('example.com/hello/', 'empty'),
    ('./example.com', '"."'),
    ('..', '".."'),
    ('example.com\\hello', 'backslash'),
    ('example.com/\nx', 'control character'),
])
def test_prefix_invalid(prefix, fragment):
    with pytest.raises(TrustError) as error:
        trust.validate_prefix(prefix)
    assert fragment in str(error.value)


@pytest.mark.parametrize('prefix', [
    '127.0.0.1:8080/hello',
    'Example.com/hello',
    'example.com/~user',
    'example.com/-hello',
    'example.com/hello-',
    'example.com/a..b',
    'example.com/a.-b',
    'example.com/*',
    'example.com/hello world',
])
def test_prefix_not_an_appc_identifier(prefix):
    with pytest.raises(TrustError) as error:
        trust.validate_prefix(prefix)
    message = str(error.value)
    assert '"%s"' % prefix in message
    assert 'not a valid appc identifier' in message
    assert '^[a-z0-9]+([-._~/][a-z0-9]+)*$' in message


def test_prefix_with_port_names_the_port():
    with pytest.raises(TrustError) as error:
        trust.validate_prefix('127.0.0.1:41234/discovered')
    assert 'Remove the port "41234"' in str(error.value)


def test_prefix_upper_case_suggests_lower_case():
    with pytest.raises(TrustError) as error:
        trust.validate_prefix('Example.com/Hello')
    assert 'Write it in lower case: "example.com/hello"' in str(error.value)


@pytest.mark.parametrize('text', [
    '75BC2D5B9E26FD96A0BE96BB4A1BC2445956C153',
    '75BC 2D5B 9E26 FD96 A0BE  96BB 4A1B C244 5956 C153',
    '0x75bc2d5b9e26fd96a0be96bb4a1bc2445956c153',
])
def test_normalize_fingerprint(text):
    assert trust.normalize_fingerprint(text) == UNIT_TEST_FINGERPRINT


def test_normalize_fingerprint_rejects_short_id():
    with pytest.raises(TrustError) as error:
        trust.normalize_fingerprint('5956C153')
    assert '40 hex digits' in str(error.value)


def make_store(tmp_path, prefix, fingerprints):
    directory = tmp_path.joinpath('etc', 'rkt', 'trustedkeys', 'prefix.d', *prefix.split('/'))
    directory.mkdir(parents=True)
    for fingerprint in fingerprints:
        directory.joinpath(fingerprint).write_bytes(read_key())
    return str(tmp_path.joinpath('etc', 'rkt'))


def test_trusted_fingerprints_reads_nested_prefix(tmp_path):
    local = make_store(tmp_path, '127.0.0.1/hello', [UNIT_TEST_FINGERPRINT, 'not-a-fingerprint'])
    assert trust.trusted_fingerprints('127.0.0.1/hello', local, str(tmp_path / 'usr')) == [UNIT_TEST_FINGERPRINT]
    assert trust.trusted_fingerprints('127.0.0.1', local, str(tmp_path / 'usr')) == []


def test_decide_pinned(tmp_path):
    local = make_store(tmp_path, 'example.com/hello', [UNIT_TEST_FINGERPRINT])
    system = str(tmp_path / 'usr')
    assert trust.decide_trust('example.com/hello', None, UNIT_TEST_FINGERPRINT, local, system)[0] is False
    assert trust.decide_trust('example.com/hello', None, 'a' * 40, local, system)[0] is True


def test_decide_local_key_file(tmp_path):
    system = str(tmp_path / 'usr')
    empty = str(tmp_path / 'empty')
    assert trust.decide_trust('example.com/hello', UNIT_TEST_KEY, None, empty, system)[0] is True
    local = make_store(tmp_path, 'example.com/hello', [UNIT_TEST_FINGERPRINT])
    assert trust.decide_trust('example.com/hello', UNIT_TEST_KEY, None, local, system)[0] is False


def test_decide_discovery_any_key_counts(tmp_path):
    system = str(tmp_path / 'usr')
    assert trust.decide_trust('example.com/hello', None, None, str(tmp_path / 'none'), system)[0] is True
    local = make_store(tmp_path, 'example.com/hello', ['b' * 40])
    assert trust.decide_trust('example.com/hello', 'https://example.com/key.asc', None, local, system)[0] is False


def test_decide_missing_key_file(tmp_path):
    with pytest.raises(TrustError) as error:
        trust.decide_trust('example.com/hello', str(tmp_path / 'missing.asc'), None, str(tmp_path), str(tmp_path))
    assert 'missing.asc' in str(error.value)


def test_trust_argv():
    assert trust.build_trust_argv(['--dir=/d'], 'example.com/hello', '/k.asc') == [
        '--dir=/d', 'trust', '--prefix=example.com/hello', '--skip-fingerprint-review', '/k.asc']
    assert trust.build_trust_argv([], '127.0.0.1/hello', None, True, local_config='/tmp/x') == [
        '--local-config=/tmp/x', 'trust', '--prefix=127.0.0.1/hello', '--skip-fingerprint-review', '--insecure-allow-http']


def test_find_key_file(tmp_path):
    local = make_store(tmp_path, 'example.com/hello', [UNIT_TEST_FINGERPRINT])
    found = trust.find_key_file(local, 'example.com/hello')
    assert [fingerprint for fingerprint, dummy in found] == [UNIT_TEST_FINGERPRINT]
    assert openpgp.key_fingerprints(open(found[0][1], 'rb').read()) == [UNIT_TEST_FINGERPRINT]
