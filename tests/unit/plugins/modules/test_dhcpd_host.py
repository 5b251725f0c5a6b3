# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import multiprocessing
import os
import re
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.cluster.netboot.plugins.modules import dhcpd_host
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import run_module

NODE2 = {'name': 'node1-2', 'mac': '00:0d:b9:0a:12:34', 'ip': '10.18.1.18'}
NODE3 = {'name': 'node1-3', 'mac': '00-0D-B9-0A-12-35', 'ip': '10.18.1.19', 'hostname': 'node1-3.sb8',
         'filename': 'pxelinux.0', 'next_server': '10.18.0.1'}
LINE2 = 'host node1-2 { hardware ethernet 00:0d:b9:0a:12:34; fixed-address 10.18.1.18; }'
LINE3 = ('host node1-3 { hardware ethernet 00:0d:b9:0a:12:35; fixed-address 10.18.1.19; '
         'option host-name "node1-3.sb8"; filename "pxelinux.0"; next-server 10.18.0.1; }')


class FakeDhcpd:
    """Replaces AnsibleModule.run_command: plays ``dhcpd -t`` and keeps what it was shown."""

    def __init__(self, rc=0, stderr=''):
        self.rc = rc
        self.stderr = stderr
        self.candidates = []

    def __call__(self, argv, cwd=None, **kwargs):
        assert argv[1:3] == ['-t', '-4'] and cwd == '/'
        with open(argv[argv.index('-cf') + 1]) as handle:
            config = handle.read()
        candidate = config.split('include "')[1].split('"')[0]
        with open(candidate) as handle:
            self.candidates.append(handle.read())
        return self.rc, '', self.stderr


@pytest.fixture
def etc(tmp_path):
    """A fake /etc/dhcp: main config with one subnet including hosts.conf, and a fake dhcpd binary."""
    (tmp_path / 'dhcpd.conf').write_text(
        'authoritative;\nshared-network lab {\n  subnet 10.18.0.0 netmask 255.255.0.0 { }\n}\n'
        'include "%s";\n' % (tmp_path / 'hosts.conf'))
    binary = tmp_path / 'dhcpd'
    binary.write_text('#!/bin/sh\nexit 0\n')
    binary.chmod(0o755)
    return tmp_path


def args(etc, **extra):
    base = {'path': str(etc / 'hosts.conf'), 'config': str(etc / 'dhcpd.conf'), 'dhcpd_path': str(etc / 'dhcpd')}
    base.update(extra)
    return base


def call(arguments, fake=None, **kwargs):
    fake = fake or FakeDhcpd()
    with mock.patch.object(basic.AnsibleModule, 'run_command', fake):
        return run_module(dhcpd_host.main, arguments, **kwargs), fake


def listing(etc):
    return sorted(name for name in os.listdir(etc) if name not in ('dhcpd', 'dhcpd.conf'))


def test_adds_hosts_validates_once_and_reruns_without_change(etc):
    ended, fake = call(args(etc, hosts=[NODE3, NODE2]))
    assert not ended.failed, ended.result
    assert ended.result['changed'] and ended.result['added'] == ['node1-2', 'node1-3'] and ended.result['hosts'] == 2
    content = (etc / 'hosts.conf').read_text()
    assert content.splitlines()[2:] == [LINE2, LINE3]
    assert fake.candidates == [content]
    stat = os.stat(etc / 'hosts.conf')

    again, fake = call(args(etc, hosts=[NODE2, NODE3]))
    assert not again.failed and again.result['changed'] is False
    assert (again.result['added'], again.result['updated'], again.result['removed']) == ([], [], [])
    assert fake.candidates == []  # nothing to check when nothing changes
    assert os.stat(etc / 'hosts.conf').st_mtime_ns == stat.st_mtime_ns and os.stat(etc / 'hosts.conf').st_ino == stat.st_ino
    assert listing(etc) == ['hosts.conf', 'hosts.conf.lock']


def test_reads_a_csv_hosts_file(etc):
    csv = etc / 'nodes.csv'
    csv.write_text('# cluster\nname,mac,ip,filename\nnode1-2,00:0d:b9:0a:12:34,10.18.1.18,\n'
                   'node1-3,000d.b90a.1235,10.18.1.19,efi64/syslinux.efi\n')
    ended, _fake = call(args(etc, hosts_file=str(csv)))
    assert not ended.failed, ended.result
    assert (etc / 'hosts.conf').read_text().splitlines()[2:] == [
        LINE2, 'host node1-3 { hardware ethernet 00:0d:b9:0a:12:35; fixed-address 10.18.1.19; filename "efi64/syslinux.efi"; }']


def test_update_and_remove_report_names(etc):
    call(args(etc, hosts=[NODE2, NODE3]))
    moved = dict(NODE2, ip='10.18.1.40')
    ended, _fake = call(args(etc, hosts=[moved]))
    assert ended.result['updated'] == ['node1-2'] and ended.result['added'] == []
    ended, _fake = call(args(etc, hosts=[{'name': 'node1-3'}], state='absent'))
    assert ended.result['removed'] == ['node1-3'] and ended.result['changed']
    assert (etc / 'hosts.conf').read_text().splitlines()[2:] == [LINE2.replace('10.18.1.18', '10.18.1.40')]


