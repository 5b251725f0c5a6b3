# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import dataclasses
import json
import os
import stat

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _ramdisk
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils.ramdisk_fake import (
    KERNEL,
    RELEASE,
    FakeConsole,
    read_initramfs,
)


@pytest.fixture
def console(tmp_path):
    return FakeConsole(tmp_path / 'console')


@pytest.fixture
def spec(tmp_path, console):
    init = tmp_path / 'init'
    init.write_text('#!/bin/sh\necho imaging\n')
    hook = tmp_path / 'udhcpc.script'
    hook.write_text('#!/bin/sh\n')
    netup = tmp_path / 'netup.sh'
    netup.write_text('cnb_net_up() { :; }\n')
    return _ramdisk.Spec(
        output=str(tmp_path / 'tftp' / 'imaging'), work=str(tmp_path / 'work'), init=str(init),
        modules=('virtio_pci', 'virtio_net', 'net_failover', 'ext4'),
        files=(_ramdisk.ExtraFile(str(hook), '/etc/udhcpc.script'),
               _ramdisk.ExtraFile(str(netup), '/lib/cluster-netboot/netup.sh', 0o644)),
        binaries=(_ramdisk.Binary('/usr/bin/udp-receiver', 'udp-receiver', 'udpcast'),
                  _ramdisk.Binary(str(console.frisbee), 'frisbee')),
        deb_dir=str(console.debs), epoch=1700000000)


def move(temp, dest):
    os.replace(temp, dest)


def build(spec, console):
    return _ramdisk.build(_ramdisk.plan(spec, console.run), console.run, move)


# ---------------------------------------------------------------- parsing


def test_parse_control_takes_the_first_paragraph_and_joins_continuations():
    text = 'Package: a\nVersion: 1\nDescription: one\n two\nSHA256: ab\n\nPackage: b\nVersion: 2\n'
    assert _ramdisk.parse_control(text) == {'Package': 'a', 'Version': '1', 'Description': 'one\ntwo',
                                            'SHA256': 'ab'}
    assert _ramdisk.parse_control('') == {}


@pytest.mark.parametrize('depends, wanted', [
    ('linux-image-6.1.0-9-amd64 (= 6.1.27-1)', 'linux-image-6.1.0-9-amd64'),
    ('kmod, linux-image-6.1.0-9-cloud-amd64:amd64 (= 1) | linux-image-6.1.0-8-amd64', 'linux-image-6.1.0-9-cloud-amd64'),
    ('linux-base, linux-image-amd64-signed', None),
    ('', None),
])
def test_versioned_kernel(depends, wanted):
    assert _ramdisk.versioned_kernel(depends) == wanted


def test_kernel_metapackages():
    assert _ramdisk.is_kernel_metapackage('linux-image-amd64')
    assert _ramdisk.is_kernel_metapackage('linux-image-cloud-amd64')
    assert not _ramdisk.is_kernel_metapackage(KERNEL)
    assert not _ramdisk.is_kernel_metapackage('busybox-static')


def test_library_paths_keeps_the_loader_and_drops_the_vdso():
    out = ('\tlinux-vdso.so.1 (0x00007ffc)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n'
           '\t/lib64/ld-linux-x86-64.so.2 (0x7f)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n')
    assert _ramdisk.library_paths(out) == ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']
    assert _ramdisk.library_paths('\tnot a dynamic executable\n') == []


def test_module_paths_in_insmod_order_without_builtins():
    out = 'insmod /k/lib/modules/r/a.ko \ninsmod /k/lib/modules/r/b.ko  opt=1\nbuiltin virtio_pci\n'
    assert _ramdisk.module_paths(out) == ['/k/lib/modules/r/a.ko', '/k/lib/modules/r/b.ko']


# ---------------------------------------------------------------- the archive


