# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _dhcpd as dhcpd
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError
from ansible_collections.cluster.netboot.plugins.module_utils._nodes import NodeListError, NodeRecord, from_list

REAL_DHCPD = shutil.which('dhcpd') or ('/usr/sbin/dhcpd' if os.access('/usr/sbin/dhcpd', os.X_OK) else None)


def hosts(*items):
    return from_list(list(items), dhcpd.HOST_FIELDS, label='hosts')


def host(name, mac, ip, **extra):
    return dict(name=name, mac=mac, ip=ip, **extra)


# --- tokenizer --------------------------------------------------------------

def test_tokenize_words_strings_punctuation_and_lines():
    tokens = dhcpd.tokenize('subnet 10.0.0.0 netmask 255.0.0.0 { # a comment "x"\n'
                            '  filename "a b;c";\n}\n', 'main.conf')
    assert [(t.kind, t.value, t.line) for t in tokens] == [
        ('word', 'subnet', 1), ('word', '10.0.0.0', 1), ('word', 'netmask', 1), ('word', '255.0.0.0', 1),
        ('punct', '{', 1), ('word', 'filename', 2), ('string', 'a b;c', 2), ('punct', ';', 2), ('punct', '}', 3)]


def test_tokenize_rejects_an_unterminated_string_with_its_line():
    with pytest.raises(dhcpd.DhcpdError, match=r'main.conf line 2: unterminated string'):
        dhcpd.tokenize('authoritative;\nfilename "pxelinux.0;\n', 'main.conf')


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
    with pytest.raises(dhcpd.DhcpdError, match=field if field != 'name' else 'host name'):
        dhcpd.check_host_syntax(record)


@pytest.mark.parametrize('value', ['node 1', 'node\n1'])
def test_names_with_white_space_are_refused_while_loading(value):
    with pytest.raises(NodeListError, match='white space'):
        hosts(host(value, '00:0d:b9:0a:12:34', '10.18.1.18'))


def test_a_binding_needs_mac_and_ip():
    with pytest.raises(dhcpd.DhcpdError, match=r'node1 \(hosts\[0\]\): a host entry needs both mac and ip'):
        dhcpd.plan_hosts([], hosts({'name': 'node1', 'mac': '00:0d:b9:0a:12:34'}))


# --- render / parse -----------------------------------------------------------

def test_render_is_sorted_by_address_and_canonical():
    records = dhcpd.plan_hosts([], hosts(
        host('node10', '00-0D-B9-0A-12-3A', '10.18.1.100'),
        host('node2', '000d.b90a.1232', '10.18.1.9', hostname='node2.sb8', filename='efi64/syslinux.efi',
             next_server='10.18.0.1'),
    )).records
    text = dhcpd.render_hosts(records).decode()
    assert text.splitlines()[2:] == [
        'host node2 { hardware ethernet 00:0d:b9:0a:12:32; fixed-address 10.18.1.9; '
        'option host-name "node2.sb8"; filename "efi64/syslinux.efi"; next-server 10.18.0.1; }',
        'host node10 { hardware ethernet 00:0d:b9:0a:12:3a; fixed-address 10.18.1.100; }',
    ]
    assert dhcpd.render_hosts(list(reversed(records))) == text.encode()


def test_parse_reads_back_what_render_writes():
    wanted = hosts(host('a', '00:0d:b9:0a:12:34', '10.18.1.18', filename='pxelinux.0'),
                   host('b', '00:0d:b9:0a:12:35', '10.18.1.19', hostname='b.sb8', next_server='10.18.0.1'))
    text = dhcpd.render_hosts(dhcpd.plan_hosts([], wanted).records).decode()
    parsed = dhcpd.parse_hosts(text, '/etc/dhcp/dhcpd.hosts.conf')
    assert [(r.name, r.mac, r.ip, dict(r.extra)) for r in parsed] == [
        ('a', '00:0d:b9:0a:12:34', '10.18.1.18', {'filename': 'pxelinux.0'}),
        ('b', '00:0d:b9:0a:12:35', '10.18.1.19', {'hostname': 'b.sb8', 'next_server': '10.18.0.1'}),
    ]
    assert parsed[1].origin == '/etc/dhcp/dhcpd.hosts.conf line 4'
    # Unchanged input gives the same bytes back.
    assert dhcpd.render_hosts(dhcpd.plan_hosts(parsed, wanted).records).decode() == text


