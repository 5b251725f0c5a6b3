# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The imaging lab with Kea serving DHCP and IPMI power (make lab DHCP=kea POWER=ipmi; once in make lab-test).

The same lab as test_imaging.py, but the console runs kea-dhcp4 (dhcp_server
with dhcp_server_backend: kea) and image_nodes reserves the nodes' addresses
with kea_host, applied through Kea's control socket: no restart. The node
that cannot boot is left out here (test_imaging.py covers it with dhcpd; it
costs a whole boot timeout).

Two more VMs, unknown to Kea, are discovered first (LAB_DISCOVER=1, tests/lab/lab-discover.sh):
playbooks/discover_nodes.yml names them node-d1 and node-d2 in a node file, and image_nodes.yml images
them from that file (group-d, a run of its own before the main one).

The VMs are powered through BMCs here (LAB_POWER=ipmi): one ipmi_sim per VM
with a LAN endpoint in the lab namespace, whose chassis control program acts
on the VM's QMP socket; image_nodes runs node_power with the ipmi driver
(ipmitool -I lanplus) on the host, and sets a one-time PXE boot first. The
VMs start paused (powered off): only the BMCs can start them.

The same run then goes through the image catalog (lab.sh --catalog-case,
tests/lab/catalog_case.sh): node-a1 is captured into lab-a@captured, whose
disk sha256 must be lab-a's; node-a2's blanked disk is imaged from that entry
and checked from the host; an entry whose stored file was corrupted is refused
before any power action; a capture whose VM is killed halfway leaves no
entry and no file. It prints capture and imaging throughput.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_imaging import check_imaged, missing_tools, run_imaging_lab


@pytest.mark.skipif(bool(missing_tools()), reason='NOT TESTED: the QEMU lab cannot run: missing %s (run make deps)'
                    % ', '.join(missing_tools()))
def test_two_groups_image_with_kea_reservations_and_no_restart(tmp_path: Path) -> None:
    catalog_results = tmp_path / 'catalog-results.json'
    output, data = run_imaging_lab(tmp_path, ['--catalog-case'], LAB_DHCP='kea', LAB_POWER='ipmi', LAB_DISCOVER='1',
                                   LAB_CATALOG_RESULTS=str(catalog_results))
    check_imaged(data, {'node-a1', 'node-a2', 'node-b1', 'node-b2'})
    assert data['playbook_rc'] == 0
    # Discovery (LAB_DISCOVER=1, tests/lab/lab-discover.sh): two VMs no DHCP entry knew reported through
    # Kea's discovery range, were named node-d1 and node-d2 in the node file with facts matching what
    # QEMU gave them (lab-discover.sh fails the lab otherwise), and image_nodes.yml imaged them from that file.
    assert output.count('discovery: node-d') == 2 and 'DISCOVERY CHECK FAILED' not in output
    # Each discovery ramdisk sent its console log, kept in the run's directory and named in the table.
    assert output.count('log=/var/lib/cluster-netboot/discover-nodes/') == 2, task_section(output, 'The discovered nodes')
    # ... and image_nodes.yml imaged them from that file (group-d, a run of its own): their disks hold lab-a.img.
    assert 'discovered and imaged: node-d1 ok' in output and 'discovered and imaged: node-d2 ok' in output
    assert output.count('(match)') >= 2 and 'DIFFERS' not in output
    # The power went through ipmitool on the lab host (the ipmi settings delegate node_power there).
    assert 'one ipmi_sim BMC per VM' in output
    assert 'changed: [console -> localhost]' in task_section(
        output, 'cluster.netboot.image_nodes : Set the power of the nodes to reset')
    # Kea, not dhcpd, bound the nodes, through its socket: the restart was skipped.
    assert task_section(output, "cluster.netboot.image_nodes : Reserve every node's address in Kea") \
        .count('changed: [console]') == 1
    assert 'skipping: [console]' in task_section(
        output, "cluster.netboot.image_nodes : Bind every node's MAC to its address in dhcpd")
    assert 'skipping: [console]' in task_section(output, 'Restart the DHCP server once for the new entries')
    catalog = json.loads(catalog_results.read_text())
    assert all(catalog['checks'].values()), catalog['checks']


def task_section(output: str, title: str) -> str:
    """What ansible-playbook printed for the task ``title``, up to the next task."""
    marker = 'TASK [%s]' % title
    assert marker in output, 'task %r did not run' % title
    return output[output.index(marker) + len(marker):].split('TASK [', 1)[0]
