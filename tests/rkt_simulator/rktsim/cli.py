"""Command-line front end: flag parsing, test controls, invocation log, dispatch.

Flag parsing follows cobra/pflag as rkt 1.30.0 uses them: global flags are
accepted before or after the subcommand, parse errors print the command's
usage on stdout and "Error: <message>" plus a blank line on stderr (rc 254).
`run`, `prepare` and `fetch` stop at the first image and parse the rest
themselves (per-app flags bind to the preceding image, `--` starts the app
arguments and `---` ends them).

Only the standard library is imported at start-up so that `rkt version`
stays fast; each command module is imported when it runs.
"""

import json
import os
import sys
import time

from rktsim.errors import RktError, UsageError

EXIT_ERROR = 254

INSECURE_OPTIONS = ["none", "image", "tls", "ondisk", "http", "pubkey", "capabilities", "paths", "seccomp",
                    "all-fetch", "all-run", "all"]


class Flag:
    """One command-line flag: NAME, value KIND, DEFAULT and an optional validator.

    KIND is "bool", "string", "list" (repeatable) or "optional" (a value that
    may be left out, like --wait). PER_APP flags bind to the preceding image
    and are an error before any image.
    """

    def __init__(self, name, kind="string", default=None, validate=None, per_app=False):
        self.name = name
        self.kind = kind
        self.default = default
        self.validate = validate
        self.per_app = per_app


def _validate_insecure(value):
    options = value.split(",")
    for option in options:
        if option not in INSECURE_OPTIONS:
            raise ValueError('unknown option "%s"' % option)
    return options


def _validate_format(value):
    if value not in ("", "json", "json-pretty"):
        raise ValueError("Invalid format option: %s" % value)
    return value


def _validate_duration(value):
    from rktsim.formats import parse_go_duration

    return parse_go_duration(value)


def _validate_key_value(value):
    if "=" not in value:
        raise ValueError("must be specified as key=value")
    return value


def _validate_bool_or_duration(value):
    """Parse --wait/--wait-ready: a boolean or a Go duration, in seconds (None = forever)."""
    from rktsim.formats import parse_go_duration

    lowered = value.lower()
    if lowered in ("true", "t", "1"):
        return None
    if lowered in ("false", "f", "0", ""):
        return 0.0
    seconds = parse_go_duration(value)
    return None if seconds < 0 else seconds


def _validate_fields(value):
    for field in value.split(","):
        if field not in ("id", "name", "size", "importtime", "lastused"):
            raise ValueError('unknown option "%s"' % field)
    return value.split(",")


def _validate_sort(value):
    for field in value.split(","):
        if field not in ("name", "importtime", "lastused", "size"):
            raise ValueError('unknown option "%s"' % field)
    return value.split(",")


def _validate_order(value):
    if value not in ("asc", "desc"):
        raise ValueError('unknown option "%s"' % value)
    return value


def _validate_volume(value):
    from rktsim.podspec import parse_volume

    return parse_volume(value)


def _validate_mount(value):
    from rktsim.podspec import parse_mount

    return parse_mount(value)


def _validate_memory(value):
    from rktsim.quantity import parse_memory

    return parse_memory(value)


def _validate_cpu(value):
    from rktsim.quantity import parse_cpu

    return parse_cpu(value)


GLOBAL_FLAGS = [
    Flag("debug", "bool", False),
    Flag("dir", "string", None),
    Flag("insecure-options", "string", ["none"], _validate_insecure),
    Flag("local-config", "string", None),
    Flag("system-config", "string", None),
    Flag("trust-keys-from-https", "bool", False),
    Flag("user-config", "string", ""),
]

# Per-app flags of run and prepare; rkt binds them to the preceding image.
APP_FLAGS = [
    Flag("annotation", "list", None, _validate_key_value, per_app=True),
    Flag("caps-remove", "list", None, per_app=True),
    Flag("caps-retain", "list", None, per_app=True),
    Flag("cpu", "string", None, _validate_cpu, per_app=True),
    Flag("cpu-shares", "string", None, per_app=True),
    Flag("environment", "list", None, _validate_key_value, per_app=True),
    Flag("exec", "string", None, per_app=True),
    Flag("group", "string", None, per_app=True),
    Flag("memory", "string", None, _validate_memory, per_app=True),
    Flag("name", "string", None, per_app=True),
    Flag("oom-score-adj", "string", None, per_app=True),
    Flag("readonly-rootfs", "string", None, per_app=True),
    Flag("seccomp", "string", None, per_app=True),
    Flag("signature", "string", None, per_app=True),
    Flag("supplementary-gids", "string", None, per_app=True),
    Flag("user", "string", None, per_app=True),
    Flag("user-annotation", "list", None, _validate_key_value, per_app=True),
    Flag("user-label", "list", None, _validate_key_value, per_app=True),
    Flag("working-dir", "string", None, per_app=True),
]

