# shellcheck shell=bash
# Sourced by the runme.sh of targets that declare needs/target/setup_rkt_simulator.
# Sets simulator_dir to the collection's tests/rkt_simulator (physical path), or
# exits with the places searched.
#
# ansible-test runs a copy of the targets outside the collection, so look next to
# the targets first and then in the collections that ANSIBLE_COLLECTIONS_PATH names.

find_simulator_targets_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
simulator_dir=""
IFS=: read -r -a find_simulator_roots <<< "${ANSIBLE_COLLECTIONS_PATH:-}"
for candidate in "$find_simulator_targets_dir/../../rkt_simulator" \
    "${find_simulator_roots[@]/%//ansible_collections/nomad_drivers/rkt/tests/rkt_simulator}"; do
    if [[ -f $candidate/rkt && -f $candidate/testkit/cli.py ]]; then
        simulator_dir=$(cd "$candidate" && pwd -P)
        break
    fi
done
if [[ -z $simulator_dir ]]; then
    echo "tests/rkt_simulator not found next to $find_simulator_targets_dir or in ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-}" >&2
    exit 1
fi
