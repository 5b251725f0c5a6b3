# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Network namespaces and daemons for the integration tests (needs root).

Every namespace, veth and bridge made here carries one random prefix
(``cnb`` + 4 hex digits) so that several runs can share a machine, and is
deleted when the test ends: by the pytest fixtures in ``conftest.py``, and,
should the process be stopped early, by an ``atexit`` hook and SIGTERM/SIGHUP
handlers. Addresses (10.x) live only inside these namespaces; veth pairs are
created inside a namespace, so nothing ever appears in the host's namespace.
Processes are started and stopped by PID only.
"""

from __future__ import annotations

import atexit
import os
import secrets
import signal
import subprocess
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

IP = 'ip'
IFNAMSIZ = 15
DEFAULT_TIMEOUT = 60

# Namespaces still to delete, whoever made them: the last-resort cleanup.
_LIVE_NAMESPACES: set[str] = set()
_LIVE_LOCK = threading.Lock()


def run(argv: t.Sequence[str], *, check: bool = True, timeout: float = DEFAULT_TIMEOUT,
        **kwargs: t.Any) -> subprocess.CompletedProcess[str]:
    """Run a command on the host, capturing text output; raise with its stderr when it fails."""
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if check and result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout, result.stderr)
    return result


def ns_exec(ns: str | Namespace, argv: t.Sequence[str], *, check: bool = True, timeout: float = DEFAULT_TIMEOUT,
            **kwargs: t.Any) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` inside namespace ``ns`` and wait for it (text output captured)."""
    return run([IP, 'netns', 'exec', str(ns), *argv], check=check, timeout=timeout, **kwargs)


def ns_popen(ns: str | Namespace | None, argv: t.Sequence[str], **kwargs: t.Any) -> subprocess.Popen:
    """Start ``argv`` inside namespace ``ns`` (or on the host for None) without waiting.

    ``ip netns exec`` replaces itself with the command, so the PID of the
    returned Popen is the command's own PID.
    """
    command = list(argv) if ns is None else [IP, 'netns', 'exec', str(ns), *argv]
    return subprocess.Popen(command, **kwargs)  # pylint: disable=consider-using-with


def wait_for(predicate: t.Callable[[], t.Any], timeout: float = 10.0, interval: float = 0.1,
             what: str = 'condition') -> t.Any:
    """Poll ``predicate`` until it returns something true; return that, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f'timed out after {timeout:g}s waiting for {what}')
        time.sleep(interval)


def _delete_namespace(name: str) -> None:
    """Kill what still runs in ``name`` (only our own processes can be there), then delete it."""
    pids = run([IP, 'netns', 'pids', name], check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    run([IP, 'netns', 'delete', name], check=False)
    with _LIVE_LOCK:
        _LIVE_NAMESPACES.discard(name)


def cleanup_all() -> None:
    """Delete every namespace this process made and has not deleted yet."""
    with _LIVE_LOCK:
        names = sorted(_LIVE_NAMESPACES)
    for name in names:
        _delete_namespace(name)


def namespace_exists(name: str) -> bool:
    """Tell whether a network namespace of that name is mounted."""
    return Path('/run/netns', name).exists()


@dataclass(frozen=True)
class Namespace:
    """A network namespace made by a NetnsFactory."""

    name: str

    def __str__(self) -> str:
        return self.name

    def exec(self, argv: t.Sequence[str], **kwargs: t.Any) -> subprocess.CompletedProcess[str]:
        """Run a command inside this namespace and wait for it."""
        return ns_exec(self, argv, **kwargs)

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``ip -n NAME ARGS...``."""
        return run([IP, '-n', self.name, *args], check=check)

    def add_address(self, ifname: str, cidr: str) -> None:
        """Add an IPv4/IPv6 address with its broadcast address (``brd +``) and bring the link up."""
        if ':' in cidr:
            self.ip('addr', 'add', cidr, 'dev', ifname)
        else:
            self.ip('addr', 'add', cidr, 'brd', '+', 'dev', ifname)
        self.ip('link', 'set', ifname, 'up')

    def listening(self, port: int, proto: str = 'udp') -> bool:
        """Tell whether something listens on ``port`` (udp or tcp) in this namespace."""
        flag = '-lnu' if proto == 'udp' else '-lnt'
        output = self.exec(['ss', '-H', flag, f'sport = :{port}']).stdout
        return bool(output.strip())


