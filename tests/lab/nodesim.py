# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A node simulator: many cheap stand-ins for PXE-booted nodes in front of a real lab console.

run     Bring up a lab without VMs (tests/lab/lab.sh up, LAB_VMS=0 LAB_PREFIX=16: the console
        container configured by the collection's roles: real dhcpd, in.tftpd, udp-sender, report
        receiver), or use one (--lab ID), and run playbooks/image_nodes.yml over N simulated nodes
        in 4 groups with 4 images. Prints the figures as JSON (playbook wall, simulated span, the
        playbook's own cost, tasks, dhcpd restarts, every node's result). Tears down what it made.
nodes   The simulated nodes themselves (started by ``run`` inside the simulator's own network
        namespace; not for direct use).

Each simulated node goes through the real paths:

* power: the role's ``node_power`` runs its ``command`` driver on the console; the command
  (``touch /srv/lab/sim/power/<state>.<name>``) drops a file in the lab's shared directory,
  which the simulator picks up: ``reset``/``on`` boots the node, ``off`` stops it.
* DHCP: a real DISCOVER/REQUEST exchange with the console's dhcpd, with the node's MAC in
  ``chaddr`` (one UDP socket on port 68 for every node, answers told apart by ``xid``). The node
  uses the address dhcpd bound to its MAC and the ``next-server`` it names, so a missing or
  wrong host entry fails the node as it would fail a real one.
* TFTP: the pointer is fetched from the console's in.tftpd by the names PXELINUX tries, in order
  (``01-<mac>``, the IP in upper-case hex shortened one digit at a time, ``default``), from the
  node's own address. The bootloader files themselves (pxelinux.0, ldlinux.c32, kernel,
  initramfs) are not fetched: their path is the same for every node and the QEMU lab covers it.
* the kernel command line is the config's DEFAULT label's APPEND (plus ``BOOTIF=01-<mac>`` for
  ``IPAPPEND 2``), parsed word by word for the parameters the ramdisk's /init reads
  (roles/imaging_ramdisk/files/init); a config without them (``default``: the local disk) ends
  the node's boot as "booted its disk".
* reports: every phase the ramdisk reports (boot, receive started, verify started only with
  ``cnb.verify=readback``, done), as the same GET request, from the node's own address, to the
  run's real report receiver.
* each phase takes ``--phase-seconds``; a sample of the nodes (``--sample``, spread over the
  images) really receives its image with ``udp-receiver`` from the run's multicast session, each in
  its own namespace (two receivers on one host would fight over the port), and reports the sha256
  of what it received; the others report the sha256 the config asks for.

