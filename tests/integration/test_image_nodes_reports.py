# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The image_nodes report receiver for real: a detached HTTP server on loopback, reports as the
imaging ramdisk sends them (busybox wget GETs), and the verdicts of the progress query."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

TOKEN = '0123abcd'
SHA_A = 'a' * 64


# The report receiver as the roles run it: installed by cluster.netboot.receiver_program (the autouse fixture).
INSTALLED: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def installed(receiver_program) -> None:
    INSTALLED['report'] = receiver_program('report')


def program() -> str:
    return str(INSTALLED['report'])


def run(*args: str) -> dict:
    completed = subprocess.run([sys.executable, program(), *args], capture_output=True, text=True, timeout=60,
                               check=True)
    return json.loads(completed.stdout)


@pytest.fixture
def receiver(tmp_path: Path):
    nodes = [
        {'name': 'n1', 'mac': '52:54:00:00:00:01', 'ip': '127.0.0.1', 'group': 'g1', 'image': '/i/a.img', 'sha256': SHA_A},
        {'name': 'n2', 'mac': '52:54:00:00:00:02', 'ip': '127.0.0.2', 'group': 'g1', 'image': '/i/a.img', 'sha256': SHA_A},
        {'name': 'n3', 'mac': '52:54:00:00:00:03', 'ip': '127.0.0.3', 'group': 'g2', 'image': '/i/b.img', 'sha256': ''},
        {'name': 'n4', 'mac': '52:54:00:00:00:04', 'ip': '127.0.0.4', 'group': 'g2', 'image': '/i/b.img', 'sha256': ''},
    ]
    (tmp_path / 'nodes.json').write_text(json.dumps(nodes))
    started = run('serve', '--dir', str(tmp_path), '--bind', '127.0.0.1', '--token', TOKEN, '--daemon')
    try:
        yield tmp_path, started['port']
    finally:
        stopped = run('stop', '--dir', str(tmp_path))
        assert stopped['stopped'] and stopped['pid'] == started['pid']
        deadline = time.time() + 10
        while os.path.exists('/proc/%d' % started['pid']) and time.time() < deadline:
            time.sleep(0.1)
        assert not os.path.exists('/proc/%d/cmdline' % started['pid']) or \
            b'serve' not in Path('/proc/%d/cmdline' % started['pid']).read_bytes()


def report(port: int, path: str = '/%s/report' % TOKEN, **query: str) -> int:
    url = 'http://127.0.0.1:%d%s?%s' % (port, path, urllib.parse.urlencode(query))
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def by_name(result: dict) -> dict:
    return {node['name']: node for node in result['nodes']}


def test_reports_become_per_node_verdicts(receiver):
    run_dir, port = receiver
    # The first query starts the clock, as right after the power reset.
    first = run('wait', '--dir', str(run_dir), '--poll', '0')
    assert not first['done'] and first['final'] == 0
    assert report(port, mac='52:54:00:00:00:01', ip='127.0.0.1', phase='boot', result='ok', seconds='20',
                  secure_boot='on') == 200
    assert report(port, mac='52:54:00:00:00:01', ip='127.0.0.1', phase='done', result='ok', sha256=SHA_A,
                  detail='match', seconds='61', receive_seconds='12', verify_seconds='30', secure_boot='on') == 200
    # A node whose disk did not read back right, one that says ok with the wrong checksum,
    # and a wrong token (another run) that must be ignored.
    assert report(port, mac='52:54:00:00:00:02', ip='127.0.0.2', phase='done', result='ok', sha256='b' * 64,
                  detail='match', seconds='50', secure_boot='n/a') == 200
    # A Secure Boot value the ramdisk never sends is not shown.
    assert report(port, mac='52:54:00:00:00:03', ip='127.0.0.3', phase='receive', result='failed',
                  detail='receiver-exit-137', seconds='700', secure_boot='<b>on</b>') == 200
    assert report(port, path='/other/report', mac='52:54:00:00:00:04', phase='done', result='ok') == 404
    result = run('wait', '--dir', str(run_dir), '--poll', '5', '--power-failed=n4=QMP socket missing')
    assert result['done']
    nodes = by_name(result)
    assert (nodes['n1']['result'], nodes['n1']['verdict'], nodes['n1']['seconds']) == ('ok', 'match', 61)
    assert (nodes['n2']['result'], nodes['n2']['verdict']) == ('failed', 'mismatch')
    assert (nodes['n3']['result'], nodes['n3']['phase'], nodes['n3']['detail']) == ('failed', 'receive', 'receiver-exit-137')
    assert (nodes['n4']['result'], nodes['n4']['detail']) == ('failed', 'power: QMP socket missing')
    assert result['failed'] == ['n2', 'n3', 'n4'] and result['ok'] == 1
    # Whether the firmware had Secure Boot on, as each ramdisk read it (n/a: BIOS), in the table.
    assert [nodes[name]['secure_boot'] for name in ('n1', 'n2', 'n3', 'n4')] == ['on', 'n/a', '', '']
    assert [line.split()[-2] for line in result['table'][1:3]] == ['on', 'n/a']
    # The first report's time (the boot phase) is kept: power reset to ramdisk for bench/imaging.
    assert nodes['n1']['first_report'] <= nodes['n1']['last_report']
    assert result['table'][0].split() == ['GROUP', 'IMAGE', 'NODE', 'MAC', 'IP', 'PHASE', 'RESULT', 'SECONDS',
                                          'RECEIVE', 'CHECKSUM', 'SECURE', 'BOOT', 'LOG']
    assert json.loads((run_dir / 'summary.json').read_text())['ok'] == 1


