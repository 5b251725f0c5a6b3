# shellcheck shell=sh disable=SC2034 # IFACE, MAC and CNB_NET_ERROR are for the caller
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The NIC and DHCP bring-up every cluster.netboot ramdisk shares, sourced by
# its /init (busybox sh) from /lib/cluster-netboot/netup.sh. The caller
# defines log() and decides what a failure means (imaging: report and power
# off; diskless: a rescue shell).
#
#   cnb_load_modules       insmod /etc/modules.order (dependency order from
#                          modprobe --show-depends at build time; drivers for
#                          absent hardware fail harmlessly)
#   cnb_net_up BOOTIF      the NIC pxelinux booted from (BOOTIF=01-aa-bb-...,
#                          IPAPPEND 2), else the first one with a device; link
#                          up, a DHCP lease through /etc/udhcpc.script, whose
#                          /run/dhcp.env is sourced. Sets IFACE and MAC (and
#                          DHCP_IP, DHCP_MASK, DHCP_SERVER, DHCP_HOSTNAME).
#                          Returns 1 with CNB_NET_ERROR set to a token
#                          (no-network-interface, no-dhcp-lease).

cnb_load_modules() {
    [ -f /etc/modules.order ] || return 0
    while read -r module; do
        [ -n "$module" ] && insmod "$module" 2>/dev/null
    done </etc/modules.order
    return 0
}

cnb_net_up() {
    want_mac=
    if [ -n "$1" ]; then
        want_mac=$(echo "${1#01-}" | tr 'A-F-' 'a-f:')
    fi
    IFACE='' MAC='' CNB_NET_ERROR=''
    waited=0
    while [ -z "$IFACE" ] && [ $waited -lt 30 ]; do
        for dev in /sys/class/net/*; do
            name=${dev##*/}
            [ "$name" = lo ] && continue
            [ -e "$dev/device" ] || continue
            if [ -z "$want_mac" ] || [ "$(cat "$dev/address")" = "$want_mac" ]; then
                IFACE=$name
                break
            fi
        done
        [ -n "$IFACE" ] || { sleep 1; waited=$((waited + 1)); }
    done
    if [ -z "$IFACE" ]; then
        CNB_NET_ERROR=no-network-interface
        return 1
    fi
    MAC=$(cat "/sys/class/net/$IFACE/address")
    ip link set lo up
    ip link set "$IFACE" up
    log "interface $IFACE ($MAC)"

    tries=0
    while [ $tries -lt 5 ]; do
        udhcpc -i "$IFACE" -s /etc/udhcpc.script -n -q -t 5 -T 2 -f >/dev/null 2>&1 && break
        tries=$((tries + 1))
    done
    if [ ! -f /run/dhcp.env ]; then
        CNB_NET_ERROR=no-dhcp-lease
        return 1
    fi
    # shellcheck disable=SC1091 # written by /etc/udhcpc.script
    . /run/dhcp.env
    return 0
}
