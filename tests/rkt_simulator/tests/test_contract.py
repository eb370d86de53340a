"""Replay the transcript recorded from real rkt 1.30.0 against the simulator.

Every record is either replayed (after building the state it needs: images,
keys, pods with the recorded UUIDs, a loopback server) and compared on exit
code, stdout and stderr, or listed in UNSUPPORTED with the reason. Outputs are
compared after contract_world.World.normalise, which only removes values that
differ between runs or machines.
"""

import os

import pytest

from contract_world import (HOST_STAGE1, Assets, StateCache, World, load_transcript, record_uuid,
                            strip_environment_lines)

RECORDS = load_transcript()

UNSUPPORTED = {
    # The app runs on the host without a chroot, so it sees the host's files.
    "run-dns-host": "the app reads the host's /etc/resolv.conf: no per-pod /etc without a chroot",
    "run-dns-none": "the app reads the host's /etc/resolv.conf: no per-pod /etc without a chroot",
    "run-no-dns-flag": "the app reads the host's /etc/resolv.conf: no per-pod /etc without a chroot",
    "run-etc-dns-8888-search": "the generated resolv.conf is not visible to a host process",
    "run-etc-dns-full": "the generated resolv.conf is not visible to a host process",
    "run-etc-dns-host": "the app reads the host's /etc/resolv.conf: no per-pod /etc without a chroot",
    "run-etc-dns-none": "the app reads the host's /etc/resolv.conf: no per-pod /etc without a chroot",
    "run-etc-no-dns-flag": "the app reads the host's /etc/resolv.conf: no per-pod /etc without a chroot",
    "run-etc-hosts-default": "the app reads the host's /etc/hosts: no per-pod /etc without a chroot",
    "run-fly-hosts-entry-host": "prints the recording machine's /etc/hosts",
    "run-volume-mount": "volumes are not bind-mounted: the app sees the host's /data",
    "run-volume-mount-readonly": "volumes are not bind-mounted: no read-only mount",
    "run-user-group-id": "the host's id(1) prints group names that busybox in the recorded image did not",
    "run-fly-net-none-netdev-count": "counts the recording machine's network interfaces",
    "run-fly-memory-not-enforced": "reads the recording machine's cgroup v1 memory limit",
    "run-debug": "stage0/stage1 debug logging is not simulated",
    "run-many-options-fly": "the app output shows the recorded host name, resolv.conf and volume content",
    # Host flavor (systemd-nspawn) isolation is not simulated.
    "run-many-options-host": "host-flavor isolation: host name, resolv.conf and volume inside the pod",
    "run-host-net-none-netdev-count": "host-flavor network namespace is not simulated",
    "run-host-net-host-netdev-count": "counts the network interfaces of the machine it runs on",
    "run-host-net-none-ip": "host-flavor network namespace is not simulated",
    "run-host-net-host-no-etc-default": "host-flavor pod /etc content is not simulated",
    "run-host-etc-dns-8888-search": "host-flavor pod /etc content is not simulated",
    "run-host-etc-dns-host": "host-flavor pod /etc content is not simulated",
    "run-host-etc-dns-none": "host-flavor pod /etc content is not simulated",
    "run-host-etc-no-dns-net-none": "host-flavor pod /etc content is not simulated",
    "run-host-etc-no-dns-net-host-flaky-empty": "a one-off anomaly of the recording (rc 0, no output)",
    "run-host-etc-no-dns-net-host-rerun": "host-flavor pod /etc content is not simulated",
    "run-host-noetc-dns-8888": "host-flavor pod /etc content is not simulated",
    "run-host-hostname-h1": "host-flavor host names are not simulated",
    "run-host-hostname-default": "host-flavor host names are not simulated",
    "run-host-etc-hosts-entry": "host-flavor pod /etc content is not simulated",
    "run-host-etc-hosts-default": "host-flavor pod /etc content is not simulated",
    "run-host-volume-mount": "volumes are not bind-mounted",
    "run-host-user-group-id": "the host's id(1) prints group names that busybox in the recorded image did not",
    "run-host-cpu-memory-cgroup": "cgroup limits are not applied",
    "run-host-debug": "systemd boot and debug logging are not simulated",
    # Library quirk.
    "fetch-signed-key2-rsa-leading-zero-quirk": "a bug of Go's openpgp with short RSA signatures; gpg accepts them",
}

