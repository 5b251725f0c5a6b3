# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""kea_host and the dhcp_server role's Kea configuration against the real kea-dhcp4, in network namespaces.

A server namespace holds a bridge and runs ``kea-dhcp4`` with the
configuration the dhcp_server role renders for ``dhcp_server_backend: kea``
(its template, through ansible-playbook); client namespaces on the bridge run
busybox ``udhcpc`` with a node's MAC. The modules and the migration playbook
run through ansible-playbook; Kea takes every change through its control
socket (``config-reload``) and is never restarted.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import yaml

import netns
from dhcp_client import (ARCH_BIOS, ARCH_UEFI_X64, ARCH_UEFI_X64_BC, ARCH_UEFI_X64_HTTP, USER_CLASS_IPXE, RenewingClient,
                         ask, boot_root)

KEA = '/usr/sbin/kea-dhcp4'
DHCPD = '/usr/sbin/dhcpd'
REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / 'roles' / 'dhcp_server'
SERVER_IP = '10.18.0.1'
NODE2 = {'name': 'node1-2', 'mac': '02:00:0d:0a:12:34', 'ip': '10.18.1.18'}
NODE3 = {'name': 'node1-3', 'mac': '02-00-0D-0A-12-35', 'ip': '10.18.1.19', 'hostname': 'node1-3.sb8',
         'filename': 'efi64/grubx64.efi', 'next_server': '10.18.0.9'}
STRANGER_MAC = '02:00:0d:0a:99:99'
LEASE_TIME = 6  # seconds: udhcpc renews at half of it
RESERVE = "cluster.netboot.dhcp_server : Reserve the inventory's nodes their addresses"


@pytest.fixture
def kea_lab(netns_factory, processes, tmp_path, run_playbook, require_programs):
    """A bridge in a server namespace, two client namespaces, the role's Kea config; Kea not started yet."""
    require_programs('kea-dhcp4', 'busybox')
    if not os.access(KEA, os.X_OK):
        pytest.skip('NOT TESTED: %s missing (kea-dhcp4-server)' % KEA)
    server = netns_factory.namespace('srv')
    bridge = netns_factory.bridge(server, '%s/16' % SERVER_IP)
    clients = [netns_factory.namespace('c%d' % number) for number in (1, 2)]
    client_ifs = [netns_factory.attach(server, bridge, client) for client in clients]
    etc = tmp_path / 'etc'
    etc.mkdir()

    class Lab:
        config_path = etc / 'kea-dhcp4.conf'
        hosts_path = etc / 'reservations.json'
        socket_path = tmp_path / 'k.sock'
        daemon = None

        def move_server_to(self, cidr):
            server.ip('addr', 'flush', 'dev', bridge)
            server.ip('addr', 'add', cidr, 'brd', '+', 'dev', bridge)

        def render(self, subnet='10.18.0.0', netmask='255.255.0.0', pool=('10.18.200.1', '10.18.200.50'),
                   expect_failure=False, **overrides):
            """The dhcp_server role's Kea tasks (boot file check with a TFTP root, config, kea-dhcp4 -t, kea_host)."""
            values = dict(
                dhcp_server_backend='kea', dhcp_server_interfaces=['*'],
                dhcp_server_config_path=str(self.config_path), dhcp_server_hosts_path=str(self.hosts_path),
                dhcp_server_kea_socket=str(self.socket_path), dhcp_server_kea_lease_file=str(tmp_path / 'leases4.csv'),
                dhcp_server_default_lease_time=LEASE_TIME, dhcp_server_max_lease_time=LEASE_TIME,
                dhcp_server_next_server=SERVER_IP,
                dhcp_server_subnets=[{'subnet': subnet, 'netmask': netmask,
                                      'ranges': [{'start': pool[0], 'end': pool[1]}]}])
            values.update(overrides)
            # The service tasks of main.yml need systemd: the lab runs kea-dhcp4 itself.
            tasks = [{'name': 'Configure Kea', 'ansible.builtin.include_role': {
                'name': 'cluster.netboot.dhcp_server', 'tasks_from': 'kea'}}]
            if values.get('dhcp_server_tftp_root'):
                tasks.insert(0, {'name': 'Check boot files', 'ansible.builtin.include_role': {
                    'name': 'cluster.netboot.dhcp_server', 'tasks_from': 'boot_files'}})
            result = run_playbook([{'hosts': 'localhost', 'gather_facts': False, 'name': 'Kea', 'tasks': tasks}],
                                  extravars=values)
            assert result.failed == expect_failure, result
            return result

        def start(self):
            env = dict(os.environ, KEA_PIDFILE_DIR=str(tmp_path), KEA_LOCKFILE_DIR=str(tmp_path))
            self.daemon = processes.start([KEA, '-c', str(self.config_path)], ns=server, env=env)
            netns.wait_for(lambda: server.listening(67) or not self.daemon.running(), timeout=20,
                           what='kea-dhcp4 listening on 67/udp')
            assert self.daemon.running(), self.daemon.log()
            netns.wait_for(self.socket_path.exists, timeout=10, what='the control socket')

        def command(self, name):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(10)
            client.connect(str(self.socket_path))
            client.sendall(json.dumps({'command': name}).encode())
            client.shutdown(socket.SHUT_WR)
            data = b''
            while True:
                chunk = client.recv(65536)
                if not chunk:
                    break
                data += chunk
            client.close()
            return json.loads(data)

        def ask(self, mac, extra=()):
            return ask(clients[0], client_ifs[0], mac, tmp_path, extra)

        def renewing_client(self, mac):
            return RenewingClient(processes, clients[1], client_ifs[1], mac, tmp_path)

    return Lab()