@dataclass
class NetnsFactory:
    """Makes namespaces, veth links and bridges for one test, and deletes them all."""

    prefix: str = field(default_factory=lambda: 'cnb' + secrets.token_hex(2))
    namespaces: list[Namespace] = field(default_factory=list)
    _counter: int = 0

    def _name(self, suffix: str) -> str:
        name = f'{self.prefix}-{suffix}'
        if len(name) > IFNAMSIZ:
            raise ValueError(f'{name!r} is longer than {IFNAMSIZ} characters: use a shorter suffix')
        return name

    def namespace(self, suffix: str | None = None) -> Namespace:
        """Create a namespace named ``<prefix>-<suffix>`` with ``lo`` up."""
        self._counter += 1
        name = self._name(suffix or f'n{self._counter}')
        with _LIVE_LOCK:
            _LIVE_NAMESPACES.add(name)
        run([IP, 'netns', 'add', name])
        namespace = Namespace(name)
        self.namespaces.append(namespace)
        namespace.ip('link', 'set', 'lo', 'up')
        return namespace

    def veth(self, ns_a: Namespace, ns_b: Namespace, cidr_a: str | None = None, cidr_b: str | None = None,
             name_a: str | None = None, name_b: str | None = None) -> tuple[str, str]:
        """Link two namespaces with a veth pair; optionally address and raise both ends.

        Returns the interface names (in ns_a, in ns_b). The pair is created
        inside ns_a and its peer moved straight into ns_b.
        """
        self._counter += 1
        name_a = name_a or self._name(f'v{self._counter}a')
        name_b = name_b or self._name(f'v{self._counter}b')
        ns_a.ip('link', 'add', name_a, 'type', 'veth', 'peer', 'name', name_b, 'netns', ns_b.name)
        for namespace, ifname, cidr in ((ns_a, name_a, cidr_a), (ns_b, name_b, cidr_b)):
            if cidr:
                namespace.add_address(ifname, cidr)
            else:
                namespace.ip('link', 'set', ifname, 'up')
        return name_a, name_b

    def bridge(self, namespace: Namespace, cidr: str | None = None, name: str | None = None) -> str:
        """Create a bridge inside ``namespace`` (optionally with an address, ``brd +``); return its name."""
        self._counter += 1
        name = name or self._name(f'br{self._counter}')
        namespace.ip('link', 'add', name, 'type', 'bridge')
        if cidr:
            namespace.add_address(name, cidr)
        else:
            namespace.ip('link', 'set', name, 'up')
        return name

    def attach(self, bridge_ns: Namespace, bridge: str, other: Namespace, cidr: str | None = None,
               name: str | None = None) -> str:
        """Join ``other`` to ``bridge`` (in ``bridge_ns``) with a veth; return the interface name in ``other``."""
        bridge_end, other_end = self.veth(bridge_ns, other, cidr_b=cidr, name_b=name)
        bridge_ns.ip('link', 'set', bridge_end, 'master', bridge)
        return other_end

    def cleanup(self) -> None:
        """Delete every namespace this factory made (processes in them are killed first)."""
        for namespace in reversed(self.namespaces):
            _delete_namespace(namespace.name)
        self.namespaces.clear()


@dataclass
class ManagedProcess:
    """A process started by a ProcessManager; stdout/stderr go to ``log_path``."""

    popen: subprocess.Popen
    argv: list[str]
    log_path: Path
    namespace: str | None

    @property
    def pid(self) -> int:
        """The process ID."""
        return self.popen.pid

    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors='replace')

    def running(self) -> bool:
        """Tell whether the process still runs."""
        return self.popen.poll() is None


@dataclass
class ProcessManager:
    """Starts daemons (inside namespaces) and stops exactly those PIDs at teardown."""

    log_dir: Path
    processes: list[ManagedProcess] = field(default_factory=list)
    term_timeout: float = 5.0

    def start(self, argv: t.Sequence[str], ns: str | Namespace | None = None, **kwargs: t.Any) -> ManagedProcess:
        """Start ``argv`` in ``ns`` (host if None), output to a log file; extra Popen arguments pass through."""
        index = len(self.processes) + 1
        log_path = self.log_dir / f'{index:02d}-{Path(argv[0]).name}.log'
        with open(log_path, 'wb') as log_file:
            kwargs.setdefault('stdin', subprocess.DEVNULL)
            kwargs.setdefault('stdout', log_file)
            kwargs.setdefault('stderr', subprocess.STDOUT)
            popen = ns_popen(ns, argv, **kwargs)
        process = ManagedProcess(popen, list(argv), log_path, None if ns is None else str(ns))
        self.processes.append(process)
        return process

    def stop(self, process: ManagedProcess) -> int:
        """SIGTERM, wait, then SIGKILL this one process; return its exit status."""
        if process.popen.poll() is None:
            process.popen.send_signal(signal.SIGTERM)
            try:
                process.popen.wait(timeout=self.term_timeout)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=self.term_timeout)
        return process.popen.returncode

    def stop_all(self) -> None:
        """Stop every process started here, newest first."""
        for process in reversed(self.processes):
            self.stop(process)


def _on_signal(signum: int, _frame: t.Any) -> None:
    # Turned into KeyboardInterrupt so pytest runs the fixture finalizers;
    # the atexit hook catches whatever they miss.
    raise KeyboardInterrupt(f'signal {signum}')


def install_safety_net() -> None:
    """Register the atexit cleanup and SIGTERM/SIGHUP handlers (main thread only)."""
    atexit.register(cleanup_all)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) in (signal.SIG_DFL, None):
                signal.signal(signum, _on_signal)