# ---------------------------------------------------------------- setup steps
#
# A setup is a list of steps run in a fresh World before the record:
#   "fetch"            import hello.aci and hello-etc.aci (insecure)
#   "fetch-hello"      import hello.aci only
#   ("replay", ID)     run recorded command ID with its recorded pod UUID
#   ("bg", ID)         start recorded command ID in the background, wait until it runs
#   ("fly", UUID, image, name, exit)   an exited fly pod
#   ("host", UUID, image, name, exit)  an exited host-flavor pod
#   ("prepared", UUID)                 a prepared pod
#   ("bg-fly", UUID) / ("bg-host", UUID, extra run flags)  a running pod
#   ("bg-host-starting", UUID)         a host pod still starting (no pid yet)
#   ("rkt", argv...)   any simulator command
#   ("trust", key file, prefix), ("server", name), ("closed-port",), ("euid", N)

HELLO = "example.com/hello:0.0.1"
HELLO_ETC = "example.com/hello-etc:0.0.1"


def _exited(world, flavor, pod_uuid, image=HELLO, name=None, code=0):
    argv = ["rkt", "run"]
    if flavor == "host":
        argv += ["--stage1-path=" + HOST_STAGE1, "--net=none"]
    argv += [image] + (["--name=" + name] if name else [])
    argv += ["--exec", "/bin/busybox", "--", "sh", "-c", "exit %d" % code]
    result = world.rkt(argv, uuids=[pod_uuid])
    assert result.returncode == code, result.stderr


def _running(world, flavor, pod_uuid, extra=()):
    argv = ["rkt", "run"]
    if flavor == "host":
        argv += ["--stage1-path=" + HOST_STAGE1, "--net=none"]
    argv += [HELLO] + list(extra) + ["--exec", "/bin/busybox", "--", "sleep", "300"]
    return world.start_background(argv, pod_uuid)


def _server(world, name):
    hello = open(world.assets.hello, "rb").read()
    key = world.assets.key1_armored
    if name == "discovery":
        # The recorded page named its key URL with the port, as rkt printed it.
        world.start_server({"prefix_host": "127.0.0.1",
                            "discovery": [{"path": "/hello", "pubkeys": "http://127.0.0.1:80/pubkeys.gpg"},
                                          {"path": "/nometa", "pubkeys": None, "template": None}]},
                           {"/pubkeys.gpg": key})
    elif name == "sig-not-pgp":
        world.start_server({}, {"/hello.aci": hello, "/hello.aci.asc": hello})
    elif name == "files":
        world.start_server({}, {"/hello.aci": hello, "/pubkeys.gpg": key,
                                "/signed/hello.aci": hello, "/signed/hello.aci.asc": world.assets.signatures["signed"]})


def run_step(world, step):
    records = RECORDS
    if step == "fetch" or step == "fetch-hello":
        world.rkt_ok(["rkt", "fetch", "--insecure-options=image", "/srv/aci/hello.aci"])
        if step == "fetch":
            world.rkt_ok(["rkt", "fetch", "--insecure-options=image", "/srv/aci/hello-etc.aci"])
        return
    kind = step[0]
    if kind == "replay":
        record = records[step[1]]
        uuid = record_uuid(record)
        world.rkt(record["argv"], uuids=[uuid] if uuid else None, stdin=record.get("stdin"))
    elif kind == "bg":
        record = records[step[1]]
        world.start_background(record["argv"], record_uuid(record))
    elif kind in ("fly", "host"):
        _exited(world, kind, *step[1:])
    elif kind == "prepared":
        world.rkt_ok(["rkt", "prepare", "--quiet", HELLO, "--exec", "/bin/busybox", "--", "true"], uuids=[step[1]])
    elif kind == "bg-fly":
        _running(world, "fly", step[1])
    elif kind == "bg-host":
        _running(world, "host", step[1], step[2] if len(step) > 2 else ())
    elif kind == "bg-host-starting":
        # Keep the pod in its start-up window: running, but no pid and no start time yet.
        world.set_control(host_start_delay=120)
        argv = ["rkt", "run", "--stage1-path=" + HOST_STAGE1, "--net=none", HELLO, "--exec", "/bin/busybox", "--",
                "sleep", "300"]
        world.start_background(argv, step[1], wait_started=False)
        world.control.pop("host_start_delay")
        world.set_control()
    elif kind == "rkt":
        world.rkt(["rkt"] + list(step[1:]))
    elif kind == "trust":
        world.rkt_ok(["rkt", "trust", "--prefix=" + step[2], "--skip-fingerprint-review", step[1]])
    elif kind == "server":
        _server(world, step[1])
    elif kind == "closed-port":
        world.use_closed_port()
    elif kind == "euid":
        world.set_control(euid=step[1])
    elif kind == "write":
        with open(world.path(step[1]), "w", encoding="utf-8") as handle:
            handle.write(step[2])
    else:
        raise ValueError("unknown setup step %r" % (step,))


