# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Kea DHCPv4: the reservations file, the main configuration, ``kea-dhcp4 -t``, the control socket.

The reservations live in a file this collection owns, pulled into the
operator's configuration with Kea's include directive, as the value of
``Dhcp4.reservations`` (global reservations) or of one subnet's
``reservations``::

    "reservations": <?include "/etc/kea/reservations.json"?>,

The host list itself (input, syntax, the merge and its conflict checks) is
``_hosts``, shared with ISC dhcpd. Here: the file's JSON form, reading the
main configuration (JSON with Kea's comments and includes) for its subnets,
its control socket and the reservations it holds itself, the candidate check
with ``kea-dhcp4 -t``, and ``config-reload`` over the control socket, which
applies a new configuration without a restart (leases and the process stay).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.cluster.netboot.plugins.module_utils import _files
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import (
    normalize_mac_many,
    parse_ipv4_many,
    parse_ipv4_network,
)
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError
from ansible_collections.cluster.netboot.plugins.module_utils._hosts import HostsError, by_address, normalize_host
from ansible_collections.cluster.netboot.plugins.module_utils._nodes import NodeRecord, check_unique

DEFAULT_KEA = '/usr/sbin/kea-dhcp4'

HEADER = (
    '// Managed by cluster.netboot.kea_host: one reservation per line, ordered by address.\n'
    '// Edit through the module; an entry it cannot read makes the next run fail, not vanish.\n'
)

# Host fields -> reservation keys, in the order they are written.
_KEYS = (('mac', 'hw-address'), ('ip', 'ip-address'), ('hostname', 'hostname'),
         ('next_server', 'next-server'), ('filename', 'boot-file-name'))
_READ_KEYS = {key for _field, key in _KEYS} | {'user-context'}

# Kea's lexical extras on top of JSON: comments (#, //, /* */) and the include directive.
_KEA_TEXT = re.compile(r'''
    (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<comment>(?://|\#)[^\n]*|/\*.*?\*/)
  | (?P<include><\?include\s*"(?P<path>[^"]*)"\s*\?>)
  | (?P<other>[^"/\#<]+|.)
''', re.VERBOSE | re.DOTALL)

# Stands in for the reservations file while the main configuration is read.
_PLACEHOLDER = '"cluster-netboot: the reservations file"'

# kea-dhcp4 -t logs its progress; only what went wrong is reported.
_KEA_LOG_NOISE = re.compile(r'\d{4}-\d\d-\d\d [0-9:.]+ +(INFO|DEBUG|WARN) |Unable to use interprocess sync lockfile')


class KeaError(HostsError):
    """A Kea configuration, reservation list or candidate that must not go live."""


# ---------------------------------------------------------------------------
# Kea's JSON dialect


def _resolve(include: str) -> str:
    # Kea opens an include as given, relative to its working directory ("/" for
    # the service); the candidate check runs kea-dhcp4 from "/" as well.
    return os.path.normpath(os.path.join('/', include))


def _pieces(text: str) -> Iterable[re.Match[str]]:
    return _KEA_TEXT.finditer(text)


def strip_comments(text: str) -> str:
    """The text without Kea's comments (newlines kept, so JSON errors name the right line)."""
    out = []
    for match in _pieces(text):
        out.append('\n' * match.group().count('\n') if match.lastgroup == 'comment' else match.group())
    return ''.join(out)


def _loads(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise KeaError('%s: not valid Kea JSON: %s' % (source, exc)) from None


def _read_text(path: str) -> str:
    content = _files.read_bytes(path)
    if content is None:
        raise KeaError('cannot read %s: no such file' % path)
    try:
        return content.decode('utf-8')
    except UnicodeDecodeError:
        raise KeaError('%s is not UTF-8 text' % path) from None


def _expand(path: str, hosts_path: str, stack: tuple[str, ...] = ()) -> str:
    """The configuration as one JSON text: comments gone, includes inlined, the hosts file a placeholder."""
    if os.path.realpath(path) in stack:
        raise KeaError('%s includes itself' % path)
    out = []
    for match in _pieces(_read_text(path)):
        if match.lastgroup == 'comment':
            out.append('\n' * match.group().count('\n'))
        elif match.lastgroup == 'include':
            included = _resolve(match.group('path'))
            if included == os.path.normpath(hosts_path):
                out.append(_PLACEHOLDER)
            else:
                out.append(_expand(included, hosts_path, stack + (os.path.realpath(path),)))
        else:
            out.append(match.group())
    return ''.join(out)


# ---------------------------------------------------------------------------
# The reservations file


def render_reservation(record: NodeRecord) -> str:
    """One reservation, one line. Kea's host name is the node's name unless ``hostname`` says otherwise."""
    entry: dict[str, Any] = {}
    for key, name in _KEYS:
        value = record.get(key)
        if key == 'hostname' and value is None:
            value = record.name
        if value is not None:
            entry[name] = value
    if entry['hostname'] != record.name:
        entry['user-context'] = {'name': record.name}
    return json.dumps(entry)


def render_reservations(records: Iterable[NodeRecord]) -> bytes:
    """The whole file: a JSON list in a stable order (by address, then name)."""
    lines = [render_reservation(record) for record in by_address(list(records))]
    body = '[\n%s\n]\n' % ',\n'.join(lines) if lines else '[\n]\n'
    return (HEADER + body).encode('ascii')


def canonical(record: NodeRecord) -> NodeRecord:
    """A host whose ``hostname`` equals its name is the same reservation as one without."""
    if record.get('hostname') != record.name:
        return record
    extra = {key: value for key, value in record.extra.items() if key != 'hostname'}
    return NodeRecord(name=record.name, ip=record.ip, mac=record.mac, extra=extra, origin=record.origin)


def parse_reservations(text: str, source: str) -> list[NodeRecord]:
    """Read a reservations file in the form :func:`render_reservations` writes (layout and comments free).

    Anything else (a key this module does not write, an entry without a MAC)
    is an error naming the entry: dropping a reservation it does not
    understand would silently unbind a node.
    """
    if not strip_comments(text).strip():
        return []
    data = _loads(strip_comments(text), source)
    if not isinstance(data, list):
        raise KeaError('%s: expected a JSON list of reservations' % source)
    found = []
    for index, entry in enumerate(data):
        origin = '%s entry %d' % (source, index + 1)
        if not isinstance(entry, dict):
            raise KeaError('%s: expected a reservation (a JSON object), found %s' % (origin, json.dumps(entry)))
        unknown = sorted(set(entry) - _READ_KEYS)
        if unknown:
            raise KeaError('%s: %s not written by this module' % (origin, ', '.join(unknown)))
        missing = [key for key in ('hw-address', 'ip-address', 'hostname') if key not in entry]
        if missing:
            raise KeaError('%s: needs %s' % (origin, ', '.join(missing)))
        context = entry.get('user-context', {'name': entry['hostname']})
        if not isinstance(context, dict) or set(context) != {'name'}:
            raise KeaError('%s: user-context must be {"name": NAME}' % origin)
        values = {key: entry.get(name) for key, name in _KEYS}
        values['name'] = context['name']
        if not all(isinstance(value, str) for value in values.values() if value is not None):
            raise KeaError('%s: every value must be a string' % origin)
        found.append((origin, values))
    macs = _column(normalize_mac_many, found, 'mac')
    ips = _column(parse_ipv4_many, found, 'ip')
    records = []
    for (origin, values), mac, ip in zip(found, macs, ips):
        extra = {key: values[key] for key in ('hostname', 'next_server', 'filename') if values[key] is not None}
        record = NodeRecord(name=values['name'], ip=ip, mac=mac, extra=extra, origin=origin)
        records.append(canonical(normalize_host(record)))
    check_unique(records, ('name', 'mac', 'ip'))
    return records


def _column(batch: Callable[[Iterable[Any]], list[str]], found: Sequence[tuple[str, dict[str, Any]]], key: str) -> list[str]:
    """``batch`` over one column; on failure, the entry whose value is wrong."""
    try:
        return batch(values[key] for _origin, values in found)
    except NetbootError:
        for origin, values in found:
            try:
                batch([values[key]])
            except NetbootError as exc:
                raise KeaError('%s: %s' % (origin, exc)) from None
        raise


# ---------------------------------------------------------------------------
# The main configuration


@dataclass
class KeaConfig:
    """What the main configuration says about the reservations file."""

    # Where the file is included: 'Dhcp4' (global) or the subnet, e.g. '10.18.0.0/16'.
    scope: str
    # The networks a reserved address may lie in (CIDR).
    networks: list[str] = field(default_factory=list)
    # The UNIX control socket, None when the configuration has none.
    socket: str | None = None
    # Reservations the configuration holds itself (they must not clash with ours).
    others: list[NodeRecord] = field(default_factory=list)


# The legacy reservation-mode -> (reservations-global, reservations-in-subnet).
_RESERVATION_MODES = {'global': (True, False), 'all': (False, True), 'out-of-pool': (False, True),
                      'disabled': (False, False)}


def _flags(scopes: Sequence[dict[str, Any]]) -> tuple[bool, bool]:
    """Effective (reservations-global, reservations-in-subnet), innermost scope first; Kea 2.2 defaults."""
    found: dict[str, bool] = {}
    for scope in scopes:
        mode = scope.get('reservation-mode')
        if mode in _RESERVATION_MODES:
            found.setdefault('reservations-global', _RESERVATION_MODES[mode][0])
            found.setdefault('reservations-in-subnet', _RESERVATION_MODES[mode][1])
        for key in ('reservations-global', 'reservations-in-subnet'):
            if isinstance(scope.get(key), bool):
                found.setdefault(key, scope[key])
    return found.get('reservations-global', False), found.get('reservations-in-subnet', True)


def _subnets(dhcp4: dict[str, Any], config_path: str) -> list[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(CIDR, subnet, enclosing scopes innermost first) for every subnet4, shared networks included."""
    listed = [(subnet, [dhcp4]) for subnet in dhcp4.get('subnet4') or []]
    for network in dhcp4.get('shared-networks') or []:
        if isinstance(network, dict):
            listed.extend((subnet, [network, dhcp4]) for subnet in network.get('subnet4') or [])
    result = []
    for subnet, scopes in listed:
        try:
            cidr = parse_ipv4_network(subnet.get('subnet') if isinstance(subnet, dict) else None)
        except NetbootError as exc:
            raise KeaError('%s: subnet4: %s' % (config_path, exc)) from None
        result.append((cidr, subnet, scopes))
    return result


def _other_reservations(entries: object, where: str) -> list[NodeRecord]:
    records = []
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        origin = '%s reservations[%d]' % (where, index)
        try:
            ip = parse_ipv4_many([entry['ip-address']])[0] if 'ip-address' in entry else None
            mac = normalize_mac_many([entry['hw-address']])[0] if 'hw-address' in entry else None
        except NetbootError as exc:
            raise KeaError('%s: %s' % (origin, exc)) from None
        records.append(NodeRecord(name=str(entry.get('hostname') or 'a reservation'), ip=ip, mac=mac, origin=origin))
    return records


def read_config(config_path: str, hosts_path: str) -> KeaConfig:
    """Read the main configuration: where it includes ``hosts_path``, its subnets, socket and reservations."""
    text = _expand(config_path, hosts_path)
    count = text.count(_PLACEHOLDER)
    if count != 1:
        raise KeaError('%s %s <?include "%s"?>, so Kea would %s' % (
            config_path, 'has no' if count == 0 else 'has more than one', hosts_path,
            'never read the reservations' if count == 0 else 'read the reservations twice'))
    data = _loads(text, '%s (with its includes)' % config_path)
    dhcp4 = data.get('Dhcp4') if isinstance(data, dict) else None
    if not isinstance(dhcp4, dict):
        raise KeaError('%s has no Dhcp4 section' % config_path)
    placeholder = json.loads(_PLACEHOLDER)
    subnets = _subnets(dhcp4, config_path)
    others: list[NodeRecord] = []
    if dhcp4.get('reservations') == placeholder:
        scope = 'Dhcp4'
        networks = [cidr for cidr, subnet, scopes in subnets if _flags([subnet] + scopes)[0]]
        if not networks:
            raise KeaError('%s: Kea ignores global reservations (Dhcp4.reservations) unless reservations-global '
                           'is true; set it in Dhcp4 or in the subnets' % config_path)
    else:
        scope = ''
        networks = []
        others = _other_reservations(dhcp4.get('reservations'), 'Dhcp4')
    for cidr, subnet, scopes in subnets:
        if subnet.get('reservations') == placeholder:
            scope, networks = cidr, [cidr]
            if not _flags([subnet] + scopes)[1]:
                raise KeaError('%s: subnet %s has reservations-in-subnet false: Kea would ignore its '
                               'reservations' % (config_path, cidr))
        else:
            others.extend(_other_reservations(subnet.get('reservations'), 'subnet %s' % cidr))
    if not scope:
        raise KeaError('%s: <?include "%s"?> must be the value of "reservations" in Dhcp4 or in a subnet4 entry'
                       % (config_path, hosts_path))
    control = dhcp4.get('control-socket')
    sock = None
    if isinstance(control, dict) and control.get('socket-type', 'unix') == 'unix' and control.get('socket-name'):
        sock = _resolve(str(control['socket-name']))
    return KeaConfig(scope=scope, networks=networks, socket=sock, others=others)


def check_others(config: KeaConfig, records: Sequence[NodeRecord]) -> None:
    """No MAC or address of ours may also be reserved elsewhere in the configuration."""
    check_unique(list(config.others) + list(records), ('mac', 'ip'))


def point_include(config_text: str, config_path: str, hosts_path: str, candidate_path: str) -> str:
    """The configuration with its include of ``hosts_path`` pointing at ``candidate_path``."""
    target = os.path.normpath(hosts_path)
    pieces = []
    found = False
    for match in _pieces(config_text):
        if match.lastgroup == 'include' and _resolve(match.group('path')) == target:
            pieces.append('<?include "%s"?>' % candidate_path)
            found = True
        else:
            pieces.append(match.group())
    if not found:
        raise KeaError('%s has no <?include "%s"?>, so Kea would never read the reservations' % (config_path, hosts_path))
    return ''.join(pieces)


# ---------------------------------------------------------------------------
# kea-dhcp4 -t

# run(argv, cwd) -> (rc, stdout, stderr); AnsibleModule.run_command fits.
Runner = Callable[..., 'tuple[int, str, str]']


def _kea_message(output: str, replacements: dict[str, str]) -> str:
    lines = []
    for line in output.splitlines():
        if not line.strip() or _KEA_LOG_NOISE.match(line):
            continue
        for temp, real in replacements.items():
            line = line.replace(temp, real)
        lines.append(line.rstrip())
    return '\n'.join(lines)


def check_candidate(run: Runner, hosts_path: str, candidate: bytes, config_path: str,
                    kea_path: str = DEFAULT_KEA) -> None:
    """Run ``kea-dhcp4 -t`` on the whole configuration as it would be with ``candidate`` as the reservations.

    The candidate file and a copy of the main configuration whose include
    points at it are written next to the live files and always removed again.
    """
    if not os.access(kea_path, os.X_OK):
        raise KeaError('%s is not an executable kea-dhcp4: install kea-dhcp4-server, set kea_path, '
                       'or turn validation off' % kea_path)
    with contextlib.ExitStack() as temps:
        candidate_path = temps.enter_context(_files.temp_file(os.path.dirname(os.path.abspath(hosts_path)), candidate))
        config_text = point_include(_read_text(config_path), config_path, hosts_path, candidate_path)
        config_temp = temps.enter_context(_files.temp_file(os.path.dirname(os.path.abspath(config_path)),
                                                           config_text.encode('utf-8')))
        replacements = {candidate_path: '%s (candidate)' % hosts_path, config_temp: config_path}
        rc, out, err = run([kea_path, '-t', config_temp], cwd='/')
        if rc != 0:
            message = _kea_message('%s\n%s' % (out, err), replacements)
            raise KeaError('kea-dhcp4 -t rejected the candidate configuration, nothing was changed:\n%s'
                           % (message or 'exit code %d' % rc))


# ---------------------------------------------------------------------------
# The control socket


def command(socket_path: str, name: str, timeout: float = 30.0) -> dict[str, Any] | None:
    """Send one command to the server's UNIX control socket; None when no server listens there."""
    deadline = time.monotonic() + timeout
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.settimeout(timeout)
        try:
            client.connect(socket_path)
        except (FileNotFoundError, ConnectionRefusedError):
            return None
        client.sendall(json.dumps({'command': name}).encode('ascii'))
        client.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            client.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = client.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as exc:
        raise KeaError('control socket %s: %s: %s' % (socket_path, name, exc)) from None
    finally:
        client.close()
    answer = b''.join(chunks).decode('utf-8', errors='replace')
    try:
        reply = json.loads(answer)
    except ValueError:
        raise KeaError('control socket %s: %s: unreadable answer %r' % (socket_path, name, answer[:200])) from None
    if isinstance(reply, list) and reply:
        reply = reply[0]
    if not isinstance(reply, dict):
        raise KeaError('control socket %s: %s: unreadable answer %r' % (socket_path, name, answer[:200]))
    return reply


def reload(socket_path: str, timeout: float = 30.0) -> bool:
    """``config-reload``: the server re-reads its configuration file; False when no server listens."""
    reply = command(socket_path, 'config-reload', timeout)
    if reply is None:
        return False
    if reply.get('result') != 0:
        raise KeaError('Kea refused the new configuration (config-reload): %s' % reply.get('text', reply))
    return True
