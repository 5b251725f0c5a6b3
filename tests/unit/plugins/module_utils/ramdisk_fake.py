# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A console for the ramdisk builder's tests: fake Debian packages and the programs the build runs.

``FakeConsole(tmp_path)`` makes a directory of .deb files (their bytes are
only names; what ``dpkg-deb -x`` "extracts" is defined here) and answers
``apt-cache``, ``apt-get download``, ``dpkg-deb``, ``dpkg --compare-versions``,
``depmod``, ``modprobe --show-depends``, ``ldd`` and ``busybox --list`` like
the real ones, recording every call. Pass ``console.run`` where the builder
takes ``run_command``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import stat
import typing as t
from pathlib import Path

RELEASE = '6.1.0-9-amd64'
KERNEL = 'linux-image-' + RELEASE
PACKAGES = {
    'linux-image-amd64': {'Version': '6.1.27-1', 'Depends': '%s (= 6.1.27-1)' % KERNEL},
    KERNEL: {'Version': '6.1.27-1', 'Depends': 'kmod, linux-base (>= 4.3~), initramfs-tools | linux-initramfs-tool'},
    'busybox-static': {'Version': '1:1.35.0-4+b3', 'Depends': ''},
    'udpcast': {'Version': '20230924-1', 'Depends': 'libc6 (>= 2.34)'},
}
# module -> insmod order of modprobe --show-depends (paths relative to lib/modules/<release>/kernel)
MODULES = {
    'virtio_net': ['net/core/failover.ko', 'drivers/net/net_failover.ko', 'drivers/net/virtio_net.ko'],
    'net_failover': ['net/core/failover.ko', 'drivers/net/net_failover.ko'],
    'ext4': ['lib/crc16.ko', 'fs/mbcache.ko', 'fs/jbd2/jbd2.ko', 'fs/ext4/ext4.ko'],
    'virtio_pci': [],  # built into the kernel
}
APPLETS = ['busybox', 'sh', 'ls', 'udhcpc', 'insmod', 'init']


def version_key(version: str) -> tuple:
    """Good enough for the fake packages: epoch, then the numbers."""
    epoch, _sep, rest = version.rpartition(':')
    numbers = [int(part) for part in rest.replace('-', '.').replace('+b', '.').split('.') if part.isdigit()]
    return (int(epoch or 0), numbers)