def test_silent_nodes_fail_on_the_boot_timeout_and_finish_ends_the_rest(receiver):
    run_dir, port = receiver
    run('wait', '--dir', str(run_dir), '--poll', '0')
    assert report(port, mac='52:54:00:00:00:03', ip='127.0.0.3', phase='receive', result='started') == 200
    assert report(port, mac='52:54:00:00:00:04', ip='127.0.0.4', phase='done', result='ok', sha256='c' * 64,
                  detail='unchecked') == 200
    time.sleep(1.5)
    result = run('wait', '--dir', str(run_dir), '--poll', '0', '--boot-timeout', '1')
    nodes = by_name(result)
    assert 'did not boot' in nodes['n1']['detail'] and nodes['n1']['final']
    assert not nodes['n3']['final'] and nodes['n3']['phase'] == 'receive'
    assert (nodes['n4']['result'], nodes['n4']['verdict']) == ('ok', 'unchecked')
    assert not result['done']
    # The run is over (a failed task, an interrupt): whatever is under way is failed.
    result = run('wait', '--dir', str(run_dir), '--poll', '30', '--boot-timeout', '1', '--finish')
    assert result['done'] and 'interrupted' in by_name(result)['n3']['detail']


def test_a_retry_round_waits_for_its_own_nodes_and_counts_only_their_new_reports(receiver):
    run_dir, port = receiver
    run('wait', '--dir', str(run_dir), '--poll', '0')
    assert report(port, mac='52:54:00:00:00:02', ip='127.0.0.2', phase='receive', result='failed',
                  detail='receiver-exit-1') == 200
    time.sleep(0.05)
    # The retry of n2: its nodes are recorded before its reset; its earlier failure no longer counts.
    nodes = json.loads((run_dir / 'nodes.json').read_text())
    (run_dir / 'nodes-2.json').write_text(json.dumps([node for node in nodes if node['name'] == 'n2']))
    second = run('wait', '--dir', str(run_dir), '--poll', '0', '--round', '2')
    assert [(node['name'], node['final'], node['phase']) for node in second['nodes']] == [('n2', False, 'none')]
    assert report(port, mac='52:54:00:00:00:02', ip='127.0.0.2', phase='done', result='ok', sha256=SHA_A,
                  detail='match') == 200
    second = run('wait', '--dir', str(run_dir), '--poll', '5', '--round', '2')
    assert second['done'] and second['ok'] == 1
    assert json.loads((run_dir / 'summary-2.json').read_text())['ok'] == 1
    # The first round still sees its own failure.
    first = by_name(run('wait', '--dir', str(run_dir), '--poll', '0', '--finish'))
    assert first['n2']['detail'] == 'receiver-exit-1'


def start_locked(run_dir: Path, nodes: list[dict], lock_dir: Path, run_id: str,
                 *extra: str) -> subprocess.CompletedProcess:
    run_dir.mkdir()
    (run_dir / 'nodes.json').write_text(json.dumps(nodes))
    return subprocess.run([sys.executable, program(), 'serve', '--dir', str(run_dir), '--bind', '127.0.0.1',
                           '--token', TOKEN, '--daemon', '--lock-dir', str(lock_dir), '--run-id', run_id, *extra],
                          capture_output=True, text=True, timeout=60, check=False)


def gone(pid: int) -> bool:
    try:
        return b'serve' not in Path('/proc/%d/cmdline' % pid).read_bytes()
    except OSError:
        return True


