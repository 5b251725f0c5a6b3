# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Testinfra checks for the frisbee_server scenario, after side_effect ran."""

from __future__ import annotations

import json

STATE_DIR = '/var/lib/cluster-netboot'


def test_udpcast_is_installed(host):
    assert host.package('udpcast').is_installed
    assert host.file('/usr/bin/udp-sender').mode & 0o111


def test_directories(host):
    for path in ('/var/lib/netboot/images', STATE_DIR):
        directory = host.file(path)
        assert directory.is_directory
        assert directory.user == 'root'
        assert directory.mode == 0o755


def test_registry_is_empty_after_transfer_and_stop(host):
    registry = json.loads(host.file(STATE_DIR + '/sessions.json').content_string)
    assert registry['sessions'] == []
    assert not host.run('ls %s/*.pid' % STATE_DIR).stdout.strip()


def test_no_sender_left_running(host):
    assert host.run('pgrep -x udp-sender').rc == 1


def test_received_image_is_identical(host):
    original = host.file('/var/lib/netboot/images/molecule.img')
    received = host.file('/var/tmp/molecule-received.img')
    assert received.size == original.size == 64 * 65536
    assert received.sha256sum == original.sha256sum


def test_session_logs_tell_what_happened(host):
    logs = host.run('ls %s/*.log' % STATE_DIR).stdout.split()
    assert len(logs) == 2
    contents = {path: host.file(path).content_string for path in logs}
    finished = [path for path, text in contents.items() if 'molecule.img' in path]
    assert finished and 'Transfer complete' in contents[finished[0]]
