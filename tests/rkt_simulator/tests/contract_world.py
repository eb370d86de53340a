"""A throwaway rkt world for replaying recorded real-rkt commands against the simulator.

The transcript was recorded with rkt's default paths (/var/lib/rkt, /etc/rkt,
/usr/lib/rkt) and test files under /srv/aci and /srv/rkt-test. A World maps
them below a temporary root (RKT_SIM_ROOT for the rkt paths, <root>/srv for the
test files), builds the same test images and keys with the testkit, and
normalises the values that differ between the recording and a replay: the
temporary root, image IDs of the rebuilt images, key fingerprints, PIDs,
timestamps, relative times, sizes and download progress counts. The recording
served HTTP on 127.0.0.1 port 80; a replay's server listens on an ephemeral
port, and the simulator's "http_ports" test control sends port-80 requests
there, so URLs and messages need no port normalising.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

SIMULATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SIMULATOR_DIR not in sys.path:
    sys.path.insert(0, SIMULATOR_DIR)

import testkit  # noqa: E402  pylint: disable=wrong-import-position
from rktsim import pods as sim_pods  # noqa: E402  pylint: disable=wrong-import-position

RKT = os.path.join(SIMULATOR_DIR, "rkt")
TRANSCRIPT = os.path.join(SIMULATOR_DIR, "fixtures", "transcript.jsonl")

# Image IDs and key fingerprints of the recording; the replay maps its own to these.
RECORDED_HELLO_ID = "sha512-bac85d09b1acdd6a418603d26bffe452d783d6c2990834bfed4cdae2b2224898"
RECORDED_HELLO_ETC_ID = "sha512-3d86a532822f761e397a574b8c377f0b9041039acc47d68aff506178ef3323e2"
RECORDED_STAGE1_FLY_ID = "sha512-67c2eec6b6f2b2776ebd40aaa562781a45e557203ba449c77c6ec9aab096b816"
RECORDED_STAGE1_HOST_ID = "sha512-60d341a7b79e2953d913e4986887e68f6dfd0ffd0d31f0e9ffa95a06b92c05c7"
RECORDED_KEY1 = "772622CF5A3DA29829C8DABA936D97E05EB0B3AF"
RECORDED_KEY2 = "984CB5D8878C226B054E71CBDEED2A35E78F7672"

KEY1_UID = "rkt test signer <signer@example.com>"
KEY2_UID = "rkt second signer <second@example.com>"

HOST_STAGE1 = "/usr/lib/rkt/stage1-images/stage1-host.aci"

# stderr lines of the recording machine that are not rkt behaviour: it had no
# "rkt" group and /run was not a tmpfs.
ENVIRONMENT_STDERR = [
    re.compile(r'^(run|run-prepared): group "rkt" not found, will use default gid when rendering images$'),
    re.compile(r"^stage1: warning: error setting journal ACLs, .*$"),
    re.compile(r'^Attempted to remove disk file system under "/run/systemd/nspawn/propagate/rkt-[0-9a-f-]+", '
               r"and we can't allow that\.$"),
]


def load_transcript():
    with open(TRANSCRIPT, encoding="utf-8") as handle:
        return {record["id"]: record for record in map(json.loads, handle)}


def record_uuid(record):
    """Return the UUID of the pod a recorded run/prepare command created, or None."""
    if record.get("pod_uuid"):
        return record["pod_uuid"]
    for change in record.get("files_after") or []:
        match = re.match(r"^/var/lib/rkt/pods/(prepare|prepared|run)/([0-9a-f-]{36})$", change["path"])
        if match and change["change"] == "created":
            return match.group(2)
    return record.get("uuid_file_content")


class Assets:
    """Images, keys and signatures built once per test session."""

    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.key1 = testkit.generate_key(os.path.join(folder, "gpg1"), KEY1_UID)
        self.key2 = testkit.generate_key(os.path.join(folder, "gpg2"), KEY2_UID)
        self.key1_armored = self.key1.export_public()
        self.key2_armored = self.key2.export_public()
        self.key1_binary = subprocess.run(["gpg", "--homedir", self.key1.homedir, "--export", self.key1.fingerprint],
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout

        self.hello = os.path.join(folder, "hello.aci")
        self.hello_id = testkit.build_aci(self.hello, "example.com/hello", "0.0.1")
        self.hello_etc = os.path.join(folder, "hello-etc.aci")
        self.hello_etc_id = testkit.build_aci(self.hello_etc, "example.com/hello-etc", "0.0.1",
                                              exec_argv=("/bin/busybox", "sleep", "3600"), etc_dir=True,
                                              ports=["http:8080"])
        self.stage1_host = os.path.join(folder, "stage1-host.aci")
        testkit.build_aci(self.stage1_host, "coreos.com/rkt/stage1-host", "1.30.0", include_apps=False,
                          with_app=False)

        self.signatures = {}
        for name, key in (("signed", self.key1), ("signed2", self.key2), ("signed3", self.key2)):
            path = os.path.join(folder, name + ".asc")
            testkit.sign_file(key, self.hello, path)
            with open(path, "rb") as handle:
                self.signatures[name] = handle.read()

        from rktsim.run import synthetic_stage1
        import hashlib

        self.stage1_fly_id = "sha512-" + hashlib.sha512(synthetic_stage1("fly")[0]).hexdigest()
        self.stage1_host_id = "sha512-" + hashlib.sha512(synthetic_stage1("host")[0]).hexdigest()


def closed_port():
    """Return a loopback port with nothing listening on it."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


