# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _nodes as nodes
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NodeListError, NodeSetError


def test_inline_list_is_normalised():
    records = nodes.load(nodes=[{'name': 'node1-2', 'ip': '10.18.1.18', 'mac': '00:0D:B9:0A:12:34'}])
    assert records == [nodes.NodeRecord(name='node1-2', ip='10.18.1.18', mac='00:0d:b9:0a:12:34', origin='nodes[0]')]


def test_csv_columns_in_any_order_with_comments_and_blank_lines(tmp_path):
    path = tmp_path / 'nodes.csv'
    path.write_text('# sandbox 8\nmac,name,ip\n00-0D-B9-0A-12-34,node1-1,10.18.1.17\n\n00:0d:b9:0a:12:35,node1-2,10.18.1.18\n')
    records = nodes.load(nodes_file=str(path))
    assert [(r.name, r.ip, r.mac) for r in records] == [
        ('node1-1', '10.18.1.17', '00:0d:b9:0a:12:34'),
        ('node1-2', '10.18.1.18', '00:0d:b9:0a:12:35'),
    ]
    assert records[1].origin == '%s line 5' % path


def test_csv_errors_name_the_line(tmp_path):
    path = tmp_path / 'nodes.csv'
    path.write_text('name,ip\nnode1,10.0.0.1\n\nnode2,10.0.0.300\n')
    with pytest.raises(NodeListError, match=r'nodes.csv line 4 \(node2\): invalid IPv4 address'):
        nodes.load(nodes_file=str(path))


def test_csv_header_must_name_known_columns(tmp_path):
    path = tmp_path / 'nodes.csv'
    path.write_text('node1,10.0.0.1\n')
    with pytest.raises(NodeListError, match='line 1: the header row must name the columns'):
        nodes.load(nodes_file=str(path))


def test_extra_columns_for_dhcp(tmp_path):
    path = tmp_path / 'hosts.csv'
    path.write_text('name,mac,ip,filename\nn1,00:00:00:00:00:01,10.0.0.1,pxelinux.0\nn2,00:00:00:00:00:02,10.0.0.2,\n')
    records = nodes.load(nodes_file=str(path), fields=('name', 'ip', 'mac', 'filename'), list_label='hosts')
    assert records[0].get('filename') == 'pxelinux.0'
    assert records[1].get('filename') is None


def test_json_and_yaml_files(tmp_path):
    data = [{'name': 'n1', 'ip': '10.0.0.1'}, {'name': 'n2', 'mac': '00:00:00:00:00:02'}]
    json_path = tmp_path / 'nodes.json'
    json_path.write_text(json.dumps(data))
    yaml_path = tmp_path / 'nodes.yml'
    yaml_path.write_text('- name: n1\n  ip: 10.0.0.1\n- name: n2\n  mac: "00:00:00:00:00:02"\n')
    assert nodes.load(nodes_file=str(json_path))[1].mac == '00:00:00:00:00:02'
    assert [r.name for r in nodes.load(nodes_file=str(yaml_path))] == ['n1', 'n2']


def test_unknown_fields_and_missing_names(tmp_path):
    with pytest.raises(NodeListError, match=r'nodes\[0\]: unknown field\(s\) hostname'):
        nodes.load(nodes=[{'name': 'n1', 'hostname': 'x'}])
    with pytest.raises(NodeListError, match='every node needs a name'):
        nodes.load(nodes=[{'ip': '10.0.0.1'}])
    with pytest.raises(NodeListError, match='white space'):
        nodes.load(nodes=[{'name': 'n 1'}])
    with pytest.raises(NodeListError, match='cannot read node file'):
        nodes.load(nodes_file=str(tmp_path / 'missing.csv'))


def test_nodeset_with_consecutive_addresses():
    records = nodes.load(nodeset='node[1-400]', ip_start='10.10.0.1')
    assert len(records) == 400
    assert (records[0].name, records[0].ip) == ('node1', '10.10.0.1')
    assert (records[399].name, records[399].ip) == ('node400', '10.10.1.144')
    with pytest.raises(NodeSetError):
        nodes.load(nodeset='node[1-')


def test_exactly_one_source():
    with pytest.raises(NodeListError, match='exactly one of nodes_file, nodes or nodeset'):
        nodes.load()
    with pytest.raises(NodeListError, match='got nodes, nodeset'):
        nodes.load(nodes=[], nodeset='n1')
    with pytest.raises(NodeListError, match='ip_start only goes with nodeset'):
        nodes.load(nodes=[], ip_start='10.0.0.1')


