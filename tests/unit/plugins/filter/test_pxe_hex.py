# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.filter.pxe_hex import FilterModule

pxe_hex = FilterModule().filters()['pxe_hex']


@pytest.mark.parametrize('address, expected', [
    ('10.18.1.18', '0A120112'),
    ('10.77.0.10', '0A4D000A'),
    (' 192.168.0.255 ', 'C0A800FF'),
    ('0.0.0.0', '00000000'),
])
def test_pxe_hex_is_upper_case_hex(address, expected):
    assert pxe_hex(address) == expected


@pytest.mark.parametrize('address', ['10.1', '10.18.1.256', '0x0a120112', 'node1', '', None, 'fe80::1'])
def test_pxe_hex_refuses_what_is_not_a_dotted_quad(address):
    with pytest.raises(AnsibleFilterError, match='pxe_hex: invalid IPv4 address'):
        pxe_hex(address)
