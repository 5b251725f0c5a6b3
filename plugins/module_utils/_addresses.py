# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""IPv4 and MAC address handling, in one place, on top of netaddr.

Every plugin that reads, compares or renders an address goes through here so
that ``00-0D-B9-0A-12-34``, ``000d.b90a.1234`` and ``00:0d:b9:0a:12:34`` are
one node, and so that the pxelinux file names are spelled the way pxelinux
asks for them (``ansible.utils.ip4_hex`` is lower case, pxelinux is not).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ansible_collections.cluster.netboot.plugins.module_utils._errors import AddressError
from ansible_collections.cluster.netboot.plugins.module_utils._imports import probe

# Imported by _require_netaddr, on first use: canonical addresses (a node file this
# collection wrote, inet_pton's strict dotted quads) never need it (see _imports).
HAS_NETADDR, NETADDR_IMPORT_ERROR = probe('netaddr')


def _require_netaddr() -> Any:
    """The netaddr module, imported on first use."""
    if not HAS_NETADDR:
        raise AddressError('the netaddr Python library is required on the host that runs this plugin')
    import netaddr
    return netaddr


def parse_ipv4(value: object) -> str:
    """Return the canonical dotted-quad form of an IPv4 address, or raise AddressError.

    Only the four-part dotted form is accepted: the legacy ``inet_aton`` forms
    (``10.1``, ``0x0a000001``) are almost always typos in an inventory.
    """
    netaddr = _require_netaddr()
    text = str(value).strip() if value is not None else ''
    try:
        return str(netaddr.IPAddress(text, 4, flags=netaddr.INET_PTON))
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise AddressError('invalid IPv4 address %r' % (value,)) from None


def ipv4_to_int(value: str) -> int:
    netaddr = _require_netaddr()
    return int(netaddr.IPAddress(parse_ipv4(value), 4))


def int_to_ipv4(number: int) -> str:
    netaddr = _require_netaddr()
    if not 0 <= number <= 0xFFFFFFFF:
        raise AddressError('address %d is outside the IPv4 space' % number)
    return str(netaddr.IPAddress(number, 4))


def pxe_hex(value: object) -> str:
    """``10.18.1.18`` -> ``0A120112``: the file name pxelinux tries for a client IP."""
    return '%08X' % ipv4_to_int(parse_ipv4(value))


def consecutive_ipv4(start: object, count: int) -> list[str]:
    """``count`` consecutive addresses from ``start`` (inclusive)."""
    first = ipv4_to_int(parse_ipv4(start))
    if count and first + count - 1 > 0xFFFFFFFF:
        raise AddressError('%d addresses from %s run past 255.255.255.255' % (count, start))
    return [int_to_ipv4(first + offset) for offset in range(count)]


def ipv4_range(start: object, end: object, max_count: int) -> list[str]:
    """Every address from ``start`` to ``end`` (both included), at most ``max_count`` of them.

    A longer range is refused before any address is made, naming its size: a
    mistyped octet (``10.18.250.1`` to ``10.19.250.99``) costs neither time nor memory.
    """
    first, last = ipv4_to_int(parse_ipv4(start)), ipv4_to_int(parse_ipv4(end))
    if last < first:
        raise AddressError('address range %s - %s ends before it starts' % (start, end))
    count = last - first + 1
    if count > max_count:
        raise AddressError('address range %s - %s holds %d addresses, more than max_nodes (%d); '
                           'raise max_nodes if that is really meant' % (start, end, count, max_count))
    return consecutive_ipv4(start, count)


# The notations a MAC is written in: six two-digit groups with one separator
# throughout (00:0D:B9:0A:12:34, 00-0d-b9-0a-12-34), Cisco's three dotted groups
# of four (000d.b90a.1234), or the twelve digits alone (000db90a1234). netaddr
# reads more (a bare number '1', groups of one digit), and so a typo - a digit
# dropped - would quietly name another NIC.
_MAC_NOTATION = re.compile(r'(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}'
                           r'|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}'
                           r'|[0-9A-Fa-f]{12})\Z')


def _check_nic_mac(mac: str, value: object) -> str:
    """``mac`` (canonical) if a NIC can have it: not all zero, not a group (multicast, broadcast) address."""
    if mac == 'ff:ff:ff:ff:ff:ff':
        raise AddressError('MAC address %r is the broadcast address, which no NIC has' % (value,))
    if mac == '00:00:00:00:00:00':
        raise AddressError('MAC address %r is all zero, which no NIC has' % (value,))
    if int(mac[:2], 16) & 1:
        # The I/G bit: set in every group address, never in a NIC's own.
        raise AddressError('MAC address %r is a multicast address (the first octet is odd), which no NIC has' % (value,))
    return mac