@pytest.mark.parametrize('key, second', [
    ('ip', {'name': 'b', 'ip': '10.0.0.1'}),
    ('mac', {'name': 'b', 'mac': '00-00-00-00-00-01'}),
    ('name', {'name': 'A'}),
])
def test_duplicates_name_both_nodes(key, second):
    records = nodes.load(nodes=[{'name': 'a', 'ip': '10.0.0.1', 'mac': '00:00:00:00:00:01'}, second])
    with pytest.raises(NodeListError, match=r'duplicate %s .*: a \(nodes\[0\]\) and [aAb] \(nodes\[1\]\)' % key):
        nodes.check_unique(records)


@pytest.mark.parametrize('name, content', [
    ('nodes.csv', 'name,ip,mac\nn1,10.0.0.1,00:00:00:00:00:01\n'),
    ('nodes.json', '[{"name": "n1", "ip": "10.0.0.1", "mac": "00:00:00:00:00:01"}]'),
    ('nodes.yml', '- {name: n1, ip: 10.0.0.1, mac: "00:00:00:00:00:01"}\n'),
    ('nodes.txt', 'name,ip,mac\nn1,10.0.0.1,00:00:00:00:00:01\n'),
])
def test_a_byte_order_mark_is_not_part_of_the_first_line(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(b'\xef\xbb\xbf' + content.encode())
    assert nodes.load(nodes_file=str(path)) == [
        nodes.NodeRecord(name='n1', ip='10.0.0.1', mac='00:00:00:00:00:01', origin=nodes.load(nodes_file=str(path))[0].origin)]


@pytest.mark.parametrize('node, message', [
    ({'name': 'n1', 'mac': '1'}, r"nodes\[1\] \(n1\): invalid MAC address '1'"),
    ({'name': 'n1', 'mac': 1}, r'nodes\[1\] \(n1\): invalid MAC address 1: .*quote MAC addresses in YAML'),
    ({'name': 'n1', 'mac': 'ff:ff:ff:ff:ff:ff'}, r'nodes\[1\] \(n1\): .* is the broadcast address'),
    ({'name': 'n1', 'mac': '00-00-00-00-00-00'}, r'nodes\[1\] \(n1\): .* is all zero'),
    ({'name': 'n1', 'mac': '01:00:5e:00:00:02'}, r'nodes\[1\] \(n1\): .* is a multicast address'),
    ({'name': 'n1', 'ip': '0.0.0.0'}, r'nodes\[1\] \(n1\): 0.0.0.0 is in 0.0.0.0/8'),
    ({'name': 'n1', 'ip': '255.255.255.255'}, r'nodes\[1\] \(n1\): 255.255.255.255 is the limited broadcast address'),
    ({'name': 'n1', 'ip': '239.1.1.1'}, r'nodes\[1\] \(n1\): 239.1.1.1 is a multicast address'),
    ({'name': 'n1', 'ip': '10.0.0.300'}, r'nodes\[1\] \(n1\): invalid IPv4 address'),
    ({'name': 'a' * 64 + '.grid'}, r'nodes\[1\]: node name .* has a part of 64 characters; at most 63'),
    ({'name': '.'.join(['a' * 63] * 4)}, r'nodes\[1\]: node name .* has 255 characters; at most 253'),

    ({'name': 'rack[1]'}, r"nodes\[1\]: node name 'rack\[1\]' contains '\[', which a node range reads as syntax"),
    ({'name': 'a,b'}, r"contains ',', which a node range reads as syntax"),
    ({'name': '@compute'}, r"contains '@'"),
])
def test_addresses_and_names_no_node_can_have_are_refused(node, message):
    with pytest.raises(NodeListError, match=message):
        nodes.load(nodes=[{'name': 'n0', 'ip': '10.0.0.9', 'mac': '00:00:00:00:00:09'}, node])


def test_long_names_within_the_dns_limits_are_fine():
    name = '.'.join(['a' * 63] * 3) + '.' + 'b' * 61
    assert nodes.load(nodes=[{'name': name}])[0].name == name


def test_networks_refuse_their_network_and_broadcast_address():
    good = [{'name': 'n1', 'ip': '10.20.0.1'}, {'name': 'n2', 'ip': '10.20.255.254'}]
    assert len(nodes.load(nodes=good, networks=['10.20.0.0/16'])) == 2
    for ip, message in (('10.20.0.0', 'is the network address of 10.20.0.0/16'),
                        ('10.20.255.255', 'is the broadcast address of 10.20.0.0/16'),
                        ('10.21.0.1', r'is outside every subnet given \(10.20.0.0/16\)')):
        with pytest.raises(NodeListError, match=r'nodes\[2\] \(n3\): %s %s' % (ip, message)):
            nodes.load(nodes=good + [{'name': 'n3', 'ip': ip}], networks=['10.20.0.0/16'])
    with pytest.raises(NodeListError, match=r'nodeset n6 \(n6\): 10.20.0.255 is the broadcast address of 10.20.0.0/24'):
        nodes.load(nodeset='n[1-10]', ip_start='10.20.0.250', networks=['10.20.0.0/24'])


def test_the_error_names_the_first_bad_row_of_a_file(tmp_path):
    path = tmp_path / 'nodes.csv'
    rows = ['n%d,10.0.%d.%d,02:00:00:00:%02x:%02x\n' % (i, i // 200, i % 200 + 1, i // 256, i % 256) for i in range(500)]
    path.write_text('name,ip,mac\n' + ''.join(rows) + 'bad,10.9.9.9,01:00:5e:00:00:01\n')
    with pytest.raises(NodeListError, match=r'nodes.csv line 502 \(bad\): .* is a multicast address'):
        nodes.load(nodes_file=str(path))


def test_nodeset_over_max_nodes_is_refused():
    with pytest.raises(NodeSetError, match=r"'n\[1-99999999\]' names 99999999 nodes, more than max_nodes \(1000000\)"):
        nodes.load(nodeset='n[1-99999999]', ip_start='10.0.0.1')
    with pytest.raises(NodeSetError, match=r'more than max_nodes \(3\)'):
        nodes.load(nodeset='n[1-4]', max_nodes=3)
    assert len(nodes.load(nodeset='n[1-3]', max_nodes=3)) == 3


def test_csv_rows_short_of_columns_extra_columns_and_addresses_keep_their_meaning(tmp_path):
    """The column-by-column CSV reader gives what the row-by-row one gave: short rows, blanks, extras."""
    path = tmp_path / 'hosts.csv'
    path.write_text('name, IP ,mac,filename\n n1 , 10.0.0.1 ,00-00-00-00-00-01, pxelinux.0 \nn2,10.0.0.2\nn3,,,\n')
    records = nodes.load(nodes_file=str(path), fields=('name', 'ip', 'mac', 'filename'), list_label='hosts')
    assert [(r.name, r.ip, r.mac, dict(r.extra), r.origin) for r in records] == [
        ('n1', '10.0.0.1', '00:00:00:00:00:01', {'filename': 'pxelinux.0'}, '%s line 2' % path),
        ('n2', '10.0.0.2', None, {}, '%s line 3' % path),
        ('n3', None, None, {}, '%s line 4' % path),
    ]
    path.write_text('name,ip\nn1,10.0.0.1,extra\n')
    with pytest.raises(NodeListError, match='line 2: 3 columns, the header has 2'):
        nodes.load(nodes_file=str(path))
    path.write_text('name,ip\n,10.0.0.1\n')
    with pytest.raises(NodeListError, match='line 2: every node needs a name'):
        nodes.load(nodes_file=str(path))


def test_duplicates_are_found_in_any_key_and_named_in_input_order():
    records = nodes.load(nodes=[{'name': 'n1', 'ip': '10.0.0.1'}, {'name': 'N2', 'ip': '10.0.0.2'},
                                {'name': 'n2', 'ip': '10.0.0.1'}])
    with pytest.raises(NodeListError, match=r'duplicate name n2: N2 \(nodes\[1\]\) and n2 \(nodes\[2\]\)'):
        nodes.check_unique(records)
    nodes.check_unique(records[:2])


def test_bulk_work_pauses_the_cycle_collector_and_restores_it():
    import gc
    assert gc.isenabled()
    with nodes.bulk_work():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(NodeListError):
        with nodes.bulk_work():
            raise NodeListError('a bad row')
    assert gc.isenabled()
    gc.disable()
    try:
        with nodes.bulk_work():
            pass
        assert not gc.isenabled(), 'a collector the caller had paused stays paused'
    finally:
        gc.enable()


def test_bulk_work_decorates_a_main_that_exits():
    import gc

    @nodes.bulk_work()
    def main():
        assert not gc.isenabled()
        raise SystemExit(0)  # exit_json
    with pytest.raises(SystemExit):
        main()
    assert gc.isenabled()
