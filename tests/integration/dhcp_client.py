# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A busybox ``udhcpc`` client in a network namespace, for the DHCP server tests (dhcpd and Kea).

``ask`` runs one exchange (``-n -q -f``) with the interface's MAC set to a
node's and returns what the client was given (``ip``, ``hostname``,
``siaddr`` = next-server, ``boot_file``); ``RenewingClient`` keeps a lease and
renews it, logging every event with its address.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import netns

CLIENT_SCRIPT = '''#!/bin/sh
# udhcpc calls this with deconfig, bound, renew...; keep what "bound" was given, log every event.
if [ -n "$CNB_DHCP_EVENTS" ]; then
    echo "$1 $ip" >> "$CNB_DHCP_EVENTS"
fi
if [ "$1" = bound ] && [ -n "$CNB_DHCP_OUT" ]; then
    env > "$CNB_DHCP_OUT"
fi
exit 0
'''


def client_script(directory: Path) -> Path:
    script = directory / 'udhcpc.script'
    if not script.exists():
        script.write_text(CLIENT_SCRIPT)
        script.chmod(0o755)
    return script


def set_mac(namespace: netns.Namespace, ifname: str, mac: str) -> None:
    namespace.ip('link', 'set', ifname, 'down')
    namespace.ip('link', 'set', 'dev', ifname, 'address', mac)
    namespace.ip('link', 'set', ifname, 'up')


def ask(namespace: netns.Namespace, ifname: str, mac: str, directory: Path,
        extra: t.Sequence[str] = ()) -> dict[str, t.Any] | None:
    """One DHCP exchange from ``namespace`` with ``mac``; the bound environment, or None."""
    set_mac(namespace, ifname, mac)
    out = directory / ('lease-%s' % mac.replace(':', '').replace('-', ''))
    if out.exists():
        out.unlink()
    done = namespace.exec(['busybox', 'udhcpc', '-n', '-q', '-f', '-i', ifname, '-s', str(client_script(directory)),
                           '-t', '4', '-T', '1', '-O', 'hostname', *extra],
                          check=False, timeout=60, env=dict(os.environ, CNB_DHCP_OUT=str(out)))
    if not out.exists():
        return None
    values: dict[str, t.Any] = dict(line.split('=', 1) for line in out.read_text().splitlines() if '=' in line)
    values['_udhcpc_rc'] = done.returncode
    return values


class RenewingClient:
    """``udhcpc`` left running: it binds once, then renews at half the lease time; events in ``events()``."""

    def __init__(self, processes: netns.ProcessManager, namespace: netns.Namespace, ifname: str, mac: str,
                 directory: Path):
        set_mac(namespace, ifname, mac)
        self.log = directory / ('events-%s' % mac.replace(':', ''))
        self.process = processes.start(
            ['busybox', 'udhcpc', '-f', '-i', ifname, '-s', str(client_script(directory)), '-t', '10', '-T', '1'],
            ns=namespace, env=dict(os.environ, CNB_DHCP_EVENTS=str(self.log)))

    def events(self) -> list[tuple[str, str]]:
        if not self.log.exists():
            return []
        return [tuple((line.split(' ', 1) + [''])[:2]) for line in self.log.read_text().splitlines()]


# What firmware puts in its DISCOVER (udhcpc -x): client architecture (option 93, RFC 4578)
# and iPXE's user class (option 77, the bytes "iPXE").
ARCH_BIOS = ('-x', '0x5d:0000')
ARCH_UEFI_X64 = ('-x', '0x5d:0007')
ARCH_UEFI_X64_BC = ('-x', '0x5d:0009')
ARCH_UEFI_X64_HTTP = ('-x', '0x5d:0010')
USER_CLASS_IPXE = ('-x', '0x4d:' + b'iPXE'.hex())
# A TFTP root as the tftp_server role lays it out, as far as DHCP hands it out.
BOOT_FILES = ('pxelinux.0', 'shimx64.efi', 'grubx64.efi', 'ipxe.efi', 'undionly.kpxe', 'ipxe/boot.ipxe')


def boot_root(directory: Path) -> Path:
    """A stand-in TFTP root holding ``BOOT_FILES``, for the DHCP roles' boot file check."""
    root = directory / 'tftp'
    for name in BOOT_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b'%s stand-in\n' % name.encode())
    return root
