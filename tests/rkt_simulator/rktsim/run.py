"""`rkt run`, `rkt prepare` and `rkt run-prepared`.

The app really runs as a host process with no isolation: its exec path is
resolved inside the image's rendered rootfs, but the process sees the host's
file system, network, host name and cgroups.

Fly (the default stage1) replaces the `rkt run` process with the app
(exec), so `rkt run` exits with the app's code and `rkt stop` signals the app
itself. The host flavor (stage1 named "...stage1-host", "...stage1-coreos",
...) keeps `rkt run` as a supervisor that starts every app as a child,
re-emits their output on stdout as "[ uptime] app[pid]: line" and records
each app's exit code, which `rkt status` shows as app-<name>=N.
"""

import io
import os
import signal
import subprocess
import sys
import tarfile
import threading
import time
import uuid as uuid_module

from rktsim.errors import RktError
from rktsim.pods import Pod, ensure_pod_dirs, find_pod, lock_directory, now_ns
from rktsim.store import Store

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
KNOWN_STAGE1_FLAVORS = ("fly", "host", "coreos", "kvm")

# Start-up time of a host-flavor pod before its pid is known; the recorded
# real pods took 0.5 to 0.8 seconds from creation to start.
HOST_START_DELAY_SECONDS = 0.5


def run_command(context):
    if context.command.path == "run-prepared":
        return _run_prepared(context)

    prefix = context.name
    if not context.is_root():
        raise RktError("%s: cannot %s as unprivileged user" % (prefix, prefix))
    if not context.apps:
        raise RktError("%s: must provide at least one image or specify the pod manifest" % prefix)

    from rktsim.podspec import build_pod_manifest, build_runtime_app, check_mounts, parse_port

    volumes = context.values.get("volume") or []
    global_mounts = context.values.get("mount") or []
    check_mounts(context.apps, global_mounts, volumes, prefix)

    net = context.values.get("net", "default")
    ports_requested = context.values.get("port") or []
    ports = [parse_port(value, prefix) for value in ports_requested]

    store = Store(context.data_dir, prefix)
    stage1_id, flavor = resolve_stage1(context, store, prefix)
    if ports and net == "host" and flavor != "fly":
        raise RktError("%s: --port flag does not work with 'host' networking" % prefix)

    from rktsim.fetch import fetch_image

    set_env = list(context.values.get("set-env") or []) + _read_env_files(context, prefix)
    runtime_apps = []
    for app in context.apps:
        image_id = fetch_image(context, store, app, context.flag("pull-policy"), prefix)
        store.touch(image_id)
        runtime_apps.append(build_runtime_app(app, image_id, store.manifest(image_id), set_env, global_mounts))

    ensure_pod_dirs(context.data_dir, prefix)
    pod_uuid = next_pod_uuid()
    pod = Pod(context.data_dir, "prepare", pod_uuid)
    os.makedirs(pod.path, mode=0o750)
    lock = lock_directory(pod.path)

    from rktsim.formats import go_json

    manifest = build_pod_manifest(runtime_apps, volumes, ports)
    with open(os.path.join(pod.path, "pod"), "w", encoding="utf-8") as handle:
        handle.write(go_json(manifest))
    pod.meta.update({
        "uuid": pod_uuid,
        "created": now_ns(),
        "flavor": flavor,
        "stage1_id": stage1_id,
        "apps": [{"name": app["name"], "image_id": app["image"]["id"]} for app in runtime_apps],
        "inherit_env": bool(context.values.get("inherit-env")),
    })
    pod.save_meta()

    declared = {port.get("name") for app in runtime_apps for port in app["app"].get("ports", [])}
    for port in ports:
        if port["name"] not in declared:
            raise RktError('%s: error setting up stage0: port name "%s" could not be found in any apps'
                           % (prefix, port["name"]))

    if context.command.path == "prepare":
        pod.move("prepared")
        context.out(pod_uuid + "\n")
        return 0

    uuid_file = context.values.get("uuid-file-save")
    if uuid_file:
        try:
            with open(uuid_file, "w", encoding="utf-8") as handle:
                handle.write(pod_uuid)
        except OSError as error:
            from rktsim.store import go_os_error

            raise RktError("%s: error saving pod UUID to file: %s" % (prefix, go_os_error("open", error)))

    pod.move("run")
    return start_pod(context, pod, lock, store, prefix)