class FakeConsole:
    """The fake packages and programs."""

    def __init__(self, root: Path):
        self.root = root
        self.debs = root / 'debs'
        self.debs.mkdir(parents=True)
        self.libs = root / 'host-lib'
        self.libs.mkdir()
        (self.libs / 'libc.so.6').write_bytes(b'libc')
        (self.libs / 'ld-linux-x86-64.so.2').write_bytes(b'loader')
        self.calls: list[list[str]] = []
        self.packages = {name: dict(fields) for name, fields in PACKAGES.items()}
        self.files: dict[str, str] = {}  # deb path -> package
        self.versions: dict[str, dict[str, str]] = {}  # deb path -> its fields
        for name in self.packages:
            self.add_deb(name)
        self.frisbee = root / 'frisbee'
        self.frisbee.write_bytes(b'#!frisbee client\n')
        self.frisbee.chmod(0o755)

    def add_deb(self, name: str, version: str | None = None, directory: Path | None = None) -> Path:
        """A .deb of a package (another version of it, when given)."""
        fields = dict(self.packages[name])
        if version is not None:
            fields['Version'] = version
        path = (directory or self.debs) / ('%s_%s_amd64.deb' % (name, fields['Version'].replace(':', '%3a')))
        path.write_bytes(('deb %s %s\n' % (name, fields['Version'])).encode())
        self.files[str(path)] = name
        self.versions[str(path)] = fields
        return path

    def sha256(self, name: str) -> str:
        """The archive checksum apt-cache reports for a package: that of its .deb here."""
        version = self.packages[name]['Version']
        path = self.debs / ('%s_%s_amd64.deb' % (name, version.replace(':', '%3a')))
        return hashlib.sha256(path.read_bytes()).hexdigest()

    def called(self, program: str) -> list[list[str]]:
        """The calls of one program."""
        return [argv for argv in self.calls if os.path.basename(argv[0]) == program]

    # ------------------------------------------------------------------ the programs

    def run(self, argv: t.Sequence[str], cwd: str | None = None, **_kwargs: t.Any) -> tuple[int, str, str]:
        argv = [str(arg) for arg in argv]
        self.calls.append(argv)
        program = os.path.basename(argv[0])
        handler = getattr(self, 'do_' + program.replace('-', '_'), None)
        if handler is None:
            return 127, '', '%s: not found\n' % program
        return handler(argv[1:], cwd)

    def do_apt_cache(self, args: list[str], _cwd: str | None) -> tuple[int, str, str]:
        name = args[-1]
        if name not in self.packages:
            return 100, '', 'E: No packages found\n'
        fields = self.packages[name]
        record = 'Package: %s\nVersion: %s\nDepends: %s\nDescription: fake\n continued line\nSHA256: %s\n\n' % (
            name, fields['Version'], fields['Depends'], self.sha256(name))
        return 0, record, ''

    def do_apt_get(self, args: list[str], cwd: str | None) -> tuple[int, str, str]:
        assert args[0] == 'download' and cwd
        name, _sep, version = args[-1].partition('=')
        assert version == self.packages[name]['Version']
        source = self.debs / ('%s_%s_amd64.deb' % (name, version.replace(':', '%3a')))
        Path(cwd, source.name).write_bytes(source.read_bytes())
        return 0, 'Get:1 fake %s\n' % name, ''

    def do_dpkg(self, args: list[str], _cwd: str | None) -> tuple[int, str, str]:
        assert args[0] == '--compare-versions' and args[2] == 'gt'
        return (0 if version_key(args[1]) > version_key(args[3]) else 1), '', ''

    def do_dpkg_deb(self, args: list[str], _cwd: str | None) -> tuple[int, str, str]:
        if args[0] == '-f':
            fields = self.versions[args[1]]
            name = self.files[args[1]]
            return 0, 'Package: %s\nVersion: %s\nDepends: %s\n' % (name, fields['Version'], fields['Depends']), ''
        assert args[0] == '-x'
        name = self.files.get(args[1]) or Path(args[1]).name.split('_')[0]
        target = Path(args[2])
        if name == KERNEL:
            (target / 'boot').mkdir(parents=True)
            (target / 'boot' / ('vmlinuz-' + RELEASE)).write_bytes(b'kernel image')
            kernel = target / 'lib' / 'modules' / RELEASE / 'kernel'
            for paths in MODULES.values():
                for relative in paths:
                    (kernel / relative).parent.mkdir(parents=True, exist_ok=True)
                    (kernel / relative).write_bytes(b'module ' + relative.encode())
        elif name == 'busybox-static':
            (target / 'bin').mkdir(parents=True)
            (target / 'bin' / 'busybox').write_bytes(b'busybox binary')
            (target / 'bin' / 'busybox').chmod(0o755)
        elif name == 'udpcast':
            (target / 'usr' / 'bin').mkdir(parents=True)
            (target / 'usr' / 'bin' / 'udp-receiver').write_bytes(b'udp-receiver binary')
        return 0, '', ''

    def do_depmod(self, _args: list[str], _cwd: str | None) -> tuple[int, str, str]:
        return 0, '', ''

    def do_modprobe(self, args: list[str], _cwd: str | None) -> tuple[int, str, str]:
        root, release, module = args[1], args[3], args[-1]
        if module not in MODULES:
            return 1, '', 'modprobe: FATAL: Module %s not found in directory %s/lib/modules/%s\n' % (module, root, release)
        if not MODULES[module]:
            return 0, 'builtin %s\n' % module, ''
        return 0, ''.join('insmod %s/lib/modules/%s/kernel/%s \n' % (root, release, path)
                          for path in MODULES[module]), ''

    def do_ldd(self, args: list[str], _cwd: str | None) -> tuple[int, str, str]:
        del args
        return 0, ('\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => %s/libc.so.6 (0x00007f)\n\t%s/ld-linux-x86-64.so.2 '
                   '(0x00007f)\n' % (self.libs, self.libs)), ''

    def do_busybox(self, args: list[str], _cwd: str | None) -> tuple[int, str, str]:
        assert args == ['--list']
        return 0, ''.join(applet + '\n' for applet in APPLETS), ''


def read_initramfs(path: str | Path) -> dict[str, dict[str, t.Any]]:
    """The members of a gzip'd newc archive: name -> mode, ino, mtime, uid, gid, rdev, data."""
    data = gzip.decompress(Path(path).read_bytes())
    members: dict[str, dict[str, t.Any]] = {}
    offset = 0
    while True:
        assert data[offset:offset + 6] == b'070701', offset
        fields = [int(data[offset + 6 + 8 * index:offset + 14 + 8 * index], 16) for index in range(13)]
        namesize, filesize = fields[11], fields[6]
        name_start = offset + 110
        name = data[name_start:name_start + namesize - 1].decode()
        offset = name_start + namesize
        offset += -offset % 4
        content = data[offset:offset + filesize]
        offset += filesize
        offset += -offset % 4
        if name == 'TRAILER!!!':
            assert offset == len(data)
            return members
        members[name] = {'mode': fields[1], 'ino': fields[0], 'uid': fields[2], 'gid': fields[3],
                         'mtime': fields[5], 'rdev': (fields[9], fields[10]), 'data': content,
                         'type': stat.S_IFMT(fields[1])}
