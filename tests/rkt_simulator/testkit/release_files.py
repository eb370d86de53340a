"""Text files of the rkt v1.30.0 release tarball, reproduced for the test release.

Sources: the systemd units, tmpfiles.d/rkt.conf and setup-data-dir.sh come from
rkt's repository (github.com/rkt/rkt, directory dist/).  The file list of the
real rkt-v1.30.0.tar.gz (below) is taken from an unpacking log of that
tarball.  The bash completion and the man pages are short stand-ins: the real
ones are generated from rkt's command tree and are not needed by the tests.
"""

# Man pages of the real rkt-v1.30.0.tar.gz, as manpages/<name>.1.
MANPAGE_COMMANDS = (
    "rkt", "rkt_api-service", "rkt_cat-manifest", "rkt_completion", "rkt_config", "rkt_enter", "rkt_export",
    "rkt_fetch", "rkt_gc", "rkt_image", "rkt_image_cat-manifest", "rkt_image_export", "rkt_image_extract",
    "rkt_image_gc", "rkt_image_list", "rkt_image_render", "rkt_image_rm", "rkt_image_verify", "rkt_list",
    "rkt_metadata-service", "rkt_prepare", "rkt_rm", "rkt_run", "rkt_run-prepared", "rkt_status", "rkt_stop",
    "rkt_trust", "rkt_version",
)

RKT_GC_SERVICE = """\
[Unit]
Description=Garbage Collection for rkt

[Service]
Environment=GRACE_PERIOD=24h
Type=oneshot
ExecStart=/usr/bin/rkt gc --grace-period=${GRACE_PERIOD}
"""
# NOTE: rkt-gc.service above is the later form of the unit (with GRACE_PERIOD),
# copied from CoreOS cloud-configs that deployed it. The copy of rkt's repository
# available here only had the older form (`rkt gc --grace-period=5m`).

RKT_GC_TIMER = """\
[Unit]
Description=Periodic Garbage Collection for rkt

[Timer]
OnActiveSec=0s
OnUnitActiveSec=12h

[Install]
WantedBy=multi-user.target
"""

RKT_METADATA_SERVICE = """\
[Unit]
Description=rkt metadata service
Documentation=http://github.com/rkt/rkt
After=network.target rkt-metadata.socket
Requires=rkt-metadata.socket

[Service]
ExecStart=/usr/bin/rkt metadata-service

[Install]
WantedBy=multi-user.target
"""

RKT_METADATA_SOCKET = """\
[Unit]
Description=Rocket metadata service socket
PartOf=rkt-metadata.service

[Socket]
ListenStream=/run/rkt/metadata-svc.sock
SocketMode=0660
SocketUser=root
SocketGroup=root
RemoveOnStop=true

[Install]
WantedBy=sockets.target
"""

RKT_API_SERVICE = """\
[Unit]
Description=rkt api service
Documentation=http://github.com/rkt/rkt
After=network.target rkt-api-tcp.socket
Requires=rkt-api-tcp.socket

[Service]
ExecStart=/usr/bin/rkt api-service

[Install]
WantedBy=multi-user.target
"""

# NOTE: reconstructed from rkt's documented API socket (127.0.0.1:15441 and
# [::1]:15441); no copy of rkt's own file was available.
RKT_API_TCP_SOCKET = """\
[Unit]
Description=rkt api service socket
PartOf=rkt-api.service

[Socket]
ListenStream=127.0.0.1:15441
ListenStream=[::1]:15441
Service=rkt-api.service
BindIPv6Only=both

[Install]
WantedBy=sockets.target
"""

TMPFILES_RKT_CONF = """\
d /var/lib/rkt 2750 root rkt
d /var/lib/rkt/tmp 2750 root rkt

d /var/lib/rkt/cas 2770 root rkt
d /var/lib/rkt/cas/db 2770 root rkt
f /var/lib/rkt/cas/db/ql.db 0660 root rkt
# the ql database uses a WAL file whose name is generated from the sha1 hash of
# the database name
f /var/lib/rkt/cas/db/.34a8b4c1ad933745146fdbfef3073706ee571625 0660 root rkt
d /var/lib/rkt/cas/imagelocks 2770 root rkt
d /var/lib/rkt/cas/imageManifest 2770 root rkt
d /var/lib/rkt/cas/blob 2770 root rkt
d /var/lib/rkt/cas/tmp 2770 root rkt
d /var/lib/rkt/cas/tree 2700 root rkt
d /var/lib/rkt/cas/treestorelocks 2700 root rkt
d /var/lib/rkt/locks 2750 root rkt

d /var/lib/rkt/pods 2750 root rkt
d /var/lib/rkt/pods/embryo 2750 root rkt
d /var/lib/rkt/pods/prepare 2750 root rkt
d /var/lib/rkt/pods/prepared 2750 root rkt
d /var/lib/rkt/pods/run 2750 root rkt
d /var/lib/rkt/pods/exited-garbage 2750 root rkt
d /var/lib/rkt/pods/garbage 2750 root rkt

d /etc/rkt 2770 root rkt-admin
"""

