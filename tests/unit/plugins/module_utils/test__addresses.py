# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import random

import netaddr
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
    ' 00:0d:b9:0a:12:34\n',
])
def test_every_mac_notation_is_one_node(mac):
    assert addresses.normalize_mac(mac) == '00:0d:b9:0a:12:34'
    assert addresses.pxe_mac(mac) == '01-00-0d-b9-0a-12-34'


@pytest.mark.parametrize('bad', [
    '00:0d', 'zz:00:00:00:00:00', '00:11:22:33:44:55:66:77', '', None,
    # Numbers and short forms netaddr reads as a MAC, but nobody writes one so:
    # a dropped digit would silently name another NIC.
    '1', 1, 0x000db90a1234, '0:d:b9:a:12:34', '00:0d:b9:0a:12:4', '000db9-0a1234', '000db9:0a1234',
    '00:0d-b9:0a:12:34', '0d.b90a.1234', '00.0d.b9.0a.12.34', '0x000db90a1234', '000db90a123',
])
def test_normalize_mac_rejects_everything_but_the_written_notations(bad):
    with pytest.raises(AddressError, match='invalid MAC address'):
        addresses.normalize_mac(bad)


@pytest.mark.parametrize('bad, message', [
    ('ff:ff:ff:ff:ff:ff', 'the broadcast address'),
    ('FFFF.FFFF.FFFF', 'the broadcast address'),
    ('00:00:00:00:00:00', 'all zero'),
    ('000000000000', 'all zero'),
    ('01:00:5e:00:00:02', 'a multicast address'),
    ('33-33-00-00-00-01', 'a multicast address'),
    ('0300.0000.0001', 'a multicast address'),
])
def test_normalize_mac_refuses_addresses_no_nic_has(bad, message):
    with pytest.raises(AddressError, match='MAC address %r is %s' % (bad, message)):
        addresses.normalize_mac(bad)
    with pytest.raises(AddressError, match='MAC address %r is %s' % (bad, message)):
        addresses.normalize_mac_many(['00:0d:b9:0a:12:34', bad])
    with pytest.raises(AddressError, match=message):
        addresses.pxe_mac(bad)


def test_a_locally_administered_mac_is_a_nic():
    # QEMU's 52:54:00 and the 02: prefix are unicast: only the I/G bit makes a group address.
    assert addresses.normalize_mac('02:00:00:00:00:01') == '02:00:00:00:00:01'
    assert addresses.normalize_mac_many(['52:54:00:12:34:56']) == ['52:54:00:12:34:56']


@pytest.mark.parametrize('ip, networks, message', [
    ('0.0.0.0', None, r'0.0.0.0 is in 0.0.0.0/8 \(this network\)'),
    ('0.1.2.3', None, r'0.1.2.3 is in 0.0.0.0/8 \(this network\)'),
    ('224.0.0.1', None, '224.0.0.1 is a multicast address'),
    ('239.255.0.9', None, '239.255.0.9 is a multicast address'),
    ('255.255.255.255', None, '255.255.255.255 is the limited broadcast address'),
    ('240.0.0.1', None, r'240.0.0.1 is in the reserved 240.0.0.0/4'),
    ('10.20.0.0', ['10.20.0.0/16'], '10.20.0.0 is the network address of 10.20.0.0/16'),
    ('10.20.255.255', ['10.18.0.0/16', '10.20.0.0/16'], '10.20.255.255 is the broadcast address of 10.20.0.0/16'),
    ('10.21.0.1', ['10.18.0.0/16', '10.20.0.0/16'], r'10.21.0.1 is outside every subnet given \(10.18.0.0/16, 10.20.0.0/16\)'),
    ('10.21.0.1', [], r'10.21.0.1 is outside every subnet given \(none\)'),
])
def test_node_addresses_refuse_what_no_node_can_have(ip, networks, message):
    with pytest.raises(AddressError, match=message):
        addresses.check_node_ipv4(ip, networks)
    problems = list(addresses.node_ipv4_problems(['10.20.0.5', ip, '10.20.0.6'], None if networks is None else networks + ['10.20.0.0/24']))
    assert [index for index, _reason in problems] == [1]


@pytest.mark.parametrize('ip, networks', [
    ('10.20.0.1', None), ('127.0.0.2', None), ('10.20.0.0', ['10.20.0.0/31']), ('10.20.0.1', ['10.20.0.0/31']),
    ('10.20.0.7', ['10.20.0.7/32']), ('10.20.0.255', ['10.20.0.0/23']), ('10.20.1.0', ['10.20.0.0/23']),
])
def test_node_addresses_inside_a_subnet(ip, networks):
    addresses.check_node_ipv4(ip, networks)
    assert list(addresses.node_ipv4_problems([ip], networks)) == []


