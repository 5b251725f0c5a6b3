# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The static host table (``/etc/hosts``, hosts(5)): read it, and find the lines a new node clashes with.

A line is an address and one or more names, white space between them; ``#``
starts a comment. The resolver compares names without regard to case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ansible_collections.cluster.netboot.plugins.module_utils._addresses import parse_ipv4
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


@dataclass(frozen=True)
class HostsLine:
    """One entry: its line number, the line as written, the address and the names."""

    number: int
    text: str
    address: str
    names: tuple[str, ...]


def _same_address(written: str, canonical: str) -> bool:
    if written == canonical:
        return True
    try:
        return parse_ipv4(written) == canonical
    except NetbootError:
        return False  # IPv6 and anything else that is no IPv4 address


def parse(text: str) -> list[HostsLine]:
    """The entries of a hosts file, in order; comment, blank and name-less lines are left out."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split('#', 1)[0].split()
        if len(fields) > 1:
            entries.append(HostsLine(number, line, fields[0], tuple(fields[1:])))
    return entries


def conflicts(text: str, name: str, ip: object) -> list[HostsLine]:
    """The entries that would make ``name`` at ``ip`` ambiguous.

    One that gives ``ip`` without ``name`` (another node has the address), and
    one that gives ``name`` at another address. The entry ``ip name`` itself
    (a rerun) is none.
    """
    address = parse_ipv4(ip)
    key = name.lower()
    found = []
    for entry in parse(text):
        named = key in (other.lower() for other in entry.names)
        if _same_address(entry.address, address) != named:
            found.append(entry)
    return found


def describe(entries: Sequence[HostsLine]) -> list[str]:
    """``line 3: 10.0.0.2 node2``: how messages name the entries."""
    return ['line %d: %s' % (entry.number, entry.text.strip()) for entry in entries]
