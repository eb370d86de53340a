# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Module parameters and pod configurations for the unit tests of pod_config and run_argv."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.interpolation import InterpolationContext
from ansible_collections.nomad_drivers.rkt.plugins.module_utils._rkt.pod_config import from_params


def params(**overrides):
    values = dict(name='web', image='example.com/hello:0.0.1', command=None, args=[], env={}, cpu=None, memory=None,
                  trust_prefix=None, insecure_options=None, dns_servers=[], dns_search_domains=[], net=[], port_map={},
                  volumes=[], hostname=None, user=None, group=None, labels={}, annotations={}, debug=False,
                  no_overlay=False, stage1=None, meta={})
    values.update(overrides)
    return values


def build(**overrides):
    context = InterpolationContext(task_env=overrides.get('env') or {}, target_env={'HOME': '/root'},
                                   attributes={'driver.rkt.version': '1.30.0'}, meta={'dc': 'eu1'}, node_name='node-1')
    config, warnings = from_params(params(**overrides), lambda: context, 'none')
    return config, warnings
