# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Node discovery on the console: read what unknown nodes reported, name them, extend the node file.

The imaging ramdisk in discovery mode (``cnb.mode=discover``) posts one facts
document per machine to the run's report receiver, which keeps the first one
per boot MAC as ``<run dir>/facts/<mac>.txt`` (its mtime is the arrival). The
document is text, one fact per line, fields separated by tabs::

    boot    eth0    52:54:00:12:34:56
    nic     eth0    52:54:00:12:34:56   up
    cpu     2       QEMU Virtual CPU version 2.5+
    memory  1015808                      (KiB, MemTotal)
    dimm    1024                         (MiB, one per installed memory device, SMBIOS type 17)
    disk    vda     10737418240     <model>     <serial>
    dmi     product_serial  ABC123
    bmc     kcs     0xca2                (SMBIOS type 38, when the firmware has one)

The machines are named in order of arrival - from a node range with
consecutive addresses, or from a list (a node file) that binds each name to a
MAC or to a system serial - and appended to a CSV node file (``name,ip,mac``)
that the per-node modules and the inventory plugin read as they are. A machine
seen twice (two reports sharing a MAC) is one node; a MAC, name or address the
node file already binds otherwise is a conflict, never an overwrite.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ansible_collections.cluster.netboot.plugins.module_utils import _nodes
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import normalize_mac
from ansible_collections.cluster.netboot.plugins.module_utils._errors import DiscoveryError, NetbootError, NodeListError

FACTS_DIR = 'facts'
FACTS_SUFFIX = '.txt'
# Where the report receiver (module_utils/_report_receiver.py, posted_path) keeps a node's console log.
LOGS_DIR = 'logs'
# The columns of a naming list: a name, an address, and the MAC or the system serial it belongs to.
NAMING_FIELDS = ('name', 'ip', 'mac', 'serial')
DMI_KEYS = ('sys_vendor', 'product_name', 'product_serial', 'product_uuid', 'board_vendor', 'board_name',
            'board_serial', 'chassis_serial', 'bios_vendor', 'bios_version')
BMC_INTERFACES = ('kcs', 'smic', 'bt', 'ssif', 'unknown')


@dataclass(frozen=True)
class Machine:
    """One machine's report: its boot MAC, every NIC's MAC, its system serial and its facts (JSON-able)."""

    mac: str
    macs: tuple[str, ...]
    serial: str | None
    facts: Mapping[str, object]
    origin: str = ''


def _number(value: str, what: str, origin: str) -> int:
    if not value.isdigit():
        raise DiscoveryError('%s: %s %r is not a number' % (origin, what, value))
    return int(value)


def _mac(value: str, origin: str) -> str:
    try:
        return normalize_mac(value)
    except NetbootError as exc:
        raise DiscoveryError('%s: %s' % (origin, exc)) from None


def parse_facts(text: str, origin: str) -> Machine:
    """One facts document (see the module docstring) -> a :class:`Machine`; a malformed one is a DiscoveryError."""
    boot_mac = boot_nic = None
    nics: list[dict[str, object]] = []
    disks: list[dict[str, object]] = []
    system: dict[str, str] = {}
    cpu: dict[str, object] = {}
    memory = None
    dimms: list[int] = []
    bmc = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = '%s line %d' % (origin, number)
        key, *values = [value.strip() for value in line.split('\t')]
        if key == 'boot' and len(values) == 2:
            boot_nic, boot_mac = values[0], _mac(values[1], where)
        elif key == 'nic' and len(values) == 3:
            nics.append({'name': values[0], 'mac': _mac(values[1], where), 'link': values[2] or 'unknown'})
        elif key == 'cpu' and len(values) == 2:
            cpu = {'count': _number(values[0], 'cpu count', where), 'model': values[1]}
        elif key == 'memory' and len(values) == 1:
            memory = _number(values[0], 'memory', where) * 1024
        elif key == 'dimm' and len(values) == 1:
            dimms.append(_number(values[0], 'memory device size', where))
        elif key == 'disk' and len(values) == 4:
            disks.append({'name': values[0], 'bytes': _number(values[1], 'disk size', where),
                          'model': values[2], 'serial': values[3]})
        elif key == 'dmi' and len(values) == 2 and values[0] in DMI_KEYS:
            system[values[0]] = values[1]
        elif key == 'bmc' and len(values) == 2 and values[0] in BMC_INTERFACES:
            bmc = {'interface': values[0], 'address': values[1]}
        else:
            raise DiscoveryError('%s: not a discovery fact: %r' % (where, line[:200]))
    if boot_mac is None:
        raise DiscoveryError('%s: no boot NIC (a "boot" line)' % origin)
    macs = tuple(dict.fromkeys([boot_mac] + [str(nic['mac']) for nic in nics]))
    serial = system.get('product_serial') or None
    facts = {'boot_nic': boot_nic, 'boot_mac': boot_mac, 'nics': nics, 'cpu': cpu, 'memory_bytes': memory,
             'memory_installed_bytes': sum(dimms) * 1024 * 1024 if dimms else None, 'disks': disks,
             'system': system, 'bmc': bmc}
    return Machine(mac=boot_mac, macs=macs, serial=serial, facts=facts, origin=origin)