# Note that the real script gives /etc/rkt mode 2775 while tmpfiles.d gives 2770;
# both are reproduced as released.
SETUP_DATA_DIR_SH = """\
#!/usr/bin/env bash

# Usage:
# ./setup-data-dir.sh [path to rkt data dir]
# The script can take one parameter being a path to the rkt data
# directory. If none is passed, /var/lib/rkt is assumed.

# Please keep it in sync with dist/init/systemd/tmpfiles.d/rkt.conf!

set -e

if [[ $EUID -ne 0 ]]; then
   echo "This script must be run as root"
   exit 1
fi

datadir="${1}"

if [[ -z "${datadir}" ]]; then
    datadir="/var/lib/rkt"
fi

# Creates the directory with the given mode and given group
# 1 - directory to create if it does not exist
# 2 - mode to set the directory to
# 3 - group to set the directory ownership to
make_directory() {
    local dir="${1}"
    local mode="${2}"
    local group="${3}"

    if [[ -e "${dir}" ]]; then
        chmod "${mode}" "${dir}"
    else
        mkdir --mode="${mode}" "${dir}"
    fi
    chgrp "${group}" "${dir}"
}

# Creates the file with the given mode and rkt group
# 1 - file to create if it does not exist
# 2 - mode to set the file to
create_rkt_file() {
    local file="${1}"
    local mode="${2}"

    if [[ ! -e "${file}" ]]; then
        touch "${file}"
    fi
    chmod "${mode}" "${file}"
    chgrp rkt "${file}"
}

getent group rkt-admin || groupadd --force --system rkt-admin
getent group rkt || groupadd --force --system rkt

if which systemd-tmpfiles; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/rkt.conf
    exit
fi

make_directory "${datadir}" 2750 "rkt"
make_directory "${datadir}/tmp" 2750 "rkt"

make_directory "${datadir}/cas" 2770 "rkt"
make_directory "${datadir}/cas/db" 2770 "rkt"
create_rkt_file "${datadir}/cas/db/ql.db" 0660
# the ql database uses a WAL file whose name is generated from the sha1 hash of
# the database name
create_rkt_file "${datadir}/cas/db/.34a8b4c1ad933745146fdbfef3073706ee571625" 0660
make_directory "${datadir}/cas/imagelocks" 2770 "rkt"
make_directory "${datadir}/cas/imageManifest" 2770 "rkt"
make_directory "${datadir}/cas/blob" 2770 "rkt"
make_directory "${datadir}/cas/tmp" 2770 "rkt"
make_directory "${datadir}/cas/tree" 2700 "rkt"
make_directory "${datadir}/cas/treestorelocks" 2700 "rkt"
make_directory "${datadir}/locks" 2750 "rkt"

make_directory "${datadir}/pods" 2750 "rkt"
make_directory "${datadir}/pods/embryo" 2750 "rkt"
make_directory "${datadir}/pods/prepare" 2750 "rkt"
make_directory "${datadir}/pods/prepared" 2750 "rkt"
make_directory "${datadir}/pods/run" 2750 "rkt"
make_directory "${datadir}/pods/exited-garbage" 2750 "rkt"
make_directory "${datadir}/pods/garbage" 2750 "rkt"

make_directory "/etc/rkt" 2775 "rkt-admin"
"""

# Stand-in for the cobra-generated completion script of rkt 1.30.0 (about
# 2000 lines); it completes the subcommand names only.
RKT_BASH_COMPLETION = """\
# bash completion for rkt (test release stand-in: subcommand names only)

_rkt_subcommands="api-service cat-manifest config enter export fetch gc help image list \\
metadata-service prepare rm run run-prepared status stop trust version"

_rkt()
{
    local current="${COMP_WORDS[COMP_CWORD]}"
    if [[ ${COMP_CWORD} -eq 1 ]]; then
        COMPREPLY=( $(compgen -W "${_rkt_subcommands}" -- "${current}") )
    fi
}

complete -F _rkt rkt
"""


def manpage(command, version):
    """Return a short roff man page for `command` (e.g. "rkt_run") of the test release."""
    words = command.replace("_", " ")
    return (
        '.TH "%s" "1" "" "rkt %s" "rkt Manual"\n'
        ".SH NAME\n"
        "%s \\- test release stand-in for the rkt %s man page\n"
        ".SH SYNOPSIS\n"
        ".B %s\n"
        ".SH DESCRIPTION\n"
        "This page belongs to a test build of rkt made from the rkt simulator.\n"
    ) % (command.upper(), version, words, version, words)


def release_text_files(version):
    """Return {path inside rkt-vX.Y.Z/: (text, mode)} for every text file of a release."""
    files = {
        "init/systemd/rkt-gc.service": (RKT_GC_SERVICE, 0o644),
        "init/systemd/rkt-gc.timer": (RKT_GC_TIMER, 0o644),
        "init/systemd/rkt-metadata.service": (RKT_METADATA_SERVICE, 0o644),
        "init/systemd/rkt-metadata.socket": (RKT_METADATA_SOCKET, 0o644),
        "init/systemd/rkt-api.service": (RKT_API_SERVICE, 0o644),
        "init/systemd/rkt-api-tcp.socket": (RKT_API_TCP_SOCKET, 0o644),
        "init/systemd/tmpfiles.d/rkt.conf": (TMPFILES_RKT_CONF, 0o644),
        "scripts/setup-data-dir.sh": (SETUP_DATA_DIR_SH, 0o755),
        "bash_completion/rkt.bash": (RKT_BASH_COMPLETION, 0o644),
    }
    for command in MANPAGE_COMMANDS:
        files["manpages/%s.1" % command] = (manpage(command, version), 0o644)
    return files
