# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Node lists for the per-node modules: inline, from a file on the managed host, or a range.

10,000 nodes is a normal input. ansible-core spends seconds templating a list
that long before a module runs, so a module can instead read a node file on the
managed host (CSV with a header row, or a YAML/JSON list of mappings) or expand
a NodeSet range with consecutive addresses, and do the per-node work in one pass.

The per-node modules share their node-source options through this module too
(:func:`argument_spec`, :data:`ARGUMENT_RULES`, :func:`check_libraries`,
:func:`from_params`), so that the options and their checks exist once.
"""

from __future__ import annotations

import csv
import gc
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import (
    HAS_NETADDR,
    NETADDR_IMPORT_ERROR,
    consecutive_ipv4,
    node_ipv4_problems,
    normalize_mac,
    normalize_mac_many,
    parse_ipv4,
    parse_ipv4_many,
)
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError, NodeListError

BASE_FIELDS = ('name', 'ip', 'mac')
_ADDRESS_FIELDS = {'ip', 'mac'}
_RANGE_SYNTAX = re.compile('[%s]' % re.escape(_nodeset.RANGE_SYNTAX))


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


def check_node_name(name: str) -> str | None:
    """What makes ``name`` no node name, or None.

    Refused: white space, control characters, names over the DNS length limits,
    and the characters a node range reads as syntax (``,[]!&^@``): such a name
    could not be written in a ``nodeset`` option or a module's folded result.
    """
    if len(name) <= 63 and name.isprintable() and ' ' not in name and not _RANGE_SYNTAX.search(name):
        return None  # the common case, fast for a million names from a range
    if any(char.isspace() or ord(char) < 32 for char in name):
        return 'node name %r contains white space or control characters' % (name,)
    if _RANGE_SYNTAX.search(name):
        return ('node name %r contains %r, which a node range reads as syntax (no node name holds any of %s)'
                % (name, _RANGE_SYNTAX.search(name).group(), _nodeset.RANGE_SYNTAX))
    if len(name) > 63:
        if len(name) > 253:
            return 'node name %r has %d characters; at most 253 make a host name' % (name, len(name))
        longest = max(name.split('.'), key=len)
        if len(longest) > 63:
            return ('node name %r has a part of %d characters; at most 63 make a host name label'
                    % (name, len(longest)))
    return None


def _checked_row(raw: Mapping[str, object], fields: Sequence[str], origin: str) -> tuple[str, dict[str, str]]:
    """The row's name and its other fields (raw ip and mac text included), cleaned; no address parsed yet."""
    unknown = sorted(str(key) for key in raw if key not in fields)
    if unknown:
        raise NodeListError('%s: unknown field(s) %s; allowed: %s' % (origin, ', '.join(unknown), ', '.join(fields)))
    name = _clean(raw.get('name'))
    if name is None:
        raise NodeListError('%s: every node needs a name' % origin)
    problem = check_node_name(name)
    if problem:
        raise NodeListError('%s: %s' % (origin, problem))
    values = {}
    for key in fields:
        if key == 'name':
            continue
        # A MAC keeps its type: 1 (a YAML number) is refused as a number, not read as "1".
        value = raw.get(key) if key == 'mac' and isinstance(raw.get(key), int) else _clean(raw.get(key))
        if value is not None:
            values[key] = value
    return name, values


def _canonical(rows: list[tuple[str, dict, str]], key: str, many: Callable[[list[object]], list[str]],
               single: Callable[[object], str]) -> dict[int, str]:
    """Row index -> canonical ``key`` address, through the fast whole-list path; errors name the row."""
    indices = [index for index, (_name, values, _origin) in enumerate(rows) if key in values]
    try:
        return dict(zip(indices, many([rows[index][1][key] for index in indices])))
    except NetbootError:
        # Only on the error path: find the first bad row to name it.
        for index in indices:
            name, values, origin = rows[index]
            try:
                single(values[key])
            except NetbootError as exc:
                raise NodeListError('%s (%s): %s' % (origin, name, exc)) from None
        raise


def _make_records(rows: list[tuple[str, dict, str]], networks: Sequence[str] | None = None) -> list[NodeRecord]:
    ips = _canonical(rows, 'ip', parse_ipv4_many, parse_ipv4)
    macs = _canonical(rows, 'mac', normalize_mac_many, normalize_mac)
    with_ip = sorted(ips)
    for position, reason in node_ipv4_problems([ips[index] for index in with_ip], networks):
        name, _values, origin = rows[with_ip[position]]
        raise NodeListError('%s (%s): %s' % (origin, name, reason))
    records = []
    for index, (name, values, origin) in enumerate(rows):
        extra = {} if values.keys() <= _ADDRESS_FIELDS else {
            key: value for key, value in values.items() if key not in BASE_FIELDS}
        # Positional: a frozen dataclass takes a third longer with keywords (10,000 records).
        records.append(NodeRecord(name, ips.get(index), macs.get(index), extra, origin))
    return records


