# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Multicast imaging servers (frisbee, udpcast): one session per image, never colliding.

Several node groups are imaged at once, each from its own image; two servers
on one multicast group and port corrupt each other's transfers. Every session
therefore gets a group address and a port (udpcast: an even port base and the
port after it) that no other live session uses, a running session is reused
for the same image, and the registry of sessions (a JSON file in the state
directory) is only read and rewritten under an exclusive lock, so concurrent
playbooks cannot hand out the same pair twice.

Lifecycle: a frisbee server (frisbeed) serves any number of clients until it
has been idle for ``idle_timeout`` seconds; a udpcast sender (udp-sender)
serves one transfer to the receivers that joined and then exits. Either way,
a session whose process is gone is removed ("reaped") by the next call, and
its log file stays in the state directory to tell how it ended.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
import stat
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

from ansible_collections.cluster.netboot.plugins.module_utils import _addresses as addresses
from ansible_collections.cluster.netboot.plugins.module_utils import _files as files
from ansible_collections.cluster.netboot.plugins.module_utils import _process as process
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


REGISTRY_FILE = 'sessions.json'
LOCK_FILE = 'sessions.lock'
REGISTRY_VERSION = 1
LOG_TAIL_LINES = 10


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
            match = re.match(r'bytes=\s*([\d ]+?)\s+re-xmits', line)
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


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------

def resolve_image(path: str) -> str:
    """The image's absolute real path; it must be an existing, readable regular file."""
    if not path or '\x00' in path:
        raise FrisbeeServerError('image path %r is empty or contains a NUL' % (path,))
    if not os.path.isabs(path):
        raise FrisbeeServerError('image path %r is not absolute' % path)
    real = os.path.realpath(path)
    try:
        info = os.stat(real)
    except FileNotFoundError:
        raise FrisbeeServerError('image %s does not exist' % path) from None
    except OSError as exc:
        raise FrisbeeServerError('cannot stat image %s: %s' % (path, exc)) from None
    if not stat.S_ISREG(info.st_mode):
        raise FrisbeeServerError('image %s is not a regular file' % path)
    if not os.access(real, os.R_OK):
        raise FrisbeeServerError('image %s is not readable' % path)
    return real


def image_fingerprint(path: str) -> list[int]:
    """Device, inode, size, mtime: tells whether the file under a session's path was replaced."""
    try:
        info = os.stat(path)
    except OSError:
        return []
    return [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns]


def parse_port_range(value: Sequence[object]) -> tuple[int, int]:
    if len(value) != 2:
        raise FrisbeeServerError('port_range must be [first, last], not %r' % (list(value),))
    try:
        first, last = int(str(value[0])), int(str(value[1]))
    except ValueError:
        raise FrisbeeServerError('port_range %r is not two port numbers' % (list(value),)) from None
    if not 1024 <= first <= last <= 65535:
        raise FrisbeeServerError('port_range %r must satisfy 1024 <= first <= last <= 65535' % (list(value),))
    return first, last


# --------------------------------------------------------------------------
# Sessions and the registry
# --------------------------------------------------------------------------

