"""Pod commands: list, status, cat-manifest, stop, rm and gc."""

import os
import signal
import time

from rktsim.errors import RktError
from rktsim.formats import go_duration_string, go_json, go_time, relative_time, tabwriter
from rktsim.pods import all_pods, ensure_pod_dirs, find_pod, is_locked, now_ns, read_uuid_file

# NOTE: rkt stop returns as soon as it has signalled the pod; the simulator
# waits up to this many seconds for the pod to exit so that a following
# `rkt rm` or `rkt status` sees a settled state.
STOP_SETTLE_SECONDS = 5.0


def run_command(context):
    handlers = {"list": _list, "status": _status, "cat-manifest": _cat_manifest, "stop": _stop, "rm": _rm, "gc": _gc}
    if not context.is_root():
        raise RktError("%s: failed to get pod handles: mkdir %s: permission denied"
                       % (context.name, os.path.join(context.data_dir, "pods")))
    ensure_pod_dirs(context.data_dir, context.name)
    return handlers[context.command.path](context)


# ---------------------------------------------------------------- helpers

def _usage(context):
    from rktsim.texts import usage_text

    context.out(usage_text(context.command.path))
    return 254


def _pod_references(context, single):
    """Return the UUID arguments, or the UUID from --uuid-file; None means "print usage"."""
    uuid_file = context.values.get("uuid-file")
    if uuid_file:
        if context.args:
            return None
        try:
            return [read_uuid_file(uuid_file)]
        except OSError:
            # rkt 1.30.0 exits 1 here, the only rkt error without code 254.
            raise RktError("%s: unable to resolve UUID from file: open %s: no such file or directory"
                           % (context.name, uuid_file), rc=1)
    if not context.args or (single and len(context.args) != 1):
        return None
    return list(context.args)


def _app_entries(pod, state):
    """Return the app objects of the JSON pod output."""
    meta = pod.meta
    app_state = {"prepared": "created", "preparing": "created", "aborted prepare": "created",
                 "running": "running"}.get(state, "exited")
    entries = []
    for app in meta.get("apps", []):
        entry = {"name": app["name"], "state": app_state, "created_at": meta.get("created", 0)}
        if meta.get("started") and app_state != "created":
            entry["started_at"] = meta["started"]
        if app.get("exit_code") is not None and app_state == "exited":
            entry["exit_code"] = app["exit_code"]
        entry["image_id"] = app["image_id"]
        entries.append(entry)
    return entries


def _pod_json(pod):
    state = pod.state()
    meta = pod.meta
    result = {"name": pod.uuid, "state": state}
    names = [app["name"] for app in meta.get("apps", [])]
    if names:
        result["app_names"] = names
    result["apps"] = _app_entries(pod, state)
    result["created_at"] = meta.get("created", 0) // 1_000_000_000
    if meta.get("started") and state not in ("prepared", "preparing", "aborted prepare"):
        result["started_at"] = meta["started"] // 1_000_000_000
    return result


# ---------------------------------------------------------------- list

def _list(context):
    pods = all_pods(context.data_dir)
    output_format = context.flag("format")
    if output_format:
        objects = [_pod_json(pod) for pod in pods]
        context.out(go_json(objects or None, pretty=output_format == "json-pretty") + "\n")
        return 0

    full = context.flag("full")
    from rktsim.podspec import image_display_name

    image_id_column = ["IMAGE ID"] if full else []
    header = ["UUID", "APP", "IMAGE NAME"] + image_id_column + ["STATE", "CREATED", "STARTED", "NETWORKS"]
    rows = [] if context.flag("no-legend") else [header]
    now = now_ns()
    for pod in pods:
        state = pod.state()
        meta = pod.meta
        try:
            apps = pod.manifest()["apps"]
        except (OSError, ValueError, KeyError):
            apps = []
        created = meta.get("created", 0)
        started = meta.get("started") if state not in ("prepared", "preparing", "aborted prepare") else None
        if full:
            created_text = go_time(created)
            started_text = go_time(started) if started else ""
        else:
            created_text = relative_time(created, now)
            started_text = relative_time(started, now) if started else ""
        for index, app in enumerate(apps or [None]):
            app_name = app["name"] if app else ""
            image_name = image_display_name(app) if app else ""
            image_id = app["image"]["id"][:7 + 12] if app else ""
            if index == 0:
                row = [pod.uuid if full else pod.uuid[:8], app_name, image_name] + ([image_id] if full else []) + [
                    state, created_text, started_text, ""]
            else:
                # NOTE: further apps of a multi-app pod get a row of their own
                # with only the app columns filled in.
                row = ["", app_name, image_name] + ([image_id] if full else []) + ["", "", "", ""]
            rows.append(row)

    if not rows:
        context.out("\n")
        return 0
    context.out(tabwriter(rows))
    return 0