TRUST_KEY1 = ("trust", "/srv/rkt-test/pubkey.asc", "example.com/hello")
TRUST_KEY2 = ("trust", "/srv/rkt-test/keys/key2.asc", "example.com/hello")

# Pods present when the recording listed and garbage-collected "everything".
U = {
    "fly_running": "01628001-48cd-4be2-be58-3f67b380b375",
    "fly_forced": "1cda58f1-1a98-4ad6-b500-a31967bcb743",
    "host_rm_running": "293b0d2b-2f74-42aa-8325-8fb321d2a892",
    "prepared_host": "456f4c17-a841-4ff4-bc48-57d493e4e117",
    "host_exit7": "476f9e28-71f0-47a7-bae9-e4f0c7aadbd2",
    "host_sleep": "49cb7343-ead8-4388-a6c3-7fe7e0f306dd",
    "prepared1": "63660db2-c25e-450a-8ac9-76aabb230c72",
    "prepared2": "8288d5d3-ebf8-4d1c-8536-02436a581cb4",
    "etc_exit1": "98967bcf-1849-4217-b191-b4dbf3b566d4",
    "fly_exited": "9eba6e51-3894-44e9-bc92-a5daae455121",
    "many_host": "b385029d-6aaf-4cfb-bf24-fc4e8aa31ae4",
    "host_forced": "b6bfe717-d881-41ae-a110-2fc11db4d32b",
    "host_race": "d723654c-911b-4ac3-8217-ba1b754f3701",
    "host_c": "ef77b77f-3071-4e84-a691-ffa73ca1ee42",
    "many_fly": "f6d4d72e-f0d0-4e5b-bfff-6e9d052cca75",
}

# The eleven exited pods and the prepared host pod of the gc section.
GC_PODS = ["fetch",
           ("fly", U["fly_running"]), ("fly", U["fly_forced"]), ("host", U["host_rm_running"]),
           ("prepared", U["prepared_host"]), ("host", U["host_sleep"]), ("fly", U["prepared1"]),
           ("host", U["etc_exit1"], HELLO_ETC, None, 1), ("host", U["many_host"], HELLO_ETC, "web"),
           ("host", U["host_forced"]), ("host", U["host_race"]), ("host", U["host_c"]),
           ("fly", U["many_fly"], HELLO_ETC, "web")]
GC_MARKED = GC_PODS + [("rkt", "gc", "--mark-only")]

# The image store of the image section: stage1-fly, hello, hello-etc, stage1-host in import order.
IMAGE_STORE = ["fetch-hello", ("replay", "run-default-exec"), ("rkt", "image", "rm", "example.com/hello:0.0.1"),
               "fetch", ("replay", "run-for-final-gc-3-host")]
IMAGE_STORE_GC = IMAGE_STORE + [("rkt", "gc", "--grace-period=0s"), ("rkt", "image", "rm", HELLO_ETC)]

# The pods of the recorded mixed listing: two running (fly, and host still
# starting), three prepared and three exited.
LIST_MIXED = ["fetch", ("prepared", U["prepared_host"]), ("host", U["host_exit7"], HELLO, None, 7),
              ("prepared", U["prepared1"]), ("prepared", U["prepared2"]), ("host", U["etc_exit1"], HELLO_ETC, None, 1),
              ("fly", U["fly_exited"]), ("bg-fly", U["fly_running"]), ("bg-host-starting", U["host_sleep"])]