def test_parse_accepts_free_layout_and_comments():
    text = ('# by hand\nhost node1\n{\n  hardware ethernet 00-0D-B9-0A-12-34;  # the NIC\n'
            '  fixed-address 10.18.1.18;\n}\n')
    (record,) = dhcpd.parse_hosts(text, 'h.conf')
    assert (record.name, record.mac, record.ip, record.origin) == ('node1', '00:0d:b9:0a:12:34', '10.18.1.18', 'h.conf line 2')


@pytest.mark.parametrize('text, message', [
    ('subnet 10.0.0.0 netmask 255.0.0.0 { }\n', r'h.conf line 1: expected a host declaration'),
    ('host a { hardware ethernet 00:0d:b9:0a:12:34; fixed-address 10.0.0.1; option routers 10.0.0.254; }\n',
     r'h.conf line 1: host a: expected host-name, found routers'),
    ('host a { hardware ethernet 00:0d:b9:0a:12:34; fixed-address 10.0.0.1; ddns-hostname "a"; }\n',
     r'h.conf line 1: host a: expected one of'),
    ('host a { hardware ethernet 00:0d:b9:0a:12:34; }\n', r'host a needs both hardware ethernet and fixed-address'),
    ('host a { hardware ethernet 00:0d:b9:0a:12:34; fixed-address 10.0.0.1 }\n', r'line 1: host a: expected ;, found }'),
    ('host a { hardware ethernet 00:0d:b9:0a:12:34;\n fixed-address 10.0.0.1;\n', r'line 2: host a: expected one of .* end of the file'),
    ('host a { hardware ethernet zz:0d; fixed-address 10.0.0.1; }\n', r'host a: invalid MAC'),
    ('host a { hardware ethernet 00:0d:b9:0a:12:34; fixed-address node1.example; }\n', r'host a: invalid IPv4'),
    ('host a { hardware ethernet 00:0d:b9:0a:12:34; fixed-address 10.0.0.1; fixed-address 10.0.0.2; }\n', r'given twice'),
    ('host a { hardware ethernet 00:0d:b9:0a:12:34; fixed-address 10.0.0.1; filename "a\\"b"; }\n', r'escaped characters'),
    ('host a { hardware ethernet 00:0d:b9:0a:12:34; fixed-address 10.0.0.1; }\n'
     'host A { hardware ethernet 00:0d:b9:0a:12:35; fixed-address 10.0.0.2; }\n', r'duplicate name A: a \(h.conf line 1\) and A \(h.conf line 2\)'),
])
def test_parse_refuses_what_it_did_not_write(text, message):
    with pytest.raises(NetbootError, match=message):
        dhcpd.parse_hosts(text, 'h.conf')


# --- planning -----------------------------------------------------------------

EXISTING = (
    'host old1 { hardware ethernet 00:0d:b9:00:00:01; fixed-address 10.18.1.1; }\n'
    'host old2 { hardware ethernet 00:0d:b9:00:00:02; fixed-address 10.18.1.2; }\n'
)


def existing():
    return dhcpd.parse_hosts(EXISTING, 'hosts.conf')


def test_plan_reports_added_updated_and_leaves_unchanged_ones_out():
    plan = dhcpd.plan_hosts(existing(), hosts(
        host('old1', '00:0d:b9:00:00:01', '10.18.1.1'),
        host('old2', '00:0d:b9:00:00:02', '10.18.1.2', filename='pxelinux.0'),
        host('new', '00:0d:b9:00:00:03', '10.18.1.3')))
    assert (plan.added, plan.updated, plan.removed) == (['new'], ['old2'], [])
    assert sorted(r.name for r in plan.records) == ['new', 'old1', 'old2']


def test_duplicate_in_the_input_names_both_hosts():
    with pytest.raises(NodeListError, match=r'duplicate ip 10.18.1.9: a \(hosts\[0\]\) and b \(hosts\[1\]\)'):
        dhcpd.plan_hosts([], hosts(host('a', '00:0d:b9:00:00:0a', '10.18.1.9'),
                                   host('b', '00:0d:b9:00:00:0b', '10.18.1.9')))
    with pytest.raises(NodeListError, match=r'duplicate mac 00:0d:b9:00:00:0a: a \(hosts\[0\]\) and b \(hosts\[1\]\)'):
        dhcpd.plan_hosts([], hosts(host('a', '00:0d:b9:00:00:0a', '10.18.1.9'),
                                   host('b', '00-0D-B9-00-00-0A', '10.18.1.10')))
    with pytest.raises(NodeListError, match=r'duplicate name'):
        dhcpd.plan_hosts([], hosts(host('a', '00:0d:b9:00:00:0a', '10.18.1.9'),
                                   host('A', '00:0d:b9:00:00:0b', '10.18.1.10')))


