#!/usr/bin/env bash
# Integration tests of rkt_task with supervisor: systemd, in a Debian bookworm
# container that boots systemd as PID 1. The module runs inside the container
# through the containers.podman.podman connection, and the rkt simulator is
# mounted read-only at /opt/rkt_simulator. The test image is built on the
# controller with the testkit and copied in by the playbook. The container is
# removed at the end, also after a failure.
set -euo pipefail

target_dir=$(cd "$(dirname "$0")" && pwd)

# needs/target/setup_rkt_simulator in aliases brings the script along.
simulator_dir=$("$target_dir/../setup_rkt_simulator/files/find_simulator.sh")
container_tool=$simulator_dir/../container/systemd-container
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
# One container per run, so that runs from two copies of the collection do not
# replace each other's container.
container=nomad-rkt-task-systemd-$$

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/rkt_task_systemd.XXXXXX")
cleanup() {
    "$container_tool" stop "$container" > /dev/null || true
    rm -rf "$work_dir"
}
trap cleanup EXIT

# The test image: the testkit's app, whose options decide whether it sleeps,
# exits or fails.
"$python" "$simulator_dir/testkit/cli.py" aci --out "$work_dir/hello-0.0.1.aci" --name example.com/hello --version 0.0.1 --etc > /dev/null

"$container_tool" start "$container" bookworm -- "--volume=$simulator_dir:/opt/rkt_simulator:ro"

cat > "$work_dir/inventory" <<INVENTORY
$container ansible_connection=containers.podman.podman ansible_python_interpreter=/usr/bin/python3
INVENTORY

# containers.podman provides the connection plugin; the collection under test
# comes first on the path.
ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:+$ANSIBLE_COLLECTIONS_PATH:}$("$container_tool" collections-path)" \
ANSIBLE_PIPELINING=true \
    ansible-playbook -i "$work_dir/inventory" -e "rts_image_on_controller=$work_dir/hello-0.0.1.aci" \
    "$target_dir/systemd.yml" "$@"
