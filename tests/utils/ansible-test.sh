#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs `ansible-test "$@"` on this collection.
#
# ansible-test insists that its working directory really is
# .../ansible_collections/<namespace>/<name> (a symlink is resolved and then
# rejected), so the tree is mirrored with rsync into such a directory under a
# per-checkout cache, ansible-test runs there, and tests/output is copied back.
# The mirror holds exactly the files git would show (tracked plus untracked,
# minus ignored), so a fresh clone and a working tree with new files behave
# the same; without git metadata everything but build/test leftovers is taken.
# The mirror is kept between runs (only its tests/output/.tmp matters: the
# virtualenv ansible-test builds for --venv lives there) and guarded by a lock.
#
# ansible-test bootstraps pip in its virtualenvs with a script downloaded from
# a host that test machines cannot reach; tests/utils/get_pip_offline.py is
# placed in ansible-test's cache under the expected name instead.
#
# Environment: VENV (default <repo>/.venv), ANSIBLE_TEST_CACHE (mirror base),
# CNB_TEST_STRICT=1 (a NOT TESTED skip fails: tests/utils/strict_skips.py).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
export HOME
VENV=${VENV:-$repo/.venv}
python=$VENV/bin/python
ansible_test=$VENV/bin/ansible-test
[[ -x $ansible_test ]] || { echo "ansible-test.sh: $ansible_test missing: run 'make deps'" >&2; exit 2; }

read -r namespace name < <("$python" - "$repo/galaxy.yml" <<'EOF'
import sys
import yaml
with open(sys.argv[1]) as f:
    meta = yaml.safe_load(f)
print(meta['namespace'], meta['name'])
EOF
)

# Offline get-pip: the cache file name carries the pip version ansible-test pins.
pip_version=$("$python" - <<'EOF'
import re
import ansible_test._internal.python_requirements as pr
with open(pr.__file__) as f:
    match = re.search(r"default_packages = dict\(\s*pip='([0-9.]+)'", f.read())
print(match.group(1) if match else '')
EOF
)
if [[ -z $pip_version ]]; then
    echo "ansible-test.sh: cannot find the pip version ansible-test pins" >&2
    exit 2
fi
get_pip_cache=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$get_pip_cache")"
install -m 0644 "$repo/tests/utils/get_pip_offline.py" "$get_pip_cache"

repo_id=$(printf '%s' "$repo" | sha256sum | cut -c1-12)
base=${ANSIBLE_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cluster-netboot-ansible-test}/$repo_id
mirror=$base/ansible_collections/$namespace/$name
mkdir -p "$mirror"

# One run per checkout at a time: the mirror is shared between runs.
exec 9>"$base/lock"
if ! flock -n 9; then
    echo "ansible-test.sh: waiting for another ansible-test run on this checkout" >&2
    flock 9
fi

file_list=$base/files.lst
# Paths that never belong to the collection under test.
rsync_excludes=(--exclude=/.git/ --exclude=/.venv/ --exclude=/.cache/ --exclude=/.ansible/
                --exclude=/tests/output/ --exclude=__pycache__/ --exclude='*.pyc'
                --exclude=.pytest_cache/ --exclude='/*.tar.gz')
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
   [[ $(git -C "$repo" rev-parse --show-toplevel) == "$repo" ]]; then
    # Same file set as ansible-test's git provider would see in the checkout.
    git -C "$repo" ls-files -z --cached --others --exclude-standard |
        "$python" -c '
import os, sys
skip_prefixes = (".git/", ".venv/", ".cache/", ".ansible/", "tests/output/")
def wanted(name):
    parts = name.split("/")
    return (os.path.lexists(name) and not name.startswith(skip_prefixes)
            and "__pycache__" not in parts and not name.endswith(".pyc"))
names = [n.decode() for n in sys.stdin.buffer.read().split(b"\0") if n]
sys.stdout.buffer.write(b"".join(n.encode() + b"\0" for n in names if wanted(n)))
' >"$file_list"
    (cd "$repo" && rsync -a --from0 --files-from="$file_list" ./ "$mirror/")
    # --files-from does not delete vanished files: drop what is not listed.
    (cd "$mirror" && find . -path ./tests/output -prune -o \( -type f -o -type l \) -print0 |
        "$python" -c '
import os, sys
keep = {os.path.normpath(n.decode()) for n in open(sys.argv[1], "rb").read().split(b"\0") if n}
for n in sys.stdin.buffer.read().split(b"\0"):
    if n and os.path.normpath(n.decode()) not in keep:
        os.unlink(n)
' "$file_list")
    find "$mirror" -mindepth 1 -type d -empty -not -path "$mirror/tests/output*" -delete
else
    rsync -a --delete "${rsync_excludes[@]}" "$repo/" "$mirror/"
fi

# ansible-test passes no environment to the tests: a strict run (CNB_TEST_STRICT=1)
# is told by a file, see tests/utils/strict_skips.py.
mkdir -p "$mirror/tests/output/.tmp"
if [[ ${CNB_TEST_STRICT:-} == 1 ]]; then
    touch "$mirror/tests/output/.tmp/strict-skips"
else
    rm -f "$mirror/tests/output/.tmp/strict-skips"
fi

rc=0
(cd "$mirror" && "$ansible_test" "$@") || rc=$?

# Results back into the checkout (not the cached virtualenvs under .tmp).
if [[ -d $mirror/tests/output ]]; then
    mkdir -p "$repo/tests/output"
    rsync -a --exclude=/.tmp/ "$mirror/tests/output/" "$repo/tests/output/"
fi
exit "$rc"
