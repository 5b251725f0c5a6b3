# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Node lists for the per-node modules: inline, from a file on the managed host, or a range.

10,000 nodes is a normal input. ansible-core spends seconds templating a list
that long before a module runs, so a module can instead read a node file on the
managed host (CSV with a header row, or a YAML/JSON list of mappings) or expand
a NodeSet range with consecutive addresses, and do the per-node work in one pass.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import (
    consecutive_ipv4,
    normalize_mac,
    parse_ipv4,
)
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError, NodeListError

try:
    import yaml
except ImportError:
    HAS_YAML = False
else:
    HAS_YAML = True

BASE_FIELDS = ('name', 'ip', 'mac')


@dataclass(frozen=True)
class NodeRecord:
    """One node: its name, addresses in canonical form, and any extra columns."""

    name: str
    ip: str | None = None
    mac: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    # Where the node came from ('nodes[3]', 'nodes.csv line 5'), for error messages.
    origin: str = ''

    def get(self, key: str) -> str | None:
        if key in BASE_FIELDS:
            return getattr(self, key)
        return self.extra.get(key)


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _make_record(raw: Mapping[str, object], fields: Sequence[str], origin: str) -> NodeRecord:
    unknown = sorted(str(key) for key in raw if key not in fields)
    if unknown:
        raise NodeListError('%s: unknown field(s) %s; allowed: %s' % (origin, ', '.join(unknown), ', '.join(fields)))
    name = _clean(raw.get('name'))
    if name is None:
        raise NodeListError('%s: every node needs a name' % origin)
    if any(char.isspace() or ord(char) < 32 for char in name):
        raise NodeListError('%s: node name %r contains white space or control characters' % (origin, name))
    try:
        ip = parse_ipv4(raw['ip']) if _clean(raw.get('ip')) else None
        mac = normalize_mac(raw['mac']) if _clean(raw.get('mac')) else None
    except NetbootError as exc:
        raise NodeListError('%s (%s): %s' % (origin, name, exc)) from None
    extra = {}
    for key in fields:
        if key in BASE_FIELDS:
            continue
        value = _clean(raw.get(key))
        if value is not None:
            extra[key] = value
    return NodeRecord(name=name, ip=ip, mac=mac, extra=extra, origin=origin)


def from_list(items: object, fields: Sequence[str] = BASE_FIELDS, label: str = 'nodes') -> list[NodeRecord]:
    if not isinstance(items, list):
        raise NodeListError('%s must be a list of mappings' % label)
    records = []
    for index, item in enumerate(items):
        origin = '%s[%d]' % (label, index)
        if not isinstance(item, Mapping):
            raise NodeListError('%s: expected a mapping with %s, got %r' % (origin, '/'.join(fields), item))
        records.append(_make_record(item, fields, origin))
    return records


def _parse_csv(text: str, fields: Sequence[str], path: str) -> list[NodeRecord]:
    # Comment and blank lines are skipped but still counted, so errors name the real line.
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith('#')]
    if not lines:
        return []
    header_number, header_line = lines[0]
    header = [column.strip().lower() for column in next(csv.reader([header_line]))]
    unknown = [column for column in header if column not in fields]
    if unknown or 'name' not in header or len(set(header)) != len(header):
        raise NodeListError(
            '%s line %d: the header row must name the columns, among %s, including name; got %s'
            % (path, header_number, ', '.join(fields), ', '.join(header)))
    records = []
    reader = csv.reader(io.StringIO('\n'.join(line for _number, line in lines[1:])))
    for (number, _line), row in zip(lines[1:], reader):
        origin = '%s line %d' % (path, number)
        if len(row) > len(header):
            raise NodeListError('%s: %d columns, the header has %d' % (origin, len(row), len(header)))
        records.append(_make_record(dict(zip(header, row)), fields, origin))
    return records


def from_file(path: str, fields: Sequence[str] = BASE_FIELDS) -> list[NodeRecord]:
    """Read a node file: CSV with a header row, or a YAML or JSON list of mappings."""
    try:
        with open(path, 'rb') as handle:
            text = handle.read().decode('utf-8-sig')
    except (OSError, UnicodeDecodeError) as exc:
        raise NodeListError('cannot read node file %s: %s' % (path, exc)) from None
    extension = os.path.splitext(path)[1].lower()
    stripped = text.lstrip()
    if extension == '.json' or (extension not in ('.csv', '.yml', '.yaml') and stripped.startswith('[')):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise NodeListError('%s: invalid JSON: %s' % (path, exc)) from None
    elif extension in ('.yml', '.yaml') or (extension != '.csv' and stripped.startswith('-')):
        if not HAS_YAML:
            raise NodeListError('%s: reading YAML node files needs PyYAML on the managed host; use CSV or JSON' % path)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise NodeListError('%s: invalid YAML: %s' % (path, exc)) from None
    else:
        return _parse_csv(text, fields, path)
    if data is None:
        return []
    return from_list(data, fields, label=path)


def from_nodeset(pattern: str, ip_start: str | None = None) -> list[NodeRecord]:
    """``node[1-400]`` with ``ip_start: 10.10.0.1``: consecutive addresses in range order."""
    names = _nodeset.expand(pattern)
    if ip_start is None:
        return [NodeRecord(name=name, origin='nodeset %s' % name) for name in names]
    addresses = consecutive_ipv4(ip_start, len(names))
    return [NodeRecord(name=name, ip=ip, origin='nodeset %s' % name) for name, ip in zip(names, addresses)]


def load(nodes: object = None, nodes_file: str | None = None, nodeset: str | None = None,
         ip_start: str | None = None, fields: Sequence[str] = BASE_FIELDS,
         list_label: str = 'nodes') -> list[NodeRecord]:
    """Exactly one source: an inline list, a node file, or a range (with optional ip_start)."""
    given = [label for label, value in ((list_label, nodes), ('%s_file' % list_label, nodes_file),
                                        ('nodeset', nodeset)) if value is not None]
    if len(given) != 1:
        raise NodeListError('give exactly one of %s_file, %s or nodeset (got %s)'
                            % (list_label, list_label, ', '.join(given) or 'none'))
    if ip_start is not None and nodeset is None:
        raise NodeListError('ip_start only goes with nodeset')
    if nodes is not None:
        return from_list(nodes, fields, label=list_label)
    if nodes_file is not None:
        return from_file(nodes_file, fields)
    return from_nodeset(nodeset, ip_start)


def check_unique(records: Iterable[NodeRecord], keys: Sequence[str] = BASE_FIELDS) -> None:
    """Two nodes with the same name, IP or MAC in one call is an error naming both."""
    seen: dict[tuple[str, str], NodeRecord] = {}
    for record in records:
        for key in keys:
            value = record.get(key)
            if value is None:
                continue
            first = seen.setdefault((key, value.lower()), record)
            if first is not record:
                raise NodeListError('duplicate %s %s: %s (%s) and %s (%s)'
                                    % (key, value, first.name, first.origin, record.name, record.origin))
