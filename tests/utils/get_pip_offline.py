# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the get-pip bootstrap script that ansible-test downloads.

ansible-test fetches get-pip.py from a host that test machines cannot reach,
unless a copy sits in its cache (~/.ansible/test/cache/get_pip_<ver>.py).
tests/utils/ansible-test.sh places this file there. It bootstraps pip from the
interpreter's own ensurepip wheel, then lets that pip install the requested
packages (for example pip==24.2) from the package index.
"""

from __future__ import annotations

import subprocess
import sys

# Options of the real get-pip.py that pip itself does not know.
GET_PIP_ONLY_OPTIONS = frozenset(('--no-setuptools', '--no-wheel'))


def main() -> None:
    """Run ensurepip, then pip install with the arguments ansible-test passed."""
    subprocess.run([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'],
                   check=True, stdout=subprocess.DEVNULL)
    args = sys.argv[1:]
    pip_args = [arg for arg in args if arg not in GET_PIP_ONLY_OPTIONS]
    subprocess.run([sys.executable, '-m', 'pip', 'install'] + pip_args, check=True)
    # ensurepip of Python < 3.12 also brings setuptools; honour --no-setuptools
    # like the real script so ansible-test gets the environment it asked for.
    unwanted = [name for option, name in (('--no-setuptools', 'setuptools'), ('--no-wheel', 'wheel'))
                if option in args]
    if unwanted:
        subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '--yes', '--quiet'] + unwanted, check=False,
                       stderr=subprocess.DEVNULL)


if __name__ == '__main__':
    main()
