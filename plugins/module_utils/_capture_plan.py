# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The capture_image role's plan and verdict: which node goes to which catalog entry, and how it ended.

Pure functions over plain data (no I/O), used by the ``capture_image_plan`` action plugin:

* :func:`plan_nodes` turns the role's entries into one record per node (addresses, power fields and disk
  from the entry, else from the inventory host), naming every problem it finds; the addresses go through
  ``_nodes`` (the collection's one parser of node lists);
* :func:`plan_problems` checks the whole plan (no nodes, no or a bad receiver address);
* :func:`taken` names the images the catalog already holds;
* :func:`name_files` names the run's directory, the receivers' records and the capture configs;
* :func:`verdict` reads the receivers' results (their JSON lines) into one result per node.
"""

from __future__ import annotations

import json
import posixpath
import typing as t
from collections.abc import Iterable, Mapping, Sequence

from ansible_collections.cluster.netboot.plugins.module_utils import _catalog, _imaging_plan, _nodes
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import parse_ipv4
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError

Node = dict[str, t.Any]
LABEL = 'capture_image_nodes'
ENTRY_KEYS = ('node', 'image', 'mac', 'ip', 'power', 'disk', 'size')


def _text(value: object) -> str:
    return '' if value is None else str(value).strip()


def _image(entry: Mapping[str, t.Any], where: str, errors: list[str]) -> tuple[str, str]:
    """The entry's image as (name, version): ``NAME@VERSION``, as the catalog spells it."""
    image = _text(entry.get('image'))
    try:
        name, version = _catalog.parse_reference(image)
    except NetbootError as exc:
        errors.append('%s: image %r must be NAME@VERSION: %s' % (where, image, exc))
        return '', ''
    if version is None:
        errors.append('%s: image %r must be NAME@VERSION (a capture makes one version)' % (where, image))
        return '', ''
    return name, version


def _size(value: object, where: str, errors: list[str]) -> str:
    """Bytes to capture from the start of the disk, as digits; '' for the whole disk."""
    if value is None or value == '':
        return ''
    text = _text(value)
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        errors.append('%s: size %r must be a positive number of bytes' % (where, value))
        return ''
    return str(int(text))


def _disk(value: str, where: str, errors: list[str]) -> str:
    """The node's disk: an absolute device path, one word (it goes on the kernel command line)."""
    if not value.startswith('/') or any(char.isspace() or not char.isprintable() for char in value):
        errors.append('%s: disk %r must be an absolute device path without white space' % (where, value))
    return value


def plan_nodes(entries: Sequence[Mapping[str, t.Any]], hostvars: Mapping[str, Mapping[str, t.Any]],
               default_disk: str) -> tuple[list[Node], list[str]]:
    """One record per entry, in order, and every problem found on the way.

    An entry's ``mac``, ``ip``, ``power`` and ``disk`` default to its inventory host's ``mac``, ``ip`` (else
    ``ansible_host``), ``power`` and ``image_nodes_disk`` (else ``default_disk``). The addresses are checked and
    written in their canonical form by ``_nodes`` (which also refuses a node, IP or MAC named twice).
    """
    nodes: list[Node] = []
    errors: list[str] = []
    for index, entry in enumerate(entries):
        origin = '%s[%d]' % (LABEL, index)
        if not isinstance(entry, Mapping):
            errors.append('%s: expected a mapping with node and image, got %r' % (origin, entry))
            continue
        unknown = sorted(str(key) for key in entry if key not in ENTRY_KEYS)
        if unknown:
            errors.append('%s: unknown key(s) %s; allowed: %s' % (origin, ', '.join(unknown), ', '.join(ENTRY_KEYS)))
        name = _text(entry.get('node'))
        if not name:
            errors.append('%s: every entry needs node (an inventory host, or a name with mac and ip)' % origin)
            continue
        where = '%s (%s)' % (origin, name)
        # Inventory hosts only: ansible-core's hostvars does not answer .get() for other names.
        host = hostvars[name] if name in hostvars else {}
        image_name, version = _image(entry, where, errors)
        power = entry.get('power', host.get('power', {})) or {}
        if not isinstance(power, Mapping):
            errors.append('%s: power must be a mapping of node_power fields, got %r' % (where, power))
            power = {}
        nodes.append({
            'name': name,
            # As written: _nodes checks them, and says why a YAML number is no MAC.
            'mac': entry.get('mac', host.get('mac')),
            'ip': entry.get('ip', host.get('ip', host.get('ansible_host'))),
            'power': dict(power),
            'image': '%s@%s' % (image_name, version) if image_name else _text(entry.get('image')),
            'image_name': image_name,
            'version': version,
            'disk': _disk(_text(entry.get('disk', host.get('image_nodes_disk', default_disk))), where, errors),
            'size': _size(entry.get('size'), where, errors),
        })
    if len(nodes) == len(entries):
        errors += _addresses(nodes)
    images: dict[str, list[str]] = {}
    for node in nodes:
        images.setdefault(node['image'], []).append(node['name'])
    errors += ['%s is asked of more than one node (%s): each node captures into its own NAME@VERSION'
               % (image, ', '.join(names)) for image, names in images.items() if image and len(names) > 1]
    return nodes, errors


def _addresses(nodes: list[Node]) -> list[str]:
    """Check the nodes' names and addresses through ``_nodes``; write their canonical forms into ``nodes``."""
    try:
        records = _nodes.from_list([{key: node[key] for key in _imaging_plan.NODE_KEYS} for node in nodes],
                                   label=LABEL)
        _nodes.check_unique(records)
    except NetbootError as exc:
        return [str(exc)]
    missing = [record.name for record in records if record.mac is None or record.ip is None]
    for node, record in zip(nodes, records):
        node.update(mac=record.mac or '', ip=record.ip or '')
        node['power'] = _imaging_plan.power_entry(node)
    if missing:
        return ['nodes without mac or ip (give them in the entry, or as the inventory host\'s mac and ip): %s'
                % ', '.join(missing)]
    return []


def plan_problems(nodes: Sequence[Node], server_address: str) -> list[str]:
    """Everything about the whole plan that stops the run before it changes anything."""
    problems = []
    if not nodes:
        problems.append('%s is empty: name at least one node to capture' % LABEL)
    if not server_address:
        problems.append('capture_image_server_address is required (the console\'s address on the nodes\' network)')
    else:
        try:
            parse_ipv4(server_address)
        except NetbootError as exc:
            problems.append('capture_image_server_address: %s' % exc)
    return problems


def taken(nodes: Iterable[Node], entries: Iterable[Mapping[str, t.Any]]) -> list[str]:
    """The nodes' images (``NAME@VERSION``) that the catalog's ``entries`` already hold, in plan order."""
    held = {'%s@%s' % (entry.get('name'), entry.get('version')) for entry in entries}
    return [node['image'] for node in nodes if node['image'] in held]


def name_files(nodes: Iterable[Node], state_dir: str, run_id: str) -> tuple[str, list[Node]]:
    """The run's directory, and the nodes with their receiver's ``record`` and their capture ``config`` names."""
    run_dir = posixpath.join(state_dir, run_id)
    return run_dir, [dict(node, record=posixpath.join(run_dir, '%s.receiver.json' % node['name']),
                          config='capture-%s-%s' % (run_id, node['name'])) for node in nodes]


def _receiver_result(job: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The JSON line a receiver printed at its end, or {} (it printed none: killed, or never finished)."""
    stdout = _text(job.get('stdout'))
    if not stdout.startswith('{'):
        return {}
    try:
        parsed = json.loads(stdout)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def verdict(jobs: Iterable[Mapping[str, t.Any]]) -> dict[str, t.Any]:
    """One result per receiver job (async_status results, whose ``item.item`` is the plan's node): ``ok``,
    ``error``, the catalog ``entry``, ``seconds`` and a ``line`` to show; the failed nodes and one message."""
    results = []
    for job in jobs:
        node = (job.get('item') or {}).get('item') or {}
        parsed = _receiver_result(job)
        ok = parsed.get('ok') is True
        if ok:
            error = ''
        elif parsed.get('error'):
            error = _text(parsed['error'])
        else:
            error = _text(job.get('stderr')) or _text(job.get('msg')) or (
                'no result' if job.get('finished') else 'no result (the receiver had not finished)')
        results.append({
            'name': node.get('name'), 'image': node.get('image'), 'ok': ok, 'error': error,
            'entry': parsed.get('image') if ok else None, 'seconds': parsed.get('seconds'),
            'line': '%s -> %s: %s' % (node.get('name'), node.get('image'),
                                      'captured in %s s' % parsed.get('seconds') if ok else 'FAILED'),
        })
    failed = [result for result in results if not result['ok']]
    return {
        'results': results,
        'lines': [result['line'] for result in results],
        'failed_nodes': [result['name'] for result in failed],
        'error': 'not captured (no catalog entry was made for them): %s' % '; '.join(
            '%s: %s' % (result['name'], result['error']) for result in failed) if failed else '',
    }
