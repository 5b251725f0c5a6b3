# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""cluster.netboot.frisbee_server with the frisbee backend against a real frisbeed.

Frisbee is not packaged in Debian. The test runs when the operator's
``frisbeed`` is in $CLUSTER_NETBOOT_FRISBEE_BIN_DIR (or named by $FRISBEED,
or on PATH or in /usr/local/sbin) and is skipped, saying why, otherwise. The command lines themselves are unit
tested against frisbeed's option table (tests/unit/.../test__frisbee.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
import warnings

import pytest

# The operator's programs directory when given (as the end-to-end test takes it), else PATH.
BIN_DIR = os.environ.get('CLUSTER_NETBOOT_FRISBEE_BIN_DIR', '')
FRISBEED = os.environ.get('FRISBEED') or shutil.which(
    'frisbeed', path=BIN_DIR or os.environ.get('PATH', '') + ':/usr/local/sbin:/usr/sbin')
SKIP_REASON = ('NOT TESTED: no frisbeed in $CLUSTER_NETBOOT_FRISBEE_BIN_DIR, $FRISBEED, on PATH or in /usr/local/sbin. '
               'Frisbee is not packaged in '
               'Debian: build frisbeed from Emulab\'s sources and put it on PATH to run the frisbee backend '
               'against the real server (its command lines are still unit tested).')


@pytest.fixture
def frisbeed():
    if not FRISBEED:
        warnings.warn(SKIP_REASON)
        print('\n' + SKIP_REASON, file=sys.stderr)
        pytest.skip(SKIP_REASON)
    return FRISBEED


def start_ticks(pid):
    try:
        with open(f'/proc/{pid}/stat', encoding='utf-8') as handle:
            fields = handle.read().rsplit(')', 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == 'Z' else int(fields[19])


def test_frisbeed_session_starts_is_reused_and_stops(frisbeed, netns_factory, run_playbook, tmp_path):
    server = netns_factory.namespace('fsrv')
    bridge = netns_factory.bridge(server, '10.77.41.1/24')
    server.ip('route', 'add', '224.0.0.0/4', 'dev', bridge)
    interpreter = tmp_path / 'python-in-ns'
    interpreter.write_text(f'#!/bin/sh\nexec ip netns exec {server.name} {sys.executable} "$@"\n')
    interpreter.chmod(0o755)
    image = tmp_path / 'orbit-2.0.ndz'
    image.write_bytes(os.urandom(1024 * 1024))
    state_dir = tmp_path / 'state'

    def module(**args):
        args.setdefault('state_dir', str(state_dir))
        args.setdefault('backend', 'frisbee')
        play = [{'name': 'frisbee', 'hosts': 'localhost', 'gather_facts': False,
                 'tasks': [{'name': 'session', 'cluster.netboot.frisbee_server': args}]}]
        result = run_playbook(play, extravars={'ansible_python_interpreter': str(interpreter)})
        assert result.rc == 0, result
        return result.task('session')

    started = None
    try:
        started = module(image=str(image), frisbeed_path=frisbeed, interface_address='10.77.41.1',
                         bandwidth=50000000, idle_timeout=300)
        assert started.changed
        expected = ['-d', '-m', started['address'], '-p', str(started['port']),
                    '-i', '10.77.41.1', '-W', '50000000', '-T', '300', str(image)]
        assert started['session']['argv'][1:] == expected
        [entry] = json.loads((state_dir / 'sessions.json').read_text())['sessions']
        # frisbeed stays in the foreground: the recorded PID is the server itself.
        assert start_ticks(entry['pid']) == entry['start_ticks']
        assert server.listening(started['port'], 'udp')

        again = module(image=str(image), frisbeed_path=frisbeed, interface_address='10.77.41.1',
                       bandwidth=50000000, idle_timeout=300)
        assert not again.changed and again['pid'] == started['pid']

        query = module(state='query', image=str(image))
        assert query['session']['alive'] and query['session']['progress']['phase'] == 'waiting'

        stopped = module(state='stopped', image=str(image))
        assert stopped.changed and stopped['session']['stopped_by'] == 'terminated'
        assert start_ticks(entry['pid']) is None or start_ticks(entry['pid']) != entry['start_ticks']
    finally:
        registry = state_dir / 'sessions.json'
        if registry.exists():
            for entry in json.loads(registry.read_text())['sessions']:
                if start_ticks(entry['pid']) == entry['start_ticks']:
                    os.kill(entry['pid'], signal.SIGKILL)
                    time.sleep(0.2)