@dataclass
class Session:
    """One server process serving one image, as recorded in the registry."""

    id: str
    image: str
    backend: str
    address: str
    port: int
    ports: list[int]
    pid: int
    start_ticks: int
    argv: list[str]
    started: float
    log: str
    pid_file: str
    settings: dict[str, object] = field(default_factory=dict)
    image_fingerprint: list[int] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Session:
        try:
            return cls(
                id=str(data['id']), image=str(data['image']), backend=str(data['backend']),
                address=str(data['address']), port=int(data['port']),  # type: ignore[call-overload]
                ports=[int(p) for p in data['ports']],  # type: ignore[attr-defined]
                pid=int(data['pid']), start_ticks=int(data['start_ticks']),  # type: ignore[call-overload]
                argv=[str(a) for a in data['argv']],  # type: ignore[attr-defined]
                started=float(data['started']),  # type: ignore[arg-type]
                log=str(data['log']), pid_file=str(data['pid_file']),
                settings=dict(data.get('settings') or {}),  # type: ignore[call-overload]
                image_fingerprint=[int(v) for v in data.get('image_fingerprint') or []],  # type: ignore[attr-defined]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FrisbeeServerError('malformed session entry in the registry (%s): %r' % (exc, data)) from None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def session_id(image: str, backend: str) -> str:
    """A file-name-safe id, stable for one image path and backend."""
    base = re.sub(r'[^A-Za-z0-9._-]', '_', os.path.basename(image))[:48] or 'image'
    digest = hashlib.sha256(('%s\0%s' % (backend, image)).encode('utf-8', errors='surrogateescape')).hexdigest()[:10]
    return '%s-%s-%s' % (backend, base, digest)


def registry_paths(state_dir: str) -> tuple[str, str]:
    return os.path.join(state_dir, REGISTRY_FILE), os.path.join(state_dir, LOCK_FILE)


def parse_registry(raw: bytes | None, where: str) -> list[Session]:
    if raw is None or not raw.strip():
        return []
    try:
        data = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FrisbeeServerError('the session registry %s is not valid JSON (%s); move it away to start afresh' % (where, exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get('sessions'), list):
        raise FrisbeeServerError('the session registry %s has no "sessions" list' % where)
    return [Session.from_dict(entry) for entry in data['sessions']]


def render_registry(sessions: Iterable[Session]) -> bytes:
    """Stable JSON: sorted by id so that an unchanged registry is byte-identical."""
    entries = [session.to_dict() for session in sorted(sessions, key=lambda s: s.id)]
    return (json.dumps({'version': REGISTRY_VERSION, 'sessions': entries}, indent=2, sort_keys=True) + '\n').encode('utf-8')


def is_alive(session: Session, proc_root: str = '/proc') -> bool:
    return process.is_running(session.pid, session.start_ticks, session.argv, proc_root)


def reap(sessions: Sequence[Session], proc_root: str = '/proc') -> tuple[list[Session], list[Session]]:
    """Split into (live, gone); gone includes PIDs now reused by another program."""
    live: list[Session] = []
    gone: list[Session] = []
    for session in sessions:
        (live if is_alive(session, proc_root) else gone).append(session)
    return live, gone


def find(sessions: Iterable[Session], image: str, backend: str | None) -> list[Session]:
    return [s for s in sessions if s.image == image and (backend is None or s.backend == backend)]


def udp_ports_in_use(proc_root: str = '/proc') -> set[int]:
    """Local UDP ports bound by anything in this network namespace (/proc/net/udp, udp6)."""
    ports: set[int] = set()
    for name in ('udp', 'udp6'):
        try:
            with open(os.path.join(proc_root, 'net', name), 'r', encoding='ascii', errors='replace') as handle:
                next(handle, None)
                for line in handle:
                    fields = line.split()
                    if len(fields) > 1 and ':' in fields[1]:
                        ports.add(int(fields[1].rsplit(':', 1)[1], 16))
        except FileNotFoundError:
            continue
    return ports


def allocate(live: Sequence[Session], backend: Backend, address_pool: str, port_range: tuple[int, int],
             busy_ports: Iterable[int] = ()) -> tuple[str, int]:
    """The first group address and port base that no live session (and no bound socket) uses.

    The pool skips the group addresses whose Ethernet MAC collides with
    224.0.0.x / 224.128.0.x, which IGMP-snooping switches flood everywhere.
    """
    used_addresses = {s.address for s in live}
    used_ports = {p for s in live for p in s.ports} | set(busy_ports)
    address = next((a for a in addresses.multicast_pool(address_pool) if a not in used_addresses), None)
    if address is None:
        raise FrisbeeServerError('no free multicast address left in %s (%d live sessions)' % (address_pool, len(live)))
    first, last = port_range
    base = first + (-first % backend.port_alignment)
    while base + backend.port_span - 1 <= last:
        if not used_ports.intersection(backend.ports(base)):
            return address, base
        base += backend.port_alignment
    raise FrisbeeServerError('no free %s port%s left in %d-%d (%d live sessions)' % (
        backend.name, ' pair' if backend.port_span > 1 else '', first, last, len(live)))


def describe(session: Session, alive: bool, tail: int = LOG_TAIL_LINES) -> dict[str, object]:
    """What a caller sees of a session: where receivers find it, whether it runs, its log's story."""
    backend = get_backend(session.backend)
    lines = process.tail_lines(session.log, count=2000, max_bytes=256 * 1024)
    return {
        'id': session.id,
        'image': session.image,
        'backend': session.backend,
        'address': session.address,
        'port': session.port,
        'ports': list(session.ports),
        'pid': session.pid,
        'alive': alive,
        'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(session.started)),
        'started_epoch': session.started,
        'argv': list(session.argv),
        'receiver_args': backend.receiver_args(session.address, session.port),
        'log': session.log,
        'pid_file': session.pid_file,
        'progress': backend.progress(lines),
        'log_tail': lines[-tail:] if tail > 0 else [],
    }


# --------------------------------------------------------------------------
# The operations, under the registry lock
# --------------------------------------------------------------------------

@dataclass
class Result:
    changed: bool = False
    session: dict[str, object] | None = None
    sessions: list[dict[str, object]] = field(default_factory=list)
    reaped: list[dict[str, object]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    registry_before: str = ''
    registry_after: str = ''


class SessionManager:
    """Reap, look up, allocate, start and stop sessions recorded in ``state_dir``.

    ``write`` replaces a file atomically (the module passes ``_files.atomic_write``
    bound to itself); ``proc_root`` and ``sleep`` let unit tests fake the system.
    """

    def __init__(self, state_dir: str, write: Callable[[str, bytes], None], check_mode: bool = False,
                 lock_timeout: float = 120.0, proc_root: str = '/proc',
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not os.path.isabs(state_dir):
            raise FrisbeeServerError('state_dir %r is not absolute' % state_dir)
        self.state_dir = os.path.normpath(state_dir)
        self.registry_path, self.lock_path = registry_paths(self.state_dir)
        self.write = write
        self.check_mode = check_mode
        self.lock_timeout = lock_timeout
        self.proc_root = proc_root
        self.sleep = sleep

    # -- plumbing -----------------------------------------------------------

    def _prepare_state_dir(self) -> bool:
        """Create the state directory; False in check mode when it does not exist yet."""
        if os.path.isdir(self.state_dir):
            return True
        # Another playbook may create it between the two checks: only a non-directory is an error.
        if os.path.lexists(self.state_dir) and not os.path.isdir(self.state_dir):
            raise FrisbeeServerError('state_dir %s exists and is not a directory' % self.state_dir)
        if self.check_mode:
            return False
        try:
            os.makedirs(self.state_dir, mode=0o755, exist_ok=True)
        except OSError as exc:
            raise FrisbeeServerError('cannot create state_dir %s: %s' % (self.state_dir, exc)) from None
        return True

    def _run(self, operation: Callable[[list[Session], Result], list[Session]]) -> Result:
        result = Result()
        if not self._prepare_state_dir():
            # Check mode before the first real run: an empty registry, nothing to lock.
            after_sessions = operation([], result)
            result.registry_before = render_registry([]).decode('utf-8')
            result.registry_after = render_registry(after_sessions).decode('utf-8')
            return result
        if self.check_mode:
            return self._transaction(operation, result)
        with files.locked(self.lock_path, timeout=self.lock_timeout):
            return self._transaction(operation, result)

    def _transaction(self, operation: Callable[[list[Session], Result], list[Session]], result: Result) -> Result:
        raw = files.read_bytes(self.registry_path)
        sessions = parse_registry(raw, self.registry_path)
        live, gone = reap(sessions, self.proc_root)
        result.reaped = [describe(s, alive=False) for s in gone]
        after_sessions = operation(live, result)
        after = render_registry(after_sessions)
        result.registry_before = render_registry(sessions).decode('utf-8')
        result.registry_after = after.decode('utf-8')
        if self.check_mode:
            return result
        for session in gone:
            files.remove(session.pid_file)
        # No registry yet and nothing to record: leave the directory as it is.
        if after != (raw or b'') and (raw is not None or after_sessions):
            self.write(self.registry_path, after)
        return result

    # -- operations ---------------------------------------------------------

    def query(self, image: str | None = None, backend: str | None = None) -> Result:
        def operation(live: list[Session], result: Result) -> list[Session]:
            chosen = live if image is None else find(live, image, backend)
            result.sessions = [describe(s, alive=True) for s in chosen]
            if image is not None:
                result.sessions += [r for r in result.reaped if r['image'] == image and (backend is None or r['backend'] == backend)]
            else:
                result.sessions += result.reaped
            if image is not None and result.sessions:
                result.session = result.sessions[0]
            return live
        return self._run(operation)

    def stop(self, image: str, backend: str | None, grace: float = 10.0) -> Result:
        """Stop the session(s) serving ``image``; with ``backend`` None, whatever backend serves it."""
        def operation(live: list[Session], result: Result) -> list[Session]:
            victims = find(live, image, backend)
            if not victims:
                return live
            result.changed = True
            remaining = [s for s in live if s not in victims]
            for session in victims:
                info = describe(session, alive=True)
                if not self.check_mode:
                    outcome = process.terminate(session.pid, session.start_ticks, session.argv, grace,
                                                self.proc_root, self.sleep)
                    files.remove(session.pid_file)
                    info = describe(session, alive=False)
                    info['stopped_by'] = outcome
                result.session = info
                result.sessions.append(info)
            return remaining
        return self._run(operation)

    def start(self, config: ServerConfig, binary: str, address_pool: str, port_range: tuple[int, int],
              confirm_delay: float = 1.0) -> Result:
        backend = get_backend(config.backend)
        backend.validate(config)
        # Fails early on a bad pool, before anything is touched.
        if next(addresses.multicast_pool(address_pool), None) is None:
            raise FrisbeeServerError('address pool %s holds no usable group address' % address_pool)

        launched: list[Session] = []

        def operation(live: list[Session], result: Result) -> list[Session]:
            existing = find(live, config.image, config.backend)
            if existing:
                session = existing[0]
                result.session = describe(session, alive=True)
                result.warnings += reuse_warnings(session, config)
                return live
            address, port = allocate(live, backend, address_pool, port_range, udp_ports_in_use(self.proc_root))
            argv = backend.argv(binary, config, address, port)
            result.changed = True
            ident = session_id(config.image, config.backend)
            session = Session(
                id=ident, image=config.image, backend=config.backend, address=address, port=port,
                ports=list(backend.ports(port)), pid=0, start_ticks=0, argv=argv, started=time.time(),
                log=os.path.join(self.state_dir, ident + '.log'),
                pid_file=os.path.join(self.state_dir, ident + '.pid'),
                settings=config.settings(), image_fingerprint=image_fingerprint(config.image),
            )
            if self.check_mode:
                info = describe(session, alive=False)
                # The log file on disk (if any) belongs to an earlier run.
                info.update(pid=None, progress=backend.progress([]), log_tail=[])
                result.session = info
                return live + [session]
            session = self._launch(session, confirm_delay)
            launched.append(session)
            result.session = describe(session, alive=True)
            return live + [session]

        try:
            return self._run(operation)
        except BaseException:
            # Started but not recorded (the registry write failed): do not leave it behind.
            for session in launched:
                process.terminate(session.pid, session.start_ticks, session.argv, 5.0, self.proc_root, self.sleep)
                files.remove(session.pid_file)
            raise

    def _launch(self, session: Session, confirm_delay: float) -> Session:
        child = process.start_detached(session.argv, session.log, cwd=self.state_dir)
        try:
            stat_now = process.read_stat(child.pid, self.proc_root)
            session = replace(session, pid=child.pid, start_ticks=stat_now.start_ticks if stat_now else -1)
            self.write(session.pid_file, b'%d\n' % child.pid)
            code = process.wait_exit(child, confirm_delay, self.sleep)
            if code is None and not is_alive(session, self.proc_root):
                code = child.poll()
                if code is None:
                    raise FrisbeeServerError('process %d does not look like the started %s any more' % (child.pid, session.argv[0]))
        except BaseException:
            # Never leave an unrecorded server behind.
            if child.poll() is None:
                child.kill()
                child.wait()
            files.remove(session.pid_file)
            raise
        if code is not None:
            files.remove(session.pid_file)
            tail = process.tail_lines(session.log, LOG_TAIL_LINES)
            raise FrisbeeServerError('%s exited at once with code %s; nothing was recorded. Command: %s. Last lines of %s:\n%s' % (
                os.path.basename(session.argv[0]), code, ' '.join(session.argv), session.log,
                '\n'.join(tail) if tail else '(empty)'))
        return session


def reuse_warnings(session: Session, config: ServerConfig) -> list[str]:
    warnings = []
    wanted = config.settings()
    differing = sorted(k for k, v in wanted.items() if session.settings.get(k) != v)
    if differing:
        warnings.append('session %s for %s runs with other settings (%s); it is reused as it is: stop it first to apply them' % (
            session.id, session.image, ', '.join('%s=%r' % (k, session.settings.get(k)) for k in differing)))
    if session.image_fingerprint and image_fingerprint(session.image) != session.image_fingerprint:
        warnings.append('image %s was replaced since session %s started; the server still sends the old content: stop and start it' % (
            session.image, session.id))
    return warnings
