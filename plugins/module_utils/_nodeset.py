# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Node ranges (``node[1-4,8]``, ``node[1-20]-[1-20].grid``), parsed by ClusterShell only."""

from __future__ import annotations

import traceback
from collections.abc import Iterable

from ansible_collections.cluster.netboot.plugins.module_utils._errors import NodeSetError

try:
    from ClusterShell.NodeSet import RESOLVER_NOGROUP, NodeSet, NodeSetException
    from ClusterShell.RangeSet import RangeSetException
except ImportError:
    HAS_CLUSTERSHELL = False
    CLUSTERSHELL_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_CLUSTERSHELL = True
    CLUSTERSHELL_IMPORT_ERROR = None


def _require_clustershell() -> None:
    if not HAS_CLUSTERSHELL:
        raise NodeSetError('the ClusterShell Python library is required on the host that runs this plugin')


def _nodeset(pattern: object) -> NodeSet:
    _require_clustershell()
    if not isinstance(pattern, str) or not pattern.strip():
        raise NodeSetError('node range must be a non-empty string, got %r' % (pattern,))
    try:
        # No group resolver: '@group' must never run the external commands of groups.conf.
        nodes = NodeSet(pattern.strip(), resolver=RESOLVER_NOGROUP)
    except (NodeSetException, RangeSetException) as exc:
        raise NodeSetError('invalid node range %r: %s' % (pattern, exc)) from None
    if any(name.startswith('@') for name in nodes):
        raise NodeSetError('invalid node range %r: node groups (@name) are not supported' % (pattern,))
    return nodes


def expand(pattern: object) -> list[str]:
    """``node[1-3]`` -> ``['node1', 'node2', 'node3']`` in ClusterShell's sorted order."""
    return list(_nodeset(pattern))


def fold(names: Iterable[object] | str) -> str:
    """``['node1', 'node2', 'node3', 'node8']`` -> ``node[1-3,8]``."""
    _require_clustershell()
    if isinstance(names, str):
        names = [part for part in names.replace(',', ' ').split() if part]
    result = NodeSet(resolver=RESOLVER_NOGROUP)
    for name in names:
        result.update(_nodeset(str(name)))
    return str(result)


def expand_indexed(pattern: object) -> list[tuple[str, tuple[int, ...]]]:
    """``node[1-2]-[1-2].grid`` -> ``[('node1-1.grid', (1, 1)), ('node1-2.grid', (1, 2)), ...]``.

    The indices are the numbers ClusterShell sees in each name, left to right,
    whether they came from a range or were written out (``node1-[1-2].sb8``
    gives ``(1, 1, 8)`` and ``(1, 2, 8)``); a name without digits gets ``()``.
    Zero-padded names stay padded (``n[01-10]`` -> ``n01``), their indices are
    plain integers. Same names, same order as :func:`expand`.
    """
    nodes = _nodeset(pattern)
    # NodeSetBase._iter() is the (name pattern, index vector) walk that
    # NodeSet.__iter__ itself formats names from; ClusterShell has no public
    # accessor for the indices. tests/unit pins the behaviour we rely on.
    result = []
    for name_pattern, vector, _autostep in nodes._iter():
        vector = tuple(vector or ())
        result.append((name_pattern % vector, tuple(int(index) for index in vector)))
    return result


def expand_list(nodes: object, what: str = 'nodes') -> list[str]:
    """A NodeSet string, or a list of names and NodeSet strings -> names in the given order.

    A node named twice (across the list's items) is an error: commands that take
    the list would run twice on it.
    """
    if isinstance(nodes, str):
        names = expand(nodes)
    elif isinstance(nodes, (list, tuple)):
        names = []
        for item in nodes:
            if not isinstance(item, str):
                raise NodeSetError('%s must be names or node ranges (strings), got %r' % (what, item))
            names.extend(expand(item))
    else:
        raise NodeSetError('%s must be a node range string or a list, got %r' % (what, nodes))
    if not names:
        raise NodeSetError('%s is empty' % what)
    seen: set[str] = set()
    twice = sorted({name for name in names if name in seen or seen.add(name)})
    if twice:
        raise NodeSetError('%s lists %s more than once' % (what, ', '.join(twice)))
    return names
