# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset as nodeset
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NodeSetError


def test_grid_indices_are_x_then_y():
    indexed = nodeset.expand_indexed('node[1-20]-[1-20].grid')
    assert len(indexed) == 400
    by_name = dict(indexed)
    assert by_name['node3-7.grid'] == (3, 7)
    assert by_name['node20-1.grid'] == (20, 1)
    assert indexed[0] == ('node1-1.grid', (1, 1))
    assert indexed[-1] == ('node20-20.grid', (20, 20))


def test_same_names_and_order_as_expand():
    for pattern in ('node[1-20]-[1-20].grid', 'n[8-11]', 'rack[1-2]-n[001-003],x[9-11],console'):
        assert [name for name, _indices in nodeset.expand_indexed(pattern)] == nodeset.expand(pattern)


def test_one_dimension():
    assert nodeset.expand_indexed('n[8-11]') == [('n8', (8,)), ('n9', (9,)), ('n10', (10,)), ('n11', (11,))]


def test_zero_padding_stays_in_the_names_not_the_indices():
    assert nodeset.expand_indexed('n[01-03]') == [('n01', (1,)), ('n02', (2,)), ('n03', (3,))]
    assert nodeset.expand_indexed('n[098-101]')[0] == ('n098', (98,))
    assert nodeset.expand_indexed('n[098-101]')[-1] == ('n101', (101,))


def test_written_out_numbers_count_too():
    # ORBIT sandbox names: node<x>-<y>.sb<n>; the fixed numbers are indices as well.
    assert nodeset.expand_indexed('node1-[1-2].sb8') == [('node1-1.sb8', (1, 1, 8)), ('node1-2.sb8', (1, 2, 8))]
    assert nodeset.expand_indexed('node3-7.grid') == [('node3-7.grid', (3, 7))]


def test_names_without_numbers_have_no_indices():
    assert nodeset.expand_indexed('console,n1') == [('console', ()), ('n1', (1,))]


@pytest.mark.parametrize('bad', ['node[1-', '', None, '@compute'])
def test_invalid_ranges_are_clear_errors(bad):
    with pytest.raises(NodeSetError):
        nodeset.expand_indexed(bad)