def _play(lab, hosts, state='present', **extra):
    arguments = {'path': str(lab.hosts_path), 'config': str(lab.config_path), 'hosts': hosts, 'state': state,
                 'kea_path': KEA}
    arguments.update(extra)
    return [{'name': 'kea_host against the real Kea', 'hosts': 'localhost', 'gather_facts': False,
             'tasks': [{'name': 'Reserve', 'cluster.netboot.kea_host': arguments}]}]


def _lease(lease):
    return None if lease is None else (lease['ip'], lease.get('hostname'), lease.get('siaddr'), lease.get('boot_file'))


def test_a_node_gets_exactly_its_reservation_and_bad_calls_change_nothing(kea_lab, run_playbook):
    kea_lab.render()
    result = run_playbook(_play(kea_lab, [NODE2, NODE3]))
    assert not result.failed, result
    task = result.task('Reserve')
    assert task.changed and task['added'] == ['node1-2', 'node1-3'] and not task['reloaded'], task.result
    kea_lab.start()

    assert _lease(kea_lab.ask(NODE2['mac'])) == ('10.18.1.18', 'node1-2', SERVER_IP, 'pxelinux.0'), kea_lab.daemon.log()
    assert _lease(kea_lab.ask('02:00:0d:0a:12:35')) == ('10.18.1.19', 'node1-3.sb8', '10.18.0.9', 'efi64/grubx64.efi')
    # Boot file by client architecture (option 93): an x86-64 UEFI client gets the UEFI loader.
    assert _lease(kea_lab.ask(NODE2['mac'], extra=('-x', '0x5d:0007')))[3] == 'shimx64.efi'
    # An unknown MAC gets a pool address.
    stranger = kea_lab.ask(STRANGER_MAC)
    assert stranger is not None and stranger['ip'].startswith('10.18.200.'), stranger

    # Unchanged input: no write, no reload.
    before = kea_lab.hosts_path.read_bytes()
    stat = os.stat(kea_lab.hosts_path)
    reloaded_at = kea_lab.command('status-get')['arguments']['reload']
    result = run_playbook(_play(kea_lab, [NODE3, NODE2]))
    assert not result.failed and not result.task('Reserve').changed and not result.task('Reserve')['reloaded'], result
    assert os.stat(kea_lab.hosts_path).st_mtime_ns == stat.st_mtime_ns
    assert kea_lab.command('status-get')['arguments']['reload'] >= reloaded_at  # seconds since the last (re)load

    bad_calls = [
        ([dict(NODE2, name='node9', mac='02:00:0d:0a:12:99')], 'duplicate ip 10.18.1.18: node1-2'),
        ([{'name': 'node9', 'mac': '02:00:0d:0a:12:99', 'ip': '192.168.50.5'}], '192.168.50.5 is outside every subnet declared in'),
        ([{'name': 'node9;x', 'mac': '02:00:0d:0a:12:99', 'ip': '10.18.1.99'}], 'is not a valid host name'),
        ([{'name': 'node9', 'mac': '02:00:0d:0a:12:99', 'ip': '10.18.1.99', 'filename': 'x", "next-server": "1.2.3.4'}],
         'must be printable ASCII'),
    ]
    for hosts, message in bad_calls:
        result = run_playbook(_play(kea_lab, hosts))
        assert result.failed, result
        assert message in result.task('Reserve')['msg'], result.task('Reserve')['msg']
        assert kea_lab.hosts_path.read_bytes() == before
    assert sorted(os.listdir(kea_lab.hosts_path.parent)) == ['.kea-dhcp4.conf.candidate', 'kea-dhcp4.conf', 'reservations.json',
                                                             'reservations.json.lock']

    # A candidate only kea-dhcp4 -t refuses: the operator broke the main config by hand.
    good_config = kea_lab.config_path.read_text()
    kea_lab.config_path.write_text(good_config.replace('"authoritative"', '"no-such-keyword": 1, "authoritative"'))
    result = run_playbook(_play(kea_lab, [dict(NODE2, name='node9', mac='02:00:0d:0a:12:99', ip='10.18.1.99')]))
    assert result.failed
    message = result.task('Reserve')['msg']
    assert message.startswith('kea-dhcp4 -t rejected the candidate configuration, nothing was changed:\n'), message
    assert '%s:' % kea_lab.config_path in message and 'no-such-keyword' in message, message
    assert kea_lab.hosts_path.read_bytes() == before
    kea_lab.config_path.write_text(good_config)

    # Kea never noticed and keeps answering, with the same process.
    assert kea_lab.daemon.running(), kea_lab.daemon.log()
    assert kea_lab.command('status-get')['arguments']['pid'] == kea_lab.daemon.pid
    assert kea_lab.ask(NODE2['mac'])['ip'] == '10.18.1.18'


