# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The imaging ramdisk's /init (roles/imaging_ramdisk/files/init) with its real stream.sh and discover.sh, run by busybox.

A chroot stands in for the ramdisk: the host's static busybox and its applets, the real init and
stream.sh, a stub netup.sh (the NIC and DHCP bring-up, covered by the QEMU lab), ``udp-receiver``
replaced by a script that writes the image to its stdout (and exits with a chosen status), ``wget``
by one that records the report URLs, ``poweroff`` by one that ends init, ``mount`` by a no-op. The
disk is a loop device onto a file. What is checked is what the node reports and what its disk holds:
the sha256 taken as the image goes onto the disk, a wrong one failing the node, ``cnb.verify=readback``
reading the disk back in a phase of its own, a failed receiver failing the node.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FILES = REPO / 'roles' / 'imaging_ramdisk' / 'files'
BUSYBOX = shutil.which('busybox') or '/bin/busybox'
IMAGE = hashlib.sha256(b'cluster.netboot ramdisk test image').digest() * (1 << 15)  # 1 MiB

STUBS = {
    'mount': '#!/bin/sh\nexit 0\n',
    # The NIC, DHCP and the SecureBoot variable are the QEMU lab's part.
    # udp-receiver writes to --file when given one, else to its stdout.
    'udp-receiver': ('#!/bin/sh\nout=\nwhile [ $# -gt 0 ]; do [ "$1" = --file ] && out=$2; shift; done\n'
                     'if [ -n "$out" ]; then cat /image >"$out"; else cat /image; fi\nexit "$(cat /receiver.status)"\n'),
    'wget': '#!/bin/sh\nfor word; do url=$word; done\necho "$url" >>/reports.log\n',
    'poweroff': '#!/bin/sh\necho poweroff >>/after.log\nkill -9 "$PPID"\n',
    'reboot': '#!/bin/sh\necho reboot >>/after.log\nkill -9 "$PPID"\n',
}
NETUP = '''cnb_load_modules() { :; }
cnb_net_up() {
    IFACE=eth0 MAC=52:54:00:12:34:56 DHCP_IP=node-ip DHCP_MASK=24 DHCP_SERVER=console DHCP_HOSTNAME=node-1
}
'''


def _static_busybox() -> bool:
    if not os.path.exists(BUSYBOX):
        return False
    return b'statically linked' in subprocess.run(['file', '-L', BUSYBOX], capture_output=True, check=False).stdout


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason='NOT TESTED: the ramdisk init test needs root (chroot, loop device)'),
    pytest.mark.skipif(not _static_busybox(), reason='NOT TESTED: no static busybox (busybox-static) on this host'),
]


