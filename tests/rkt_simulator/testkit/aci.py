"""Build small, deterministic appc images (ACIs) for tests.

An ACI is a tar archive holding a JSON `manifest` (appc ImageManifest) and a
`rootfs/` directory.  The images built here carry two POSIX shell scripts that
run on the host's /bin/sh, because the rkt simulator runs the app as a host
process after resolving the exec path inside the extracted rootfs:

- `rootfs/bin/busybox`: runs the named applet from the host (`busybox echo hi`,
  `busybox sh -c 'exit 3'`), so the command lines recorded from real rkt with a
  busybox image work unchanged;
- `rootfs/bin/hello`: a test app that prints, sleeps and exits on request
  (see HELLO_USAGE).

Builds are deterministic (sorted entries, fixed mtime, uid/gid 0, gzip header
without name or time), so the sha512 image ID of an image stays the same
across runs as long as its inputs do.
"""

import gzip
import hashlib
import io
import json
import os
import re
import tarfile

# appc spec version that rkt 1.30.0 reports (`rkt version`: "appc Version: 0.8.11")
# and writes into image manifests.
APPC_VERSION = "0.8.11"

# Exec of the recorded test image example.com/hello:0.0.1; keeping it makes
# `rkt image cat-manifest` of a default test image match the recorded output.
DEFAULT_EXEC = ("/bin/busybox", "echo", "hello from manifest exec")

# Fixed modification time of every tar entry (2020-01-01T00:00:00Z), so that
# rebuilding an image gives the same bytes and the same image ID.
FIXED_MTIME = 1577836800

ACI_NAME_PATTERN = re.compile(r"^[a-z0-9]+([-._~/][a-z0-9]+)*$")
PORT_PATTERN = re.compile(r"^(?P<name>[a-z0-9]+(-[a-z0-9]+)*):(?P<port>[0-9]+)(/(?P<protocol>tcp|udp))?$")
ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

HELLO_USAGE = """\
usage: hello [OPTION]...
Options run in the order given:
  --say TEXT          print TEXT on stdout
  --err TEXT          print TEXT on stderr
  --env NAME          print NAME=VALUE (empty value when NAME is unset)
  --env-all           print the whole environment, sorted
  --id                print uid=N gid=N of the process
  --cwd               print the working directory
  --write-pid FILE    write the process id to FILE
  --append FILE TEXT  append the line TEXT to FILE (for counting starts)
  --sleep SECONDS     sleep whole SECONDS; SIGTERM, SIGINT or SIGHUP end the
                      app as if it had been killed by that signal
  --exit CODE         exit at once with CODE
  --args ARG...       print each remaining argument on its own line, then exit 0
Without options it prints "hello".
"""

# POSIX sh only: the simulator runs it with the host's /bin/sh (dash on Debian).
HELLO_SCRIPT = """\
#!/bin/sh
# Test app for rkt simulator images.  Run with --help for the options.

usage() {
    cat <<'EOF'
""" + HELLO_USAGE + """EOF
}

fail() {
    echo "hello: $1" >&2
    exit 2
}

# rkt gives apps PATH only when the image or the user sets it.
PATH=${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}

# PID of the current `sleep 1` child, so that a stop signal can end it too.
sleeper=

on_signal() {
    if [ -n "$sleeper" ]; then
        kill "$sleeper" 2>/dev/null
    fi
    # Die by the same signal, so the parent gets status 128+N like for a killed process.
    trap - "$1"
    kill -s "$1" $$
}
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT
trap 'on_signal HUP' HUP

# Sleep in one-second steps in the background: `wait` returns at once when a
# trapped signal arrives, and a SIGKILLed app leaves no sleep behind for long.
sleep_seconds() {
    remaining=$1
    while [ "$remaining" -gt 0 ]; do
        sleep 1 &
        sleeper=$!
        wait "$sleeper"
        sleeper=
        remaining=$((remaining - 1))
    done
}

require_value() {
    if [ "$2" -lt 2 ]; then
        fail "option $1 needs a value"
    fi
}

require_number() {
    case $2 in
        ''|*[!0-9]*) fail "option $1 needs a whole number, got '$2'" ;;
    esac
}

if [ $# -eq 0 ]; then
    echo hello
    exit 0
fi

while [ $# -gt 0 ]; do
    option=$1
    case $option in
        --help)
            usage
            exit 0
            ;;
        --say)
            require_value "$option" $#
            printf '%s\\n' "$2"
            shift 2
            ;;
        --err)
            require_value "$option" $#
            printf '%s\\n' "$2" >&2
            shift 2
            ;;
        --env)
            require_value "$option" $#
            case $2 in
                ''|[0-9]*|*[!A-Za-z0-9_]*) fail "invalid variable name '$2'" ;;
            esac
            eval "value=\\${$2-}"
            printf '%s=%s\\n' "$2" "$value"
            shift 2
            ;;
        --env-all)
            env | LC_ALL=C sort
            shift
            ;;
        --id)
            printf 'uid=%s gid=%s\\n' "$(id -u)" "$(id -g)"
            shift
            ;;
        --cwd)
            pwd
            shift
            ;;
        --write-pid)
            require_value "$option" $#
            # Written to a temporary name first, so a reader never sees an empty file.
            printf '%s\\n' $$ > "$2.tmp" && mv -f "$2.tmp" "$2" || fail "cannot write pid file '$2'"
            shift 2
            ;;
        --append)
            if [ $# -lt 3 ]; then
                fail "option --append needs FILE and TEXT"
            fi
            printf '%s\\n' "$3" >> "$2" || fail "cannot append to '$2'"
            shift 3
            ;;
        --sleep)
            require_value "$option" $#
            require_number "$option" "$2"
            sleep_seconds "$2"
            shift 2
            ;;
        --exit)
            require_value "$option" $#
            require_number "$option" "$2"
            exit "$2"
            ;;
        --args)
            shift
            for argument in "$@"; do
                printf '%s\\n' "$argument"
            done
            exit 0
            ;;
        *)
            fail "unknown option '$option'; run hello --help"
            ;;
    esac
done
exit 0
"""

