#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs the named make targets (test layers) in order, every one of them even
# when an earlier one fails, timing each, then prints a summary table.
# Exit status 1 if any layer failed. STOP_ON_FAILURE=1 stops at the first.
set -uo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo" || exit 2
if [[ ! -t 1 ]]; then
    export NO_COLOR=1 PY_COLORS=0 ANSIBLE_NOCOLOR=1
fi

declare -A status seconds
ran=()
failed=0
for layer in "$@"; do
    echo
    echo "######## layer: $layer ($(date -u +%H:%M:%S) UTC)"
    start=$SECONDS
    ran+=("$layer")
    if make --no-print-directory "$layer"; then
        status[$layer]=passed
    else
        status[$layer]=FAILED
        failed=$((failed + 1))
    fi
    seconds[$layer]=$((SECONDS - start))
    echo "######## layer: $layer ${status[$layer]} in ${seconds[$layer]}s"
    if [[ ${status[$layer]} == FAILED && ${STOP_ON_FAILURE:-0} == 1 ]]; then
        break
    fi
done

echo
echo "================ test layers ================"
for layer in "${ran[@]}"; do
    printf '  %-12s %-7s %5ss\n' "$layer" "${status[$layer]}" "${seconds[$layer]}"
done
for layer in "$@"; do
    [[ -n ${status[$layer]:-} ]] || printf '  %-12s %-7s\n' "$layer" "not run"
done
echo "layers: $((${#ran[@]} - failed)) passed, $failed failed"
((failed == 0))
