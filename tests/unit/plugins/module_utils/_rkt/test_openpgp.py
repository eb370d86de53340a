# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

import pytest

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt import openpgp
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.trust import TrustError
from ansible_collections.nomad_drivers.rkt.tests.unit.plugins.module_utils._rkt.unit_test_key import UNIT_TEST_FINGERPRINT, read_key


def test_fingerprint_of_armored_key():
    assert openpgp.key_fingerprints(read_key()) == [UNIT_TEST_FINGERPRINT]


def test_fingerprint_accepts_text_and_crlf():
    text = read_key().decode('ascii').replace('\n', '\r\n')
    assert openpgp.key_fingerprints(text) == [UNIT_TEST_FINGERPRINT]


def test_binary_key_rejected_like_rkt():
    # rkt 1.30.0: "openpgp: invalid argument: no armored data found".
    binary = openpgp.dearmor(read_key())
    with pytest.raises(TrustError) as error:
        openpgp.key_fingerprints(binary)
    assert 'armored' in str(error.value)


def test_corrupt_base64_rejected():
    text = read_key().decode('ascii').replace('m', '!', 3)
    with pytest.raises(TrustError):
        openpgp.key_fingerprints(text)


def test_truncated_key_rejected():
    data = openpgp.dearmor(read_key())[:40]
    armored = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n%s\n-----END PGP PUBLIC KEY BLOCK-----\n' % base64.b64encode(data).decode()
    with pytest.raises(TrustError) as error:
        openpgp.key_fingerprints(armored)
    assert 'cut short' in str(error.value)