Everything the simulator creates carries a unique prefix (``cnb`` + 4 hex digits) and is deleted
on exit, also on failure or SIGTERM (tests/integration/netns.py's cleanup).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import struct
import subprocess
import sys
import time
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LAB = HERE / 'lab.sh'
sys.path.insert(0, str(REPO / 'tests' / 'integration'))
import netns  # noqa: E402  pylint: disable=wrong-import-position

CONSOLE = '10.66.0.1'
PREFIX = 16
# Simulated nodes: 10.66.1.0 upward; the sampled receivers: 10.66.250.x (their own namespaces).
FIRST_NODE = int(ipaddress.IPv4Address('10.66.1.0'))
RECEIVER_NET = '10.66.250.'
GROUPS = 4
TFTP_WAITS = (2, 3, 4, 6, 8, 10, 12)


# --- the ramdisk's command line, as roles/imaging_ramdisk/files/init reads it -------------------

# init's variables and their defaults (BACKEND=udpcast, AFTER=poweroff, TIMEOUT=1800, ...).
INIT_PARAMETERS = {
    'cnb.backend': ('backend', 'udpcast'), 'cnb.addr': ('addr', ''), 'cnb.port': ('port', ''),
    'cnb.server': ('server', ''), 'cnb.disk': ('disk', ''), 'cnb.size': ('size', ''),
    'cnb.sha256': ('sha256', ''), 'cnb.report': ('report', ''), 'cnb.node': ('node', ''),
    'cnb.after': ('after', 'poweroff'), 'cnb.after_fail': ('after_fail', ''),
    'cnb.timeout': ('timeout', '1800'), 'cnb.start_timeout': ('start_timeout', ''), 'cnb.verify': ('verify', 'stream'),
    'BOOTIF': ('bootif', ''),
}


def parse_cmdline(cmdline: str) -> dict[str, str]:
    """init's ``for word in $(cat /proc/cmdline)`` loop: the last word of each key wins."""
    values = dict(INIT_PARAMETERS.values())
    for word in cmdline.split():
        key, sep, value = word.partition('=')
        if sep and key in INIT_PARAMETERS:
            values[INIT_PARAMETERS[key][0]] = value
    values['after_fail'] = values['after_fail'] or values['after']
    values['start_timeout'] = values['start_timeout'] or values['timeout']
    return values


def boot_label(config: str) -> dict[str, str]:
    """What PXELINUX boots from a config: the DEFAULT label's APPEND, IPAPPEND and LOCALBOOT."""
    default, current, labels = '', None, {}
    for line in config.splitlines():
        words = line.strip().split(None, 1)
        if not words or words[0].startswith('#'):
            continue
        keyword, rest = words[0].upper(), (words[1] if len(words) > 1 else '')
        if keyword == 'DEFAULT':
            default = rest.strip()
        elif keyword == 'LABEL':
            current = labels.setdefault(rest.strip(), {})
        elif current is not None and keyword in ('APPEND', 'IPAPPEND', 'LOCALBOOT', 'KERNEL'):
            current[keyword.lower()] = rest.strip()
    return labels.get(default, {})


def pxelinux_names(mac: str, ip: str) -> list[str]:
    """The pxelinux.cfg/ names PXELINUX tries, in its order."""
    hexip = '%08X' % int(ipaddress.IPv4Address(ip))
    return ['01-' + mac.lower().replace(':', '-')] + [hexip[:length] for length in range(8, 0, -1)] + ['default']


# --- DHCP (RFC 2131), TFTP (RFC 1350), the report GET ------------------------------------------

def dhcp_message(kind: int, xid: int, mac: str, requested: str = '', server: str = '') -> bytes:
    chaddr = bytes.fromhex(mac.replace(':', '')).ljust(16, b'\0')
    # op, htype, hlen, hops, xid, secs, flags (broadcast: the node has no address yet), ciaddr..giaddr
    header = struct.pack('!BBBBIHHIIII16s64s128s', 1, 1, 6, 0, xid, 0, 0x8000, 0, 0, 0, 0, chaddr, b'', b'')
    options = bytes([53, 1, kind])
    if requested:
        options += bytes([50, 4]) + socket.inet_aton(requested)
    if server:
        options += bytes([54, 4]) + socket.inet_aton(server)
    options += bytes([55, 4, 1, 3, 12, 66]) + bytes([60, 9]) + b'PXEClient' + b'\xff'
    return header + b'\x63\x82\x53\x63' + options


def dhcp_parse(packet: bytes) -> dict[str, t.Any] | None:
    if len(packet) < 240 or packet[0] != 2 or packet[236:240] != b'\x63\x82\x53\x63':
        return None
    xid, = struct.unpack('!I', packet[4:8])
    result: dict[str, t.Any] = {'xid': xid, 'yiaddr': socket.inet_ntoa(packet[16:20]),
                                'siaddr': socket.inet_ntoa(packet[20:24]),
                                'file': packet[108:236].split(b'\0', 1)[0].decode(errors='replace')}
    index = 240
    while index < len(packet) and packet[index] != 255:
        code = packet[index]
        if code == 0:
            index += 1
            continue
        length = packet[index + 1]
        value = packet[index + 2:index + 2 + length]
        if code == 53:
            result['type'] = value[0]
        elif code == 54:
            result['server'] = socket.inet_ntoa(value)
        elif code == 12:
            result['hostname'] = value.decode(errors='replace')
        index += 2 + length
    return result


class DhcpClients(asyncio.DatagramProtocol):
    """Every simulated node's DHCP exchange through one socket on port 68; replies matched by xid."""

    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Queue] = {}
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = t.cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        message = dhcp_parse(data)
        if message and message['xid'] in self.waiting:
            self.waiting[message['xid']].put_nowait(message)

    async def exchange(self, kind: int, xid: int, mac: str, want: int, **options: str) -> dict[str, t.Any]:
        queue: asyncio.Queue = asyncio.Queue()
        self.waiting[xid] = queue
        try:
            for attempt in range(6):
                assert self.transport is not None
                self.transport.sendto(dhcp_message(kind, xid, mac, **options), ('255.255.255.255', 67))
                deadline = time.monotonic() + 2 + attempt
                while time.monotonic() < deadline:
                    try:
                        message = await asyncio.wait_for(queue.get(), deadline - time.monotonic())
                    except asyncio.TimeoutError:
                        break
                    if message.get('type') == want:
                        return message
                    if message.get('type') == 6:  # NAK
                        raise RuntimeError('dhcp-nak')
            raise RuntimeError('no-dhcp-answer')
        finally:
            del self.waiting[xid]

    async def lease(self, mac: str) -> dict[str, t.Any]:
        xid = secrets.randbits(32)
        offer = await self.exchange(1, xid, mac, 2)
        return await self.exchange(3, xid, mac, 5, requested=offer['yiaddr'], server=offer.get('server', ''))


