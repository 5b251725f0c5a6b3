# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# shellcheck shell=sh
#
# Discovery mode and the console log of the imaging ramdisk (busybox sh), sourced
# by its /init from /lib/cluster-netboot/discover.sh. The init sets NODE, MAC, IP,
# IFACE and REPORT (cnb.report=http://host:port/<token>/report); this file adds:
#
#   cnb_keep_console_log  from here on, everything the init prints also goes to
#                         /run/cnb-console.log (a tee behind a FIFO)
#   cnb_send_log          POST that log (and the kernel's) to <token>/log: at the
#                         end of every run, failed or not
#   cnb_discover          with cnb.mode=discover on the command line: POST the
#                         machine's hardware facts to <token>/facts, report
#                         phase discover, and nothing is written to any disk
#
# The facts are read from /proc and /sys only, one per line, fields separated by
# tabs (the console's node_discovery module reads them):
#   boot    <iface> <mac>                     the NIC the ramdisk came up on
#   nic     <iface> <mac> <operstate>         every NIC in /sys/class/net but lo
#   cpu     <count> <model>                   /proc/cpuinfo
#   memory  <KiB>                             MemTotal in /proc/meminfo (what the kernel can use)
#   dimm    <MiB>                             each installed memory device, SMBIOS type 17
#                                             (/sys/firmware/dmi/entries/17-*/raw)
#   disk    <name> <bytes> <model> <serial>   /sys/block (sectors * 512; no loop, ram, zram, sr)
#   dmi     <key> <value>                     /sys/class/dmi/id (vendor, product, serials, uuid, BIOS)
#   bmc     <kcs|smic|bt|ssif> <address>      SMBIOS type 38 (/sys/firmware/dmi/entries/38-0/raw):
#                                             the BMC's system interface and its base address.
# The kernel exposes no BMC LAN address (that needs an IPMI tool talking to the BMC), so none is sent.

# Where /proc and /sys are read from and scratch files go: the root and /run, except in the collection's tests.
CNB_ROOT=${CNB_ROOT:-}
CNB_RUN=${CNB_RUN:-/run}
CNB_CONSOLE_LOG=$CNB_RUN/cnb-console.log

cnb_keep_console_log() {
    # Without a reader the exec below would block PID 1: only with tee there.
    command -v tee >/dev/null || return 0
    mkfifo "$CNB_RUN"/cnb-console.fifo 2>/dev/null || return 0
    tee -a "$CNB_CONSOLE_LOG" <"$CNB_RUN"/cnb-console.fifo &
    exec >"$CNB_RUN"/cnb-console.fifo 2>&1
}

# A word for a URL query: what is not [A-Za-z0-9._:-] becomes '-'.
cnb_token() { printf '%s' "$1" | tr -c 'A-Za-z0-9._:-' '-'; }

cnb_post() {
    # $1 path after the token (log, facts), $2 file
    [ -n "$REPORT" ] || return 0
    url="${REPORT%/report}/$1?node=$(cnb_token "$NODE")&mac=$MAC&ip=$IP"
    tries=0
    while [ $tries -lt 3 ]; do
        timeout 20 wget -q -O /dev/null --post-file "$2" "$url" && return 0
        tries=$((tries + 1))
        sleep 2
    done
    echo "cnb: could not send $1 to $url"
    return 1
}

cnb_send_log() {
    [ -n "$MAC" ] || return 0
    { cat "$CNB_CONSOLE_LOG" 2>/dev/null; [ -n "$CNB_ROOT" ] || { echo '--- kernel log ---'; dmesg 2>/dev/null | tail -n 200; }
      [ -s "$CNB_ROOT"/tmp/receiver.log ] && { echo '--- receiver log ---'; tail -n 50 "$CNB_ROOT"/tmp/receiver.log; }
    } >"$CNB_RUN"/cnb-log-upload 2>&1
    cnb_post log "$CNB_RUN"/cnb-log-upload
}