def test_cpio_members_are_sorted_root_owned_and_typed(tmp_path):
    source = tmp_path / 'source'
    source.write_bytes(b'12345')
    tree = _ramdisk.Tree()
    tree.file('z/deep/file', str(source), 0o755)
    tree.content('a', b'abc')
    tree.symlink('bin/sh', 'busybox')
    tree.device('dev/console', 0o600, 5, 1)
    path = tmp_path / 'initrd.gz'
    _ramdisk.write_initramfs(tree, str(path), 42)
    members = read_initramfs(path)
    assert list(members) == ['a', 'bin', 'bin/sh', 'dev', 'dev/console', 'z', 'z/deep', 'z/deep/file']
    assert [member['ino'] for member in members.values()] == list(range(1, 9))
    assert {(member['uid'], member['gid'], member['mtime']) for member in members.values()} == {(0, 0, 42)}
    assert members['z/deep/file']['data'] == b'12345' and members['z/deep/file']['mode'] == stat.S_IFREG | 0o755
    assert members['a']['mode'] == stat.S_IFREG | 0o644
    assert members['bin/sh']['type'] == stat.S_IFLNK and members['bin/sh']['data'] == b'busybox'
    assert members['dev/console']['type'] == stat.S_IFCHR and members['dev/console']['rdev'] == (5, 1)
    assert members['z']['type'] == stat.S_IFDIR
    # gzip header: no name, no time.
    raw = path.read_bytes()
    assert raw[3] & 0x08 == 0 and raw[4:8] == b'\0\0\0\0'


def test_a_path_twice_is_refused():
    tree = _ramdisk.Tree()
    tree.content('etc/x', b'')
    with pytest.raises(_ramdisk.RamdiskError, match='twice'):
        tree.symlink('etc/x', 'y')
    with pytest.raises(_ramdisk.RamdiskError, match='directory'):
        tree.content('etc/x/y', b'')


# ---------------------------------------------------------------- a whole build


def test_build_from_a_deb_directory(spec, console):
    info = build(spec, console)
    members = read_initramfs(os.path.join(spec.output, 'initramfs.gz'))
    assert members['init']['data'] == b'#!/bin/sh\necho imaging\n' and members['init']['mode'] & 0o777 == 0o755
    assert members['etc/udhcpc.script']['mode'] & 0o777 == 0o755
    assert members['lib/cluster-netboot/netup.sh']['mode'] & 0o777 == 0o644
    assert members['bin/busybox']['data'] == b'busybox binary'
    # busybox --list names busybox itself: it stays the binary; every other applet is a link.
    assert members['bin/sh']['type'] == stat.S_IFLNK and members['bin/sh']['data'] == b'busybox'
    assert members['bin/udp-receiver']['data'] == b'udp-receiver binary'
    assert members['bin/frisbee']['data'] == b'#!frisbee client\n'
    libs = str(console.libs).lstrip('/')
    assert members[libs + '/libc.so.6']['data'] == b'libc'
    assert members[libs + '/ld-linux-x86-64.so.2']['data'] == b'loader'
    assert members['sbin']['data'] == b'bin' and members['usr/bin']['data'] == b'../bin'
    assert members['dev/null']['rdev'] == (1, 3)
    # Modules with their dependencies, each once, in insmod order; built-ins skipped.
    order = members['etc/modules.order']['data'].decode().split()
    prefix = '/lib/modules/%s/kernel/' % RELEASE
    assert order == [prefix + path for path in ('net/core/failover.ko', 'drivers/net/net_failover.ko',
                                                'drivers/net/virtio_net.ko', 'lib/crc16.ko', 'fs/mbcache.ko',
                                                'fs/jbd2/jbd2.ko', 'fs/ext4/ext4.ko')]
    for path in order:
        assert members[path.lstrip('/')]['data'].startswith(b'module ')
    identity = members[_ramdisk.IDENTITY_PATH]['data'].decode().splitlines()
    assert identity == info['inputs']
    assert 'package %s 6.1.27-1 %s' % (KERNEL, console.sha256(KERNEL)) in identity
    assert 'modules virtio_pci virtio_net net_failover ext4' in identity
    # The record is JSON and matches the files.
    with open(os.path.join(spec.output, 'build-info.json')) as handle:
        recorded = json.load(handle)
    assert recorded == info
    assert info['kernel_package'] == KERNEL and info['kernel_version'] == '6.1.27-1'
    assert info['kernel_sha256'] == _ramdisk.sha256_file(os.path.join(spec.output, 'vmlinuz'))
    assert info['initrd_sha256'] == _ramdisk.sha256_file(os.path.join(spec.output, 'initramfs.gz'))
    assert info['initrd_size'] == os.path.getsize(os.path.join(spec.output, 'initramfs.gz'))
    assert sorted(os.listdir(spec.output)) == ['build-info.json', 'initramfs.gz', 'vmlinuz']
    assert not os.path.exists(os.path.join(spec.work, 'extract'))