def normalize_mac(value: object) -> str:
    """A NIC's MAC in a written notation -> lower case, colon separated.

    Accepted: ``00:0D:B9:0A:12:34``, ``00-0d-b9-0a-12-34``, ``000d.b90a.1234``
    and ``000db90a1234``, with white space around. Refused: every other form,
    and the addresses no NIC has (all zero, broadcast, multicast).
    """
    netaddr = _require_netaddr()
    text = str(value).strip() if isinstance(value, str) else ''
    if not _MAC_NOTATION.match(text):
        hint = ' (quote MAC addresses in YAML: an unquoted one can be read as a number)' if isinstance(value, int) else ''
        raise AddressError('invalid MAC address %r: write it as 00:0d:b9:0a:12:34, 00-0d-b9-0a-12-34, '
                           '000d.b90a.1234 or 000db90a1234%s' % (value, hint))
    try:
        eui = netaddr.EUI(text, version=48, dialect=netaddr.mac_unix_expanded)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise AddressError('invalid MAC address %r' % (value,)) from None
    return _check_nic_mac(str(eui).lower(), value)


def pxe_mac(value: object) -> str:
    """Any MAC notation -> ``01-00-0d-b9-0a-12-34`` (ARP type 1, lower case, dashes)."""
    return '01-' + normalize_mac(value).replace(':', '-')


def parse_ipv4_network(value: object) -> str:
    """Canonical CIDR form of an IPv4 network (``10.18.1.0/24``); host bits are an error."""
    netaddr = _require_netaddr()
    text = str(value).strip() if value is not None else ''
    try:
        network = netaddr.IPNetwork(text, 4)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise AddressError('invalid IPv4 network %r' % (value,)) from None
    if network.ip != network.network:
        raise AddressError('invalid IPv4 network %r: host bits are set (did you mean %s?)' % (value, network.cidr))
    return str(network.cidr)


def network_from_mask(address: object, netmask: object) -> str:
    """``10.18.1.0`` + ``255.255.255.0`` -> ``10.18.1.0/24`` (dhcpd's subnet syntax)."""
    netaddr = _require_netaddr()
    try:
        network = netaddr.IPNetwork('%s/%s' % (parse_ipv4(address), parse_ipv4(netmask)), 4)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise AddressError('invalid netmask %r for %s' % (netmask, address)) from None
    return str(network.cidr)


def ipv4_in_network(ip: object, network: object) -> bool:
    netaddr = _require_netaddr()
    return netaddr.IPAddress(parse_ipv4(ip), 4) in netaddr.IPNetwork(parse_ipv4_network(network), 4)


def is_switch_flooding_group(value: object) -> bool:
    """True for multicast groups whose MAC collides with 224.0.0.x or 224.128.0.x.

    IPv4 multicast maps the low 23 bits onto the Ethernet address, so every
    ``X.0.0.y`` and ``X.128.0.y`` group shares its MAC with the link-local
    control block that IGMP snooping switches always flood to every port.
    """
    octets = [int(part) for part in parse_ipv4(value).split('.')]
    return octets[1] & 0x7F == 0 and octets[2] == 0


def multicast_pool(value: object) -> Iterator[str]:
    """The usable group addresses of a multicast pool, in order, flooding groups skipped."""
    network = parse_ipv4_network(value)
    netaddr = _require_netaddr()
    if not netaddr.IPNetwork(network, 4).is_multicast():
        raise AddressError('address pool %s is not inside 224.0.0.0/4' % network)
    for address in netaddr.IPNetwork(network, 4):
        text = str(address)
        if not is_switch_flooding_group(text):
            yield text


def pxe_hex_many(values: Iterable[object]) -> list[str]:
    """:func:`pxe_hex` for a whole node list (10,000 addresses in one pointer run).

    ``inet_pton`` accepts exactly the strict dotted quads that netaddr's
    ``INET_PTON`` mode accepts and is ten times faster; whatever it refuses goes
    through netaddr, so results and errors are those of :func:`pxe_hex`.
    """
    result = []
    for value in values:
        text = str(value).strip() if value is not None else ''
        try:
            result.append(socket.inet_pton(socket.AF_INET, text).hex().upper())
            continue
        except (OSError, ValueError):
            pass
        netaddr = _require_netaddr()
        try:
            number = int(netaddr.IPAddress(text, 4, flags=netaddr.INET_PTON))
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise AddressError('invalid IPv4 address %r' % (value,)) from None
        result.append('%08X' % number)
    return result


# Exactly the strings parse_ipv4 / normalize_mac return: such input needs no netaddr round trip.
_CANONICAL_IPV4 = re.compile(r'(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}'
                             r'(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\Z')
