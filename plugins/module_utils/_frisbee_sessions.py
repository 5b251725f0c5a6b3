# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Multicast imaging sessions as recorded: the inputs that name one, the registry file, allocation."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from ansible_collections.cluster.netboot.plugins.module_utils import _addresses as addresses
from ansible_collections.cluster.netboot.plugins.module_utils import _process as process
from ansible_collections.cluster.netboot.plugins.module_utils._frisbee_backends import Backend, FrisbeeServerError, get_backend

REGISTRY_FILE = 'sessions.json'
LOCK_FILE = 'sessions.lock'
REGISTRY_VERSION = 1
LOG_TAIL_LINES = 10


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


def lookup_image(path: str) -> str:
    """The path a session for ``path`` is recorded under, whether or not the file still exists.

    A session runs on after its image was deleted (the server holds the file
    open), and it must still be found to be stopped: no existence check here.
    """
    if not path or '\x00' in path:
        raise FrisbeeServerError('image path %r is empty or contains a NUL' % (path,))
    if not os.path.isabs(path):
        raise FrisbeeServerError('image path %r is not absolute' % path)
    return os.path.realpath(path)


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
    # The runs that use the session (frisbee_server's user): the last one to leave stops it.
    users: list[str] = field(default_factory=list)

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
                users=[str(u) for u in data.get('users') or []],  # type: ignore[attr-defined]
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


def unrecorded_servers(state_dir: str, recorded: Iterable[Session], proc_root: str = '/proc') -> list[tuple[str, int]]:
    """Servers started here that no registry entry knows: (pid file, PID) for each.

    A run that died between starting a server and recording it leaves its
    ``<id>.pid`` behind. The PID only counts as that server while the process
    still writes to the session's ``<id>.log`` (its stdout), so a recycled PID
    is never taken for it.
    """
    known = {session.pid_file for session in recorded}
    found = []
    try:
        names = sorted(os.listdir(state_dir))
    except FileNotFoundError:
        return []
    for name in names:
        pid_file = os.path.join(state_dir, name)
        if not name.endswith('.pid') or pid_file in known:
            continue
        try:
            with open(pid_file, 'rb') as handle:
                pid = int(handle.read().split()[0])
            output = os.readlink(os.path.join(proc_root, str(pid), 'fd', '1'))
        except (OSError, ValueError, IndexError):
            continue
        if output == os.path.join(state_dir, name[:-len('.pid')] + '.log'):
            found.append((pid_file, pid))
    return found


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
        'users': list(session.users),
        'progress': backend.progress(lines),
        'log_tail': lines[-tail:] if tail > 0 else [],
    }