SETUPS = {
    "nonroot-version": [("euid", 65534)],
    "nonroot-list": [("euid", 65534)],
    "nonroot-image-list": [("euid", 65534)],
    "nonroot-fetch": [("euid", 65534)],
    "nonroot-run": [("euid", 65534)],
    "nonroot-trust": [("euid", 65534)],
    "fetch-local-insecure-again": ["fetch-hello"],
    "fetch-name-never-present": ["fetch-hello"],
    "fetch-name-new-present": ["fetch-hello"],
    "fetch-name-never-present-noversion": ["fetch-hello"],
    "fetch-pull-policy-bogus": ["fetch-hello"],
    "image-rm-id": ["fetch-hello"],
    "trust-prefix-keyfile-skip-review-again": [TRUST_KEY1],
    "fetch-signed-trusted": [TRUST_KEY1],
    "fetch-signed-trusted-again": [TRUST_KEY1, ("rkt", "fetch", "/srv/rkt-test/signed/hello.aci")],
    "fetch-signature-flag-trusted": [TRUST_KEY1],
    "fetch-signed-other-key-untrusted": [TRUST_KEY1],
    "trust-prefix-second-key-same-prefix": [TRUST_KEY1],
    "fetch-signed-other-key-trusted": [TRUST_KEY1, TRUST_KEY2],
    "trust-discovery-http": [("server", "discovery")],
    "trust-discovery-http-again": [("server", "discovery"), ("replay", "trust-discovery-http")],
    "trust-discovery-http-no-tty": [("server", "discovery")],
    "trust-discovery-nometa": [("server", "discovery")],
    "trust-discovery-nometa-debug": [("server", "discovery")],
    "trust-discovery-404": [("server", "discovery")],
    "trust-discovery-https-only": [("server", "discovery")],
    "trust-url-http-key-no-allow": [("server", "files")],
    "trust-url-http-key": [("server", "files")],
    "trust-discovery-refused": [("closed-port",)],
    "trust-discovery-refused-https": [("closed-port",)],
    "trust-discovery-refused-debug": [("closed-port",)],
    "fetch-http-url-sig-not-pgp": [("server", "sig-not-pgp")],
    "fetch-http-url-insecure-image": [("server", "files")],
    "fetch-http-url-insecure-image-again": [("server", "files"), ("replay", "fetch-http-url-insecure-image")],
    "fetch-http-url-nosig-404": [("server", "files")],
    "fetch-http-url-signed-trusted": [("server", "files"), TRUST_KEY1],
    "fetch-http-url-refused": [("closed-port",)],
    "catman-run-name-web": ["fetch", ("replay", "run-name-web")],
    "catman-run-set-env": ["fetch", ("replay", "run-set-env")],
    "catman-run-user-annotation-label": ["fetch", ("replay", "run-user-annotation-label")],
    "catman-run-cpu-250m-memory-128M": ["fetch", ("replay", "run-cpu-250m-memory-128M")],
    "catman-run-memory-1G": ["fetch", ("replay", "run-memory-1G")],
    "catman-run-memory-512Mi": ["fetch", ("replay", "run-memory-512Mi")],
    "catman-run-cpu-1": ["fetch", ("replay", "run-cpu-1")],
    "catman-run-cpu-0.5": ["fetch", ("replay", "run-cpu-0.5")],
    "catman-run-memory-bytes-plain": ["fetch", ("replay", "run-memory-bytes-plain")],
    "catman-run-cpu-0": ["fetch", ("replay", "run-cpu-0")],
    "catman-run-volume-mount": ["fetch", ("replay", "run-volume-mount")],
    "catman-run-cpu-negative": ["fetch", ("replay", "run-cpu-negative")],
    "catman-run-environment-overrides-set-env": ["fetch", ("replay", "run-environment-overrides-set-env")],
    "catman-run-etc-dns-8888-search": ["fetch", ("replay", "run-etc-dns-8888-search")],
    "catman-run-host-cpu-memory-cgroup": ["fetch", ("replay", "run-host-cpu-memory-cgroup")],
    "run-by-image-hash": ["fetch"],
    "run-host-stage1-name": ["fetch", ("replay", "run-host-exec-echo-hello")],
    "status-running-host": ["fetch", ("bg-host-starting", U["host_sleep"])],
    "status-running-host-json": ["fetch", ("bg-host-starting", U["host_sleep"])],
    "status-running-host-json-pretty": ["fetch", ("bg-host-starting", U["host_sleep"])],
    "list-mixed": LIST_MIXED,
    "list-mixed-full": LIST_MIXED,
    "list-mixed-no-legend": LIST_MIXED,
    "list-mixed-json": LIST_MIXED,
    "list-mixed-json-pretty": LIST_MIXED,
    "stop-force-host-race-just-started": ["fetch", ("bg-host-starting", U["host_race"])],
    "stop-uuid-file-race-just-started": ["fetch", ("bg-host-starting", U["host_c"]),
                                         ("write", "/srv/rkt-test/uuids/c.uuid", U["host_c"])],
    "stop-race-just-started-host": ["fetch", ("bg-host-starting", U["host_rm_running"])],
    "status-running-fly": ["fetch", ("bg-fly", U["fly_running"])],
    "status-running-fly-json": ["fetch", ("bg-fly", U["fly_running"])],
    "status-exited-fly": ["fetch", ("replay", "run-for-list-exited-fly")],
    "status-exited-fly-json": ["fetch", ("replay", "run-for-list-exited-fly")],
    "status-exited-host": ["fetch", ("replay", "run-for-list-exited-host")],
    "status-exited-host-json": ["fetch", ("replay", "run-for-list-exited-host")],
    "status-prepared": ["fetch", ("replay", "prepare-quiet")],
    "status-prepared-json": ["fetch", ("replay", "prepare-quiet")],
    "status-wait-exited": ["fetch", ("replay", "run-for-list-exited-fly")],
    "status-wait-timeout-running": ["fetch", ("bg-fly", U["fly_running"])],
    "status-wait-ready-running-host": ["fetch", ("bg", "run-bg-host-sleep30-memory-cpu")],
    "status-uuid-prefix": ["fetch", ("bg", "run-bg-host-sleep30-memory-cpu")],
    "status-uuid-file": ["fetch", ("bg", "run-bg-host-sleep30-memory-cpu")],
    "catman-running-host": ["fetch", ("bg", "run-bg-host-sleep30-memory-cpu")],
    "catman-prepared": ["fetch", ("replay", "prepare-quiet")],
    "stop-running-host": ["fetch", ("bg", "run-bg-host-sleep30-memory-cpu")],
    "status-after-stop-host": ["fetch", ("bg", "run-bg-host-sleep30-memory-cpu"), ("replay", "stop-running-host")],
    "stop-already-stopped": ["fetch", ("bg", "run-bg-host-sleep30-memory-cpu"), ("replay", "stop-running-host")],
    "stop-running-fly": ["fetch", ("bg", "run-bg-fly-sleep300")],
    "status-after-stop-fly": ["fetch", ("bg", "run-bg-fly-sleep300"), ("replay", "stop-running-fly")],
    "status-after-failed-stop-host": ["fetch", ("bg-host", U["host_race"])],
    "stop-force-fly": ["fetch", ("bg", "run-bg-fly-sleep300-force-stopped")],
    "stop-prepared-pod": ["fetch", ("replay", "prepare-verbose")],
    "stop-exited-and-unknown": ["fetch", ("replay", "run-for-list-exited-fly")],
    "rm-running-host": ["fetch", ("bg-host", U["host_rm_running"])],
    "rm-exited-fly": ["fetch", ("replay", "run-for-list-exited-fly")],
    "rm-exited-fly-again": ["fetch", ("replay", "run-for-list-exited-fly"), ("replay", "rm-exited-fly")],
    "rm-uuid-file-running-pod": ["fetch", ("bg-host", U["host_c"]), ("write", "/srv/rkt-test/uuids/c.uuid", U["host_c"])],
    "rm-prepared-pod": ["fetch", ("replay", "prepare-verbose")],
    "rm-exited-host": ["fetch", ("replay", "run-for-list-exited-host")],
    "run-prepared": ["fetch", ("replay", "prepare-quiet")],
    "run-prepared-again": ["fetch", ("replay", "prepare-quiet"), ("replay", "run-prepared")],
    "stop-force-host": ["fetch", ("bg", "run-bg-host-sleep300-force-stopped")],
    "status-after-stop-force-host": ["fetch", ("bg", "run-bg-host-sleep300-force-stopped"),
                                     ("replay", "stop-force-host")],
    "stop-uuid-file": ["fetch", ("bg", "run-bg-host-sleep300-stopped-by-uuid-file")],
    "rm-uuid-file": ["fetch", ("bg", "run-bg-host-sleep300-stopped-by-uuid-file"), ("replay", "stop-uuid-file")],
    "stop-for-rm": ["fetch", ("bg", "run-bg-host-sleep300-for-rm")],
    "rm-after-stop-host": ["fetch", ("bg", "run-bg-host-sleep300-for-rm"), ("replay", "stop-for-rm")],
    "catman-many-options-host": ["fetch", ("replay", "run-many-options-host")],
    "catman-many-options-host-no-pretty": ["fetch", ("replay", "run-many-options-host")],
    "catman-uuid-file": ["fetch", ("replay", "run-many-options-host")],
    "status-many-options-host": ["fetch", ("replay", "run-many-options-host")],
    "catman-many-options-fly": ["fetch", ("replay", "run-many-options-fly")],
    "list-with-named-app-full": GC_PODS,
    "gc-mark-only": GC_PODS,
    "list-after-gc-mark-only": GC_MARKED,
    "status-after-gc-mark-only": GC_MARKED,
    "gc-mark-only-again": GC_MARKED,
    "gc-default-grace": GC_MARKED,
    "gc-grace-0s": GC_MARKED,
    "list-after-gc-grace-0s": GC_MARKED + [("rkt", "gc", "--grace-period=0s")],
    "gc-expire-prepared-0s": ["fetch", ("prepared", U["prepared_host"])],
    "gc-expire-prepared-0s-second-pass": ["fetch", ("prepared", U["prepared_host"]),
                                          ("rkt", "gc", "--grace-period=0s", "--expire-prepared=0s")],
    "gc-nothing-to-do": ["fetch", ("fly", U["fly_exited"]), ("rkt", "gc", "--grace-period=0s")],
    "list-empty-after-gc": GC_MARKED + [("rkt", "gc", "--grace-period=0s", "--expire-prepared=0s")],
    "list-empty-after-gc-json": GC_MARKED + [("rkt", "gc", "--grace-period=0s", "--expire-prepared=0s")],
    "image-list": IMAGE_STORE,
    "image-list-no-legend": IMAGE_STORE,
    "image-list-full": IMAGE_STORE,
    "image-list-json": IMAGE_STORE,
    "image-list-json-pretty": IMAGE_STORE,
    "image-list-fields-id-name": IMAGE_STORE,
    "image-list-sort-name-desc": IMAGE_STORE,
    "image-cat-manifest-name": ["fetch"],
    "image-cat-manifest-name-noversion": ["fetch"],
    "image-cat-manifest-short-id": ["fetch"],
    "image-cat-manifest-no-pretty": ["fetch"],
    "image-cat-manifest-unknown-name": ["fetch"],
    "image-cat-manifest-unknown-id": ["fetch"],
    "image-rm-unknown-id": ["fetch"],
    "image-rm-unknown-name": ["fetch"],
    "image-rm-bogus-string": ["fetch"],
    "image-rm-name-and-unknown": ["fetch"],
    "image-gc-default": IMAGE_STORE_GC,
    "image-gc-grace-0s": IMAGE_STORE_GC + [("rkt", "image", "gc")],
    "image-list-after-image-gc": IMAGE_STORE_GC + [("rkt", "image", "gc", "--grace-period=0s")],
    "global-debug-before-subcommand": [],
    "status-uuid-file-missing": [],
    "stop-uuid-file-and-arg": [],
    "rm-one-ok-one-unknown": ["fetch", ("replay", "run-for-final-gc-1")],
    "gc-grace-0s-fresh-exited": ["fetch", ("replay", "run-uuid-file-save-missing-dir"),
                                 ("replay", "run-for-final-gc-2"), ("replay", "run-for-final-gc-3-host")],
    "list-running-host-started-json": [
        "fetch", ("host", "4cf66d02-c911-48bb-8871-3735575bb0d0"), ("bg-host", "82e5396a-7389-4a2d-9b38-03a94fba0330"),
        ("fly", "d8ae2639-0b65-4912-a113-22611c0d4b38"), ("fly", "f91da8b6-462b-4284-bfe3-809e5de1bdbc"),
        ("host", "fdcc7b18-7ad2-4e18-9a6e-9c6752b18f9f")],
    "status-running-host-limits-observed": ["fetch", ("bg-host", "a721d92f-bfb9-4a67-b42d-4a3cdd9e19d8",
                                                      ("--memory=64M",))],
}

