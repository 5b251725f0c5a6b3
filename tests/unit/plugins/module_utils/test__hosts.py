# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The backend-neutral host list: syntax, canonical forms, the merge and its conflict checks."""

from __future__ import annotations

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _dhcpd as dhcpd
from ansible_collections.cluster.netboot.plugins.module_utils import _hosts as hostlib
from ansible_collections.cluster.netboot.plugins.module_utils._nodes import NodeListError, NodeRecord, from_list


def hosts(*items):
    return from_list(list(items), hostlib.HOST_FIELDS, label='hosts')


def host(name, mac, ip, **extra):
    return dict(name=name, mac=mac, ip=ip, **extra)


# --- host syntax ------------------------------------------------------------

@pytest.mark.parametrize('field, value', [
    ('name', 'node;1'), ('name', 'node{1'), ('name', 'node}1'), ('name', 'node"1'), ('name', "node'1"),
    ('name', 'a+b'), ('name', 'a..b'),
    ('hostname', 'n1;x'), ('hostname', 'n1 x'), ('hostname', 'n1"'), ('hostname', 'n1}'),
    ('filename', 'pxe linux.0'), ('filename', 'pxelinux.0;'), ('filename', 'a"b'), ('filename', 'a{b'),
    ('filename', 'a}b'), ('filename', 'a\\b'), ('filename', "a'b"), ('filename', 'a\tb'),
])
def test_values_that_could_break_the_syntax_are_refused(field, value):
    item = host('node1', '00:0d:b9:0a:12:34', '10.18.1.18')
    item[field] = value
    record = NodeRecord(name=item['name'], ip=item['ip'], mac=item['mac'],
                        extra={key: val for key, val in item.items() if key in ('hostname', 'filename')},
                        origin='hosts[0]')
    with pytest.raises(hostlib.HostsError, match=field if field != 'name' else 'host name'):
        hostlib.check_host_syntax(record)


@pytest.mark.parametrize('value', ['node 1', 'node\n1'])
def test_names_with_white_space_are_refused_while_loading(value):
    with pytest.raises(NodeListError, match='white space'):
        hosts(host(value, '00:0d:b9:0a:12:34', '10.18.1.18'))


def test_a_binding_needs_mac_and_ip():
    with pytest.raises(hostlib.HostsError, match=r'node1 \(hosts\[0\]\): a host entry needs both mac and ip'):
        hostlib.plan_hosts([], hosts({'name': 'node1', 'mac': '00:0d:b9:0a:12:34'}))


# --- planning -----------------------------------------------------------------

EXISTING = (
    'host old1 { hardware ethernet 00:0d:b9:00:00:01; fixed-address 10.18.1.1; }\n'
    'host old2 { hardware ethernet 00:0d:b9:00:00:02; fixed-address 10.18.1.2; }\n'
)


def existing():
    return dhcpd.parse_hosts(EXISTING, 'hosts.conf')


def test_plan_reports_added_updated_and_leaves_unchanged_ones_out():
    plan = hostlib.plan_hosts(existing(), hosts(
        host('old1', '00:0d:b9:00:00:01', '10.18.1.1'),
        host('old2', '00:0d:b9:00:00:02', '10.18.1.2', filename='pxelinux.0'),
        host('new', '00:0d:b9:00:00:03', '10.18.1.3')))
    assert (plan.added, plan.updated, plan.removed) == (['new'], ['old2'], [])
    assert sorted(r.name for r in plan.records) == ['new', 'old1', 'old2']


def test_duplicate_in_the_input_names_both_hosts():
    with pytest.raises(NodeListError, match=r'duplicate ip 10.18.1.9: a \(hosts\[0\]\) and b \(hosts\[1\]\)'):
        hostlib.plan_hosts([], hosts(host('a', '00:0d:b9:00:00:0a', '10.18.1.9'),
                                     host('b', '00:0d:b9:00:00:0b', '10.18.1.9')))
    with pytest.raises(NodeListError, match=r'duplicate mac 00:0d:b9:00:00:0a: a \(hosts\[0\]\) and b \(hosts\[1\]\)'):
        hostlib.plan_hosts([], hosts(host('a', '00:0d:b9:00:00:0a', '10.18.1.9'),
                                     host('b', '00-0D-B9-00-00-0A', '10.18.1.10')))
    with pytest.raises(NodeListError, match=r'duplicate name'):
        hostlib.plan_hosts([], hosts(host('a', '00:0d:b9:00:00:0a', '10.18.1.9'),
                                     host('A', '00:0d:b9:00:00:0b', '10.18.1.10')))


@pytest.mark.parametrize('clash, message', [
    (host('new', '00:0d:b9:00:00:09', '10.18.1.2'), r'duplicate ip 10.18.1.2: old2 \(hosts.conf line 2\) and new \(hosts\[0\]\)'),
    (host('new', '00:0D:B9:00:00:01', '10.18.1.9'), r'duplicate mac 00:0d:b9:00:00:01: old1 \(hosts.conf line 1\) and new \(hosts\[0\]\)'),
])
def test_duplicate_against_the_file_names_both_hosts(clash, message):
    with pytest.raises(NodeListError, match=message):
        hostlib.plan_hosts(existing(), hosts(clash))


