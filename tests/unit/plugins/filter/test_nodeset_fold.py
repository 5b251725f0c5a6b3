# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.filter.nodeset_expand import FilterModule as ExpandModule
from ansible_collections.cluster.netboot.plugins.filter.nodeset_fold import FilterModule

nodeset_fold = FilterModule().filters()['nodeset_fold']
nodeset_expand = ExpandModule().filters()['nodeset_expand']


def test_fold_a_list_and_a_string():
    assert nodeset_fold(['node1', 'node2', 'node3', 'node4', 'node8']) == 'node[1-4,8]'
    assert nodeset_fold('node3, node1 node2') == 'node[1-3]'
    assert nodeset_fold(['node[1-2]', 'node3']) == 'node[1-3]'


def test_fold_inverts_expand():
    pattern = 'node[1-20]-[1-3].grid'
    assert nodeset_expand(nodeset_fold(nodeset_expand(pattern))) == nodeset_expand(pattern)


@pytest.mark.parametrize('names, message', [
    (42, 'expected a list'),
    (['node[1-'], 'invalid node range'),
    (['@rack1'], 'groups'),
    ([{'name': 'node1'}], "{'name': 'node1'} is not a node name"),
    ({'node1': 1}, 'expected a list'),
    (['node1', 'node 2'], "'node 2' is not a node name"),
    (['n[1-99999999]'], "'n[1-99999999]' names 99999999 nodes, more than max_nodes (1000000)"),
])
def test_fold_errors_are_filter_errors(names, message):
    with pytest.raises(AnsibleFilterError, match='nodeset_fold: ') as info:
        nodeset_fold(names)
    assert message in str(info.value)


def test_fold_takes_a_generator_and_a_limit():
    assert nodeset_fold(name for name in ['node2', 'node1']) == 'node[1-2]'
    with pytest.raises(AnsibleFilterError, match=r'more than max_nodes \(2\)'):
        nodeset_fold(['node[1-3]'], max_nodes=2)
