# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fail when CHANGELOG.rst does not match changelogs/changelog.yaml.

`antsibull-changelog release` writes both files. This check regenerates
CHANGELOG.rst from changelog.yaml in a scratch copy (`antsibull-changelog
generate`) and compares, so a hand edit of either file or a release that was
not committed completely is found. Before the first release changelog.yaml
lists no release, antsibull-changelog cannot render anything, and
CHANGELOG.rst must not exist yet.

    python docs/check_changelog.py    # run with the virtualenv's Python (make docs-check)
"""

import difflib
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHANGES_FILE = os.path.join(REPO_ROOT, 'changelogs', 'changelog.yaml')
CHANGELOG = os.path.join(REPO_ROOT, 'CHANGELOG.rst')


def main():
    with open(CHANGES_FILE, encoding='utf-8') as handle:
        releases = (yaml.safe_load(handle) or {}).get('releases') or {}

    if not releases:
        if os.path.exists(CHANGELOG):
            print('check_changelog: CHANGELOG.rst exists but changelogs/changelog.yaml lists no release; '
                  'remove CHANGELOG.rst or run `make changelog` to make a release', file=sys.stderr)
            return 1
        print('check_changelog: no release yet (changelogs/changelog.yaml lists none) and no CHANGELOG.rst, as expected')
        return 0

    if not os.path.exists(CHANGELOG):
        print('check_changelog: changelogs/changelog.yaml lists releases %s but CHANGELOG.rst is missing; '
              'run `antsibull-changelog generate` and commit CHANGELOG.rst' % ', '.join(sorted(releases)), file=sys.stderr)
        return 1

    antsibull_changelog = os.path.join(os.path.dirname(sys.executable), 'antsibull-changelog')
    with tempfile.TemporaryDirectory(prefix='check-changelog-') as scratch:
        # generate needs only galaxy.yml and changelogs/ (config and changelog.yaml).
        shutil.copy(os.path.join(REPO_ROOT, 'galaxy.yml'), scratch)
        shutil.copytree(os.path.join(REPO_ROOT, 'changelogs'), os.path.join(scratch, 'changelogs'))
        result = subprocess.run([antsibull_changelog, 'generate'], cwd=scratch, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            print('check_changelog: antsibull-changelog generate failed (exit code %d): %s'
                  % (result.returncode, (result.stderr or result.stdout).strip()), file=sys.stderr)
            return 1
        with open(os.path.join(scratch, 'CHANGELOG.rst'), encoding='utf-8') as handle:
            expected = handle.read()

    with open(CHANGELOG, encoding='utf-8') as handle:
        committed = handle.read()
    if committed != expected:
        sys.stdout.writelines(difflib.unified_diff(committed.splitlines(True), expected.splitlines(True),
                                                   'committed/CHANGELOG.rst', 'generated/CHANGELOG.rst'))
        print('check_changelog: CHANGELOG.rst differs from changelogs/changelog.yaml; run `antsibull-changelog generate` '
              'and commit CHANGELOG.rst (edit changelog.yaml or fragments, never CHANGELOG.rst)', file=sys.stderr)
        return 1
    print('check_changelog: CHANGELOG.rst matches changelogs/changelog.yaml (%d releases)' % len(releases))
    return 0


if __name__ == '__main__':
    sys.exit(main())
