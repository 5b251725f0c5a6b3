# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Multicast imaging servers, the backends: how frisbeed and udp-sender are run and what their logs say."""

from __future__ import annotations

import fcntl
import re
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from ansible_collections.cluster.netboot.plugins.module_utils import _addresses as addresses
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


class FrisbeeServerError(NetbootError):
    """A multicast imaging session that cannot be started, found or stopped."""


# --------------------------------------------------------------------------
# Configuration and backends: argv lists, never a shell line.
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerConfig:
    """What a session is asked to do; ``image`` is the resolved absolute path."""

    image: str
    backend: str
    interface: str | None = None
    interface_address: str | None = None
    bandwidth: int | None = None
    idle_timeout: int = 1800
    min_receivers: int = 1
    max_wait: int | None = None
    keepalive: int | None = None
    hello_interval: int | None = 100

    def settings(self) -> dict[str, object]:
        """The knobs that shape a running server (recorded, compared on reuse)."""
        return {
            'interface': self.interface,
            'interface_address': self.interface_address,
            'bandwidth': self.bandwidth,
            'idle_timeout': self.idle_timeout,
            'min_receivers': self.min_receivers,
            'max_wait': self.max_wait,
            'keepalive': self.keepalive,
            'hello_interval': self.hello_interval,
        }


class Backend:
    """One kind of multicast server: how to run it, what ports it takes, how to read its log."""

    name = ''
    default_binary = ''
    # Ports a session occupies from its base, and the alignment of the base.
    port_span = 1
    port_alignment = 1

    def validate(self, config: ServerConfig) -> None:
        if config.bandwidth is not None and config.bandwidth <= 0:
            raise FrisbeeServerError('bandwidth must be a positive number of bits per second, not %d' % config.bandwidth)
        if config.min_receivers < 1:
            raise FrisbeeServerError('min_receivers must be at least 1, not %d' % config.min_receivers)
        if config.max_wait is not None and config.max_wait < 0:
            raise FrisbeeServerError('max_wait must not be negative')
        if config.keepalive is not None and config.keepalive < 0:
            raise FrisbeeServerError('keepalive must not be negative')
        if config.hello_interval is not None and config.hello_interval <= 0:
            raise FrisbeeServerError('hello_interval must be a positive number of milliseconds')
        for name in ('interface', 'interface_address'):
            value = getattr(config, name)
            if value is not None and (not value or any(ch in value for ch in '\x00\n /')):
                raise FrisbeeServerError('%s %r is not a valid interface name' % (name, value))
        if config.interface_address is not None:
            addresses.parse_ipv4(config.interface_address)

    def ports(self, base: int) -> tuple[int, ...]:
        return tuple(range(base, base + self.port_span))

    def argv(self, binary: str, config: ServerConfig, address: str, port: int) -> list[str]:
        raise NotImplementedError

    def receiver_args(self, address: str, port: int) -> list[str]:
        """The client options that find this session (the client adds its device/file and interface)."""
        raise NotImplementedError

    def progress(self, lines: Sequence[str]) -> dict[str, object]:
        raise NotImplementedError


class FrisbeeBackend(Backend):
    """Emulab's frisbeed: ``frisbeed -m ADDR -p PORT [-i IFADDR] [-W BPS] -T IDLE [-K S] -d IMAGE``.

    frisbeed has no daemon() call of its own; without ``-d`` it logs to
    syslog, with ``-d`` to stderr, which is what puts its progress into the
    session's log file. It stays the process that was started either way.
    """

    name = 'frisbee'
    default_binary = 'frisbeed'

    def validate(self, config: ServerConfig) -> None:
        super().validate(config)
        if config.keepalive is not None and config.idle_timeout > 0 and config.keepalive > config.idle_timeout:
            # frisbeed turns keepalives off then, and says so only in syslog, before its stderr logging starts.
            raise FrisbeeServerError('keepalive (%d s) is longer than idle_timeout (%d s): frisbeed would silently '
                                     'send no keepalives at all; give a keepalive of at most idle_timeout'
                                     % (config.keepalive, config.idle_timeout))

    def argv(self, binary: str, config: ServerConfig, address: str, port: int) -> list[str]:
        argv = [binary, '-d', '-m', address, '-p', str(port)]
        interface_address = config.interface_address
        if interface_address is None and config.interface is not None:
            interface_address = interface_ipv4(config.interface)
        if interface_address is not None:
            argv += ['-i', interface_address]
        if config.bandwidth is not None:
            argv += ['-W', str(config.bandwidth)]
        # 0: never exit; < 0: exit about 2 s after the last client left.
        argv += ['-T', str(config.idle_timeout)]
        if config.keepalive is not None:
            argv += ['-K', str(config.keepalive)]
        argv.append(config.image)
        return argv

    def receiver_args(self, address: str, port: int) -> list[str]:
        return ['-m', address, '-p', str(port)]

    def progress(self, lines: Sequence[str]) -> dict[str, object]:
        joined = 0
        active = 0
        phase = 'waiting'
        image_bytes = None
        for line in lines:
            opened = re.search(r'Opened .*: \d+ blocks(?: \((\d+) bytes\))?', line)
            if opened and opened.group(1):
                image_bytes = int(opened.group(1))
            clients = re.search(r'(\d+) active clients', line)
            if ' joins ' in line:
                joined += 1
            if clients:
                active = int(clients.group(1))
                phase = 'serving' if active else 'idle'
            if 'No requests for' in line or 'Last client left' in line or 'Exiting!' in line:
                phase = 'finished'
        return {'phase': phase, 'receivers_joined': joined, 'receivers_active': active,
                'image_bytes': image_bytes, 'bytes_sent': None}


