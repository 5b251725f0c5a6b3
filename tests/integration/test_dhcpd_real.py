# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""dhcpd_host against the real ISC dhcpd and a real DHCP client, in network namespaces.

A server namespace runs ``dhcpd -4 -f`` on one end of a veth pair, with the
hosts file the module wrote; a client namespace runs busybox ``udhcpc`` once
(``-n -q -f``) on the other end, its MAC set to the node's, and a script that
dumps what the client was given (``ip``, ``hostname``, ``siaddr`` =
next-server, ``boot_file``). The module itself runs through ansible-playbook.
"""

from __future__ import annotations

import os

import pytest

import netns
from dhcp_client import ARCH_BIOS, ARCH_UEFI_X64, ARCH_UEFI_X64_BC, ARCH_UEFI_X64_HTTP, USER_CLASS_IPXE, ask, boot_root

DHCPD = '/usr/sbin/dhcpd'
SERVER_IP = '10.18.0.1'
POOL = ('10.18.200.1', '10.18.200.50')
NODE2 = {'name': 'node1-2', 'mac': '02:00:0d:0a:12:34', 'ip': '10.18.1.18'}
NODE3 = {'name': 'node1-3', 'mac': '02-00-0D-0A-12-35', 'ip': '10.18.1.19', 'hostname': 'node1-3.sb8',
         'filename': 'efi64/syslinux.efi', 'next_server': '10.18.0.9'}
STRANGER_MAC = '02:00:0d:0a:99:99'


@pytest.fixture
def lab(netns_factory, processes, tmp_path, require_programs):
    """Server and client namespaces on a veth pair; config files; dhcpd not started yet."""
    require_programs('dhcpd', 'busybox')
    if not os.access(DHCPD, os.X_OK):
        pytest.skip('NOT TESTED: %s missing (isc-dhcp-server)' % DHCPD)
    server = netns_factory.namespace('srv')
    client = netns_factory.namespace('cli')
    server_if, client_if = netns_factory.veth(server, client, '%s/16' % SERVER_IP, None)
    etc = tmp_path / 'etc'
    etc.mkdir()
    (etc / 'dhcpd.conf').write_text(
        'authoritative;\nuse-host-decl-names on;\nddns-update-style none;\n'
        'default-lease-time 600;\nmax-lease-time 600;\n'
        'next-server %s;\nfilename "pxelinux.0";\n'
        'subnet 10.18.0.0 netmask 255.255.0.0 {\n  range %s %s;\n}\n'
        'include "%s";\n' % (SERVER_IP, POOL[0], POOL[1], etc / 'dhcpd.hosts.conf'))
    (tmp_path / 'dhcpd.leases').write_text('')

    class Lab:
        hosts_path = etc / 'dhcpd.hosts.conf'
        config_path = etc / 'dhcpd.conf'
        daemon = None

        def start_dhcpd(self):
            self.daemon = processes.start(
                [DHCPD, '-4', '-f', '-d', '-cf', str(self.config_path), '-lf', str(tmp_path / 'dhcpd.leases'),
                 '-pf', str(tmp_path / 'dhcpd.pid'), server_if], ns=server)
            netns.wait_for(lambda: server.listening(67) or not self.daemon.running(), timeout=15,
                           what='dhcpd listening on 67/udp')
            assert self.daemon.running(), self.daemon.log()

        def restart_dhcpd(self):
            # What callers do after a batch: stop, wait for the old one to be gone, start.
            processes.stop(self.daemon)
            self.start_dhcpd()

        def ask(self, mac, extra=()):
            """One DHCP exchange from the client namespace with ``mac``; the bound env, or None."""
            return ask(client, client_if, mac, tmp_path, extra)

    return Lab()


def _play(lab, hosts, state='present', check=False):
    return [{
        'name': 'dhcpd_host against the real dhcpd',
        'hosts': 'localhost',
        'gather_facts': False,
        'tasks': [{
            'name': 'Bind',
            'cluster.netboot.dhcpd_host': {
                'path': str(lab.hosts_path),
                'config': str(lab.config_path),
                'hosts': hosts,
                'state': state,
                'dhcpd_path': DHCPD,
            },
        }],
    }]


def test_a_node_gets_exactly_its_binding_and_bad_calls_change_nothing(lab, run_playbook):
    result = run_playbook(_play(lab, [NODE2, NODE3]))
    assert not result.failed, result
    assert result.task('Bind').changed and result.task('Bind')['added'] == ['node1-2', 'node1-3']
    lab.start_dhcpd()

    lease = lab.ask(NODE2['mac'])
    assert lease is not None, lab.daemon.log()
    assert (lease['ip'], lease.get('hostname'), lease.get('siaddr'), lease.get('boot_file')) == \
        ('10.18.1.18', 'node1-2', SERVER_IP, 'pxelinux.0')

    lease = lab.ask('02:00:0d:0a:12:35')
    assert lease is not None, lab.daemon.log()
    assert (lease['ip'], lease.get('hostname'), lease.get('siaddr'), lease.get('boot_file')) == \
        ('10.18.1.19', 'node1-3.sb8', '10.18.0.9', 'efi64/syslinux.efi')

    # An unknown MAC gets a pool address, not a fixed one.
    lease = lab.ask(STRANGER_MAC)
    assert lease is not None and lease['ip'].startswith('10.18.200.'), lease

    # Unchanged input: no change, the file untouched.
    before = lab.hosts_path.read_bytes()
    stat = os.stat(lab.hosts_path)
    result = run_playbook(_play(lab, [NODE3, NODE2]))
    assert not result.failed and not result.task('Bind').changed, result
    assert os.stat(lab.hosts_path).st_mtime_ns == stat.st_mtime_ns

    bad_calls = [
        ([dict(NODE2, name='node9', mac='02:00:0d:0a:12:99')], 'duplicate ip 10.18.1.18: node1-2'),
        ([{'name': 'node9', 'mac': '02:00:0d:0a:12:99', 'ip': '192.168.50.5'}],
         '192.168.50.5 is outside every subnet declared in'),
        ([{'name': 'node9;option', 'mac': '02:00:0d:0a:12:99', 'ip': '10.18.1.99'}], 'is not a valid host name'),
        ([{'name': 'node9', 'mac': '02:00:0d:0a:12:99', 'ip': '10.18.1.99', 'filename': 'x"; } host evil {'}],
         'must be printable ASCII'),
    ]
    for hosts, message in bad_calls:
        result = run_playbook(_play(lab, hosts))
        assert result.failed, result
        assert message in result.task('Bind')['msg'], result.task('Bind')['msg']
        assert lab.hosts_path.read_bytes() == before
    assert sorted(os.listdir(lab.hosts_path.parent)) == ['dhcpd.conf', 'dhcpd.hosts.conf', 'dhcpd.hosts.conf.lock']

    # dhcpd never noticed and keeps answering.
    assert lab.daemon.running(), lab.daemon.log()
    lease = lab.ask(NODE2['mac'])
    assert lease is not None and lease['ip'] == '10.18.1.18'


def test_dhcpd_own_check_guards_the_live_file(lab, run_playbook):
    """A candidate only dhcpd -t can refuse (here: the main config it is checked with) is never swapped in."""
    result = run_playbook(_play(lab, [NODE2]))
    assert not result.failed, result
    lab.start_dhcpd()
    before = lab.hosts_path.read_bytes()
    good_config = lab.config_path.read_text()
    # The operator broke the main config by hand; the module must not add a host on top of it.
    lab.config_path.write_text(good_config.replace('authoritative;', 'authoritative;\noption no-such-option 1;'))
    result = run_playbook(_play(lab, [NODE3]))
    assert result.failed, result
    message = result.task('Bind')['msg']
    assert message.startswith('dhcpd -t rejected the candidate configuration, nothing was changed:')
    assert '%s line 2: unknown option dhcp.no-such-option' % lab.config_path in message, message
    assert lab.hosts_path.read_bytes() == before
    assert lab.daemon.running()
    lab.config_path.write_text(good_config)


def test_removing_a_host_ends_its_fixed_binding(lab, run_playbook):
    result = run_playbook(_play(lab, [NODE2, NODE3]))
    assert not result.failed, result
    lab.start_dhcpd()
    assert lab.ask(NODE2['mac'])['ip'] == '10.18.1.18'

    result = run_playbook(_play(lab, [{'name': 'node1-2'}], state='absent'))
    assert not result.failed, result
    assert result.task('Bind')['removed'] == ['node1-2']
    assert 'node1-2' not in lab.hosts_path.read_text()
    lab.restart_dhcpd()

    lease = lab.ask(NODE2['mac'])
    assert lease is None or (lease['ip'] != '10.18.1.18' and lease['ip'].startswith('10.18.200.')), lease
    assert lease is None or lease.get('hostname') != 'node1-2'
    # The other node keeps its binding.
    assert lab.ask('02:00:0d:0a:12:35')['ip'] == '10.18.1.19'


def test_check_mode_reports_without_writing(lab, run_playbook):
    result = run_playbook(_play(lab, [NODE2]), check=True)
    assert not result.failed, result
    assert result.task('Bind').changed and result.task('Bind')['added'] == ['node1-2']
    assert sorted(os.listdir(lab.hosts_path.parent)) == ['dhcpd.conf']


ODD = {'name': 'odd1', 'mac': '02:00:0d:0a:12:40', 'ip': '10.18.1.40', 'filename': 'ipxe.efi'}


def role_play(lab, tftp_root, **overrides):
    """The dhcp_server role's ISC steps as main.yml runs them (boot file check, then dhcpd.conf, dhcpd -t, hosts)."""
    values = dict(
        dhcp_server_interfaces=['cnb0'], dhcp_server_config_path=str(lab.config_path),
        dhcp_server_hosts_path=str(lab.hosts_path), dhcp_server_defaults_path=str(lab.config_path.parent / 'default'),
        dhcp_server_pid_file=str(lab.config_path.parent / 'dhcpd.pid'), dhcp_server_dhcpd_path=DHCPD,
        dhcp_server_next_server=SERVER_IP, dhcp_server_tftp_root=str(tftp_root), dhcp_server_hosts_group='none',
        dhcp_server_subnets=[{'subnet': '10.18.0.0', 'netmask': '255.255.0.0',
                              'ranges': [{'start': POOL[0], 'end': POOL[1]}]}])
    values.update(overrides)
    tasks = [{'name': 'Check boot files',
              'ansible.builtin.include_role': {'name': 'cluster.netboot.dhcp_server', 'tasks_from': 'boot_files'}},
             {'name': 'Configure dhcpd',
              'ansible.builtin.include_role': {'name': 'cluster.netboot.dhcp_server', 'tasks_from': 'isc'}},
             # The role's restart handler acts on this host's service; the lab runs dhcpd itself.
             # end_play ends the play before notified handlers run.
             {'name': 'No handlers', 'ansible.builtin.meta': 'end_play'}]
    return [{'hosts': 'localhost', 'gather_facts': False, 'name': 'dhcp_server', 'vars': values, 'tasks': tasks}]


