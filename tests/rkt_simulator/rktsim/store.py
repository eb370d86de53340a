"""The image store below <data dir>/cas, laid out like rkt's.

Blobs live at cas/blob/sha512/<2 hex>/sha512-<128 hex>, image manifests at
cas/imageManifest/sha512/<2 hex>/sha512-<128 hex> and rendered trees at
cas/tree/deps-sha512-<hex>/rootfs. An image ID is "sha512-" plus the SHA-512 of
the uncompressed ACI tar. NOTE: real rkt indexes images in a ql database
(cas/db/ql.db); the simulator keeps a JSON index at cas/db/images.json instead,
so callers must not read the index.
"""

import errno
import fcntl
import hashlib
import json
import os
import shutil
import time

from rktsim.errors import RktError

IMAGE_MANIFEST_KEYS = ["acKind", "acVersion", "name", "labels", "app", "annotations", "dependencies", "pathWhitelist"]
APP_KEYS = ["exec", "eventHandlers", "user", "group", "supplementaryGIDs", "workingDirectory", "environment",
            "mountPoints", "ports", "isolators", "userAnnotations", "userLabels"]


def split_name(reference):
    """Split an image name "example.com/hello:0.0.1" into (name, version or None)."""
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1:]
    return reference, None


def normalise_port(port):
    """Return an image port with appc's defaults (count 1, socketActivated false) in schema order."""
    result = {}
    for key in ("name", "protocol", "port"):
        if key in port:
            result[key] = port[key]
    result["count"] = port.get("count") or 1
    result["socketActivated"] = bool(port.get("socketActivated", False))
    return result


def normalise_app(app):
    """Return an image or pod app object with keys in appc schema order."""
    ordered = {}
    for key in APP_KEYS:
        if key in app and app[key] not in (None, [], {}):
            if key == "ports":
                ordered[key] = [normalise_port(port) for port in app[key]]
            else:
                ordered[key] = app[key]
        elif key in ("user", "group") and key in app:
            ordered[key] = app[key]
    for key, value in app.items():
        if key not in ordered and key not in APP_KEYS:
            ordered[key] = value
    return ordered


def normalise_image_manifest(manifest):
    """Return MANIFEST with keys in appc schema order, as rkt re-marshals it."""
    ordered = {}
    for key in IMAGE_MANIFEST_KEYS:
        if key in manifest and manifest[key] is not None:
            ordered[key] = normalise_app(manifest[key]) if key == "app" else manifest[key]
    return ordered


