# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.filter.nodeset_expand import FilterModule

nodeset_expand = FilterModule().filters()['nodeset_expand']


def test_expand_ranges_and_lists():
    assert nodeset_expand('node[1-4,8]') == ['node1', 'node2', 'node3', 'node4', 'node8']
    assert nodeset_expand('node[1-2]-[1-2].grid') == ['node1-1.grid', 'node1-2.grid', 'node2-1.grid', 'node2-2.grid']
    assert nodeset_expand('node[08-10]') == ['node08', 'node09', 'node10']


@pytest.mark.parametrize('pattern, message', [
    ('node[1-', 'invalid node range'),
    ('', 'non-empty string'),
    (['node1'], 'non-empty string'),
    ('@rack1', 'groups'),
    ('n[1-99999999]', "'n[1-99999999]' names 99999999 nodes, more than max_nodes (1000000)"),
])
def test_expand_errors_are_filter_errors(pattern, message):
    with pytest.raises(AnsibleFilterError, match='nodeset_expand: ') as info:
        nodeset_expand(pattern)
    assert message in str(info.value)


def test_max_nodes_is_an_argument():
    assert len(nodeset_expand('n[1-5]', max_nodes=5)) == 5
    with pytest.raises(AnsibleFilterError, match=r"'n\[1-6\]' names 6 nodes, more than max_nodes \(5\)"):
        nodeset_expand('n[1-6]', max_nodes=5)