# Pod flags shared by run and prepare. --mount is special: before any image it
# applies to every app, after an image only to that image.
POD_FLAGS = [
    Flag("inherit-env", "bool", False),
    Flag("mount", "list", None, _validate_mount),
    Flag("no-overlay", "bool", False),
    Flag("pod-manifest", "string", ""),
    Flag("port", "list", None),
    Flag("private-users", "bool", False),
    Flag("pull-policy", "string", "new"),
    Flag("set-env", "list", None, _validate_key_value),
    Flag("set-env-file", "list", None),
    Flag("stage1-from-dir", "string", None),
    Flag("stage1-hash", "string", None),
    Flag("stage1-name", "string", None),
    Flag("stage1-path", "string", None),
    Flag("stage1-url", "string", None),
    Flag("volume", "list", None, _validate_volume),
]

# Flags that only run and run-prepared accept (prepare rejects them).
RUNTIME_FLAGS = [
    Flag("dns", "list", None),
    Flag("dns-domain", "string", ""),
    Flag("dns-opt", "list", None),
    Flag("dns-search", "list", None),
    Flag("hostname", "string", ""),
    Flag("hosts-entry", "list", None),
    Flag("interactive", "bool", False),
    Flag("ipc", "string", ""),
    Flag("mds-register", "bool", False),
    Flag("net", "string", "default"),
]


class Command:
    """A subcommand: its PATH ("image list"), flags and argument handling.

    APPS is true for run, prepare and fetch, which stop flag parsing at the
    first image and parse per-app flags themselves.
    """

    def __init__(self, path, module, flags=(), apps=False):
        self.path = path
        self.module = module
        self.flags = {flag.name: flag for flag in list(flags) + GLOBAL_FLAGS}
        self.apps = apps


COMMANDS = {
    "version": Command("version", "version_cmd"),
    "config": Command("config", "version_cmd"),
    "trust": Command("trust", "trust", [
        Flag("insecure-allow-http", "bool", False),
        Flag("prefix", "string", ""),
        Flag("root", "bool", False),
        Flag("skip-fingerprint-review", "bool", False),
    ]),
    "fetch": Command("fetch", "fetch", [
        Flag("full", "bool", False),
        Flag("pull-policy", "string", "update"),
        Flag("signature", "string", None, per_app=True),
    ], apps=True),
    "run": Command("run", "run", APP_FLAGS + POD_FLAGS + RUNTIME_FLAGS + [Flag("uuid-file-save", "string", "")],
                   apps=True),
    "prepare": Command("prepare", "run", APP_FLAGS + POD_FLAGS + [Flag("quiet", "bool", False)], apps=True),
    "run-prepared": Command("run-prepared", "run", RUNTIME_FLAGS),
    "list": Command("list", "podcmds", [
        Flag("format", "string", "", _validate_format),
        Flag("full", "bool", False),
        Flag("no-legend", "bool", False),
    ]),
    "status": Command("status", "podcmds", [
        Flag("format", "string", "", _validate_format),
        Flag("uuid-file", "string", ""),
        Flag("wait", "optional", 0.0, _validate_bool_or_duration),
        Flag("wait-ready", "optional", 0.0, _validate_bool_or_duration),
    ]),
    "cat-manifest": Command("cat-manifest", "podcmds", [
        Flag("pretty-print", "bool", True),
        Flag("uuid-file", "string", ""),
    ]),
    "stop": Command("stop", "podcmds", [
        Flag("force", "bool", False),
        Flag("uuid-file", "string", ""),
    ]),
    "rm": Command("rm", "podcmds", [Flag("uuid-file", "string", "")]),
    "gc": Command("gc", "podcmds", [
        Flag("expire-prepared", "string", 24 * 3600.0, _validate_duration),
        Flag("grace-period", "string", 1800.0, _validate_duration),
        Flag("mark-only", "bool", False),
    ]),
    "image list": Command("image list", "images", [
        Flag("fields", "string", ["id", "name", "size", "importtime", "lastused"], _validate_fields),
        Flag("format", "string", "", _validate_format),
        Flag("full", "bool", False),
        Flag("no-legend", "bool", False),
        Flag("order", "string", "asc", _validate_order),
        Flag("sort", "string", ["importtime"], _validate_sort),
    ]),
    "image rm": Command("image rm", "images"),
    "image cat-manifest": Command("image cat-manifest", "images", [Flag("pretty-print", "bool", True)]),
    "image gc": Command("image gc", "images", [Flag("grace-period", "string", 24 * 3600.0, _validate_duration)]),
}