def test_node_address_problems_name_the_label():
    with pytest.raises(AddressError, match=r'10.1.0.1 is outside every subnet declared in m.conf \(10.18.0.0/16\)'):
        addresses.check_node_ipv4('10.1.0.1', ['10.18.0.0/16'], 'declared in m.conf')


def test_consecutive_addresses_cross_octet_boundaries():
    assert addresses.consecutive_ipv4('10.10.0.254', 3) == ['10.10.0.254', '10.10.0.255', '10.10.1.0']
    assert addresses.consecutive_ipv4('10.10.0.1', 0) == []
    with pytest.raises(AddressError, match='run past'):
        addresses.consecutive_ipv4('255.255.255.254', 3)


def test_ipv4_range_is_bounded_before_it_is_made():
    assert addresses.ipv4_range('10.10.0.255', ' 10.10.1.1', 3) == ['10.10.0.255', '10.10.1.0', '10.10.1.1']
    with pytest.raises(AddressError, match=r'10.10.0.1 - 10.10.0.4 holds 4 addresses, more than max_nodes \(3\)'):
        addresses.ipv4_range('10.10.0.1', '10.10.0.4', 3)
    with pytest.raises(AddressError, match='ends before it starts'):
        addresses.ipv4_range('10.10.0.2', '10.10.0.1', 3)


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


# --- the fast whole-list paths against the netaddr-based single-value functions -----
#
# parse_ipv4_many, normalize_mac_many, ipv4_to_int_many and pxe_hex_many skip
# netaddr for the common spellings. They must give exactly what the single-value
# functions give, and refuse exactly what they refuse: a table of hand-picked
# cases plus a seeded random generator of near misses (hypothesis is not a test
# dependency; the seed keeps every run the same).

IPV4_TABLE = [
    '10.18.1.18', '0.0.0.0', '255.255.255.255', '192.168.0.1', '1.2.3.4', '100.64.0.1', '224.0.0.1',
    ' 10.1.1.1', '10.1.1.1 ', '\t10.1.1.1\n', '10.1.1.1\n', '010.18.1.18', '10.018.1.18', '10.18.1', '10.1',
    '256.1.1.1', '1.2.3.256', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '-1.2.3.4', '+1.2.3.4', '0x0a.0.0.1',
    '0x0a000001', '167772161', '10.0.0.1/24', 'node1', '', ' ', None, 167772161, 10, 1.5, 'fe80::1',
    '::ffff:10.0.0.1', '\u0661\u0660.0.0.1', '１0.0.0.1', '10.0.0.1\x00', '10 .0.0.1', '10.0.0.1;',
]

MAC_TABLE = [
    '00:0D:B9:0A:12:34', '00-0d-b9-0a-12-34', '00:0d:b9:0a:12:34', '00:0D:b9:0A:12:34', '000d.b90a.1234',
    '000D.B90A.1234', '000db90a1234', '000DB90A1234', ' 00:0d:b9:0a:12:34', '00:0d:b9:0a:12:34\n',
    '52:54:00:12:34:56', '02:00:00:00:00:01', 'fe:ff:ff:ff:ff:ff',
    '0:d:b9:a:12:34', '00-0d:b9-0a-12-34', '00:0d:b9:0a:12', 'zz:0d:b9:0a:12:34', '000db9-0a1234',
    '000db9:0a1234', '0d.b90a.1234', '00.0d.b9.0a.12.34', '0x000db90a1234', '000db90a123', '000db90a12345',
    '1', '', ' ', None, 1, 0x000db90a1234, 'ff:ff:ff:ff:ff:ff', 'FF-FF-FF-FF-FF-FF', '00:00:00:00:00:00',
    '000000000000', '01:00:5e:00:00:02', '33:33:00:00:00:01', '0100.5e00.0002', '01005e000002',
    '00:0d:b9:0a:12:34:56:78', '00:0d:b9:0a:12:3g', '00:0d:b9:0a:12:34:', ':00:0d:b9:0a:12:34',
    '00:0d:b9:0a:12:34\x00', '\u0660\u0660:0d:b9:0a:12:34',
]


