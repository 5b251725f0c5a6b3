# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset as nodeset
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NodeSetError


def test_expand_one_and_two_dimensions():
    assert nodeset.expand('n[8-11]') == ['n8', 'n9', 'n10', 'n11']
    assert nodeset.expand('node[1-2]-[1-2].grid') == ['node1-1.grid', 'node1-2.grid', 'node2-1.grid', 'node2-2.grid']
    assert nodeset.expand('n[01-03]') == ['n01', 'n02', 'n03']
    assert len(nodeset.expand('node[1-20]-[1-20].grid')) == 400


def test_fold_accepts_lists_and_separated_strings():
    assert nodeset.fold(['node1', 'node2', 'node3', 'node8']) == 'node[1-3,8]'
    assert nodeset.fold('node4, node1 node2') == 'node[1-2,4]'
    assert nodeset.fold(['n[1-2]', 'n3']) == 'n[1-3]'


@pytest.mark.parametrize('bad', ['node[1-', '', '   ', None, 5, 'node[3-1'])
def test_invalid_ranges_are_clear_errors(bad):
    with pytest.raises(NodeSetError):
        nodeset.expand(bad)


def test_groups_are_never_resolved():
    with pytest.raises(NodeSetError, match='node groups'):
        nodeset.expand('@compute')
