#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs `molecule test` for every scenario under extensions/molecule/ (or only
# the scenarios named as arguments), one after the other, and prints a table.
# Brings up what the scenarios need: the Docker engine (tests/utils/dockerd.sh;
# an engine started here is stopped at the end unless KEEP_DOCKERD=1), the
# base image (tests/utils/base-image.sh) and the collection link
# (tests/utils/collection-path.sh). Exit status 1 if any scenario failed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
VENV=${VENV:-$repo/.venv}
[[ -x $VENV/bin/molecule ]] || { echo "run-molecule.sh: $VENV/bin/molecule missing: run 'make deps'" >&2; exit 2; }
export PATH=$VENV/bin:$PATH
# The verifier's pytest: a NOT TESTED skip fails in a strict run (CNB_TEST_STRICT=1).
export PYTHONPATH=$repo/tests/utils${PYTHONPATH:+:$PYTHONPATH}
export PYTEST_ADDOPTS="-p strict_skips${PYTEST_ADDOPTS:+ $PYTEST_ADDOPTS}"
if [[ ! -t 1 ]]; then
    export NO_COLOR=1 PY_COLORS=0 ANSIBLE_NOCOLOR=1
fi

if (($#)); then
    scenarios=("$@")
else
    mapfile -t scenarios < <(find extensions/molecule -name molecule.yml -printf '%h\n' |
        sed 's|^extensions/molecule/||' | sort)
fi
if ((${#scenarios[@]} == 0)); then
    echo "run-molecule.sh: no scenario under extensions/molecule/" >&2
    exit 1
fi

started_dockerd=0
current=""
cleanup() {
    local rc=$?
    if [[ -n $current ]]; then
        echo "run-molecule.sh: interrupted during $current: destroying its instances" >&2
        molecule destroy -s "$current" >/dev/null 2>&1 || true
    fi
    if [[ $started_dockerd == 1 && ${KEEP_DOCKERD:-0} != 1 ]]; then
        tests/utils/dockerd.sh stop
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! tests/utils/dockerd.sh env >/dev/null 2>&1; then
    tests/utils/dockerd.sh start
    started_dockerd=1
fi
eval "$(tests/utils/dockerd.sh env)"
export DOCKER_HOST
tests/utils/base-image.sh
tests/utils/collection-path.sh >/dev/null

declare -A result seconds
failed=0
for scenario in "${scenarios[@]}"; do
    echo "=== molecule test -s $scenario"
    start=$SECONDS
    current=$scenario
    if molecule test -s "$scenario"; then
        result[$scenario]=passed
    else
        result[$scenario]=FAILED
        failed=$((failed + 1))
    fi
    current=""
    seconds[$scenario]=$((SECONDS - start))
done

echo
echo "molecule scenarios:"
for scenario in "${scenarios[@]}"; do
    printf '  %-24s %-7s %4ss\n' "$scenario" "${result[$scenario]}" "${seconds[$scenario]}"
done
echo "molecule: $((${#scenarios[@]} - failed)) passed, $failed failed"
((failed == 0))