def test_exclusive_keeps_exactly_the_given_hosts(etc):
    call(args(etc, hosts=[NODE2, NODE3]))
    ended, _fake = call(args(etc, hosts=[NODE3], exclusive=True))
    assert ended.result['removed'] == ['node1-2'] and ended.result['hosts'] == 1
    assert (etc / 'hosts.conf').read_text().splitlines()[2:] == [LINE3]


@pytest.mark.parametrize('bad, message', [
    ([dict(NODE2, name='node9', mac='00:0d:b9:0a:12:99')], r'duplicate ip 10.18.1.18: node1-2 \(.*hosts.conf line 3\) and node9 \(hosts\[0\]\)'),
    ([dict(NODE2, name='node9', ip='10.18.1.99')], r'duplicate mac 00:0d:b9:0a:12:34: node1-2 \(.*line 3\) and node9 \(hosts\[0\]\)'),
    ([dict(NODE3, name='a'), dict(NODE3, name='b')], r'duplicate mac .*: a \(hosts\[0\]\) and b \(hosts\[1\]\)'),
    ([dict(NODE3, ip='192.168.5.5')], r'node1-3 \(hosts\[0\]\): 192.168.5.5 is outside every subnet declared in .*dhcpd.conf \(10.18.0.0/16\)'),
    ([dict(NODE3, name='evil;option')], r'host name .* is not a valid host name'),
    ([dict(NODE3, hostname='x"; filename "evil')], r'hostname .* may only hold'),
    ([dict(NODE3, filename='pxe}linux.0')], r'filename .* must be printable ASCII'),
    ([dict(NODE3, mac='not-a-mac')], r'invalid MAC'),
    ([dict(NODE3, mac='01:00:5e:00:00:02')], r"node1-3\): MAC address '01:00:5e:00:00:02' is a multicast address"),
    ([dict(NODE3, mac='ff:ff:ff:ff:ff:ff')], r'is the broadcast address, which no NIC has'),
    ([dict(NODE3, mac='00:00:00:00:00:00')], r'is all zero'),
    ([dict(NODE3, mac='1')], r"invalid MAC address '1'"),
    ([dict(NODE3, mac=1)], r"invalid MAC address '1'"),  # the argument spec makes it a string
    ([dict(NODE3, ip='10.18.0.0')], r'node1-3 \(hosts\[0\]\): 10.18.0.0 is the network address of 10.18.0.0/16'),
    ([dict(NODE3, ip='10.18.255.255')], r'node1-3 \(hosts\[0\]\): 10.18.255.255 is the broadcast address of 10.18.0.0/16'),
    ([dict(NODE3, ip='239.1.1.1')], r'239.1.1.1 is a multicast address'),
    ([dict(NODE3, name='n' * 64)], r'has a part of 64 characters; at most 63'),
])
def test_bad_input_fails_before_dhcpd_runs_and_changes_nothing(etc, bad, message):
    call(args(etc, hosts=[NODE2]))
    before = (etc / 'hosts.conf').read_bytes()
    ended, fake = call(args(etc, hosts=bad))
    assert ended.failed
    assert ended.result['msg'] and re.search(message, ended.result['msg']), ended.result['msg']
    assert fake.candidates == []
    assert (etc / 'hosts.conf').read_bytes() == before
    assert listing(etc) == ['hosts.conf', 'hosts.conf.lock']


def test_a_rejected_candidate_leaves_the_live_file_byte_identical(etc):
    call(args(etc, hosts=[NODE2]))
    before = (etc / 'hosts.conf').read_bytes()
    fake = FakeDhcpd(rc=1, stderr='Internet Systems Consortium DHCP Server 4.4.3-P1\n'
                                  '/etc/dhcp/dhcpd.conf line 9: unknown option dhcp.foo\n')
    ended, fake = call(args(etc, hosts=[NODE3]), fake=fake)
    assert ended.failed
    assert ended.result['msg'] == ('dhcpd -t rejected the candidate configuration, nothing was changed:\n'
                                   '/etc/dhcp/dhcpd.conf line 9: unknown option dhcp.foo')
    assert len(fake.candidates) == 1 and LINE3 in fake.candidates[0]
    assert (etc / 'hosts.conf').read_bytes() == before
    assert listing(etc) == ['hosts.conf', 'hosts.conf.lock']


def test_an_unreadable_existing_file_is_an_error_not_a_rewrite(etc):
    (etc / 'hosts.conf').write_text('host by-hand { hardware ethernet 00:0d:b9:0a:12:77; fixed-address 10.18.1.77; '
                                    'ddns-hostname "by-hand"; }\n')
    before = (etc / 'hosts.conf').read_bytes()
    ended, _fake = call(args(etc, hosts=[NODE2]))
    assert ended.failed and 'hosts.conf line 1: host by-hand: expected one of' in ended.result['msg']
    assert (etc / 'hosts.conf').read_bytes() == before


