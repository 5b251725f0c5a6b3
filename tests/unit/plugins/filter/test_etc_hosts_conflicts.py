# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.filter.etc_hosts_conflicts import FilterModule

etc_hosts_conflicts = FilterModule().filters()['etc_hosts_conflicts']

HOSTS = '''127.0.0.1 localhost
::1 localhost ip6-localhost
# 10.0.0.2 node2   (a comment is no entry)
# BEGIN cluster.netboot diskless nodes
10.0.0.1 node1 node1.grid
10.0.0.3 node3  # node2 in a comment
# END cluster.netboot diskless nodes
'''


def test_a_new_node_without_clash():
    assert etc_hosts_conflicts(HOSTS, 'node2', '10.0.0.2') == []
    assert etc_hosts_conflicts('', 'node2', '10.0.0.2') == []


def test_a_rerun_finds_its_own_entry_no_clash():
    assert etc_hosts_conflicts(HOSTS + '10.0.0.2 node2\n', 'node2', '10.0.0.2') == []


def test_an_address_or_name_another_entry_has():
    assert etc_hosts_conflicts(HOSTS, 'node9', '10.0.0.1') == ['line 5: 10.0.0.1 node1 node1.grid']
    assert etc_hosts_conflicts(HOSTS, 'node1', '10.0.0.9') == ['line 5: 10.0.0.1 node1 node1.grid']
    assert etc_hosts_conflicts(HOSTS, 'node3', '10.0.0.1') == ['line 5: 10.0.0.1 node1 node1.grid',
                                                               'line 6: 10.0.0.3 node3  # node2 in a comment']


def test_names_are_compared_without_case():
    # The resolver finds NODE2 for node2: the former check compared case and let this through.
    assert etc_hosts_conflicts(HOSTS + '10.0.0.7 NODE2\n', 'node2', '10.0.0.2') == ['line 8: 10.0.0.7 NODE2']
    assert etc_hosts_conflicts(HOSTS + '10.0.0.2 NODE2\n', 'node2', '10.0.0.2') == []


def test_addresses_are_compared_in_canonical_form():
    assert etc_hosts_conflicts('10.0.0.2 node2\n', 'node2', ' 10.0.0.2 ') == []


@pytest.mark.parametrize('text, name, ip, message', [
    (HOSTS, 'node2', '10.0.0', 'invalid IPv4'),
    (HOSTS, 'node2', 'fe80::1', 'invalid IPv4'),
    (HOSTS, '', '10.0.0.2', 'a node name'),
    (None, 'node2', '10.0.0.2', 'the file text'),
])
def test_bad_input_is_a_filter_error(text, name, ip, message):
    with pytest.raises(AnsibleFilterError, match='etc_hosts_conflicts: .*' + message):
        etc_hosts_conflicts(text, name, ip)