BUSYBOX_SCRIPT = """\
#!/bin/sh
# Stand-in for busybox in test images: runs the named applet from the host,
# e.g. `busybox echo hi` or `busybox sh -c 'exit 3'`.
if [ $# -eq 0 ]; then
    echo "usage: busybox APPLET [ARGUMENT]..." >&2
    exit 1
fi

# rkt gives apps PATH only when the image or the user sets it; the applet still
# has to be found.
PATH=${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}

applet=$1
shift
exec "$applet" "$@"
"""


class AciError(ValueError):
    """Invalid input for an image build."""


def parse_port(spec):
    """Parse `NAME:PORT[/PROTOCOL]` into an appc port object."""
    match = PORT_PATTERN.match(spec)
    if match is None:
        raise AciError("invalid port %r: use NAME:PORT[/tcp|udp], e.g. http:80" % (spec,))
    port = int(match.group("port"))
    if not 1 <= port <= 65535:
        raise AciError("invalid port %r: the port number must be 1-65535" % (spec,))
    return {
        "name": match.group("name"),
        "protocol": match.group("protocol") or "tcp",
        "port": port,
        "count": 1,
        "socketActivated": False,
    }


def parse_environment(spec):
    """Parse `NAME=VALUE` into an appc environment entry."""
    name, separator, value = spec.partition("=")
    if not separator or not ENV_NAME_PATTERN.match(name):
        raise AciError("invalid environment entry %r: use NAME=VALUE, e.g. GREETING=hi" % (spec,))
    return {"name": name, "value": value}


def build_manifest(name, version="0.0.1", exec_argv=DEFAULT_EXEC, os_name="linux", arch="amd64",
                   user="0", group="0", environment=None, ports=None, annotations=None, with_app=True):
    """Return an appc ImageManifest as a dict, keys in the order rkt prints them.

    `environment` is a dict or a list of (name, value) pairs; `ports` is a list
    of port dicts (see parse_port) or NAME:PORT strings.
    """
    if not ACI_NAME_PATTERN.match(name):
        raise AciError("invalid image name %r: use lower-case letters, digits and -._~/, e.g. example.com/hello" % (name,))

    labels = []
    if version:
        labels.append({"name": "version", "value": version})
    labels.append({"name": "os", "value": os_name})
    labels.append({"name": "arch", "value": arch})

    manifest = {
        "acKind": "ImageManifest",
        "acVersion": APPC_VERSION,
        "name": name,
        "labels": labels,
    }
    if with_app:
        manifest["app"] = _build_app(exec_argv, user, group, environment, ports)
    if annotations:
        manifest["annotations"] = [{"name": key, "value": value} for key, value in annotations.items()]
    return manifest


