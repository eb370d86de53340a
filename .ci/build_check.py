"""Check that a built collection tarball installs and exposes every plugin and role.

Usage: python build_check.py TARBALL SOURCE_DIR INSTALL_DIR

1. The tarball must not contain local output (virtualenv, test output, the
   pytest-ansible collections/ symlink farm, build folders).
2. `ansible-galaxy collection install` must install it into INSTALL_DIR.
3. `ansible-doc --list` on the installed copy must list every plugin found under
   SOURCE_DIR/plugins/<type>/ and every role under SOURCE_DIR/roles/.

The ansible-galaxy and ansible-doc next to the running Python are used, so the
check runs with the same ansible-core as the tests.
"""

import json
import os
import subprocess
import sys
import tarfile

COLLECTION = "nomad_drivers.rkt"

# Top-level paths that build_ignore in galaxy.yml must keep out of the tarball.
FORBIDDEN_TOP_LEVEL = (".venv", ".build", ".git", "collections", ".pytest_cache", ".ansible")
FORBIDDEN_PREFIXES = ("tests/output/",)

# plugins/<folder> -> ansible-doc plugin type. module_utils and doc_fragments
# are not listed by ansible-doc, so they are not checked here.
PLUGIN_FOLDERS = {
    "action": None,  # action plugins are documented through their module
    "become": "become",
    "cache": "cache",
    "callback": "callback",
    "cliconf": "cliconf",
    "connection": "connection",
    "filter": "filter",
    "httpapi": "httpapi",
    "inventory": "inventory",
    "lookup": "lookup",
    "modules": "module",
    "netconf": "netconf",
    "shell": "shell",
    "strategy": "strategy",
    "test": "test",
    "vars": "vars",
}


def tool(name):
    """Return the path of an ansible command installed next to this Python."""
    return os.path.join(os.path.dirname(sys.executable), name)


def check_tarball_members(tarball):
    """List the tarball and return the member names that build_ignore should have excluded."""
    with tarfile.open(tarball) as archive:
        names = archive.getnames()

    forbidden = []
    for name in names:
        top_level = name.split("/", 1)[0]
        if top_level in FORBIDDEN_TOP_LEVEL or name.startswith(FORBIDDEN_PREFIXES):
            forbidden.append(name)
        elif "__pycache__" in name.split("/") or name.endswith(".pyc"):
            forbidden.append(name)
    print("build-check: %s has %d entries" % (tarball, len(names)))
    return forbidden


def plugin_names(plugin_dir):
    """Return the plugin names (file stems) in one plugins/<type> folder, recursively."""
    names = set()
    for dirpath, _dirnames, filenames in os.walk(plugin_dir):
        relative = os.path.relpath(dirpath, plugin_dir)
        prefix = "" if relative == "." else relative.replace(os.sep, ".") + "."
        for filename in filenames:
            stem, extension = os.path.splitext(filename)
            if extension in (".py", ".yml", ".yaml") and not stem.startswith("_"):
                names.add("%s.%s%s" % (COLLECTION, prefix, stem))
    return names


def listed_by_ansible_doc(plugin_type, env):
    """Return the names that ansible-doc lists for the collection and plugin type."""
    command = [tool("ansible-doc"), "--type", plugin_type, "--list", "--json", COLLECTION]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(
            "build-check: %s failed (exit code %d):\n%s" % (" ".join(command), result.returncode, result.stderr)
        )
    return set(json.loads(result.stdout or "{}"))


def main():
    """Run the checks and exit non-zero when one fails."""
    if len(sys.argv) != 4:
        raise SystemExit("usage: %s TARBALL SOURCE_DIR INSTALL_DIR" % sys.argv[0])
    tarball, source_dir, install_dir = sys.argv[1:]
    failures = []

    forbidden = check_tarball_members(tarball)
    if forbidden:
        failures.append(
            "the tarball contains local output; add these paths to build_ignore in galaxy.yml: %s"
            % ", ".join(sorted(forbidden)[:20])
        )

    # Only the fresh install may be visible, not the source tree or another copy.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=install_dir, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")

    subprocess.run(
        [tool("ansible-galaxy"), "collection", "install", "--force", "--collections-path", install_dir, tarball],
        env=env,
        check=True,
    )

    expected_by_type = {}
    plugins_root = os.path.join(source_dir, "plugins")
    if os.path.isdir(plugins_root):
        for folder in sorted(os.listdir(plugins_root)):
            plugin_type = PLUGIN_FOLDERS.get(folder)
            if plugin_type:
                expected_by_type.setdefault(plugin_type, set()).update(plugin_names(os.path.join(plugins_root, folder)))

    roles_root = os.path.join(source_dir, "roles")
    if os.path.isdir(roles_root):
        expected_by_type["role"] = {
            "%s.%s" % (COLLECTION, name)
            for name in os.listdir(roles_root)
            if os.path.isdir(os.path.join(roles_root, name))
        }

    for plugin_type, expected in sorted(expected_by_type.items()):
        listed = listed_by_ansible_doc(plugin_type, env)
        missing = expected - listed
        print("build-check: ansible-doc lists %d %s(s): %s" % (len(listed), plugin_type, ", ".join(sorted(listed)) or "-"))
        if missing:
            hint = " (a role is listed only when it has meta/argument_specs.yml)" if plugin_type == "role" else ""
            failures.append(
                "ansible-doc does not list these %s(s) from the installed tarball: %s%s"
                % (plugin_type, ", ".join(sorted(missing)), hint)
            )

    if not expected_by_type:
        print("build-check: the collection has no plugins or roles yet; only the build and install were checked")

    for failure in failures:
        print("build-check: FAILED: " + failure, file=sys.stderr)
    if failures:
        sys.exit(1)
    print("build-check: passed")


if __name__ == "__main__":
    main()
