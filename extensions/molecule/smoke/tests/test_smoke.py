# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Testinfra checks for the smoke scenario."""

from __future__ import annotations

import time


def test_systemd_is_init(host):
    assert host.file('/proc/1/comm').content_string.strip() == 'systemd'


def test_system_is_running(host):
    # Boot may still be finishing when verify starts.
    deadline = time.monotonic() + 60
    state = ''
    while time.monotonic() < deadline:
        state = host.run('systemctl is-system-running').stdout.strip()
        if state not in ('initializing', 'starting'):
            break
        time.sleep(1)
    failed = host.run('systemctl --failed --no-legend --plain').stdout
    assert state == 'running', f'system state {state!r}, failed units:\n{failed}'


def test_marker_file(host):
    marker = host.file('/etc/cluster-netboot-smoke')
    assert marker.is_file
    assert marker.mode == 0o644
    assert marker.content_string == 'converged by molecule\n'
