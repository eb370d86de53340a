#!/usr/bin/env bash
# Integration tests of the rkt role: failure cases that must leave a previous
# install intact, check mode on a fresh and on an installed node, upgrade and
# downgrade, reinstall from the download cache, and input validation.
#
# Everything happens under a temporary work folder: signed test releases built
# by the testkit, a loopback mirror serving them, and throwaway roots that the
# role installs into. The system groups rkt and rkt-admin are removed at the
# end if this script created them.
set -euo pipefail

target_dir=$(cd "$(dirname "$0")" && pwd)
# needs/target/setup_rkt_simulator in aliases brings the script along.
simulator_dir=$("$target_dir/../setup_rkt_simulator/files/find_simulator.sh")
testkit=$simulator_dir/testkit/cli.py
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}

# ansible-test provides INVENTORY_PATH; by hand, use the controller itself.
if [[ -z ${INVENTORY_PATH:-} ]]; then
    INVENTORY_PATH=$(mktemp)
    printf 'testhost ansible_connection=local ansible_python_interpreter=%s\n' "$(command -v "$python")" > "$INVENTORY_PATH"
fi

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/role_rkt.XXXXXX")
groups_created=()
for group in rkt rkt-admin; do
    if ! getent group "$group" > /dev/null; then
        groups_created+=("$group")
    fi
done

cleanup() {
    "$python" "$testkit" stop --pid-file "$work_dir/mirror.pid" > /dev/null 2>&1 || true
    for group in "${groups_created[@]}"; do
        if getent group "$group" > /dev/null; then
            groupdel "$group"
        fi
    done
    rm -rf "$work_dir"
}
trap cleanup EXIT

playbook() {
    ansible-playbook -i "$INVENTORY_PATH" -e "rkt_test_work_dir=$work_dir" -e "rkt_test_testkit=$testkit" "$@"
}

snapshot() {
    "$python" "$target_dir/snapshot.py" "$1"
}

# Fail when the root differs from the snapshot taken before a check mode run.
expect_unchanged() {
    local root=$1 before=$2
    local after
    after=$(snapshot "$root")
    if [[ $before != "$after" ]]; then
        echo "role_rkt: check mode changed $root:" >&2
        diff <(echo "$before") <(echo "$after") >&2
        exit 1
    fi
}

# Fail unless the playbook output in LOG shows the warning that starts with
# TEXT. Ansible writes warnings to stderr, so LOG must contain both streams.
expect_warning() {
    local log=$1 text=$2
    if ! grep -Fq "[WARNING]: $text" "$log"; then
        echo "role_rkt: no warning \"$text\" in $log" >&2
        exit 1
    fi
}

# Release builds, keys and the mirror.
playbook "$target_dir/setup.yml" "$@"

# A failed run with rkt_manage_groups=false must name the missing groups
# (only testable while the groups do not exist yet).
if [[ ${#groups_created[@]} -eq 2 ]]; then
    playbook "$target_dir/missing_groups.yml" "$@"
else
    echo "role_rkt: the groups rkt and rkt-admin existed before the test, so the missing-groups case cannot run." \
        "Remove them (groupdel rkt; groupdel rkt-admin) when no other test of the rkt role is running, and run again." >&2
    exit 1
fi

# Check mode on a fresh node: reports changes, writes nothing.
fresh_root=$work_dir/roots/check-fresh
before=$(snapshot "$fresh_root")
playbook "$target_dir/install.yml" --check -e "rkt_test_root=$fresh_root" -e rkt_version=1.30.0 "$@" | tee "$work_dir/check-fresh.log"
grep -Eq 'testhost +: ok=[0-9]+ +changed=[1-9]' "$work_dir/check-fresh.log"
expect_unchanged "$fresh_root" "$before"
if getent group rkt > /dev/null; then
    echo "role_rkt: check mode created the group rkt" >&2
    exit 1
fi

# The failure cases, each against an install of rkt 1.29.0.
playbook "$target_dir/failures.yml" "$@"

# Check mode on an installed node: no change for the installed version, a
# predicted change for another one, and nothing written either way.
installed_root=$work_dir/roots/failures
before=$(snapshot "$installed_root")
playbook "$target_dir/install.yml" --check -e "rkt_test_root=$installed_root" -e rkt_version=1.29.0 "$@" | tee "$work_dir/check-same.log"
grep -Eq 'testhost +: ok=[0-9]+ +changed=0 ' "$work_dir/check-same.log"
playbook "$target_dir/install.yml" --check -e "rkt_test_root=$installed_root" -e rkt_version=1.30.0 "$@" | tee "$work_dir/check-upgrade.log"
grep -Eq 'testhost +: ok=[0-9]+ +changed=[1-9]' "$work_dir/check-upgrade.log"
expect_unchanged "$installed_root" "$before"

# Variables that are not inputs of the role: a warning by default, a failure
# or nothing when asked. Ansible prints each distinct warning once, and
# vars/common.yml makes every other case fail on an unknown variable.
playbook "$target_dir/unknown_variables.yml" "$@" 2>&1 | tee "$work_dir/unknown-variables.log"
expect_warning "$work_dir/unknown-variables.log" \
    "rkt_verion is not an input of the role nomad_drivers.rkt.rkt and has no effect; did you mean rkt_version? Correct the name"
if grep -F '[WARNING]' "$work_dir/unknown-variables.log" | grep -Eq 'rkt_site_backup_dir|rkt_sim_root'; then
    echo "role_rkt: a variable in rkt_unknown_variables_ignore or a fact of the collection was reported" >&2
    exit 1
fi

# Upgrade, downgrade from the cache with the mirror stopped, and input validation.
playbook "$target_dir/upgrade.yml" "$@" 2>&1 | tee "$work_dir/upgrade.log"
expect_warning "$work_dir/upgrade.log" \
    "rkt_verify is none, so rkt-v1.30.0.tar.gz from http://127.0.0.1:"