def from_list(items: object, fields: Sequence[str] = BASE_FIELDS, label: str = 'nodes',
              networks: Sequence[str] | None = None) -> list[NodeRecord]:
    if not isinstance(items, list):
        raise NodeListError('%s must be a list of mappings' % label)
    rows = []
    for index, item in enumerate(items):
        origin = '%s[%d]' % (label, index)
        if not isinstance(item, Mapping):
            raise NodeListError('%s: expected a mapping with %s, got %r' % (origin, '/'.join(fields), item))
        rows.append(_checked_row(item, fields, origin) + (origin,))
    return _make_records(rows, networks)


def _csv_lines(text: str) -> list[tuple[int, str]]:
    # Comment and blank lines are skipped but still counted, so errors name the real line.
    return [(number, line) for number, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith('#')]


def _csv_header(line: str) -> list[str]:
    return [column.strip().lower() for column in next(csv.reader([line]))]


def csv_columns(text: str) -> list[str] | None:
    """The columns a CSV node file's header row names, in order; None for a file without rows."""
    lines = _csv_lines(text)
    return _csv_header(lines[0][1]) if lines else None


def _parse_csv(text: str, fields: Sequence[str], path: str, networks: Sequence[str] | None) -> list[NodeRecord]:
    lines = _csv_lines(text)
    if not lines:
        return []
    header_number, header_line = lines[0]
    header = _csv_header(header_line)
    unknown = [column for column in header if column not in fields]
    if unknown or 'name' not in header or len(set(header)) != len(header):
        raise NodeListError(
            '%s line %d: the header row must name the columns, among %s, including name; got %s'
            % (path, header_number, ', '.join(fields), ', '.join(header)))
    # Column by column rather than a dict per row: the header already names only known fields.
    name_column = header.index('name')
    others = [(column, key) for column, key in enumerate(header) if key != 'name']
    rows = []
    for (number, _line), row in zip(lines[1:], csv.reader(line for _number, line in lines[1:])):
        if len(row) > len(header):
            raise NodeListError('%s line %d: %d columns, the header has %d' % (path, number, len(row), len(header)))
        name = row[name_column].strip() if name_column < len(row) else ''
        if not name:
            raise NodeListError('%s line %d: every node needs a name' % (path, number))
        problem = check_node_name(name)
        if problem:
            raise NodeListError('%s line %d: %s' % (path, number, problem))
        values = {}
        for column, key in others:
            if column < len(row):
                value = row[column].strip()
                if value:
                    values[key] = value
        rows.append((name, values, '%s line %d' % (path, number)))
    return _make_records(rows, networks)


def read_text(path: str) -> str:
    """A node file's text: UTF-8, a byte order mark (as editors on Windows write one) dropped."""
    with open(path, 'rb') as handle:
        return handle.read().decode('utf-8-sig')


def file_format(path: str, text: str) -> str:
    """How a node file is read: ``json``, ``yaml`` or ``csv``, from its extension, else its first character."""
    extension = os.path.splitext(path)[1].lower()
    stripped = text.lstrip()
    if extension == '.json' or (extension not in ('.csv', '.yml', '.yaml') and stripped.startswith('[')):
        return 'json'
    if extension in ('.yml', '.yaml') or (extension != '.csv' and stripped.startswith('-')):
        return 'yaml'
    return 'csv'


def from_file(path: str, fields: Sequence[str] = BASE_FIELDS, networks: Sequence[str] | None = None) -> list[NodeRecord]:
    """Read a node file: CSV with a header row, or a YAML or JSON list of mappings."""
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise NodeListError('cannot read node file %s: %s' % (path, exc)) from None
    return from_text(text, path, fields, networks)


def from_text(text: str, path: str, fields: Sequence[str] = BASE_FIELDS,
              networks: Sequence[str] | None = None) -> list[NodeRecord]:
    """:func:`from_file` on text already read from ``path`` (whose name tells the format)."""
    kind = file_format(path, text)
    if kind == 'json':
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise NodeListError('%s: invalid JSON: %s' % (path, exc)) from None
    elif kind == 'yaml':
        # Imported here: a CSV or JSON run does not pay for PyYAML's import (5 ms of every run).
        try:
            import yaml
        except ImportError:
            raise NodeListError('%s: reading YAML node files needs PyYAML on the managed host; use CSV or JSON' % path) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise NodeListError('%s: invalid YAML: %s' % (path, exc)) from None
    else:
        return _parse_csv(text, fields, path, networks)
    if data is None:
        return []
    return from_list(data, fields, label=path, networks=networks)


