# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import re
import textwrap

import pytest

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader

from ansible_collections.cluster.netboot.plugins.inventory import nodes as nodes_plugin

GRID = '''\
plugin: cluster.netboot.nodes
groups:
  grid:
    nodes: node[1-20]-[1-20].grid
    ip: "10.10.{x}.{y}"
    mac_file: macs.csv
    vars: {image: baseline-2.0}
  sb8:
    nodes: node1-[1-2].sb8
    ip_start: 10.18.1.1
'''

MACS = '''\
name,mac
node1-1.grid,00-0D-B9-0A-01-01
node3-7.grid,000d.b90a.0307
'''


@pytest.fixture
def plugin():
    loaded = inventory_loader.get('cluster.netboot.nodes')
    assert loaded is not None, 'the collection is not on the collection path'
    return loaded


@pytest.fixture
def parse(tmp_path, plugin):
    """Write the inventory file (and the files it names) to tmp_path and parse it."""
    def _parse(text, files=None, name='test.netboot.yml'):
        for file_name, content in (files or {}).items():
            (tmp_path / file_name).write_text(textwrap.dedent(content))
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        inventory = InventoryData()
        plugin.parse(inventory, DataLoader(), str(path), cache=False)
        return inventory
    return _parse


def host_vars(inventory, name):
    return inventory.get_host(name).get_vars()


def group_hosts(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts())


@pytest.mark.parametrize('name, accepted', [
    ('grid.netboot.yml', True),
    ('grid.netboot.yaml', True),
    ('grid.yml', False),
    ('grid.netboot.json', False),
    ('netboot.yml', False),
])
def test_verify_file_takes_only_its_suffixes(tmp_path, plugin, name, accepted):
    path = tmp_path / name
    path.write_text('plugin: cluster.netboot.nodes\n')
    assert plugin.verify_file(str(path)) is accepted


def test_verify_file_needs_the_file(tmp_path, plugin):
    assert not plugin.verify_file(str(tmp_path / 'missing.netboot.yml'))


def test_grid_example(parse):
    inventory = parse(GRID, {'macs.csv': MACS})
    assert len(inventory.groups['grid'].get_hosts()) == 400
    assert len(inventory.hosts) == 402
    node = host_vars(inventory, 'node3-7.grid')
    assert node['x'] == 3 and node['y'] == 7 and node['coordinates'] == [3, 7]
    assert 'z' not in node
    assert node['ip'] == node['ansible_host'] == '10.10.3.7'
    assert node['mac'] == '00:0d:b9:0a:03:07'
    assert host_vars(inventory, 'node1-1.grid')['mac'] == '00:0d:b9:0a:01:01'
    assert 'mac' not in host_vars(inventory, 'node20-20.grid')
    assert host_vars(inventory, 'node20-20.grid')['ip'] == '10.10.20.20'
    # Group vars stay group vars: every grid host inherits them, sb8 hosts do not.
    assert inventory.groups['grid'].get_vars() == {'image': 'baseline-2.0'}
    assert 'image' not in inventory.groups['sb8'].get_vars()
    assert 'image' not in node


def test_every_grid_address_follows_the_coordinates(parse):
    inventory = parse(GRID, {'macs.csv': MACS})
    for host in inventory.groups['grid'].get_hosts():
        variables = host.get_vars()
        assert host.name == 'node%d-%d.grid' % (variables['x'], variables['y'])
        assert variables['ip'] == '10.10.%d.%d' % (variables['x'], variables['y'])


def test_ip_start_numbers_in_range_order(parse):
    inventory = parse(GRID, {'macs.csv': MACS})
    assert host_vars(inventory, 'node1-1.sb8')['ip'] == '10.18.1.1'
    assert host_vars(inventory, 'node1-2.sb8')['ip'] == '10.18.1.2'
    # ORBIT sandbox names: node<x>-<y>.sb<n>.
    sandbox = host_vars(inventory, 'node1-2.sb8')
    assert (sandbox['x'], sandbox['y'], sandbox['z']) == (1, 2, 8)


