# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ISC dhcpd: host entries, the hosts include file, subnets of the main config, ``dhcpd -t``.

dhcpd's own check (``dhcpd -t``) accepts two hosts with one MAC, two hosts
with one fixed address and fixed addresses outside every subnet; the daemon
then hands out the wrong binding or none at all. Those are checked here,
before anything is written, and ``dhcpd -t`` checks the rest on a candidate
copy of the configuration.

One tokenizer reads both files: the hosts file this collection writes (parsed
strictly, so that nothing is silently dropped) and the operator's main config
(scanned for ``subnet A netmask M {`` and ``include "FILE";``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ansible_collections.cluster.netboot.plugins.module_utils import _files
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import (
    ipv4_to_int_many,
    node_ipv4_problems,
    network_from_mask,
    normalize_mac_many,
    parse_ipv4,
    parse_ipv4_many,
)
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError
from ansible_collections.cluster.netboot.plugins.module_utils._nodes import NodeRecord, check_unique

# The columns a host entry may carry (the node list fields for _nodes.load).
HOST_FIELDS = ('name', 'mac', 'ip', 'hostname', 'filename', 'next_server')

DEFAULT_DHCPD = '/usr/sbin/dhcpd'

HEADER = (
    '# Managed by cluster.netboot.dhcpd_host: one host per line, ordered by address.\n'
    '# Edit through the module; a line it cannot read makes the next run fail, not vanish.\n'
)

# dhcpd reads a host declaration name as NAME tokens (letters, digits, '-', '_') joined by dots.
_HOST_NAME = re.compile(r'[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\Z')
_HOSTNAME_OPTION = re.compile(r'[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?\Z')
# Printable ASCII minus what could end the quoted string or the statement.
_FILENAME = re.compile(r'[!#$%&()*+,\-./0-9:<=>?@A-Z\[\]^_`a-z|~]+\Z')

_TOKEN = re.compile(r'''
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<punct>[{};,])
  | (?P<word>[^\s{};,"\#]+)
  | (?P<bad>.)
''', re.VERBOSE)

# One line of the hosts file exactly as render_host writes it: read without the
# tokenizer, which is what keeps an unchanged 10,000-host rerun fast.
_RENDERED_HOST = re.compile(
    r'host (?P<name>[A-Za-z0-9_.-]+) \{ hardware ethernet (?P<mac>[0-9a-f:]+); fixed-address (?P<ip>[0-9.]+);'
    r'(?: option host-name "(?P<hostname>[^"\\]*)";)?(?: filename "(?P<filename>[^"\\]*)";)?'
    r'(?: next-server (?P<next_server>[0-9.]+);)? \}\Z')
_OPTIONAL_FIELDS = ('hostname', 'filename', 'next_server')

# The lines dhcpd prints around every message; only the message itself is reported.
_DHCPD_BOILERPLATE = (
    'Internet Systems Consortium DHCP Server',
    'Copyright ',
    'All rights reserved.',
    'For info, please visit',
    'If you think you have received this message',
    'than a configuration issue please read',
    'bugs on either our web page',
    'before submitting a bug.',
    'process and the information we find helpful',
    'exiting.',
)


class DhcpdError(NetbootError):
    """A dhcpd configuration, host list or candidate that must not go live."""


class Token(NamedTuple):
    kind: str  # 'word', 'string', 'punct'
    value: str  # for strings: the text between the quotes, as written
    line: int
    start: int
    end: int


def tokenize(text: str, source: str) -> list[Token]:
    """dhcpd's lexical structure, as far as this collection reads it: words, strings, ``{};,``."""
    tokens = []
    line = 1
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == 'space':
            line += match.group().count('\n')
        elif kind == 'comment':
            continue
        elif kind == 'bad':
            if match.group() == '"':
                raise DhcpdError('%s line %d: unterminated string' % (source, line))
            raise DhcpdError('%s line %d: unexpected character %r' % (source, line, match.group()))
        elif kind == 'string':
            tokens.append(Token('string', match.group()[1:-1], line, match.start(), match.end()))
        else:
            tokens.append(Token(kind, match.group(), line, match.start(), match.end()))
    return tokens


# ---------------------------------------------------------------------------
# Host entries


def check_host_syntax(record: NodeRecord) -> None:
    """Refuse any value that could break out of the dhcpd syntax it is written into."""
    where = '%s (%s)' % (record.name, record.origin) if record.origin else record.name
    if not _HOST_NAME.match(record.name):
        raise DhcpdError('%s: host name %r is not a dhcpd host name (letters, digits, "-" and "_", '
                         'parts joined by dots)' % (where, record.name))
    hostname = record.get('hostname')
    if hostname is not None and (len(hostname) > 253 or not _HOSTNAME_OPTION.match(hostname)):
        raise DhcpdError('%s: hostname %r may only hold letters, digits, "-", "_" and dots' % (where, hostname))
    filename = record.get('filename')
    if filename is not None and not _FILENAME.match(filename):
        raise DhcpdError('%s: filename %r must be printable ASCII without spaces, quotes, '
                         'backslashes, ";", "{" or "}"' % (where, filename))


def normalize_host(record: NodeRecord, need_addresses: bool = True) -> NodeRecord:
    """Check a host's syntax and canonical forms; ``need_addresses``: a binding needs MAC and IP."""
    check_host_syntax(record)
    where = '%s (%s)' % (record.name, record.origin) if record.origin else record.name
    if need_addresses and (record.mac is None or record.ip is None):
        raise DhcpdError('%s: a host entry needs both mac and ip' % where)
    next_server = record.get('next_server')
    if next_server is not None:
        try:
            canonical = parse_ipv4(next_server)
        except NetbootError as exc:
            raise DhcpdError('%s: next_server: %s' % (where, exc)) from None
        if canonical != next_server:
            extra = dict(record.extra)
            extra['next_server'] = canonical
            record = NodeRecord(name=record.name, ip=record.ip, mac=record.mac, extra=extra, origin=record.origin)
    return record


def _same_entry(first: NodeRecord, second: NodeRecord) -> bool:
    return (first.name == second.name and first.mac == second.mac and first.ip == second.ip
            and dict(first.extra) == dict(second.extra))


def render_host(record: NodeRecord) -> str:
    statements = ['hardware ethernet %s;' % record.mac, 'fixed-address %s;' % record.ip]
    if record.get('hostname') is not None:
        statements.append('option host-name "%s";' % record.get('hostname'))
    if record.get('filename') is not None:
        statements.append('filename "%s";' % record.get('filename'))
    if record.get('next_server') is not None:
        statements.append('next-server %s;' % record.get('next_server'))
    return 'host %s { %s }\n' % (record.name, ' '.join(statements))


def render_hosts(records: Iterable[NodeRecord]) -> bytes:
    """The whole hosts file: stable order (by address, then name), so equal input gives equal bytes."""
    records = list(records)
    keys = ipv4_to_int_many(record.ip for record in records)
    order = sorted(range(len(records)), key=lambda index: (keys[index], records[index].name))
    ordered = [records[index] for index in order]
    return (HEADER + ''.join(render_host(record) for record in ordered)).encode('ascii')


class _Cursor:
    """Walks a token list, failing with the file and line on anything unexpected."""

    def __init__(self, tokens: Sequence[Token], source: str):
        self.tokens = tokens
        self.source = source
        self.index = 0
        # Prefixed to messages, e.g. 'host node1: ', while inside a declaration.
        self.context = ''

    def at_end(self) -> bool:
        return self.index >= len(self.tokens)

    def fail(self, what: str) -> DhcpdError:
        if self.at_end():
            line = self.tokens[-1].line if self.tokens else 1
            return DhcpdError('%s line %d: %s%s, found the end of the file' % (self.source, line, self.context, what))
        token = self.tokens[self.index]
        shown = '"%s"' % token.value if token.kind == 'string' else token.value
        return DhcpdError('%s line %d: %s%s, found %s' % (self.source, token.line, self.context, what, shown))

    def take(self, kind: str, value: str | None = None, what: str | None = None) -> Token:
        if not self.at_end():
            token = self.tokens[self.index]
            if token.kind == kind and (value is None or token.value == value):
                self.index += 1
                return token
        raise self.fail('expected %s' % (what or value or kind))


_STATEMENTS = {
    # first word -> (words that follow it, field, kind of the value token)
    'hardware': (('ethernet',), 'mac', 'word'),
    'fixed-address': ((), 'ip', 'word'),
    'option': (('host-name',), 'hostname', 'string'),
    'filename': ((), 'filename', 'string'),
    'next-server': ((), 'next_server', 'word'),
}


def parse_hosts(text: str, source: str) -> list[NodeRecord]:
    """Read a hosts file in the form :func:`render_hosts` writes (layout and comments are free).

    Anything else, a statement this module does not write included, is an
    error naming the line: this file is owned by the module, and dropping an
    entry it does not understand would silently unbind a node.
    """
    records = _parse_rendered(text, source)
    if records is None:
        records = _parse_tokens(text, source)
    check_unique(records, ('name', 'mac', 'ip'))
    return records


def _parse_rendered(text: str, source: str) -> list[NodeRecord] | None:
    """The file exactly as render_hosts writes it, line by line; None when it is not."""
    found = []
    for number, line in enumerate(text.split('\n'), 1):
        if not line or line.startswith('#'):
            continue
        match = _RENDERED_HOST.match(line)
        if match is None:
            return None
        found.append((number, match))
    try:
        macs = normalize_mac_many(match.group('mac') for _number, match in found)
        ips = parse_ipv4_many(match.group('ip') for _number, match in found)
    except NetbootError:
        return None  # the tokenizer's parser names the line
    records = []
    for (number, match), mac, ip in zip(found, macs, ips):
        extra = {key: match.group(key) for key in _OPTIONAL_FIELDS if match.group(key) is not None}
        record = NodeRecord(name=match.group('name'), ip=ip, mac=mac, extra=extra, origin='%s line %d' % (source, number))
        records.append(normalize_host(record))
    return records


def _parse_tokens(text: str, source: str) -> list[NodeRecord]:
    cursor = _Cursor(tokenize(text, source), source)
    records = []
    while not cursor.at_end():
        cursor.context = ''
        cursor.take('word', 'host', 'a host declaration (host NAME { ... })')
        name_token = cursor.take('word', what='a host name')
        origin = '%s line %d' % (source, name_token.line)
        cursor.context = 'host %s: ' % name_token.value
        cursor.take('punct', '{')
        values: dict[str, str] = {}
        while True:
            if not cursor.at_end() and cursor.tokens[cursor.index].kind == 'punct' and cursor.tokens[cursor.index].value == '}':
                cursor.index += 1
                break
            if cursor.at_end() or cursor.tokens[cursor.index].kind != 'word' or cursor.tokens[cursor.index].value not in _STATEMENTS:
                raise cursor.fail('expected one of %s or "}"' % ', '.join(sorted(_STATEMENTS)))
            keyword = cursor.take('word').value
            follow, key, value_kind = _STATEMENTS[keyword]
            for word in follow:
                cursor.take('word', word)
            value_token = cursor.take(value_kind, what='a value for %s' % keyword)
            if value_kind == 'string' and '\\' in value_token.value:
                raise DhcpdError('%s line %d: host %s: escaped characters are not written by this module'
                                 % (source, value_token.line, name_token.value))
            if key in values:
                raise DhcpdError('%s line %d: host %s: %s is given twice' % (source, value_token.line, name_token.value, keyword))
            values[key] = value_token.value
            cursor.take('punct', ';')
        if 'mac' not in values or 'ip' not in values:
            raise DhcpdError('%s: host %s needs both hardware ethernet and fixed-address' % (origin, name_token.value))
        try:
            (mac,) = normalize_mac_many([values.pop('mac')])
            (ip,) = parse_ipv4_many([values.pop('ip')])
        except NetbootError as exc:
            raise DhcpdError('%s: host %s: %s' % (origin, name_token.value, exc)) from None
        record = NodeRecord(name=name_token.value, ip=ip, mac=mac, extra=values, origin=origin)
        records.append(normalize_host(record))
    return records


@dataclass
class HostsPlan:
    """What one call does to the hosts file."""

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
            raise DhcpdError('exclusive only applies to state=present')
        wanted = [normalize_host(record, need_addresses=False) for record in wanted]
        gone = {record.name.lower() for record in wanted}
        removed = sorted(current[key].name for key in gone if key in current)
        return HostsPlan(records=[record for key, record in current.items() if key not in gone], removed=removed)
    if state != 'present':
        raise DhcpdError('state must be present or absent, got %r' % (state,))
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
        elif not _same_entry(old, record):
            plan.updated.append(record.name)
    # File entries first: the error then reads "<entry in the file> and <input host>".
    check_unique(kept + list(wanted), ('name', 'mac', 'ip'))
    plan.records = kept + list(wanted)
    plan.added.sort()
    plan.updated.sort()
    return plan


# ---------------------------------------------------------------------------
# The main configuration


def _resolve(include: str) -> str:
    # dhcpd opens an include as given: relative to its working directory, which
    # is "/" for the service. The check below runs dhcpd from "/" as well.
    return os.path.normpath(os.path.join('/', include))


def subnets(config_path: str, skip: Iterable[str] = ()) -> list[str]:
    """Every ``subnet A netmask M`` declared in the config and the files it includes, as CIDR.

    ``skip``: included files not to read (the hosts file being replaced).
    """
    skipped = {os.path.normpath(path) for path in skip}
    found: list[str] = []
    seen: set[str] = set()

    def scan(path: str) -> None:
        real = os.path.realpath(path)
        if real in seen:
            return
        seen.add(real)
        content = _files.read_bytes(path)
        if content is None:
            raise DhcpdError('cannot read %s: no such file' % path)
        try:
            text = content.decode('utf-8')
        except UnicodeDecodeError:
            raise DhcpdError('%s is not UTF-8 text' % path) from None
        tokens = tokenize(text, path)
        for index, token in enumerate(tokens):
            if token.kind != 'word':
                continue
            if token.value == 'subnet':
                window = tokens[index + 1:index + 5]
                if (len(window) != 4 or window[1].kind != 'word' or window[1].value != 'netmask'
                        or window[3].kind != 'punct' or window[3].value != '{'):
                    raise DhcpdError('%s line %d: expected "subnet ADDRESS netmask MASK {"' % (path, token.line))
                try:
                    found.append(network_from_mask(window[0].value, window[2].value))
                except NetbootError as exc:
                    raise DhcpdError('%s line %d: %s' % (path, token.line, exc)) from None
            elif token.value == 'include' and index + 1 < len(tokens) and tokens[index + 1].kind == 'string':
                included = _resolve(tokens[index + 1].value)
                if included not in skipped:
                    scan(included)

    scan(config_path)
    return found


def check_in_subnets(records: Sequence[NodeRecord], networks: Sequence[str], config_path: str) -> None:
    """Every address inside a declared subnet, and neither its network nor its broadcast address."""
    for index, reason in node_ipv4_problems([record.ip for record in records], networks, 'declared in %s' % config_path):
        raise DhcpdError('%s (%s): %s' % (records[index].name, records[index].origin, reason))


def point_include(config_text: str, config_path: str, hosts_path: str, candidate_path: str) -> str:
    """The config with its ``include "<hosts_path>";`` statement(s) pointing at ``candidate_path``."""
    tokens = tokenize(config_text, config_path)
    target = os.path.normpath(hosts_path)
    pieces = []
    position = 0
    for index, token in enumerate(tokens[:-2]):
        following = tokens[index + 1]
        if (token.kind == 'word' and token.value == 'include' and following.kind == 'string'
                and tokens[index + 2].kind == 'punct' and tokens[index + 2].value == ';'
                and _resolve(following.value) == target):
            pieces.append(config_text[position:following.start])
            pieces.append('"%s"' % candidate_path)
            position = following.end
    if not pieces:
        raise DhcpdError('%s has no include "%s"; statement, so dhcpd would never read the host entries'
                         % (config_path, hosts_path))
    pieces.append(config_text[position:])
    return ''.join(pieces)


# ---------------------------------------------------------------------------
# dhcpd -t


def _dhcpd_message(output: str, replacements: dict[str, str]) -> str:
    lines = []
    for line in output.splitlines():
        if not line.strip() or line.startswith(_DHCPD_BOILERPLATE):
            continue
        for temp, real in replacements.items():
            line = line.replace(temp, real)
        lines.append(line.rstrip())
    return '\n'.join(lines)


# run(argv, cwd) -> (rc, stdout, stderr); AnsibleModule.run_command fits.
Runner = Callable[..., 'tuple[int, str, str]']


def check_candidate(run: Runner, hosts_path: str, candidate: bytes, config_path: str | None = None,
                    dhcpd_path: str = DEFAULT_DHCPD) -> None:
    """Run ``dhcpd -t`` on the whole configuration as it would be with ``candidate`` as the hosts file.

    The candidate hosts file and a copy of the main config whose include points
    at it are written next to the live files (same directory, so the same
    access rules and AppArmor profile apply) and always removed again.
    Without a main config, the candidate alone is checked.
    """
    if not os.access(dhcpd_path, os.X_OK):
        raise DhcpdError('%s is not an executable dhcpd: install isc-dhcp-server, set dhcpd_path, '
                         'or turn validation off' % dhcpd_path)
    hosts_dir = os.path.dirname(os.path.abspath(hosts_path))
    temps = []
    try:
        candidate_path = _files.write_temp(hosts_dir, candidate)
        temps.append(candidate_path)
        replacements = {candidate_path: '%s (candidate)' % hosts_path}
        if config_path is None:
            config_dir = hosts_dir
            config_text = 'include "%s";\n' % candidate_path
        else:
            config_dir = os.path.dirname(os.path.abspath(config_path))
            original = _files.read_bytes(config_path)
            if original is None:
                raise DhcpdError('config %s does not exist' % config_path)
            try:
                config_text = point_include(original.decode('utf-8'), config_path, hosts_path, candidate_path)
            except UnicodeDecodeError:
                raise DhcpdError('%s is not UTF-8 text' % config_path) from None
        config_temp = _files.write_temp(config_dir, config_text.encode('utf-8'))
        temps.append(config_temp)
        replacements[config_temp] = config_path or '(the candidate alone)'
        rc, out, err = run([dhcpd_path, '-t', '-4', '-cf', config_temp], cwd='/')
        if rc != 0:
            message = _dhcpd_message('%s\n%s' % (out, err), replacements)
            raise DhcpdError('dhcpd -t rejected the candidate configuration, nothing was changed:\n%s'
                             % (message or 'exit code %d' % rc))
    finally:
        for temp in temps:
            _files.remove(temp)
