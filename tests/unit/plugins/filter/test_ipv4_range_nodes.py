# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import time

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.filter.ipv4_range_nodes import FilterModule

ipv4_range_nodes = FilterModule().filters()['ipv4_range_nodes']


def test_one_node_per_address_named_in_order():
    assert ipv4_range_nodes({'start': '10.18.250.254', 'end': '10.18.251.1'}, prefix='discovery-') == [
        {'name': 'discovery-1', 'ip': '10.18.250.254'}, {'name': 'discovery-2', 'ip': '10.18.250.255'},
        {'name': 'discovery-3', 'ip': '10.18.251.0'}, {'name': 'discovery-4', 'ip': '10.18.251.1'}]
    assert ipv4_range_nodes({'start': '10.0.0.1', 'end': '10.0.0.1'}) == [{'name': 'node1', 'ip': '10.0.0.1'}]


def test_a_huge_range_is_refused_at_once_naming_its_size():
    started = time.monotonic()
    with pytest.raises(AnsibleFilterError, match=r'10.0.0.0 - 10.255.255.255 holds 16777216 addresses, '
                                                 r'more than max_nodes \(65536\)'):
        ipv4_range_nodes({'start': '10.0.0.0', 'end': '10.255.255.255'}, max_nodes=65536)
    # Refused from the two bounds, not after 16 million nodes were made (which takes minutes).
    assert time.monotonic() - started < 5
    with pytest.raises(AnsibleFilterError, match=r'holds 4294967296 addresses, more than max_nodes \(1000000\)'):
        ipv4_range_nodes({'start': '0.0.0.0', 'end': '255.255.255.255'})
    assert len(ipv4_range_nodes({'start': '10.0.0.1', 'end': '10.0.0.5'}, max_nodes=5)) == 5


@pytest.mark.parametrize('addresses, message', [
    # The former Jinja arithmetic read 300 as an octet and pointed 10.18.251.0-44 at discovery.
    ({'start': '10.18.250.1', 'end': '10.18.250.300'}, "invalid IPv4 address '10.18.250.300'"),
    ({'start': '10.18.250.9', 'end': '10.18.250.1'}, 'ends before it starts'),
    ({'start': '10.18.250', 'end': '10.18.250.1'}, 'invalid IPv4'),
    ({'start': '10.18.250.1'}, 'a mapping with start and end'),
    (['10.18.250.1', '10.18.250.2'], 'a mapping with start and end'),
])
def test_bad_ranges_are_filter_errors(addresses, message):
    with pytest.raises(AnsibleFilterError, match='ipv4_range_nodes: .*' + message):
        ipv4_range_nodes(addresses)
