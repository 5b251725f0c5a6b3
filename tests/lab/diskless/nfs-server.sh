#!/bin/sh
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Lab fabric: runs rpcbind and nfs-ganesha (userspace NFS server, FSAL VFS)
# in the foreground, in a private mount namespace with tmpfs over /run and
# /var/lib/nfs, so that the host's rpcbind state and NFS state are untouched.
# Run it inside the lab's network namespace:
#
#   ip netns exec NS nfs-server.sh GANESHA_CONF LOG_DIR
#
# The configuration is what the nfsroot_server role wrote (ganesha backend).
# SIGTERM stops ganesha and rpcbind; the script exits with ganesha's status.
set -eu

if [ "${CNB_NFS_SERVER_INNER:-}" != 1 ]; then
    CNB_NFS_SERVER_INNER=1 exec unshare --mount --propagation private "$0" "$@"
fi

conf=$1
logs=$2
mkdir -p "$logs"
mount -t tmpfs -o mode=0755 cnb-lab-run /run
mount -t tmpfs -o mode=0755 cnb-lab-nfs /var/lib/nfs
mkdir -p /run/rpcbind /run/ganesha /var/lib/nfs/ganesha

rpcbind -f -w >"$logs/rpcbind.log" 2>&1 &
rpcbind_pid=$!
# rpcbind must answer before ganesha registers its programs.
tries=0
until rpcinfo -p 127.0.0.1 >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ $tries -ge 50 ]; then
        echo "nfs-server: rpcbind did not come up" >&2
        kill "$rpcbind_pid" 2>/dev/null
        exit 1
    fi
    sleep 0.1
done

ganesha.nfsd -F -f "$conf" -L "$logs/ganesha.log" -p /run/ganesha/ganesha.pid -N NIV_EVENT &
ganesha_pid=$!
# shellcheck disable=SC2317  # called by the trap
stop() {
    kill -TERM "$ganesha_pid" 2>/dev/null
    wait "$ganesha_pid" 2>/dev/null
    kill -TERM "$rpcbind_pid" 2>/dev/null
    wait "$rpcbind_pid" 2>/dev/null
    exit 0
}
trap stop TERM INT HUP
status=0
wait "$ganesha_pid" || status=$?
kill -TERM "$rpcbind_pid" 2>/dev/null
wait "$rpcbind_pid" 2>/dev/null
exit "$status"
