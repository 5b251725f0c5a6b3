# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""playbooks/image_nodes.yml over 250 simulated nodes (tests/lab/nodesim.py) in 4 groups with 4 images.

The console is a lab console without VMs (lab.sh up, LAB_VMS=0 LAB_PREFIX=16), configured by the
collection's roles; every simulated node is powered through node_power's command driver, takes
its address from the console's dhcpd, fetches its config from in.tftpd by the names PXELINUX tries,
reports every phase to the run's report receiver; 8 of them really receive their image with
udp-receiver and check its sha256. Afterwards every node must find no imaging config (it boots its
disk), no report was lost, and the machine is left as found. bench/image_nodes_scale runs the same for
4 to 1,000 nodes and prints the figures (NODESIM_NODES=1000 runs 1,000 here: it passes, but on a loaded
machine the final boots of all 1,000 nodes at once, ten TFTP names each, can time out against in.tftpd).
About 2.5 minutes on 2 cores, half of it the console's setup.

Environment: NODESIM_NODES (250), LAB_TEST_TIMEOUT (900), lab.sh's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_imaging import docker_engine_answers, leftovers, missing_tools  # pylint: disable=import-error

REPO = Path(__file__).resolve().parents[2]
NODESIM = REPO / 'tests' / 'lab' / 'nodesim.py'
NODES = int(os.environ.get('NODESIM_NODES', '250'))
TIMEOUT = int(os.environ.get('LAB_TEST_TIMEOUT', '900'))


@pytest.mark.skipif(bool(missing_tools()), reason='NOT TESTED: the lab console cannot run: missing %s (run make deps)'
                    % ', '.join(missing_tools()))
def test_many_simulated_nodes_are_imaged_through_the_real_console() -> None:
    engine_before = docker_engine_answers()
    completed = subprocess.run([sys.executable, str(NODESIM), 'run', '--nodes', str(NODES), '--sample', '8',
                                '--phase-seconds', '2', '--fail-once', '1', '--retries', '1'], cwd=REPO,
                               capture_output=True, text=True, timeout=TIMEOUT, check=False)
    sys.stderr.write(completed.stderr[-4000:])
    figures = json.loads(completed.stdout)
    print(json.dumps({key: value for key, value in figures.items() if key != 'problems'}, sort_keys=True))
    assert completed.returncode == 0 and figures['passed'], figures['problems']
    assert figures['imaged'] == NODES and figures['booted_disk_after'] == NODES
    assert figures['sampled'] == 8 and figures['sampled_match'] == 8
    # Every report reached the receiver (a node retries a report 5 times over about a minute).
    assert figures['reports_lost'] == 0, figures['reports_lost']
    # The last node failed its first transfer and was imaged by the retry (image_nodes_retries: 1).
    assert figures['failed_once'] == ['sim%05d' % NODES]
    # One restart of dhcpd for all the new host entries.
    assert figures['dhcpd_restarts'] == 1
    # The machine as found: no lab or simulator namespace, no Docker engine the lab started.
    assert leftovers(figures['lab']) == []
    assert not [line for line in subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True,
                                                check=False).stdout.splitlines()
                if line.startswith(figures['prefix'] + '-')]
    assert docker_engine_answers() == engine_before
