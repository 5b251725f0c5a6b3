# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _discovery, _nodes
from ansible_collections.cluster.netboot.plugins.module_utils._errors import DiscoveryError, NodeListError


def facts_text(mac, other_mac='', serial='S-1', memory_kib=1015808, disk_bytes=2147483648):
    lines = ['boot\teth0\t%s' % mac, 'nic\teth0\t%s\tup' % mac]
    if other_mac:
        lines.append('nic\teth1\t%s\tdown' % other_mac)
    lines += ['cpu\t2\tQEMU Virtual CPU version 2.5+', 'memory\t%d' % memory_kib, 'dimm\t1024',
              'disk\tvda\t%d\tQEMU HARDDISK\tQM00001' % disk_bytes, 'dmi\tsys_vendor\tQEMU',
              'dmi\tproduct_serial\t%s' % serial, 'bmc\tkcs\t0xca2']
    return '\n'.join(lines) + '\n'


def machine(mac, **kwargs):
    return _discovery.parse_facts(facts_text(mac, **kwargs), mac)


def test_parse_facts_reads_every_fact():
    found = machine('52-54-00-00-00-01', other_mac='52:54:00:00:00:02')
    assert found.mac == '52:54:00:00:00:01'
    assert found.macs == ('52:54:00:00:00:01', '52:54:00:00:00:02')
    assert found.serial == 'S-1'
    assert found.facts == {
        'boot_nic': 'eth0', 'boot_mac': '52:54:00:00:00:01',
        'nics': [{'name': 'eth0', 'mac': '52:54:00:00:00:01', 'link': 'up'},
                 {'name': 'eth1', 'mac': '52:54:00:00:00:02', 'link': 'down'}],
        'cpu': {'count': 2, 'model': 'QEMU Virtual CPU version 2.5+'}, 'memory_bytes': 1015808 * 1024,
        'memory_installed_bytes': 1024 ** 3,
        'disks': [{'name': 'vda', 'bytes': 2147483648, 'model': 'QEMU HARDDISK', 'serial': 'QM00001'}],
        'system': {'sys_vendor': 'QEMU', 'product_serial': 'S-1'}, 'bmc': {'interface': 'kcs', 'address': '0xca2'}}


@pytest.mark.parametrize('text, message', [
    ('nic\teth0\t52:54:00:00:00:01\tup\n', 'no boot NIC'),
    ('boot\teth0\tnot-a-mac\n', "r1 line 1: invalid MAC"),
    ('boot\teth0\t52:54:00:00:00:01\nmemory\tlots\n', 'memory'),
    ('boot\teth0\t52:54:00:00:00:01\nroot password\thunter2\n', 'not a discovery fact'),
    ('boot\teth0\t52:54:00:00:00:01\ndmi\tunknown_key\tx\n', 'not a discovery fact'),
])
def test_parse_facts_refuses_malformed_documents(text, message):
    with pytest.raises(DiscoveryError, match=message):
        _discovery.parse_facts(text, 'r1')


def write_report(run_dir, name, text, mtime):
    directory = os.path.join(str(run_dir), 'facts')
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, 'w') as handle:
        handle.write(text)
    os.utime(path, (mtime, mtime))


def test_reports_in_order_of_arrival_a_machine_seen_twice_once_and_bad_ones_rejected(tmp_path):
    write_report(tmp_path, '52-54-00-00-00-0b.txt', facts_text('52:54:00:00:00:0b'), 100)
    write_report(tmp_path, '52-54-00-00-00-0a.txt', facts_text('52:54:00:00:00:0a', other_mac='52:54:00:00:00:aa'), 200)
    # The same machine as 0a, booted from its second NIC.
    write_report(tmp_path, '52-54-00-00-00-aa.txt', facts_text('52:54:00:00:00:aa'), 300)
    write_report(tmp_path, 'broken.txt', 'garbage\n', 400)
    write_report(tmp_path, '.partial.txt', 'garbage\n', 50)
    machines, rejected = _discovery.read_machines(_discovery.report_files(str(tmp_path)))
    assert [found.mac for found in machines] == ['52:54:00:00:00:0b', '52:54:00:00:00:0a']
    assert [item['report'] for item in rejected] == ['broken.txt']
    assert _discovery.report_files(str(tmp_path / 'none')) == []