# Run records that need the test images in the store (the recording had fetched them before).
NEEDS_IMAGES = ("run-", "prepare-", "catman-")

# Background runs: the stop command that ended each of them in the recording.
BACKGROUND_STOPS = {
    "run-bg-host-sleep30-memory-cpu": "stop-running-host",
    "run-bg-fly-sleep300": "stop-running-fly",
    "run-bg-fly-sleep300-force-stopped": "stop-force-fly",
    "run-bg-host-sleep300-force-stopped": "stop-force-host",
    "run-bg-host-sleep300-stopped-by-uuid-file": "stop-uuid-file",
    "run-bg-host-sleep300-for-rm": "stop-for-rm",
}

# Lines whose order varies between runs of real rkt: Go map iteration order
# (image gc) and the interleaving of two apps running in parallel.
UNORDERED_STDOUT = {"image-gc-grace-0s", "run-host-two-apps"}

TABLE_RECORDS = ("list", "image")
HOSTNAME_RECORDS = {"run-hostname-h1"}


@pytest.fixture(scope="session")
def assets(tmp_path_factory):
    return Assets(str(tmp_path_factory.mktemp("contract-assets")))


@pytest.fixture(scope="session")
def state_cache(tmp_path_factory):
    return StateCache(str(tmp_path_factory.mktemp("contract-states")))


