"""Pods on disk: <data dir>/pods/<state dir>/<uuid>, locking and state.

A pod directory holds `pod` (the pod manifest), `pid` (fly: the app's pid) or
`ppid` (host flavor: the pid of the `rkt run` process) and `sim-pod.json`,
the simulator's own record of times, flavor, app names, image IDs and exit
codes. NOTE: real rkt derives these from other files; callers should read pod
state through `rkt status`/`rkt list` only.

Like rkt, a pod in pods/run is running while some process holds an exclusive
flock on the pod directory, and exited otherwise; fly passes the lock to the
app across exec, the host flavor keeps it in the `rkt run` process.
"""

import errno
import fcntl
import json
import os
import shutil
import time

from rktsim.errors import RktError

STATE_DIRS = ["prepare", "prepared", "run", "exited-garbage", "garbage"]
META_FILE = "sim-pod.json"


def pods_dir(data_dir):
    return os.path.join(data_dir, "pods")


def ensure_pod_dirs(data_dir, prefix):
    """Create pods/<state dir> (mode 0750) like rkt does on first use."""
    try:
        for name in STATE_DIRS:
            os.makedirs(os.path.join(pods_dir(data_dir), name), mode=0o750, exist_ok=True)
    except OSError as error:
        from rktsim.store import go_os_error

        raise RktError("%s: failed to get pod handles: %s" % (prefix, go_os_error("mkdir", error)))


def is_locked(path):
    """Return True when another open file description holds an exclusive flock on PATH."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return True
        raise
    finally:
        os.close(descriptor)
    return False


def lock_directory(path):
    """Open PATH, take an exclusive flock and return the descriptor (inheritable across exec)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    os.set_inheritable(descriptor, True)
    return descriptor


class Pod:
    """One pod directory: UUID, its STATE_DIR and the simulator metadata."""

    def __init__(self, data_dir, state_dir, uuid):
        self.data_dir = data_dir
        self.state_dir = state_dir
        self.uuid = uuid
        self.path = os.path.join(pods_dir(data_dir), state_dir, uuid)
        self._meta = None

    @property
    def meta(self):
        if self._meta is None:
            try:
                with open(os.path.join(self.path, META_FILE), encoding="utf-8") as handle:
                    self._meta = json.load(handle)
            except (OSError, ValueError):
                self._meta = {"created": 0, "apps": [], "flavor": "fly"}
        return self._meta

    def save_meta(self):
        temporary = os.path.join(self.path, META_FILE + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(self.meta, handle)
        os.replace(temporary, os.path.join(self.path, META_FILE))

    def update_meta(self, **values):
        """Reload the metadata, apply VALUES and save (another process may have changed it)."""
        self._meta = None
        self.meta.update(values)
        self.save_meta()

    def manifest(self):
        with open(os.path.join(self.path, "pod"), encoding="utf-8") as handle:
            return json.load(handle)

    def state(self):
        """Return rkt's state name ("running", "exited garbage", ...)."""
        if self.state_dir == "prepare":
            return "preparing" if is_locked(self.path) else "aborted prepare"
        if self.state_dir == "prepared":
            return "prepared"
        if self.state_dir == "run":
            return "running" if is_locked(self.path) else "exited"
        if self.state_dir == "exited-garbage":
            return "exited garbage"
        return "garbage"

    def pid(self):
        """Return the pid recorded for the pod (fly: `pid`, host: `ppid`), or None."""
        for name in ("pid", "ppid"):
            try:
                with open(os.path.join(self.path, name), encoding="utf-8") as handle:
                    return int(handle.read().strip())
            except (OSError, ValueError):
                continue
        return None

    def move(self, state_dir):
        """Rename the pod directory into STATE_DIR."""
        target = os.path.join(pods_dir(self.data_dir), state_dir, self.uuid)
        os.rename(self.path, target)
        self.state_dir = state_dir
        self.path = target

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


def all_pods(data_dir):
    """Return every pod, sorted by UUID."""
    pods = []
    for state_dir in STATE_DIRS:
        folder = os.path.join(pods_dir(data_dir), state_dir)
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            pods.append(Pod(data_dir, state_dir, name))
    return sorted(pods, key=lambda pod: pod.uuid)


def find_pod(data_dir, reference):
    """Return the pod whose UUID is REFERENCE or starts with it.

    Raises LookupError with rkt's message ('no matches found for "X"').
    """
    matches = [pod for pod in all_pods(data_dir) if pod.uuid.startswith(reference.lower())]
    if not reference or not matches:
        raise LookupError('no matches found for "%s"' % reference)
    if len(matches) > 1:
        # NOTE: rkt's wording for an ambiguous UUID prefix was not recorded.
        raise LookupError('ambiguous uuid, %d matches' % len(matches))
    return matches[0]


def read_uuid_file(path):
    """Return the UUID stored in PATH; raise OSError when it cannot be read."""
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def now_ns():
    return time.time_ns()
