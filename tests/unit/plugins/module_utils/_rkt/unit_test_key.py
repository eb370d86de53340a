# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The armored public key that the unit tests of trust, openpgp and task_manager trust and read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# Made with `gpg --quick-gen-key "rkt_task unit test <unit@example.com>" rsa2048 sign never`;
# gpg printed this fingerprint for it.
UNIT_TEST_KEY = os.path.join(os.path.dirname(__file__), 'fixtures', 'unit-test-key.asc')
UNIT_TEST_FINGERPRINT = '75bc2d5b9e26fd96a0be96bb4a1bc2445956c153'


def read_key():
    with open(UNIT_TEST_KEY, 'rb') as handle:
        return handle.read()
