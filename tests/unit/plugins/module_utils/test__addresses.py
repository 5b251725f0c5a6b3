# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _addresses as addresses
from ansible_collections.cluster.netboot.plugins.module_utils._errors import AddressError


@pytest.mark.parametrize('ip, expected', [
    ('10.18.1.18', '0A120112'),  # the ORBIT PXE service's own example
    ('10.77.0.10', '0A4D000A'),
    ('192.168.0.1', 'C0A80001'),
    ('0.0.0.0', '00000000'),
    (' 255.255.255.255 ', 'FFFFFFFF'),
])
def test_pxe_hex_is_upper_case_eight_digits(ip, expected):
    assert addresses.pxe_hex(ip) == expected


@pytest.mark.parametrize('bad', ['10.1', '10.0.0.256', '', None, '1.2.3.4.5', '0x0a000001', '10.0.0.1/24', 'node1'])
def test_parse_ipv4_rejects_everything_but_dotted_quads(bad):
    with pytest.raises(AddressError, match='invalid IPv4 address'):
        addresses.parse_ipv4(bad)


@pytest.mark.parametrize('mac', [
    '00:0D:B9:0A:12:34',
    '00-0d-b9-0a-12-34',
    '000d.b90a.1234',
    '000DB90A1234',
    '0:d:b9:a:12:34',
])
def test_every_mac_notation_is_one_node(mac):
    assert addresses.normalize_mac(mac) == '00:0d:b9:0a:12:34'
    assert addresses.pxe_mac(mac) == '01-00-0d-b9-0a-12-34'


@pytest.mark.parametrize('bad', ['00:0d', 'zz:00:00:00:00:00', '00:11:22:33:44:55:66:77', '', None])
def test_normalize_mac_rejects_non_mac48(bad):
    with pytest.raises(AddressError, match='invalid MAC address'):
        addresses.normalize_mac(bad)


def test_consecutive_addresses_cross_octet_boundaries():
    assert addresses.consecutive_ipv4('10.10.0.254', 3) == ['10.10.0.254', '10.10.0.255', '10.10.1.0']
    assert addresses.consecutive_ipv4('10.10.0.1', 0) == []
    with pytest.raises(AddressError, match='run past'):
        addresses.consecutive_ipv4('255.255.255.254', 3)


def test_networks():
    assert addresses.parse_ipv4_network('10.18.1.0/24') == '10.18.1.0/24'
    assert addresses.network_from_mask('10.18.1.0', '255.255.255.0') == '10.18.1.0/24'
    assert addresses.ipv4_in_network('10.18.1.18', '10.18.1.0/24')
    assert not addresses.ipv4_in_network('10.18.2.18', '10.18.1.0/24')
    with pytest.raises(AddressError, match='host bits'):
        addresses.parse_ipv4_network('10.18.1.1/24')
    with pytest.raises(AddressError, match='invalid netmask'):
        addresses.network_from_mask('10.18.1.0', '255.0.255.0')


@pytest.mark.parametrize('group, floods', [
    ('239.0.0.5', True),
    ('239.128.0.5', True),
    ('224.0.0.251', True),
    ('239.192.1.1', False),
    ('239.0.1.5', False),
    ('239.129.0.5', False),
])
def test_switch_flooding_groups(group, floods):
    assert addresses.is_switch_flooding_group(group) is floods


def test_multicast_pool_skips_flooding_groups_and_refuses_unicast():
    assert list(addresses.multicast_pool('239.0.0.0/30')) == []
    assert list(addresses.multicast_pool('239.192.1.0/30')) == ['239.192.1.0', '239.192.1.1', '239.192.1.2', '239.192.1.3']
    pool = list(addresses.multicast_pool('239.128.0.0/23'))
    assert pool[0] == '239.128.1.0' and len(pool) == 256
    with pytest.raises(AddressError, match='not inside 224.0.0.0/4'):
        list(addresses.multicast_pool('10.0.0.0/24'))