class Store:
    """Image store of one rkt data directory. PREFIX starts error messages."""

    def __init__(self, data_dir, prefix):
        self.data_dir = data_dir
        self.prefix = prefix
        self.cas = os.path.join(data_dir, "cas")
        self.index_path = os.path.join(self.cas, "db", "images.json")
        try:
            for sub in ("blob/sha512", "imageManifest/sha512", "tree", "db"):
                os.makedirs(os.path.join(self.cas, sub), mode=0o750, exist_ok=True)
        except OSError as error:
            raise RktError("%s: cannot open store: %s" % (prefix, go_os_error("mkdir", error)))

    # ------------------------------------------------------------ index

    def _locked(self):
        handle = open(os.path.join(self.cas, "db", "lock"), "a")
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def load_index(self):
        try:
            with open(self.index_path, encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return {}

    def _save_index(self, index):
        temporary = self.index_path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(index, handle, indent=1)
        os.replace(temporary, self.index_path)

    # ------------------------------------------------------------ paths

    def blob_path(self, image_id):
        return os.path.join(self.cas, "blob", "sha512", image_id[7:9], image_id)

    def manifest_path(self, image_id):
        return os.path.join(self.cas, "imageManifest", "sha512", image_id[7:9], image_id)

    @staticmethod
    def tree_id(image_id):
        # NOTE: real rkt hashes the image and its dependency IDs; the
        # simulator hashes the image ID alone.
        return "deps-sha512-" + hashlib.sha512(image_id.encode()).hexdigest()[:64]

    def tree_path(self, image_id):
        return os.path.join(self.cas, "tree", self.tree_id(image_id))

    def rootfs(self, image_id):
        """Return the rendered rootfs of IMAGE_ID, rendering it when missing."""
        path = os.path.join(self.tree_path(image_id), "rootfs")
        if not os.path.isdir(path):
            self.render(image_id)
        return path

    # ------------------------------------------------------------ import

    def import_aci(self, tar_bytes, manifest):
        """Store an ACI; return its full image ID. Re-importing keeps the import time."""
        from rktsim.aci import extract_rootfs

        image_id = "sha512-" + hashlib.sha512(tar_bytes).hexdigest()
        with self._locked():
            index = self.load_index()
            os.makedirs(os.path.dirname(self.blob_path(image_id)), exist_ok=True)
            os.makedirs(os.path.dirname(self.manifest_path(image_id)), exist_ok=True)
            if not os.path.exists(self.blob_path(image_id)):
                with open(self.blob_path(image_id), "wb") as handle:
                    handle.write(tar_bytes)
            ordered = normalise_image_manifest(manifest)
            with open(self.manifest_path(image_id), "w", encoding="utf-8") as handle:
                json.dump(ordered, handle, separators=(",", ":"))
            tree = self.tree_path(image_id)
            tree_size = 0
            if not os.path.isdir(tree):
                tree_size = extract_rootfs(tar_bytes, tree + ".tmp")
                with open(os.path.join(tree + ".tmp", "manifest"), "w", encoding="utf-8") as handle:
                    json.dump(ordered, handle)
                os.replace(tree + ".tmp", tree)
            else:
                tree_size = directory_size(tree)

            now = time.time_ns()
            entry = index.get(image_id)
            if entry is None:
                labels = {label["name"]: label["value"] for label in manifest.get("labels") or []}
                entry = {"name": manifest.get("name", ""), "labels": labels, "import_time": now, "last_used": now}
            entry["size"] = len(tar_bytes) + tree_size
            index[image_id] = entry
            self._save_index(index)
        return image_id

    def render(self, image_id):
        """Render the rootfs of a stored image into its tree directory."""
        from rktsim.aci import extract_rootfs

        with open(self.blob_path(image_id), "rb") as handle:
            tar_bytes = handle.read()
        tree = self.tree_path(image_id)
        extract_rootfs(tar_bytes, tree + ".tmp")
        shutil.copyfile(self.manifest_path(image_id), os.path.join(tree + ".tmp", "manifest"))
        os.replace(tree + ".tmp", tree)

    # ------------------------------------------------------------ lookup

    def images(self):
        """Return {image id: index entry} for every image whose blob exists."""
        index = self.load_index()
        return {image_id: entry for image_id, entry in index.items() if os.path.exists(self.blob_path(image_id))}

    def resolve_id(self, reference):
        """Return the full ID for a (possibly shortened) "sha512-..." REFERENCE, or None."""
        matches = [image_id for image_id in self.images() if image_id.startswith(reference)]
        if len(matches) > 1:
            raise RktError("%s: ambiguous image ID \"%s\"" % (self.prefix, reference))
        return matches[0] if matches else None

    def resolve_name(self, reference, labels=None):
        """Return the newest image ID whose name and version label match, or None."""
        name, version = split_name(reference)
        best = None
        for image_id, entry in self.images().items():
            if entry["name"] != name:
                continue
            if version is not None and entry["labels"].get("version") != version:
                continue
            if best is None or entry["import_time"] > best[1]:
                best = (image_id, entry["import_time"])
        return best[0] if best else None

    @staticmethod
    def missing_name_message(reference):
        name, version = split_name(reference)
        labels = '[{"version" "%s"}]' % version if version is not None else "[]"
        return 'cannot find aci satisfying name: "%s" and labels: %s in the local store' % (name, labels)

    def find(self, reference):
        """Resolve REFERENCE (ID or name) to a full ID, raising rkt's errors."""
        if is_image_hash(reference):
            image_id = self.resolve_id(reference)
            if image_id is None:
                raise RktError("%s: no image IDs found" % self.prefix)
            return image_id
        image_id = self.resolve_name(reference)
        if image_id is None:
            raise RktError("%s: %s" % (self.prefix, self.missing_name_message(reference)))
        return image_id

    def manifest(self, image_id):
        with open(self.manifest_path(image_id), encoding="utf-8") as handle:
            return json.load(handle)

    def touch(self, image_id):
        """Record that IMAGE_ID was used now (image list LAST USED)."""
        with self._locked():
            index = self.load_index()
            if image_id in index:
                index[image_id]["last_used"] = time.time_ns()
                self._save_index(index)

    def remove(self, image_id):
        """Remove the blob, manifest and index entry of IMAGE_ID (the tree stays for image gc)."""
        with self._locked():
            index = self.load_index()
            for path in (self.blob_path(image_id), self.manifest_path(image_id)):
                try:
                    os.remove(path)
                except FileNotFoundError:
                    pass
            index.pop(image_id, None)
            self._save_index(index)

    def tree_ids(self):
        root = os.path.join(self.cas, "tree")
        return sorted(name for name in os.listdir(root) if name.startswith("deps-") and not name.endswith(".tmp"))

    def remove_tree(self, tree_id):
        shutil.rmtree(os.path.join(self.cas, "tree", tree_id), ignore_errors=True)


def is_image_hash(reference):
    return reference.startswith("sha512-")


def directory_size(path):
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(folder, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return total


def go_os_error(operation, error):
    """Format an OSError like Go's *PathError: "mkdir /x: permission denied"."""
    text = os.strerror(error.errno).lower() if error.errno else str(error)
    if error.errno == errno.ENOENT:
        text = "no such file or directory"
    return "%s %s: %s" % (operation, error.filename, text)