@pytest.mark.parametrize('clash, message', [
    (host('new', '00:0d:b9:00:00:09', '10.18.1.2'), r'duplicate ip 10.18.1.2: old2 \(hosts.conf line 2\) and new \(hosts\[0\]\)'),
    (host('new', '00:0D:B9:00:00:01', '10.18.1.9'), r'duplicate mac 00:0d:b9:00:00:01: old1 \(hosts.conf line 1\) and new \(hosts\[0\]\)'),
])
def test_duplicate_against_the_file_names_both_hosts(clash, message):
    with pytest.raises(NodeListError, match=message):
        dhcpd.plan_hosts(existing(), hosts(clash))


def test_hosts_may_swap_addresses_in_one_call():
    plan = dhcpd.plan_hosts(existing(), hosts(host('old1', '00:0d:b9:00:00:01', '10.18.1.2'),
                                              host('old2', '00:0d:b9:00:00:02', '10.18.1.1')))
    assert plan.updated == ['old1', 'old2']


def test_exclusive_drops_the_others_and_frees_their_addresses():
    plan = dhcpd.plan_hosts(existing(), hosts(host('new', '00:0d:b9:00:00:01', '10.18.1.2')), exclusive=True)
    assert (plan.added, plan.removed, [r.name for r in plan.records]) == (['new'], ['old1', 'old2'], ['new'])


def test_absent_removes_named_hosts_and_ignores_unknown_ones():
    plan = dhcpd.plan_hosts(existing(), hosts({'name': 'OLD1'}, {'name': 'ghost'}), state='absent')
    assert plan.removed == ['old1']
    assert [r.name for r in plan.records] == ['old2']
    with pytest.raises(dhcpd.DhcpdError, match='exclusive only applies'):
        dhcpd.plan_hosts(existing(), hosts({'name': 'old1'}), state='absent', exclusive=True)


def test_next_server_must_be_an_address():
    with pytest.raises(dhcpd.DhcpdError, match=r'a \(hosts\[0\]\): next_server: invalid IPv4'):
        dhcpd.plan_hosts([], hosts(host('a', '00:0d:b9:00:00:0a', '10.18.1.9', next_server='tftp.example')))


# --- main config --------------------------------------------------------------

def test_subnets_follow_shared_networks_and_includes_but_skip_the_hosts_file(tmp_path):
    more = tmp_path / 'more.conf'
    more.write_text('subnet 192.168.7.0 netmask 255.255.255.128 { }\n')
    hosts_file = tmp_path / 'hosts.conf'
    hosts_file.write_text('this would not even parse {')
    main = tmp_path / 'dhcpd.conf'
    main.write_text(
        'option arch code 93 = unsigned integer 16;\noption subnet-mask 255.255.0.0;\n'
        'shared-network lab {\n  subnet 10.18.0.0 netmask 255.255.0.0 { range 10.18.2.1 10.18.2.9; }\n'
        '  subnet 10.19.0.0 netmask 255.255.255.0 { }\n}\n'
        'include "%s";\ninclude "%s";\n# subnet 1.2.3.0 netmask 255.255.255.0 {\n' % (more, hosts_file))
    assert dhcpd.subnets(str(main), skip=[str(hosts_file)]) == ['10.18.0.0/16', '10.19.0.0/24', '192.168.7.0/25']


@pytest.mark.parametrize('text, message', [
    ('subnet 10.0.0.0 { }\n', r'line 1: expected "subnet ADDRESS netmask MASK {"'),
    ('subnet 10.0.0.0 netmask 255.0.255.0 { }\n', r'line 1: invalid netmask'),
    ('include "/nonexistent/cnb-dhcpd.conf";\n', r'cannot read /nonexistent/cnb-dhcpd.conf'),
])
def test_subnets_report_what_they_cannot_read(tmp_path, text, message):
    main = tmp_path / 'dhcpd.conf'
    main.write_text(text)
    with pytest.raises(dhcpd.DhcpdError, match=message):
        dhcpd.subnets(str(main))


def test_addresses_outside_every_subnet_are_refused():
    records = dhcpd.plan_hosts([], hosts(host('in', '00:0d:b9:00:00:0a', '10.18.200.9'),
                                         host('out', '00:0d:b9:00:00:0b', '10.20.0.1'))).records
    with pytest.raises(dhcpd.DhcpdError, match=r'out \(hosts\[1\]\): 10.20.0.1 is outside every subnet declared in m.conf \(10.18.0.0/16\)'):
        dhcpd.check_in_subnets(records, ['10.18.0.0/16'], 'm.conf')
    dhcpd.check_in_subnets(records[:1], ['10.18.0.0/16'], 'm.conf')


