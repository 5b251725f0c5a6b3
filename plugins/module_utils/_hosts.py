# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""DHCP host bindings, whatever the server: the one place that reads and checks host lists.

``dhcpd_host`` (ISC dhcpd host entries) and ``kea_host`` (Kea host
reservations) share the contract implemented here: the input list (inline or
a hosts file), the syntax of names and options (safe in dhcpd's syntax and in
Kea's JSON alike), canonical forms, the merge into the bindings already there
with every duplicate name, MAC or IP refused, and the subnet check. The
backend modules only render, parse their own file and talk to their daemon.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from ansible_collections.cluster.netboot.plugins.module_utils import _files, _nodes
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import (
    ipv4_to_int_many,
    node_ipv4_problems,
    parse_ipv4,
)
from ansible_collections.cluster.netboot.plugins.module_utils._errors import FileStateError, NetbootError
from ansible_collections.cluster.netboot.plugins.module_utils._nodes import NodeRecord, check_unique

# The columns a host entry may carry (the node list fields for _nodes.load).
HOST_FIELDS = ('name', 'mac', 'ip', 'hostname', 'filename', 'next_server')
OPTIONAL_FIELDS = ('hostname', 'filename', 'next_server')

# A host name: NAME tokens (letters, digits, '-', '_') joined by dots, as dhcpd reads a declaration name.
_HOST_NAME = re.compile(r'[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\Z')
_HOSTNAME_OPTION = re.compile(r'[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?\Z')
# Printable ASCII minus what could end a quoted string or a statement (dhcpd) or need a JSON escape (Kea).
_FILENAME = re.compile(r'[!#$%&()*+,\-./0-9:<=>?@A-Z\[\]^_`a-z|~]+\Z')


class HostsError(NetbootError):
    """A host list or binding that must not go live."""


def argument_spec() -> dict:
    """The options of every host-binding module that say which hosts and what to do with them."""
    return dict(
        hosts=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            mac=dict(type='str'),
            ip=dict(type='str'),
            hostname=dict(type='str'),
            filename=dict(type='str'),
            next_server=dict(type='str'),
        )),
        hosts_file=dict(type='path'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        exclusive=dict(type='bool', default=False),
        allow_empty=dict(type='bool', default=False),
    )


@contextmanager
def file_lock(path: str, check_mode: bool) -> Iterator[None]:
    """Serialise the read-check-write of the file ``path`` (lock ``<path>.lock``); a dry run only reads.

    Creating the lock file would already be a change, so check mode takes no lock.
    """
    if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise FileStateError('the directory of %s does not exist' % path)
    if check_mode:
        yield
        return
    with _files.locked(path + '.lock'):
        yield


def where(record: NodeRecord) -> str:
    """``node1 (hosts[3])``: how messages name a host."""
    return '%s (%s)' % (record.name, record.origin) if record.origin else record.name


def parse_owned(content: bytes | None, path: str, parse: Callable[[str, str], list[NodeRecord]]) -> list[NodeRecord]:
    """The bindings in a file a module owns (``content`` as read; None: no file yet), through ``parse``."""
    if content is None:
        return []
    try:
        text = content.decode('ascii')
    except UnicodeDecodeError:
        raise FileStateError('%s holds non-ASCII bytes; this module does not write those' % path) from None
    return parse(text, path)


def load(hosts: object = None, hosts_file: str | None = None, exclusive: bool = False,
         allow_empty: bool = False) -> list[NodeRecord]:
    """The input hosts, inline or from a hosts file; see :func:`refuse_empty`."""
    records = _nodes.load(nodes=hosts, nodes_file=hosts_file, fields=HOST_FIELDS, list_label='hosts')
    refuse_empty(records, 'hosts_file %s' % hosts_file if hosts_file is not None else 'hosts', exclusive, allow_empty)
    return records


def refuse_empty(records: Sequence[NodeRecord], source: str, exclusive: bool, allow_empty: bool) -> None:
    """With ``exclusive`` an empty list means "remove every binding".

    An empty or header-only file is far more often a failed export than that
    wish, so it takes ``allow_empty`` to say so.
    """
    if not records and exclusive and not allow_empty:
        raise HostsError('%s lists no hosts: with exclusive=true that would remove every binding; '
                         'set allow_empty=true if that is really meant' % source)


