# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ansible_collections.cluster.netboot.plugins.module_utils import _hostvars


class LazyVars(Mapping):
    """Like ansible-core's hostvars: a mapping that hands out values on lookup only (no dict)."""

    def __init__(self, data: dict) -> None:
        self._data = data
        self.looked_up: list[str] = []

    def __getitem__(self, key: str) -> object:
        self.looked_up.append(key)
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError('the whole host variables are never walked')

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data


def test_only_the_named_hosts_are_looked_up_and_empty_values_are_unset():
    node = LazyVars({'mac': '00:0d:b9:0a:12:34', 'ip': '', 'ansible_host': '10.0.0.1', 'dhcp_filename': ''})
    hostvars = LazyVars({'n1': node, 'other': LazyVars({})})
    assert _hostvars.inventory_nodes(hostvars, ('n1',), extra={'dhcp_filename': 'filename'}) == [
        {'name': 'n1', 'ip': '10.0.0.1', 'mac': '00:0d:b9:0a:12:34'}]
    assert hostvars.looked_up == ['n1']
