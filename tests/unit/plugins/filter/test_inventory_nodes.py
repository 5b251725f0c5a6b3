# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.filter.inventory_nodes import FilterModule

inventory_nodes = FilterModule().filters()['inventory_nodes']

HOSTVARS = {
    'node1': {'mac': '00-0D-B9-0A-12-34', 'ip': '10.18.1.1', 'ansible_host': '192.0.2.9'},
    'node2': {'mac': '00:0d:b9:0a:12:35', 'ansible_host': '10.18.1.2', 'dhcp_filename': 'ipxe.efi'},
    'console': {'ansible_host': '10.18.0.1'},
    'nomac': {'ip': '10.18.1.9', 'mac': None},
    'noaddress': {'mac': '00:0d:b9:0a:12:36'},
}


def test_dhcp_entries_skip_hosts_without_mac_or_address():
    nodes = inventory_nodes(HOSTVARS, list(HOSTVARS), extra={'dhcp_filename': 'filename'})
    assert nodes == [
        {'name': 'node1', 'ip': '10.18.1.1', 'mac': '00:0d:b9:0a:12:34'},  # ip wins over ansible_host
        {'name': 'node2', 'ip': '10.18.1.2', 'mac': '00:0d:b9:0a:12:35', 'filename': 'ipxe.efi'},
    ]


def test_diskless_entries_need_an_address_and_keep_the_mac_optional():
    nodes = inventory_nodes(HOSTVARS, ['console', 'node2', 'nomac'], require=['ip'], incomplete='fail')
    assert nodes == [{'name': 'console', 'ip': '10.18.0.1'},
                     {'name': 'node2', 'ip': '10.18.1.2', 'mac': '00:0d:b9:0a:12:35'},
                     {'name': 'nomac', 'ip': '10.18.1.9'}]
    with pytest.raises(AnsibleFilterError, match='inventory_nodes: host noaddress has no ip or ansible_host'):
        inventory_nodes(HOSTVARS, ['node1', 'noaddress'], require=['ip'], incomplete='fail')


def test_empty_group():
    assert inventory_nodes(HOSTVARS, []) == []


@pytest.mark.parametrize('hostvars, names, kwargs, message', [
    ({'n1': {'mac': '01:00:5e:00:00:02', 'ip': '10.0.0.1'}}, ['n1'], {}, r'\(n1\): MAC address .* multicast'),
    ({'n1': {'mac': '00:0d:b9:0a:12:34', 'ansible_host': 'n1.example.org'}}, ['n1'], {}, r'\(n1\): invalid IPv4'),
    ({'n1': {'mac': '00:0d:b9:0a:12:34', 'ip': '224.0.0.1'}}, ['n1'], {}, r'\(n1\): 224.0.0.1 is a multicast'),
    ({'n 1': {'mac': '00:0d:b9:0a:12:34', 'ip': '10.0.0.1'}}, ['n 1'], {}, 'white space'),
    (HOSTVARS, ['ghost'], {}, 'host ghost is not in the inventory'),
    (HOSTVARS, 'node1', {}, 'must be a list'),
    (HOSTVARS, ['node1'], {'require': ['name']}, 'require takes ip and mac'),
    (HOSTVARS, ['node1'], {'incomplete': 'ignore'}, 'incomplete must be one of skip, fail'),
    (HOSTVARS, ['node1'], {'extra': {'boot_mac': 'mac'}}, 'extra cannot map onto mac'),
])
def test_bad_input_is_a_filter_error_naming_the_host(hostvars, names, kwargs, message):
    with pytest.raises(AnsibleFilterError, match='inventory_nodes: .*' + message):
        inventory_nodes(hostvars, names, **kwargs)