def facts_dir(run_dir: str) -> str:
    return os.path.join(run_dir, FACTS_DIR)


def log_path(run_dir: str, mac: str) -> str:
    """The console log a machine sent at its end: ``<run dir>/logs/52-54-00-12-34-56.log``."""
    return os.path.join(run_dir, LOGS_DIR, mac.replace(':', '-') + '.log')


def report_files(run_dir: str) -> list[str]:
    """The facts documents of a run, in order of arrival (mtime, then name)."""
    directory = facts_dir(run_dir)
    try:
        names = [name for name in os.listdir(directory) if name.endswith(FACTS_SUFFIX) and not name.startswith('.')]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise DiscoveryError('cannot read %s: %s' % (directory, exc)) from None
    paths = [os.path.join(directory, name) for name in names]
    return sorted(paths, key=lambda path: (os.stat(path).st_mtime, path))


def read_machines(paths: Iterable[str]) -> tuple[list[Machine], list[dict[str, str]]]:
    """The machines of these documents, a machine seen twice (a MAC in two reports) once; and the unreadable ones."""
    machines: list[Machine] = []
    rejected: list[dict[str, str]] = []
    owner: dict[str, Machine] = {}
    for path in paths:
        try:
            with open(path, 'rb') as handle:
                machine = parse_facts(handle.read().decode('utf-8', errors='replace'), os.path.basename(path))
        except OSError as exc:
            rejected.append({'report': os.path.basename(path), 'reason': 'cannot read: %s' % exc})
            continue
        except DiscoveryError as exc:
            rejected.append({'report': os.path.basename(path), 'reason': str(exc)})
            continue
        if any(mac in owner for mac in machine.macs):
            continue  # the same machine again, booted from another of its NICs
        machines.append(machine)
        for mac in machine.macs:
            owner[mac] = machine
    return machines, rejected


@dataclass
class Naming:
    """How machines get names: ``range`` (in order of arrival), ``mac`` or ``serial`` (from a list)."""

    by: str
    candidates: list[_nodes.NodeRecord]
    entries: dict[str, _nodes.NodeRecord] = field(default_factory=dict)


def naming_from_range(pattern: str, ip_start: str | None, max_nodes: int) -> Naming:
    return Naming('range', _nodes.from_nodeset(pattern, ip_start, max_nodes))


def naming_from_list(records: Sequence[_nodes.NodeRecord]) -> Naming:
    """A naming list (inline or a node file with ``name`` and ``mac`` or ``serial``): one key for all rows."""
    keys = {('mac' if record.mac else '') + ('serial' if record.get('serial') else '') for record in records}
    if not records:
        raise NodeListError('the naming list is empty')
    if keys not in ({'mac'}, {'serial'}):
        raise NodeListError('every entry of the naming list needs either a mac or a serial, all the same one '
                            '(got %s)' % ', '.join(sorted(key or 'neither' for key in keys)))
    by = keys.pop()
    _nodes.check_unique(records, ('name', 'ip', 'mac', 'serial'))
    entries = {(record.mac if by == 'mac' else record.get('serial')) or '': record for record in records}
    return Naming(by, list(records), entries)


