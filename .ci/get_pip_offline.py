"""Offline stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test (2.21) creates each sanity-test virtualenv without pip and then runs
a cached get-pip script to install pip into it. When the script is not cached it
downloads it from ci-files.testing.ansible.com, a host this project's CI cannot
reach, and the sanity run stops with "does not have pip available". The Makefile
copies this file to the cache path that ansible-test checks first
(~/.ansible/test/cache/get_pip_<pip version with underscores>.py), so no download
is attempted.

ansible-test calls the script as `python SCRIPT [pip options] pip==X.Y
--no-setuptools --no-wheel`. This script installs the pip wheel bundled with
Python (ensurepip), then lets that pip install the requested packages from the
package index configured for pip (PyPI by default).
"""

import subprocess
import sys

# get-pip.py accepts these flags to skip setuptools and wheel. pip install does not
# know them, and ensurepip on Python 3.12+ installs neither package anyway.
GET_PIP_ONLY_FLAGS = ("--no-setuptools", "--no-wheel")


def main():
    """Install pip with ensurepip, then the packages named on the command line."""
    pip_install_args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]

    try:
        subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    except subprocess.CalledProcessError as error:
        sys.exit(
            "ensurepip failed for %s (exit code %d). Use a Python that ships ensurepip "
            "(pyenv builds do; on Debian install python3-venv)." % (sys.executable, error.returncode)
        )

    if pip_install_args:
        subprocess.check_call([sys.executable, "-m", "pip", "install"] + pip_install_args)


if __name__ == "__main__":
    main()
