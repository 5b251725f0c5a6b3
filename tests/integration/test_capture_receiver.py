# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A capture end to end without VMs: the ramdisk's capture code (capture.sh, in busybox sh) sends a block
device (a loop device) through busybox gzip and nc to the console's real receiver (capture_receiver.py)
on loopback, which enters it into the catalog; a refused name+version and a sender killed halfway leave
the catalog and the images directory as they were."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import IS_ROOT, ROOT_REASON

REPO = Path(__file__).resolve().parents[2]
CAPTURE_SH = REPO / 'roles' / 'imaging_ramdisk' / 'files' / 'capture.sh'
BUSYBOX = '/bin/busybox'
TOKEN = '0123456789abcdef0123456789abcdef'
SIZE = 4 << 20

pytestmark = [
    pytest.mark.skipif(not IS_ROOT, reason=ROOT_REASON),
    pytest.mark.skipif(not os.path.exists(BUSYBOX), reason='NOT TESTED: no busybox-static (%s)' % BUSYBOX),
]


@pytest.fixture
def disk(tmp_path):
    """A loop device over a file: half random, half zeros, then a tail that is not captured."""
    backing = tmp_path / 'disk.img'
    backing.write_bytes(os.urandom(SIZE // 2) + bytes(SIZE // 2) + b'tail' * 1024)
    device = subprocess.run(['losetup', '--find', '--show', '--read-only', str(backing)], capture_output=True,
                            text=True, check=True).stdout.strip()
    try:
        yield device, hashlib.sha256(backing.read_bytes()[:SIZE]).hexdigest()
    finally:
        subprocess.run(['losetup', '-d', device], check=False)


def start_receiver(tmp_path, program, started, version='1', extra=()):
    record = tmp_path / ('receiver-%s.json' % version)
    record.unlink(missing_ok=True)  # an earlier receiver's
    process = subprocess.Popen(
        [sys.executable, str(program), 'receive', '--catalog', str(tmp_path / 'catalog.json'),
         '--images-dir', str(tmp_path / 'images'), '--name', 'compute', '--version', version, '--node', 'node-a1',
         '--bind', '127.0.0.1', '--token', TOKEN, '--idle-timeout', '5', '--lifetime', '120', '--record', str(record),
         *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started.append(process)
    deadline = time.monotonic() + 20
    while not record.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return process, json.loads(record.read_text())['port']


@pytest.fixture
def applets(tmp_path):
    """A PATH of busybox applets only, as in the ramdisk (a host's own nc does not end on end of input)."""
    directory = tmp_path / 'bin'
    directory.mkdir()
    subprocess.run([BUSYBOX, '--install', '-s', str(directory)], check=True)
    return str(directory)


@pytest.fixture(autouse=True)
def receivers():
    """Every receiver a test started is stopped at its end (by PID), whatever happened."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def run_capture_sh(device: str, port: int, path: str) -> subprocess.CompletedProcess:
    """capture.sh's cnb_capture with init's helpers stubbed: the command line says where to upload."""
    script = '''
uptime_s() { cut -d. -f1 /proc/uptime; }
log() { echo "log: $*"; }
report() { echo "report: $*"; }
finish() { echo "finish: $1"; exit 0; }
fail() { echo "fail: $1"; exit 1; }
cat() { echo "console=ttyS0 cnb.mode=capture cnb.upload=127.0.0.1:%d cnb.token=%s"; }
DISK=%s SIZE=%d TIMEOUT=60 AFTER=poweroff
. %s
cnb_capture
''' % (port, TOKEN, device, SIZE, CAPTURE_SH)
    return subprocess.run([BUSYBOX, 'sh', '-c', script], capture_output=True, text=True, timeout=120, check=False,
                          env={'PATH': path})


def test_a_capture_enters_the_disk_bytes_and_another_disk_under_the_same_version_is_refused(
        tmp_path, receiver_program, disk, applets, receivers):
    device, disk_sha = disk
    (tmp_path / 'images').mkdir()
    receiver, port = start_receiver(tmp_path, receiver_program('capture'), receivers)
    sent = run_capture_sh(device, port, applets)
    out, err = receiver.communicate(timeout=60)
    assert receiver.returncode == 0, (out, err, sent.stdout, sent.stderr)
    assert 'finish: poweroff' in sent.stdout and 'report: done ok %s captured' % disk_sha in sent.stdout, sent.stdout
    result = json.loads(out)
    assert result['ok'] and result['image']['sha256'] == disk_sha and result['image']['size'] == SIZE
    catalog = json.loads((tmp_path / 'catalog.json').read_text())
    (entry,) = catalog['images']
    stored = Path(entry['file'])
    assert stored.parent == tmp_path / 'images' and stored.name == 'compute@1.img.gz'
    assert entry['file_sha256'] == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert entry['compression'] == 'gzip' and entry['source_node'] == 'node-a1'
    assert sorted(os.listdir(tmp_path / 'images')) == ['compute@1.img.gz']
    # The same disk again: the same image, nothing changes.
    before = ((tmp_path / 'catalog.json').read_bytes(), stored.read_bytes())
    receiver, port = start_receiver(tmp_path, receiver_program('capture'), receivers)
    sent = run_capture_sh(device, port, applets)
    out = receiver.communicate(timeout=60)[0]
    assert receiver.returncode == 0 and 'finish: poweroff' in sent.stdout, (out, sent.stdout)
    assert ((tmp_path / 'catalog.json').read_bytes(), stored.read_bytes()) == before
    # Another disk under the same name and version: refused, the node told so, nothing changed.
    other = tmp_path / 'other.img'
    other.write_bytes(os.urandom(SIZE))
    other_device = subprocess.run(['losetup', '--find', '--show', '--read-only', str(other)], capture_output=True,
                                  text=True, check=True).stdout.strip()
    try:
        receiver, port = start_receiver(tmp_path, receiver_program('capture'), receivers)
        sent = run_capture_sh(other_device, port, applets)
    finally:
        subprocess.run(['losetup', '-d', other_device], check=False)
    out = receiver.communicate(timeout=60)[0]
    assert receiver.returncode == 1 and 'already in the catalog' in json.loads(out)['error']
    assert 'fail: capture-refused' in sent.stdout
    assert ((tmp_path / 'catalog.json').read_bytes(), stored.read_bytes()) == before
    assert sorted(os.listdir(tmp_path / 'images')) == ['compute@1.img.gz']


def test_a_sender_killed_halfway_leaves_no_entry_and_no_file(tmp_path, receiver_program, disk, receivers):
    device = disk[0]
    (tmp_path / 'images').mkdir()
    receiver, port = start_receiver(tmp_path, receiver_program('capture'), receivers, version='2')
    # The node's pipeline, cut after 1 MB of the compressed stream and then killed.
    sender = subprocess.Popen(
        [BUSYBOX, 'sh', '-c', '{ echo "cnb-capture %s %d"; %s head -c %d %s | %s gzip -c | %s head -c 1000000; '
         'sleep 60; } | %s nc 127.0.0.1 %d' % (TOKEN, SIZE, BUSYBOX, SIZE, device, BUSYBOX, BUSYBOX, BUSYBOX, port)],
        start_new_session=True)
    time.sleep(2)
    os.killpg(sender.pid, signal.SIGKILL)
    sender.wait()
    out = receiver.communicate(timeout=60)[0]
    assert receiver.returncode == 1 and 'truncated' in json.loads(out)['error'], out
    assert not (tmp_path / 'catalog.json').exists()
    assert os.listdir(tmp_path / 'images') == []


def test_stop_ends_a_waiting_receiver(tmp_path, receiver_program, receivers):
    (tmp_path / 'images').mkdir()
    receiver = start_receiver(tmp_path, receiver_program('capture'), receivers, version='3')[0]
    stopped = subprocess.run([sys.executable, str(receiver_program('capture')), 'stop', '--record',
                              str(tmp_path / 'receiver-3.json')], capture_output=True, text=True, check=True)
    assert json.loads(stopped.stdout)['stopped'] is True
    receiver.communicate(timeout=20)
    assert receiver.returncode != 0 and os.listdir(tmp_path / 'images') == []
