# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.cluster.netboot.plugins.module_utils import _etc_hosts
from ansible_collections.cluster.netboot.plugins.module_utils._etc_hosts import HostsLine


def test_parse_keeps_line_numbers_and_drops_comments_and_bare_addresses():
    text = '# header\n\n127.0.0.1\tlocalhost\n10.0.0.1 n1 n1.grid # the first\n10.0.0.9\n  # 10.0.0.2 n2\n'
    assert _etc_hosts.parse(text) == [HostsLine(3, '127.0.0.1\tlocalhost', '127.0.0.1', ('localhost',)),
                                      HostsLine(4, '10.0.0.1 n1 n1.grid # the first', '10.0.0.1', ('n1', 'n1.grid'))]


def test_conflicts_compare_names_without_case_and_addresses_canonically():
    text = '::1 localhost\n010.0.0.1 other\n10.0.0.2 N2\n'
    # A written form netaddr does not read as IPv4 (leading zeros) is no match; ::1 is no IPv4 at all.
    assert _etc_hosts.conflicts(text, 'n2', '10.0.0.2') == []
    assert [entry.number for entry in _etc_hosts.conflicts(text, 'localhost', '10.0.0.2')] == [1, 3]
    assert _etc_hosts.describe(_etc_hosts.conflicts(text, 'n2', '10.0.0.3')) == ['line 3: 10.0.0.2 N2']