class World:
    """A temporary root with the recorded test files, and helpers to run the simulator in it."""

    def __init__(self, root, assets):
        self.root = root
        self.assets = assets
        self.port = None
        self.server = None
        self.background = []
        self.control = {}
        self.env = dict(os.environ, RKT_SIM_ROOT=root)
        self.env.pop("RKT_SIM_CONTROL", None)
        self.env.pop("RKT_SIM_LOG", None)
        self._write_test_files()

    # ------------------------------------------------------------ files

    def path(self, recorded_path):
        return self.root + recorded_path

    def _write(self, recorded_path, data, mode=0o644):
        full = self.path(recorded_path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as handle:
            handle.write(data)
        os.chmod(full, mode)

    def _write_test_files(self):
        assets = self.assets
        with open(assets.hello, "rb") as handle:
            hello = handle.read()
        with open(assets.hello_etc, "rb") as handle:
            hello_etc = handle.read()
        with open(assets.stage1_host, "rb") as handle:
            stage1_host = handle.read()
        self._write("/srv/aci/hello.aci", hello)
        self._write("/srv/aci/hello-etc.aci", hello_etc)
        self._write("/srv/rkt-test/pubkey.asc", assets.key1_armored)
        self._write("/srv/rkt-test/keys/key2.asc", assets.key2_armored)
        self._write("/srv/rkt-test/pubkeys.gpg", assets.key1_binary)
        for name, signature in assets.signatures.items():
            self._write("/srv/rkt-test/%s/hello.aci" % name, hello)
            self._write("/srv/rkt-test/%s/hello.aci.asc" % name, signature)
        self._write("/srv/rkt-test/stage1/stage1-host.aci", stage1_host)
        self._write("/srv/rkt-test/vol/hostfile.txt", b"host file\n")
        os.makedirs(self.path("/srv/rkt-test/vol/subdir"), exist_ok=True)
        os.makedirs(self.path("/srv/rkt-test/uuids"), exist_ok=True)

    def set_control(self, **values):
        self.control.update(values)
        os.makedirs(self.path("/rkt-sim"), exist_ok=True)
        with open(self.path("/rkt-sim/control.json"), "w", encoding="utf-8") as handle:
            json.dump(self.control, handle)
        counts = self.path("/rkt-sim/control.json.counts")
        if os.path.exists(counts):
            os.remove(counts)

    # ------------------------------------------------------------ server

    def start_server(self, config=None, files=None):
        """Serve <root>/www on 127.0.0.1 with the testkit server; FILES maps URL paths to bytes."""
        www = self.path("/www")
        os.makedirs(www, exist_ok=True)
        for url_path, data in (files or {}).items():
            target = os.path.join(www, url_path.lstrip("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(data)
        self.server = testkit.LoopbackServer(www, config or {}).start()
        self.use_port(self.server.port)

    def use_closed_port(self):
        self.use_port(closed_port())

    def use_port(self, port):
        """Send the simulator's plain-http requests for 127.0.0.1 port 80 to PORT.

        The recording served on port 80; with the "http_ports" test control
        the recorded arguments and outputs stay as they are.
        """
        self.port = port
        self.set_control(http_ports={"127.0.0.1": port})

    # ------------------------------------------------------------ mapping

    def _id_pairs(self):
        assets = self.assets
        return [(assets.hello_id, RECORDED_HELLO_ID), (assets.hello_etc_id, RECORDED_HELLO_ETC_ID),
                (assets.stage1_fly_id, RECORDED_STAGE1_FLY_ID), (assets.stage1_host_id, RECORDED_STAGE1_HOST_ID)]

    def map_argument(self, argument):
        """Map one recorded argument to this world (paths, image IDs)."""
        for recorded in ("/srv/", "/usr/lib/rkt/", "/var/lib/rkt", "/etc/rkt"):
            argument = argument.replace("=" + recorded, "=" + self.root + recorded)
            if argument.startswith(recorded):
                argument = self.root + argument
        for ours, recorded in self._id_pairs():
            for length in (128, 32, 12):
                argument = argument.replace(recorded[:7 + length], ours[:7 + length])
        return argument

    def normalise(self, text, table=False, hostname=False):
        """Replace what varies between the recording and this replay by fixed markers."""
        text = text.replace(self.root, "")
        for ours, recorded in self._id_pairs():
            text = text.replace(ours[7:], recorded[7:])
            text = text.replace(ours[7:7 + 32], recorded[7:7 + 32])
            text = text.replace(ours[7:7 + 12], recorded[7:7 + 12])
        for key, recorded in ((self.assets.key1, RECORDED_KEY1), (self.assets.key2, RECORDED_KEY2)):
            text = text.replace(key.fingerprint, recorded).replace(key.fingerprint.lower(), recorded.lower())
            text = text.replace(key.spaced_fingerprint, spaced(recorded))
        if hostname:
            text = re.sub(r"(?m)^%s$" % re.escape(socket.gethostname()), "vm", text)
        return normalise_common(text, table)

    # ------------------------------------------------------------ running

    def rkt(self, argv, uuids=None, stdin=None, timeout=60):
        """Run the simulator with recorded ARGV (argv[0] is "rkt"); return the CompletedProcess."""
        if uuids:
            self.set_control(pod_uuids=list(uuids))
        arguments = [RKT] + [self.map_argument(argument) for argument in argv[1:]]
        return subprocess.run(arguments, input=(stdin or "").encode(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=self.env, timeout=timeout, check=False)

    def rkt_ok(self, argv, uuids=None):
        result = self.rkt(argv, uuids)
        assert result.returncode == 0, (argv, result.stderr.decode())
        return result

    def start_background(self, argv, pod_uuid, wait_started=True):
        """Start a recorded run ARGV in the background and wait until its pod runs.

        Without WAIT_STARTED it returns as soon as the pod is running, which
        for the host flavor is before its pid and start time are known.
        """
        self.set_control(pod_uuids=[pod_uuid])
        arguments = [RKT] + [self.map_argument(argument) for argument in argv[1:]]
        process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=self.env)
        self.background.append(process)
        deadline = time.monotonic() + 20
        pod_path = self.path("/var/lib/rkt/pods/run/" + pod_uuid)
        while time.monotonic() < deadline:
            if os.path.isdir(pod_path) and sim_pods.is_locked(pod_path):
                if not wait_started or sim_pods.Pod(self.path("/var/lib/rkt"), "run", pod_uuid).meta.get("started"):
                    return process
            if process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("background pod %s did not start: %s" % (pod_uuid, process.communicate()))

    def close(self):
        for process in self.background:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
        # Host-flavor apps are children of the killed supervisor; stop them too.
        for pod in sim_pods.all_pods(self.path("/var/lib/rkt")):
            for pid in pod.meta.get("app_pids") or []:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, TypeError):
                    pass
        if self.server is not None:
            self.server.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class StateCache:
    """Saved world states, so that records with the same setup build it only once.

    A state is the whole world root after the setup steps. Restoring copies it
    into the new root and rewrites the old root path inside pod manifests
    (host volume sources), the only files that store absolute paths.
    """

    def __init__(self, folder):
        self.folder = folder
        self.saved = {}

    def restore_or_build(self, world, key, build):
        saved = self.saved.get(key)
        if saved is None:
            build()
            copy = os.path.join(self.folder, "state-%d" % len(self.saved))
            shutil.copytree(world.root, copy, symlinks=True)
            self.saved[key] = (copy, world.root)
            return
        copy, built_in = saved
        shutil.copytree(copy, world.root, symlinks=True, dirs_exist_ok=True)
        for pod in sim_pods.all_pods(world.path("/var/lib/rkt")):
            manifest_path = os.path.join(pod.path, "pod")
            if os.path.exists(manifest_path):
                with open(manifest_path, encoding="utf-8") as handle:
                    text = handle.read()
                with open(manifest_path, "w", encoding="utf-8") as handle:
                    handle.write(text.replace(built_in, world.root))
        counts = world.path("/rkt-sim/control.json.counts")
        if os.path.exists(counts):
            os.remove(counts)


def spaced(fingerprint):
    groups = [fingerprint[index:index + 4] for index in range(0, 40, 4)]
    return " ".join(groups[:5]) + "  " + " ".join(groups[5:])


RELATIVE_TIME = r"(now|1 second ago|\d+ seconds ago|1 minute ago|\d+ minutes ago|1 hour ago|\d+ hours ago)"


def normalise_common(text, table=False):
    """Normalise run-dependent values that are the same in recorded and replayed output."""
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC", "<TIME>", text)
    text = re.sub(r'"(created_at|started_at|import_time|last_used_time|size)":( ?)\d+', r'"\1":\2<N>', text)
    text = re.sub(r"(?m)^pid=\d+$", "pid=<PID>", text)
    text = re.sub(r"\[ *\d+\.\d+\] (\S+)\[\d+\]: ", r"[<UPTIME>] \1[<PID>]: ", text)
    text = re.sub(r"deps-sha512-[0-9a-f]+", "deps-sha512-<TREE>", text)
    # Download progress: the intermediate counts depend on timing and sizes.
    text = re.sub(r"(?m)^(Downloading (ACI|signature):) .*\n(\1 .*\n)*", r"\1 <PROGRESS>\n", text)
    if table:
        text = re.sub(RELATIVE_TIME, "<REL>", text)
        text = re.sub(r"\b\d+(\.\d+)?(B|KiB|MiB|GiB)\b", "<SIZE>", text)
        text = re.sub(r"(?m)(?<=\t)\d+(?=\t)", "<SIZE>", text)
        # Column widths follow the lengths of the values normalised above.
        text = re.sub(r"\t+", "\t", text)
    return text


def strip_environment_lines(stderr):
    lines = stderr.splitlines(True)
    return "".join(line for line in lines if not any(pattern.match(line.rstrip("\n")) for pattern in ENVIRONMENT_STDERR))
