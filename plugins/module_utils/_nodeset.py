# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Node ranges (``node[1-4,8]``, ``node[1-20]-[1-20].grid``), parsed by ClusterShell only.

ClusterShell builds every range in memory while it parses (``n[1-99999999]``,
one mistyped digit, holds gigabytes before anything can look at it), so the size
of a range is first read from its text and a range over ``max_nodes`` is refused
before ClusterShell sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ansible_collections.cluster.netboot.plugins.module_utils._errors import NodeSetError
from ansible_collections.cluster.netboot.plugins.module_utils._imports import probe

# Imported by _require_clustershell, on first use: fold_names and the size check
# need none of it, and a node file never parses a range (see _imports).
HAS_CLUSTERSHELL, CLUSTERSHELL_IMPORT_ERROR = probe('ClusterShell')
_CLUSTERSHELL_NAMES = ('RESOLVER_NOGROUP', 'NodeSet', 'NodeSetException', 'RangeSetException')


def __getattr__(name: str) -> Any:
    if name in _CLUSTERSHELL_NAMES and HAS_CLUSTERSHELL:
        _require_clustershell()
        return globals()[name]
    raise AttributeError('module %r has no attribute %r' % (__name__, name))


# The default limit on the names one range (or one list of ranges) may expand to:
# ten times a large cluster, and still a few hundred MB of ClusterShell's sets.
DEFAULT_MAX_NODES = 1_000_000

_BRACKETS = re.compile(r'\[([^\[\]]*)\]')
# One element of a bracket, as ClusterShell reads it: 7, 1-400, 1-400/2 (white space allowed).
_SUBRANGE = re.compile(r'\s*(\d+)\s*(?:-\s*(\d+)\s*(?:/\s*(\d+)\s*)?)?\Z')


