#!/usr/bin/env bash
# Runs every YAML and shell example of the user documentation against the rkt
# simulator (run_examples.py explains what is extracted and how it runs).
#
# The examples use the default paths of rkt, the role and the modules
# (/usr/bin/rkt, /etc/rkt, /var/lib/rkt, /srv/...). So this script re-runs
# itself in a private mount namespace (unshare --mount) and mounts throwaway
# overlays on /etc, /var, /usr, /srv and /opt there: the examples see the real
# files plus their own changes, and the host keeps none of those changes. The
# overlays' upper folders live in a temporary work folder that is removed at
# the end. Servers listen on 127.0.0.1 only.
set -euo pipefail

target_dir=$(cd "$(dirname "$0")" && pwd)
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
overlaid_dirs=(/etc /var /usr /srv /opt)

if [[ -z ${DOCS_EXAMPLES_IN_NAMESPACE:-} ]]; then
    # ansible-test runs a copy of the target below tests/output/.tmp, so look
    # upwards for the collection root: the first folder with galaxy.yml.
    collection_root=$target_dir
    while [[ ! -f $collection_root/galaxy.yml ]]; do
        if [[ $collection_root == / ]]; then
            echo "docs_examples: no galaxy.yml above $target_dir; run the target from a copy of the whole collection" >&2
            exit 1
        fi
        collection_root=$(dirname "$collection_root")
    done

    work_dir=$(mktemp -d "${TMPDIR:-/tmp}/docs-examples-XXXXXX")
    chmod 0755 "$work_dir"
    trap 'rm -rf "$work_dir"' EXIT

    # By hand (not under ansible-test), make the collection importable.
    if [[ -z ${ANSIBLE_COLLECTIONS_PATH:-} ]]; then
        mkdir -p "$work_dir/collections/ansible_collections/nomad_drivers"
        ln -s "$collection_root" "$work_dir/collections/ansible_collections/nomad_drivers/rkt"
        export ANSIBLE_COLLECTIONS_PATH=$work_dir/collections
    fi

    # Examples name the groups nomad_clients and all; both are this machine.
    printf '[nomad_clients]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n' \
        "$(command -v "$python")" > "$work_dir/inventory.ini"

    status=0
    DOCS_EXAMPLES_IN_NAMESPACE=1 DOCS_EXAMPLES_WORK_DIR=$work_dir DOCS_EXAMPLES_COLLECTION_ROOT=$collection_root \
        unshare --mount --propagation private -- "$0" "$@" || status=$?
    exit $status
fi

# From here on: inside the private mount namespace.
work_dir=$DOCS_EXAMPLES_WORK_DIR
collection_root=$DOCS_EXAMPLES_COLLECTION_ROOT

# An overlay hides the mounts below its folder (in a container, for example a
# bind-mounted /etc/hosts). Stop with the list instead of running the
# examples on a changed system.
submounts=$(awk '{print $5}' /proc/self/mountinfo | grep -E "^($(IFS='|'; echo "${overlaid_dirs[*]}"))/" || true)
if [[ -n $submounts ]]; then
    echo "docs_examples: these mounts would be hidden by the throwaway overlays: $submounts" >&2
    echo "docs_examples: run the target on a machine without mounts below ${overlaid_dirs[*]}" >&2
    exit 1
fi

for dir in "${overlaid_dirs[@]}"; do
    name=${dir#/}
    mkdir -p "$work_dir/overlay/$name/upper" "$work_dir/overlay/$name/work"
    mount -t overlay "docs-examples-$name" -o "lowerdir=$dir,upperdir=$work_dir/overlay/$name/upper,workdir=$work_dir/overlay/$name/work" "$dir"
done

# The simulator uses rkt's default paths (now in the overlays); its control
# file and invocation log go to the work folder.
unset RKT_SIM_ROOT
export RKT_SIM_CONTROL=$work_dir/rkt-sim/control.json
export RKT_SIM_LOG=$work_dir/rkt-sim/invocations.jsonl
export ANSIBLE_ROLES_PATH=$target_dir/..
export ANSIBLE_INVENTORY=$work_dir/inventory.ini
export ANSIBLE_NOCOLOR=1

cleanup() {
    # Stop every pod the examples left running: they are processes of this
    # namespace, and the overlays stay mounted while one of them runs.
    if [[ -x /usr/bin/rkt ]]; then
        /usr/bin/rkt list --format=json 2>/dev/null \
            | "$python" -c 'import json, sys; [print(pod["name"]) for pod in json.load(sys.stdin) or [] if pod.get("state") == "running"]' \
            | while read -r uuid; do /usr/bin/rkt stop --force "$uuid" >/dev/null || true; done
    fi
    if [[ -f $work_dir/setup-result.json ]]; then
        testkit=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["rkt_sim_testkit"])' "$work_dir/setup-result.json")
        python3 "$testkit" stop --pid-file "$work_dir/mirror.pid" >/dev/null || true
        sim_root=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["rkt_sim_root"])' "$work_dir/setup-result.json")
        rm -rf "$sim_root"
    fi
}
trap cleanup EXIT

ansible-playbook "$target_dir/setup.yml" -e "docs_examples_work_dir=$work_dir" "$@"

"$python" "$target_dir/run_examples.py" "$collection_root" "$work_dir" "$work_dir/setup-result.json"