def test_hosts_may_swap_addresses_in_one_call():
    plan = hostlib.plan_hosts(existing(), hosts(host('old1', '00:0d:b9:00:00:01', '10.18.1.2'),
                                                host('old2', '00:0d:b9:00:00:02', '10.18.1.1')))
    assert plan.updated == ['old1', 'old2']


def test_exclusive_drops_the_others_and_frees_their_addresses():
    plan = hostlib.plan_hosts(existing(), hosts(host('new', '00:0d:b9:00:00:01', '10.18.1.2')), exclusive=True)
    assert (plan.added, plan.removed, [r.name for r in plan.records]) == (['new'], ['old1', 'old2'], ['new'])


def test_absent_removes_named_hosts_and_ignores_unknown_ones():
    plan = hostlib.plan_hosts(existing(), hosts({'name': 'OLD1'}, {'name': 'ghost'}), state='absent')
    assert plan.removed == ['old1']
    assert [r.name for r in plan.records] == ['old2']
    with pytest.raises(hostlib.HostsError, match='exclusive only applies'):
        hostlib.plan_hosts(existing(), hosts({'name': 'old1'}), state='absent', exclusive=True)


def test_next_server_must_be_an_address():
    with pytest.raises(hostlib.HostsError, match=r'a \(hosts\[0\]\): next_server: invalid IPv4'):
        hostlib.plan_hosts([], hosts(host('a', '00:0d:b9:00:00:0a', '10.18.1.9', next_server='tftp.example')))


# --- subnets ---------------------------------------------------------------------

def test_addresses_outside_every_subnet_are_refused():
    records = hostlib.plan_hosts([], hosts(host('in', '00:0d:b9:00:00:0a', '10.18.200.9'),
                                           host('out', '00:0d:b9:00:00:0b', '10.20.0.1'))).records
    with pytest.raises(hostlib.HostsError, match=r'out \(hosts\[1\]\): 10.20.0.1 is outside every subnet declared in m.conf \(10.18.0.0/16\)'):
        hostlib.check_in_subnets(records, ['10.18.0.0/16'], 'm.conf')
    hostlib.check_in_subnets(records[:1], ['10.18.0.0/16'], 'm.conf')


@pytest.mark.parametrize('ip, message', [
    ('10.18.0.0', '10.18.0.0 is the network address of 10.18.0.0/16'),
    ('10.18.255.255', '10.18.255.255 is the broadcast address of 10.18.0.0/16'),
    ('10.20.1.0', '10.20.1.0 is the network address of 10.20.1.0/24'),
])
def test_network_and_broadcast_addresses_of_a_subnet_are_refused(ip, message):
    records = hostlib.plan_hosts([], hosts(host('in', '00:0d:b9:00:00:0a', '10.18.200.9'),
                                           host('bad', '00:0d:b9:00:00:0b', ip))).records
    with pytest.raises(hostlib.HostsError, match=r'bad \(hosts\[1\]\): %s' % message):
        hostlib.check_in_subnets(records, ['10.18.0.0/16', '10.20.1.0/24'], 'm.conf')


# --- loading ------------------------------------------------------------------

@pytest.mark.parametrize('content', ['', '\n# only a comment\n', 'name,mac,ip\n', '\ufeffname,mac,ip\n', '[]', '---\n'])
def test_an_empty_hosts_file_is_refused_only_with_exclusive(tmp_path, content):
    path = tmp_path / ('nodes.yml' if content.startswith('-') else 'nodes.txt')
    path.write_text(content, encoding='utf-8')
    with pytest.raises(hostlib.HostsError, match=r'hosts_file .*nodes\.(txt|yml) lists no hosts: with exclusive=true'):
        hostlib.load(hosts_file=str(path), exclusive=True)
    assert hostlib.load(hosts_file=str(path), exclusive=True, allow_empty=True) == []
    assert hostlib.load(hosts_file=str(path)) == []
    with pytest.raises(hostlib.HostsError, match=r'^hosts lists no hosts'):
        hostlib.load(hosts=[], exclusive=True)


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / 'nodes.csv'
    path.write_bytes(b'\xef\xbb\xbfname,mac,ip\nn1,00:0d:b9:00:00:0a,10.18.1.9\n')
    (record,) = hostlib.load(hosts_file=str(path))
    assert (record.name, record.mac, record.ip) == ('n1', '00:0d:b9:00:00:0a', '10.18.1.9')


def test_a_hostname_option_with_a_label_over_63_characters_is_refused():
    with pytest.raises(hostlib.HostsError, match=r'a \(hosts\[0\]\): hostname: .*a part of 64 characters'):
        hostlib.plan_hosts([], hosts(host('a', '00:0d:b9:00:00:0a', '10.18.1.9', hostname='x' * 64 + '.lab')))
    hostlib.plan_hosts([], hosts(host('a', '00:0d:b9:00:00:0a', '10.18.1.9', hostname='x' * 63 + '.lab')))
