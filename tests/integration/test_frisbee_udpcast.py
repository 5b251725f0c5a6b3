# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""cluster.netboot.frisbee_server with the udpcast backend against real udp-sender/udp-receiver.

The module runs through ansible-playbook (the run_playbook fixture) but inside
the sender's network namespace: the playbook's Python interpreter is a
wrapper that enters the namespace, so the servers the module starts
multicast there and nowhere else. Receivers join from their own namespaces
on the sender's bridge (two receivers of one host would fight over the port).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import signal
import sys
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import netns

PR_SET_CHILD_SUBREAPER = 36


@pytest.fixture(scope='module', autouse=True)
def reap_orphaned_servers():
    """Make this test process the subreaper of the servers the module detaches.

    The servers outlive the module process; without a subreaper they end up
    under PID 1, and an init that does not reap leaves them as zombies. As our
    children they are reaped by PID at teardown.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    enabled = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    yield
    if enabled:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def start_ticks(pid: int) -> int | None:
    try:
        with open(f'/proc/{pid}/stat', encoding='utf-8') as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == 'Z' else int(fields[19])


def server_running(session: dict[str, t.Any]) -> bool:
    return start_ticks(session['pid']) == session['start_ticks']


def reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def kill_server(session: dict[str, t.Any], signum: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Signal a server recorded in the registry, only while it is still that process; wait for it."""
    if server_running(session):
        os.kill(session['pid'], signum)
    deadline = time.monotonic() + timeout
    while server_running(session) and time.monotonic() < deadline:
        reap(session['pid'])
        time.sleep(0.05)
    reap(session['pid'])


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Fabric:
    """A sender namespace with a bridge, receivers joined to it, and the module pointed at it."""

    factory: netns.NetnsFactory
    processes: netns.ProcessManager
    run_playbook: t.Callable[..., t.Any]
    workdir: Path
    sender: netns.Namespace
    bridge: str
    interpreter: Path
    state_dir: Path
    receivers: list[tuple[netns.Namespace, str]] = field(default_factory=list)

    def registry(self) -> list[dict[str, t.Any]]:
        path = self.state_dir / 'sessions.json'
        if not path.exists():
            return []
        return json.loads(path.read_text())['sessions']

    def image(self, name: str, size: int) -> Path:
        path = self.workdir / 'images' / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(os.urandom(size))
        return path

    def receiver(self) -> tuple[netns.Namespace, str]:
        index = len(self.receivers) + 1
        namespace = self.factory.namespace(f'r{index}')
        ifname = self.factory.attach(self.sender, self.bridge, namespace, f'10.77.40.{10 + index}/24')
        namespace.ip('route', 'add', '224.0.0.0/4', 'dev', ifname)
        self.receivers.append((namespace, ifname))
        return namespace, ifname

    def module(self, **args: t.Any) -> t.Any:
        """One run of the module through ansible-playbook, inside the sender's namespace."""
        args.setdefault('state_dir', str(self.state_dir))
        if args.get('state', 'started') == 'started':
            args.setdefault('backend', 'udpcast')
            args.setdefault('interface', self.bridge)
            args.setdefault('idle_timeout', 300)
        play = [{'name': 'frisbee_server', 'hosts': 'localhost', 'gather_facts': False,
                 'tasks': [{'name': 'session', 'cluster.netboot.frisbee_server': args}]}]
        result = self.run_playbook(play, extravars={'ansible_python_interpreter': str(self.interpreter)})
        assert result.rc == 0, result
        return result.task('session')

    def receive(self, session: t.Any, target: Path, receiver: tuple[netns.Namespace, str] | None = None) -> netns.ManagedProcess:
        namespace, ifname = receiver or self.receiver()
        argv = ['udp-receiver', '--nokbd', '--interface', ifname, *session['session']['receiver_args'],
                '--file', str(target), '--start-timeout', '60']
        return self.processes.start(argv, ns=namespace)


@pytest.fixture
def fabric(netns_factory, processes, run_playbook, require_programs, tmp_path) -> t.Iterator[Fabric]:
    require_programs('udp-sender', 'udp-receiver')
    sender = netns_factory.namespace('srv')
    bridge = netns_factory.bridge(sender, '10.77.40.1/24')
    # Without a route for the groups the sender's multicast would have nowhere to go.
    sender.ip('route', 'add', '224.0.0.0/4', 'dev', bridge)
    interpreter = tmp_path / 'python-in-sender-ns'
    interpreter.write_text(f'#!/bin/sh\nexec ip netns exec {sender.name} {sys.executable} "$@"\n')
    interpreter.chmod(0o755)
    fab = Fabric(netns_factory, processes, run_playbook, tmp_path, sender, bridge, interpreter, tmp_path / 'state')
    try:
        yield fab
    finally:
        # Stop every server the module left running (recorded identity only),
        # before the namespaces go.
        for session in fab.registry():
            kill_server(session)


