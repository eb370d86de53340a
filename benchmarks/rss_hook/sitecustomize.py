# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Write this process's peak RSS at exit into the file named by BENCH_RSS_SELF_FILE.

measure_rss.py puts this folder on the PYTHONPATH of the process it measures.
The variable is removed at start-up, so the rkt processes that the module
starts do not write into the file too.
"""

import atexit
import os
import resource

_RECORD_FILE = os.environ.pop('BENCH_RSS_SELF_FILE', None)


def _write_max_rss():
    # ru_maxrss is in KiB on Linux.
    with open(_RECORD_FILE, 'w', encoding='utf-8') as handle:
        handle.write('%d\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if _RECORD_FILE:
    atexit.register(_write_max_rss)
