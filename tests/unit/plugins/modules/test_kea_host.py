# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import re
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.cluster.netboot.plugins.modules import kea_host
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils.test__kea import FakeKea, FakeKeaSocket
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import run_module

NODE2 = {'name': 'node1-2', 'mac': '00:0d:b9:0a:12:34', 'ip': '10.18.1.18'}
NODE3 = {'name': 'node1-3', 'mac': '00-0D-B9-0A-12-35', 'ip': '10.18.1.19', 'hostname': 'node1-3.sb8',
         'filename': 'pxelinux.0', 'next_server': '10.18.0.1'}
LINE2 = '{"hw-address": "00:0d:b9:0a:12:34", "ip-address": "10.18.1.18", "hostname": "node1-2"}'
LINE3 = ('{"hw-address": "00:0d:b9:0a:12:35", "ip-address": "10.18.1.19", "hostname": "node1-3.sb8", '
         '"next-server": "10.18.0.1", "boot-file-name": "pxelinux.0", "user-context": {"name": "node1-3"}}')
OK = {'result': 0, 'text': 'Configuration successful.'}


def write_config(etc, socket=True, subnet_reservations=None):
    """The main config: global reservations from reservations.json, one subnet."""
    dhcp4 = {'reservations-global': True, 'reservations': 'INCLUDE', 'subnet4': [{'id': 1, 'subnet': '10.18.0.0/16'}]}
    if socket:
        dhcp4['control-socket'] = {'socket-type': 'unix', 'socket-name': str(etc / 'sock')}
    if subnet_reservations is not None:
        dhcp4['subnet4'][0]['reservations'] = subnet_reservations
    (etc / 'kea-dhcp4.conf').write_text(json.dumps({'Dhcp4': dhcp4}, indent=2).replace(
        '"INCLUDE"', '<?include "%s"?>' % (etc / 'reservations.json')))


@pytest.fixture
def etc(tmp_path):
    """A fake /etc/kea: the main config and a fake kea-dhcp4."""
    write_config(tmp_path)
    binary = tmp_path / 'kea-dhcp4'
    binary.write_text('#!/bin/sh\nexit 0\n')
    binary.chmod(0o755)
    return tmp_path


def args(etc, **extra):
    base = {'path': str(etc / 'reservations.json'), 'config': str(etc / 'kea-dhcp4.conf'), 'kea_path': str(etc / 'kea-dhcp4')}
    base.update(extra)
    return base


def call(arguments, fake=None, replies=(), **kwargs):
    """Run the module with a fake kea-dhcp4 -t and, with ``replies``, a fake server on the control socket."""
    fake = fake or FakeKea()
    server = FakeKeaSocket(arguments['config'].replace('kea-dhcp4.conf', 'sock'), replies) if replies else None
    try:
        with mock.patch.object(basic.AnsibleModule, 'run_command', lambda self, argv, cwd=None, **kw: fake(argv, cwd)):
            ended = run_module(kea_host.main, arguments, **kwargs)
    finally:
        if server is not None:
            server.close()
            os.unlink(server.path)
    ended.reloads = server.received if server else []
    return ended, fake


def listing(etc):
    return sorted(name for name in os.listdir(etc) if name not in ('kea-dhcp4', 'kea-dhcp4.conf'))


def body(etc):
    return (etc / 'reservations.json').read_text().splitlines()[3:-1]


def test_adds_checks_reloads_once_and_reruns_without_write_or_reload(etc):
    ended, fake = call(args(etc, hosts=[NODE3, NODE2]), replies=[OK])
    assert not ended.failed, ended.result
    assert ended.result['changed'] and ended.result['added'] == ['node1-2', 'node1-3'] and ended.result['hosts'] == 2
    assert ended.result['reloaded'] is True and ended.reloads == [{'command': 'config-reload'}]
    assert body(etc) == [LINE2 + ',', LINE3]
    assert fake.seen == [(etc / 'reservations.json').read_text()]
    assert os.stat(etc / 'reservations.json').st_mode & 0o777 == 0o644
    stat = os.stat(etc / 'reservations.json')

    again, fake = call(args(etc, hosts=[NODE2, dict(NODE3, mac='00:0d:b9:0a:12:35')]), replies=[OK])
    assert not again.failed and again.result['changed'] is False and again.result['reloaded'] is False
    assert (again.result['added'], again.result['updated'], again.result['removed']) == ([], [], [])
    assert fake.seen == [] and again.reloads == []
    assert os.stat(etc / 'reservations.json').st_mtime_ns == stat.st_mtime_ns
    assert listing(etc) == ['reservations.json', 'reservations.json.lock']


def test_an_explicit_hostname_equal_to_the_name_is_the_same_reservation(etc):
    call(args(etc, hosts=[NODE2]), replies=[OK])
    ended, _fake = call(args(etc, hosts=[dict(NODE2, hostname='node1-2')]))
    assert not ended.failed and not ended.result['changed'] and ended.result['updated'] == []


