"""`rkt version` and `rkt config`."""

from rktsim.cli import load_control


def run_command(context):
    if context.command.path == "config":
        return _config(context)

    control = load_control()
    if "version_stdout" in control or "version_rc" in control or "version_stderr" in control:
        context.out(control.get("version_stdout", ""))
        context.err(control.get("version_stderr", ""))
        return int(control.get("version_rc", 0))

    from rktsim import version

    context.out("rkt Version: %s\nappc Version: %s\nGo Version: %s\nGo OS/Arch: %s\nFeatures: %s\n" % (
        version.RKT_VERSION, version.APPC_VERSION, version.GO_VERSION, version.GO_OS_ARCH, version.FEATURES))
    return 0


def _config(context):
    # NOTE: the simulator reads no configuration files, so it always prints
    # the configuration real rkt prints when none exist.
    from rktsim.formats import go_json

    config = {"stage0": [
        {"rktVersion": "v1", "rktKind": "paths", "data": "", "stage1-images": ""},
        {"rktVersion": "v1", "rktKind": "stage1", "name": "", "version": "", "location": ""},
    ]}
    context.out(go_json(config, pretty=True) + "\n")
    return 0
