#!/usr/bin/env python3
"""Command line for the testkit: build ACIs, GPG keys and signatures, release tarballs; run the loopback server.

Run `python3 tests/rkt_simulator/testkit/cli.py SUBCOMMAND --help` for the
options.  Subcommands that build something print one JSON object on stdout
(except `key`, which prints the fingerprint, and `serve`, which prints the
port), so an Ansible task can read the result with `from_json`.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from testkit import aci, gpg, release, server  # noqa: E402  pylint: disable=wrong-import-position

# Seconds that `serve` waits for the detached server to write its port file.
SERVE_START_TIMEOUT_SECONDS = 15
# Seconds that `stop` waits after SIGTERM before it sends SIGKILL.
STOP_TIMEOUT_SECONDS = 10
DEFAULT_MAX_SECONDS = 900


class CliError(Exception):
    """A user error: printed as `testkit: <message>`, exit code 2."""


def print_json(value):
    print(json.dumps(value, indent=2, sort_keys=True))


def parse_key_value(text, option):
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise CliError("invalid %s %r: use NAME=VALUE" % (option, text))
    return name, value


# aci

def command_aci(arguments):
    if arguments.exec_json is not None and (arguments.exec_path or arguments.exec_arg):
        raise CliError("--exec-json cannot be combined with --exec or --exec-arg: pick one form")
    if arguments.exec_json is not None:
        try:
            exec_argv = json.loads(arguments.exec_json)
        except ValueError:
            exec_argv = None
        if not isinstance(exec_argv, list) or not exec_argv:
            raise CliError("invalid --exec-json %r: use a JSON list such as [\"/bin/hello\", \"--sleep\", \"60\"]"
                           % (arguments.exec_json,))
    elif arguments.exec_path:
        exec_argv = [arguments.exec_path] + list(arguments.exec_arg)
    elif arguments.exec_arg:
        raise CliError("--exec-arg needs --exec PATH for the program, e.g. --exec /bin/hello --exec-arg=--sleep")
    else:
        exec_argv = list(aci.DEFAULT_EXEC)

    extra_files = {}
    for item in arguments.file:
        destination, source = parse_key_value(item, "--file")
        with open(source, "rb") as stream:
            extra_files[destination] = (stream.read(), 0o755 if os.access(source, os.X_OK) else 0o644)

    manifest_bytes = None
    if arguments.manifest_file:
        with open(arguments.manifest_file, "rb") as stream:
            manifest_bytes = stream.read()

    image_id = aci.build_aci(
        arguments.out, arguments.name, arguments.version, exec_argv,
        compress=arguments.gzip, extra_files=extra_files, etc_dir=arguments.etc, manifest_bytes=manifest_bytes,
        os_name=arguments.os, arch=arguments.arch, user=arguments.user, group=arguments.group,
        environment=[parse_key_value(item, "--env") for item in arguments.env],
        ports=arguments.port,
        annotations=dict(parse_key_value(item, "--annotation") for item in arguments.annotation),
    )

    result = {"path": os.path.abspath(arguments.out), "image_id": image_id, "short_id": image_id[:39],
              "name": arguments.name, "version": arguments.version, "signature": None, "fingerprint": None}
    if arguments.sign_homedir:
        key = _find_key_or_fail(arguments.sign_homedir, arguments.fingerprint)
        try:
            result["signature"] = gpg.sign_file(key, arguments.out)
            result["fingerprint"] = key.fingerprint
        finally:
            gpg.kill_agent(arguments.sign_homedir)
    print_json(result)


# key and sign

def _find_key_or_fail(homedir, fingerprint=None):
    keys = gpg.list_secret_keys(homedir)
    if fingerprint:
        keys = [key for key in keys if key.fingerprint == fingerprint.replace(" ", "").upper()]
    if not keys:
        raise CliError("no secret key%s in gpg homedir %s: run `cli.py key --homedir %s` first"
                       % (" " + fingerprint if fingerprint else "", homedir, homedir))
    return keys[0]


def command_key(arguments):
    try:
        key = gpg.generate_key(arguments.homedir, arguments.uid, arguments.key_type, reuse=not arguments.new)
        public_key = arguments.public_key_out or os.path.join(arguments.homedir, "public-key.asc")
        key.export_public(public_key)
    finally:
        gpg.kill_agent(arguments.homedir)
    if arguments.json:
        print_json({"fingerprint": key.fingerprint, "rkt_fingerprint": key.rkt_fingerprint,
                    "spaced_fingerprint": key.spaced_fingerprint, "uid": key.uid,
                    "public_key": os.path.abspath(public_key), "homedir": os.path.abspath(arguments.homedir)})
    else:
        print(key.fingerprint)


def command_sign(arguments):
    key = _find_key_or_fail(arguments.homedir, arguments.fingerprint)
    try:
        signature = gpg.sign_file(key, arguments.file, arguments.out)
    finally:
        gpg.kill_agent(arguments.homedir)
    print_json({"signature": os.path.abspath(signature), "fingerprint": key.fingerprint})


# release

def command_release(arguments):
    key = None
    other_key = None
    homedirs = [directory for directory in (arguments.homedir, arguments.other_homedir) if directory]
    try:
        if arguments.homedir:
            key = _find_key_or_fail(arguments.homedir, arguments.fingerprint)
        if arguments.other_homedir:
            other_key = _find_key_or_fail(arguments.other_homedir)
        built = release.build_release(arguments.out, arguments.version, key=key, defect=arguments.defect,
                                      other_key=other_key, flavors=arguments.stage1_flavor or release.STAGE1_FLAVORS)
    finally:
        for homedir in homedirs:
            gpg.kill_agent(homedir)
    print_json(built._asdict())


# serve and stop

def _process_alive(pid):
    """Return True when process `pid` exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as stream:
            state = stream.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _process_command_line(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as stream:
            return stream.read().split(b"\0")
    except OSError:
        return []


def _read_pid(pid_file):
    try:
        with open(pid_file, encoding="ascii") as stream:
            return int(stream.read().strip())
    except FileNotFoundError:
        return None
    except ValueError as error:
        raise CliError("pid file %s does not hold a process id: remove it" % (pid_file,)) from error


def _is_our_server(pid, pid_file):
    """Return True when `pid` is a `serve --foreground` process of this CLI for `pid_file`."""
    command_line = _process_command_line(pid)
    return b"--foreground" in command_line and os.path.abspath(pid_file).encode() in command_line


def _write_atomically(path, text):
    temporary = "%s.tmp-%d" % (path, os.getpid())
    with open(temporary, "w", encoding="ascii") as stream:
        stream.write(text)
    os.replace(temporary, path)


def _load_server_config(arguments):
    config = {"discovery": [], "faults": {}}
    if arguments.config:
        with open(arguments.config, encoding="utf-8") as stream:
            loaded = json.load(stream)
        unknown = set(loaded) - {"discovery", "faults", "prefix_host"}
        if unknown:
            raise CliError("unknown keys %s in %s: use discovery, faults and prefix_host" % (sorted(unknown), arguments.config))
        config["discovery"].extend(loaded.get("discovery", []))
        config["faults"].update(loaded.get("faults", {}))
        config["prefix_host"] = loaded.get("prefix_host")
    if arguments.prefix_host:
        config["prefix_host"] = arguments.prefix_host
    config["discovery"].extend(arguments.discovery)
    for option in arguments.fault:
        path, fault = server.parse_fault_option(option)
        config["faults"][path] = fault
    return server.normalize_config(config)


def command_serve(arguments):
    if arguments.max_seconds <= 0:
        raise CliError("invalid --max-seconds %s: use a positive number of seconds" % (arguments.max_seconds,))
    arguments.pid_file = os.path.abspath(arguments.pid_file)
    arguments.port_file = os.path.abspath(arguments.port_file)
    config = _load_server_config(arguments)
    if arguments.foreground:
        _serve_foreground(arguments, config)
        return

    running = _read_pid(arguments.pid_file)
    if running is not None and _process_alive(running) and _is_our_server(running, arguments.pid_file):
        raise CliError("a server (pid %d) already runs for %s: run `cli.py stop --pid-file %s` first"
                       % (running, arguments.pid_file, arguments.pid_file))
    for stale in (arguments.port_file, arguments.pid_file):
        if os.path.exists(stale):
            os.unlink(stale)

    # The child gets the same options, absolute file paths and --foreground.
    child_argv = [sys.executable, os.path.abspath(__file__)] + sys.argv[1:]
    child_argv += ["--foreground", "--pid-file", arguments.pid_file, "--port-file", arguments.port_file]
    stderr_path = arguments.pid_file + ".stderr"
    with open(stderr_path, "ab") as stderr_file:
        child = subprocess.Popen(child_argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr_file,
                                 start_new_session=True, close_fds=True)

    deadline = time.monotonic() + SERVE_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if os.path.exists(arguments.port_file):
            with open(arguments.port_file, encoding="ascii") as stream:
                print(stream.read().strip())
            return
        if child.poll() is not None:
            break
        time.sleep(0.05)
    if child.poll() is None:
        child.kill()
    child.wait()
    with open(stderr_path, encoding="utf-8", errors="replace") as stream:
        details = stream.read().strip()
    raise CliError("the server did not start within %d s (exit code %s); its stderr (%s):\n%s"
                   % (SERVE_START_TIMEOUT_SECONDS, child.returncode, stderr_path, details))


def _serve_foreground(arguments, config):
    loopback = server.LoopbackServer(arguments.root, config, log_path=arguments.log)

    def stop_on_signal(signal_number, frame):  # pylint: disable=unused-argument
        loopback.request_shutdown()

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    # The server stops itself, so a test that never calls `stop` leaves nothing running for long.
    timer = threading.Timer(arguments.max_seconds, loopback.request_shutdown)
    timer.daemon = True
    timer.start()

    _write_atomically(arguments.pid_file, "%d\n" % os.getpid())
    _write_atomically(arguments.port_file, "%d\n" % loopback.port)
    sys.stderr.write("testkit server pid %d listening on %s, root %s, stops after %s s\n"
                     % (os.getpid(), loopback.base_url, loopback.root, arguments.max_seconds))
    sys.stderr.flush()
    try:
        loopback.serve_forever()
    finally:
        timer.cancel()
        loopback.stop()
        if _read_pid(arguments.pid_file) == os.getpid():
            for path in (arguments.pid_file, arguments.port_file):
                if os.path.exists(path):
                    os.unlink(path)
        sys.stderr.write("testkit server pid %d stopped\n" % os.getpid())


def command_stop(arguments):
    pid_file = os.path.abspath(arguments.pid_file)
    pid = _read_pid(pid_file)
    if pid is None or not _process_alive(pid):
        print(json.dumps({"stopped": False, "reason": "not running", "pid": pid}))
        if pid is not None:
            os.unlink(pid_file)
        return
    if not _is_our_server(pid, pid_file):
        raise CliError("process %d from %s is not a testkit server for that pid file; not stopping it. Remove the stale pid file"
                       % (pid, pid_file))

    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline and _process_alive(pid):
        time.sleep(0.05)
    killed = False
    if _process_alive(pid):
        os.kill(pid, signal.SIGKILL)
        killed = True
    if os.path.exists(pid_file) and _read_pid(pid_file) == pid:
        os.unlink(pid_file)
    print(json.dumps({"stopped": True, "pid": pid, "killed": killed}))


def command_image_id(arguments):
    print(aci.aci_image_id(arguments.file))


# argument parsing

def build_parser():
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.split("\n", 1)[0])
    subcommands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    subcommands.required = True

    image = subcommands.add_parser("aci", help="build an ACI image; prints JSON with path and image_id")
    image.add_argument("--out", required=True, help="path of the ACI file to write")
    image.add_argument("--name", required=True, help="image name, e.g. example.com/hello")
    image.add_argument("--version", default="0.0.1", help="version label (default 0.0.1); empty for none")
    image.add_argument("--exec", dest="exec_path", help="absolute program path inside the image, e.g. /bin/hello "
                       "(default: /bin/busybox echo 'hello from manifest exec', as in the recorded test image)")
    image.add_argument("--exec-arg", action="append", default=[], help="an argument after --exec; repeat, "
                       "write options as --exec-arg=--sleep")
    image.add_argument("--exec-json", help="the whole exec as a JSON list, instead of --exec/--exec-arg")
    image.add_argument("--os", default="linux", help="os label (default linux)")
    image.add_argument("--arch", default="amd64", help="arch label (default amd64)")
    image.add_argument("--user", default="0", help="app user (default 0)")
    image.add_argument("--group", default="0", help="app group (default 0)")
    image.add_argument("--env", action="append", default=[], help="app environment NAME=VALUE; repeat")
    image.add_argument("--port", action="append", default=[], help="app port NAME:PORT[/tcp|udp], e.g. http:80; repeat")
    image.add_argument("--annotation", action="append", default=[], help="image annotation NAME=VALUE; repeat")
    image.add_argument("--file", action="append", default=[], help="add host file SOURCE as rootfs/DEST: DEST=SOURCE; repeat")
    image.add_argument("--etc", action="store_true", help="add an empty rootfs/etc directory")
    image.add_argument("--gzip", action="store_true", help="gzip the ACI (the image ID stays the sha512 of the tar)")
    image.add_argument("--manifest-file", help="use this file verbatim as the manifest (for broken-manifest tests)")
    image.add_argument("--sign-homedir", help="also sign the ACI with the key in this gpg homedir (writes OUT.asc)")
    image.add_argument("--fingerprint", help="with --sign-homedir: the key to use (default: the first)")
    image.set_defaults(handler=command_aci)

    key = subcommands.add_parser("key", help="make (or reuse) a throwaway signing key; prints its fingerprint")
    key.add_argument("--homedir", required=True, help="gpg homedir to use; created with mode 0700")
    key.add_argument("--uid", default=gpg.DEFAULT_UID, help="user id, default %r" % gpg.DEFAULT_UID)
    key.add_argument("--key-type", default=gpg.DEFAULT_KEY_TYPE, help="rsaNNNN, default rsa2048")
    key.add_argument("--public-key-out", help="where to write the armored public key (default HOMEDIR/public-key.asc)")
    key.add_argument("--new", action="store_true", help="make a new key even if one with this uid exists")
    key.add_argument("--json", action="store_true", help="print JSON with fingerprint forms, uid and key path")
    key.set_defaults(handler=command_key)

    sign = subcommands.add_parser("sign", help="write FILE.asc, an armored detached signature")
    sign.add_argument("--homedir", required=True, help="gpg homedir holding the key")
    sign.add_argument("--file", required=True, help="file to sign")
    sign.add_argument("--out", help="signature path (default FILE.asc)")
    sign.add_argument("--fingerprint", help="the key to use (default: the first secret key)")
    sign.set_defaults(handler=command_sign)

    build = subcommands.add_parser("release", help="build rkt-vX.Y.Z.tar.gz, .asc, .sha512; prints JSON")
    build.add_argument("--out", required=True, help="directory for the artefacts")
    build.add_argument("--version", required=True, help="rkt version X.Y.Z that the packed simulator reports")
    build.add_argument("--homedir", help="gpg homedir with the signing key (no .asc without it)")
    build.add_argument("--fingerprint", help="the signing key (default: the first secret key)")
    build.add_argument("--defect", choices=release.DEFECTS, help="damage an artefact for a failure test")
    build.add_argument("--other-homedir", help="with --defect wrong-key: homedir of the key that signs instead "
                       "(default: a throwaway key)")
    build.add_argument("--stage1-flavor", action="append", choices=release.STAGE1_FLAVORS,
                       help="stage1 images to include; repeat (default: coreos, fly and kvm)")
    build.set_defaults(handler=command_release)

    serve = subcommands.add_parser("serve", help="start the loopback HTTP server in the background; prints the port")
    serve.add_argument("--root", required=True, help="directory to serve")
    serve.add_argument("--port-file", required=True, help="file that receives the port number")
    serve.add_argument("--pid-file", required=True, help="file that receives the server's process id")
    serve.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS,
                       help="stop by itself after this many seconds (default %d)" % DEFAULT_MAX_SECONDS)
    serve.add_argument("--log", help="append one JSON line per request to this file")
    serve.add_argument("--config", help="JSON file with discovery and faults (see testkit/server.py)")
    serve.add_argument("--discovery", action="append", default=[],
                       help="answer PATH?ac-discovery=1 with meta tags for /pubkeys.gpg and "
                       "/{name}-{version}-{os}-{arch}.{ext}; repeat")
    serve.add_argument("--prefix-host", help="host part of the prefixes in discovery pages (default 127.0.0.1, "
                       "the port-less form that rkt accepts; 127.0.0.1:{port} adds the server's port)")
    serve.add_argument("--fault", action="append", default=[],
                       help="PATH=KIND[:SECONDS][xCOUNT], KIND one of %s or a status code; repeat"
                       % ", ".join(server.FAULT_KINDS))
    serve.add_argument("--foreground", action="store_true", help="serve in this process (used by the detached child)")
    serve.set_defaults(handler=command_serve)

    stop = subcommands.add_parser("stop", help="stop a server started by serve")
    stop.add_argument("--pid-file", required=True, help="the pid file given to serve")
    stop.set_defaults(handler=command_stop)

    image_id = subcommands.add_parser("image-id", help="print rkt's image ID of an ACI file (sha512 of the tar)")
    image_id.add_argument("file", help="ACI file")
    image_id.set_defaults(handler=command_image_id)
    return parser


def main(argv=None):
    arguments = build_parser().parse_args(argv)
    try:
        arguments.handler(arguments)
    except (CliError, aci.AciError, gpg.GpgError, release.ReleaseError, server.ServerConfigError, OSError) as error:
        sys.stderr.write("testkit: %s\n" % error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