def test_the_same_inputs_give_the_same_bytes(spec, console, tmp_path):
    first = build(spec, console)
    again = dataclasses.replace(spec, output=str(tmp_path / 'elsewhere'), work=str(tmp_path / 'work2'))
    second = build(again, console)
    assert first['initrd_sha256'] == second['initrd_sha256']
    assert first['fingerprint'] == second['fingerprint']
    later = dataclasses.replace(spec, output=str(tmp_path / 'later'), epoch=spec.epoch + 1)
    assert build(later, console)['initrd_sha256'] != first['initrd_sha256']


def test_nothing_is_rebuilt_while_the_inputs_and_outputs_match(spec, console):
    build(spec, console)
    assert _ramdisk.plan(spec, console.run).current
    extractions = len(console.called('dpkg-deb'))
    assert _ramdisk.plan(spec, console.run).current
    # Planning only reads package fields; nothing is extracted.
    assert all(argv[1] == '-f' for argv in console.called('dpkg-deb')[extractions:])


@pytest.mark.parametrize('change', ['init', 'file', 'modules', 'newer-package', 'initrd-on-disk', 'kernel-on-disk',
                                    'names', 'record'])
def test_any_changed_input_or_output_rebuilds(spec, console, change, tmp_path):
    build(spec, console)
    if change == 'init':
        with open(spec.init, 'a') as handle:
            handle.write('# changed\n')
    elif change == 'file':
        with open(spec.files[1].src, 'a') as handle:
            handle.write('# changed\n')
    elif change == 'modules':
        spec = dataclasses.replace(spec, modules=spec.modules[:-1])
    elif change == 'newer-package':
        console.add_deb('busybox-static', '1:1.36.1-1')
    elif change == 'initrd-on-disk':
        with open(os.path.join(spec.output, 'initramfs.gz'), 'ab') as handle:
            handle.write(b'x')
    elif change == 'kernel-on-disk':
        os.unlink(os.path.join(spec.output, 'vmlinuz'))
    elif change == 'names':
        spec = dataclasses.replace(spec, initrd_name='initrd.img')
    elif change == 'record':
        with open(os.path.join(spec.output, 'build-info.json'), 'w') as handle:
            handle.write('{"fingerprint": "')
    the_plan = _ramdisk.plan(spec, console.run)
    assert not the_plan.current
    _ramdisk.build(the_plan, console.run, move)
    assert _ramdisk.plan(spec, console.run).current


def test_the_kernel_tree_is_extracted_once_per_package(spec, console, tmp_path):
    build(spec, console)
    kernel_extractions = [argv for argv in console.called('dpkg-deb') if argv[1] == '-x' and KERNEL in argv[2]]
    assert len(kernel_extractions) == 1
    build(dataclasses.replace(spec, output=str(tmp_path / 'other')), console)
    kernel_extractions = [argv for argv in console.called('dpkg-deb') if argv[1] == '-x' and KERNEL in argv[2]]
    assert len(kernel_extractions) == 1
    assert len(console.called('depmod')) == 1