def test_a_reload_keeps_leases_and_the_process(kea_lab, run_playbook):
    kea_lab.render()
    assert not run_playbook(_play(kea_lab, [NODE2])).failed
    kea_lab.start()
    pid = kea_lab.daemon.pid
    client = kea_lab.renewing_client(STRANGER_MAC)
    bound = netns.wait_for(lambda: [ip for event, ip in client.events() if event == 'bound'], timeout=30,
                           what='the client bound')
    assert bound[0].startswith('10.18.200.'), client.events()
    # The new reservation arrives through config-reload, not a restart.
    result = run_playbook(_play(kea_lab, [NODE2, NODE3]))
    assert not result.failed, result
    assert result.task('Reserve')['reloaded'] is True and result.task('Reserve')['added'] == ['node1-3']
    reloaded = len(client.events())
    assert kea_lab.command('status-get')['arguments']['reload'] <= 2
    # The running client renews (a DHCPREQUEST for its lease) after the reload and keeps its address.
    renewals = netns.wait_for(lambda: [ip for event, ip in client.events()[reloaded:] if event == 'renew'],
                              timeout=4 * LEASE_TIME, what='a renewal after the reload')
    assert renewals[0] == bound[0], client.events()
    assert [event for event, _ip in client.events()[reloaded:]] == ['renew'] * len(client.events()[reloaded:])
    assert kea_lab.daemon.running() and kea_lab.daemon.pid == pid
    assert kea_lab.command('status-get')['arguments']['pid'] == pid
    assert str(bound[0]) in (Path(kea_lab.config_path).parent.parent / 'leases4.csv').read_text()
    # The reservation added by the reload is live.
    assert kea_lab.ask('02:00:0d:0a:12:35')['ip'] == '10.18.1.19'


def test_removing_a_host_drops_its_reservation(kea_lab, run_playbook):
    kea_lab.render()
    assert not run_playbook(_play(kea_lab, [NODE2, NODE3])).failed
    kea_lab.start()
    pid = kea_lab.daemon.pid
    assert kea_lab.ask(NODE2['mac'])['ip'] == '10.18.1.18'

    result = run_playbook(_play(kea_lab, [{'name': 'node1-2'}], state='absent'))
    assert not result.failed, result
    assert result.task('Reserve')['removed'] == ['node1-2'] and result.task('Reserve')['reloaded']
    assert 'node1-2' not in kea_lab.hosts_path.read_text()
    lease = kea_lab.ask(NODE2['mac'])
    assert lease is not None and lease['ip'].startswith('10.18.200.') and lease.get('hostname') != 'node1-2', lease
    assert kea_lab.ask('02:00:0d:0a:12:35')['ip'] == '10.18.1.19'
    assert kea_lab.daemon.pid == pid and kea_lab.daemon.running()