@dataclass
class Plan:
    nodes: list[dict[str, object]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    unnamed: list[dict[str, str]] = field(default_factory=list)

    @property
    def new(self) -> list[dict[str, object]]:
        return [node for node in self.nodes if node['status'] == 'new']


def plan(existing: Sequence[_nodes.NodeRecord], machines: Sequence[Machine], naming: Naming) -> Plan:
    """Name every machine, in order; nothing in ``existing`` is ever changed, a contradiction is a conflict."""
    result = Plan()
    by_mac = {record.mac: record for record in existing if record.mac}
    taken_names = {record.name: record for record in existing}
    taken_ips = {record.ip: record for record in existing if record.ip}
    assigned: dict[str, str] = {}  # name -> MAC, this run
    free = iter(naming.candidates)
    for machine in machines:
        known = list({by_mac[mac].name: by_mac[mac] for mac in machine.macs if mac in by_mac}.values())
        if len(known) > 1:
            result.conflicts.append('%s (MAC %s): its MACs are bound to several nodes in the node file: %s'
                                    % (machine.origin, machine.mac, ', '.join(record.name for record in known)))
            continue
        if naming.by == 'range':
            if known:
                entry = known[0]
            else:
                entry = next((record for record in free if record.name not in taken_names
                              and record.name not in assigned and (record.ip is None or record.ip not in taken_ips)),
                             None)
                if entry is None:
                    result.unnamed.append({'mac': machine.mac, 'reason': 'the node range has no free name left'})
                    continue
        else:
            key = machine.serial if naming.by == 'serial' else next(
                (mac for mac in machine.macs if mac in naming.entries), machine.mac)
            entry = naming.entries.get(key or '')
            if entry is None:
                result.unnamed.append({'mac': machine.mac, 'reason': 'no entry in the naming list for its %s %s'
                                       % (naming.by, key or '(none reported)')})
                continue
        if known:
            record = known[0]
            if record.name != entry.name:
                result.conflicts.append('MAC %s is bound to %s in the node file; the naming list names it %s'
                                        % (record.mac, record.name, entry.name))
            elif entry.ip and record.ip != entry.ip:
                result.conflicts.append('%s has the address %s in the node file; the naming list gives %s'
                                        % (record.name, record.ip or 'none', entry.ip))
            else:
                result.nodes.append({'name': record.name, 'ip': record.ip, 'mac': record.mac, 'status': 'known',
                                     'facts': machine.facts})
            continue
        other = taken_names.get(entry.name)
        if other is not None:
            result.conflicts.append('%s is bound to MAC %s in the node file; %s reported MAC %s'
                                    % (entry.name, other.mac or 'none', machine.origin, machine.mac))
            continue
        if entry.name in assigned:
            result.conflicts.append('%s would name two machines: MAC %s and MAC %s'
                                    % (entry.name, assigned[entry.name], machine.mac))
            continue
        if entry.ip and entry.ip in taken_ips:
            result.conflicts.append('%s: the address %s belongs to %s in the node file'
                                    % (entry.name, entry.ip, taken_ips[entry.ip].name))
            continue
        assigned[entry.name] = machine.mac
        if entry.ip:
            taken_ips[entry.ip] = _nodes.NodeRecord(name=entry.name, ip=entry.ip, mac=machine.mac)
        result.nodes.append({'name': entry.name, 'ip': entry.ip, 'mac': machine.mac, 'status': 'new',
                             'facts': machine.facts})
    return result


def node_file_content(path: str, before: bytes | None, new: Sequence[Mapping[str, object]]) -> bytes:
    """The node file with ``new`` appended as CSV rows; the existing bytes stay as they are."""
    text = before.decode('utf-8-sig') if before is not None else ''
    if _nodes.file_format(path, text) != 'csv':
        raise NodeListError('%s: discovery appends to CSV node files (name,ip,mac); this one is not CSV' % path)
    columns = _nodes.csv_columns(text)
    if columns is None:
        columns = ['name', 'ip', 'mac']
        text = (text + ('' if not text or text.endswith('\n') else '\n')) + 'name,ip,mac\n'
        prefix = text.encode('utf-8')
    else:
        missing = [key for key in ('name', 'mac') + (('ip',) if any(node.get('ip') for node in new) else ())
                   if key not in columns]
        if missing:
            raise NodeListError('%s: the header row has no %s column' % (path, ', '.join(missing)))
        prefix = before or b''
        if prefix and not prefix.endswith(b'\n'):
            prefix += b'\n'
    if not new:
        return before or b''
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator='\n')
    for node in new:
        writer.writerow([node.get(column) or '' for column in columns])
    return prefix + rows.getvalue().encode('utf-8')


def facts_file_content(path: str, before: bytes | None, nodes: Sequence[Mapping[str, object]]) -> bytes:
    """The facts file (a JSON mapping, node name -> facts) with these nodes' facts set; other nodes kept."""
    data: dict[str, object] = {}
    if before:
        try:
            data = json.loads(before.decode('utf-8'))
        except ValueError as exc:
            raise DiscoveryError('%s: invalid JSON: %s' % (path, exc)) from None
        if not isinstance(data, dict):
            raise DiscoveryError('%s: expected a JSON mapping of node name to facts' % path)
    for node in nodes:
        data[str(node['name'])] = dict(node['facts'], mac=node['mac'], ip=node.get('ip'))  # type: ignore[call-overload]
    after = (json.dumps(data, indent=2, sort_keys=True) + '\n').encode('utf-8')
    if before is not None and json.loads(before.decode('utf-8') or 'null') == data:
        return before
    return after
