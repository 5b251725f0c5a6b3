# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Testinfra checks for the dhcp_server scenario."""

from __future__ import annotations

HOSTS = '/etc/dhcp/dhcpd.hosts.conf'


def _dhcpd_pid(host):
    return int(host.file('/var/run/dhcpd.pid').content_string.strip())


def test_dhcpd_runs_on_the_provisioning_interface(host):
    pid = _dhcpd_pid(host)
    assert host.file('/proc/%d' % pid).exists
    argv = host.file('/proc/%d/cmdline' % pid).content_string.split('\0')
    assert argv[0] == '/usr/sbin/dhcpd'
    assert '-4' in argv and 'cnbdhcp0' in argv
    assert host.service('isc-dhcp-server').is_enabled


def test_configuration_is_valid(host):
    check = host.run('/usr/sbin/dhcpd -t -4 -cf /etc/dhcp/dhcpd.conf')
    assert check.rc == 0, check.stderr


def test_configuration_content(host):
    config = host.file('/etc/dhcp/dhcpd.conf').content_string
    for line in ('authoritative;', 'use-host-decl-names on;', 'option arch code 93 = unsigned integer 16;',
                 'if exists user-class and option user-class = "iPXE" {', '  filename "ipxe/boot.ipxe";',
                 '} elsif option arch = 00:07 or option arch = 00:09 {', '  filename "shimx64.efi";',
                 '  filename "pxelinux.0";', 'subnet 10.18.0.0 netmask 255.255.0.0 {',
                 '  range 10.18.200.1 10.18.200.99;', '  option routers 10.18.0.1;', '  next-server 10.18.0.1;',
                 'include "%s";' % HOSTS):
        assert line in config.splitlines(), line
    assert 'INTERFACESv4="cnbdhcp0"' in host.file('/etc/default/isc-dhcp-server').content_string


def test_host_entries_from_the_inventory(host):
    lines = host.file(HOSTS).content_string.splitlines()
    assert 'host node1-2 { hardware ethernet 00:0d:b9:0a:12:34; fixed-address 10.18.1.18; }' in lines
    assert 'host node1-3 { hardware ethernet 00:0d:b9:0a:12:35; fixed-address 10.18.1.19; filename "ipxe.efi"; }' in lines
    assert ('host spare1 { hardware ethernet 02:00:00:00:00:01; fixed-address 10.18.1.250; '
            'filename "efi64/syslinux.efi"; }') in lines
    assert len([line for line in lines if line.startswith('host ')]) == 3


def test_no_candidate_or_temporary_files_left_behind(host):
    listing = host.run('ls -A /etc/dhcp').stdout.split()
    assert not [name for name in listing if name.startswith('.cluster-netboot-')]
