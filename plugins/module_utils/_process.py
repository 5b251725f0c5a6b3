# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helper processes started from a module: bounded runs, and long-running detached servers.

:func:`run` is the one way to run a program to completion: no stdin, its own
process group, and one deadline for the whole run; when the deadline passes the
whole group gets SIGTERM, then SIGKILL, so no child of it is left running.

A module run is short and its process goes away; the server it starts must
outlive it. The server gets its own session (setsid), its output goes to a log
file and nothing of Ansible's pipes is inherited. Later runs find it again by
PID, and because PIDs are reused, a PID only counts as "our server" when its
kernel start time and its command line are the ones recorded at start.
"""

from __future__ import annotations

import errno
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


class ProcessError(NetbootError):
    """A helper process that cannot be started, identified or stopped."""


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/<pid>/stat that identify a process and tell whether it runs."""

    state: str
    process_group: int
    start_ticks: int


def _read_proc(pid: int, name: str, what: str, proc_root: str) -> bytes | None:
    """The bytes of /proc/<pid>/<name>; None when no such process exists."""
    try:
        with open(os.path.join(proc_root, str(pid), name), 'rb') as handle:
            return handle.read()
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno in (errno.ESRCH, errno.ENOENT):
            return None
        raise ProcessError('cannot read the %s of process %d: %s' % (what, pid, exc)) from None


def read_stat(pid: int, proc_root: str = '/proc') -> ProcStat | None:
    """Parse /proc/<pid>/stat; None when no such process exists."""
    data = _read_proc(pid, 'stat', 'state', proc_root)
    if data is None:
        return None
    raw = data.decode('utf-8', errors='replace')
    # The command name (field 2) is in parentheses and may itself contain
    # spaces and parentheses: the fields after the last ')' are fixed.
    closing = raw.rfind(')')
    fields = raw[closing + 2:].split()
    if closing < 0 or len(fields) < 20:
        raise ProcessError('cannot parse %s/%d/stat: %r' % (proc_root, pid, raw[:200]))
    # fields[0] is field 3 (state), fields[2] field 5 (pgrp), fields[19] field 22 (starttime).
    return ProcStat(state=fields[0], process_group=int(fields[2]), start_ticks=int(fields[19]))


def read_cmdline(pid: int, proc_root: str = '/proc') -> list[str] | None:
    """The argv of a process; None when it is gone, [] for kernel threads and zombies."""
    raw = _read_proc(pid, 'cmdline', 'command line', proc_root)
    if raw is None:
        return None
    if not raw:
        return []
    return [part.decode('utf-8', errors='surrogateescape') for part in raw.rstrip(b'\x00').split(b'\x00')]


def is_running(pid: int, start_ticks: int, argv: Sequence[str], proc_root: str = '/proc') -> bool:
    """True when ``pid`` is still the process that was started with ``argv`` at ``start_ticks``.

    A zombie counts as gone: the server has exited, whoever its parent is now.
    The kernel start time alone already tells a recycled PID apart; the command
    line check also catches a server that exec'ed something else.
    """
    if pid <= 0:
        return False
    stat = read_stat(pid, proc_root)
    if stat is None or stat.state in ('Z', 'X', 'x'):
        return False
    if stat.start_ticks != start_ticks:
        return False
    cmdline = read_cmdline(pid, proc_root)
    if not cmdline or not argv:
        return False
    # A script started by its path runs as "interpreter [arg] script args...".
    return cmdline[-len(argv):] == list(argv)


