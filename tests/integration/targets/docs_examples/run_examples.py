# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extract the YAML and shell examples of the user documentation and run each one.

Sources, in this order: README.md, docs/guide.md, roles/rkt/README.md, and the
EXAMPLES of every module (read with `ansible-doc --json`).

In Markdown every fenced block in yaml, yml, sh, bash or ini is an example.
An HTML comment on the line before the fence can name it and set how it is used:

    <!-- example: id=provision-playbook file=provision.yml -->

- `id=NAME` names the example in messages and in not_run.yml. Without it the
  name is `<file>:<n>`, the n-th example block of the file.
- `file=PATH` writes the block to PATH in the project folder instead of
  running it, for a later example that uses the file (an inventory, a playbook).

A YAML block is a playbook when its plays have `hosts`; a list of tasks or a
list of role entries (`- role: ...`) becomes a play for the group
nomad_clients. A shell block runs with bash -euo pipefail.

Everything runs on this machine, as root, inside the private mount namespace
that runme.sh creates, after runme.sh mounted throwaway overlays on /etc,
/var, /usr, /srv and /opt. So the examples use rkt's and the module's default
paths (/usr/bin/rkt, /etc/rkt, /var/lib/rkt, /var/lib/nomad_drivers_rkt) and
the host keeps none of their changes. rkt is the rkt simulator. What the
examples need from outside is prepared by setup.yml: a signed release of rkt
1.30.0 served on 127.0.0.1, and the images and keys the examples name.

The examples keep their text. The test adds only:
- an inventory with the groups nomad_clients and all, both localhost with the
  local connection, and become through su (there is no sudo here);
