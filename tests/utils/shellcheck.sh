#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs shellcheck on the shell scripts ansible-test's sanity test does not see:
# those without a .sh extension (the ramdisk inits and hooks in role files/,
# bench/, the lab's report script, .ci/run). A script is one whose first line
# is a sh/bash/dash shebang. Each is checked from its own directory with -x,
# so `# shellcheck source=` directives are relative to the script.
# Exit status 1 if any script has findings (make shellcheck).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
command -v shellcheck >/dev/null || { echo "shellcheck.sh: shellcheck missing: run 'make deps'" >&2; exit 2; }

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files --cached --others --exclude-standard | grep -v '\.sh$')
else
    mapfile -t files < <(find . -path ./.git -prune -o -path ./.venv -prune -o -path ./tests/output -prune -o \
        -type f ! -name '*.sh' -printf '%P\n')
fi
scripts=()
for file in "${files[@]}"; do
    [[ -f $file ]] || continue
    head -n 1 "$file" 2>/dev/null | grep -qE '^#!.*[/ ](sh|bash|dash)([[:space:]]|$)' && scripts+=("$file")
done
((${#scripts[@]})) || { echo "shellcheck.sh: no extension-less shell script found" >&2; exit 1; }

failed=0
for script in "${scripts[@]}"; do
    if (cd "$(dirname "$script")" && shellcheck -x "$(basename "$script")"); then
        echo "ok      $script"
    else
        echo "FAILED  $script"
        failed=$((failed + 1))
    fi
done
echo "shellcheck: ${#scripts[@]} extension-less scripts, $failed with findings"
((failed == 0))
