# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Testinfra checks for the nfsroot_server scenario (with diskless_node)."""

from __future__ import annotations

ROOT = '/srv/nfsroot/grid'


def test_tree_copied_from_the_reference_node(host):
    assert host.file(ROOT + '/etc/os-release').content_string == 'ID=debian\nVERSION_ID="12"\n'
    assert host.file(ROOT + '/usr/sbin/sfdisk').mode == 0o755


def test_var_became_the_read_only_seed(host):
    var = host.file(ROOT + '/var')
    assert var.is_directory and not var.is_symlink
    assert host.run('find %s/var -mindepth 1' % ROOT).stdout == ''
    assert host.file(ROOT + '/var.ro/lib/dpkg/status').contains('base-files')
    assert host.file(ROOT + '/var.ro/log/syslog').content_string == 'reference log\n'


def test_per_node_files_link_into_the_nodes_own_var(host):
    for name in ('hostname', 'machine-id'):
        link = host.file('%s/etc/%s' % (ROOT, name))
        assert link.is_symlink
        # Dangling on the server: the target exists in each node's own /var.
        assert host.run('readlink %s/etc/%s' % (ROOT, name)).stdout.strip() == '../var/lib/diskless/etc/' + name
    # rsync leaves the reference node's own copies out: no node inherits its name or machine id.
    assert not host.file(ROOT + '/var.ro/lib/diskless/etc/hostname').exists
    assert host.run('grep -rl wn-reference %s' % ROOT).stdout == ''


def test_hosts_file_lists_the_nodes(host):
    lines = host.file(ROOT + '/etc/hosts').content_string.splitlines()
    # The reference node's hosts file is not copied: the tree's is managed from the inventory.
    assert '172.24.10.9 wn-reference' not in lines
    assert '127.0.0.1 localhost' in lines
    start = lines.index('# BEGIN cluster.netboot diskless nodes')
    end = lines.index('# END cluster.netboot diskless nodes')
    assert lines[start + 1:end] == ['172.24.10.101 wn001', '172.24.10.102 wn002 wn002.grid']


def test_boot_time_setup_installed(host):
    for path in ('/usr/local/sbin/diskless-setup', '/usr/local/sbin/diskless-init'):
        script = host.file(ROOT + path)
        assert script.mode == 0o755 and script.user == 'root'
        assert script.content_string.startswith('#!/bin/sh\n')
    config = host.file(ROOT + '/etc/diskless/setup.conf').content_string
    assert "DISKLESS_LAYOUT='var /var 64M /var.ro 0755\ntmp /tmp 32M - 1777\nhome /home - - 0755\n'" in config
    assert 'DISKLESS_WIPE_FLAG=/var/wipe' in config.splitlines()
    assert 'DISKLESS_INIT=/sbin/init' in config.splitlines()
    # The settings are plain shell: sh reads them without error.
    assert host.run('sh -n %s/etc/diskless/setup.conf' % ROOT).rc == 0
    assert host.run('sh -c ". %s/etc/diskless/setup.conf && test \\"\\$DISKLESS_TABLE\\" = gpt"' % ROOT).rc == 0
    for name in ('var', 'tmp', 'home'):
        assert host.file('%s/%s' % (ROOT, name)).is_directory


def test_ganesha_export(host):
    export = host.file('/etc/ganesha/cluster-netboot-grid.conf').content_string
    for line in ('Path = "%s";' % ROOT, 'Protocols = 3, 4;', 'Access_Type = None;', 'Name = VFS;',
                 'Clients = 172.24.10.0/24;', 'Access_Type = RO;', 'Squash = No_Root_Squash;'):
        assert line in [entry.strip() for entry in export.splitlines()], line
    assert '%include "/etc/ganesha/cluster-netboot-grid.conf"' in host.file('/etc/ganesha/ganesha.conf').content_string


def test_ganesha_serves_nfs(host):
    assert host.service('nfs-ganesha').is_running
    assert ':2049 ' in host.run('ss -Hltn').stdout
    programs = host.run('/usr/sbin/rpcinfo -p')
    assert programs.rc == 0, programs.stderr
    numbers = {line.split()[0] for line in programs.stdout.splitlines()[1:] if line.split()}
    # NFS and its MOUNT protocol (NFSv3) are registered with rpcbind.
    assert {'100003', '100005'} <= numbers, programs.stdout


def test_kernel_server_exports_entry(host):
    lines = host.file('/etc/exports').content_string.splitlines()
    start = lines.index('# BEGIN cluster.netboot nfsroot grid')
    assert lines[start + 1] == (ROOT + ' 172.24.10.0/24(ro,no_root_squash,no_subtree_check) '
                                '172.24.11.0/24(ro,no_root_squash,no_subtree_check)')
    assert lines[start + 2] == '# END cluster.netboot nfsroot grid'