def test_seed_coordinate_file(parse):
    # imageNodes5 <text file containing coordinates of nodes> <image>
    inventory = parse('''\
        plugin: cluster.netboot.nodes
        groups:
          batch1:
            nodes_file: batch1.txt
            name: "node{x}-{y}.grid"
            ip: "10.10.{x}.{y}"
            vars:
              image: experiment-7.ndz
        ''', {'batch1.txt': '''\
        # coordinates of the nodes to image
        1,1
        3, 7

        20 20   # the far corner
        node5-5.grid
        '''})
    assert group_hosts(inventory, 'batch1') == ['node1-1.grid', 'node20-20.grid', 'node3-7.grid', 'node5-5.grid']
    assert host_vars(inventory, 'node20-20.grid')['ip'] == '10.10.20.20'
    assert host_vars(inventory, 'node5-5.grid')['coordinates'] == [5, 5]
    assert inventory.groups['batch1'].get_vars()['image'] == 'experiment-7.ndz'


def test_seed_names_file_with_ranges(parse):
    # xrx 'n[8-11]' date: a names file may hold ranges as well as names.
    inventory = parse('''\
        plugin: cluster.netboot.nodes
        groups:
          xcpu:
            nodes_file: xcpu.txt
            ip: "10.20.0.{index}"
        ''', {'xcpu.txt': 'n[8-11]\nn20\n'})
    assert group_hosts(inventory, 'xcpu') == ['n10', 'n11', 'n20', 'n8', 'n9']
    assert host_vars(inventory, 'n11')['ip'] == '10.20.0.11'
    assert host_vars(inventory, 'n8')['x'] == 8


def test_zero_padding_and_format_specs(parse):
    inventory = parse('''\
        plugin: cluster.netboot.nodes
        groups:
          padded:
            nodes: n[01-10]
            ip: "10.0.0.{index}"
          coordinates:
            nodes_file: padded.txt
            name: "c{x:02d}"
        ''', {'padded.txt': '3\n12\n'})
    assert group_hosts(inventory, 'padded')[:2] == ['n01', 'n02']
    assert host_vars(inventory, 'n09')['ip'] == '10.0.0.9'
    assert group_hosts(inventory, 'coordinates') == ['c03', 'c12']


def test_children_conditionals_and_keyed_groups(parse):
    inventory = parse(GRID + '''\
  testbeds:
    children: [grid, sb8]
  first_row: "x == 1"
keyed_groups:
  - key: image
    prefix: image
compose:
  console_port: 7000 + x * 100 + y
''', {'macs.csv': MACS})
    assert sorted(group.name for group in inventory.groups['testbeds'].child_groups) == ['grid', 'sb8']
    assert len(inventory.groups['first_row'].get_hosts()) == 22
    assert len(inventory.groups['image_baseline_2_0'].get_hosts()) == 400
    assert host_vars(inventory, 'node3-7.grid')['console_port'] == 7307


def test_host_in_two_groups_merges(parse):
    inventory = parse('''\
        plugin: cluster.netboot.nodes
        groups:
          grid:
            nodes: node[1-2]-[1-2].grid
            ip: "10.10.{x}.{y}"
          batch:
            nodes: node1-[1-2].grid
            mac_file: macs.csv
        ''', {'macs.csv': MACS})
    node = host_vars(inventory, 'node1-1.grid')
    assert node['ip'] == '10.10.1.1' and node['mac'] == '00:0d:b9:0a:01:01'
    assert sorted(group.name for group in inventory.get_host('node1-1.grid').groups) == ['batch', 'grid']


def test_yaml_mac_file(parse):
    inventory = parse(GRID.replace('macs.csv', 'macs.yml'), {'macs.yml': '- {name: node2-2.grid, mac: "00:0d:b9:0a:02:02"}\n'})
    assert host_vars(inventory, 'node2-2.grid')['mac'] == '00:0d:b9:0a:02:02'


def test_mac_rows_for_unknown_hosts_warn(parse, plugin, monkeypatch):
    warnings = []
    monkeypatch.setattr(plugin.display, 'warning', warnings.append)
    parse(GRID, {'macs.csv': MACS + 'node99-1.grid,00:11:22:33:44:55\n'})
    assert len(warnings) == 1 and 'node99-1.grid' in warnings[0] and 'macs.csv' in warnings[0]


def test_empty_groups_is_an_empty_inventory(parse):
    inventory = parse('plugin: cluster.netboot.nodes\n')
    assert not inventory.hosts