- extra vars for the rkt role that point it at the local release and its
  throwaway signing key (extra_vars in setup.yml's output); shell examples get
  them through a bash function that wraps ansible-playbook;
- the collection under test on ANSIBLE_COLLECTIONS_PATH.

An example that can not run is listed in not_run.yml with its reason. The run
fails when an example fails, when Ansible matched no host, when an entry of
not_run.yml no longer matches an example, or when no example ran.

Usage: run_examples.py COLLECTION_ROOT WORK_DIR SETUP_RESULT_JSON
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import time

import yaml

MARKDOWN_SOURCES = ['README.md', 'docs/guide.md', 'roles/rkt/README.md']
EXAMPLE_LANGUAGES = {'yaml': 'yaml', 'yml': 'yaml', 'sh': 'shell', 'bash': 'shell', 'ini': 'ini'}
FENCE_PATTERN = re.compile(r'^\s*```\s*([A-Za-z0-9_+-]*)\s*$')
MARKER_PATTERN = re.compile(r'^\s*<!--\s*example:(.*?)-->\s*$')
TARGET_DIR = os.path.dirname(os.path.abspath(__file__))

# Output that means Ansible ran nothing although it exited with 0.
NOTHING_RAN_PATTERNS = [
    'provided hosts list is empty',
    'Could not match supplied host pattern',
    'No hosts matched',
    'skipping: no hosts matched',
]


class Example:
    """One example block: where it is, its text and how to use it."""

    def __init__(self, example_id, source, line, kind, text, options):
        self.id = example_id
        self.source = source
        self.line = line
        self.kind = kind
        self.text = text
        self.options = options

    def location(self):
        return '%s line %d' % (self.source, self.line)


def parse_marker(line, source, number):
    """Return the key=value options of an example marker comment."""
    options = {}
    for token in shlex.split(line):
        key, separator, value = token.partition('=')
        if not separator or key not in ('id', 'file'):
            raise SystemExit('%s line %d: invalid example marker option %r; use id=NAME and file=PATH' % (source, number, token))
        options[key] = value
    return options


def extract_markdown(collection_root, source):
    """Return the examples of one Markdown file in document order."""
    examples = []
    with open(os.path.join(collection_root, source), encoding='utf-8') as handle:
        lines = handle.read().splitlines()

    index = 0
    previous_text_line = ''
    while index < len(lines):
        fence = FENCE_PATTERN.match(lines[index])
        if not fence:
            if lines[index].strip():
                previous_text_line = lines[index]
            index += 1
            continue

        start = index
        body = []
        index += 1
        while index < len(lines) and not FENCE_PATTERN.match(lines[index]):
            body.append(lines[index])
            index += 1
        index += 1

        language = fence.group(1).lower()
        marker = MARKER_PATTERN.match(previous_text_line)
        previous_text_line = ''
        if language not in EXAMPLE_LANGUAGES:
            if marker:
                raise SystemExit('%s line %d: an example marker precedes a %r block, which is not run; '
                                 'use one of %s' % (source, start + 1, language, ', '.join(sorted(EXAMPLE_LANGUAGES))))
            continue

        options = parse_marker(marker.group(1), source, start) if marker else {}
        example_id = options.get('id') or '%s:%d' % (source, len(examples) + 1)
        examples.append(Example(example_id, source, start + 1, EXAMPLE_LANGUAGES[language], textwrap.dedent('\n'.join(body)) + '\n', options))
    return examples


def extract_module_examples(collection_root, environment):
    """Return one example per module of plugins/modules/: its EXAMPLES, read with ansible-doc.

    The list comes from plugins/modules/ because `ansible-doc --list` also
    lists the action plugins that a role ships for its own tasks.
    """
    module_names = sorted(name[:-3] for name in os.listdir(os.path.join(collection_root, 'plugins', 'modules'))
                          if name.endswith('.py') and not name.startswith('_'))
    examples = []
    for fqcn in ['nomad_drivers.rkt.' + name for name in module_names]:
        doc = json.loads(run_checked(['ansible-doc', '--json', '--type', 'module', fqcn], environment))[fqcn]
        if not (doc.get('examples') or '').strip():
            raise SystemExit('%s has no EXAMPLES; every module documents at least one example' % fqcn)
        examples.append(Example('module:%s' % fqcn.rsplit('.', 1)[1], '%s EXAMPLES' % fqcn, 1, 'yaml', doc['examples'], {}))
    return examples


def run_checked(argv, environment):
    """Run argv and return its stdout; exit with its output when it fails."""
    result = subprocess.run(argv, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit('%s failed (exit code %d):\n%s%s' % (' '.join(argv), result.returncode, result.stdout, result.stderr))
    return result.stdout


def playbook_for(example):
    """Return (playbook text, note) for a YAML example, or raise ValueError."""
    data = yaml.safe_load(example.text)
    if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
        raise ValueError('the YAML is not a list of plays, tasks or role entries; mark it with file=PATH if a later example uses it')

    if all('hosts' in item or 'import_playbook' in item or 'ansible.builtin.import_playbook' in item for item in data):
        return example.text, 'playbook'

    if all('role' in item for item in data):
        play = {'name': 'Example %s' % example.id, 'hosts': 'nomad_clients', 'become': True, 'gather_facts': False, 'roles': data}
        return yaml.safe_dump([play], sort_keys=False), 'role entries wrapped in a play for nomad_clients'

    play = {'name': 'Example %s' % example.id, 'hosts': 'nomad_clients', 'gather_facts': False, 'tasks': data}
    return yaml.safe_dump([play], sort_keys=False), 'tasks wrapped in a play for nomad_clients'


def nothing_ran(output):
    """Return the line that shows Ansible matched no host, or None."""
    for line in output.splitlines():
        if any(pattern in line for pattern in NOTHING_RAN_PATTERNS):
            return line.strip()
    return None


def run_example(example, work_dir, project_dir, environment, extra_vars_file):
    """Run one example; return (outcome, log text), outcome 'passed', 'written' or 'FAILED'."""
    slug = re.sub(r'[^A-Za-z0-9_.-]+', '_', example.id)

    if example.options.get('file'):
        destination = os.path.join(project_dir, example.options['file'])
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        with open(destination, 'w', encoding='utf-8') as handle:
            handle.write(example.text)
        if example.kind == 'yaml':
            try:
                yaml.safe_load(example.text)
            except yaml.YAMLError as error:
                return 'FAILED', 'wrote %s, which is not valid YAML: %s' % (example.options['file'], error)
        return 'written', 'wrote %s for the examples that use it' % example.options['file']

    if example.kind == 'ini':
        return 'FAILED', 'an ini block is only used as a file; mark it with file=PATH'

    if example.kind == 'yaml':
        try:
            playbook_text, note = playbook_for(example)
        except (ValueError, yaml.YAMLError) as error:
            return 'FAILED', 'can not run this YAML: %s' % error
        playbook = os.path.join(work_dir, 'examples', slug + '.yml')
        with open(playbook, 'w', encoding='utf-8') as handle:
            handle.write(playbook_text)
        argv = ['ansible-playbook', playbook, '--extra-vars', '@' + extra_vars_file]
        header = '%s: %s\n$ %s\n' % (example.id, note, ' '.join(argv))
    else:
        script = os.path.join(work_dir, 'examples', slug + '.sh')
        with open(script, 'w', encoding='utf-8') as handle:
            # The wrapper gives playbooks that the example runs the rkt role's
            # test mirror and key; the example's own text runs unchanged.
            handle.write('ansible-playbook() { command ansible-playbook --extra-vars @%s "$@"; }\n' % shlex.quote(extra_vars_file))
            handle.write(example.text)
        argv = ['bash', '-euo', 'pipefail', script]
        header = '%s: shell\n' % example.id

    result = subprocess.run(argv, cwd=project_dir, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    log = header + result.stdout
    if result.returncode != 0:
        return 'FAILED', log + '\nexit code %d' % result.returncode
    empty = nothing_ran(result.stdout)
    if empty:
        return 'FAILED', log + '\nAnsible ran nothing: %s' % empty
    return 'passed', log


def load_not_run(examples):
    """Return {id: reason} from not_run.yml, after checking each entry against the examples."""
    with open(os.path.join(TARGET_DIR, 'not_run.yml'), encoding='utf-8') as handle:
        entries = yaml.safe_load(handle) or []

    by_id = {example.id: example for example in examples}
    problems = []
    reasons = {}
    for entry in entries:
        example = by_id.get(entry['id'])
        if example is None:
            problems.append('not_run.yml names %s, which is no example any more; remove the entry' % entry['id'])
            continue
        if not example.text.lstrip().startswith(entry['starts_with']):
            problems.append('not_run.yml expects %s (%s) to start with %r, but it starts with %r; update the entry'
                            % (entry['id'], example.location(), entry['starts_with'], example.text.lstrip()[:60]))
            continue
        reasons[entry['id']] = entry['reason']
    if problems:
        raise SystemExit('\n'.join(problems))
    return reasons


def make_project_dir(collection_root, project_dir):
    """Copy the collection's files to project_dir: the clone that shell examples run in."""
    ignored = shutil.ignore_patterns('.git', '.venv', '.build', 'output', '__pycache__', '*.tar.gz', '.pytest_cache')
    shutil.copytree(collection_root, project_dir, ignore=ignored, symlinks=True)


def main():
    collection_root, work_dir, setup_result_file = sys.argv[1:4]
    with open(setup_result_file, encoding='utf-8') as handle:
        setup_result = json.load(handle)

    project_dir = os.path.join(work_dir, 'project')
    make_project_dir(collection_root, project_dir)
    os.makedirs(os.path.join(work_dir, 'examples'), exist_ok=True)

    extra_vars_file = os.path.join(work_dir, 'extra_vars.json')
    with open(extra_vars_file, 'w', encoding='utf-8') as handle:
        json.dump(setup_result['extra_vars'], handle, indent=2, sort_keys=True)

    environment = dict(os.environ)
    environment.update({
        'ANSIBLE_INVENTORY': setup_result['inventory'],
        # Collections that an example installs go first; the collection under test after them.
        'ANSIBLE_COLLECTIONS_PATH': '%s:%s' % (os.path.join(work_dir, 'installed-collections'), os.environ['ANSIBLE_COLLECTIONS_PATH']),
        'ANSIBLE_BECOME_METHOD': 'su',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_LOCALHOST_WARNING': 'false',
        'ANSIBLE_RETRY_FILES_ENABLED': 'false',
    })

    examples = []
    for source in MARKDOWN_SOURCES:
        examples.extend(extract_markdown(collection_root, source))
    examples.extend(extract_module_examples(collection_root, environment))

    duplicates = sorted({example.id for example in examples if [other.id for other in examples].count(example.id) > 1})
    if duplicates:
        raise SystemExit('example ids are used twice: %s; give each marker its own id' % ', '.join(duplicates))

    not_run = load_not_run(examples)
    results = []
    for example in examples:
        if example.id in not_run:
            results.append((example, 'not run', not_run[example.id]))
            continue
        started = time.monotonic()
        outcome, log = run_example(example, work_dir, project_dir, environment, extra_vars_file)
        print('=== %s (%s): %s in %.0f s' % (example.id, example.location(), outcome, time.monotonic() - started), flush=True)
        if outcome == 'FAILED':
            print(textwrap.indent(log, '    '), flush=True)
        results.append((example, outcome, ''))

    print('\nDoc examples:')
    for example, outcome, reason in results:
        print('  %-8s %-40s %s%s' % (outcome, example.id, example.location(), ': ' + reason if reason else ''))
    failed = [example.id for example, outcome, dummy in results if outcome == 'FAILED']
    passed = [example.id for example, outcome, dummy in results if outcome == 'passed']
    written = [example.id for example, outcome, dummy in results if outcome == 'written']
    print('%d passed, %d failed, %d written as files, %d not run' % (len(passed), len(failed), len(written), len(not_run)))
    if not passed:
        print('no example ran; the extraction found nothing to run', file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
