# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Multicast imaging servers (frisbee, udpcast): one session per image, never colliding.

The backends are in ``_frisbee_backends``, the registry and allocation in
``_frisbee_sessions``; this file holds the operations on sessions.

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

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ansible_collections.cluster.netboot.plugins.module_utils import _addresses as addresses
from ansible_collections.cluster.netboot.plugins.module_utils import _files as files
from ansible_collections.cluster.netboot.plugins.module_utils import _process as process
from ansible_collections.cluster.netboot.plugins.module_utils._frisbee_backends import FrisbeeServerError, ServerConfig, get_backend
from ansible_collections.cluster.netboot.plugins.module_utils._frisbee_sessions import (
    LOG_TAIL_LINES, Session, allocate, describe, find, image_fingerprint, is_alive, parse_registry, reap,
    registry_paths, render_registry, session_id, udp_ports_in_use, unrecorded_servers)


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
        self._stop_unrecorded(sessions, result)
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

    def _stop_unrecorded(self, recorded: list[Session], result: Result) -> None:
        """Stop servers that a run which died before recording them left behind (see unrecorded_servers).

        Under the registry lock no other run is between start and record, so
        such a server has no owner; left alone, the next start would add a
        second server for the same image.
        """
        for pid_file, pid in unrecorded_servers(self.state_dir, recorded, self.proc_root):
            if self.check_mode:
                result.warnings.append('process %d (%s) is a server that no session records; a real run stops it'
                                       % (pid, pid_file))
                continue
            stat_now = process.read_stat(pid, self.proc_root)
            argv = process.read_cmdline(pid, self.proc_root)
            if stat_now is None or not argv:
                files.remove(pid_file)
                continue
            outcome = process.terminate(pid, stat_now.start_ticks, argv, 5.0, self.proc_root, self.sleep)
            files.remove(pid_file)
            result.changed = True
            result.warnings.append('stopped process %d (%s): a server that an interrupted run started but never '
                                   'recorded (%s)' % (pid, ' '.join(argv), outcome))

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

    def stop(self, image: str, backend: str | None, grace: float = 10.0, user: str | None = None) -> Result:
        """Stop the session(s) serving ``image``; with ``backend`` None, whatever backend serves it.

        With ``user``, that user leaves the session: it stops only when no other user is left, and a
        session that records users but not this one is not this user's to stop.
        """
        def operation(live: list[Session], result: Result) -> list[Session]:
            victims = find(live, image, backend)
            if user is not None:
                staying = [s for s in victims if s.users and user not in s.users]
                leaving = [s for s in victims if user in s.users and len(s.users) > 1]
                for session in leaving:
                    session.users = [u for u in session.users if u != user]
                    result.changed = True
                    result.session = describe(session, alive=True)
                    result.sessions.append(result.session)
                for session in staying:
                    result.sessions.append(describe(session, alive=True))
                victims = [s for s in victims if s not in staying and s not in leaving]
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
              confirm_delay: float = 1.0, user: str | None = None) -> Result:
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
                result.warnings += reuse_warnings(session, config)
                if user is not None and user not in session.users:
                    session.users.append(user)
                    result.changed = True
                result.session = describe(session, alive=True)
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
                users=[user] if user is not None else [],
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
