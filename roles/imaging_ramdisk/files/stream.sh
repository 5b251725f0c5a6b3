# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=sh disable=SC2034 # CNB_STREAM_SHA256 and CNB_RECEIVE_ERROR are for the caller
#
# One pass over the disk: the image goes onto the disk and through sha256sum
# as it arrives, so a node is done when its transfer is done (sourced by the
# imaging ramdisk's init; busybox sh, tee, head, sha256sum).

# cnb_receive_hashed DISK SIZE COMMAND [ARG...]
# COMMAND writes the image to its standard output. Its bytes go onto DISK from
# the first byte on and, in the same pass, the first SIZE of them (all of them
# when SIZE is empty) through sha256sum. Sets CNB_STREAM_SHA256 and
# CNB_RECEIVE_ERROR: empty on success, else a token for the report
# (receiver-exit-<status>, disk-write-failed, stream-hash-failed).
# Each part of the pipe leaves its status in CNB_WORK (default /tmp).
cnb_receive_hashed() {
    _disk=$1 _size=$2
    shift 2
    _work=${CNB_WORK:-/tmp}
    rm -f "$_work/cnb-receive.status" "$_work/cnb-write.status" "$_work/cnb-stream.sha256"
    # The hash side reads to the end whatever SIZE says: tee never meets a closed pipe.
    { "$@"; echo $? >"$_work/cnb-receive.status"; } |
        { tee "$_disk"; echo $? >"$_work/cnb-write.status"; } |
        if [ -n "$_size" ]; then
            { head -c "$_size" | sha256sum >"$_work/cnb-stream.sha256"; cat >/dev/null; }
        else
            sha256sum >"$_work/cnb-stream.sha256"
        fi
    _received=$(cat "$_work/cnb-receive.status" 2>/dev/null)
    _written=$(cat "$_work/cnb-write.status" 2>/dev/null)
    CNB_STREAM_SHA256=$(cut -d' ' -f1 "$_work/cnb-stream.sha256" 2>/dev/null)
    CNB_RECEIVE_ERROR=''
    if [ "${_received:-unknown}" != 0 ]; then
        CNB_RECEIVE_ERROR=receiver-exit-${_received:-unknown}
    elif [ "${_written:-unknown}" != 0 ]; then
        CNB_RECEIVE_ERROR=disk-write-failed
    elif [ ${#CNB_STREAM_SHA256} -ne 64 ]; then
        CNB_RECEIVE_ERROR=stream-hash-failed
    fi
}
