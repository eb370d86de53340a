"""`rkt fetch` and the image fetching that run and prepare share.

Image references are classified like rkt does: an image ID ("sha512-..."),
a URL (http://, https://), a local path (starting with "/" or "." or ending in
".aci") or otherwise an image name looked up in the store and, depending on
the pull policy, by meta discovery.
"""

import os

from rktsim.errors import RktError
from rktsim.names import image_name_error
from rktsim.store import Store, is_image_hash, split_name

NOT_FOUND_BY_NAME = ('unable to fetch image from image name "%s": either image was not found in the store or store '
                     "was disabled and fetching from remote yielded nothing or it was disabled")


def short_id(image_id):
    """Return the 32-hex-digit short form rkt prints ("sha512-" + 32 hex)."""
    return image_id[:7 + 32]


def run_command(context):
    if not context.apps:
        raise RktError("fetch: must provide at least one image")
    if not context.is_root():
        raise RktError("fetch: cannot open store: mkdir %s: permission denied" % os.path.join(context.data_dir, "cas"))

    store = Store(context.data_dir, "fetch")
    for app in context.apps:
        image_id = fetch_image(context, store, app, context.flag("pull-policy"), "fetch")
        context.out((image_id if context.flag("full") else short_id(image_id)) + "\n")
    return 0


def is_path(reference):
    return reference.startswith("/") or reference.startswith(".") or reference.endswith(".aci") \
        or reference.startswith("file://")


def fetch_image(context, store, app, pull_policy, prefix):
    """Return the full ID of the image APP["image"], importing it when needed.

    PULL_POLICY applies to image names: "never" uses the store only, "update"
    always asks the remote, any other value (rkt does not validate it)
    behaves like "new": store first, remote when missing.
    """
    reference = app["image"]
    if is_image_hash(reference):
        image_id = store.resolve_id(reference)
        if image_id is None:
            # NOTE: message for an unknown image ID on run/fetch was not recorded.
            raise RktError("%s: no image IDs found" % prefix)
        return image_id

    if reference.startswith("http://") or reference.startswith("https://"):
        return _fetch_url(context, store, reference, app.get("signature"), prefix)

    if is_path(reference):
        path = reference[len("file://"):] if reference.startswith("file://") else reference
        return _fetch_file(context, store, path, app.get("signature"), prefix)

    # NOTE: the wording for an image name that rkt cannot parse was not
    # recorded; it is the innermost error, as rkt prints its other fetch errors.
    name_error = image_name_error(reference)
    if name_error:
        raise RktError("%s: %s" % (prefix, name_error))

    if pull_policy != "update":
        image_id = store.resolve_name(reference)
        if image_id is not None:
            return image_id
        if pull_policy == "never":
            raise RktError("%s: %s" % (prefix, NOT_FOUND_BY_NAME % reference))
    return _fetch_by_discovery(context, store, reference, prefix)


def _read_file(path, prefix):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise RktError("%s: open %s: no such file or directory" % (prefix, path))
    except PermissionError:
        raise RktError("%s: open %s: permission denied" % (prefix, path))


def _fetch_file(context, store, path, signature_path, prefix):
    from rktsim.aci import decompress, read_manifest
    from rktsim.keys import verify_signature

    data = _read_file(path, prefix)
    signature = None
    if "image" not in context.insecure:
        signature = _read_file(signature_path or path + ".asc", prefix)

    tar_bytes = decompress(data)
    manifest = read_manifest(tar_bytes, prefix)
    if signature is not None:
        verify_signature(context, prefix, manifest.get("name", ""), data, signature)
    return store.import_aci(tar_bytes, manifest)


def _download(context, url, label, prefix):
    from rktsim.httpget import FetchError, ProgressPrinter, get

    printer = ProgressPrinter(context, label)
    try:
        response = get(url, progress=printer)
    except FetchError as error:
        raise RktError("%s: %s" % (prefix, error))
    if response.status != 200:
        raise RktError("%s: bad HTTP status code: %d" % (prefix, response.status))
    printer.finish()
    return response.body


def _fetch_url(context, store, url, signature_url, prefix):
    from rktsim.aci import decompress, read_manifest
    from rktsim.keys import verify_signature

    signature = None
    if "image" not in context.insecure:
        if signature_url and not signature_url.startswith("http"):
            signature = _read_file(signature_url, prefix)
        else:
            signature = _download(context, signature_url or url + ".asc", "signature", prefix)
    data = _download(context, url, "ACI", prefix)

    if signature is not None:
        if b"-----BEGIN PGP SIGNATURE-----" not in signature and not (signature[:1] and signature[0] & 0x80):
            raise RktError("%s: openpgp: invalid data: tag byte does not have MSB set" % prefix)
    tar_bytes = decompress(data)
    manifest = read_manifest(tar_bytes, prefix)
    if signature is not None:
        verify_signature(context, prefix, manifest.get("name", ""), data, signature)
    return store.import_aci(tar_bytes, manifest)


def _fetch_by_discovery(context, store, reference, prefix):
    """Find the image URL of name REFERENCE with `ac-discovery` meta tags and fetch it.

    NOTE: like rkt, plain-http discovery needs --insecure-options=http; the
    simulator never serves https, so without it discovery always fails.
    """
    from rktsim.discovery import DiscoveryError, discover

    name, version = split_name(reference)
    try:
        templates = discover(name, "ac-discovery", "http" in context.insecure, "image")
    except DiscoveryError as error:
        if context.debug:
            for line in error.debug_lines:
                context.err(line + "\n")
        raise RktError("%s: discovery failed" % prefix)

    values = {"name": name, "version": version or "latest", "os": "linux", "arch": "amd64"}
    _prefix, template = templates[0]
    aci_url = _expand(template, values, "aci")
    signature_url = _expand(template, values, "aci.asc")
    return _fetch_url(context, store, aci_url, signature_url, prefix)


def _expand(template, values, extension):
    result = template
    for key, value in list(values.items()) + [("ext", extension)]:
        result = result.replace("{%s}" % key, value)
    return result
