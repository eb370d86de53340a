"""Pod manifest construction from run/prepare arguments, as rkt 1.30.0 writes it.

Key order follows appc's schema types (PodManifest, RuntimeApp, App), which is
the order `rkt cat-manifest` prints.
"""

from rktsim.errors import RktError
from rktsim.store import normalise_app, split_name

VOLUME_KINDS = ("empty", "host")


def parse_volume(value):
    """Parse "NAME,kind=host,source=DIR[,readOnly=true]" into an appc volume."""
    fields = value.split(",")
    volume = {"name": fields[0]}
    options = {}
    for field in fields[1:]:
        key, _separator, option = field.partition("=")
        options[key] = option
    kind = options.get("kind", "")
    if kind not in VOLUME_KINDS:
        raise ValueError('invalid value in --volume flag "%s": unrecognized volume kind: should be one of "empty", "host"'
                         % value)
    volume["kind"] = kind
    if kind == "host":
        if not options.get("source"):
            raise ValueError('invalid value in --volume flag "%s": source for host volume cannot be empty' % value)
        volume["source"] = options["source"]
    if "readOnly" in options:
        volume["readOnly"] = options["readOnly"].lower() == "true"
    if kind == "empty":
        # NOTE: appc's defaults for empty volumes; not recorded.
        volume["mode"] = options.get("mode", "0755")
        volume["uid"] = int(options.get("uid", 0))
        volume["gid"] = int(options.get("gid", 0))
    return volume


def parse_mount(value):
    """Parse "volume=NAME,target=PATH" into an appc mount."""
    options = {}
    for field in value.split(","):
        key, _separator, option = field.partition("=")
        options[key] = option
    if not options.get("volume") or not options.get("target"):
        # NOTE: rkt's wording for an incomplete --mount was not recorded.
        raise ValueError('invalid value in --mount flag "%s": missing volume or target' % value)
    return {"volume": options["volume"], "path": options["target"]}


def _set_env(environment, name, value):
    for item in environment:
        if item["name"] == name:
            item["value"] = value
            return
    environment.append({"name": name, "value": value})


def _key_values(items):
    result = {}
    for item in items or []:
        key, _separator, value = item.partition("=")
        result[key] = value
    return result


def default_app_name(image_name):
    return image_name.rstrip("/").split("/")[-1]


def check_mounts(apps, global_mounts, volumes, prefix):
    """Raise rkt's "dangling mount point" error for mounts of undefined volumes."""
    names = {volume["name"] for volume in volumes}
    for mount in list(global_mounts) + [mount for app in apps for mount in app.get("mount", [])]:
        if mount["volume"] not in names:
            raise RktError('%s: error parsing app image arguments: dangling mount point "%s": volume "%s" not found'
                           % (prefix, mount["path"], mount["volume"]))


def build_runtime_app(app, image_id, image_manifest, set_env, global_mounts):
    """Return the pod manifest entry (appc RuntimeApp) for one app of the command line."""
    image_app = dict(image_manifest.get("app") or {})
    exec_line = list(image_app.get("exec") or [])
    if app.get("exec"):
        exec_line = [app["exec"]]
    exec_line += app.get("args", [])
    image_app["exec"] = exec_line
    image_app["user"] = app.get("user") or image_app.get("user", "0")
    image_app["group"] = app.get("group") or image_app.get("group", "0")
    if app.get("supplementary-gids"):
        image_app["supplementaryGIDs"] = [int(gid) for gid in app["supplementary-gids"].split(",")]
    if app.get("working-dir"):
        image_app["workingDirectory"] = app["working-dir"]

    environment = [dict(item) for item in image_app.get("environment") or []]
    for item in app.get("environment", []):
        name, _separator, value = item.partition("=")
        _set_env(environment, name, value)
    # rkt 1.30.0 applies --set-env after --environment, so the pod-wide value
    # wins although the help text says the opposite.
    for item in set_env:
        name, _separator, value = item.partition("=")
        _set_env(environment, name, value)
    image_app["environment"] = environment

    isolators = [isolator for isolator in image_app.get("isolators") or []
                 if isolator.get("name") not in ("resource/memory", "resource/cpu")]
    if app.get("memory"):
        isolators.append({"name": "resource/memory",
                          "value": {"default": False, "request": app["memory"], "limit": app["memory"]}})
    if app.get("cpu"):
        isolators.append({"name": "resource/cpu",
                          "value": {"default": False, "request": app["cpu"], "limit": app["cpu"]}})
    image_app["isolators"] = isolators

    if app.get("user-annotation"):
        image_app["userAnnotations"] = _key_values(app["user-annotation"])
    if app.get("user-label"):
        image_app["userLabels"] = _key_values(app["user-label"])

    name = app.get("name") or default_app_name(image_manifest.get("name", ""))
    runtime = {
        "name": name,
        "image": {
            "name": image_manifest.get("name", ""),
            "id": image_id,
            "labels": image_manifest.get("labels") or [],
        },
        "app": normalise_app(image_app),
    }

    mounts = {}
    for mount in list(global_mounts) + list(app.get("mount", [])):
        mounts[mount["path"]] = mount
    if mounts:
        runtime["mounts"] = list(mounts.values())
    if app.get("annotation"):
        runtime["annotations"] = [{"name": key, "value": value} for key, value in _key_values(app["annotation"]).items()]
    return runtime


def parse_port(value, prefix):
    """Parse --port=NAME:[HOSTIP:]HOSTPORT into an appc exposed port."""
    parts = value.split(":")
    if len(parts) not in (2, 3) or not parts[-1].isdigit():
        # NOTE: rkt's wording for a malformed --port was not recorded.
        raise RktError('%s: invalid --port value "%s": expected NAME:[HOSTIP:]HOSTPORT' % (prefix, value))
    port = {"name": parts[0], "hostPort": int(parts[-1])}
    if len(parts) == 3:
        port["hostIP"] = parts[1]
    return port


def build_pod_manifest(runtime_apps, volumes, ports):
    from rktsim.version import RKT_VERSION

    return {
        "acVersion": RKT_VERSION,
        "acKind": "PodManifest",
        "apps": runtime_apps,
        "volumes": volumes or None,
        "isolators": None,
        "annotations": [{"name": "coreos.com/rkt/stage1/mutable", "value": "false"}],
        "ports": ports,
    }


def image_display_name(runtime_app):
    """Return "name:version" of a pod app's image, as rkt list prints it."""
    image = runtime_app["image"]
    version = None
    for label in image.get("labels") or []:
        if label["name"] == "version":
            version = label["value"]
    name, _version = split_name(image["name"])
    return "%s:%s" % (name, version) if version else name
