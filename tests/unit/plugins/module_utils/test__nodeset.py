# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import random
import re

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


@pytest.mark.parametrize('pattern, count', [
    ('n1', 1),
    ('n[8-11]', 4),
    ('node[1-20]-[1-20].grid', 400),
    ('node1-[1-2].sb8', 2),
    ('n[01-10],m[1-3]', 13),
    ('n[1-10/2]', 5),
    ('n[ 1 - 3 ],n[7]', 4),
    ('n[1-3,5,7-8]', 6),
    ('n[1-99999999]', 99999999),
    ('n[1-100000]-[1-100000]', 10 ** 10),
    ('n[1-3]!n2', 4),  # the operators give an upper bound
])
def test_size_is_read_from_the_text(pattern, count):
    assert nodeset.size(pattern) == count
    if count < 1000:
        assert len(nodeset.expand(pattern)) <= count


@pytest.fixture
def parsed(monkeypatch):
    """The patterns ClusterShell was asked to parse (it expands every range in memory while it parses)."""
    seen = []
    real = nodeset.NodeSet

    def spy(*args, **kwargs):
        seen.extend(args)
        if args and nodeset.size(args[0]) > 1000 and args[0].startswith('big'):
            raise AssertionError('ClusterShell was given %r' % (args[0],))
        return real(*args, **kwargs)
    monkeypatch.setattr(nodeset, 'NodeSet', spy)
    return seen


@pytest.mark.parametrize('call, pattern', [
    (lambda: nodeset.expand('big[1-99999999]'), 'big[1-99999999]'),
    (lambda: nodeset.expand_indexed('big[1-99999999]'), 'big[1-99999999]'),
    (lambda: nodeset.expand_list(['n1', 'big[1-99999999]']), 'big[1-99999999]'),
    (lambda: nodeset.fold(['n1', 'big[1-99999999]']), 'big[1-99999999]'),
    (lambda: nodeset.expand('big[1-1000]-[1-1001]'), 'big[1-1000]-[1-1001]'),
    (lambda: nodeset.expand('big[1-10],m[1-999991]'), 'big[1-10],m[1-999991]'),
])
def test_a_range_over_max_nodes_is_refused_before_it_is_expanded(parsed, call, pattern):
    with pytest.raises(NodeSetError, match=r"node range %s names \d+ nodes, more than max_nodes \(1000000\)"
                       % re.escape(repr(pattern))):
        call()
    assert pattern not in parsed


def test_max_nodes_is_the_limit():
    assert len(nodeset.expand('n[1-10]', max_nodes=10)) == 10
    with pytest.raises(NodeSetError, match=r"'n\[1-11\]' names 11 nodes, more than max_nodes \(10\)"):
        nodeset.expand('n[1-11]', max_nodes=10)
    with pytest.raises(NodeSetError, match=r'nodes name more than max_nodes \(10\)'):
        nodeset.expand_list(['n[1-6]', 'm[1-6]'], max_nodes=10)
    with pytest.raises(NodeSetError, match=r'more than max_nodes \(10\)'):
        nodeset.fold(['n[1-6]', 'm[1-6]'], max_nodes=10)
    assert nodeset.fold(['n[1-6]', 'n[1-6]'], max_nodes=10) == 'n[1-6]'
    assert len(nodeset.expand_indexed('n[1-10]', max_nodes=10)) == 10


@pytest.mark.parametrize('item', [{'name': 'node1'}, 'node1 node2', 'node1\tx', 'node\n1', 5, None, ['node1']])
def test_fold_refuses_what_is_not_a_node_name(item):
    with pytest.raises(NodeSetError, match='is not a node name or range'):
        nodeset.fold(['node3', item])


@pytest.mark.parametrize('names, folded', [
    (['node3', 'node1', 'node2', 'node8'], 'node[1-3,8]'),
    (['n08', 'n09', 'n10', 'n11'], 'n[08-11]'),
    (['n9', 'n10', 'n010', 'n100'], 'n[9-10,010,100]'),
    (['rack1-n1', 'rack1-n2', 'rack2-n1'], 'rack1-n[1-2],rack2-n1'),
    (['x1.grid', 'x2.grid', 'login', 'x3.grid'], 'x[1-3].grid,login'),
    (['n7'], 'n7'),
    ([], ''),
])
def test_fold_names_without_clustershell(names, folded):
    assert nodeset.fold_names(names) == folded


def test_fold_names_expands_to_exactly_the_names_given():
    """Whatever the names, ClusterShell reads the folded text back as the same set (padding included)."""
    generator = random.Random(17)
    for _trial in range(300):
        names = set()
        for _name in range(generator.randint(1, 40)):
            number = generator.randint(0, 120)
            width = generator.choice([0, 0, 2, 3])
            digits = '%0*d' % (width, number) if width else str(number)
            names.add(generator.choice(['n', 'node', 'r1-n', 'a.b-']) + digits + generator.choice(['', '.grid', '-ib']))
        names = sorted(names, key=lambda _name: generator.random())
        folded = nodeset.fold_names(names)
        assert sorted(nodeset.expand(folded)) == sorted(names), (names, folded)
    assert nodeset.fold_names(['n%d' % number for number in range(10000)]) == 'n[0-9999]'


@pytest.mark.parametrize('name', ['a,b', 'n[1]', 'n!1', 'a&b', 'a^b', '@rack', 'a b1'])
def test_fold_names_refuses_what_a_range_cannot_hold(name):
    with pytest.raises(NodeSetError, match='cannot be written as a node range'):
        nodeset.fold_names(['node1', name])