def test_a_config_without_the_include_is_an_error(etc):
    (etc / 'dhcpd.conf').write_text('subnet 10.18.0.0 netmask 255.255.0.0 { }\n')
    ended, _fake = call(args(etc, hosts=[NODE2]))
    assert ended.failed and 'has no include' in ended.result['msg']
    assert not (etc / 'hosts.conf').exists()


def test_validate_false_skips_dhcpd(etc):
    ended, fake = call(args(etc, hosts=[NODE2], validate=False, dhcpd_path='/nonexistent/dhcpd'))
    assert not ended.failed and ended.result['changed'] and fake.candidates == []


def test_check_mode_and_diff_write_nothing(etc):
    ended, fake = call(args(etc, hosts=[NODE2]), check_mode=True, diff=True)
    assert not ended.failed and ended.result['changed'] and ended.result['added'] == ['node1-2']
    diff = ended.result['diff']
    assert diff['before'] == '' and LINE2 in diff['after'] and diff['before_header'] == str(etc / 'hosts.conf')
    assert len(fake.candidates) == 1  # still checked by dhcpd
    assert listing(etc) == []  # no file, no lock file, no temp


def test_diff_shows_before_and_after(etc):
    call(args(etc, hosts=[NODE2]))
    ended, _fake = call(args(etc, hosts=[NODE3]), diff=True)
    assert LINE3 not in ended.result['diff']['before'] and LINE3 in ended.result['diff']['after']
    assert LINE2 in ended.result['diff']['before'] and LINE2 in ended.result['diff']['after']


def test_hosts_and_hosts_file_are_exclusive(etc):
    ended, _fake = call(args(etc, hosts=[NODE2], hosts_file='/x.csv'))
    assert ended.failed and 'mutually exclusive' in ended.result['msg']


def _add_many(etc, first, count, queue):
    try:
        for number in range(first, first + count):
            ended, _fake = call(args(etc, hosts=[{'name': 'n%d' % number, 'mac': '00:0d:b9:00:01:%02x' % number,
                                                  'ip': '10.18.3.%d' % number}]))
            assert not ended.failed, ended.result
        queue.put(None)
    except BaseException as exc:  # report to the parent, which asserts
        queue.put(repr(exc))


def test_two_concurrent_writers_lose_no_entry(etc):
    queue = multiprocessing.get_context('fork').Queue()
    workers = [multiprocessing.get_context('fork').Process(target=_add_many, args=(etc, first, 15, queue))
               for first in (1, 101)]
    for worker in workers:
        worker.start()
    errors = [queue.get(timeout=120) for _worker in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert errors == [None, None]
    names = [line.split()[1] for line in (etc / 'hosts.conf').read_text().splitlines()[2:]]
    assert sorted(names) == sorted(['n%d' % n for n in list(range(1, 16)) + list(range(101, 116))])


@pytest.mark.parametrize('content', ['', 'name,mac,ip\n', '# nothing yet\nname,mac,ip\n\n', '[]\n'])
def test_an_empty_hosts_file_with_exclusive_is_refused(etc, content):
    """An empty or header-only hosts file must not silently unbind every node."""
    call(args(etc, hosts=[NODE2, NODE3]))
    before = (etc / 'hosts.conf').read_bytes()
    empty = etc / ('nodes.json' if content.startswith('[') else 'nodes.csv')
    empty.write_text(content)
    ended, fake = call(args(etc, hosts_file=str(empty), exclusive=True))
    assert ended.failed, ended.result
    assert 'lists no hosts' in ended.result['msg'] and 'allow_empty' in ended.result['msg'], ended.result['msg']
    assert fake.candidates == [] and (etc / 'hosts.conf').read_bytes() == before


def test_an_empty_host_list_with_exclusive_and_allow_empty_removes_everything(etc):
    call(args(etc, hosts=[NODE2, NODE3]))
    empty = etc / 'nodes.csv'
    empty.write_text('name,mac,ip\n')
    ended, _fake = call(args(etc, hosts_file=str(empty), exclusive=True, allow_empty=True))
    assert not ended.failed, ended.result
    assert ended.result['removed'] == ['node1-2', 'node1-3'] and ended.result['hosts'] == 0
    # Inline, the same rule: an empty list is refused unless allowed.
    ended, _fake = call(args(etc, hosts=[], exclusive=True))
    assert ended.failed and 'allow_empty' in ended.result['msg']


def test_a_hosts_file_with_a_byte_order_mark_is_read(etc):
    bom = etc / 'nodes.csv'
    bom.write_bytes(b'\xef\xbb\xbfname,mac,ip\nnode1-2,00:0d:b9:0a:12:34,10.18.1.18\n')
    ended, _fake = call(args(etc, hosts_file=str(bom)))
    assert not ended.failed, ended.result
    assert (etc / 'hosts.conf').read_text().splitlines()[2:] == [LINE2]