@pytest.mark.parametrize('ip, message', [
    ('10.18.0.0', '10.18.0.0 is the network address of 10.18.0.0/16'),
    ('10.18.255.255', '10.18.255.255 is the broadcast address of 10.18.0.0/16'),
    ('10.20.1.0', '10.20.1.0 is the network address of 10.20.1.0/24'),
])
def test_network_and_broadcast_addresses_of_a_subnet_are_refused(ip, message):
    records = dhcpd.plan_hosts([], hosts(host('in', '00:0d:b9:00:00:0a', '10.18.200.9'),
                                         host('bad', '00:0d:b9:00:00:0b', ip))).records
    with pytest.raises(dhcpd.DhcpdError, match=r'bad \(hosts\[1\]\): %s' % message):
        dhcpd.check_in_subnets(records, ['10.18.0.0/16', '10.20.1.0/24'], 'm.conf')


def test_point_include_rewrites_only_the_hosts_include():
    text = ('include "/etc/dhcp/other.conf";\ngroup {\n  include "etc/dhcp/./dhcpd.hosts.conf" ;\n}\n'
            'option domain-name "include";\n')
    rewritten = dhcpd.point_include(text, 'dhcpd.conf', '/etc/dhcp/dhcpd.hosts.conf', '/etc/dhcp/.tmp1')
    assert rewritten == text.replace('"etc/dhcp/./dhcpd.hosts.conf"', '"/etc/dhcp/.tmp1"')
    with pytest.raises(dhcpd.DhcpdError, match=r'dhcpd.conf has no include "/etc/dhcp/x.conf"; statement'):
        dhcpd.point_include(text, 'dhcpd.conf', '/etc/dhcp/x.conf', '/etc/dhcp/.tmp1')


# --- dhcpd -t -------------------------------------------------------------------

class FakeDhcpd:
    """Stands in for module.run_command: records argv/cwd and the files dhcpd would have read."""

    def __init__(self, rc=0, stderr=''):
        self.rc = rc
        self.stderr = stderr
        self.calls = []

    def __call__(self, argv, cwd=None):
        config = argv[argv.index('-cf') + 1]
        with open(config) as handle:
            config_text = handle.read()
        included = config_text.split('include "')[-1].split('"')[0]
        with open(included) as handle:
            self.calls.append({'argv': argv, 'cwd': cwd, 'config': config_text, 'candidate': handle.read(),
                               'candidate_path': included, 'config_path': config})
        return self.rc, '', self.stderr.replace('@CONFIG@', config).replace('@HOSTS@', included)


@pytest.fixture
def live(tmp_path):
    (tmp_path / 'dhcpd.conf').write_text('subnet 10.18.0.0 netmask 255.255.0.0 { }\ninclude "%s/hosts.conf";\n' % tmp_path)
    (tmp_path / 'hosts.conf').write_text('')
    fake = tmp_path / 'dhcpd'
    fake.write_text('#!/bin/sh\nexit 0\n')
    fake.chmod(0o755)
    return tmp_path


def test_check_candidate_runs_dhcpd_on_a_copy_pointing_at_the_candidate(live):
    run = FakeDhcpd()
    dhcpd.check_candidate(run, str(live / 'hosts.conf'), b'host a { }\n', str(live / 'dhcpd.conf'), str(live / 'dhcpd'))
    (call,) = run.calls
    assert call['argv'][:4] == [str(live / 'dhcpd'), '-t', '-4', '-cf'] and call['cwd'] == '/'
    assert call['candidate'] == 'host a { }\n'
    assert os.path.dirname(call['candidate_path']) == str(live) and os.path.dirname(call['config_path']) == str(live)
    assert call['config'].startswith('subnet 10.18.0.0 netmask 255.255.0.0 { }\ninclude "%s/.' % live)
    assert sorted(os.listdir(live)) == ['dhcpd', 'dhcpd.conf', 'hosts.conf']


