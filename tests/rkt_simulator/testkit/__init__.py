"""Test helpers around the rkt simulator: ACI images, GPG keys, release tarballs, a loopback HTTP server.

Import with tests/rkt_simulator on sys.path (`from testkit import build_aci`),
or run `python3 tests/rkt_simulator/testkit/cli.py --help`.  Standard library
and the gpg binary only; Python 3.9 or later.  docs/testing.md describes the
whole kit.
"""

from .aci import (AciError, DEFAULT_EXEC, aci_image_id, build_aci, build_manifest, read_manifest)
from .gpg import (GpgError, GpgKey, TemporaryGpgHome, generate_key, find_key, kill_agent, session_key,
                  sign_file, verify_signature)
from .release import (ReleaseError, build_release)
from .server import (LoopbackServer, ServerConfigError, read_request_log)

__all__ = [
    "AciError", "DEFAULT_EXEC", "aci_image_id", "build_aci", "build_manifest", "read_manifest",
    "GpgError", "GpgKey", "TemporaryGpgHome", "generate_key", "find_key", "kill_agent", "session_key",
    "sign_file", "verify_signature",
    "ReleaseError", "build_release",
    "LoopbackServer", "ServerConfigError", "read_request_log",
]