def _build_app(exec_argv, user, group, environment, ports):
    if not exec_argv or not str(exec_argv[0]).startswith("/"):
        raise AciError("invalid exec %r: the first element must be an absolute path, e.g. /bin/hello" % (exec_argv,))
    app = {"exec": [str(argument) for argument in exec_argv], "user": str(user), "group": str(group)}

    if environment:
        pairs = environment.items() if isinstance(environment, dict) else environment
        app["environment"] = [{"name": key, "value": str(value)} for key, value in pairs]

    if ports:
        app["ports"] = [parse_port(port) if isinstance(port, str) else dict(port) for port in ports]
    return app


def _tar_info(name, kind, mode, size=0):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.mtime = FIXED_MTIME
    info.uid = 0
    info.gid = 0
    info.uname = ""
    info.gname = ""
    return info


def build_aci_bytes(manifest, extra_files=None, include_apps=True, etc_dir=False, manifest_bytes=None):
    """Return the uncompressed ACI tar for `manifest` as bytes.

    `extra_files` maps paths inside rootfs (e.g. "etc/hosts") to bytes or str,
    or to (content, mode) tuples.  `manifest_bytes` replaces the manifest file
    verbatim (for tests of broken manifests); `manifest` is then ignored.
    """
    files = {}
    if include_apps:
        files["bin/hello"] = (HELLO_SCRIPT.encode(), 0o755)
        files["bin/busybox"] = (BUSYBOX_SCRIPT.encode(), 0o755)
    for path, content in (extra_files or {}).items():
        relative = path.lstrip("/")
        if not relative or ".." in relative.split("/"):
            raise AciError("invalid rootfs path %r: use a relative path inside rootfs, e.g. etc/hosts" % (path,))
        if isinstance(content, tuple):
            data, mode = content
        else:
            data, mode = content, 0o644
        files[relative] = (data.encode() if isinstance(data, str) else bytes(data), mode)

    directories = {"rootfs"}
    if etc_dir:
        directories.add("rootfs/etc")
    for relative in files:
        parts = ("rootfs/" + relative).split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directories.add("/".join(parts[:depth]))

    if manifest_bytes is None:
        manifest_bytes = (json.dumps(manifest, indent=2) + "\n").encode()

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        archive.addfile(_tar_info("manifest", tarfile.REGTYPE, 0o644, len(manifest_bytes)), io.BytesIO(manifest_bytes))
        entries = [(directory, None) for directory in directories]
        entries += [("rootfs/" + relative, file_entry) for relative, file_entry in files.items()]
        for path, file_entry in sorted(entries):
            if file_entry is None:
                archive.addfile(_tar_info(path, tarfile.DIRTYPE, 0o755))
            else:
                data, mode = file_entry
                archive.addfile(_tar_info(path, tarfile.REGTYPE, mode, len(data)), io.BytesIO(data))
    return buffer.getvalue()


def gzip_bytes(data):
    """Compress `data` with a gzip header that contains no file name and no time."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as compressed:
        compressed.write(data)
    return buffer.getvalue()


def build_aci(out, name, version="0.0.1", exec_argv=DEFAULT_EXEC, compress=False, extra_files=None,
              etc_dir=False, manifest_bytes=None, include_apps=True, **manifest_options):
    """Write an ACI to the path `out` and return its image ID (`sha512-<128 hex>`).

    `manifest_options` go to build_manifest (os_name, arch, user, group,
    environment, ports, annotations, with_app).
    """
    manifest = None
    if manifest_bytes is None:
        manifest = build_manifest(name, version, exec_argv, **manifest_options)
    tar_bytes = build_aci_bytes(manifest, extra_files=extra_files, include_apps=include_apps,
                                etc_dir=etc_dir, manifest_bytes=manifest_bytes)
    data = gzip_bytes(tar_bytes) if compress else tar_bytes

    directory = os.path.dirname(os.path.abspath(out))
    os.makedirs(directory, exist_ok=True)
    with open(out, "wb") as stream:
        stream.write(data)
    return "sha512-" + hashlib.sha512(tar_bytes).hexdigest()


def aci_image_id(path):
    """Return rkt's image ID of an ACI file: sha512 of the uncompressed tar.

    For an uncompressed ACI this equals the sha512 of the file.  Only gzip
    compression is recognised (rkt also reads bzip2 and xz).
    """
    with open(path, "rb") as stream:
        data = stream.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return "sha512-" + hashlib.sha512(data).hexdigest()


def read_manifest(path):
    """Return the manifest of an ACI file (compressed or not) as a dict."""
    with tarfile.open(path, mode="r:*") as archive:
        member = archive.extractfile("manifest")
        if member is None:
            raise AciError("%s has no regular file named manifest" % (path,))
        return json.loads(member.read().decode())
