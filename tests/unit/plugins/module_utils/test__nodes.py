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