class TftpRead(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.queue.put_nowait((data, addr))


async def tftp_get(local: str, server: str, name: str) -> bytes | None:
    """One octet-mode read; None when the server says the file is not there."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(TftpRead, local_addr=(local, 0))
    try:
        request = b'\0\1' + name.encode() + b'\0octet\0'
        content, block, peer = b'', 1, (server, 69)
        # Backing off as PXELINUX does (some 40 s in all): when a thousand nodes boot at once, each trying
        # ten names, in.tftpd forks for every request and answers late; quick retries only add requests.
        for wait in TFTP_WAITS:
            transport.sendto(request, peer)
            try:
                data, peer = await asyncio.wait_for(protocol.queue.get(), wait)
                break
            except asyncio.TimeoutError:
                continue
        else:
            raise RuntimeError('tftp-timeout')
        while True:
            opcode, = struct.unpack('!H', data[:2])
            if opcode == 5:
                return None
            number, = struct.unpack('!H', data[2:4])
            if opcode == 3 and number == block:
                content += data[4:]
                transport.sendto(b'\0\4' + data[2:4], peer)
                if len(data) - 4 < 512:
                    return content
                block = (block + 1) & 0xFFFF
            data, peer = await asyncio.wait_for(protocol.queue.get(), 5)
    finally:
        transport.close()


async def http_get(local: str, url: str, tries: int = 5) -> tuple[int, list[str]]:
    """The ramdisk's ``wget`` of one report URL, from the node's address: the HTTP status (0 when every try
    failed) and what went wrong in the tries before."""
    parts = re.match(r'^http://([^/:]+):(\d+)(/.*)$', url)
    if not parts:
        raise RuntimeError('bad-report-url')
    errors: list[str] = []
    for attempt in range(tries):
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.group(1), int(parts.group(2)), local_addr=(local, 0)), 10)
            writer.write(('GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' % (parts.group(3), parts.group(1))).encode())
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 10)
            writer.close()
            return int(status.split()[1]), errors
        except (OSError, asyncio.TimeoutError, IndexError, ValueError) as exc:
            errors.append('%s: %s' % (type(exc).__name__, exc))
            await asyncio.sleep(1 + attempt)
    return 0, errors


# --- the simulated nodes --------------------------------------------------------------------

class Simulator:
    def __init__(self, spec: dict[str, t.Any]) -> None:
        self.spec = spec
        self.nodes = {node['name']: node for node in spec['nodes']}
        self.power_dir = Path(spec['power_dir'])
        self.tasks: dict[str, asyncio.Task] = {}
        self.events: list[dict[str, t.Any]] = []
        self.results: dict[str, list[dict[str, t.Any]]] = {}
        self.dhcp = DhcpClients()
        self.receivers: list[asyncio.subprocess.Process] = []

    def event(self, node: str, what: str, **extra: t.Any) -> None:
        self.events.append(dict(extra, node=node, what=what, time=time.time()))
        if what in ('failed', 'localboot') or self.spec.get('verbose'):
            sys.stderr.write('nodesim: %s %s %s\n' % (node, what, json.dumps(extra, sort_keys=True)))

    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, self.spec['interface'].encode())
        sock.bind(('0.0.0.0', 68))
        await loop.create_datagram_endpoint(lambda: self.dhcp, sock=sock)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        Path(self.spec['ready']).write_text('ready\n')
        while not stop.is_set():
            self.poll_power()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
        # Boots under way (the final reset into the new disk) may finish first.
        pending = [task for task in self.tasks.values() if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=float(self.spec['phase_seconds']) + 30 + len(self.nodes) / 10)
        for task in self.tasks.values():
            task.cancel()
        for receiver in self.receivers:
            if receiver.returncode is None:
                receiver.kill()
                await receiver.wait()

    def poll_power(self) -> None:
        with os.scandir(self.power_dir) as entries:
            names = sorted((entry.stat().st_mtime, entry.name) for entry in entries)
        for _mtime, filename in names:
            state, _sep, name = filename.partition('.')
            os.unlink(self.power_dir / filename)
            if name not in self.nodes:
                continue
            self.event(name, 'power-' + state)
            task = self.tasks.pop(name, None)
            if task:
                task.cancel()
            if state in ('on', 'reset', 'cycle'):
                self.tasks[name] = asyncio.ensure_future(self.boot(self.nodes[name]))

    async def boot(self, node: dict[str, t.Any]) -> None:
        name, started = node['name'], time.monotonic()
        result: dict[str, t.Any] = {'name': name, 'powered': time.time()}
        self.results.setdefault(name, []).append(result)
        phase = float(self.spec['phase_seconds'])
        try:
            await asyncio.sleep(phase)  # firmware and PXE ROM
            ack = await self.dhcp.lease(node['mac'])
            ip, server = ack['yiaddr'], ack['siaddr'] or ack.get('server', '')
            result.update(ip=ip, hostname=ack.get('hostname', ''))
            if ip != node['ip']:
                raise RuntimeError('dhcp-gave-%s' % ip)
            config, tried = None, []
            for candidate in pxelinux_names(node['mac'], ip):
                tried.append(candidate)
                config = await tftp_get(ip, server, 'pxelinux.cfg/' + candidate)
                if config is not None:
                    break
            result['config_name'] = tried[-1]
            label = boot_label((config or b'').decode(errors='replace'))
            if 'localboot' in label or not label.get('append'):
                result.update(outcome='localboot')
                self.event(name, 'localboot', config=tried[-1])
                return
            cmdline = label['append'] + (' BOOTIF=01-%s' % node['mac'].replace(':', '-')
                                         if label.get('ipappend') == '2' else '')
            params = parse_cmdline(cmdline)
            result['params'] = params
            await self.imaging(node, ip, params, started, result)
        except asyncio.CancelledError:
            result.setdefault('outcome', 'powered-off')
            raise
        except Exception as exc:  # pylint: disable=broad-except
            result.update(outcome='failed', detail=str(exc))
            self.event(name, 'failed', detail=str(exc))

    async def imaging(self, node: dict[str, t.Any], ip: str, params: dict[str, str], started: float,
                      result: dict[str, t.Any]) -> None:
        phase = float(self.spec['phase_seconds'])
        mac = node['mac'].lower()
        nodename = params['node'] or result.get('hostname', '')

        async def report(phase_name: str, outcome: str, sha256: str = '', detail: str = '',
                         receive: str = '', verify: str = '') -> None:
            if not params['report']:
                return
            url = ('%s?node=%s&mac=%s&ip=%s&phase=%s&result=%s&sha256=%s&detail=%s&seconds=%d'
                   '&receive_seconds=%s&verify_seconds=%s&backend=%s'
                   % (params['report'], nodename, mac, ip, phase_name, outcome, sha256, detail,
                      time.monotonic() - started, receive, verify, params['backend']))
            status, errors = await http_get(ip, url)
            self.event(node['name'], 'report', phase=phase_name, result=outcome, status=status, errors=errors)
            if errors:
                sys.stderr.write('nodesim: %s report %s/%s: status %d after %d failed tries: %s\n'
                                 % (node['name'], phase_name, outcome, status, len(errors), '; '.join(errors)))

        await report('boot', 'ok')
        if node.get('fail_once') and not any(boot.get('outcome') == 'failed-once' for boot in self.results[node['name']]):
            # --fail-once: this node's first transfer fails as init reports a failed receiver.
            await asyncio.sleep(phase)
            await report('receive', 'failed', detail='simulated-failure-once')
            result['outcome'] = 'failed-once'
            self.event(node['name'], 'failed', detail='simulated-failure-once')
            return
        if not params['addr'] or not params['port']:
            await report('receive', 'failed', detail='missing-session-parameters')
            result['outcome'] = 'failed'
            return
        await report('receive', 'started')
        t0 = time.monotonic()
        if node.get('sample'):
            try:
                got = await self.receive(node, params)
            except RuntimeError as exc:  # init's fail(): report the phase as failed
                await report('receive', 'failed', detail=str(exc), receive='%d' % (time.monotonic() - t0))
                raise
        else:
            await asyncio.sleep(phase)
            got = params['sha256']
        receive_s = '%d' % (time.monotonic() - t0)
        verify_s = ''
        # As init: the sha256 is taken in the stream; only readback (and frisbee) reads the disk back.
        if params['verify'] == 'readback' or params['backend'] == 'frisbee':
            await report('verify', 'started', receive=receive_s)
            await asyncio.sleep(phase)
            verify_s = '%d' % phase
        verdict = 'unchecked' if not params['sha256'] else ('match' if got == params['sha256'] else 'mismatch')
        if verdict == 'mismatch':
            await report('done', 'failed', got, 'checksum-mismatch', receive_s, verify_s)
        else:
            await report('done', 'ok', got, verdict, receive_s, verify_s)
        result.update(outcome='done', verdict=verdict, sha256=got, finished=time.time(), sample=bool(node.get('sample')))
        self.event(node['name'], 'done', verdict=verdict)

    async def receive(self, node: dict[str, t.Any], params: dict[str, str]) -> str:
        """udp-receiver in the sample's own namespace writing to its stdout, hashed as it comes (as init does):
        the sha256 of the first cnb.size bytes."""
        if params['backend'] != 'udpcast':
            raise RuntimeError('the simulator receives udpcast only')
        # A real node has talked to the console (TFTP, reports) from the address it receives on, so the
        # console knows its MAC: without that, the sender's unicast connect reply waits for ARP and its
        # first multicast packet overtakes it ("Bad server reply 0006. Other transfer in progress?").
        ping = await asyncio.create_subprocess_exec(
            'ip', 'netns', 'exec', node['receiver_ns'], 'ping', '-c', '1', '-W', '5', params['server'] or CONSOLE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await ping.wait()
        argv = ['ip', 'netns', 'exec', node['receiver_ns'], 'timeout', '-s', 'KILL', params['timeout'],
                'udp-receiver', '--nokbd', '--no-progress',
                '--interface', node['receiver_if'], '--portbase', params['port'],
                '--mcast-rdv-address', params['addr'], '--start-timeout', params['start_timeout'],
                '--receive-timeout', '60']
        log = open(Path(self.spec['work']) / ('receiver-%s.log' % node['name']), 'wb')  # noqa: SIM115
        with log:
            process = await asyncio.create_subprocess_exec(*argv, stdin=subprocess.DEVNULL,
                                                           stdout=subprocess.PIPE, stderr=log)
        self.receivers.append(process)
        assert process.stdout is not None
        digest = hashlib.sha256()
        left = int(params['size']) if params['size'] else -1
        try:
            while True:
                chunk = await process.stdout.read(1 << 16)
                if not chunk:
                    break
                if left != 0:
                    piece = chunk if left < 0 else chunk[:left]
                    digest.update(piece)
                    left = left - len(piece) if left > 0 else left
            await process.wait()
        finally:
            if process.returncode is None:  # powered off meanwhile
                process.kill()
        if process.returncode != 0:
            raise RuntimeError('receiver-exit-%d' % process.returncode)
        return digest.hexdigest()


def nodes_command(args: argparse.Namespace) -> int:
    spec = json.loads(Path(args.spec).read_text())
    simulator = Simulator(spec)
    try:
        asyncio.run(simulator.main())
    finally:
        Path(spec['results']).write_text(json.dumps({'events': simulator.events, 'nodes': simulator.results}))
    return 0


# --- run: the lab, the namespaces, the playbook, the figures ----------------------------------

def node_table(count: int, sample: int, fail_once: int = 0) -> list[dict[str, t.Any]]:
    """``count`` nodes in GROUPS groups (round robin); ``sample`` of them spread over the groups; the last
    ``fail_once`` of them fail their first transfer."""
    nodes = []
    for index in range(count):
        address = FIRST_NODE + index
        nodes.append({'name': 'sim%05d' % (index + 1), 'mac': '52:54:01:%02x:%02x:%02x' % (
            (index >> 16) & 255, (index >> 8) & 255, index & 255), 'ip': str(ipaddress.IPv4Address(address)),
            'group': index % GROUPS + 1})
    for position in range(min(sample, count)):
        nodes[position]['sample'] = True  # the first nodes: one per group, then round again
    for node in nodes[len(nodes) - min(fail_once, count):]:
        node['fail_once'] = True
    return nodes


def write_images(directory: Path, size_mib: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    images = []
    for group in range(1, GROUPS + 1):
        path = directory / ('sim-%d.img' % group)
        if not path.exists() or path.stat().st_size != size_mib << 20:
            seed = hashlib.sha256(b'cluster.netboot simulated image %d' % group).digest()
            with open(path, 'wb') as handle:
                for block in range(size_mib * 16):  # 64 KiB blocks, different for every image
                    handle.write(hashlib.sha256(seed + block.to_bytes(4, 'big')).digest() * 2048)
        images.append(path)
    return images


def inventory(nodes: list[dict[str, t.Any]]) -> str:
    lines = ['---', 'all:', '  children:']
    for group in range(1, GROUPS + 1):
        lines += ['    sim_group_%d:' % group, '      hosts:']
        lines += ['        %s: {mac: "%s", ip: %s}' % (node['name'], node['mac'], node['ip'])
                  for node in nodes if node['group'] == group]
    return '\n'.join(lines) + '\n'


def playbook_vars(args: argparse.Namespace) -> dict[str, t.Any]:
    touch = 'touch /srv/lab/sim/power/%s.{name}'
    return {
        'image_nodes_groups': [{'name': 'group-%d' % group, 'image': '/srv/lab/images/sim-%d.img' % group,
                                'inventory_group': 'sim_group_%d' % group} for group in range(1, GROUPS + 1)],
        'image_nodes_power_driver': 'command',
        'image_nodes_power': {'commands': {state: touch % state for state in ('on', 'off', 'reset')},
                              'timeout': 30, 'parallel': 32},
        'image_nodes_boot_timeout': args.boot_timeout,
        'image_nodes_timeout': args.boot_timeout + 600,
        'image_nodes_poll_interval': args.poll,
        'image_nodes_udpcast_max_wait': args.max_wait,
        'image_nodes_retries': args.retries,
    }


def lab_env(lab_id: str, state_root: str) -> dict[str, str]:
    values = {}
    for line in (Path(state_root) / lab_id / 'lab.env').read_text().splitlines():
        key, _sep, value = line.partition('=')
        values[key] = value
    return values


def lab_up(env: dict[str, str]) -> str:
    completed = subprocess.run([str(LAB), 'up'], env=dict(env, LAB_VMS='0', LAB_PREFIX=str(PREFIX)),
                               stdout=subprocess.PIPE, stderr=sys.stderr, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit('lab.sh up failed (exit %d)' % completed.returncode)
    return completed.stdout.strip().splitlines()[-1]


def console_netns_pid(container: str) -> int:
    """A process of the lab's console container, whose network namespace nsenter enters."""
    line = subprocess.run([str(REPO / 'tests' / 'utils' / 'dockerd.sh'), 'env'], stdout=subprocess.PIPE, text=True,
                          check=True).stdout
    env = dict(os.environ, **dict(re.findall(r'(\w+)=([^\s;]+)', line.replace('export ', '').replace('"', ''))))
    return int(subprocess.run(['docker', 'inspect', '--format', '{{.State.Pid}}', container], env=env,
                              stdout=subprocess.PIPE, text=True, check=True).stdout.strip())


def link_address(ns: str, ifname: str) -> str:
    return json.loads(netns.run(['ip', '-n', ns, '-j', 'link', 'show', ifname]).stdout)[0]['address']


def pin_neighbours(pid: int, entries: list[tuple[str, str]]) -> None:
    """The console's ARP entries for every simulated address, permanent. The kernel's neighbour table is one
    for all network namespaces (gc_thresh3, 1,024 by default, counts them all): hundreds of simulated nodes,
    beside other labs on the machine, fill it ("neighbor table overflow"), and the console can then not
    answer some nodes (TFTP timeouts, reports 10 s late). Permanent entries are not counted (Linux >= 5.0).
    A lab-only shortcut of the fabric: ARP itself is not what the simulator shows."""
    batch = ''.join('neigh replace %s lladdr %s dev lab0 nud permanent\n' % entry for entry in entries)
    netns.run(['nsenter', '-t', str(pid), '-n', 'ip', '-batch', '-'], input=batch, timeout=600)


def unpin_neighbours(pid: int, addresses: list[str]) -> None:
    batch = ''.join('neigh del %s dev lab0\n' % address for address in addresses)
    netns.run(['nsenter', '-t', str(pid), '-n', 'ip', '-force', '-batch', '-'], input=batch, check=False, timeout=600)


def neighbour_table_fulls() -> int:
    """How often the kernel's (shared) ARP table was full so far (/proc/net/stat/arp_cache, every CPU)."""
    lines = Path('/proc/net/stat/arp_cache').read_text().splitlines()
    column = lines[0].split().index('table_fulls')
    return sum(int(line.split()[column], 16) for line in lines[1:])


def count_tasks(log: str) -> tuple[int, int]:
    """Tasks run (each TASK banner, includes and loops counted once) and dhcpd restarts."""
    tasks = len(re.findall(r'^(?:TASK|RUNNING HANDLER) \[', log, re.M))
    restarts = len(re.findall(r'^TASK \[cluster\.netboot\.dhcp_server : Start the DHCP server\]', log, re.M))
    return tasks, restarts


def run_command(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    state_root = env.setdefault('LAB_STATE_ROOT', '/tmp/cluster-netboot-lab')
    own_lab = not args.lab
    lab_id = args.lab or lab_up(env)
    factory = netns.NetnsFactory()
    netns.install_safety_net()
    simulator: subprocess.Popen | None = None
    pinned: list[str] = []
    console_pid = 0
    try:
        lab = lab_env(lab_id, state_root)
        if lab.get('LAB_PREFIX') != str(PREFIX):
            raise SystemExit('lab %s has prefix /%s; the simulator needs /%d (LAB_PREFIX=%d lab.sh up)'
                             % (lab_id, lab.get('LAB_PREFIX'), PREFIX, PREFIX))
        share = Path(lab['STATE']) / 'share'
        work = share / 'sim'
        power_dir = work / 'power'
        power_dir.mkdir(parents=True, exist_ok=True)
        for leftover in power_dir.iterdir():
            leftover.unlink()
        nodes = node_table(args.nodes, args.sample, args.fail_once)
        write_images(share / 'images', args.image_mib)
        (work / 'inventory.yml').write_text(inventory(nodes))
        (work / 'vars.json').write_text(json.dumps(playbook_vars(args)))

        # The simulator's namespace on the lab bridge, every node's address on its one interface.
        bridge_ns = netns.Namespace(lab['NS'])
        sim_ns = factory.namespace('sim')
        ifname = factory.attach(bridge_ns, lab['BR'], sim_ns)
        batch = ''.join('addr add %s/%d dev %s\n' % (node['ip'], PREFIX, ifname) for node in nodes)
        netns.run(['ip', '-n', sim_ns.name, '-batch', '-'], input=batch, timeout=600)
        for index, node in enumerate(node for node in nodes if node.get('sample')):
            receiver_ns = factory.namespace('r%d' % (index + 1))
            node['receiver_ns'] = receiver_ns.name
            node['receiver_if'] = factory.attach(bridge_ns, lab['BR'], receiver_ns,
                                                 cidr='%s%d/%d' % (RECEIVER_NET, index + 1, PREFIX))
        console_pid = console_netns_pid(lab['CONTAINER'])
        entries = [(node['ip'], link_address(sim_ns.name, ifname)) for node in nodes]
        entries += [('%s%d' % (RECEIVER_NET, index + 1), link_address(node['receiver_ns'], node['receiver_if']))
                    for index, node in enumerate(node for node in nodes if node.get('sample'))]
        pin_neighbours(console_pid, entries)
        pinned = [address for address, _mac in entries]
        fulls_before = neighbour_table_fulls()
        spec = {'nodes': nodes, 'interface': ifname, 'power_dir': str(power_dir), 'work': str(work),
                'phase_seconds': args.phase_seconds, 'ready': str(work / 'ready'),
                'results': str(work / 'results.json'), 'verbose': args.verbose}
        for stale in (work / 'ready', work / 'results.json'):
            if stale.exists():
                stale.unlink()
        (work / 'spec.json').write_text(json.dumps(spec))
        simulator = netns.ns_popen(sim_ns, [sys.executable, str(Path(__file__).resolve()), 'nodes',
                                            '--spec', str(work / 'spec.json')])
        netns.wait_for(lambda: (work / 'ready').exists() or simulator.poll() is not None, timeout=60,
                       what='the simulated nodes')
        if simulator.poll() is not None:
            raise SystemExit('the simulated nodes did not start (exit %s)' % simulator.returncode)

        started = time.time()
        # Its own process group: stopped with everything it started should this run be interrupted.
        playbook = subprocess.Popen(
            [str(LAB), 'image', lab_id, '-i', str(work / 'inventory.yml'), '-e', '@' + str(work / 'vars.json')]
            + (['-e', args.extra_vars] if args.extra_vars else []),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            log, _unused = playbook.communicate()
        finally:
            if playbook.poll() is None:
                os.killpg(playbook.pid, signal.SIGTERM)
                playbook.wait()
        wall = time.time() - started
        (work / 'playbook.log').write_text(log)
        simulator.send_signal(signal.SIGTERM)
        simulator.wait(timeout=90 + len(nodes) / 5)
        results = json.loads((work / 'results.json').read_text())
        figures = figures_of(args, nodes, results, wall, log, playbook.returncode)
        figures.update(lab=lab_id, prefix=factory.prefix, neighbour_table_fulls=neighbour_table_fulls() - fulls_before)
        print(json.dumps(figures, indent=None if args.quiet else 1, sort_keys=True))
        return 0 if figures['passed'] or args.allow_failure else 1
    finally:
        if simulator is not None and simulator.poll() is None:
            simulator.kill()
            simulator.wait()
        if pinned:
            unpin_neighbours(console_pid, pinned)
        factory.cleanup()
        if own_lab and not args.keep:
            subprocess.run([str(LAB), 'down', lab_id], env=env, stdout=subprocess.DEVNULL, check=False)


def figures_of(args: argparse.Namespace, nodes: list[dict[str, t.Any]], results: dict[str, t.Any], wall: float,
               log: str, returncode: int) -> dict[str, t.Any]:
    events = results['events']
    resets = [event['time'] for event in events if event['what'] in ('power-reset', 'power-on')]
    imaging = {name: boot for name, boots in results['nodes'].items() for boot in boots
               if boot.get('outcome') == 'done'}
    finals = [boot['finished'] for boot in imaging.values()]
    span = (max(finals) - min(resets)) if resets and finals else 0.0
    tasks, restarts = count_tasks(log)
    reports = [event for event in events if event['what'] == 'report']
    # After the run every imaged node is reset once more and must find no imaging config.
    booted_disk = {name for name, boots in results['nodes'].items() if boots[-1].get('outcome') == 'localboot'}
    samples = [node['name'] for node in nodes if node.get('sample')]
    problems = []
    if returncode != 0:
        problems.append('the playbook failed (exit %d): %s' % (returncode, log[-3000:]))
    missing = sorted(set(node['name'] for node in nodes) - set(imaging))
    if missing:
        problems.append('%d node(s) not imaged: %s' % (len(missing), ', '.join(missing[:20])))
    not_back = sorted(set(imaging) - booted_disk)
    if not_back:
        problems.append('%d node(s) did not boot their disk afterwards: %s' % (len(not_back), ', '.join(not_back[:20])))
    bad = [name for name in samples if imaging.get(name, {}).get('verdict') != 'match']
    if bad:
        problems.append('sampled receivers without a matching sha256: %s' % ', '.join(bad))
    return {
        'nodes': len(nodes), 'groups': GROUPS, 'images': GROUPS, 'phase_seconds': args.phase_seconds,
        'wall': round(wall, 1), 'span': round(span, 1), 'own_cost': round(wall - span, 1),
        'own_cost_per_node_ms': round((wall - span) / len(nodes) * 1000, 1), 'tasks': tasks,
        'dhcpd_restarts': restarts, 'imaged': len(imaging),
        'failed_once': sorted(name for name, boots in results['nodes'].items()
                              if any(boot.get('outcome') == 'failed-once' for boot in boots)), 'sampled': len(samples),
        'sampled_match': len(samples) - len(bad), 'booted_disk_after': len(booted_disk),
        'playbook_rc': returncode, 'passed': not problems, 'problems': problems,
        'reports': len(reports), 'reports_retried': sum(1 for event in reports if event.get('errors')),
        'reports_lost': sum(1 for event in reports if event.get('status') != 200),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    run_parser = commands.add_parser('run')
    run_parser.add_argument('--nodes', type=int, default=100)
    run_parser.add_argument('--sample', type=int, default=8, help='nodes that really receive their image')
    run_parser.add_argument('--phase-seconds', type=float, default=2.0)
    run_parser.add_argument('--image-mib', type=int, default=4)
    run_parser.add_argument('--lab', help='an existing lab (LAB_VMS=0 LAB_PREFIX=16 lab.sh up); default: a new one')
    run_parser.add_argument('--keep', action='store_true', help='keep the lab this run brought up')
    run_parser.add_argument('--boot-timeout', type=int, default=120)
    run_parser.add_argument('--poll', type=int, default=5)
    run_parser.add_argument('--max-wait', type=int, default=10,
                            help='udp-sender waits this long for its receivers (it starts without the unsampled ones)')
    run_parser.add_argument('--fail-once', type=int, default=0, help='the last N nodes fail their first transfer')
    run_parser.add_argument('--retries', type=int, default=0, help='image_nodes_retries')
    run_parser.add_argument('--extra-vars', help='one more -e for the playbook')
    run_parser.add_argument('--allow-failure', action='store_true')
    run_parser.add_argument('--quiet', action='store_true')
    run_parser.add_argument('--verbose', action='store_true', help='every event of every node on stderr')
    nodes_parser = commands.add_parser('nodes')
    nodes_parser.add_argument('--spec', required=True)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit('nodesim.py needs root (network namespaces)')
    return run_command(args) if args.command == 'run' else nodes_command(args)


if __name__ == '__main__':
    sys.exit(main())