def records(*rows):
    return _nodes.from_list([dict(row) for row in rows])


def by_range(pattern='node[1-4]', ip_start='10.18.1.1'):
    return _discovery.naming_from_range(pattern, ip_start, 100)


def test_range_names_in_arrival_order_skipping_what_the_file_holds():
    existing = records({'name': 'node1', 'ip': '10.18.1.1', 'mac': '52:54:00:00:01:01'},
                       {'name': 'other', 'ip': '10.18.1.3', 'mac': '52:54:00:00:01:03'})
    result = _discovery.plan(existing, [machine('52:54:00:00:00:02'), machine('52:54:00:00:01:01'),
                                        machine('52:54:00:00:00:03')], by_range())
    assert [(node['name'], node['ip'], node['mac'], node['status']) for node in result.nodes] == [
        ('node2', '10.18.1.2', '52:54:00:00:00:02', 'new'),
        ('node1', '10.18.1.1', '52:54:00:00:01:01', 'known'),
        # node3's address is other's: node4 is the next free one.
        ('node4', '10.18.1.4', '52:54:00:00:00:03', 'new')]
    assert result.conflicts == [] and result.unnamed == []


def test_range_exhausted_leaves_machines_unnamed():
    result = _discovery.plan([], [machine('52:54:00:00:00:01'), machine('52:54:00:00:00:02')],
                             by_range('node[1]', None))
    assert [node['name'] for node in result.nodes] == ['node1']
    assert result.nodes[0]['ip'] is None
    assert result.unnamed == [{'mac': '52:54:00:00:00:02', 'reason': 'the node range has no free name left'}]


def test_mac_map_names_and_conflicts_never_overwrite():
    naming = _discovery.naming_from_list(_nodes.from_list([
        {'name': 'a', 'ip': '10.0.0.1', 'mac': '52:54:00:00:00:01'},
        {'name': 'b', 'ip': '10.0.0.2', 'mac': '52:54:00:00:00:02'},
        {'name': 'c', 'ip': '10.0.0.3', 'mac': '52:54:00:00:00:03'},
        {'name': 'd', 'ip': '10.0.0.9', 'mac': '52:54:00:00:00:04'},
    ], _discovery.NAMING_FIELDS))
    existing = records({'name': 'old', 'ip': '10.0.0.7', 'mac': '52:54:00:00:00:02'},
                       {'name': 'c', 'ip': '10.0.0.3', 'mac': '52:54:00:00:00:99'},
                       {'name': 'e', 'ip': '10.0.0.9', 'mac': '52:54:00:00:00:98'})
    result = _discovery.plan(existing, [machine(mac) for mac in (
        '52:54:00:00:00:01', '52:54:00:00:00:02', '52:54:00:00:00:03', '52:54:00:00:00:04', '52:54:00:00:00:05')],
        naming)
    assert [(node['name'], node['status']) for node in result.nodes] == [('a', 'new')]
    assert result.conflicts == [
        'MAC 52:54:00:00:00:02 is bound to old in the node file; the naming list names it b',
        'c is bound to MAC 52:54:00:00:00:99 in the node file; 52:54:00:00:00:03 reported MAC 52:54:00:00:00:03',
        'd: the address 10.0.0.9 belongs to e in the node file',
    ]
    assert result.unnamed == [{'mac': '52:54:00:00:00:05', 'reason': 'no entry in the naming list for its mac '
                               '52:54:00:00:00:05'}]


def test_serial_naming_and_one_name_for_two_machines_is_a_conflict():
    naming = _discovery.naming_from_list(_nodes.from_list([
        {'name': 'r1n1', 'ip': '10.0.0.1', 'serial': 'SN-1'}, {'name': 'r1n2', 'serial': 'SN-2'}],
        _discovery.NAMING_FIELDS))
    result = _discovery.plan([], [machine('52:54:00:00:00:01', serial='SN-2'),
                                  machine('52:54:00:00:00:02', serial='SN-1'),
                                  machine('52:54:00:00:00:03', serial='SN-1')], naming)
    assert [(node['name'], node['ip'], node['mac']) for node in result.nodes] == [
        ('r1n2', None, '52:54:00:00:00:01'), ('r1n1', '10.0.0.1', '52:54:00:00:00:02')]
    assert result.conflicts == ['r1n1 would name two machines: MAC 52:54:00:00:00:02 and MAC 52:54:00:00:00:03']