def test_migration_moves_the_lab_hosts_from_dhcpd_to_kea(kea_lab, run_playbook, tmp_path):
    """playbooks/migrate_dhcpd_to_kea.yml on the lab inventory's hosts: dhcpd_host's file becomes Kea reservations."""
    with open(REPO / 'inventories' / 'lab' / 'hosts.yml', encoding='utf-8') as handle:
        inventory = yaml.safe_load(handle)
    nodes = []

    def collect(group):
        for name, values in (group.get('hosts') or {}).items():
            if values and 'mac' in values:
                nodes.append({'name': name, 'mac': values['mac'], 'ip': values['ip']})
        for child in (group.get('children') or {}).values():
            collect(child or {})
    collect(inventory['all'])
    assert len(nodes) >= 5
    dhcpd_hosts = tmp_path / 'dhcpd.hosts.conf'
    result = run_playbook([{'name': 'dhcpd as it was', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Bind', 'cluster.netboot.dhcpd_host': {
            'path': str(dhcpd_hosts), 'hosts': nodes, 'validate': os.access(DHCPD, os.X_OK), 'dhcpd_path': DHCPD}}]}])
    assert not result.failed, result

    kea_lab.move_server_to('10.66.0.1/24')  # the lab's subnet: Kea picks the subnet by the interface's address
    kea_lab.render(subnet='10.66.0.0', netmask='255.255.255.0', pool=('10.66.0.200', '10.66.0.220'))
    kea_lab.start()
    migrate = {'migrate_dhcp_server': 'localhost', 'migrate_dhcpd_service': '', 'migrate_configure_kea': False,
               'migrate_dhcpd_to_kea__dhcpd_hosts_path': str(dhcpd_hosts), 'migrate_kea_config_path': str(kea_lab.config_path),
               'migrate_dhcpd_to_kea__kea_hosts_path': str(kea_lab.hosts_path), 'migrate_kea_path': KEA}
    result = run_playbook(REPO / 'playbooks' / 'migrate_dhcpd_to_kea.yml', extravars=migrate)
    assert not result.failed, result
    task = result.task('Make every dhcpd host entry a Kea reservation')
    assert task['added'] == sorted(node['name'] for node in nodes) and task['reloaded'], task.result
    reserved = json.loads('\n'.join(line for line in kea_lab.hosts_path.read_text().splitlines() if not line.startswith('//')))
    assert sorted((entry['hostname'], entry['hw-address'], entry['ip-address']) for entry in reserved) == \
        sorted((node['name'], node['mac'], node['ip']) for node in nodes)
    # Kea answers a lab node with its address, without a restart.
    first = nodes[0]
    assert _lease(kea_lab.ask(first['mac']))[:2] == (first['ip'], first['name'])
    # A second run moves nothing.
    result = run_playbook(REPO / 'playbooks' / 'migrate_dhcpd_to_kea.yml', extravars=migrate)
    assert not result.failed and not result.task('Make every dhcpd host entry a Kea reservation').changed, result


def test_the_role_reloads_kea_once_per_play_and_not_at_all_when_nothing_changed(kea_lab):
    kea_lab.render(dhcp_server_hosts=[NODE2])
    kea_lab.start()
    pid = kea_lab.daemon.pid
    assert kea_lab.ask(NODE2['mac'])['siaddr'] == SERVER_IP

    # A new main config and a new host in one play: one reload covers both.
    result = kea_lab.render(dhcp_server_hosts=[NODE2, NODE3], dhcp_server_next_server='10.18.0.7')
    assert result.task('cluster.netboot.dhcp_server : Check the candidate with kea-dhcp4 -t and put it in place').changed
    reserve = result.task(RESERVE)
    assert reserve.changed and reserve['reloaded'] and reserve['added'] == ['node1-3'], reserve.result
    assert kea_lab.daemon.log().count("Received command 'config-reload'") == 1, kea_lab.daemon.log()
    assert kea_lab.ask(NODE2['mac'])['siaddr'] == '10.18.0.7'
    assert kea_lab.ask('02:00:0d:0a:12:35')['ip'] == '10.18.1.19'

    # A new main config alone still reloads once (the module is told to).
    result = kea_lab.render(dhcp_server_hosts=[NODE2, NODE3], dhcp_server_next_server=SERVER_IP)
    reserve = result.task(RESERVE)
    assert not reserve.changed and reserve['reloaded']
    assert kea_lab.daemon.log().count("Received command 'config-reload'") == 2

    # Nothing changed: no write, no reload.
    result = kea_lab.render(dhcp_server_hosts=[NODE2, NODE3], dhcp_server_next_server=SERVER_IP)
    assert not result.changed, result.changed_tasks()
    assert kea_lab.daemon.log().count("Received command 'config-reload'") == 2
    assert kea_lab.daemon.pid == pid and kea_lab.daemon.running()
    assert kea_lab.ask(NODE2['mac'])['siaddr'] == SERVER_IP