# One value of a sysfs file: printable, no tabs or newlines, trimmed.
cnb_value() { tr -d '\000-\037\177' <"$1" 2>/dev/null | sed 's/^ *//; s/ *$//'; }

cnb_facts() {
    printf 'boot\t%s\t%s\n' "$IFACE" "$MAC"
    for dir in "$CNB_ROOT"/sys/class/net/*; do
        name=${dir##*/}
        [ "$name" = lo ] && continue
        [ -r "$dir/address" ] || continue
        printf 'nic\t%s\t%s\t%s\n' "$name" "$(cnb_value "$dir/address")" "$(cnb_value "$dir/operstate")"
    done
    count=$(grep -c '^processor' "$CNB_ROOT"/proc/cpuinfo)
    model=$(sed -n 's/^model name[^:]*: *//p' "$CNB_ROOT"/proc/cpuinfo | head -n 1 | tr -d '\t')
    printf 'cpu\t%s\t%s\n' "$count" "$model"
    printf 'memory\t%s\n' "$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' "$CNB_ROOT"/proc/meminfo)"
    for raw in "$CNB_ROOT"/sys/firmware/dmi/entries/17-*/raw; do
        [ -r "$raw" ] || continue
        # shellcheck disable=SC2046 # one byte per word
        set -- $(od -An -tu1 -N 32 "$raw")
        size=$((${13:-0} + ${14:-0} * 256))
        case $size in
            0|65535) continue ;;
            32767) size=$((${29:-0} + ${30:-0} * 256 + ${31:-0} * 65536 + ${32:-0} * 16777216)) ;;
            *) [ $((size & 32768)) -eq 0 ] || size=$(((size & 32767) / 1024)) ;;
        esac
        printf 'dimm\t%s\n' "$size"
    done
    for dir in "$CNB_ROOT"/sys/block/*; do
        name=${dir##*/}
        case "$name" in loop*|ram*|zram*|sr*|fd*|dm-*|md*) continue ;; esac
        sectors=$(cat "$dir/size" 2>/dev/null)
        case "$sectors" in ''|0) continue ;; esac
        serial=$(cnb_value "$dir/serial")
        [ -n "$serial" ] || serial=$(cnb_value "$dir/device/serial")
        printf 'disk\t%s\t%s\t%s\t%s\n' "$name" "$((sectors * 512))" "$(cnb_value "$dir/device/model")" "$serial"
    done
    for key in sys_vendor product_name product_serial product_uuid board_vendor board_name board_serial \
               chassis_serial bios_vendor bios_version; do
        value=$(cnb_value "$CNB_ROOT/sys/class/dmi/id/$key")
        [ -n "$value" ] && printf 'dmi\t%s\t%s\n' "$key" "$value"
    done
    raw="$CNB_ROOT"/sys/firmware/dmi/entries/38-0/raw
    if [ -r "$raw" ]; then
        # shellcheck disable=SC2046 # one byte per word
        set -- $(od -An -tu1 -N 16 "$raw")
        case ${5:-} in 1) kind=kcs ;; 2) kind=smic ;; 3) kind=bt ;; 4) kind=ssif ;; *) kind=unknown ;; esac
        # Bytes 8-11: the base address (bit 0 set for I/O space, not part of the address).
        printf 'bmc\t%s\t0x%x\n' "$kind" $(( (${9:-0} + ${10:-0} * 256 + ${11:-0} * 65536 + ${12:-0} * 16777216) & ~1 ))
    fi
    return 0
}

cnb_discover() {
    log "discovery mode: sending this machine's hardware facts"
    cnb_facts >"$CNB_RUN"/cnb-facts.txt
    cat "$CNB_RUN"/cnb-facts.txt
    if cnb_post facts "$CNB_RUN"/cnb-facts.txt; then
        report discover ok "" "" "" ""
    else
        report discover failed "" facts-not-sent "" ""
    fi
}
