# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Testinfra checks for the tftp_server scenario: files are compared as TFTP serves them."""

from __future__ import annotations

import shlex

import pytest

ROOT = '/srv/tftp'
DEFAULT_CONFIG = """# Managed by cluster.netboot.pxe_config: changes made by hand are overwritten.
SERIAL 0 115200
DEFAULT harddisk

LABEL harddisk
  LOCALBOOT 0
"""


def tftp_get(host, remote):
    """Fetch ``remote`` over TFTP from loopback; None when the server refused.

    The tftp-hpa client exits 0 even on "File not found", so success is judged by
    the file it wrote, never by its exit code.
    """
    local = '/tmp/tftp-fetch'
    host.run('rm -f %s' % local)
    result = host.run('tftp -m binary 127.0.0.1 -c get %s %s' % (shlex.quote(remote), local))
    fetched = host.file(local)
    if 'Error' in result.stdout + result.stderr or not fetched.exists:
        return None
    return fetched.content


def test_packages_installed(host):
    for package in ('tftpd-hpa', 'pxelinux', 'syslinux-common', 'syslinux-efi', 'shim-signed',
                    'grub-efi-amd64-signed', 'ipxe'):
        assert host.package(package).is_installed


def test_service_is_enabled_and_its_daemon_alive(host):
    service = host.service('tftpd-hpa')
    assert service.is_enabled
    assert service.is_running
    pid = host.file('/run/tftpd-hpa.pid').content_string.strip()
    assert host.file('/proc/%s' % pid).exists
    # One listening server: the handler restarted it once and left no old one behind.
    assert host.run('pgrep -x in.tftpd').stdout.split() == [pid]
    command_line = host.file('/proc/%s/cmdline' % pid).content.split(b'\0')
    assert b'--secure' in command_line and b'/srv/tftp' in command_line


def test_udp_69_is_listening(host):
    assert host.socket('udp://0.0.0.0:69').is_listening


def test_settings_file(host):
    settings = host.file('/etc/default/tftpd-hpa').content_string
    assert 'TFTP_DIRECTORY="/srv/tftp"' in settings
    assert 'TFTP_ADDRESS=":69"' in settings
    assert 'TFTP_OPTIONS="--secure --pidfile /run/tftpd-hpa.pid"' in settings


def test_default_config_is_served_and_boots_the_local_disk(host):
    assert host.file(ROOT + '/pxelinux.cfg/default').content_string == DEFAULT_CONFIG
    assert tftp_get(host, 'pxelinux.cfg/default') == DEFAULT_CONFIG.encode()


def test_missing_file_is_refused(host):
    assert tftp_get(host, 'pxelinux.cfg/0A0A0A0A') is None


@pytest.mark.parametrize('remote, source', [
    ('pxelinux.0', '/usr/lib/PXELINUX/pxelinux.0'),
    ('ldlinux.c32', '/usr/lib/syslinux/modules/bios/ldlinux.c32'),
    ('menu.c32', '/usr/lib/syslinux/modules/bios/menu.c32'),
    ('libutil.c32', '/usr/lib/syslinux/modules/bios/libutil.c32'),
    ('libcom32.c32', '/usr/lib/syslinux/modules/bios/libcom32.c32'),
    ('vesamenu.c32', '/usr/lib/syslinux/modules/bios/vesamenu.c32'),
    ('efi64/syslinux.efi', '/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi'),
    ('efi64/ldlinux.e64', '/usr/lib/syslinux/modules/efi64/ldlinux.e64'),
    ('efi64/menu.c32', '/usr/lib/syslinux/modules/efi64/menu.c32'),
    ('shimx64.efi', '/usr/lib/shim/shimx64.efi.signed'),
    ('grubx64.efi', '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed'),
    ('ipxe.efi', '/usr/lib/ipxe/ipxe.efi'),
    ('undionly.kpxe', '/usr/lib/ipxe/undionly.kpxe'),
])
def test_boot_loaders_are_served(host, remote, source):
    assert tftp_get(host, remote) == host.file(source).content
    # Copies: tftpd --secure cannot follow a link out of its root.
    assert not host.file(ROOT + '/' + remote).is_symlink


def test_grub_and_ipxe_dispatchers_and_defaults_are_served(host):
    grub = tftp_get(host, '/grub/grub.cfg')
    assert b'source "$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6"' in grub and b'source "$prefix/default"' in grub
    grub_default = tftp_get(host, '/grub/default')
    assert b'      chainloader $loader\n' in grub_default and b'serial --unit=0 --speed=115200' in grub_default
    ipxe = tftp_get(host, 'ipxe/boot.ipxe')
    assert ipxe.startswith(b'#!ipxe\n') and b'chain --autofree ${mac:hexhyp}.ipxe' in ipxe
    assert b'\nexit\n' in tftp_get(host, 'ipxe/default')


@pytest.mark.parametrize('pointer', ['grub/grub.cfg-01-00-0d-b9-0a-12-34', 'grub/grub.cfg-10.18.1.18',
                                     'ipxe/00-0d-b9-0a-12-34.ipxe', 'ipxe/10.18.1.18.ipxe'])
def test_grub_and_ipxe_pointers_serve_their_imaging_config(host, pointer):
    loader = pointer.split('/')[0]
    imaging = host.file('%s/%s/imaging' % (ROOT, loader)).content
    assert b'/vmlinuz-imaging' in imaging
    assert tftp_get(host, pointer) == imaging


def test_uefi_directory_sees_the_same_pxelinux_cfg(host):
    link = host.file(ROOT + '/efi64/pxelinux.cfg')
    assert link.is_symlink and link.linked_to == ROOT + '/pxelinux.cfg'
    # tftpd --secure chroots into the root: the relative link must resolve inside it.
    assert tftp_get(host, 'efi64/pxelinux.cfg/default') == DEFAULT_CONFIG.encode()


@pytest.mark.parametrize('pointer', ['0A120112', '01-00-0d-b9-0a-12-34'])
def test_node_pointer_serves_the_imaging_config(host, pointer):
    imaging = host.file(ROOT + '/pxelinux.cfg/imaging').content
    assert b'KERNEL /vmlinuz-imaging' in imaging and b'IPAPPEND 2' in imaging
    assert host.file(ROOT + '/pxelinux.cfg/' + pointer).linked_to == ROOT + '/pxelinux.cfg/imaging'
    assert tftp_get(host, 'pxelinux.cfg/' + pointer) == imaging
    assert tftp_get(host, 'efi64/pxelinux.cfg/' + pointer) == imaging
    assert tftp_get(host, '/vmlinuz-imaging') == b'vmlinuz-imaging stand-in\n'
