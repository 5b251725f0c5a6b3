# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The image_nodes report receiver for real: a detached HTTP server on loopback, reports as the
imaging ramdisk sends them (busybox wget GETs), and the verdicts of the progress query."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / 'roles' / 'image_nodes' / 'files' / 'imaging_reports.py'
TOKEN = '0123abcd'
SHA_A = 'a' * 64


def run(*args: str) -> dict:
    completed = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60,
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
    assert [line.split()[-1] for line in result['table'][1:3]] == ['on', 'n/a']
    # The first report's time (the boot phase) is kept: power reset to ramdisk for bench/imaging.
    assert nodes['n1']['first_report'] <= nodes['n1']['last_report']
    assert result['table'][0].split() == ['GROUP', 'IMAGE', 'NODE', 'MAC', 'IP', 'PHASE', 'RESULT', 'SECONDS',
                                          'RECEIVE', 'CHECKSUM', 'SECURE', 'BOOT']
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