@pytest.fixture
def world(tmp_path, assets):
    created = World(str(tmp_path / "root"), assets)
    yield created
    created.close()


def _supported_ids():
    return [record_id for record_id in RECORDS if record_id not in UNSUPPORTED]


def test_every_record_is_supported_or_explained():
    assert len(RECORDS) == 319
    unknown = sorted(set(UNSUPPORTED) - set(RECORDS))
    assert unknown == []
    assert sorted(set(SETUPS) - set(RECORDS)) == []
    assert sorted(set(SETUPS) & set(UNSUPPORTED)) == []
    assert all(reason for reason in UNSUPPORTED.values())


# Steps whose result is plain files: no process, server or port outlives them.
CACHEABLE_KINDS = ("replay", "fly", "host", "prepared", "rkt", "trust", "write")


def _cacheable(step):
    if isinstance(step, str):
        return True
    if step[0] == "replay":
        return not RECORDS[step[1]].get("background")
    return step[0] in CACHEABLE_KINDS


def _setup(world, record_id, state_cache):
    """Build the state record RECORD_ID needs, copying already built states from STATE_CACHE."""
    record = RECORDS[record_id]
    steps = SETUPS.get(record_id)
    if steps is None:
        steps = ["fetch"] if record_id.startswith(NEEDS_IMAGES) and record.get("flavor") != "n/a" else []

    cached = 0
    while cached < len(steps) and _cacheable(steps[cached]):
        cached += 1
    if cached:
        state_cache.restore_or_build(world, tuple(repr(step) for step in steps[:cached]),
                                     lambda: [run_step(world, step) for step in steps[:cached]])
    for step in steps[cached:]:
        run_step(world, step)


