# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The frisbee path end to end with the operator's programs, in network namespaces.

The frisbee_server role makes an image with the real ``imagezip`` from a raw
disk image and starts the real ``frisbeed`` on it; real ``frisbee`` clients
join from their own namespaces and write to a "disk" file each, whose bytes
must equal the raw image (sha256), which is what the imaging ramdisk checks.

Frisbee is not packaged in Debian and the collection ships none of it: the
test runs when CLUSTER_NETBOOT_FRISBEE_BIN_DIR names a directory with
``frisbeed``, ``frisbee`` and ``imagezip``, and is skipped loudly otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import warnings

import pytest

from test_frisbee_udpcast import sha256, start_ticks

BIN_DIR_VARIABLE = 'CLUSTER_NETBOOT_FRISBEE_BIN_DIR'
PROGRAMS = ('frisbeed', 'frisbee', 'imagezip')
SUBNET = '10.77.43'


@pytest.fixture(scope='module')
def frisbee_programs() -> dict[str, str]:
    bin_dir = os.environ.get(BIN_DIR_VARIABLE, '')
    found = {name: os.path.join(bin_dir, name) for name in PROGRAMS}
    missing = [name for name, path in found.items() if not (bin_dir and os.path.isfile(path) and os.access(path, os.X_OK))]
    if missing:
        reason = (f'NOT TESTED: the frisbee path end to end: {", ".join(missing)} not in '
                  f'{BIN_DIR_VARIABLE}={bin_dir or "(unset)"}. Frisbee is not packaged in Debian: build frisbeed, '
                  f'frisbee and imagezip from Emulab\'s sources and set {BIN_DIR_VARIABLE} to their directory.')
        warnings.warn(reason)
        print('\n' + reason, file=sys.stderr)
        pytest.skip(reason)
    return found


def test_imagezip_image_served_by_frisbeed_lands_as_the_raw_image(frisbee_programs, netns_factory, processes,
                                                                  run_playbook, tmp_path):
    console = netns_factory.namespace('fcon')
    bridge = netns_factory.bridge(console, f'{SUBNET}.1/24')
    console.ip('route', 'add', '224.0.0.0/4', 'dev', bridge)
    interpreter = tmp_path / 'python-in-ns'
    interpreter.write_text(f'#!/bin/sh\nexec ip netns exec {console.name} {sys.executable} "$@"\n')
    interpreter.chmod(0o755)
    images = tmp_path / 'images'
    images.mkdir()
    raw = images / 'node.img'
    # Random bytes with a run of zeros: imagezip must keep every byte of the file (-f), zeros too.
    raw.write_bytes(os.urandom(3 << 20) + bytes(1 << 20) + os.urandom(4 << 20))
    ndz = images / 'node.ndz'
    state_dir = tmp_path / 'state'

    def role(sessions, imagezip_images):
        play = [{'name': 'frisbee', 'hosts': 'localhost', 'gather_facts': False,
                 'roles': [{'role': 'cluster.netboot.frisbee_server'}]}]
        return run_playbook(play, extravars={
            'ansible_python_interpreter': str(interpreter),
            'frisbee_server_backends': ['frisbee'], 'frisbee_server_default_backend': 'frisbee',
            'frisbee_server_frisbeed_path': frisbee_programs['frisbeed'],
            'frisbee_server_imagezip_path': frisbee_programs['imagezip'],
            'frisbee_server_image_dir': str(images), 'frisbee_server_state_dir': str(state_dir),
            'frisbee_server_interface_address': f'{SUBNET}.1',
            'frisbee_server_imagezip_images': imagezip_images, 'frisbee_server_sessions': sessions})

    # A raw image that is not there: imagezip fails and leaves no image a later run would take for made.
    broken = role([], [{'raw': str(images / 'missing.img'), 'image': str(images / 'missing.ndz')}])
    assert broken.failed
    assert sorted(path.name for path in images.iterdir()) == ['node.img']

    try:
        made = role([{'image': str(ndz), 'idle_timeout': 300}], [{'raw': str(raw), 'image': str(ndz)}])
        assert made.rc == 0, made
        assert made.task('Make the frisbee images with imagezip from raw disk images (an existing image is kept)').changed
        assert ndz.is_file() and sha256(ndz) != sha256(raw)
        [session] = made.task('Start or stop the imaging sessions')['results']
        assert session['changed'] and session['session']['argv'][0] == frisbee_programs['frisbeed']

        # Again: the image is kept and the live session reused.
        again = role([{'image': str(ndz), 'idle_timeout': 300}], [{'raw': str(raw), 'image': str(ndz)}])
        assert again.rc == 0, again
        assert not again.changed, again.changed_tasks()

        clients = []
        for index in (1, 2):
            node = netns_factory.namespace(f'fn{index}')
            ifname = netns_factory.attach(console, bridge, node, f'{SUBNET}.{10 + index}/24')
            node.ip('route', 'add', '224.0.0.0/4', 'dev', ifname)
            disk = tmp_path / f'disk{index}'
            # A "disk" larger than the image, full of old data: only the image's bytes are compared.
            disk.write_bytes(b'\xa5' * (raw.stat().st_size + (1 << 20)))
            clients.append((disk, processes.start(
                [frisbee_programs['frisbee'], '-q', '-m', session['address'], '-p', str(session['port']),
                 '-i', f'{SUBNET}.{10 + index}', str(disk)], ns=node)))
        deadline = time.monotonic() + 120
        while any(client.running() for _disk, client in clients) and time.monotonic() < deadline:
            time.sleep(0.2)
        for disk, client in clients:
            assert not client.running(), 'frisbee did not finish in 120 s:\n' + client.log()
            assert client.popen.returncode == 0, client.log()
            with open(disk, 'rb') as handle:
                landed = hashlib.sha256(handle.read(raw.stat().st_size)).hexdigest()
            assert landed == sha256(raw), client.log()
    finally:
        stopped = role([{'image': str(ndz), 'state': 'stopped'}], [])
        registry = state_dir / 'sessions.json'
        if registry.exists():
            for entry in json.loads(registry.read_text())['sessions']:
                if start_ticks(entry['pid']) == entry['start_ticks']:
                    os.kill(entry['pid'], 9)
    assert stopped.rc == 0, stopped
