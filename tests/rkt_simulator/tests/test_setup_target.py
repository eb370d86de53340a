"""Run the setup_rkt_simulator integration target with ansible-playbook and check its facts."""

import json
import os
import shutil
import subprocess
import sys

import pytest

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGETS_DIR = os.path.join(TESTS_DIR, "integration", "targets")
SIMULATOR_DIR = os.path.join(TESTS_DIR, "rkt_simulator")

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - setup_rkt_simulator
  tasks:
    - name: Run rkt list through PATH
      ansible.builtin.command:
        argv: [rkt, list, --format=json]
      environment: "{{ rkt_sim_env }}"
      register: listing
    - name: Save the facts
      ansible.builtin.copy:
        dest: "{{ facts_out }}"
        mode: "0644"
        content: "{{ {'bin': rkt_sim_bin, 'dir': rkt_sim_dir, 'root': rkt_sim_root, 'control': rkt_sim_control,
                      'log': rkt_sim_log, 'env': rkt_sim_env, 'testkit': rkt_sim_testkit,
                      'source_dir': rkt_sim_source_dir, 'python': rkt_sim_python,
                      'listing': listing.stdout} | to_json }}"
"""


def _ansible_playbook():
    candidate = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return candidate if os.path.exists(candidate) else shutil.which("ansible-playbook")


@pytest.mark.skipif(_ansible_playbook() is None, reason="ansible-playbook is not installed next to this Python")
def test_setup_target_sets_facts(tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text(PLAYBOOK)
    facts_path = tmp_path / "facts.json"
    env = dict(os.environ, ANSIBLE_ROLES_PATH=TARGETS_DIR, ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    result = subprocess.run([_ansible_playbook(), "-i", "localhost,", "-c", "local", "-e",
                             "ansible_python_interpreter=" + sys.executable, "-e", "facts_out=" + str(facts_path),
                             str(playbook)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout.decode()

    facts = json.loads(facts_path.read_text())
    try:
        assert facts["source_dir"] == os.path.realpath(SIMULATOR_DIR)
        # The launcher is generated in the run's root, with the interpreter's absolute path.
        assert facts["dir"] == facts["root"] + "/bin"
        assert facts["bin"] == facts["root"] + "/bin/rkt"
        assert os.access(facts["bin"], os.X_OK)
        with open(facts["bin"], encoding="utf-8") as handle:
            shebang = handle.readline()
        assert shebang == "#!%s -S\n" % facts["python"]
        assert os.path.isabs(facts["python"])
        assert "/env " not in shebang
        assert facts["testkit"] == os.path.join(os.path.realpath(SIMULATOR_DIR), "testkit", "cli.py")
        assert facts["env"]["RKT_SIM_ROOT"] == facts["root"]
        assert facts["env"]["PATH"].split(":")[0] == facts["dir"]
        assert facts["control"] == facts["root"] + "/rkt-sim/control.json"
        assert facts["log"] == facts["root"] + "/rkt-sim/invocations.jsonl"
        assert facts["listing"] == "null"
        with open(facts["log"], encoding="utf-8") as handle:
            commands = [json.loads(line)["command"] for line in handle]
        # The target's own `rkt version` check is not left in the log.
        assert commands == ["list"]
    finally:
        shutil.rmtree(facts["root"], ignore_errors=True)
