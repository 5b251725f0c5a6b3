# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.filter.pxe_mac import FilterModule

pxe_mac = FilterModule().filters()['pxe_mac']


@pytest.mark.parametrize('mac', ['00:0D:B9:0A:12:34', '00-0d-b9-0a-12-34', '000d.b90a.1234', '000DB90A1234'])
def test_pxe_mac_any_notation(mac):
    assert pxe_mac(mac) == '01-00-0d-b9-0a-12-34'


@pytest.mark.parametrize('mac', ['00:0d:b9:0a:12', '00:0d:b9:0a:12:34:56:78', 'zz:0d:b9:0a:12:34', '', None])
def test_pxe_mac_refuses_bad_addresses(mac):
    with pytest.raises(AnsibleFilterError, match='pxe_mac: invalid MAC address'):
        pxe_mac(mac)


@pytest.mark.parametrize('mac, message', [
    ('1', 'invalid MAC address'),
    (1, 'invalid MAC address'),
    ('0:d:b9:a:12:34', 'invalid MAC address'),
    ('ff:ff:ff:ff:ff:ff', 'is the broadcast address'),
    ('00:00:00:00:00:00', 'is all zero'),
    ('01:00:5e:00:00:02', 'is a multicast address'),
])
def test_pxe_mac_refuses_what_no_nic_has(mac, message):
    with pytest.raises(AnsibleFilterError, match='pxe_mac: .*%s' % message):
        pxe_mac(mac)