def test_known_machine_with_another_address_in_the_list_is_a_conflict():
    naming = _discovery.naming_from_list(_nodes.from_list([
        {'name': 'a', 'ip': '10.0.0.5', 'mac': '52:54:00:00:00:01'}], _discovery.NAMING_FIELDS))
    existing = records({'name': 'a', 'ip': '10.0.0.1', 'mac': '52:54:00:00:00:01'})
    result = _discovery.plan(existing, [machine('52:54:00:00:00:01')], naming)
    assert result.nodes == []
    assert result.conflicts == ['a has the address 10.0.0.1 in the node file; the naming list gives 10.0.0.5']


def test_machine_whose_macs_name_two_nodes_is_a_conflict():
    existing = records({'name': 'a', 'mac': '52:54:00:00:00:01'}, {'name': 'b', 'mac': '52:54:00:00:00:02'})
    result = _discovery.plan(existing, [machine('52:54:00:00:00:01', other_mac='52:54:00:00:00:02')],
                             by_range('n[1-2]', None))
    assert result.nodes == [] and 'bound to several nodes in the node file: a, b' in result.conflicts[0]


@pytest.mark.parametrize('rows, message', [
    ([], 'empty'),
    ([{'name': 'a', 'mac': '52:54:00:00:00:01'}, {'name': 'b', 'serial': 'X'}], 'all the same one'),
    ([{'name': 'a', 'mac': '52:54:00:00:00:01', 'serial': 'X'}], 'either a mac or a serial'),
    ([{'name': 'a', 'serial': 'X'}, {'name': 'b', 'serial': 'X'}], 'duplicate serial X'),
])
def test_bad_naming_lists_are_refused(rows, message):
    with pytest.raises(NodeListError, match=message):
        _discovery.naming_from_list(_nodes.from_list(rows, _discovery.NAMING_FIELDS))


NEW = [{'name': 'node2', 'ip': '10.18.1.2', 'mac': '52:54:00:00:00:02'}]


def test_node_file_keeps_its_bytes_and_appends_in_its_column_order():
    before = b'# rack 1\nmac,name,ip\n52:54:00:00:00:01,node1,10.18.1.1'
    after = _discovery.node_file_content('nodes.csv', before, NEW)
    assert after == before + b'\n52:54:00:00:00:02,node2,10.18.1.2\n'
    assert [record.name for record in _nodes.from_text(after.decode(), 'nodes.csv')] == ['node1', 'node2']
    assert _discovery.node_file_content('nodes.csv', before, []) == before


def test_node_file_is_created_with_a_header():
    after = _discovery.node_file_content('nodes.csv', None, NEW)
    assert after == b'name,ip,mac\nnode2,10.18.1.2,52:54:00:00:00:02\n'
    assert _discovery.node_file_content('nodes.csv', None, []) == b''


@pytest.mark.parametrize('path, before, message', [
    ('nodes.yml', b'- {name: a}\n', 'not CSV'),
    ('nodes.csv', b'name,mac\na,52:54:00:00:00:01\n', 'no ip column'),
])
def test_node_file_that_cannot_take_the_rows_is_refused(path, before, message):
    with pytest.raises(NodeListError, match=message):
        _discovery.node_file_content(path, before, NEW)


def test_facts_file_merges_and_is_stable():
    node = {'name': 'node2', 'ip': '10.18.1.2', 'mac': '52:54:00:00:00:02', 'facts': {'memory_bytes': 1}}
    before = json.dumps({'node1': {'memory_bytes': 5}}).encode()
    after = _discovery.facts_file_content('f.json', before, [node])
    assert json.loads(after) == {'node1': {'memory_bytes': 5},
                                 'node2': {'memory_bytes': 1, 'mac': '52:54:00:00:00:02', 'ip': '10.18.1.2'}}
    assert _discovery.facts_file_content('f.json', after, [node]) == after
    with pytest.raises(DiscoveryError, match='invalid JSON'):
        _discovery.facts_file_content('f.json', b'{', [node])


