# shellcheck shell=sh
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Capture mode of the imaging ramdisk (cnb.mode=capture), sourced by /init:
# the node streams its disk, gzip-compressed, to the console's capture
# receiver (the capture_image role) over one TCP connection:
#   cnb.upload=<host>:<port>  cnb.token=<hex>  cnb.disk=<block device>
#   cnb.size=<bytes to capture; default the whole disk>
# It sends one line "cnb-capture TOKEN BYTES", then the compressed bytes, and
# half-closes; the receiver hashes while it receives and answers
# "ok FILE_SHA256 DISK_SHA256" or "failed REASON". gzip because busybox has
# it (zstd would need its own binary in the ramdisk, and the console decodes
# gzip with Python's zlib alone).
# Uses init's DISK SIZE TIMEOUT AFTER AFTER_FAIL PHASE and log/report/fail/finish.
# shellcheck disable=SC2034 # PHASE is init's: fail reports it

cnb_capture() {
    PHASE=capture
    upload='' token=''
    # shellcheck disable=SC2013 # the command line is one line of words
    for word in $(cat /proc/cmdline); do
        case "$word" in
            cnb.upload=*) upload=${word#*=} ;;
            cnb.token=*) token=${word#*=} ;;
        esac
    done
    if [ -z "$upload" ] || [ -z "$token" ]; then
        fail missing-upload-parameters
    fi
    [ -n "$DISK" ] || fail missing-source-disk
    waited=0
    while [ ! -b "$DISK" ] && [ $waited -lt 30 ]; do sleep 1; waited=$((waited + 1)); done
    [ -b "$DISK" ] || fail source-disk-not-found
    bytes=${SIZE:-$(blockdev --getsize64 "$DISK")}
    report capture started "" "" "" ""
    log "capturing $bytes bytes of $DISK to $upload (gzip)"
    t_start=$(uptime_s)
    answer=$({ echo "cnb-capture $token $bytes"; head -c "$bytes" "$DISK" | gzip -c; } |
        timeout -s KILL "$TIMEOUT" nc "${upload%:*}" "${upload##*:}")
    CAPTURE_S=$(($(uptime_s) - t_start))
    log "receiver: ${answer:-no answer} (${CAPTURE_S}s)"
    case "$answer" in
        "ok "*)
            PHASE="done"
            report "done" ok "${answer##* }" captured "$CAPTURE_S" ""
            finish "$AFTER"
            ;;
    esac
    fail capture-refused
}
