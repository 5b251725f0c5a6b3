# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The image_nodes role's safety between runs, for real: two playbook runs over overlapping nodes at once.

Both run inside one network namespace (the console side only: the report receiver on 127.0.0.1,
udp-sender on lo); no node ever boots, so the first run waits for its nodes until its boot timeout.
The second run, started meanwhile, must be refused before it changes anything, naming the node and
the first run.
"""

from __future__ import annotations

import json
import sys
import threading
import typing as t
from pathlib import Path

import netns
from test_awx_readiness import image_nodes_extravars  # pylint: disable=import-error


def extravars(base: Path, nodes: list[dict[str, str]], image_name: str) -> dict[str, t.Any]:
    """The AWX readiness test's imaging variables, for one run of several sharing one console (state,
    sessions, TFTP root), each run with its own image: a udpcast session is never shared, which would
    be refused before the node locks."""
    own = base / image_name.replace('.', '-')
    own.mkdir()
    values = image_nodes_extravars(own)
    (base / 'tftp' / 'imaging').mkdir(parents=True, exist_ok=True)
    for name in ('vmlinuz', 'initramfs.gz'):
        (base / 'tftp' / 'imaging' / name).write_bytes(b'x')
    values.update({
        'image_nodes_groups': [{'name': 'g', 'image': values['image_nodes_groups'][0]['image'], 'nodes': nodes}],
        'image_nodes_server_address': '127.0.0.1',
        'image_nodes_interface': 'lo',
        'image_nodes_tftp_root': str(base / 'tftp'),
        'image_nodes_state_dir': str(base / 'state'),
        'image_nodes_session_state_dir': str(base / 'sessions'),
        'image_nodes_boot_timeout': 25,
        'image_nodes_poll_interval': 2,
        'image_nodes_final_power': 'none',
    })
    return values


def test_a_second_run_over_a_node_another_run_is_imaging_is_refused(netns_factory, run_playbook, require_programs,
                                                                    tmp_path):
    require_programs('udp-sender')
    console = netns_factory.namespace('con')
    console.ip('route', 'add', '224.0.0.0/4', 'dev', 'lo')
    interpreter = tmp_path / 'python-in-ns'
    interpreter.write_text(f'#!/bin/sh\nexec ip netns exec {console.name} {sys.executable} "$@"\n')
    interpreter.chmod(0o755)
    base = tmp_path / 'console'
    base.mkdir()
    play = [{'name': 'image', 'hosts': 'localhost', 'gather_facts': False,
             'roles': [{'role': 'cluster.netboot.image_nodes'}]}]
    first_nodes = [{'name': 'n1', 'mac': '52:54:00:00:00:01', 'ip': '10.9.0.1'},
                   {'name': 'n2', 'mac': '52:54:00:00:00:02', 'ip': '10.9.0.2'}]
    results: dict[str, t.Any] = {}

    def first_run() -> None:
        results['first'] = run_playbook(play, extravars=dict(extravars(base, first_nodes, 'a.img'),
                                                             ansible_python_interpreter=str(interpreter)))

    thread = threading.Thread(target=first_run)
    thread.start()
    try:
        # The first run holds its nodes once its receiver runs.
        receiver = netns.wait_for(lambda: list((base / 'state').glob('*/receiver.json')), timeout=120,
                                  what="the first run's report receiver")
        argv = json.loads(receiver[0].read_text())['argv']
        first_id = argv[argv.index('--run-id') + 1]
        # One id per run: its directory carries the id its locks (and sessions, configs) are held under.
        assert receiver[0].parent.name == first_id, (receiver[0], first_id)
        # n2 again, under another name (same MAC), plus a free node.
        second = run_playbook(play, extravars=dict(
            extravars(base, [{'name': 'other', 'mac': '52:54:00:00:00:02', 'ip': '10.9.0.12'},
                             {'name': 'n3', 'mac': '52:54:00:00:00:03', 'ip': '10.9.0.3'}], 'b.img'),
            ansible_python_interpreter=str(interpreter)))
        assert second.rc != 0
        refusal = second.task("Start this run's report receiver")
        assert refusal.failed
        text = json.dumps(refusal.result)
        assert 'other' in text and first_id in text, text
        # Refused before it changed anything: no DHCP, session, config, pointer or power task ran.
        names = [task.name for task in second.tasks]
        assert not [name for name in names if 'multicast session' in name or 'Point each' in name
                    or 'Set the power' in name], names
        # ... and no pointer for its nodes (10.9.0.12, 10.9.0.3): the first run's files are its own business.
        written = {path.name for path in (base / 'tftp').rglob('*')}
        assert not written & {'0A09000C', '0A090003'}, written
    finally:
        thread.join(timeout=300)
    first = results['first']
    # The first run went on undisturbed (its nodes never boot here: failed at the boot timeout).
    assert 'did not boot' in first.stdout or first.rc != 0
    # Its locks ended with it: the second run's nodes are free now.
    third = run_playbook(play, extravars=dict(extravars(base, [{'name': 'n3', 'mac': '52:54:00:00:00:03',
                                                                'ip': '10.9.0.3'}], 'c.img'),
                                              image_nodes_boot_timeout=1,
                                              ansible_python_interpreter=str(interpreter)))
    assert not third.task("Start this run's report receiver").failed, third
