#!/usr/bin/env bash
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The diskless scenario of the lab (make lab SCENARIO=diskless): two QEMU VMs
# with blank disks boot one read-only NFS root served by nfs-ganesha, set up
# by playbooks/provision_diskless.yml and playbooks/add_node.yml. It is the
# end-to-end test tests/integration/test_lab_diskless.py, run verbosely; it
# prints the result table (one row per node) and tears everything down.
#
# Environment: CNB_LAB_CACHE (debootstrapped tree and kernel build, default
# /tmp/cluster-netboot-lab/cache), CNB_LAB_RESULTS (JSON result file; default
# LAB_RESULTS), CNB_LAB_DISKLESS_WIPE=1 (also a /var/wipe round trip),
# CNB_LAB_DISKLESS_TIMEOUT (seconds the VMs get, default 600), VENV (.venv).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
VENV=${VENV:-$repo/.venv}
[[ $(id -u) == 0 ]] || { echo "run.sh: the lab needs root (network namespaces, taps)" >&2; exit 1; }
[[ -x $VENV/bin/pytest ]] || { echo "run.sh: $VENV/bin/pytest missing: run make deps" >&2; exit 2; }
export CNB_LAB_RESULTS=${CNB_LAB_RESULTS:-${LAB_RESULTS:-}}
cd "$repo"
exec "$VENV/bin/pytest" -s -p no:cacheprovider tests/integration/test_lab_diskless.py \
    -k test_two_diskless_nodes_share_one_nfs_root "$@"