def test_a_second_run_over_the_same_nodes_is_refused_and_a_killed_runs_locks_do_not_block(tmp_path: Path):
    locks = tmp_path / 'locks'
    n1 = {'name': 'n1', 'mac': '52:54:00:00:00:01', 'ip': '10.0.0.1'}
    n2 = {'name': 'n2', 'mac': '52:54:00:00:00:02', 'ip': '10.0.0.2'}
    n3 = {'name': 'n3', 'mac': '52:54:00:00:00:03', 'ip': '10.0.0.3'}
    first = start_locked(tmp_path / 'run-a', [n1, n2], locks, 'run-a')
    assert first.returncode == 0, first.stderr
    pid = json.loads(first.stdout)['pid']
    try:
        # n2 under another name, same MAC: refused before anything, naming the node and the other run.
        second = start_locked(tmp_path / 'run-b', [dict(n2, name='other-name'), n3], locks, 'run-b')
        assert second.returncode != 0
        assert 'other-name' in second.stderr and 'run-a' in second.stderr, second.stderr
        assert not (tmp_path / 'run-b' / 'receiver.json').exists()
        # The refused run kept no lock: a third run over n3 alone goes ahead.
        third = start_locked(tmp_path / 'run-c', [n3], locks, 'run-c')
        assert third.returncode == 0, third.stderr
        run('stop', '--dir', str(tmp_path / 'run-c'))
    finally:
        # The first run is killed: the kernel drops its locks with its receiver.
        os.kill(pid, 9)
        deadline = time.time() + 10
        while not gone(pid) and time.time() < deadline:
            time.sleep(0.1)
    fourth = start_locked(tmp_path / 'run-d', [n1, n2, n3], locks, 'run-d')
    assert fourth.returncode == 0, fourth.stderr
    run('stop', '--dir', str(tmp_path / 'run-d'))


def test_the_receiver_of_a_run_that_shows_no_life_exits_and_frees_its_nodes(tmp_path: Path):
    locks = tmp_path / 'locks'
    node = {'name': 'n1', 'mac': '52:54:00:00:00:01', 'ip': '10.0.0.1'}
    orphan = start_locked(tmp_path / 'run-a', [node], locks, 'run-a', '--orphan-timeout', '2')
    assert orphan.returncode == 0, orphan.stderr
    pid = json.loads(orphan.stdout)['pid']
    # A run that queries its progress stays alive past the timeout.
    for _round in range(3):
        time.sleep(1)
        run('wait', '--dir', str(tmp_path / 'run-a'), '--poll', '0')
    assert not gone(pid)
    # Its playbook was killed: no more queries, the receiver ends, the nodes are free.
    deadline = time.time() + 15
    while not gone(pid) and time.time() < deadline:
        time.sleep(0.2)
    assert gone(pid)
    assert start_locked(tmp_path / 'run-b', [node], locks, 'run-b').returncode == 0
    run('stop', '--dir', str(tmp_path / 'run-b'))


def test_a_report_delivered_twice_does_not_move_the_node_back(receiver):
    """The ramdisk retries a report whose answer is late; the late first delivery can land after the node's
    next report. Seen in the simulator: a node's boot report, taken 12 s late, after its receive report, left
    the node "in phase boot" when it timed out."""
    run_dir, port = receiver
    run('wait', '--dir', str(run_dir), '--poll', '0')
    boot = dict(mac='52:54:00:00:00:03', ip='127.0.0.3', phase='boot', result='ok', seconds='11')
    assert report(port, **boot) == 200
    assert report(port, mac='52:54:00:00:00:03', ip='127.0.0.3', phase='receive', result='started', seconds='23') == 200
    assert report(port, **boot) == 200  # the first try, answered at last
    node = by_name(run('wait', '--dir', str(run_dir), '--poll', '0'))['n3']
    assert (node['phase'], node['result'], node['final']) == ('receive', 'started', False), node
    # A later boot of the node (another uptime) is news: the node rebooted.
    assert report(port, mac='52:54:00:00:00:03', ip='127.0.0.3', phase='boot', result='ok', seconds='9') == 200
    assert by_name(run('wait', '--dir', str(run_dir), '--poll', '0'))['n3']['phase'] == 'boot'