def test_update_remove_and_exclusive_report_names(etc):
    call(args(etc, hosts=[NODE2, NODE3]), replies=[OK])
    ended, _fake = call(args(etc, hosts=[dict(NODE2, ip='10.18.1.40')]), replies=[OK])
    assert ended.result['updated'] == ['node1-2']
    ended, _fake = call(args(etc, hosts=[{'name': 'NODE1-3'}], state='absent'), replies=[OK])
    assert ended.result['removed'] == ['node1-3'] and ended.result['reloaded']
    assert body(etc) == [LINE2.replace('10.18.1.18', '10.18.1.40')]
    ended, _fake = call(args(etc, hosts=[NODE3], exclusive=True), replies=[OK])
    assert ended.result['removed'] == ['node1-2'] and body(etc) == [LINE3]


@pytest.mark.parametrize('bad, message', [
    ([dict(NODE2, name='node9', mac='00:0d:b9:0a:12:99')], r'duplicate ip 10.18.1.18: node1-2 \(.*reservations.json entry 1\) and node9 \(hosts\[0\]\)'),
    ([dict(NODE2, name='node9', ip='10.18.1.99')], r'duplicate mac 00:0d:b9:0a:12:34: node1-2 \(.*entry 1\) and node9'),
    ([dict(NODE3, name='a'), dict(NODE3, name='b', ip='10.18.1.98')], r'duplicate mac .*: a \(hosts\[0\]\) and b \(hosts\[1\]\)'),
    ([dict(NODE3, ip='192.168.5.5')], r'node1-3 \(hosts\[0\]\): 192.168.5.5 is outside every subnet declared in .*kea-dhcp4.conf \(10.18.0.0/16\)'),
    ([dict(NODE3, name='evil"},{"x')], r"node name .* contains ',', which a node range reads as syntax"),
    ([dict(NODE3, name='evil"}{"x')], r'host name .* is not a valid host name'),
    ([dict(NODE3, hostname='x", "boot-file-name": "evil')], r'hostname .* may only hold'),
    ([dict(NODE3, filename='pxe"linux.0')], r'filename .* must be printable ASCII'),
    ([dict(NODE3, next_server='tftp.example')], r'next_server: invalid IPv4'),
    ([dict(NODE3, mac='not-a-mac')], r'invalid MAC'),
])
def test_bad_input_fails_before_kea_runs_and_changes_nothing(etc, bad, message):
    call(args(etc, hosts=[NODE2]), replies=[OK])
    before = (etc / 'reservations.json').read_bytes()
    ended, fake = call(args(etc, hosts=bad), replies=[OK])
    assert ended.failed
    assert re.search(message, ended.result['msg']), ended.result['msg']
    assert fake.seen == [] and ended.reloads == []
    assert (etc / 'reservations.json').read_bytes() == before
    assert listing(etc) == ['reservations.json', 'reservations.json.lock']


def test_a_clash_with_a_reservation_of_the_main_config_is_refused(etc):
    write_config(etc, subnet_reservations=[{'hw-address': '00:0d:b9:0a:12:34', 'ip-address': '10.18.7.7'}])
    ended, _fake = call(args(etc, hosts=[NODE2]))
    assert ended.failed and re.search(r'duplicate mac 00:0d:b9:0a:12:34: a reservation \(subnet 10.18.0.0/16 reservations\[0\]\) '
                                      r'and node1-2 \(hosts\[0\]\)', ended.result['msg']), ended.result['msg']
    assert not (etc / 'reservations.json').exists()


def test_a_rejected_candidate_leaves_the_live_file_byte_identical(etc):
    call(args(etc, hosts=[NODE2]), replies=[OK])
    before = (etc / 'reservations.json').read_bytes()
    fake = FakeKea(rc=1, out='2026-01-01 10:00:00.000 INFO  [kea-dhcp4.hosts/1.2] HOSTS_BACKENDS_REGISTERED x\n'
                             'Syntax check failed with: CONFIG:9.5-17: got unexpected keyword "x" in Dhcp4 map.\n')
    ended, fake = call(args(etc, hosts=[NODE3]), fake=fake, replies=[OK])
    assert ended.failed and ended.reloads == []
    assert ended.result['msg'] == ('kea-dhcp4 -t rejected the candidate configuration, nothing was changed:\n'
                                   'Syntax check failed with: %s:9.5-17: got unexpected keyword "x" in Dhcp4 map.'
                                   % (etc / 'kea-dhcp4.conf'))
    assert (etc / 'reservations.json').read_bytes() == before
    assert listing(etc) == ['reservations.json', 'reservations.json.lock']


def test_a_refused_reload_puts_the_previous_file_back(etc):
    call(args(etc, hosts=[NODE2]), replies=[OK])
    before = (etc / 'reservations.json').read_bytes()
    ended, _fake = call(args(etc, hosts=[NODE3]), replies=[{'result': 1, 'text': 'parse error'}])
    assert ended.failed and 'Kea refused the new configuration (config-reload): parse error' in ended.result['msg']
    assert (etc / 'reservations.json').read_bytes() == before
    assert listing(etc) == ['reservations.json', 'reservations.json.lock']


