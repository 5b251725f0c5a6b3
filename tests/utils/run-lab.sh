#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs the QEMU labs: tests/lab/test_<scenario>.py, one pytest module per lab,
# with the test virtualenv's pytest, verbosely (their result tables), one lab
# after the other (TCG VMs take whole cores). Needs root.
#
#   run-lab.sh                  every lab (make lab-test, part of make test)
#   run-lab.sh SCENARIO ...     the named labs (make lab SCENARIO=imaging|diskless)
#
# Environment: VENV (.venv), CNB_TEST_STRICT=1 (a NOT TESTED skip fails), and
# each lab's own settings (see the docstrings of tests/lab/test_*.py).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
VENV=${VENV:-$repo/.venv}
[[ -x $VENV/bin/python ]] || { echo "run-lab.sh: $VENV missing: run 'make deps'" >&2; exit 2; }
export PATH=$VENV/bin:$PATH:/usr/sbin:/sbin
if [[ ! -t 1 ]]; then
    export NO_COLOR=1 PY_COLORS=0 ANSIBLE_NOCOLOR=1
fi

modules=()
if (($#)); then
    for scenario in "$@"; do
        if [[ ! -f tests/lab/test_$scenario.py ]]; then
            echo "run-lab.sh: no lab '$scenario' (tests/lab/test_$scenario.py)" >&2
            exit 2
        fi
        modules+=("tests/lab/test_$scenario.py")
    done
else
    modules=(tests/lab/test_*.py)
fi
exec "$VENV/bin/python" -m pytest -v -s -p no:cacheprovider --durations=5 "${modules[@]}"
