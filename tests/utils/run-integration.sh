#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs the integration tests (real daemons in network namespaces; needs root)
# with the test virtualenv's pytest. Extra arguments go to pytest, e.g.
#   tests/utils/run-integration.sh -k dhcpd -x
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
VENV=${VENV:-$repo/.venv}
[[ -x $VENV/bin/python ]] || { echo "run-integration.sh: $VENV missing: run 'make deps'" >&2; exit 2; }
export PATH=$VENV/bin:$PATH:/usr/sbin:/sbin
if [[ ! -t 1 ]]; then
    export NO_COLOR=1 PY_COLORS=0 ANSIBLE_NOCOLOR=1
fi

# Tests of work still being built: in the tree but not yet part of `make test`.
# INCLUDE_UNFINISHED=1 runs them too.
unfinished=(
)
deselect=()
if [[ ${INCLUDE_UNFINISHED:-0} != 1 && ${#unfinished[@]} -gt 0 ]]; then
    echo "################################################################################"
    echo "# NOT RUN (work in progress, not part of make test yet):"
    for test in "${unfinished[@]}"; do
        echo "#   $test"
        deselect+=(--deselect "$test")
    done
    echo "# Run them with INCLUDE_UNFINISHED=1 tests/utils/run-integration.sh"
    echo "################################################################################"
fi
exec "$VENV/bin/python" -m pytest -v -p no:cacheprovider --durations=10 tests/integration "${deselect[@]}" "$@"
