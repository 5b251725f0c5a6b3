# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The playbooks refuse bad input in their first checks, before anything changes.

(Their working runs: test_discover_nodes.py and the QEMU labs.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def tree_state(root: Path) -> dict[str, bytes | None]:
    return {str(path): path.read_bytes() if path.is_file() else None for path in sorted(root.rglob('*'))}


@pytest.mark.parametrize('bounds, message', [
    # The former Jinja arithmetic read the octet 300 as 256 + 44 and pointed 10.18.251.0-44 at discovery.
    ({'start': '10.18.250.1', 'end': '10.18.250.300'}, "invalid IPv4 address '10.18.250.300'"),
    # One digit off: refused from its bounds, naming the size (the Jinja loop made every node first).
    ({'start': '10.18.250.1', 'end': '10.19.250.99'}, 'holds 65635 addresses, more than max_nodes (65536)'),
])
def test_discover_nodes_refuses_a_bad_range_first(run_playbook, tmp_path, bounds, message):
    work = tmp_path / 'work'
    tftp = work / 'tftp'
    (tftp / 'pxelinux.cfg').mkdir(parents=True)
    before = tree_state(work)
    result = run_playbook(REPO / 'playbooks' / 'discover_nodes.yml', extravars={
        'discover_nodes_console': 'localhost', 'discover_nodes_server_address': '127.0.0.1',
        'discover_nodes_range': bounds, 'discover_nodes_count': 1, 'discover_nodes_nodeset': 'node[1-8]',
        'discover_nodes_node_file': str(work / 'nodes.csv'), 'discover_nodes_tftp_root': str(tftp),
        'discover_nodes_state_dir': str(work / 'state')})
    assert result.failed
    check = result.task('Check the variables')
    assert check.failed and message in check.get('msg', ''), check.result
    assert tree_state(work) == before


def test_add_node_refuses_a_name_the_hosts_file_has_in_another_case(run_playbook, tmp_path):
    root = tmp_path / 'root'
    (root / 'etc').mkdir(parents=True)
    (root / 'etc' / 'hosts').write_text('127.0.0.1 localhost\n# BEGIN cluster.netboot diskless nodes\n'
                                        '10.18.1.7 NODE2\n# END cluster.netboot diskless nodes\n')
    before = tree_state(root)
    result = run_playbook(REPO / 'playbooks' / 'add_node.yml', extravars={
        'diskless_console': 'localhost', 'diskless_root': str(root), 'diskless_tftp_root': str(root / 'tftp'),
        'diskless_dhcpd_hosts_path': '', 'diskless_dhcpd_service': '', 'diskless_power': False,
        'diskless_wait': False, 'node_name': 'node2', 'node_mac': '52:54:00:00:00:02', 'node_ip': '10.18.1.2'})
    assert result.failed
    refused = result.task('Refuse an address or name another node has in the hosts file')
    assert refused.failed, result
    assert 'already has line 3: 10.18.1.7 NODE2: nothing changed' in refused.get('msg', ''), refused.result
    assert tree_state(root) == before


@pytest.mark.parametrize('without_address', [False, True])
def test_provision_diskless_takes_its_nodes_from_the_group(run_playbook, tmp_path, without_address):
    """The diskless group's hosts (ip or ansible_host) are the nodes; one without an address is named."""
    inventory = tmp_path / 'inventory.yml'
    hosts = {'n1': {'ip': '10.18.1.1', 'mac': '52:54:00:00:01:01', 'ansible_connection': 'local'},
             'n2': {'ansible_host': '10.18.1.2', 'ansible_connection': 'local'}}
    if without_address:
        hosts['n3'] = {'mac': '52:54:00:00:01:03', 'ansible_connection': 'local'}
    inventory.write_text(json.dumps({'all': {'children': {'diskless': {'hosts': hosts}}}}))
    tree = tmp_path / 'tree'
    (tree / 'etc').mkdir(parents=True)
    before = tree_state(tree)
    # An empty client list stops the first role at its own check, after the playbook's node check.
    result = run_playbook(REPO / 'playbooks' / 'provision_diskless.yml', extra_args=['-i', str(inventory)],
                          extravars={'diskless_console': 'localhost', 'nfsroot_server_root': str(tree),
                                     'nfsroot_server_clients': []})
    assert result.failed
    check = result.task('Check that there are nodes, each with an address')
    if without_address:
        assert check.failed and 'host n3 has no ip or ansible_host' in check.get('msg', ''), check.result
    else:
        assert not check.failed, check.result
        assert result.task('Check the root tree, source and export settings').failed
    assert tree_state(tree) == before