def _mutate(rng, text):
    """A near miss of ``text``: one character dropped, doubled, replaced, or white space added."""
    position = rng.randrange(len(text))
    choice = rng.randrange(5)
    if choice == 0:
        return text[:position] + text[position + 1:]
    if choice == 1:
        return text[:position] + text[position] + text[position:]
    if choice == 2:
        return text[:position] + rng.choice('0123456789abcdefABCDEF.:-x/ g') + text[position + 1:]
    if choice == 3:
        return rng.choice(' \t') + text + rng.choice(['', ' ', '\n'])
    return text.upper() if rng.random() < 0.5 else text


def _random_ipv4(rng):
    parts = [str(rng.choice([0, 1, 9, 10, 99, 100, 199, 200, 249, 250, 255, 256, rng.randrange(300)]))
             for _part in range(rng.choice([4, 4, 4, 3, 5]))]
    if rng.random() < 0.1:
        parts[rng.randrange(len(parts))] = '0' + parts[0]
    text = '.'.join(parts)
    return _mutate(rng, text) if rng.random() < 0.3 else text


def _random_mac(rng):
    octets = [rng.randrange(256) for _octet in range(6)]
    if rng.random() < 0.5:
        octets[0] &= 0xFE  # mostly NICs, so that the accepting paths are exercised too
    digits = ''.join('%02x' % octet for octet in octets)
    notation = rng.randrange(4)
    if notation == 0:
        text = ':'.join(digits[index:index + 2] for index in range(0, 12, 2))
    elif notation == 1:
        text = '-'.join(digits[index:index + 2] for index in range(0, 12, 2))
    elif notation == 2:
        text = '.'.join(digits[index:index + 4] for index in range(0, 12, 4))
    else:
        text = digits
    if rng.random() < 0.3:
        text = text.upper()
    return _mutate(rng, text) if rng.random() < 0.3 else text


RNG = random.Random(20260417)
IPV4_CASES = IPV4_TABLE + [_random_ipv4(RNG) for _case in range(600)]
MAC_CASES = MAC_TABLE + [_random_mac(RNG) for _case in range(600)]


def _outcome(function, value):
    try:
        return ('ok', function(value))
    except AddressError:
        return ('refused',)


def test_the_generated_cases_cover_both_outcomes():
    # Without this, a generator that only made garbage would test nothing but the error path.
    for cases, function in ((IPV4_CASES, addresses.parse_ipv4), (MAC_CASES, addresses.normalize_mac)):
        outcomes = [_outcome(function, value)[0] for value in cases]
        assert outcomes.count('ok') > 150 and outcomes.count('refused') > 100


@pytest.mark.parametrize('many, single', [
    (addresses.parse_ipv4_many, addresses.parse_ipv4),
    (addresses.ipv4_to_int_many, addresses.ipv4_to_int),
    (addresses.pxe_hex_many, addresses.pxe_hex),
])
def test_ipv4_fast_paths_agree_with_the_single_value_functions(many, single):
    accepted = []
    for value in IPV4_CASES:
        expected = _outcome(single, value)
        assert _outcome(lambda item: many([item])[0], value) == expected, repr(value)
        if expected[0] == 'ok':
            accepted.append(value)
    # A whole list in one call: same values, same order.
    assert many(accepted) == [single(value) for value in accepted]


def test_normalize_mac_fast_path_agrees_with_normalize_mac():
    accepted = []
    for value in MAC_CASES:
        expected = _outcome(addresses.normalize_mac, value)
        assert _outcome(lambda item: addresses.normalize_mac_many([item])[0], value) == expected, repr(value)
        if expected[0] == 'ok':
            accepted.append(value)
    assert addresses.normalize_mac_many(accepted) == [addresses.normalize_mac(value) for value in accepted]


def test_accepted_ipv4_is_what_netaddr_reads():
    for value in IPV4_CASES:
        if _outcome(addresses.parse_ipv4, value)[0] == 'ok':
            reference = netaddr.IPAddress(str(value).strip(), 4, flags=netaddr.INET_PTON)
            assert addresses.parse_ipv4(value) == str(reference), repr(value)
            assert addresses.ipv4_to_int(value) == int(reference), repr(value)
            assert addresses.pxe_hex(value) == '%08X' % int(reference), repr(value)


def test_accepted_mac_is_what_netaddr_reads_and_a_nic_can_have():
    for value in MAC_CASES:
        if _outcome(addresses.normalize_mac, value)[0] == 'ok':
            reference = netaddr.EUI(str(value).strip(), dialect=netaddr.mac_unix_expanded)
            assert addresses.normalize_mac(value) == str(reference).lower(), repr(value)
            assert not int(reference) & (1 << 40) and int(reference) != 0, repr(value)