# Each bad inventory names the file and the line of the offending key.
BAD = [
    ('groups:\n  grid:\n    nodes: node[1-2\n', 3, 'invalid node range'),
    ('groups:\n  grid:\n    nodes: node[1-2]\n    ip: "10.10.{x}.{y}"\n', 4, r'node1 has no \{y\}'),
    ('groups:\n  grid:\n    nodes: node[1-300]\n    ip: "10.10.0.{x}"\n', 4, "node256: invalid IPv4 address '10.10.0.256'"),
    ('groups:\n  grid:\n    nodes: node[1-2]\n    ip: "10.0.0.{x.real}"\n', 4, r'unknown field \{x.real\}'),
    ('groups:\n  grid:\n    nodes: node[1-2]\n    ip: "10.0.0.{x"\n', 4, 'invalid template'),
    ('groups:\n  grid:\n    nodes: n[1-2]\n    ip: 10.0.0.1\n    ip_start: 10.0.0.1\n', 5, 'ip or ip_start, not both'),
    ('groups:\n  grid:\n    nodes: n[1-300]\n    ip_start: 255.255.255.1\n', 4, 'run past 255.255.255.255'),
    ('groups:\n  grid:\n    nodes: node[1-2]\n    nodez: x\n', 4, "unknown key 'nodez'"),
    ('groups:\n  grid:\n    vars: {a: 1}\n', 2, 'declares no nodes'),
    ('groups:\n  grid:\n    nodes: n1\n    nodes_file: f.txt\n', 4, 'not both'),
    ('groups:\n  grid:\n    nodes: 5\n', 3, 'must be a node range'),
    ('groups:\n  grid:\n    nodes: n1\n    vars: [1]\n', 4, 'must be a mapping'),
    ('groups:\n  grid:\n    nodes: n1\n    children: [nowhere]\n', 4, "unknown group 'nowhere'"),
    ('groups:\n  a:\n    nodes: n1\n    children: [b]\n  b:\n    children: [a]\n', 6, 'a -> b -> a'),
    ('groups:\n  a:\n    nodes: n[1-2]\n    ip_start: 10.0.0.1\n  b:\n    nodes: m1\n    ip: 10.0.0.2\n', None,
     r'duplicate ip 10.0.0.2: n2 \(\S+ line 5\) and m1 \(\S+ line 8\)'),
    ('groups:\n  a:\n    nodes: n1\n    ip: 10.0.0.1\n  b:\n    nodes: n1\n    ip: 10.0.0.2\n', 7, 'n1 gets ip 10.0.0.2 here, but 10.0.0.1 from'),
    ('groups:\n  a:\n    nodes: n1\n    name: "n{x}"\n', 4, 'only goes with nodes_file'),
    ('groups: [a]\n', 1, 'must be a mapping'),
    ('groups:\n  a: [1]\n', 2, 'must be a mapping'),
    ('groupz:\n  a:\n    nodes: n1\n', 1, 'unknown option'),
    ('groups:\n  a:\n    nodes: n1\n   ip: x\n', 4, 'YAML'),
    ('groups:\n  g:\n    nodes: n[1-99999999]\n', 3, r"'n\[1-99999999\]' names 99999999 nodes, more than max_nodes \(1000000\)"),
    ('groups:\n  g:\n    nodes: [n1, "m[1-20]-[1-99999]"]\n', 3, r'names 1999980 nodes, more than max_nodes'),
    ('max_nodes: 2\ngroups:\n  g:\n    nodes: n[1-3]\n', 4, r'more than max_nodes \(2\)'),
    ('max_nodes: 4\ngroups:\n  g:\n    nodes: [n1, n2, "m[1-3]"]\n', 4, r'the ranges name more than max_nodes \(4\)'),
    ('groups:\n  g:\n    nodes: n[1-2]\n    ip: "224.0.0.{x}"\n', 4, r'host n1: 224.0.0.1 is a multicast address'),
    ('groups:\n  g:\n    nodes: n[1-2]\n    ip_start: 0.0.0.1\n', 4, r'host n1: 0.0.0.1 is in 0.0.0.0/8'),
    ('groups:\n  g:\n    nodes: n[0-1]\n    ip: "10.20.0.{index}"\n    network: 10.20.0.0/24\n', 4,
     r'host n0: 10.20.0.0 is the network address of 10.20.0.0/24'),
    ('groups:\n  g:\n    nodes: n[1-300]\n    ip_start: 10.20.0.1\n    network: 10.20.0.0/24\n', 4,
     r'host n255: 10.20.0.255 is the broadcast address of 10.20.0.0/24'),
    ('groups:\n  g:\n    nodes: n[1-2]\n    ip_start: 10.20.0.1\n    network: 10.20.0.1/24\n', 5, 'host bits are set'),
    ('groups:\n  g:\n    nodes: n[1-2]\n    network: 10.20.0.0/24\n', 4, 'only goes with ip or ip_start'),
    ('groups:\n  g:\n    nodes: %s[1-2]\n' % ('n' * 63), 3, 'has a part of 64 characters; at most 63'),
]