def boot_file(lab, mac, extra):
    lease = lab.ask(mac, extra)
    assert lease is not None, lab.daemon.log()
    return lease.get('boot_file')


def test_the_role_hands_each_firmware_its_loader(lab, run_playbook, tmp_path):
    """Option 93 picks PXELINUX or shim, user class iPXE the script, a host's own filename wins over all."""
    root = boot_root(tmp_path)
    result = run_playbook(role_play(lab, root, dhcp_server_ipxe_filename='ipxe/boot.ipxe',
                                    dhcp_server_uefi_http_url='http://10.18.0.1/shimx64.efi',
                                    dhcp_server_hosts=[NODE2, ODD]))
    assert not result.failed, result
    lab.start_dhcpd()
    assert boot_file(lab, NODE2['mac'], ()) == 'pxelinux.0'
    assert boot_file(lab, NODE2['mac'], ARCH_BIOS) == 'pxelinux.0'
    assert boot_file(lab, NODE2['mac'], ARCH_UEFI_X64) == 'shimx64.efi'
    assert boot_file(lab, NODE2['mac'], ARCH_UEFI_X64_BC) == 'shimx64.efi'
    assert boot_file(lab, NODE2['mac'], ARCH_UEFI_X64_HTTP) == 'http://10.18.0.1/shimx64.efi'
    assert boot_file(lab, NODE2['mac'], USER_CLASS_IPXE + ARCH_UEFI_X64) == 'ipxe/boot.ipxe'
    assert boot_file(lab, NODE2['mac'], USER_CLASS_IPXE + ARCH_BIOS) == 'ipxe/boot.ipxe'
    # A node without a binding is booted by firmware too.
    assert boot_file(lab, STRANGER_MAC, ARCH_UEFI_X64) == 'shimx64.efi'
    for extra in ((), ARCH_UEFI_X64, USER_CLASS_IPXE):
        assert boot_file(lab, ODD['mac'], extra) == 'ipxe.efi'


