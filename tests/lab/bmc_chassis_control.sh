#!/bin/sh
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The chassis control program of a lab VM's BMC (ipmi_sim's `chassis_control`,
# LAB_POWER=ipmi): ipmi_sim runs it as `PROGRAM get power boot ...` or
# `PROGRAM set power 0|1`, `set reset 1`, `set boot pxe|default|...` for every
# IPMI chassis request it gets over the LAN. lab.sh's per-VM wrapper puts the
# VM's QMP socket and directory first. The power acts on the VM through QMP
# (the VM starts paused, i.e. powered off); the boot device is kept in a file,
# as a BMC keeps its boot flags (`ipmitool chassis bootparam get 5` reads it).
set -u
sock=$1 dir=$2
shift 2
op=${1:-}
[ $# -gt 0 ] && shift
echo "$op $*" >>"$dir/bmc-calls.log"

qmp() {
    printf '{"execute":"qmp_capabilities"}\n%s\n' "$*" | timeout 5 socat -t 1 - "UNIX-CONNECT:$sock"
}

case $op in
get)
    for parm in "$@"; do
        case $parm in
        power)
            if qmp '{"execute":"query-status"}' | grep -q '"running": true'; then echo power:1; else echo power:0; fi
            ;;
        boot) echo "boot:$(cat "$dir/bmc-boot" 2>/dev/null || echo default)" ;;
        *) echo "$parm:0" ;;
        esac
    done
    ;;
set)
    while [ $# -ge 2 ]; do
        case $1 in
        power)
            if [ "$2" = 1 ]; then
                qmp '{"execute":"system_reset"}' '{"execute":"cont"}' >/dev/null
            else
                qmp '{"execute":"stop"}' >/dev/null
            fi
            ;;
        reset) qmp '{"execute":"system_reset"}' '{"execute":"cont"}' >/dev/null ;;
        boot) echo "$2" >"$dir/bmc-boot" ;;
        esac
        shift 2
    done
    ;;
*) exit 1 ;;
esac
exit 0