def next_pod_uuid():
    """Return a new random pod UUID, or the next one from the control file's "pod_uuids" list.

    "pod_uuids" is a test control of the simulator (not an rkt feature): it
    makes pod UUIDs predictable; each listed UUID is used once, in order.
    """
    from rktsim.cli import consume_control_counter, load_control

    planned = load_control().get("pod_uuids") or []
    if planned:
        index = consume_control_counter("pod_uuids")
        if index < len(planned):
            return planned[index]
    return str(uuid_module.uuid4())


def _run_prepared(context):
    prefix = "run-prepared"
    if len(context.args) != 1:
        from rktsim.texts import usage_text

        context.out(usage_text("run-prepared"))
        return 254
    if not context.is_root():
        raise RktError("run-prepared: cannot run as unprivileged user")
    try:
        pod = find_pod(context.data_dir, context.args[0])
    except LookupError as error:
        raise RktError("run-prepared: problem retrieving pod: %s" % error)
    if pod.state_dir != "prepared":
        raise RktError('run-prepared: pod "%s" is not prepared' % pod.uuid)

    lock = lock_directory(pod.path)
    pod.move("run")
    store = Store(context.data_dir, prefix)
    return start_pod(context, pod, lock, store, prefix)


def _read_env_files(context, prefix):
    """Return KEY=VALUE items from --set-env-file files (one per line, # comments)."""
    items = []
    for path in context.values.get("set-env-file") or []:
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError as error:
            from rktsim.store import go_os_error

            raise RktError("%s: %s" % (prefix, go_os_error("open", error)))
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                items.append(line)
    return items


# ---------------------------------------------------------------- stage1

