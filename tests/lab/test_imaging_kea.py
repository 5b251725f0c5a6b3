# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The imaging lab with Kea serving DHCP (make lab DHCP=kea; once in make lab-test).

The same lab as test_imaging.py, but the console runs kea-dhcp4 (dhcp_server
with dhcp_server_backend: kea) and image_nodes reserves the nodes' addresses
with kea_host, applied through Kea's control socket: no restart. The node
that cannot boot is left out here (test_imaging.py covers it with dhcpd; it
costs a whole boot timeout).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_imaging import check_imaged, missing_tools, run_imaging_lab


@pytest.mark.skipif(bool(missing_tools()), reason='NOT TESTED: the QEMU lab cannot run: missing %s (run make deps)'
                    % ', '.join(missing_tools()))
def test_two_groups_image_with_kea_reservations_and_no_restart(tmp_path: Path) -> None:
    output, data = run_imaging_lab(tmp_path, [], LAB_DHCP='kea')
    check_imaged(data, {'node-a1', 'node-a2', 'node-b1', 'node-b2'})
    assert data['playbook_rc'] == 0
    # Kea, not dhcpd, bound the nodes, through its socket: the restart was skipped.
    assert task_section(output, "cluster.netboot.image_nodes : Reserve every node's address in Kea") \
        .count('changed: [console]') == 1
    assert 'skipping: [console]' in task_section(
        output, "cluster.netboot.image_nodes : Bind every node's MAC to its address in dhcpd")
    assert 'skipping: [console]' in task_section(output, 'Restart the DHCP server once for the new entries')


def task_section(output: str, title: str) -> str:
    """What ansible-playbook printed for the task ``title``, up to the next task."""
    marker = 'TASK [%s]' % title
    assert marker in output, 'task %r did not run' % title
    return output[output.index(marker) + len(marker):].split('TASK [', 1)[0]
