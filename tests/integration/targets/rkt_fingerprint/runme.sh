#!/usr/bin/env bash
# Integration tests of rkt_fingerprint against the rkt simulator, in three runs:
# 1. runme.yml applies this target as a role (tasks/, after setup_rkt_simulator);
# 2. gather_facts.yml uses the module as a facts module of gather_facts;
# 3. an ad hoc `ansible -m nomad_drivers.rkt.rkt_fingerprint` call.
set -euo pipefail

target_dir=$(cd "$(dirname "$0")" && pwd)
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}

work_dir=$(mktemp -d)
trap 'rm -rf "$work_dir"' EXIT

# ansible-test provides INVENTORY_PATH; by hand, use the controller itself.
if [[ -z ${INVENTORY_PATH:-} ]]; then
    INVENTORY_PATH=$work_dir/inventory
    printf 'testhost ansible_connection=local ansible_python_interpreter=%s\n' "$(command -v "$python")" > "$INVENTORY_PATH"
fi

export ANSIBLE_ROLES_PATH=$target_dir/..

ansible-playbook -i "$INVENTORY_PATH" "$target_dir/runme.yml" "$@"

# gather_facts.yml also writes the simulator's folder (the fact rkt_sim_dir of
# setup_rkt_simulator) to $work_dir/rkt_sim_dir for the ad hoc run below.
ansible-playbook -i "$INVENTORY_PATH" "$target_dir/gather_facts.yml" -e "rkt_fingerprint_work_dir=$work_dir" "$@"

# Ad hoc: the local connection passes this shell's environment to the module.
simulator_dir=$(cat "$work_dir/rkt_sim_dir")
sim_root=$work_dir/sim-root
mkdir "$sim_root"

RKT_SIM_ROOT=$sim_root PATH="$simulator_dir:$PATH" \
    ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=ansible.builtin.minimal ANSIBLE_NOCOLOR=1 \
    ansible testhost -i "$INVENTORY_PATH" -m nomad_drivers.rkt.rkt_fingerprint -a "stage1_dir=$sim_root/stage1" \
    > "$sim_root/adhoc.out" || { cat "$sim_root/adhoc.out" >&2; exit 1; }

"$python" - "$sim_root/adhoc.out" "$sim_root/rkt-sim/invocations.jsonl" "$simulator_dir/rkt" <<'PYTHON'
import json
import sys

adhoc_path, log_path, simulator = sys.argv[1:4]

# The minimal callback prints "testhost | SUCCESS => {...}".
with open(adhoc_path) as handle:
    output = handle.read()
status, separator, result_json = output.partition(' => ')
if not separator:
    sys.exit('unexpected ad hoc output: %s' % output)
result = json.loads(result_json)
facts = result['ansible_facts']['rkt']

with open(log_path) as handle:
    calls = [json.loads(line) for line in handle if line.strip()]

checks = {
    'the ad hoc run succeeded': status.strip() == 'testhost | SUCCESS' and not result.get('failed'),
    'rkt is detected': facts['detected'] is True,
    'driver.rkt is "1"': facts['attributes'].get('driver.rkt') == '1',
    'driver.rkt.version is 1.30.0': facts['attributes'].get('driver.rkt.version') == '1.30.0',
    'the simulator on PATH was used': facts['path'] == simulator,
    'rkt ran exactly once': len(calls) == 1,
    'rkt ran as `rkt version`': calls[0]['argv'][1:] == ['version'] if calls else False,
}
failed = [name for name, passed in checks.items() if not passed]
if failed:
    print('ad hoc rkt_fingerprint checks failed: %s' % '; '.join(failed), file=sys.stderr)
    print(json.dumps(result, indent=2), file=sys.stderr)
    sys.exit(1)
print('ad hoc rkt_fingerprint: %d checks passed' % len(checks))
PYTHON