@pytest.mark.parametrize('body, line, message', BAD)
def test_errors_name_file_and_line(parse, tmp_path, body, line, message):
    with pytest.raises(AnsibleParserError) as caught:
        parse('plugin: cluster.netboot.nodes\n' + body, name='bad.netboot.yml')
    text = str(caught.value)
    path = str(tmp_path / 'bad.netboot.yml')
    assert path in text
    if line is not None:
        assert '%s line %d:' % (path, line + 1) in text
    if message is not None:
        assert re.search(message, text), text


NODE_FILE_BAD = [
    ('1,1\n\nnode[1-\n', '"node{x}-{y}"', 3, 'invalid node range'),
    ('1,1\n', None, 1, 'need the group\'s name template'),
    ('1,2,3,4\n', '"n{x}"', 1, 'at most 3 coordinates'),
    ('1\n', '"n[{x}-9]"', 1, 'not one node name'),
    ('n1\n# again\nn1\n', None, None, r'n1 is listed twice: \S+ line 1 and \S+ line 3'),
    ('n1\nn[1-99999999]\n', None, 2, r"'n\[1-99999999\]' names 99999999 nodes, more than max_nodes"),
    ('%s\n' % ('n' * 64), None, 1, 'has a part of 64 characters'),
    ('1\n', '"%s{x}"' % ('n' * 63), 1, 'has a part of 64 characters'),
]


@pytest.mark.parametrize('content, name, line, message', NODE_FILE_BAD)
def test_node_file_errors_name_its_line(parse, tmp_path, content, name, line, message):
    body = 'plugin: cluster.netboot.nodes\ngroups:\n  a:\n    nodes_file: nodes.txt\n'
    if name:
        body += '    name: %s\n' % name
    with pytest.raises(AnsibleParserError) as caught:
        parse(body, {'nodes.txt': content}, name='bad.netboot.yml')
    text = str(caught.value)
    if line is not None:
        assert '%s line %d:' % (tmp_path / 'nodes.txt', line) in text
    assert re.search(message, text), text


def test_missing_node_and_mac_files_are_named(parse, tmp_path):
    with pytest.raises(AnsibleParserError, match=re.escape(str(tmp_path / 'gone.txt'))):
        parse('plugin: cluster.netboot.nodes\ngroups:\n  a:\n    nodes_file: gone.txt\n')
    with pytest.raises(AnsibleParserError, match=re.escape(str(tmp_path / 'gone.csv'))):
        parse('plugin: cluster.netboot.nodes\ngroups:\n  a:\n    nodes: n1\n    mac_file: gone.csv\n')


def test_bad_mac_rows_name_the_mac_file_line(parse, tmp_path):
    with pytest.raises(AnsibleParserError) as caught:
        parse(GRID, {'macs.csv': MACS + 'node2-2.grid,not-a-mac\n'})
    assert '%s line 4' % (tmp_path / 'macs.csv') in str(caught.value)
    with pytest.raises(AnsibleParserError, match='duplicate mac'):
        parse(GRID, {'macs.csv': MACS + 'node2-2.grid,00:0d:b9:0a:01:01\n'})


def test_a_node_file_may_name_max_nodes_in_all(parse, tmp_path):
    body = 'plugin: cluster.netboot.nodes\nmax_nodes: 5\ngroups:\n  a:\n    nodes_file: nodes.txt\n'
    assert len(parse(body, {'nodes.txt': 'n[1-3]\nm[1-2]\n'}).hosts) == 5
    with pytest.raises(AnsibleParserError, match=r'nodes.txt line 2: .*more than max_nodes \(5\)'):
        parse(body, {'nodes.txt': 'n[1-3]\nm[1-3]\n'})


