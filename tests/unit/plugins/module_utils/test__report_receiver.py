# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The report receiver's pure parts; the HTTP server and its daemon run for real in
tests/integration/test_image_nodes_reports.py."""

from __future__ import annotations

import io
import json

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _report_receiver as receiver

NODE = {'name': 'n1', 'mac': '52:54:00:00:00:01', 'ip': '10.0.0.1', 'sha256': 'a' * 64}


def report(**fields):
    return dict({'mac': NODE['mac'], 'ip': NODE['ip'], 'time': 1.0}, **fields)


def test_a_node_is_matched_ok_and_a_wrong_checksum_fails_it():
    done = [report(phase='boot', result='ok'), report(phase='done', result='ok', sha256='a' * 64, seconds='61')]
    state = receiver.node_state(NODE, done, 0.0, 10.0, 300, 1800, {})
    assert state['final'] and state['result'] == 'ok' and state['verdict'] == 'match' and state['seconds'] == 61.0
    wrong = [report(phase='done', result='ok', sha256='b' * 64)]
    state = receiver.node_state(NODE, wrong, 0.0, 10.0, 300, 1800, {})
    assert state['result'] == 'failed' and state['verdict'] == 'mismatch' and 'b' * 64 in state['detail']


def test_a_silent_node_fails_on_the_boot_timeout_and_finish_ends_the_rest():
    assert receiver.node_state(NODE, [], 0.0, 10.0, 300, 1800, {})['final'] is False
    silent = receiver.node_state(NODE, [], 0.0, 301.0, 300, 1800, {})
    assert silent['final'] and 'did not boot the imaging ramdisk' in silent['detail']
    cut = receiver.node_state(NODE, [report(phase='receive', result='ok')], 0.0, 10.0, 300, 1800, {}, finish=True)
    assert cut['final'] and 'interrupted' in cut['detail'] and cut['phase'] == 'receive'
    powered = receiver.node_state(NODE, [], 0.0, 10.0, 300, 1800, {'n1': 'no BMC'})
    assert powered['final'] and powered['detail'] == 'power: no BMC'


def test_locks_and_posted_files_are_named_by_mac_and_ip(tmp_path):
    assert receiver.lock_names(NODE) == ['mac-52-54-00-00-00-01', 'ip-10.0.0.1']
    assert receiver.posted_path('/run', 'log', '52:54:00:AA:00:01') == '/run/logs/52-54-00-aa-00-01.log'
    held, busy = receiver.take_locks(str(tmp_path), [NODE], 'run-a')
    try:
        assert len(held) == 2 and busy == {}
        assert (tmp_path / 'ip-10.0.0.1.lock').read_text() == 'run-a'
    finally:
        for fd in held:
            receiver.os.close(fd)


def test_stop_without_a_receiver_says_so_and_bad_nodes_on_stdin_are_refused(tmp_path, capsys, monkeypatch):
    assert receiver.main(['stop', '--dir', str(tmp_path)], program='/state/imaging_reports.py') == 0
    assert json.loads(capsys.readouterr().out)['stopped'] is False
    monkeypatch.setattr('sys.stdin', io.StringIO('{"n1": 1}'))
    with pytest.raises(SystemExit, match='imaging_reports.py: the nodes on stdin are not a JSON list'):
        receiver.main(['serve', '--dir', str(tmp_path / 'run'), '--bind', '127.0.0.1', '--token', 't',
                       '--nodes-from-stdin'], program='/state/imaging_reports.py')
    assert not (tmp_path / 'run' / 'nodes.json').exists()