def test_two_images_at_once_get_their_own_sessions_and_bytes(fabric):
    images = [fabric.image('orbit-2.0.ndz', 3 * 1024 * 1024 + 123), fabric.image('grid-worker.img', 2 * 1024 * 1024 + 7)]
    results: dict[Path, t.Any] = {}

    def start(image: Path) -> None:
        results[image] = fabric.module(image=str(image))

    threads = [threading.Thread(target=start, args=(image,)) for image in images]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sessions = [results[image] for image in images]
    assert all(s.changed for s in sessions)
    pairs = {(s['address'], s['port']) for s in sessions}
    assert len(pairs) == 2
    assert len({s['address'] for s in sessions}) == 2
    assert len({s['port'] for s in sessions}) == 2
    assert all(s['port'] % 2 == 0 for s in sessions)
    assert not set(sessions[0]['session']['ports']) & set(sessions[1]['session']['ports'])

    # The same image again: the same session, untouched.
    again = fabric.module(image=str(images[0]))
    assert not again.changed
    assert (again['address'], again['port'], again['pid']) == (sessions[0]['address'], sessions[0]['port'], sessions[0]['pid'])

    entries = {entry['id']: entry for entry in fabric.registry()}
    targets = [fabric.workdir / f'received-{index}' for index in range(2)]
    receivers = [fabric.receive(session, target) for session, target in zip(sessions, targets)]
    for receiver in receivers:
        assert receiver.popen.wait(timeout=120) == 0, receiver.log()
    for image, target in zip(images, targets):
        assert target.stat().st_size == image.stat().st_size
        assert sha256(target) == sha256(image)

    # Each sender served its one transfer and exited: the next call reaps both.
    for entry in entries.values():
        netns.wait_for(lambda e=entry: not server_running(e), timeout=30, what='udp-sender to exit after the transfer')
        reap(entry['pid'])
    query = fabric.module(state='query')
    assert not query.changed
    assert sorted(r['id'] for r in query['reaped']) == sorted(entries)
    assert all(r['progress']['phase'] == 'complete' for r in query['reaped']), query['reaped']
    assert fabric.registry() == []


def test_a_killed_server_is_reaped_by_the_next_call(fabric):
    image = fabric.image('killed.img', 512 * 1024)
    started = fabric.module(image=str(image))
    assert started.changed
    [entry] = fabric.registry()
    assert entry['pid'] == started['pid'] and server_running(entry)

    kill_server(entry, signal.SIGKILL)
    assert not server_running(entry)

    query = fabric.module(state='query', image=str(image), backend='udpcast')
    assert [r['pid'] for r in query['reaped']] == [started['pid']]
    assert query['session']['alive'] is False
    assert fabric.registry() == []
    assert not (fabric.state_dir / (entry['id'] + '.pid')).exists()

    restarted = fabric.module(image=str(image))
    assert restarted.changed and restarted['pid'] != started['pid']
    stopped = fabric.module(image=str(image), backend='udpcast', state='stopped')
    assert stopped.changed and stopped['session']['stopped_by'] == 'terminated'
    assert not fabric.module(image=str(image), backend='udpcast', state='stopped').changed


def test_a_server_that_dies_at_once_leaves_nothing_recorded(fabric):
    image = fabric.image('bad-interface.img', 4096)
    play = [{'name': 'frisbee_server', 'hosts': 'localhost', 'gather_facts': False,
             'tasks': [{'name': 'session', 'cluster.netboot.frisbee_server': {
                 'image': str(image), 'backend': 'udpcast', 'interface': 'cnbnosuch0', 'state_dir': str(fabric.state_dir)}}]}]
    result = fabric.run_playbook(play, extravars={'ansible_python_interpreter': str(fabric.interpreter)})
    assert result.rc != 0
    message = result.task('session')['msg']
    assert 'exited at once with code 1' in message, message
    assert 'No suitable network interface found' in message, message
    assert fabric.registry() == []


def test_eight_concurrent_playbooks_get_eight_distinct_sessions(fabric):
    images = [fabric.image(f'node-group-{index}.img', 64 * 1024 + index) for index in range(8)]
    barrier = threading.Barrier(len(images))
    results: dict[Path, t.Any] = {}
    errors: list[BaseException] = []

    def start(image: Path) -> None:
        try:
            barrier.wait(timeout=30)
            results[image] = fabric.module(image=str(image))
        except BaseException as exc:  # pylint: disable=broad-exception-caught
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(image,)) for image in images]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors
    assert len(results) == 8 and all(r.changed for r in results.values())
    pairs = {(r['address'], r['port']) for r in results.values()}
    assert len(pairs) == 8
    assert len({r['address'] for r in results.values()}) == 8
    ports = [p for r in results.values() for p in r['session']['ports']]
    assert len(ports) == len(set(ports)) == 16

    registry = fabric.registry()
    assert sorted(entry['image'] for entry in registry) == sorted(str(image) for image in images)
    assert sorted(entry['pid'] for entry in registry) == sorted(r['pid'] for r in results.values())
    assert all(server_running(entry) for entry in registry)


def test_a_session_two_runs_share_survives_the_first_runs_end(fabric):
    """Two imaging runs (users) in one session: the first to leave does not stop the real udp-sender."""
    image = fabric.image('shared.img', 256 * 1024)
    first = fabric.module(image=str(image), user='run-1')
    second = fabric.module(image=str(image), user='run-2')
    assert first.changed and second.changed and second['pid'] == first['pid']
    assert second['session']['users'] == ['run-1', 'run-2']
    entry = fabric.registry()[0]

    left = fabric.module(image=str(image), state='stopped', user='run-1')
    assert left.changed and left['session']['users'] == ['run-2']
    assert server_running(entry), 'the first run stopped the session the second still uses'
    # The second run's node still gets the image from it.
    target = fabric.workdir / 'received'
    receiver = fabric.receive(second, target)
    assert receiver.popen.wait(timeout=120) == 0, receiver.log()
    assert sha256(target) == sha256(image)

    fabric.module(image=str(image), state='stopped', user='run-2')
    netns.wait_for(lambda: not server_running(entry), timeout=30, what='the session to stop with its last user')