def from_nodeset(pattern: str, ip_start: str | None = None, max_nodes: int = _nodeset.DEFAULT_MAX_NODES,
                 networks: Sequence[str] | None = None) -> list[NodeRecord]:
    """``node[1-400]`` with ``ip_start: 10.10.0.1``: consecutive addresses in range order."""
    names = _nodeset.expand(pattern, max_nodes)
    for name in names:
        problem = check_node_name(name)
        if problem:
            raise NodeListError('nodeset %s: %s' % (pattern, problem))
    if ip_start is None:
        return [NodeRecord(name=name, origin='nodeset %s' % name) for name in names]
    addresses = consecutive_ipv4(ip_start, len(names))
    for index, reason in node_ipv4_problems(addresses, networks):
        raise NodeListError('nodeset %s (%s): %s' % (names[index], names[index], reason))
    return [NodeRecord(name=name, ip=ip, origin='nodeset %s' % name) for name, ip in zip(names, addresses)]


def load(nodes: object = None, nodes_file: str | None = None, nodeset: str | None = None,
         ip_start: str | None = None, fields: Sequence[str] = BASE_FIELDS,
         list_label: str = 'nodes', max_nodes: int = _nodeset.DEFAULT_MAX_NODES,
         networks: Sequence[str] | None = None) -> list[NodeRecord]:
    """Exactly one source: an inline list, a node file, or a range (with optional ip_start).

    Every address is checked with :func:`node_ipv4_problems` (against ``networks``
    when given); a range may name at most ``max_nodes`` nodes.
    """
    given = [label for label, value in ((list_label, nodes), ('%s_file' % list_label, nodes_file),
                                        ('nodeset', nodeset)) if value is not None]
    if len(given) != 1:
        raise NodeListError('give exactly one of %s_file, %s or nodeset (got %s)'
                            % (list_label, list_label, ', '.join(given) or 'none'))
    if ip_start is not None and nodeset is None:
        raise NodeListError('ip_start only goes with nodeset')
    if max_nodes < 1:
        raise NodeListError('max_nodes must be at least 1, got %d' % max_nodes)
    if nodes is not None:
        return from_list(nodes, fields, label=list_label, networks=networks)
    if nodes_file is not None:
        return from_file(nodes_file, fields, networks)
    return from_nodeset(nodeset, ip_start, max_nodes, networks)


def argument_spec() -> dict[str, dict]:
    """The node-source options of a per-node module (documented in the ``nodes`` doc fragment)."""
    return dict(
        # The per-node keys are checked here (unknown keys, names, addresses): an argument spec with
        # suboptions costs ansible-core tens of microseconds per node on 10,000 nodes.
        nodes=dict(type='list', elements='dict'),
        nodes_file=dict(type='path'),
        nodeset=dict(type='str'),
        ip_start=dict(type='str'),
        max_nodes=dict(type='int', default=_nodeset.DEFAULT_MAX_NODES),
    )


# AnsibleModule(..., **ARGUMENT_RULES): exactly one source, ip_start only with a range.
ARGUMENT_RULES = dict(
    mutually_exclusive=[('nodes', 'nodes_file', 'nodeset')],
    required_one_of=[('nodes', 'nodes_file', 'nodeset')],
    required_by={'ip_start': 'nodeset'},
)


def check_libraries(module: AnsibleModule) -> None:
    """Fail the module when a library the chosen node source needs is missing."""
    if not HAS_NETADDR:
        module.fail_json(msg=missing_required_lib('netaddr'), exception=NETADDR_IMPORT_ERROR)
    if module.params['nodeset'] is not None and not _nodeset.HAS_CLUSTERSHELL:
        module.fail_json(msg=missing_required_lib('ClusterShell'), exception=_nodeset.CLUSTERSHELL_IMPORT_ERROR)


def from_params(params: Mapping[str, object], fields: Sequence[str] = BASE_FIELDS,
                networks: Sequence[str] | None = None) -> list[NodeRecord]:
    """:func:`load` from the options of :func:`argument_spec`."""
    return load(nodes=params['nodes'], nodes_file=params['nodes_file'], nodeset=params['nodeset'],  # type: ignore[arg-type]
                ip_start=params['ip_start'], fields=fields, max_nodes=params['max_nodes'],  # type: ignore[arg-type]
                networks=networks)


@contextmanager
def bulk_work() -> Iterator[None]:
    """The per-node work of a module, with Python's cycle collector paused (and restored after).

    A context manager, or a decorator of a module's ``main()``.

    10,000 nodes make some 100,000 small objects, and every full pass of the
    collector walks all of them again: 4 % of an unchanged pxe_boot rerun. Records,
    plans and results hold no reference cycles, so reference counting frees them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_unique(records: Iterable[NodeRecord], keys: Sequence[str] = BASE_FIELDS) -> None:
    """Two nodes with the same name, IP or MAC in one call is an error naming both."""
    records = list(records)
    # One set per key first (10,000 nodes in a few milliseconds); the walk below only names the pair.
    # Base fields are attributes: no get() call per node and key.
    if all(len(set(values)) == len(values)
           for values in ([value.lower() for value in (getattr(record, key) if key in BASE_FIELDS else record.get(key)
                                                       for record in records) if value is not None]
                          for key in keys)):
        return
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