def _subrange_size(text: str) -> int:
    match = _SUBRANGE.match(text)
    if match is None:
        # Negative numbers and malformed elements: ClusterShell refuses most of them; this
        # bound is only there so that nothing it might still accept gets past unbounded.
        return sum(int(number) for number in re.findall(r'\d+', text)) + 1
    first, last, step = match.groups()
    if last is None:
        return 1
    return max(0, (int(last) - int(first)) // max(1, int(step or 1)) + 1)


def size(pattern: str) -> int:
    """How many names ``pattern`` expands to, read from its text without expanding it.

    Exact for a union of ranges without overlap (``node[1-20]-[1-20].grid,n[8-11]``),
    an upper bound when ranges overlap or the ``!``, ``&`` and ``^`` operators are used.
    """
    total, depth, term = 0, 0, []
    for char in pattern + ',':
        depth += {'[': 1, ']': -1}.get(char, 0)
        if depth == 0 and char in ',!&^':
            product = 1
            for body in _BRACKETS.findall(''.join(term)):
                product *= sum(_subrange_size(element) for element in body.split(','))
            total += product
            term = []
        else:
            term.append(char)
    return total


def _check_size(pattern: str, max_nodes: int) -> None:
    count = size(pattern)
    if count > max_nodes:
        raise NodeSetError('node range %r names %d nodes, more than max_nodes (%d); '
                           'raise max_nodes if that is really meant' % (pattern, count, max_nodes))


# RESOLVER_NOGROUP, NodeSet, NodeSetException and RangeSetException are module globals from the
# first _require_clustershell() on (pylint cannot see names a global statement binds).
def _require_clustershell() -> None:
    global RESOLVER_NOGROUP, NodeSet, NodeSetException, RangeSetException
    if not HAS_CLUSTERSHELL:
        raise NodeSetError('the ClusterShell Python library is required on the host that runs this plugin')
    if 'NodeSet' not in globals():  # not yet imported (a test may have put its own NodeSet here)
        from ClusterShell.NodeSet import RESOLVER_NOGROUP, NodeSet, NodeSetException
        from ClusterShell.RangeSet import RangeSetException


def _nodeset(pattern: object, max_nodes: int) -> Any:
    _require_clustershell()
    if not isinstance(pattern, str) or not pattern.strip():
        raise NodeSetError('node range must be a non-empty string, got %r' % (pattern,))
    _check_size(pattern.strip(), max_nodes)
    try:
        # No group resolver: '@group' must never run the external commands of groups.conf.
        nodes = NodeSet(pattern.strip(), resolver=RESOLVER_NOGROUP)  # pylint: disable=undefined-variable
    except (NodeSetException, RangeSetException) as exc:  # pylint: disable=undefined-variable
        raise NodeSetError('invalid node range %r: %s' % (pattern, exc)) from None
    if any(name.startswith('@') for name in nodes):
        raise NodeSetError('invalid node range %r: node groups (@name) are not supported' % (pattern,))
    return nodes


def expand(pattern: object, max_nodes: int = DEFAULT_MAX_NODES) -> list[str]:
    """``node[1-3]`` -> ``['node1', 'node2', 'node3']`` in ClusterShell's sorted order."""
    return list(_nodeset(pattern, max_nodes))


def fold(names: Iterable[object] | str, max_nodes: int = DEFAULT_MAX_NODES) -> str:
    """``['node1', 'node2', 'node3', 'node8']`` -> ``node[1-3,8]``.

    A string is split on commas and white space; a list holds node names or
    ranges, each a string without white space (a mapping is not a node name).
    """
    _require_clustershell()
    if isinstance(names, str):
        names = [part for part in names.replace(',', ' ').split() if part]
    result = NodeSet(resolver=RESOLVER_NOGROUP)  # pylint: disable=undefined-variable
    for name in names:
        if not isinstance(name, str) or any(char.isspace() or ord(char) < 32 for char in name):
            raise NodeSetError('%r is not a node name or range (a string without white space)' % (name,))
        result.update(_nodeset(name, max_nodes))
        if len(result) > max_nodes:
            raise NodeSetError('the names to fold are more than max_nodes (%d)' % max_nodes)
    return str(result)


# What ClusterShell reads as syntax in a node range; a name holding one cannot be written in it.
RANGE_SYNTAX = ',[]!&^@'
_LAST_NUMBER = re.compile(r'(.*?)(\d+)(\D*)\Z', re.DOTALL)


def fold_names(names: Iterable[str]) -> str:
    """Distinct plain node names -> one node range that expands to exactly them, without ClusterShell.

    ``['node3', 'node1', 'node2', 'n09', 'n10']`` -> ``node[1-3],n[09-10]``. Each name is
    folded on its last number; names sharing what stands around it go into one bracket,
    their numbers sorted, zero padding kept (``n[08-09,10]``). The text expands with
    ClusterShell (the ``nodeset_expand`` filter, ``node_power``'s ``nodeset``) to the same
    names; the patterns keep the order in which they first appear. Linear and without
    ClusterShell's parser: 10,000 names take a few milliseconds, a tenth of :func:`fold`'s time.
    A name holding range syntax (:data:`RANGE_SYNTAX`) or white space is refused.
    """
    patterns: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    plain: list[str] = []
    for name in names:
        match = _LAST_NUMBER.match(name)
        if match is None:
            plain.append(name)
            continue
        prefix, digits, suffix = match.groups()
        # The width a number is printed with: its own length when zero padded, else none.
        patterns.setdefault((prefix, suffix), []).append(
            (int(digits), len(digits) if digits[0] == '0' and len(digits) > 1 else 0, digits))
    bad = [name for name in plain if not name or any(char in RANGE_SYNTAX or char.isspace() for char in name)]
    bad += [prefix + suffix for prefix, suffix in patterns
            if any(char in RANGE_SYNTAX or char.isspace() for char in prefix + suffix)]
    if bad:
        raise NodeSetError('%r cannot be written as a node range (white space or one of %s)' % (bad[0], RANGE_SYNTAX))
    parts = []
    for (prefix, suffix), numbers in patterns.items():
        numbers.sort()
        runs: list[list] = []
        for number, width, digits in numbers:
            last = runs[-1] if runs else None
            # 10 continues 08-09: printed with two digits it needs no padding of its own.
            if last is not None and last[1] == number - 1 and (
                    last[2] == width or (width == 0 and len(digits) == last[2])):
                last[1], last[4] = number, digits
            elif last is None or last[1] != number or last[2] != width:
                runs.append([number, number, width, digits, digits])
        elements = [first_digits if first == last else '%s-%s' % (first_digits, last_digits)
                    for first, last, _width, first_digits, last_digits in runs]
        if len(elements) == 1 and '-' not in elements[0]:
            parts.append(prefix + elements[0] + suffix)
        else:
            parts.append('%s[%s]%s' % (prefix, ','.join(elements), suffix))
    return ','.join(parts + plain)


def expand_indexed(pattern: object, max_nodes: int = DEFAULT_MAX_NODES) -> list[tuple[str, tuple[int, ...]]]:
    """``node[1-2]-[1-2].grid`` -> ``[('node1-1.grid', (1, 1)), ('node1-2.grid', (1, 2)), ...]``.

    The indices are the numbers ClusterShell sees in each name, left to right,
    whether they came from a range or were written out (``node1-[1-2].sb8``
    gives ``(1, 1, 8)`` and ``(1, 2, 8)``); a name without digits gets ``()``.
    Zero-padded names stay padded (``n[01-10]`` -> ``n01``), their indices are
    plain integers. Same names, same order as :func:`expand`.
    """
    nodes = _nodeset(pattern, max_nodes)
    # NodeSetBase._iter() is the (name pattern, index vector) walk that
    # NodeSet.__iter__ itself formats names from; ClusterShell has no public
    # accessor for the indices. tests/unit pins the behaviour we rely on.
    result = []
    for name_pattern, vector, _autostep in nodes._iter():
        vector = tuple(vector or ())
        result.append((name_pattern % vector, tuple(int(index) for index in vector)))
    return result


def expand_list(nodes: object, what: str = 'nodes', max_nodes: int = DEFAULT_MAX_NODES) -> list[str]:
    """A NodeSet string, or a list of names and NodeSet strings -> names in the given order.

    A node named twice (across the list's items) is an error: commands that take
    the list would run twice on it. All items together name at most ``max_nodes``.
    """
    if isinstance(nodes, str):
        names = expand(nodes, max_nodes)
    elif isinstance(nodes, (list, tuple)):
        names = []
        for item in nodes:
            if not isinstance(item, str):
                raise NodeSetError('%s must be names or node ranges (strings), got %r' % (what, item))
            names.extend(expand(item, max_nodes))
            if len(names) > max_nodes:
                raise NodeSetError('%s name more than max_nodes (%d) nodes' % (what, max_nodes))
    else:
        raise NodeSetError('%s must be a node range string or a list, got %r' % (what, nodes))
    if not names:
        raise NodeSetError('%s is empty' % what)
    seen: set[str] = set()
    twice = sorted({name for name in names if name in seen or seen.add(name)})
    if twice:
        raise NodeSetError('%s lists %s more than once' % (what, ', '.join(twice)))
    return names