@pytest.fixture
def ramdisk(tmp_path: Path):
    """A chroot with busybox, the real init and stream.sh, and a 2 MiB loop device as its disk."""
    root = tmp_path / 'root'
    for directory in ('bin', 'dev', 'proc/sys/vm', 'sys', 'tmp', 'lib/cluster-netboot'):
        (root / directory).mkdir(parents=True)
    shutil.copy(BUSYBOX, root / 'bin' / 'busybox')
    applets = subprocess.run([BUSYBOX, '--list'], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet != 'busybox':
            (root / 'bin' / applet).symlink_to('busybox')
    for name, text in STUBS.items():
        stub = root / 'bin' / name
        stub.unlink(missing_ok=True)
        stub.write_text(text)
        stub.chmod(0o755)
    for directory in ('sbin', 'usr/bin', 'usr/sbin'):
        (root / directory).parent.mkdir(parents=True, exist_ok=True)
        (root / directory).symlink_to('/bin')
    shutil.copy(FILES / 'init', root / 'init')
    (root / 'init').chmod(0o755)
    shutil.copy(FILES / 'stream.sh', root / 'lib' / 'cluster-netboot' / 'stream.sh')
    shutil.copy(FILES / 'discover.sh', root / 'lib' / 'cluster-netboot' / 'discover.sh')
    (root / 'lib' / 'cluster-netboot' / 'netup.sh').write_text(NETUP)
    (root / 'proc' / 'uptime').write_text('100.00 50.00\n')
    (root / 'proc' / 'sys' / 'vm' / 'drop_caches').write_text('0\n')
    (root / 'image').write_bytes(IMAGE)
    backing = tmp_path / 'disk.img'
    backing.write_bytes(b'\xee' * (2 << 20))
    loop = subprocess.run(['losetup', '--find', '--show', str(backing)], capture_output=True, text=True, check=False)
    if loop.returncode != 0:
        pytest.skip('NOT TESTED: no loop device for the ramdisk init test: %s' % loop.stderr.strip())
    device = loop.stdout.strip()
    try:
        os.mknod(root / 'dev' / 'disk', 0o600 | 0o060000, os.stat(device).st_rdev)
        yield root, device
    finally:
        subprocess.run(['losetup', '--detach', device], check=False)


def boot(root: Path, cmdline: str, receiver_status: int = 0) -> list[dict[str, str]]:
    """Run init in the chroot with this kernel command line; the reports it sent, in order."""
    (root / 'proc' / 'cmdline').write_text(cmdline + '\n')
    (root / 'receiver.status').write_text('%d\n' % receiver_status)
    for stale in ('reports.log', 'after.log'):
        (root / stale).unlink(missing_ok=True)
    completed = subprocess.run([shutil.which('chroot') or '/usr/sbin/chroot', str(root), '/init'],
                               env={'PATH': '/bin'}, capture_output=True, timeout=120, check=False)
    console = (completed.stdout + completed.stderr).decode(errors='replace')
    assert (root / 'after.log').read_text().split() == ['poweroff'], console
    reports = []
    paths = []
    for line in (root / 'reports.log').read_text().splitlines():
        url = urllib.parse.urlsplit(line)
        paths.append(url.path)
        if url.path == '/token/log':  # the console log, sent at the end (discover.sh)
            continue
        assert url.path == '/token/report', line
        reports.append({key: values[0] for key, values in urllib.parse.parse_qs(url.query, keep_blank_values=True)
                        .items()})
    assert paths and paths[-1] == '/token/log', 'the console log is not sent after the last report: %s' % paths
    return reports


def cmdline(sha256: str, verify: str = '') -> str:
    words = ['console=ttyS0', 'cnb.backend=udpcast', 'cnb.addr=239.192.1.1', 'cnb.port=7000', 'cnb.disk=/dev/disk',
             'cnb.size=%d' % len(IMAGE), 'cnb.sha256=' + sha256, 'cnb.report=http://console:8000/token/report',
             'cnb.node=node-1', 'cnb.after=poweroff', 'cnb.timeout=60']
    return ' '.join(words + (['cnb.verify=' + verify] if verify else []))


def phases(reports: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(report['phase'], report['result']) for report in reports]


def disk_bytes(device: str, size: int) -> bytes:
    with open(device, 'rb') as handle:
        return handle.read(size)


def test_the_image_is_hashed_as_it_goes_onto_the_disk(ramdisk) -> None:
    root, device = ramdisk
    expected = hashlib.sha256(IMAGE).hexdigest()
    reports = boot(root, cmdline(expected))
    # One pass: no verify phase, the node is done when the transfer is done.
    assert phases(reports) == [('boot', 'ok'), ('receive', 'started'), ('done', 'ok')], reports
    assert (reports[-1]['sha256'], reports[-1]['detail'], reports[-1]['verify_seconds']) == (expected, 'match', '')
    assert disk_bytes(device, len(IMAGE) + 1) == IMAGE + b'\xee'


def test_a_wrong_sha256_fails_the_node(ramdisk) -> None:
    root, device = ramdisk
    reports = boot(root, cmdline('0' * 64))
    assert phases(reports) == [('boot', 'ok'), ('receive', 'started'), ('done', 'failed')], reports
    assert reports[-1]['detail'] == 'checksum-mismatch'
    # It says what it got: the sha256 of what went onto the disk.
    assert reports[-1]['sha256'] == hashlib.sha256(IMAGE).hexdigest()
    assert disk_bytes(device, len(IMAGE)) == IMAGE


def test_readback_reads_the_disk_in_a_verify_phase(ramdisk) -> None:
    root, _device = ramdisk
    expected = hashlib.sha256(IMAGE).hexdigest()
    reports = boot(root, cmdline(expected, verify='readback'))
    assert phases(reports) == [('boot', 'ok'), ('receive', 'started'), ('verify', 'started'), ('done', 'ok')], reports
    assert (reports[-1]['sha256'], reports[-1]['detail']) == (expected, 'match')
    assert reports[-1]['verify_seconds'].isdigit()


def test_a_failed_receiver_fails_the_node_in_the_receive_phase(ramdisk) -> None:
    root, _device = ramdisk
    reports = boot(root, cmdline(hashlib.sha256(IMAGE).hexdigest()), receiver_status=3)
    assert phases(reports) == [('boot', 'ok'), ('receive', 'started'), ('receive', 'failed')], reports
    assert reports[-1]['detail'] == 'receiver-exit-3'


def test_an_unknown_verify_mode_fails_the_node_before_it_receives(ramdisk) -> None:
    root, device = ramdisk
    reports = boot(root, cmdline(hashlib.sha256(IMAGE).hexdigest(), verify='twice'))
    assert phases(reports) == [('boot', 'ok'), ('receive', 'failed')], reports
    assert reports[-1]['detail'] == 'unknown-verify-twice'
    assert disk_bytes(device, 16) == b'\xee' * 16
