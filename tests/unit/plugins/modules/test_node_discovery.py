# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import threading
import time

from ansible_collections.cluster.netboot.plugins.modules import node_discovery
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils.test__discovery import facts_text, write_report
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import assert_documented, run_module


def args(tmp_path, **extra):
    result = {'run_dir': str(tmp_path / 'run'), 'node_file': str(tmp_path / 'nodes.csv'),
              'facts_file': str(tmp_path / 'hardware.json'), 'nodeset': 'node[1-10]', 'ip_start': '10.18.1.1'}
    if 'names' in extra or 'names_file' in extra:
        del result['nodeset'], result['ip_start']
    result.update(extra)
    return result


def test_names_writes_and_is_idempotent_with_check_mode_and_diff(tmp_path):
    write_report(tmp_path / 'run', 'b.txt', facts_text('52:54:00:00:00:0b'), 100)
    write_report(tmp_path / 'run', 'a.txt', facts_text('52:54:00:00:00:0a'), 200)
    planned = run_module(node_discovery.main, args(tmp_path), check_mode=True, diff=True)
    assert planned.result['changed'] and planned.result['new'] == ['node1', 'node2']
    assert not (tmp_path / 'nodes.csv').exists() and not (tmp_path / 'hardware.json').exists()
    assert 'node1,10.18.1.1,52:54:00:00:00:0b' in planned.result['diff'][0]['after']
    ended = run_module(node_discovery.main, args(tmp_path))
    assert_documented(node_discovery, ended.result)
    assert (tmp_path / 'nodes.csv').read_text() == ('name,ip,mac\nnode1,10.18.1.1,52:54:00:00:00:0b\n'
                                                    'node2,10.18.1.2,52:54:00:00:00:0a\n')
    facts = json.loads((tmp_path / 'hardware.json').read_text())
    assert facts['node2']['disks'][0]['bytes'] == 2147483648 and facts['node2']['mac'] == '52:54:00:00:00:0a'
    again = run_module(node_discovery.main, args(tmp_path))
    assert not again.result['changed'] and again.result['new'] == []
    assert [node['status'] for node in again.result['nodes']] == ['known', 'known']


def test_conflict_fails_and_leaves_both_files_byte_identical(tmp_path):
    (tmp_path / 'nodes.csv').write_bytes(b'name,ip,mac\nnode1,10.18.1.1,52:54:00:00:00:99\n')
    (tmp_path / 'hardware.json').write_bytes(b'{"node1": {}}\n')
    write_report(tmp_path / 'run', 'a.txt', facts_text('52:54:00:00:00:0a'), 100)
    write_report(tmp_path / 'run', 'b.txt', facts_text('52:54:00:00:00:0b'), 200)
    names = [{'name': 'node1', 'mac': '52:54:00:00:00:0a'}, {'name': 'node2', 'mac': '52:54:00:00:00:0b'}]
    ended = run_module(node_discovery.main, args(tmp_path, names=names))
    assert ended.failed
    assert 'node1 is bound to MAC 52:54:00:00:00:99 in the node file' in ended.result['msg']
    assert (tmp_path / 'nodes.csv').read_bytes() == b'name,ip,mac\nnode1,10.18.1.1,52:54:00:00:00:99\n'
    assert (tmp_path / 'hardware.json').read_bytes() == b'{"node1": {}}\n'
    allowed = run_module(node_discovery.main, args(tmp_path, names=names,
                                                   allow_conflicts=True))
    assert allowed.result['new'] == ['node2'] and len(allowed.result['conflicts']) == 1
    assert (tmp_path / 'nodes.csv').read_text().endswith('node2,,52:54:00:00:00:0b\n')


def test_bad_input_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / 'nodes.csv').write_bytes(b'name,ip,mac\nnode1,10.18.1.1,not-a-mac\n')
    write_report(tmp_path / 'run', 'a.txt', facts_text('52:54:00:00:00:0a'), 100)
    ended = run_module(node_discovery.main, args(tmp_path))
    assert ended.failed and 'invalid MAC' in ended.result['msg']
    assert (tmp_path / 'nodes.csv').read_bytes() == b'name,ip,mac\nnode1,10.18.1.1,not-a-mac\n'
    assert not (tmp_path / 'hardware.json').exists()
    ended = run_module(node_discovery.main, args(tmp_path, names_file=str(tmp_path / 'serials.csv')))
    assert ended.failed and 'cannot read node file' in ended.result['msg']


def test_serial_file_names_machines(tmp_path):
    (tmp_path / 'serials.csv').write_text('name,ip,serial\nr1n1,10.0.0.1,SN-7\n')
    write_report(tmp_path / 'run', 'a.txt', facts_text('52:54:00:00:00:0a', serial='SN-7'), 100)
    ended = run_module(node_discovery.main, args(tmp_path, names_file=str(tmp_path / 'serials.csv')))
    assert ended.result['new'] == ['r1n1']
    assert (tmp_path / 'nodes.csv').read_text() == 'name,ip,mac\nr1n1,10.0.0.1,52:54:00:00:00:0a\n'


def test_waits_until_count_machines_reported(tmp_path):
    def late_report():
        time.sleep(1.0)
        write_report(tmp_path / 'run', 'b.txt', facts_text('52:54:00:00:00:0b'), time.time())
    write_report(tmp_path / 'run', 'a.txt', facts_text('52:54:00:00:00:0a'), 100)
    (tmp_path / 'run' / 'logs').mkdir()
    (tmp_path / 'run' / 'logs' / '52-54-00-00-00-0a.log').write_text('cnb-imaging[1s]: discovery mode\n')
    thread = threading.Thread(target=late_report)
    thread.start()
    started = time.monotonic()
    ended = run_module(node_discovery.main, args(tmp_path, count=2, timeout=60, log_grace=1))
    thread.join()
    assert ended.result['reported'] == 2 and ended.result['new'] == ['node1', 'node2']
    assert time.monotonic() - started < 30
    # The console log each machine sent, by name; none arrived from the second one.
    assert [node['log'] for node in ended.result['nodes']] == [
        str(tmp_path / 'run' / 'logs' / '52-54-00-00-00-0a.log'), '']
    # The window closes at the timeout with whoever reported.
    timed = run_module(node_discovery.main, args(tmp_path, count=5, timeout=1, log_grace=0))
    assert timed.result['reported'] == 2 and not timed.result['changed']
