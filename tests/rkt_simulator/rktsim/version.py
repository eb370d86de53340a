"""Version strings that `rkt version` prints.

The release-tarball builder rewrites this module when it packs the simulator
as a zipapp that reports another version, so every version string the
simulator prints must come from here.
"""

RKT_VERSION = "1.30.0"
APPC_VERSION = "0.8.11"
GO_VERSION = "go1.19.8"
GO_OS_ARCH = "linux/amd64"
FEATURES = "-TPM +SDJOURNAL"