def synthetic_stage1(flavor):
    """Return (tar bytes, manifest) of a placeholder stage1 image for FLAVOR.

    NOTE: real rkt fails when its stage1 image file is missing; the simulator
    builds this placeholder instead so tests need no stage1 files. The bytes
    are deterministic, so its image ID is stable for a given version.
    """
    import json

    from rktsim.version import RKT_VERSION

    manifest = {
        "acKind": "ImageManifest",
        "acVersion": "0.8.11",
        "name": "coreos.com/rkt/stage1-%s" % flavor,
        "labels": [
            {"name": "version", "value": RKT_VERSION},
            {"name": "arch", "value": "amd64"},
            {"name": "os", "value": "linux"},
        ],
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        data = json.dumps(manifest).encode()
        entry = tarfile.TarInfo("manifest")
        entry.size = len(data)
        entry.mtime = 0
        archive.addfile(entry, io.BytesIO(data))
        folder = tarfile.TarInfo("rootfs")
        folder.type = tarfile.DIRTYPE
        folder.mode = 0o755
        folder.mtime = 0
        archive.addfile(folder)
    return buffer.getvalue(), manifest


def _known_stage1_flavor(text):
    for flavor in KNOWN_STAGE1_FLAVORS:
        if "stage1-%s" % flavor in text:
            return flavor
    return None


def resolve_stage1(context, store, prefix):
    """Import the stage1 image the flags select; return (image ID, flavor).

    The flavor is "fly" for a stage1 named like coreos.com/rkt/stage1-fly and
    "host" otherwise (every non-fly stage1 runs apps under a supervisor).
    """
    from rktsim.fetch import fetch_image

    values = context.values
    trusted_dir = os.path.realpath(context.stage1_images_dir)
    path = values.get("stage1-path")
    if values.get("stage1-from-dir"):
        path = os.path.join(context.stage1_images_dir, values["stage1-from-dir"])

    image_id = None
    if values.get("stage1-name"):
        image_id = store.resolve_name(values["stage1-name"])
        if image_id is None:
            flavor = _known_stage1_flavor(values["stage1-name"])
            if flavor is None:
                from rktsim.fetch import NOT_FOUND_BY_NAME

                raise RktError("%s: %s" % (prefix, NOT_FOUND_BY_NAME % values["stage1-name"]))
            image_id = store.import_aci(*synthetic_stage1(flavor))
    elif values.get("stage1-hash"):
        image_id = store.resolve_id(values["stage1-hash"])
        if image_id is None:
            raise RktError("%s: no image IDs found" % prefix)
    elif values.get("stage1-url"):
        image_id = fetch_image(context, store, {"image": values["stage1-url"]}, "new", prefix)
    else:
        if path is None:
            path = os.path.join(context.stage1_images_dir, "stage1-fly.aci")
        absolute = os.path.realpath(path)
        in_trusted_dir = os.path.dirname(absolute) == trusted_dir
        if os.path.exists(path):
            saved = set(context.insecure)
            if in_trusted_dir:
                # Images in the compiled-in stage1 directory need no signature.
                context.insecure.add("image")
            try:
                image_id = fetch_image(context, store, {"image": absolute}, "new", prefix)
            finally:
                context.insecure = saved
        elif in_trusted_dir and _known_stage1_flavor(os.path.basename(path)):
            image_id = store.import_aci(*synthetic_stage1(_known_stage1_flavor(os.path.basename(path))))
        else:
            raise RktError("%s: open %s: no such file or directory" % (prefix, path))

    store.touch(image_id)
    name = store.manifest(image_id).get("name", "")
    flavor = "fly" if "stage1-fly" in name else "host"
    return image_id, flavor


# ---------------------------------------------------------------- start

def _app_runtime(store, runtime_app, inherit_env):
    """Return (executable path, argv, environment, working directory, user, group) of one app."""
    rootfs = store.rootfs(runtime_app["image"]["id"])
    app = runtime_app["app"]
    exec_line = app.get("exec") or []
    if not exec_line:
        raise RktError("run: app %s has no exec" % runtime_app["name"])
    executable = os.path.join(rootfs, exec_line[0].lstrip("/"))

    environment = dict(os.environ) if inherit_env else {}
    environment.setdefault("PATH", DEFAULT_PATH)
    environment["AC_APP_NAME"] = runtime_app["name"]
    for item in app.get("environment") or []:
        environment[item["name"]] = item["value"]

    # NOTE: without a chroot an explicit working directory is a host path when
    # it exists there, otherwise the path inside the rootfs; the default is
    # the rootfs itself.
    working_dir = app.get("workingDirectory")
    if working_dir:
        inside = os.path.join(rootfs, working_dir.lstrip("/"))
        working_dir = working_dir if os.path.isdir(working_dir) else inside
    else:
        working_dir = rootfs
    return executable, exec_line, environment, working_dir, app.get("user", "0"), app.get("group", "0")


def _resolve_ids(user, group):
    """Return numeric (uid, gid); names are looked up on the host (NOTE: rkt looks inside the image)."""
    import grp
    import pwd

    uid = int(user) if str(user).isdigit() else pwd.getpwnam(user).pw_uid
    gid = int(group) if str(group).isdigit() else grp.getgrnam(group).gr_gid
    return uid, gid


def _check_runtime_options(context, pod, store, prefix, flavor):
    """Apply the checks real rkt makes while setting up the pod (pod stays in run/)."""
    manifest = pod.manifest()
    for volume in manifest.get("volumes") or []:
        if volume.get("kind") == "host" and not os.path.exists(volume["source"]):
            raise RktError("%s: stat of host path %s: stat %s: no such file or directory"
                           % (prefix, volume["source"], volume["source"]))

    if flavor != "fly":
        return
    app = manifest["apps"][0]
    rootfs = store.rootfs(app["image"]["id"])
    stage2 = "stage1/rootfs/opt/stage2/%s/rootfs" % app["name"]
    if context.values.get("hostname"):
        context.out("Warning: -hostname not supported; ignoring\n")
    dns = context.values.get("dns") or []
    if dns and dns != ["host"] and dns != ["none"] and not os.path.isdir(os.path.join(rootfs, "etc")):
        raise RktError("%s: can't copy /etc/resolv.conf: open %s/etc/resolv.conf: no such file or directory"
                       % (prefix, stage2))
    hosts = context.values.get("hosts-entry") or []
    if hosts and hosts != ["host"] and not os.path.isfile(os.path.join(rootfs, "etc", "hosts")):
        raise RktError('%s: can\'t mount "stage1/rootfs/etc/rkt-hosts" on "%s/etc/hosts" with flags 4097: '
                       "not a directory" % (prefix, stage2))


def start_pod(context, pod, lock, store, prefix):
    """Start the pod in pods/run; returns the exit code (fly never returns on success)."""
    flavor = pod.meta.get("flavor", "fly")
    manifest = pod.manifest()
    if flavor == "fly" and len(manifest["apps"]) > 1:
        raise RktError("%s: fly only supports 1 application per Pod for now" % prefix)
    _check_runtime_options(context, pod, store, prefix, flavor)
    if flavor == "fly":
        return _exec_fly(context, pod, store, manifest["apps"][0], prefix)
    return _supervise(context, pod, store, manifest["apps"], prefix)


def _exec_fly(context, pod, store, runtime_app, prefix):
    executable, argv, environment, working_dir, user, group = _app_runtime(
        store, runtime_app, pod.meta.get("inherit_env"))
    if not os.path.isfile(executable):
        # NOTE: fly's wording for a missing executable was not recorded.
        raise RktError('%s: error executing "%s": no such file or directory' % (prefix, argv[0]))

    with open(os.path.join(pod.path, "pid"), "w", encoding="utf-8") as handle:
        handle.write(str(os.getpid()))
    started = now_ns()
    pod.update_meta(started=started, apps_started=started)

    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.chdir(working_dir)
        uid, gid = _resolve_ids(user, group)
        if gid != os.getgid() or uid != os.getuid():
            os.setgroups([gid])
            os.setgid(gid)
            os.setuid(uid)
        os.execve(executable, argv, environment)
    except OSError as error:
        from rktsim.store import go_os_error

        raise RktError("%s: error executing %s: %s" % (prefix, argv[0], go_os_error("exec", error)))
    return 254


class _Supervisor:
    """State shared between the host-flavor supervisor, its output threads and SIGTERM."""

    def __init__(self):
        self.children = []
        self.stopping = False
        self.output_lock = threading.Lock()


def _supervise(context, pod, store, runtime_apps, prefix):
    """Run every app as a child of this process (host flavor) and return the failing app's code."""
    if context.values.get("net") == "none":
        context.err("networking: networking namespace with loopback only\n")
    sys.stdout.flush()
    sys.stderr.flush()

    state = _Supervisor()

    def stop_gracefully(_signum, _frame):
        # A graceful `rkt stop` ends the pod; the apps count as exited 0, as
        # systemd reports for a unit stopped on request.
        state.stopping = True
        for child in state.children:
            try:
                child.terminate()
            except OSError:
                pass

    signal.signal(signal.SIGTERM, stop_gracefully)

    # A real host-flavor pod reports "running" for about half a second before
    # systemd-nspawn is up and its pid and start time are known; `rkt stop` in
    # that window fails with "error reading pid". The control file's
    # "host_start_delay" (seconds) changes the window.
    from rktsim.cli import load_control

    time.sleep(float(load_control().get("host_start_delay", HOST_START_DELAY_SECONDS)))
    if state.stopping:
        return 0

    with open(os.path.join(pod.path, "ppid"), "w", encoding="utf-8") as handle:
        handle.write(str(os.getpid()))

    threads = []
    app_pids = []
    for runtime_app in runtime_apps:
        executable, argv, environment, working_dir, user, group = _app_runtime(
            store, runtime_app, pod.meta.get("inherit_env"))
        uid, gid = _resolve_ids(user, group)

        def demote(uid=uid, gid=gid):
            if gid != os.getgid() or uid != os.getuid():
                os.setgroups([gid])
                os.setgid(gid)
                os.setuid(uid)

        try:
            child = subprocess.Popen([executable] + argv[1:], executable=executable, env=environment,
                                     cwd=working_dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=demote, close_fds=True)
        except OSError:
            child = None
        state.children.append(child)
        app_pids.append(child.pid if child else None)
        if child is not None:
            thread = threading.Thread(target=_relay_output, args=(state, runtime_app["name"], child))
            thread.start()
            threads.append(thread)

    state.children = [child for child in state.children if child is not None]
    started = now_ns()
    pod.update_meta(started=started, app_pids=app_pids)

    exit_codes = []
    for child in state.children:
        code = child.wait()
        exit_codes.append(0 if state.stopping else (code if code >= 0 else 128 - code))
    for thread in threads:
        thread.join()

    apps_meta = pod.meta.get("apps", [])
    for index, code in enumerate(exit_codes):
        if index < len(apps_meta):
            apps_meta[index]["exit_code"] = code
    pod.update_meta(apps=apps_meta)

    sys.stdout.flush()
    for code in exit_codes:
        if code != 0:
            return code
    return 0


def _relay_output(state, app_name, child):
    """Copy a child's output to stdout as "[ uptime] app[pid]: line\\r\\n", like the pod journal."""
    for raw in iter(child.stdout.readline, b""):
        line = raw.rstrip(b"\n").decode("utf-8", "replace")
        stamp = "[%12.6f] %s[%d]: " % (time.monotonic(), app_name, child.pid)
        with state.output_lock:
            sys.stdout.write(stamp + line + "\r\n")
            sys.stdout.flush()
    child.stdout.close()