class UdpcastBackend(Backend):
    """Debian's udp-sender. Data and rendezvous share the session's one group address.

    udp-sender uses its port base and the port after it, so the base is even
    and both ports are reserved. It serves one transfer (to the receivers that
    joined before it started) and exits 0, also when nobody came.
    """

    name = 'udpcast'
    default_binary = 'udp-sender'
    port_span = 2
    port_alignment = 2

    def validate(self, config: ServerConfig) -> None:
        super().validate(config)
        if config.interface is None and config.interface_address is None:
            # udp-sender would silently fall back to eth0.
            raise FrisbeeServerError('the udpcast backend needs interface or interface_address')
        if config.idle_timeout < 0:
            raise FrisbeeServerError('a negative idle_timeout (exit after the last client) exists only for the frisbee backend')
        if config.keepalive is not None:
            raise FrisbeeServerError('keepalive exists only for the frisbee backend (frisbeed -K); udp-sender has none')

    def argv(self, binary: str, config: ServerConfig, address: str, port: int) -> list[str]:
        if port % 2:
            raise FrisbeeServerError('udpcast port base %d is odd' % port)
        interface = config.interface if config.interface is not None else config.interface_address
        argv = [binary, '--file', config.image, '--nokbd', '--interface', str(interface),
                '--portbase', str(port), '--mcast-data-address', address, '--mcast-rdv-address', address,
                '--min-receivers', str(config.min_receivers)]
        if config.max_wait is not None:
            argv += ['--max-wait', str(config.max_wait)]
        if config.idle_timeout > 0:
            argv += ['--start-timeout', str(config.idle_timeout)]
        if config.bandwidth is not None:
            argv += ['--max-bitrate', str(config.bandwidth)]
        if config.hello_interval is not None:
            # udp-sender checks whether enough receivers joined when it sends
            # a HELLO; without repeats that takes about 2 s after the last join.
            argv += ['--rexmit-hello-interval', str(config.hello_interval)]
        argv.append('--full-duplex')
        return argv

    def receiver_args(self, address: str, port: int) -> list[str]:
        return ['--portbase', str(port), '--mcast-rdv-address', address]

    def progress(self, lines: Sequence[str]) -> dict[str, object]:
        joined = 0
        active = 0
        phase = 'waiting'
        sent = None
        for line in lines:
            if line.startswith('New connection from'):
                joined += 1
                active += 1
            elif line.startswith('Disconnecting #'):
                active = max(0, active - 1)
            elif line.startswith('Starting transfer'):
                phase = 'transferring'
            elif line.startswith('Transfer complete'):
                phase = 'complete'
            match = re.match(r'bytes=\s*(\d[\d ]*?)\s+re-xmits', line)
            if match:
                sent = int(match.group(1).replace(' ', ''))
        return {'phase': phase, 'receivers_joined': joined, 'receivers_active': active,
                'image_bytes': None, 'bytes_sent': sent}


BACKENDS: dict[str, Backend] = {backend.name: backend for backend in (FrisbeeBackend(), UdpcastBackend())}


def get_backend(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        raise FrisbeeServerError('unknown backend %r (known: %s)' % (name, ', '.join(sorted(BACKENDS)))) from None


def interface_ipv4(name: str) -> str:
    """The IPv4 address of a network interface (frisbee's -i wants an address, not a name)."""
    siocgifaddr = 0x8915
    packed = struct.pack('256s', name.encode('utf-8')[:15])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            result = fcntl.ioctl(sock.fileno(), siocgifaddr, packed)
        except OSError as exc:
            raise FrisbeeServerError('interface %s has no IPv4 address (%s): give interface_address' % (name, exc.strerror)) from None
    return socket.inet_ntoa(result[20:24])