def check_host_syntax(record: NodeRecord) -> None:
    """Refuse any value that could break out of the dhcpd syntax or the Kea JSON it is written into."""
    if not _HOST_NAME.match(record.name):
        raise HostsError('%s: host name %r is not a valid host name (letters, digits, "-" and "_", '
                         'parts joined by dots)' % (where(record), record.name))
    hostname = record.get('hostname')
    if hostname is not None and (len(hostname) > 253 or not _HOSTNAME_OPTION.match(hostname)):
        raise HostsError('%s: hostname %r may only hold letters, digits, "-", "_" and dots' % (where(record), hostname))
    if hostname is not None and _nodes.check_node_name(hostname):
        raise HostsError('%s: hostname: %s' % (where(record), _nodes.check_node_name(hostname)))
    filename = record.get('filename')
    if filename is not None and not _FILENAME.match(filename):
        raise HostsError('%s: filename %r must be printable ASCII without spaces, quotes, '
                         'backslashes, ";", "{" or "}"' % (where(record), filename))


def normalize_host(record: NodeRecord, need_addresses: bool = True) -> NodeRecord:
    """Check a host's syntax and canonical forms; ``need_addresses``: a binding needs MAC and IP."""
    check_host_syntax(record)
    if need_addresses and (record.mac is None or record.ip is None):
        raise HostsError('%s: a host entry needs both mac and ip' % where(record))
    next_server = record.get('next_server')
    if next_server is not None:
        try:
            canonical = parse_ipv4(next_server)
        except NetbootError as exc:
            raise HostsError('%s: next_server: %s' % (where(record), exc)) from None
        if canonical != next_server:
            extra = dict(record.extra)
            extra['next_server'] = canonical
            record = NodeRecord(name=record.name, ip=record.ip, mac=record.mac, extra=extra, origin=record.origin)
    return record


def same_entry(first: NodeRecord, second: NodeRecord) -> bool:
    return (first.name == second.name and first.mac == second.mac and first.ip == second.ip
            and dict(first.extra) == dict(second.extra))


def by_address(records: Sequence[NodeRecord]) -> list[NodeRecord]:
    """Stable file order (by address, then name), so equal input gives equal bytes."""
    keys = ipv4_to_int_many(record.ip for record in records)
    order = sorted(range(len(records)), key=lambda index: (keys[index], records[index].name))
    return [records[index] for index in order]


@dataclass
class HostsPlan:
    """What one call does to the bindings."""

    records: list[NodeRecord]
    # The input hosts in canonical form (state=present), for the subnet check.
    wanted: list[NodeRecord] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def plan_hosts(existing: Sequence[NodeRecord], wanted: Sequence[NodeRecord], state: str = 'present',
               exclusive: bool = False) -> HostsPlan:
    """Merge ``wanted`` into ``existing`` (or drop it, ``state='absent'``); every conflict is an error.

    Host names are compared case-insensitively, like dhcpd does. Name, MAC and
    IP must be unique in the result: the error names two input hosts, or an
    entry that stays in the file and the input host that clashes with it.
    """
    current = {record.name.lower(): record for record in existing}
    if state == 'absent':
        if exclusive:
            raise HostsError('exclusive only applies to state=present')
        wanted = [normalize_host(record, need_addresses=False) for record in wanted]
        gone = {record.name.lower() for record in wanted}
        removed = sorted(current[key].name for key in gone if key in current)
        return HostsPlan(records=[record for key, record in current.items() if key not in gone], removed=removed)
    if state != 'present':
        raise HostsError('state must be present or absent, got %r' % (state,))
    wanted = [normalize_host(record) for record in wanted]
    plan = HostsPlan(records=[], wanted=list(wanted))
    wanted_keys = {record.name.lower() for record in wanted}
    kept = [record for key, record in current.items() if key not in wanted_keys]
    if exclusive:
        plan.removed = sorted(record.name for record in kept)
        kept = []
    for record in wanted:
        old = current.get(record.name.lower())
        if old is None:
            plan.added.append(record.name)
        elif not same_entry(old, record):
            plan.updated.append(record.name)
    # File entries first: the error then reads "<entry in the file> and <input host>".
    check_unique(kept + list(wanted), ('name', 'mac', 'ip'))
    plan.records = kept + list(wanted)
    plan.added.sort()
    plan.updated.sort()
    return plan


def check_in_subnets(records: Sequence[NodeRecord], networks: Sequence[str], config_path: str) -> None:
    """Every address inside one of ``networks`` (CIDR), and neither its network nor its broadcast address."""
    for index, reason in node_ipv4_problems([record.ip for record in records], networks, 'declared in %s' % config_path):
        raise HostsError('%s: %s' % (where(records[index]), reason))