# Real rkt subcommands that the simulator does not implement.
UNSUPPORTED = {"api-service", "completion", "enter", "export", "metadata-service",
               "image export", "image extract", "image render", "image verify"}

GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")


class Context:
    """Everything one invocation needs: parsed flags, arguments, paths, output."""

    def __init__(self, command, values, args, apps, argv):
        self.command = command
        self.name = command.path.split()[-1]
        self.values = values
        self.args = args
        self.apps = apps
        self.argv = argv
        self.root = os.environ.get("RKT_SIM_ROOT", "")
        self.data_dir = values["dir"] or self.root + "/var/lib/rkt"
        self.local_config = values["local-config"] or self.root + "/etc/rkt"
        self.system_config = values["system-config"] or self.root + "/usr/lib/rkt"
        self.user_config = values["user-config"]
        self.stage1_images_dir = self.root + "/usr/lib/rkt/stage1-images"
        self.debug = values["debug"]
        self.insecure = set(values["insecure-options"])
        if "all" in self.insecure:
            self.insecure.update(["image", "tls", "ondisk", "http", "pubkey", "capabilities", "paths", "seccomp"])
        if "all-fetch" in self.insecure:
            self.insecure.update(["image", "tls", "http"])
        if "all-run" in self.insecure:
            self.insecure.update(["ondisk", "capabilities", "paths", "seccomp"])
        self.euid = load_control().get("euid", os.geteuid())

    def flag(self, name):
        return self.values[name]

    def out(self, text):
        sys.stdout.write(text)

    def err(self, text):
        sys.stderr.write(text)

    def is_root(self):
        return self.euid == 0


# ---------------------------------------------------------------- controls

def control_path():
    explicit = os.environ.get("RKT_SIM_CONTROL")
    if explicit:
        return explicit
    return os.environ.get("RKT_SIM_ROOT", "") + "/rkt-sim/control.json"


_CONTROL_CACHE = {}


def load_control():
    """Return the test control object ({} when the control file is absent)."""
    if "value" not in _CONTROL_CACHE:
        try:
            with open(control_path(), encoding="utf-8") as handle:
                _CONTROL_CACHE["value"] = json.load(handle)
        except FileNotFoundError:
            _CONTROL_CACHE["value"] = {}
    return _CONTROL_CACHE["value"]


def log_invocation(argv, command_path):
    """Append one JSON line describing this invocation to the invocation log.

    Without RKT_SIM_LOG and RKT_SIM_ROOT the simulator runs as a node's installed rkt
    (the role's tests install it) and no test reads a log, so it writes none and
    leaves no /rkt-sim folder on the host.
    """
    if os.environ.get("RKT_SIM_LOG"):
        path = os.environ["RKT_SIM_LOG"]
    elif os.environ.get("RKT_SIM_ROOT"):
        path = os.environ["RKT_SIM_ROOT"] + "/rkt-sim/invocations.jsonl"
    else:
        return
    record = {"argv": argv, "command": command_path, "pid": os.getpid(), "time": time.time()}
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    except OSError as error:
        sys.stderr.write("rkt simulator: cannot write the invocation log %s: %s\n" % (path, error))


def _counts_path():
    return control_path() + ".counts"


def _load_counts():
    try:
        with open(_counts_path(), encoding="utf-8") as handle:
            return json.load(handle)
    except (FileNotFoundError, ValueError):
        return {}