# ---------------------------------------------------------------- status

def _status_text(pod):
    state = pod.state()
    meta = pod.meta
    lines = ["state=%s" % state, "created=%s" % go_time(meta.get("created", 0))]
    if state in ("prepared", "preparing", "aborted prepare"):
        return "".join(line + "\n" for line in lines)
    if meta.get("started"):
        lines.append("started=%s" % go_time(meta["started"]))
    if pod.state_dir == "run":
        lines.append("networks=")
    pid = pod.pid()
    if pid is not None and meta.get("started"):
        lines.append("pid=%d" % pid)
    lines.append("exited=%s" % ("false" if state == "running" else "true"))
    if state != "running":
        for app in meta.get("apps", []):
            if app.get("exit_code") is not None:
                lines.append("app-%s=%d" % (app["name"], app["exit_code"]))
    return "".join(line + "\n" for line in lines)


def _wait_until(predicate, timeout):
    """Poll PREDICATE every 50 ms; return False when TIMEOUT seconds (None = forever) pass first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not predicate():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _status(context):
    references = _pod_references(context, single=True)
    if references is None:
        return _usage(context)
    try:
        pod = find_pod(context.data_dir, references[0])
    except LookupError as error:
        raise RktError("status: problem retrieving pod: %s" % error)

    wait = context.flag("wait")
    if wait is None or wait > 0:
        finished = _wait_until(lambda: pod.state() not in ("running", "prepared", "preparing"), wait)
        if not finished:
            raise RktError("status: error waiting for pod to finish: context deadline exceeded")
    wait_ready = context.flag("wait-ready")
    if wait_ready is None or wait_ready > 0:
        # NOTE: the recorded host-flavor pod never became ready, so the
        # simulator treats only running fly pods as ready.
        def ready():
            pod._meta = None
            return pod.state() == "running" and pod.meta.get("flavor") == "fly" and bool(pod.meta.get("started"))

        if not _wait_until(ready, wait_ready):
            raise RktError("status: error waiting for pod readiness: context deadline exceeded")

    pod._meta = None
    output_format = context.flag("format")
    if output_format:
        context.out(go_json(_pod_json(pod), pretty=output_format == "json-pretty") + "\n")
    else:
        context.out(_status_text(pod))
    return 0


# ---------------------------------------------------------------- cat-manifest

def _cat_manifest(context):
    references = _pod_references(context, single=True)
    if references is None:
        return _usage(context)
    try:
        pod = find_pod(context.data_dir, references[0])
    except LookupError as error:
        raise RktError("cat-manifest: problem retrieving pod: %s" % error)
    context.out(go_json(pod.manifest(), pretty=context.flag("pretty-print")) + "\n")
    return 0


# ---------------------------------------------------------------- stop

def _stop(context):
    references = _pod_references(context, single=False)
    if references is None:
        return _usage(context)

    failures = 0
    for reference in references:
        try:
            pod = find_pod(context.data_dir, reference)
        except LookupError as error:
            context.err("stop: cannot get pod: %s\n" % error)
            failures += 1
            continue
        state = pod.state()
        if state in ("exited", "exited garbage", "garbage"):
            context.out('pod "%s" is already stopped\n' % pod.uuid)
            continue
        if state != "running":
            context.err('stop: pod "%s" is not running\n' % pod.uuid)
            failures += 1
            continue
        if not _signal_pod(pod, context.flag("force")):
            context.err("error reading pid: open ppid: no such file or directory\n"
                        'stop: error stopping "%s": exit status 254\n' % pod.uuid)
            failures += 1
            continue
        _wait_until(lambda: not is_locked(pod.path), STOP_SETTLE_SECONDS)
        context.out('"%s"\n' % pod.uuid)

    if failures:
        raise RktError("stop: failed to stop %d pod(s)" % failures)
    return 0


def _signal_pod(pod, force):
    """Send SIGTERM (or SIGKILL with FORCE) to the pod's process; False when no pid is known."""
    pid = pod.pid()
    if pid is None:
        return False
    signal_number = signal.SIGKILL if force else signal.SIGTERM
    if force:
        # A killed host-flavor supervisor cannot stop its apps any more.
        for app_pid in pod.meta.get("app_pids") or []:
            if app_pid:
                try:
                    os.kill(app_pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    try:
        os.kill(pid, signal_number)
    except ProcessLookupError:
        pass
    return True


# ---------------------------------------------------------------- rm

def _rm(context):
    references = _pod_references(context, single=False)
    if references is None:
        return _usage(context)

    failed = False
    for reference in references:
        try:
            pod = find_pod(context.data_dir, reference)
        except LookupError as error:
            context.err("rm: cannot get pod: %s\n" % error)
            failed = True
            continue
        state = pod.state()
        if state == "running":
            context.err('rm: pod "%s" is currently running\n' % pod.uuid)
            failed = True
            continue
        if state == "preparing":
            # NOTE: rkt's wording for a pod that is still being prepared was not recorded.
            context.err('rm: pod "%s" is currently being prepared\n' % pod.uuid)
            failed = True
            continue
        if state == "prepared":
            context.err('rm: moving expired prepared pod "%s" to garbage\n' % pod.uuid)
        pod.remove()
        context.out('"%s"\n' % pod.uuid)

    if failed:
        raise RktError("rm: failed to remove one or more pods")
    return 0


# ---------------------------------------------------------------- gc

def _gc(context):
    now = now_ns()
    pods = all_pods(context.data_dir)

    for pod in pods:
        if pod.state_dir == "run" and not is_locked(pod.path):
            context.err('gc: moving pod "%s" to garbage\n' % pod.uuid)
            pod.move("exited-garbage")
            pod.update_meta(garbage_since=now)
    for pod in pods:
        if pod.state_dir == "prepare" and not is_locked(pod.path):
            context.err('gc: moving failed prepare "%s" to garbage\n' % pod.uuid)
            pod.move("garbage")
            pod.update_meta(garbage_since=now)
    expire = context.flag("expire-prepared")
    for pod in pods:
        if pod.state_dir == "prepared" and (now - pod.meta.get("created", 0)) / 1e9 >= expire:
            context.err('gc: moving expired prepared pod "%s" to garbage\n' % pod.uuid)
            pod.move("garbage")
            pod.update_meta(garbage_since=now)

    if context.flag("mark-only"):
        return 0

    grace = context.flag("grace-period")
    garbage = [pod for pod in all_pods(context.data_dir) if pod.state_dir == "exited-garbage"]
    garbage += [pod for pod in all_pods(context.data_dir) if pod.state_dir == "garbage"]
    for pod in garbage:
        since = pod.meta.get("garbage_since", 0)
        if (now - since) / 1e9 < grace:
            context.err('gc: pod "%s" not removed: still within grace period (%s)\n'
                        % (pod.uuid, go_duration_string(grace)))
            continue
        context.out('Garbage collecting pod "%s"\n' % pod.uuid)
        pod.remove()
    return 0
