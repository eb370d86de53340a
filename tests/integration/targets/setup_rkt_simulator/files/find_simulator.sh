#!/usr/bin/env bash
# Print the physical path of the collection's tests/rkt_simulator, or exit 1 with
# the places searched. The runme.sh of targets that declare
# needs/target/setup_rkt_simulator run it as
#   simulator_dir=$("$target_dir/../setup_rkt_simulator/files/find_simulator.sh")
#
# ansible-test runs a copy of the targets outside the collection, so look next to
# the targets first and then in the collections that ANSIBLE_COLLECTIONS_PATH names.
set -euo pipefail

targets_dir=$(cd "$(dirname "$0")/../.." && pwd)
IFS=: read -r -a collection_roots <<< "${ANSIBLE_COLLECTIONS_PATH:-}"
for candidate in "$targets_dir/../../rkt_simulator" \
    "${collection_roots[@]/%//ansible_collections/nomad_drivers/rkt/tests/rkt_simulator}"; do
    if [[ -f $candidate/rkt && -f $candidate/testkit/cli.py ]]; then
        cd "$candidate" && pwd -P
        exit 0
    fi
done
echo "tests/rkt_simulator not found next to $targets_dir or in ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-}" >&2
exit 1