_CANONICAL_MAC = re.compile(r'[0-9a-f]{2}(?::[0-9a-f]{2}){5}\Z')
# Six two-digit groups with one separator throughout (00-0D-B9-0A-12-34): netaddr
# gives the lower-case colon form of exactly these digits.
_SEPARATED_MAC = re.compile(r'[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}\Z')


def parse_ipv4_many(values: Iterable[object]) -> list[str]:
    """:func:`parse_ipv4` for a whole list; already canonical addresses skip netaddr.

    A file this collection wrote holds 10,000 canonical addresses; parsing each
    with netaddr again is most of an unchanged rerun's time.
    """
    return [value if isinstance(value, str) and _CANONICAL_IPV4.match(value) else parse_ipv4(value)
            for value in values]


def normalize_mac_many(values: Iterable[object]) -> list[str]:
    """:func:`normalize_mac` for a whole list; the common notations skip netaddr."""
    result = []
    for value in values:
        if isinstance(value, str) and _CANONICAL_MAC.match(value):
            result.append(_check_nic_mac(value, value))
        elif isinstance(value, str) and _SEPARATED_MAC.match(value):
            result.append(_check_nic_mac(value.lower().replace('-', ':'), value))
        else:
            result.append(normalize_mac(value))
    return result


def ipv4_to_int_many(values: Iterable[object]) -> list[int]:
    """:func:`ipv4_to_int` for a whole list (sort keys, range checks), canonical input without netaddr."""
    result = []
    for value in values:
        text = value if isinstance(value, str) and _CANONICAL_IPV4.match(value) else parse_ipv4(value)
        first, second, third, fourth = text.split('.')
        result.append((int(first) << 24) | (int(second) << 16) | (int(third) << 8) | int(fourth))
    return result


def ipv4_network_bounds(network: object) -> tuple[int, int]:
    """The first and last address of an IPv4 network as integers, for fast membership tests."""
    netaddr = _require_netaddr()
    parsed = netaddr.IPNetwork(parse_ipv4_network(network), 4)
    return int(parsed.first), int(parsed.last)


def node_ipv4_problems(addresses: Sequence[object], networks: Sequence[str] | None = None,
                       networks_label: str = 'given') -> Iterator[tuple[int, str]]:
    """``(index, reason)`` for every address in ``addresses`` that no node can have, in order.

    Never a node's: 0.0.0.0/8 ("this network"), multicast 224.0.0.0/4, the
    reserved 240.0.0.0/4 with the limited broadcast 255.255.255.255. With
    ``networks`` (CIDR), an address must lie inside one of them and be neither
    its network nor its broadcast address (a /31 or /32 has neither, RFC 3021).
    ``networks_label`` says where the networks come from, for the message.
    This is the one check; modules, the inventory and dhcpd_host all use it.
    """
    bounds = []
    for network in networks or ():
        first, last = ipv4_network_bounds(network)
        bounds.append((first, last, parse_ipv4_network(network), last - first >= 3))
    for index, value in enumerate(addresses):
        if networks is None and isinstance(value, str) and _CANONICAL_IPV4.match(value) \
                and 0 < int(value[:value.index('.')]) < 224:
            continue  # the common case: the first octet alone decides, no message built
        number = ipv4_to_int_many([value])[0]
        first_octet = number >> 24
        if 0 < first_octet < 224 and networks is None:
            continue
        address = int_to_ipv4(number)
        if first_octet == 0:
            yield index, '%s is in 0.0.0.0/8 (this network), which no node can have' % address
        elif number == 0xFFFFFFFF:
            yield index, '%s is the limited broadcast address, which no node can have' % address
        elif 224 <= first_octet <= 239:
            yield index, '%s is a multicast address, which no node can have' % address
        elif first_octet >= 240:
            yield index, '%s is in the reserved 240.0.0.0/4, which no node can have' % address
        elif networks is not None:
            inside = next((bound for bound in bounds if bound[0] <= number <= bound[1]), None)
            if inside is None:
                yield index, '%s is outside every subnet %s (%s)' % (
                    address, networks_label, ', '.join(bound[2] for bound in bounds) or 'none')
            elif inside[3] and number == inside[0]:
                yield index, '%s is the network address of %s, which no node can have' % (address, inside[2])
            elif inside[3] and number == inside[1]:
                yield index, '%s is the broadcast address of %s, which no node can have' % (address, inside[2])


def check_node_ipv4(address: object, networks: Sequence[str] | None = None, networks_label: str = 'given') -> None:
    """Raise AddressError when no node can have ``address`` (see :func:`node_ipv4_problems`)."""
    for _index, reason in node_ipv4_problems([address], networks, networks_label):
        raise AddressError(reason)
