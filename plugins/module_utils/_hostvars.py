# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Node entries from inventory host variables, in the form of the per-node modules' ``nodes``/``hosts``.

A host's address is its ``ip`` variable, or else its ``ansible_host``; its MAC
its ``mac``; other host variables can be carried over under another field name
(``dhcp_filename`` -> ``filename``). Names and addresses are checked the way
every node list is (:func:`_nodes.from_list`), so a bad inventory entry is
refused on the console with the host's name, before any module runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ansible_collections.cluster.netboot.plugins.module_utils import _nodes
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NodeListError

INCOMPLETE = ('skip', 'fail')


def _value(variables: Mapping[str, object], key: str) -> object:
    """A host variable, None when unset, null or empty."""
    value = variables[key] if key in variables else None
    return None if value == '' else value


def inventory_nodes(hostvars: Mapping[str, Mapping[str, object]], names: Iterable[object],
                    require: Sequence[str] = ('mac', 'ip'), incomplete: str = 'skip',
                    extra: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """One entry ``{name, ip, mac, <extra fields>}`` per host of ``names``, in that order.

    ``require``: the fields (``ip``, ``mac``) a host must have; ``incomplete``
    says what happens to one without them, ``skip`` it or ``fail``. ``extra``
    maps host variables to entry fields. Unset fields are left out of the entry.
    Addresses come out in canonical form; a malformed one is an error.
    """
    extra = dict(extra or {})
    unknown = sorted(set(require) - {'ip', 'mac'})
    if unknown:
        raise NodeListError('require takes ip and mac, not %s' % ', '.join(unknown))
    if incomplete not in INCOMPLETE:
        raise NodeListError('incomplete must be one of %s, got %r' % (', '.join(INCOMPLETE), incomplete))
    taken = sorted(set(extra.values()) & set(_nodes.BASE_FIELDS))
    if taken:
        raise NodeListError('extra cannot map onto %s' % ', '.join(taken))
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise NodeListError('the host names must be a list, got %r' % (names,))
    rows = []
    for name in names:
        name = str(name)
        if name not in hostvars:
            raise NodeListError('host %s is not in the inventory' % name)
        variables = hostvars[name]
        ip = _value(variables, 'ip')
        row = {'name': name, 'ip': ip if ip is not None else _value(variables, 'ansible_host'),
               'mac': _value(variables, 'mac')}
        for variable, field in extra.items():
            row[field] = _value(variables, variable)
        row = {key: value for key, value in row.items() if value is not None}
        lacking = [field for field in require if field not in row]
        if lacking:
            if incomplete == 'fail':
                raise NodeListError('host %s has no %s' % (name, ' and no '.join(
                    'ip or ansible_host' if field == 'ip' else field for field in lacking)))
            continue
        rows.append(row)
    records = _nodes.from_list(rows, fields=_nodes.BASE_FIELDS + tuple(extra.values()), label='hosts')
    return [_entry(record, row) for record, row in zip(records, rows)]


def _entry(record: _nodes.NodeRecord, row: Mapping[str, object]) -> dict[str, str]:
    entry = {'name': record.name}
    for field in row:
        value = record.get(field)
        if field != 'name' and value is not None:
            entry[field] = value
    return entry