def consume_control_counter(key):
    """Return how often KEY was used before and count this use ("<control>.counts" file)."""
    import fcntl

    with open(_counts_path() + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        counts = _load_counts()
        used = counts.get(key, 0)
        counts[key] = used + 1
        with open(_counts_path(), "w", encoding="utf-8") as handle:
            json.dump(counts, handle)
    return used


def apply_fault(command_path):
    """Fire the first control-file fault matching COMMAND_PATH; return its rc or None.

    A fault with "count" fires only that many times; the counts live next to
    the control file in "<control>.counts".
    """
    faults = load_control().get("faults") or []
    for index, fault in enumerate(faults):
        if fault.get("command") != command_path:
            continue
        if "count" in fault and consume_control_counter("fault-%d" % index) >= int(fault["count"]):
            continue
        sys.stdout.write(fault.get("stdout", ""))
        sys.stderr.write(fault.get("stderr", ""))
        sys.stdout.flush()
        sys.stderr.flush()
        if fault.get("hang_seconds"):
            time.sleep(float(fault["hang_seconds"]))
        return int(fault.get("rc", EXIT_ERROR))
    return None


# ---------------------------------------------------------------- parsing

def find_command(argv):
    """Split ARGV into (command words, remaining tokens) the way cobra's Find does.

    Flags before the subcommand are skipped; a non-bool global flag written
    without "=" also skips its value. "image" and "help" take one more word.
    """
    global_flags = {flag.name: flag for flag in GLOBAL_FLAGS}
    words = []
    rest = []
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            rest.extend(argv[index:])
            break
        if token.startswith("-") and token != "-":
            rest.append(token)
            flag = global_flags.get(token.lstrip("-").split("=", 1)[0])
            if flag is not None and flag.kind != "bool" and "=" not in token and index + 1 < len(argv):
                rest.append(argv[index + 1])
                index += 1
            index += 1
            continue
        takes_word = (not words or words == ["image"] or words == ["help"] or words == ["help", "image"])
        if not takes_word:
            rest.extend(argv[index:])
            break
        words.append(token)
        index += 1
    return words, rest


def parse_flags(command, tokens, values, apps):
    """Parse flag TOKENS for COMMAND into VALUES; return the positional arguments.

    Per-app flags attach to the last app in APPS and are an error while
    APPS is empty. Raises UsageError; parse_apps turns it into rkt's
    "error parsing app image arguments" for flags after an image.
    """
    positionals = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "--":
            positionals.extend(tokens[index + 1:])
            break
        if token in ("-h", "--help"):
            raise _Help()
        if token.startswith("--") and len(token) > 2:
            name, has_value, value = token[2:].partition("=")
            flag = command.flags.get(name)
            if flag is None:
                raise UsageError("unknown flag: --%s" % name)
            if flag.kind == "bool":
                if has_value:
                    if value not in GO_TRUE + GO_FALSE:
                        raise UsageError('invalid argument "%s" for %s: strconv.ParseBool: parsing "%s": invalid syntax'
                                         % (value, token, value))
                    parsed = value in GO_TRUE
                else:
                    parsed = True
                values[name] = parsed
                index += 1
                continue
            if flag.kind == "optional":
                if not has_value:
                    value = "true"
            elif not has_value:
                if index + 1 >= len(tokens):
                    raise UsageError("flag needs an argument: --%s" % name)
                index += 1
                value = tokens[index]
            _set_flag(flag, token, value, values, apps)
            index += 1
            continue
        if token.startswith("-") and token != "-":
            raise UsageError("unknown shorthand flag: '%s' in %s" % (token[1], token))
        if command.apps:
            positionals.extend(tokens[index:])
            break
        positionals.append(token)
        index += 1
    return positionals


def _set_flag(flag, token, value, values, apps):
    """Validate VALUE for FLAG and store it, or attach it to the preceding app."""
    if flag.per_app and not apps:
        raise UsageError('invalid argument "%s" for %s: --%s must follow an image' % (value, token, flag.name))
    parsed = value
    if flag.validate is not None:
        try:
            parsed = flag.validate(value)
        except ValueError as error:
            raise UsageError('invalid argument "%s" for %s: %s' % (value, token, error))
    if flag.per_app:
        app = apps[-1]
        if flag.kind == "list":
            app.setdefault(flag.name, []).append(parsed)
        else:
            app[flag.name] = parsed
        return
    if flag.name == "mount" and apps:
        # A --mount after an image binds to that image only.
        apps[-1].setdefault("mount", []).append(parsed)
        return
    if flag.kind == "list":
        if values.get(flag.name) is None:
            values[flag.name] = []
        values[flag.name].append(parsed)
    else:
        values[flag.name] = parsed


def parse_apps(command, tokens, values):
    """Parse what follows the first image of run/prepare/fetch into a list of apps.

    Each app is a dict with "image", "args" and the per-app flag values.
    Flag errors here are reported by rkt as "error parsing app image
    arguments: ..." without usage, so they come back as RktError.
    """
    apps = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "--":
            if not apps:
                raise RktError("%s: error parsing app image arguments: an image is required before any app arguments"
                               % command.path)
            index += 1
            while index < len(tokens) and tokens[index] != "---":
                apps[-1]["args"].append(tokens[index])
                index += 1
            index += 1
            continue
        if token.startswith("-") and token != "-" and token != "---":
            end = index + 1
            name, has_value, _value = token.lstrip("-").partition("=")
            flag = command.flags.get(name)
            if flag is not None and flag.kind not in ("bool", "optional") and not has_value:
                end += 1
            try:
                parse_flags(command, tokens[index:end], values, apps)
            except UsageError as error:
                raise RktError("%s: error parsing app image arguments: %s" % (command.path, error.message))
            index = end
            continue
        apps.append({"image": token, "args": []})
        index += 1
    return apps


class _Help(Exception):
    """Raised when -h/--help is on the command line."""


def _defaults(command):
    values = {}
    for name, flag in command.flags.items():
        default = flag.default
        values[name] = list(default) if isinstance(default, list) else default
    return values


# ---------------------------------------------------------------- main

def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    try:
        rc = _main(argv)
    except BrokenPipeError:
        rc = EXIT_ERROR
    sys.stdout.flush()
    sys.stderr.flush()
    return rc


def _main(argv):
    words, tokens = find_command(argv[1:])
    path = " ".join(words)
    log_invocation(argv, path)

    fault_rc = apply_fault(path)
    if fault_rc is not None:
        return fault_rc

    from rktsim.texts import USAGES, usage_text

    if not words:
        # cobra prints the root help for `rkt` and `rkt --help`; an unknown
        # flag is a parse error against the root usage.
        for token in tokens:
            if token in ("-h", "--help"):
                break
            if token.startswith("--") and token[2:].split("=", 1)[0] not in {f.name for f in GLOBAL_FLAGS}:
                sys.stdout.write(usage_text("rkt"))
                sys.stderr.write("Error: unknown flag: %s\n\n" % token.split("=", 1)[0])
                return EXIT_ERROR
        sys.stdout.write(usage_text("rkt"))
        return 0

    if words[0] == "help":
        topic = " ".join(words[1:]) or "rkt"
        if topic not in USAGES:
            # NOTE: cobra's message for `rkt help <unknown>`; not recorded.
            sys.stdout.write('Unknown help topic [`%s`]\n' % topic)
            sys.stdout.write(usage_text("rkt"))
            return 0
        sys.stdout.write(usage_text(topic))
        return 0

    if path == "image":
        if any(token in ("-h", "--help") for token in tokens) or not tokens:
            sys.stdout.write(usage_text("image"))
            return 0

    command = COMMANDS.get(path)
    if command is None:
        if path in UNSUPPORTED:
            sys.stderr.write("%s: not implemented by the rkt simulator\n" % words[-1])
            return EXIT_ERROR
        parent = "rkt image" if words[0] == "image" else "rkt"
        sys.stderr.write('Error: unknown command "%s" for "%s"\nRun \'%s --help\' for usage.\n'
                         % (words[-1], parent, parent))
        return EXIT_ERROR

    values = _defaults(command)
    try:
        positionals = parse_flags(command, tokens, values, [])
    except _Help:
        sys.stdout.write(usage_text(path))
        return 0
    except UsageError as error:
        sys.stdout.write(usage_text(path))
        sys.stderr.write("Error: %s\n\n" % error.message)
        return EXIT_ERROR

    apps = []
    try:
        if command.apps:
            apps = parse_apps(command, positionals, values)
            positionals = []
        context = Context(command, values, positionals, apps, argv)
        module = __import__("rktsim." + command.module, fromlist=["run_command"])
        return module.run_command(context)
    except _Help:
        sys.stdout.write(usage_text(path))
        return 0
    except UsageError as error:
        sys.stdout.write(usage_text(path))
        sys.stderr.write("Error: %s\n\n" % error.message)
        return EXIT_ERROR
    except RktError as error:
        sys.stdout.write(error.stdout)
        sys.stderr.write(error.message + "\n")
        return error.rc