def test_nodes_that_report_at_once_wait_in_the_queue_while_the_receiver_is_busy(receiver):
    """Hundreds of nodes report within a second or two. While the receiver is busy the kernel must queue
    their connections: with the default listen queue of 5 the others' handshakes were dropped and their
    reports came 10 s and more late (the ramdisk's wget gives up after 10 s and tries again)."""
    run_dir, port = receiver
    pid = json.loads((run_dir / 'receiver.json').read_text())['pid']
    count = 128
    sockets = []
    os.kill(pid, signal.SIGSTOP)
    try:
        for _index in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex(('127.0.0.1', port))
            sockets.append(sock)
        # Loopback handshakes complete in the kernel at once, or never while the queue is full.
        connected: set[socket.socket] = set()
        deadline = time.monotonic() + 3
        while len(connected) < count and time.monotonic() < deadline:
            _readable, writable, _errors = select.select([], [s for s in sockets if s not in connected], [], 0.2)
            connected.update(s for s in writable if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
        assert len(connected) == count, '%d of %d connections queued' % (len(connected), count)
    finally:
        os.kill(pid, signal.SIGCONT)
    for index, sock in enumerate(sockets):
        sock.setblocking(True)
        sock.settimeout(30)
        sock.sendall(('GET /%s/report?mac=52:54:00:00:00:04&ip=127.0.0.4&phase=boot&result=ok&seconds=%d '
                      'HTTP/1.0\r\n\r\n' % (TOKEN, index)).encode())
    for sock in sockets:
        with sock:
            assert sock.makefile('rb').readline().split()[1] == b'200'
    assert by_name(run('wait', '--dir', str(run_dir), '--poll', '0'))['n4']['reports'] == count


def post(port: int, kind: str, body: bytes, token: str = TOKEN, **query: str) -> int:
    """A POST as the ramdisk sends it: busybox wget --post-file."""
    path = Path(os.environ.get('TMPDIR', '/tmp')) / ('cnb-post-%d' % os.getpid())
    path.write_bytes(body)
    try:
        done = subprocess.run(['busybox', 'wget', '-q', '-S', '-O', '/dev/null', '--post-file', str(path),
                               'http://127.0.0.1:%d/%s/%s?%s' % (port, token, kind, urllib.parse.urlencode(query))],
                              capture_output=True, text=True, timeout=30, check=False)
    finally:
        path.unlink()
    status = [line.split()[1] for line in done.stderr.splitlines() if line.strip().startswith('HTTP/')]
    return int(status[-1]) if status else -1


def test_console_logs_and_facts_are_kept_per_run_and_the_table_names_the_log(receiver):
    run_dir, port = receiver
    run('wait', '--dir', str(run_dir), '--poll', '0')
    assert report(port, mac='52:54:00:00:00:01', ip='127.0.0.1', phase='receive', result='failed',
                  detail='receiver-exit-1') == 200
    assert post(port, 'log', b'cnb-imaging[3s]: first\n', mac='52:54:00:00:00:01', node='n1') == 200
    # The last post wins (the log at the end holds the whole run).
    assert post(port, 'log', b'cnb-imaging[3s]: first\ncnb-imaging[9s]: FAILED\n', mac='52:54:00:00:00:01') == 200
    assert post(port, 'facts', b'boot\teth0\t52:54:00:00:00:09\n', mac='52:54:00:00:00:09') == 200
    assert post(port, 'facts', b'boot\teth0\tsecond\n', mac='52:54:00:00:00:09') == 200
    # Another run's token, a MAC that is no MAC (no path out of the run dir), an unknown kind: refused.
    assert post(port, 'log', b'x', token='other', mac='52:54:00:00:00:02') == 404
    assert post(port, 'log', b'x', mac='../../etc/passwd') == 404
    assert post(port, 'report', b'x', mac='52:54:00:00:00:02') == 404
    assert post(port, 'facts', b'x' * (300 << 10), mac='52:54:00:00:00:02') == 413
    log = run_dir / 'logs' / '52-54-00-00-00-01.log'
    assert log.read_text() == 'cnb-imaging[3s]: first\ncnb-imaging[9s]: FAILED\n'
    assert (run_dir / 'facts' / '52-54-00-00-00-09.txt').read_text() == 'boot\teth0\t52:54:00:00:00:09\n'
    assert sorted(os.listdir(run_dir / 'logs')) == ['52-54-00-00-00-01.log']
    assert sorted(os.listdir(run_dir / 'facts')) == ['52-54-00-00-00-09.txt']
    result = run('wait', '--dir', str(run_dir), '--poll', '0', '--finish', '--log-grace', '1')
    assert by_name(result)['n1']['log'] == str(log) and by_name(result)['n2']['log'] == ''
    rows = {line.split()[2]: line.split() for line in result['table'][1:5]}
    assert rows['n1'][-1] == str(log) and rows['n2'][-1] == '-'


def test_the_receiver_writes_the_nodes_it_reads_on_stdin_first(tmp_path: Path):
    run_dir = tmp_path / 'new' / 'run'
    nodes = [{'name': 'n1', 'mac': '52:54:00:00:00:01', 'ip': '10.0.0.1'}]
    argv = [sys.executable, program(), 'serve', '--dir', str(run_dir), '--bind', '127.0.0.1', '--token', TOKEN,
            '--daemon', '--lock-dir', str(tmp_path / 'locks'), '--run-id', 'run-a', '--nodes-from-stdin']
    bad = subprocess.run(argv, input='{"n1": 1}', capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode != 0 and 'not a JSON list' in bad.stderr
    assert not (run_dir / 'nodes.json').exists() and not (run_dir / 'receiver.json').exists()
    started = subprocess.run(argv, input=json.dumps(nodes), capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == 0, started.stderr
    try:
        assert json.loads((run_dir / 'nodes.json').read_text()) == nodes
        assert (tmp_path / 'locks' / 'mac-52-54-00-00-00-01.lock').exists()
    finally:
        run('stop', '--dir', str(run_dir))