DISCOVER_SH = Path(__file__).resolve().parents[4] / 'roles' / 'imaging_ramdisk' / 'files' / 'discover.sh'


def fake_machine(root: Path) -> None:
    """/proc and /sys as a QEMU VM with two NICs, 1 GiB in one DIMM, a 2 GiB virtio disk and an IPMI KCS BMC."""
    def put(path, content):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    put('proc/cpuinfo', 'processor\t: 0\nmodel name\t: QEMU Virtual CPU version 2.5+\n\n'
                        'processor\t: 1\nmodel name\t: QEMU Virtual CPU version 2.5+\n')
    put('proc/meminfo', 'MemTotal:        1003456 kB\nMemFree:          900000 kB\n')
    for name, mac, state in (('lo', '00:00:00:00:00:00', 'unknown'), ('ens3', '52:54:00:aa:00:01', 'up'),
                             ('ens4', '52:54:00:aa:00:02', 'down')):
        put('sys/class/net/%s/address' % name, mac + '\n')
        put('sys/class/net/%s/operstate' % name, state + '\n')
    put('sys/block/vda/size', '%d\n' % (2 * 1024 ** 3 // 512))
    put('sys/block/vda/serial', 'disk-a1\n')
    put('sys/block/sr0/size', '2048\n')
    put('sys/block/loop0/size', '0\n')
    put('sys/block/sda/size', '2048\n')
    put('sys/block/sda/device/model', 'QEMU HARDDISK   \n')
    put('sys/block/sda/device/serial', 'Q\tM1\n')
    put('sys/class/dmi/id/sys_vendor', 'QEMU\n')
    put('sys/class/dmi/id/product_serial', 'lab-node-1\n')
    # SMBIOS type 17: size 1024 MB at offset 12; an empty slot (size 0) is skipped.
    put('sys/firmware/dmi/entries/17-0/raw', bytes([17, 40, 0, 17]) + bytes(8) + struct.pack('<H', 1024) + bytes(26))
    put('sys/firmware/dmi/entries/17-1/raw', bytes([17, 40, 0, 18]) + bytes(36))
    # SMBIOS type 38: KCS (1) at I/O 0xca2 (bit 0 set: I/O space).
    put('sys/firmware/dmi/entries/38-0/raw', bytes([38, 18, 0, 38, 1, 0x20, 0x20, 0xff]) + struct.pack('<Q', 0xca3))


@pytest.mark.skipif(shutil.which('busybox') is None, reason='NOT TESTED: busybox missing, the ramdisk shell')
def test_the_ramdisk_facts_are_what_the_console_reads(tmp_path):
    """roles/imaging_ramdisk/files/discover.sh in busybox sh on a fake /proc and /sys, read by parse_facts."""
    fake_machine(tmp_path)
    done = subprocess.run(['busybox', 'sh', '-c', '. "$0"; IFACE=ens3 MAC=52:54:00:aa:00:01; cnb_facts',
                           str(DISCOVER_SH)], env={'CNB_ROOT': str(tmp_path), 'PATH': os.environ['PATH']},
                          capture_output=True, text=True, check=True, timeout=60)
    found = _discovery.parse_facts(done.stdout, 'vm')
    assert found.facts == {
        'boot_nic': 'ens3', 'boot_mac': '52:54:00:aa:00:01',
        'nics': [{'name': 'ens3', 'mac': '52:54:00:aa:00:01', 'link': 'up'},
                 {'name': 'ens4', 'mac': '52:54:00:aa:00:02', 'link': 'down'}],
        'cpu': {'count': 2, 'model': 'QEMU Virtual CPU version 2.5+'},
        'memory_bytes': 1003456 * 1024, 'memory_installed_bytes': 1024 ** 3,
        'disks': [{'name': 'sda', 'bytes': 2048 * 512, 'model': 'QEMU HARDDISK', 'serial': 'QM1'},
                  {'name': 'vda', 'bytes': 2 * 1024 ** 3, 'model': '', 'serial': 'disk-a1'}],
        'system': {'sys_vendor': 'QEMU', 'product_serial': 'lab-node-1'},
        'bmc': {'interface': 'kcs', 'address': '0xca2'}}
    assert found.serial == 'lab-node-1' and found.macs == ('52:54:00:aa:00:01', '52:54:00:aa:00:02')