def test_the_role_default_keeps_ipxe_roms_on_pxelinux(lab, run_playbook, tmp_path):
    """Without dhcp_server_ipxe_filename a BIOS node with an iPXE ROM still gets pxelinux.0."""
    result = run_playbook(role_play(lab, boot_root(tmp_path), dhcp_server_hosts=[NODE2]))
    assert not result.failed, result
    lab.start_dhcpd()
    assert boot_file(lab, NODE2['mac'], USER_CLASS_IPXE + ARCH_BIOS) == 'pxelinux.0'
    assert boot_file(lab, NODE2['mac'], USER_CLASS_IPXE + ARCH_UEFI_X64) == 'shimx64.efi'


@pytest.mark.parametrize('overrides, missing', [
    ({'dhcp_server_uefi_filename': 'efi64/syslinux.efi'}, 'efi64/syslinux.efi'),
    ({'dhcp_server_ipxe_filename': 'ipxe/nothere.ipxe'}, 'ipxe/nothere.ipxe'),
    ({'dhcp_server_hosts': [dict(ODD, filename='odd/loader.efi')]}, 'odd/loader.efi'),
    ({'dhcp_server_bios_filename': '../pxelinux.0'}, '../pxelinux.0'),
    ({'dhcp_server_bios_filename': 'ipxe'}, 'ipxe'),
])
def test_a_boot_file_not_in_the_tftp_root_fails_the_role_and_changes_nothing(
        lab, run_playbook, tmp_path, tree_digest, overrides, missing):
    root = boot_root(tmp_path)
    assert not run_playbook(role_play(lab, root, dhcp_server_hosts=[NODE2])).failed
    before = tree_digest(lab.config_path.parent)
    result = run_playbook(role_play(lab, root, **overrides))
    assert result.failed
    message = result.task('cluster.netboot.dhcp_server : Refuse boot files that are not in the TFTP root')['msg']
    assert 'would hand out %s, which is not a file in the TFTP root %s' % (missing, root) in message, message
    assert 'Nothing was changed' in message
    assert tree_digest(lab.config_path.parent) == before