def test_check_candidate_reports_dhcpd_own_message_with_real_names(live):
    stderr = ('Internet Systems Consortium DHCP Server 4.4.3-P1\nCopyright 2004-2022 Internet Systems Consortium.\n'
              'All rights reserved.\nFor info, please visit https://www.isc.org/software/dhcp/\n'
              '@HOSTS@ line 1: expecting left brace.\nhost a;\n       ^\n'
              '@CONFIG@ line 2: @HOSTS@: bad parse.\nConfiguration file errors encountered -- exiting\n\n'
              'If you think you have received this message due to a bug rather\nexiting.\n')
    run = FakeDhcpd(rc=1, stderr=stderr)
    with pytest.raises(dhcpd.DhcpdError) as caught:
        dhcpd.check_candidate(run, str(live / 'hosts.conf'), b'host a;\n', str(live / 'dhcpd.conf'), str(live / 'dhcpd'))
    hosts_path, config = live / 'hosts.conf', live / 'dhcpd.conf'
    assert str(caught.value) == (
        'dhcpd -t rejected the candidate configuration, nothing was changed:\n'
        '%s (candidate) line 1: expecting left brace.\nhost a;\n       ^\n'
        '%s line 2: %s (candidate): bad parse.\nConfiguration file errors encountered -- exiting' % (hosts_path, config, hosts_path))
    assert sorted(os.listdir(live)) == ['dhcpd', 'dhcpd.conf', 'hosts.conf']


def test_check_candidate_without_config_checks_the_candidate_alone(live):
    run = FakeDhcpd()
    dhcpd.check_candidate(run, str(live / 'hosts.conf'), b'host a { }\n', None, str(live / 'dhcpd'))
    assert run.calls[0]['config'] == 'include "%s";\n' % run.calls[0]['candidate_path']


def test_check_candidate_needs_an_executable_dhcpd(live):
    with pytest.raises(dhcpd.DhcpdError, match='is not an executable dhcpd'):
        dhcpd.check_candidate(FakeDhcpd(), str(live / 'hosts.conf'), b'', None, str(live / 'missing-dhcpd'))


@pytest.mark.skipif(REAL_DHCPD is None, reason='NOT TESTED: dhcpd (isc-dhcp-server) is not installed; the real dhcpd -t check did not run')
def test_real_dhcpd_accepts_rendered_hosts_and_rejects_a_broken_config(live):
    records = dhcpd.plan_hosts([], hosts(host('n1', '00:0d:b9:00:00:0a', '10.18.1.9', hostname='n1.sb8',
                                              filename='pxelinux.0', next_server='10.18.0.1'))).records

    def run(argv, cwd=None):
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr
    dhcpd.check_candidate(run, str(live / 'hosts.conf'), dhcpd.render_hosts(records), str(live / 'dhcpd.conf'), REAL_DHCPD)
    with pytest.raises(dhcpd.DhcpdError, match=r'hosts.conf \(candidate\) line 1: expecting left brace'):
        dhcpd.check_candidate(run, str(live / 'hosts.conf'), b'host n1;\n', str(live / 'dhcpd.conf'), REAL_DHCPD)


# --- the bulk address helpers this module reads 10,000-host files with ----------

@pytest.mark.parametrize('value', ['00-0D-B9-0A-12-34', '00:0d:b9:0a:12:34', '00:0D:b9:0A:12:34', '000d.b90a.1234',
                                   '0:d:b9:a:12:34', '00-0d:b9-0a-12-34', '00:0d:b9:0a:12', 'zz:0d:b9:0a:12:34'])
def test_normalize_mac_many_agrees_with_normalize_mac(value):
    from ansible_collections.cluster.netboot.plugins.module_utils import _addresses
    try:
        expected = _addresses.normalize_mac(value)
    except NetbootError:
        with pytest.raises(NetbootError):
            _addresses.normalize_mac_many([value])
    else:
        assert _addresses.normalize_mac_many([value]) == [expected]


@pytest.mark.parametrize('value', ['10.18.1.18', '0.0.0.0', '255.255.255.255', '010.18.1.18', '10.18.1', '256.1.1.1', ' 10.1.1.1'])
def test_ipv4_many_helpers_agree_with_the_single_ones(value):
    from ansible_collections.cluster.netboot.plugins.module_utils import _addresses
    try:
        expected = (_addresses.parse_ipv4(value), _addresses.ipv4_to_int(value))
    except NetbootError:
        with pytest.raises(NetbootError):
            _addresses.parse_ipv4_many([value])
        with pytest.raises(NetbootError):
            _addresses.ipv4_to_int_many([value])
    else:
        assert (_addresses.parse_ipv4_many([value])[0], _addresses.ipv4_to_int_many([value])[0]) == expected
    assert _addresses.ipv4_network_bounds('10.18.0.0/16') == (0x0A120000, 0x0A12FFFF)