def _is_table(record):
    argv = record["argv"]
    return "list" in argv and "--format=json" not in argv and "--format=json-pretty" not in argv


@pytest.mark.parametrize("record_id", _supported_ids())
def test_record(world, state_cache, record_id):
    record = RECORDS[record_id]
    _setup(world, record_id, state_cache)
    uuid = record_uuid(record)

    if record_id in BACKGROUND_STOPS:
        process = world.start_background(record["argv"], uuid)
        stop = RECORDS[BACKGROUND_STOPS[record_id]]
        if stop["argv"][-1].startswith("--uuid-file="):
            with open(world.path(stop["argv"][-1].split("=", 1)[1]), encoding="utf-8") as handle:
                assert handle.read() == uuid
        world.rkt_ok(stop["argv"])
        stdout, stderr = process.communicate(timeout=30)
        returncode = process.returncode if process.returncode >= 0 else 128 - process.returncode
    elif record.get("tty"):
        stdout, stderr, returncode = _run_on_terminal(world, record)
    else:
        result = world.rkt(record["argv"], uuids=[uuid] if uuid else None, stdin=record.get("stdin"))
        stdout, stderr, returncode = result.stdout, result.stderr, result.returncode

    table = _is_table(record)
    hostname = record_id in HOSTNAME_RECORDS
    actual_stdout = world.normalise(stdout.decode("utf-8", "replace"), table, hostname)
    actual_stderr = world.normalise(stderr.decode("utf-8", "replace"), table)
    expected_stdout = world.normalise(record["stdout"], table)
    expected_stderr = world.normalise(strip_environment_lines(record["stderr"]), table)

    if record.get("truncated") and "stdout" in record["truncated"]:
        actual_stdout = actual_stdout[:len(expected_stdout)]
    if record_id in UNORDERED_STDOUT:
        actual_stdout = "".join(sorted(actual_stdout.splitlines(True)))
        expected_stdout = "".join(sorted(expected_stdout.splitlines(True)))

    assert returncode == record["rc"]
    assert actual_stdout == expected_stdout
    assert actual_stderr == expected_stderr

    if record.get("uuid_file_content") and "--uuid-file-save=" in " ".join(record["argv"]):
        saved = [argument.split("=", 1)[1] for argument in record["argv"] if argument.startswith("--uuid-file-save=")][0]
        with open(world.path(saved), encoding="utf-8") as handle:
            assert handle.read() == record["uuid_file_content"]
    for check in record.get("key_file_checks") or []:
        _check_key_file(world, check)