def test_without_a_control_socket_a_restart_is_required(etc):
    write_config(etc, socket=False)
    ended, _fake = call(args(etc, hosts=[NODE2]))
    assert not ended.failed and ended.result['changed']
    assert (ended.result['reloaded'], ended.result['restart_required']) == (False, True)
    ended, _fake = call(args(etc, hosts=[NODE2]))
    assert (ended.result['changed'], ended.result['restart_required']) == (False, False)


def test_a_stopped_server_is_not_an_error(etc):
    ended, _fake = call(args(etc, hosts=[NODE2]))
    assert not ended.failed and ended.result['changed'] and not ended.result['reloaded']
    assert not ended.result['restart_required']


@pytest.mark.parametrize('reload, changes, reloads', [('always', False, 1), ('never', True, 0)])
def test_reload_always_and_never(etc, reload, changes, reloads):
    if not changes:
        call(args(etc, hosts=[NODE2]), replies=[OK])
    ended, _fake = call(args(etc, hosts=[NODE2], reload=reload), replies=[OK])
    assert not ended.failed and ended.result['changed'] is changes
    assert len(ended.reloads) == reloads and ended.result['reloaded'] is bool(reloads)


@pytest.mark.parametrize('content', ['name,mac,ip\n', ''])
def test_an_empty_hosts_file_with_exclusive_is_refused(etc, content):
    call(args(etc, hosts=[NODE2]), replies=[OK])
    before = (etc / 'reservations.json').read_bytes()
    (etc / 'nodes.csv').write_text(content)
    ended, _fake = call(args(etc, hosts_file=str(etc / 'nodes.csv'), exclusive=True), replies=[OK])
    assert ended.failed and 'lists no hosts' in ended.result['msg'] and ended.reloads == []
    assert (etc / 'reservations.json').read_bytes() == before
    ended, _fake = call(args(etc, hosts_file=str(etc / 'nodes.csv'), exclusive=True, allow_empty=True), replies=[OK])
    assert not ended.failed and ended.result['removed'] == ['node1-2'] and body(etc) == []


def test_dhcpd_hosts_file_moves_dhcpd_hosts_to_kea(etc):
    dhcpd_hosts = etc / 'dhcpd.hosts.conf'
    dhcpd_hosts.write_text('# by dhcpd_host\nhost node1-2 { hardware ethernet 00:0d:b9:0a:12:34; fixed-address 10.18.1.18; }\n'
                           'host node1-3 { hardware ethernet 00:0d:b9:0a:12:35; fixed-address 10.18.1.19; '
                           'option host-name "node1-3.sb8"; filename "pxelinux.0"; next-server 10.18.0.1; }\n')
    ended, _fake = call(args(etc, dhcpd_hosts_file=str(dhcpd_hosts)), replies=[OK])
    assert not ended.failed, ended.result
    assert ended.result['added'] == ['node1-2', 'node1-3'] and body(etc) == [LINE2 + ',', LINE3]
    ended, _fake = call(args(etc, dhcpd_hosts_file=str(dhcpd_hosts)))
    assert not ended.failed and not ended.result['changed']
    dhcpd_hosts.write_text('# nothing left\n')
    ended, _fake = call(args(etc, dhcpd_hosts_file=str(dhcpd_hosts), exclusive=True))
    assert ended.failed and 'dhcpd_hosts_file %s lists no hosts' % dhcpd_hosts in ended.result['msg']
    ended, _fake = call(args(etc, dhcpd_hosts_file=str(etc / 'missing.conf')))
    assert ended.failed and 'does not exist' in ended.result['msg']


def test_an_unreadable_existing_file_is_an_error_not_a_rewrite(etc):
    (etc / 'reservations.json').write_text('[{"hw-address": "00:0d:b9:0a:12:77", "ip-address": "10.18.1.77", '
                                           '"hostname": "by-hand", "client-classes": ["x"]}]\n')
    before = (etc / 'reservations.json').read_bytes()
    ended, _fake = call(args(etc, hosts=[NODE2]))
    assert ended.failed and 'reservations.json entry 1: client-classes not written by this module' in ended.result['msg']
    assert (etc / 'reservations.json').read_bytes() == before


def test_check_mode_and_diff_write_and_reload_nothing(etc):
    ended, fake = call(args(etc, hosts=[NODE2]), check_mode=True, diff=True, replies=[OK])
    assert not ended.failed and ended.result['changed'] and ended.result['added'] == ['node1-2']
    assert ended.result['diff']['before'] == '' and LINE2 in ended.result['diff']['after']
    assert len(fake.seen) == 1 and ended.reloads == [] and not ended.result['reloaded']
    assert listing(etc) == []


def test_sources_are_mutually_exclusive(etc):
    ended, _fake = call(args(etc, hosts=[NODE2], dhcpd_hosts_file='/x.conf'))
    assert ended.failed and 'mutually exclusive' in ended.result['msg']