def start_detached(argv: Sequence[str], log_path: str, cwd: str | None = None,
                   env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``argv`` (no shell) in its own session with stdout+stderr appended to ``log_path``.

    The caller keeps the Popen only to learn an exit code during the first
    moments; once the module exits, the server is re-parented and lives on.
    """
    try:
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    except OSError as exc:
        raise ProcessError('cannot open the log file %s: %s' % (log_path, exc)) from None
    try:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            close_fds=True,
            start_new_session=True,
        )
    except OSError as exc:
        raise ProcessError('cannot start %s: %s' % (argv[0], exc)) from None
    finally:
        os.close(log_fd)


def wait_exit(process: subprocess.Popen, seconds: float,
              sleep: Callable[[float], None] = time.sleep) -> int | None:
    """Watch a child we just started for ``seconds``; its exit code if it died, else None."""
    deadline = time.monotonic() + seconds
    while True:
        code = process.poll()
        if code is not None:
            return code
        if time.monotonic() >= deadline:
            return None
        sleep(0.05)


def _signal(pid: int, start_ticks: int, argv: Sequence[str], signum: int, proc_root: str) -> bool:
    """Send ``signum`` to the process only if it still is the recorded one; False when it is gone.

    A pidfd pins the process while its identity is checked, so a PID recycled
    between the check and the signal cannot receive it.
    """
    pidfd = None
    pidfd_open = getattr(os, 'pidfd_open', None)
    if pidfd_open is not None:
        try:
            pidfd = pidfd_open(pid)
        except ProcessLookupError:
            return False
        except OSError:
            pidfd = None  # kernel without pidfd: the plain check below has to do
    try:
        if not is_running(pid, start_ticks, argv, proc_root):
            return False
        try:
            if pidfd is not None:
                signal.pidfd_send_signal(pidfd, signum)  # type: ignore[attr-defined]
            else:
                os.kill(pid, signum)
        except ProcessLookupError:
            return False
        except PermissionError as exc:
            raise ProcessError('not allowed to signal process %d: %s' % (pid, exc)) from None
        return True
    finally:
        if pidfd is not None:
            os.close(pidfd)


def terminate(pid: int, start_ticks: int, argv: Sequence[str], grace: float,
              proc_root: str = '/proc', sleep: Callable[[float], None] = time.sleep) -> str:
    """SIGTERM, then SIGKILL after ``grace`` seconds.

    Returns ``gone`` (it was not running), ``terminated`` (exited on SIGTERM)
    or ``killed`` (needed SIGKILL).
    """
    if not _signal(pid, start_ticks, argv, signal.SIGTERM, proc_root):
        return 'gone'
    if _wait_gone(pid, start_ticks, argv, grace, proc_root, sleep):
        return 'terminated'
    _signal(pid, start_ticks, argv, signal.SIGKILL, proc_root)
    if _wait_gone(pid, start_ticks, argv, 10.0, proc_root, sleep):
        return 'killed'
    raise ProcessError('process %d survived SIGKILL for 10 seconds' % pid)


def terminate_recorded(record_path: str, grace: float = 5.0) -> dict[str, object]:
    """:func:`terminate` the process a JSON record (``pid``, ``start_ticks``, ``argv``) names; remove the record.

    Returns ``{'stopped': bool, 'pid': int}``, or ``{'stopped': False, 'reason': ...}`` without a usable record.
    """
    try:
        with open(record_path, encoding='utf-8') as handle:
            record = json.load(handle)
        pid, start_ticks, argv = int(record['pid']), int(record['start_ticks']), list(record['argv'])
    except (OSError, ValueError, KeyError, TypeError):
        return {'stopped': False, 'reason': 'no process recorded in %s' % record_path}
    outcome = terminate(pid, start_ticks, argv, grace)
    try:
        os.unlink(record_path)
    except FileNotFoundError:
        pass
    return {'stopped': outcome != 'gone', 'pid': pid}


def _wait_gone(pid: int, start_ticks: int, argv: Sequence[str], seconds: float, proc_root: str,
               sleep: Callable[[float], None]) -> bool:
    deadline = time.monotonic() + seconds
    while is_running(pid, start_ticks, argv, proc_root):
        if time.monotonic() >= deadline:
            return False
        _reap_if_child(pid)
        sleep(0.05)
    return True


def _reap_if_child(pid: int) -> None:
    """Collect the exit status when the process happens to be our own child (no zombie left)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def print_json(document: object, sort_keys: bool = False) -> None:
    """A program's answer: one JSON document on a line of standard output, flushed at once."""
    sys.stdout.write(json.dumps(document, sort_keys=sort_keys) + '\n')
    sys.stdout.flush()


def tail_lines(path: str, count: int = 10, max_bytes: int = 65536) -> list[str]:
    """The last ``count`` non-empty lines of a log file; progress meters rewrite one line with CR."""
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            raw = handle.read()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ProcessError('cannot read the log file %s: %s' % (path, exc)) from None
    text = raw.decode('utf-8', errors='replace').replace('\r', '\n')
    lines = [line.rstrip() for line in text.split('\n')]
    return [line for line in lines if line.strip()][-count:] if count > 0 else []


# --------------------------------------------------------------------------
# Bounded runs
# --------------------------------------------------------------------------

@dataclass
class Completed:
    """What a program did within its deadline.

    ``records`` holds stdout as the separate writes the program made (with
    ``records=True``); ``rc`` is None only when the program could not be
    reaped even after SIGKILL.
    """

    argv: list[str]
    rc: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    records: list[bytes] = field(default_factory=list)
    record_size: int = 0

    def text(self, which: str = 'stdout') -> str:
        return getattr(self, which).decode('utf-8', errors='replace')


def _kill_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def run(argv: Sequence[str], timeout: float | None = None, env: Mapping[str, str] | None = None,
        cwd: str | None = None, records: bool = False, term_grace: float = 5.0) -> Completed:
    """Run ``argv`` (no shell, stdin at EOF) to completion within ``timeout`` seconds in all.

    The program runs in a new session, so it and every child it starts share
    one process group. When the deadline passes (waiting for its output
    counts), that group gets SIGTERM and, ``term_grace`` seconds later, SIGKILL.

    With ``records`` the program's stdout is one end of a Unix SOCK_SEQPACKET
    pair instead of a pipe: every write(2) it makes arrives as one record, so
    the boundaries between its writes are kept (``Completed.records``), and
    ``record_size`` is the buffer size stdio picks for such a descriptor.
    """
    argv = [str(part) for part in argv]
    if not argv or not argv[0]:
        raise ProcessError('empty command')
    deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
    parent_sock = child_sock = None
    record_size = 0
    if records:
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        record_size = os.fstat(child_sock.fileno()).st_blksize
    try:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL,
            stdout=child_sock.fileno() if child_sock is not None else subprocess.PIPE,
            stderr=subprocess.PIPE, env=dict(env) if env is not None else None, cwd=cwd,
            close_fds=True, start_new_session=True)
    except FileNotFoundError:
        if parent_sock is not None:
            parent_sock.close()
        raise ProcessError('%s: command not found' % argv[0]) from None
    except OSError as exc:
        if parent_sock is not None:
            parent_sock.close()
        raise ProcessError('cannot run %s: %s' % (argv[0], exc)) from None
    finally:
        if child_sock is not None:
            child_sock.close()

    out_chunks: list[bytes] = []
    err_chunks: list[bytes] = []
    selector = selectors.DefaultSelector()
    if parent_sock is not None:
        parent_sock.setblocking(False)
        selector.register(parent_sock, selectors.EVENT_READ, 'records')
    else:
        os.set_blocking(process.stdout.fileno(), False)  # type: ignore[union-attr]
        selector.register(process.stdout, selectors.EVENT_READ, 'stdout')
    os.set_blocking(process.stderr.fileno(), False)  # type: ignore[union-attr]
    selector.register(process.stderr, selectors.EVENT_READ, 'stderr')

    timed_out = False
    phase = 'run'  # then 'term' (SIGTERM sent, grace running), then 'kill' (SIGKILL sent, last reads)
    limit = deadline
    try:
        while selector.get_map() or process.poll() is None:
            now = time.monotonic()
            if limit is not None and now >= limit:
                if phase == 'run':
                    timed_out = True
                    _kill_group(process, signal.SIGTERM)
                    phase, limit = 'term', now + term_grace
                elif phase == 'term':
                    _kill_group(process, signal.SIGKILL)
                    # Something that left the group may hold the output open: read a little longer only.
                    phase, limit = 'kill', now + 2.0
                else:
                    break
                continue
            wait = None if limit is None else limit - now
            if not selector.get_map():
                # The output is closed; the program itself has not exited yet.
                try:
                    process.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    pass
                continue
            for key, _events in selector.select(timeout=wait):
                data = _read_ready(key.fileobj, key.data)
                if data is None:
                    continue
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                (err_chunks if key.data == 'stderr' else out_chunks).append(data)
    finally:
        selector.close()
        if parent_sock is not None:
            parent_sock.close()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        if timed_out:
            _kill_group(process, signal.SIGKILL)
        try:
            process.wait(timeout=10.0)
        except subprocess.TimeoutExpired:
            pass
    return Completed(argv=argv, rc=process.returncode, stdout=b''.join(out_chunks), stderr=b''.join(err_chunks),
                     timed_out=timed_out, records=out_chunks if records else [], record_size=record_size)


def _read_ready(fileobj: object, kind: str) -> bytes | None:
    """One read from a ready stream: bytes, b'' at EOF, None when nothing was there after all."""
    try:
        if kind == 'records':
            return fileobj.recv(1 << 20)  # type: ignore[attr-defined]
        return os.read(fileobj.fileno(), 1 << 16)  # type: ignore[attr-defined]
    except (BlockingIOError, InterruptedError):
        return None