ODD = {'name': 'odd1', 'mac': '02:00:0d:0a:12:40', 'ip': '10.18.1.40', 'filename': 'ipxe.efi'}


def test_the_role_hands_each_firmware_its_loader(kea_lab, tmp_path):
    """Option 93 picks PXELINUX or shim, user class iPXE the script, a reservation's own file wins over all."""
    kea_lab.render(dhcp_server_tftp_root=str(boot_root(tmp_path)), dhcp_server_ipxe_filename='ipxe/boot.ipxe',
                   dhcp_server_uefi_http_url='http://10.18.0.1/shimx64.efi', dhcp_server_hosts=[NODE2, ODD])
    kea_lab.start()

    def boot_file(mac, extra):
        lease = kea_lab.ask(mac, extra)
        assert lease is not None, kea_lab.daemon.log()
        return lease.get('boot_file')

    assert boot_file(NODE2['mac'], ()) == 'pxelinux.0'
    assert boot_file(NODE2['mac'], ARCH_BIOS) == 'pxelinux.0'
    assert boot_file(NODE2['mac'], ARCH_UEFI_X64) == 'shimx64.efi'
    assert boot_file(NODE2['mac'], ARCH_UEFI_X64_BC) == 'shimx64.efi'
    assert boot_file(NODE2['mac'], ARCH_UEFI_X64_HTTP) == 'http://10.18.0.1/shimx64.efi'
    assert boot_file(NODE2['mac'], USER_CLASS_IPXE + ARCH_UEFI_X64) == 'ipxe/boot.ipxe'
    assert boot_file(NODE2['mac'], USER_CLASS_IPXE + ARCH_BIOS) == 'ipxe/boot.ipxe'
    assert boot_file(STRANGER_MAC, ARCH_UEFI_X64) == 'shimx64.efi'
    for extra in ((), ARCH_UEFI_X64, USER_CLASS_IPXE):
        assert boot_file(ODD['mac'], extra) == 'ipxe.efi'


def test_the_role_default_keeps_ipxe_roms_on_pxelinux(kea_lab):
    kea_lab.render(dhcp_server_hosts=[NODE2])
    kea_lab.start()
    assert kea_lab.ask(NODE2['mac'], USER_CLASS_IPXE + ARCH_BIOS)['boot_file'] == 'pxelinux.0'
    assert kea_lab.ask(NODE2['mac'], USER_CLASS_IPXE + ARCH_UEFI_X64)['boot_file'] == 'shimx64.efi'


def test_a_boot_file_not_in_the_tftp_root_fails_the_role_and_changes_nothing(kea_lab, tmp_path, tree_digest):
    root = boot_root(tmp_path)
    kea_lab.render(dhcp_server_tftp_root=str(root), dhcp_server_hosts=[NODE2])
    before = tree_digest(kea_lab.config_path.parent)
    for overrides, missing in (({'dhcp_server_uefi_filename': 'efi64/syslinux.efi'}, 'efi64/syslinux.efi'),
                               ({'dhcp_server_hosts': [dict(ODD, filename='odd/loader.efi')]}, 'odd/loader.efi')):
        result = kea_lab.render(dhcp_server_tftp_root=str(root), expect_failure=True, **overrides)
        message = result.task('cluster.netboot.dhcp_server : Refuse boot files that are not in the TFTP root')['msg']
        assert 'would hand out %s, which is not a file in the TFTP root' % missing in message, message
        assert tree_digest(kea_lab.config_path.parent) == before


DISCOVERY_SUBNETS = [{'subnet': '10.18.0.0', 'netmask': '255.255.0.0',
                      'discovery_range': {'start': '10.18.250.1', 'end': '10.18.250.9'}}]


def test_unknown_clients_get_the_discovery_range_and_known_hosts_their_reservation(kea_lab):
    """A subnet with only a discovery range (Kea's UNKNOWN class): strangers get it, reserved nodes do not."""
    kea_lab.render(dhcp_server_hosts=[NODE2], dhcp_server_subnets=DISCOVERY_SUBNETS)
    assert '"client-class": "UNKNOWN"' in kea_lab.config_path.read_text()
    kea_lab.start()
    for _attempt in range(2):
        assert kea_lab.ask(NODE2['mac'])['ip'] == NODE2['ip']
    stranger = kea_lab.ask(STRANGER_MAC)
    assert stranger is not None, kea_lab.daemon.log()
    assert stranger['ip'].startswith('10.18.250.') and 1 <= int(stranger['ip'].rsplit('.', 1)[1]) <= 9, stranger
    assert stranger.get('boot_file') == 'pxelinux.0'