def _run_on_terminal(world, record):
    """Run RECORD with stdin and stderr on a pseudo-terminal and type the recorded answer.

    Like the recording, the returned stderr is everything the terminal showed,
    the echoed answer included, with the terminal's CR LF turned into LF.
    """
    import pty
    import subprocess

    from contract_world import RKT

    master, slave = pty.openpty()
    arguments = [RKT] + [world.map_argument(argument) for argument in record["argv"][1:]]
    process = subprocess.Popen(arguments, stdin=slave, stdout=subprocess.PIPE, stderr=slave, env=world.env)
    os.close(slave)

    shown = b""
    answered = False
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
        # Type the answer once rkt has shown the key, as a user reading it would.
        if not answered and b'key: "' in shown and shown.endswith(b"\n"):
            os.write(master, record["stdin"].encode())
            answered = True
    stdout = process.stdout.read()
    process.wait(timeout=30)
    os.close(master)
    return stdout, shown.replace(b"\r\n", b"\n"), process.returncode


def _check_key_file(world, check):
    """Check a recorded trusted-key file: mode 0644 and the expected key bytes."""
    recorded_path = check["path"]
    fingerprint = recorded_path.rsplit("/", 1)[1].upper()
    keys = {"772622CF5A3DA29829C8DABA936D97E05EB0B3AF": world.assets.key1,
            "984CB5D8878C226B054E71CBDEED2A35E78F7672": world.assets.key2}
    key = keys[fingerprint]
    folder = recorded_path.rsplit("/", 1)[0]
    path = world.path(folder + "/" + key.fingerprint.lower())
    assert os.path.isfile(path)
    if "mode" in check:
        assert oct(os.stat(path).st_mode & 0o777) == check["mode"]
    expected = world.assets.key1_armored if key is world.assets.key1 else world.assets.key2_armored
    with open(path, "rb") as handle:
        assert handle.read() == expected