def test_byte_order_marks_are_not_part_of_node_and_mac_files(parse, tmp_path):
    (tmp_path / 'nodes.txt').write_bytes(b'\xef\xbb\xbf1\n2\n')
    (tmp_path / 'names.txt').write_bytes(b'\xef\xbb\xbfn1\nn2\n')
    (tmp_path / 'macs.csv').write_bytes(b'\xef\xbb\xbfname,mac\nn1,00:0d:b9:0a:00:01\n')
    inventory = parse('plugin: cluster.netboot.nodes\ngroups:\n  a:\n    nodes_file: nodes.txt\n    name: "c{x}"\n'
                      '  b:\n    nodes_file: names.txt\n    mac_file: macs.csv\n')
    assert sorted(inventory.hosts) == ['c1', 'c2', 'n1', 'n2']
    assert host_vars(inventory, 'n1')['mac'] == '00:0d:b9:0a:00:01'


@pytest.mark.parametrize('mac, message', [
    ('1', "invalid MAC address '1'"),
    ('0:d:b9:a:0:1', 'invalid MAC address'),
    ('ff:ff:ff:ff:ff:ff', 'is the broadcast address'),
    ('00:00:00:00:00:00', 'is all zero'),
    ('01:00:5e:00:00:02', 'is a multicast address'),
])
def test_mac_files_refuse_macs_no_nic_has(parse, tmp_path, mac, message):
    with pytest.raises(AnsibleParserError) as caught:
        parse(GRID, {'macs.csv': MACS + 'node2-2.grid,%s\n' % mac})
    assert '%s line 4 (node2-2.grid): ' % (tmp_path / 'macs.csv') in str(caught.value)
    assert message in str(caught.value)


def test_network_accepts_the_hosts_inside(parse):
    inventory = parse('plugin: cluster.netboot.nodes\ngroups:\n  g:\n    nodes: n[1-254]\n    ip_start: 10.20.0.1\n'
                      '    network: 10.20.0.0/24\n')
    assert host_vars(inventory, 'n254')['ip'] == '10.20.0.254'


def test_nothing_is_added_when_the_file_is_bad(plugin, tmp_path):
    path = tmp_path / 'bad.netboot.yml'
    path.write_text('plugin: cluster.netboot.nodes\ngroups:\n  a:\n    nodes: n[1-3]\n  b:\n    nodes: m1\n    ip: nope\n')
    inventory = InventoryData()
    with pytest.raises(AnsibleParserError):
        plugin.parse(inventory, DataLoader(), str(path), cache=False)
    assert not inventory.hosts and 'a' not in inventory.groups


@pytest.mark.parametrize('template, coordinates, expected', [
    ('10.10.{x}.{y}', (3, 7), '10.10.3.7'),
    ('10.0.0.{index}', (9,), '10.0.0.9'),
    ('node{x:02d}', (4,), 'node04'),
    ('{x}-{y}-{z}', (1, 2, 8), '1-2-8'),
])
def test_render(template, coordinates, expected):
    assert nodes_plugin.render(nodes_plugin.check_template(template), coordinates, 'test') == expected


def test_index_needs_exactly_one_number():
    with pytest.raises(ValueError, match=r'no \{index\}'):
        nodes_plugin.render('{index}', (1, 2), 'host node1-2')


def test_a_discovered_node_file_is_a_mac_file_with_addresses(parse):
    """The node file node_discovery writes (name,ip,mac) is read as it is: the MAC, and the address where the
    group gives none; an address that contradicts the group's is an error naming both."""
    discovered = 'name,ip,mac\nnode1,10.18.1.1,52:54:00:00:00:0a\nnode2,10.18.1.2,52:54:00:00:00:0b\n'
    inventory = parse('''\
        plugin: cluster.netboot.nodes
        groups:
          new:
            nodes: node[1-2]
            mac_file: nodes.csv
        ''', {'nodes.csv': discovered})
    node = host_vars(inventory, 'node2')
    assert (node['ip'], node['ansible_host'], node['mac']) == ('10.18.1.2', '10.18.1.2', '52:54:00:00:00:0b')
    same = parse('''\
        plugin: cluster.netboot.nodes
        groups:
          new:
            nodes: node[1-2]
            ip_start: 10.18.1.1
            mac_file: nodes.csv
        ''', {'nodes.csv': discovered})
    assert host_vars(same, 'node1')['ip'] == '10.18.1.1'
    with pytest.raises(AnsibleParserError, match='nodes.csv line 2: host node1 gets ip 10.18.1.1 here, but 10.18.1.8'):
        parse('''\
            plugin: cluster.netboot.nodes
            groups:
              new:
                nodes: node[1-2]
                ip_start: 10.18.1.8
                mac_file: nodes.csv
            ''', {'nodes.csv': discovered})