def test_the_highest_version_in_the_deb_directory_wins(spec, console):
    console.add_deb('busybox-static', '1:1.36.1-1')
    console.add_deb('busybox-static', '1:1.30.0-1')
    the_plan = _ramdisk.plan(spec, console.run)
    assert the_plan.packages['busybox-static'].version == '1:1.36.1-1'
    assert the_plan.packages['linux-image-amd64'].name == KERNEL  # followed from the metapackage


def test_build_with_apt_downloads_once_and_checks_the_archive_checksum(spec, console, tmp_path):
    spec = dataclasses.replace(spec, deb_dir=None)
    info = build(spec, console)
    assert info['kernel_package'] == KERNEL
    assert len(console.called('apt-get')) == 3  # kernel, busybox-static, udpcast: the metapackage is not fetched
    assert len(console.called('apt-get')) == len({argv[-1] for argv in console.called('apt-get')})
    build(dataclasses.replace(spec, output=str(tmp_path / 'again')), console)
    assert len(console.called('apt-get')) == 3
    assert len(console.called('apt-cache')) == 8


def test_build_with_apt_refuses_a_download_with_another_checksum(spec, console, tmp_path):
    spec = dataclasses.replace(spec, deb_dir=None)
    the_plan = _ramdisk.plan(spec, console.run)
    # The mirror now serves other bytes than its index announced.
    with open(os.path.join(console.debs, 'udpcast_20230924-1_amd64.deb'), 'ab') as handle:
        handle.write(b'tampered')
    with pytest.raises(_ramdisk.RamdiskError, match="does not match the archive's SHA256"):
        _ramdisk.build(the_plan, console.run, move)
    assert not os.path.exists(os.path.join(spec.output, 'initramfs.gz'))


def test_unknown_package_and_module_are_refused(spec, console):
    with pytest.raises(_ramdisk.RamdiskError, match='unknown to apt'):
        _ramdisk.plan(dataclasses.replace(spec, deb_dir=None, kernel_package='linux-image-nope'), console.run)
    with pytest.raises(_ramdisk.RamdiskError, match='no .deb of linux-image-nope'):
        _ramdisk.plan(dataclasses.replace(spec, kernel_package='linux-image-nope'), console.run)
    with pytest.raises(_ramdisk.RamdiskError, match='module e1000e is not in ' + KERNEL):
        build(dataclasses.replace(spec, modules=('virtio_net', 'e1000e')), console)
    assert not os.path.exists(os.path.join(spec.output, 'initramfs.gz'))


@pytest.mark.parametrize('change, message', [
    ({'kernel_name': '../vmlinuz'}, 'plain file name'),
    ({'initrd_name': 'build-info.json'}, 'plain file name'),
    ({'initrd_name': 'vmlinuz'}, 'must differ'),
    ({'modules': ('virtio_net', 'e1000e nvme')}, 'plain words'),
    ({'init': '/nonexistent/init'}, 'not a readable file'),
    ({'epoch': -1}, 'epoch'),
    ({'kernel_package': 'Linux Image'}, 'not a Debian package name'),
    ({'deb_dir': '/nonexistent'}, 'not a directory'),
    ({'binaries': (_ramdisk.Binary('/nonexistent/frisbee', 'frisbee'),)}, 'not an executable file'),
    ({'binaries': (_ramdisk.Binary('/usr/bin/udp-receiver', 'bin/x', 'udpcast'),)}, 'plain file name'),
    ({'files': (_ramdisk.ExtraFile(__file__, '/etc/../init'),)}, 'not a usable path'),
    ({'files': (_ramdisk.ExtraFile(__file__, '/init'),)}, 'more than one file for init'),
])
def test_bad_input_is_refused_before_anything_runs(spec, console, change, message):
    with pytest.raises(_ramdisk.RamdiskError, match=message):
        _ramdisk.plan(dataclasses.replace(spec, **change), console.run)
    assert console.calls == []
    assert not os.path.exists(spec.output) and not os.path.exists(spec.work)


def test_builder_digest_is_this_source():
    assert len(_ramdisk.builder_digest()) == 64