def test_a_symlink_out_of_the_tftp_root_is_no_boot_file(lab, run_playbook, tmp_path):
    root = boot_root(tmp_path)
    (root / 'outside.efi').symlink_to('/etc/hostname')
    (root / 'inside.efi').symlink_to(root / 'shimx64.efi')
    result = run_playbook(role_play(lab, root, dhcp_server_uefi_filename='outside.efi'))
    assert result.failed and 'would hand out outside.efi,' in str(result)
    assert not run_playbook(role_play(lab, root, dhcp_server_uefi_filename='inside.efi')).failed
    # A link inside the root to a file that is not there: the server answers "File not found".
    (root / 'dangling.efi').symlink_to(root / 'not-yet-installed.efi')
    result = run_playbook(role_play(lab, root, dhcp_server_uefi_filename='dangling.efi'))
    assert result.failed and 'would hand out dangling.efi,' in str(result)


DISCOVERY = ('10.18.250.1', '10.18.250.9')
DISCOVERY_SUBNETS = [{'subnet': '10.18.0.0', 'netmask': '255.255.0.0',
                      'discovery_range': {'start': DISCOVERY[0], 'end': DISCOVERY[1]}}]


def test_unknown_clients_get_the_discovery_range_and_known_hosts_their_binding(lab, run_playbook, tmp_path):
    """A subnet with only a discovery range: strangers get an address from it, bound nodes keep theirs."""
    result = run_playbook(role_play(lab, boot_root(tmp_path), dhcp_server_hosts=[NODE2],
                                    dhcp_server_subnets=DISCOVERY_SUBNETS))
    assert not result.failed, result
    assert 'allow unknown-clients;' in lab.config_path.read_text()
    lab.start_dhcpd()
    for _attempt in range(2):
        assert lab.ask(NODE2['mac'])['ip'] == NODE2['ip']
    stranger = lab.ask(STRANGER_MAC)
    assert stranger is not None, lab.daemon.log()
    assert stranger['ip'].startswith('10.18.250.') and 1 <= int(stranger['ip'].rsplit('.', 1)[1]) <= 9, stranger
    assert stranger.get('boot_file') == 'pxelinux.0'
