# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The image_nodes role's plan and verdict: which node gets which image, in which session, and how it ended.

Pure functions over plain data (no I/O), used by the ``image_nodes_plan`` and ``image_nodes_wait``
action plugins:

* :func:`plan_nodes` turns the role's groups (inventory hosts, inventory groups, NodeSet ranges,
  explicit nodes) into one record per node, collecting every problem instead of stopping at the first;
* :func:`plan_problems` checks the whole plan (no nodes, a node in two groups, nodes without MAC or IP,
  one image asked for with two backends or two disks);
* :func:`plan_images` gives each image its session parameters (size, sha256, config name) from what the
  console says about the files (:func:`image_checks` names what to read);
* :func:`make_round` shapes one imaging round (the plan's first, or a retry of the nodes that failed);
* :func:`merge_attempts` and :func:`verdict` turn the rounds' node states (the report receiver's
  ``wait``) into the final rows, the table and the failed nodes, the attempt that counted in each row.

The input of the plan is a list of groups, each with an ``image`` path and an optional ``sha256``, ``size``
and ``raw_image``: a step that resolves image names to files slots in before it.
"""

from __future__ import annotations

import datetime
import os
import secrets
import typing as t
from collections.abc import Callable, Iterable, Mapping, Sequence

Node = dict[str, t.Any]
NODE_KEYS = ('name', 'mac', 'ip')


def _text(value: object) -> str:
    return '' if value is None else str(value)


def new_run_id(now: datetime.datetime | None = None) -> str:
    """A run's id: its UTC start (``20260101T120000``) and a random part, so that two runs in one second differ."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return '%s-%06x' % (now.strftime('%Y%m%dT%H%M%S'), secrets.randbelow(1 << 24))


def catalog_images(results: Iterable[Mapping[str, t.Any]], check_mode: bool) -> dict[str, Node]:
    """What each catalog reference is served as, from image_catalog's ``verified`` results (one per reference):
    the unpacked file (in check mode nothing is unpacked: the stored file), the disk size and sha256."""
    images: dict[str, Node] = {}
    for result in results:
        image = result.get('image') or {}
        images[_text(result.get('item'))] = {
            'path': _text(image.get('file') if check_mode else result.get('serve_path')),
            'sha256': _text(image.get('sha256')), 'size': _text(image.get('size'))}
    return images


def plan_nodes(groups: Sequence[Mapping[str, t.Any]], hostvars: Mapping[str, Mapping[str, t.Any]],
               inventory_groups: Mapping[str, Sequence[str]], default_backend: str, default_disk: str,
               expand_nodeset: Callable[[str], list[str]],
               catalog: Mapping[str, Mapping[str, t.Any]] | None = None) -> tuple[list[Node], list[str]]:
    """One record per node of every group, in the groups' order, and every problem found on the way.
    A group whose image is a catalog reference (a key of ``catalog``) is served the catalog's file, and its
    nodes check their disks against the catalog's size and sha256."""
    nodes: list[Node] = []
    errors: list[str] = []
    catalog = catalog or {}
    for index, group in enumerate(groups, start=1):
        label = _text(group.get('name')) or 'group %d' % index
        cataloged = catalog.get(_text(group.get('image')), {})
        if not group.get('image'):
            errors.append('%s has no image' % label)
        members: list[Mapping[str, t.Any]] = [{'name': name} for name in group.get('hosts') or []]
        if group.get('inventory_group') is not None:
            if group['inventory_group'] not in inventory_groups:
                errors.append('%s: inventory group %s does not exist' % (label, group['inventory_group']))
            members += [{'name': name} for name in inventory_groups.get(group['inventory_group'], [])]
        if group.get('nodeset'):
            try:
                members += [{'name': name} for name in expand_nodeset(group['nodeset'])]
            except Exception as exc:  # pylint: disable=broad-except  # the expander's own error, named
                errors.append('%s: nodeset %s: %s' % (label, group['nodeset'], exc))
        members += list(group.get('nodes') or [])
        if not members:
            errors.append('%s has no nodes (give hosts, inventory_group, nodeset or nodes)' % label)
        for member in members:
            name = _text(member.get('name'))
            # Inventory hosts only: ansible-core's hostvars does not answer .get() for other names.
            host = hostvars[name] if name in hostvars else {}
            nodes.append({
                'name': name,
                'mac': _text(member.get('mac', host.get('mac', ''))),
                'ip': _text(member.get('ip', host.get('ip', host.get('ansible_host', '')))),
                'group': label,
                'image': _text(cataloged.get('path') or group.get('image')),
                'backend': _text(group.get('backend') or default_backend),
                'disk': _text(member.get('disk', host.get('image_nodes_disk', group.get('disk') or default_disk))),
                'sha256': _text(group.get('sha256') or cataloged.get('sha256')),
                'size': _text(group.get('size') or cataloged.get('size')),
                'raw_image': _text(group.get('raw_image')),
                'power': dict(member.get('power', host.get('power', {})) or {}),
            })
    return nodes, errors


def duplicates(nodes: Iterable[Node]) -> list[str]:
    """Names that appear more than once, each once, in the order of their second appearance."""
    seen: set[str] = set()
    found: list[str] = []
    for node in nodes:
        if node['name'] in seen and node['name'] not in found:
            found.append(node['name'])
        seen.add(node['name'])
    return found


def plan_problems(nodes: Sequence[Node], server_address: str) -> list[str]:
    """Everything that stops the run before it changes anything (beyond the groups' own problems)."""
    problems = []
    if not nodes:
        problems.append('no nodes to image')
    if not server_address:
        problems.append('image_nodes_server_address is required')
    missing = [node['name'] for node in nodes if not node['mac']] + [node['name'] for node in nodes if not node['ip']]
    if missing:
        problems.append('nodes without mac or ip: %s' % ', '.join(missing))
    twice = duplicates(nodes)
    if twice:
        problems.append('nodes in more than one group: %s' % ', '.join(twice))
    per_image: dict[str, tuple[set[str], set[str]]] = {}
    for node in nodes:
        backends, disks = per_image.setdefault(node['image'], (set(), set()))
        backends.add(node['backend'])
        disks.add(node['disk'])
    for image, (backends, disks) in per_image.items():
        if len(backends) > 1 or len(disks) > 1:
            problems.append('the nodes of image %s need one backend and one target disk (one session and one '
                            'config per image)' % image)
    return problems


def first_per_image(nodes: Iterable[Node]) -> list[Node]:
    """The first node of every image, in plan order: it carries the image's group settings."""
    firsts: dict[str, Node] = {}
    for node in nodes:
        firsts.setdefault(node['image'], node)
    return list(firsts.values())


def image_checks(nodes: Iterable[Node]) -> dict[str, bool]:
    """The files to read on the console, and whether their sha256 is needed.

    An image's sha256 is read unless the group gives it, the image names the raw image it was made
    from, or the image is a (compressed) frisbee image, whose own checksum says nothing about the disk.
    """
    checks: dict[str, bool] = {}
    for first in first_per_image(nodes):
        image_sum = not first['sha256'] and not first['raw_image'] and first['backend'] != 'frisbee'
        checks[first['image']] = checks.get(first['image'], False) or image_sum
        if first['raw_image']:
            checks[first['raw_image']] = checks.get(first['raw_image'], False) or not first['sha256']
    return checks


def _disk_value(first: Node, stat: Mapping[str, t.Any], raw: Mapping[str, t.Any] | None, key: str,
                stat_key: str) -> str:
    """The group's own value, else the raw image's, else the image's (not for a compressed frisbee image)."""
    if first[key]:
        return first[key]
    if raw is not None:
        return _text(raw.get(stat_key, ''))
    return '' if first['backend'] == 'frisbee' else _text(stat.get(stat_key, ''))


def plan_images(nodes: Sequence[Node], stats: Mapping[str, Mapping[str, t.Any]], run_id: str) -> tuple[list[Node], list[str]]:
    """One entry per image: backend, disk, the size and sha256 the disk must end up with, the config name.

    ``stats`` maps every file of :func:`image_checks` to ``{'exists', 'isreg', 'size', 'checksum'}``.
    """
    images: list[Node] = []
    errors: list[str] = []
    for index, first in enumerate(first_per_image(nodes), start=1):
        stat = stats.get(first['image'], {})
        raw = stats.get(first['raw_image'], {}) if first['raw_image'] else None
        for path, found in ((first['image'], stat), (first['raw_image'], raw)):
            if found is not None and path and not (found.get('exists') and found.get('isreg')):
                errors.append('image %s does not exist on the console or is not a regular file' % path)
        size, sha256 = (_disk_value(first, stat, raw, key, stat_key)
                        for key, stat_key in (('size', 'size'), ('sha256', 'checksum')))
        images.append({
            'image': first['image'], 'backend': first['backend'], 'disk': first['disk'], 'size': size,
            'sha256': sha256, 'config': 'image-nodes-%s-%d' % (run_id, index),
        })
    return images, errors


def host_entry(node: Mapping[str, t.Any]) -> Node:
    """A node as dhcpd_host, kea_host and pxe_boot take it."""
    return {key: node[key] for key in NODE_KEYS}


def power_entry(node: Mapping[str, t.Any]) -> Node:
    """A node as node_power takes it: its power fields and its name and addresses."""
    return dict(node.get('power') or {}, **host_entry(node))


def records(nodes: Iterable[Node], images: Iterable[Node]) -> list[Node]:
    """What the report receiver needs of every node (nodes.json): addresses, group, expected sha256 and size."""
    by_image = {image['image']: image for image in images}
    return [{'name': node['name'], 'mac': node['mac'].lower(), 'ip': node['ip'], 'group': node['group'],
             'image': node['image'], 'sha256': by_image[node['image']]['sha256'],
             'size': by_image[node['image']]['size']} for node in nodes]


def make_round(nodes: Sequence[Node], images: Sequence[Node], attempt: int, names: Iterable[str] | None = None) -> Node:
    """One imaging round: its nodes (all of them, or only ``names``), and per image its nodes and pointers."""
    wanted = None if names is None else set(names)
    members = [node for node in nodes if wanted is None or node['name'] in wanted]
    round_images = []
    for image in images:
        mine = [node for node in members if node['image'] == image['image']]
        if mine:
            round_images.append(dict(image, nodes=[node['name'] for node in mine],
                                     pointers=[host_entry(node) for node in mine]))
    return {
        'attempt': attempt,
        'names': [node['name'] for node in members],
        'nodes': [dict(node) for node in members],
        'images': round_images,
        'hosts': [host_entry(node) for node in members],
        'power': [power_entry(node) for node in members],
        'records': records(members, images),
    }


def power_failures(power_result: Mapping[str, t.Any] | None) -> dict[str, str]:
    """``{node: reason}`` for every node node_power could not switch."""
    return {_text(node.get('name')): _text(node.get('msg')) or 'failed'
            for node in (power_result or {}).get('nodes') or [] if node.get('failed')}


def merge_attempts(rounds: Sequence[Sequence[Node]]) -> list[Node]:
    """Every node's state from the last round it took part in (``attempt``: that round's number).

    The rows keep the first round's order; ``earlier`` lists what the earlier attempts ended with.
    """
    latest: dict[str, Node] = {}
    history: dict[str, list[str]] = {}
    order: list[str] = []
    for number, states in enumerate(rounds, start=1):
        for state in states:
            name = state['name']
            if name not in latest:
                order.append(name)
            else:
                previous = latest[name]
                history.setdefault(name, []).append('attempt %d: %s%s' % (
                    previous['attempt'], previous['result'], ' (%s)' % previous['detail'] if previous.get('detail') else ''))
            latest[name] = dict(state, attempt=number)
    return [dict(latest[name], earlier=history.get(name, [])) for name in order]


def is_ok(state: Mapping[str, t.Any]) -> bool:
    return bool(state.get('final')) and state.get('result') == 'ok'


def progress(states: Sequence[Node], elapsed: float, attempt: int = 1, list_up_to: int = 16) -> list[str]:
    """One line per group: how many nodes finished and where each is; a group larger than ``list_up_to``
    is counted by phase, naming only its failed nodes (a thousand names a line helps nobody)."""
    groups: dict[str, list[Node]] = {}
    for state in states:
        groups.setdefault(state.get('group') or '-', []).append(state)
    prefix = 'attempt %d ' % attempt if attempt > 1 else ''
    lines = []
    for group, members in groups.items():
        finished = sum(1 for state in members if state.get('final'))

        def where(state: Node) -> str:
            if state.get('final'):
                return 'ok' if state.get('result') == 'ok' else 'FAILED'
            return state['phase'] if state.get('phase') not in (None, '', 'none') else 'booting'
        if len(members) <= list_up_to:
            detail = ', '.join('%s %s' % (state['name'], where(state)) for state in members)
        else:
            counts: dict[str, int] = {}
            for state in members:
                counts[where(state)] = counts.get(where(state), 0) + 1
            detail = ', '.join('%s %d' % (key, counts[key]) for key in ('ok', 'FAILED', 'booting', 'boot', 'receive',
                                                                        'verify', 'done') if key in counts)
            failed = [state['name'] for state in members if where(state) == 'FAILED']
            if failed:
                detail += '; failed: %s%s' % (', '.join(failed[:list_up_to]), ', ...' if len(failed) > list_up_to else '')
        lines.append('%s%4.0fs %s: %d/%d finished (%s)' % (prefix, elapsed, group, finished, len(members), detail))
    return lines


def table(states: Sequence[Node], attempts: bool = False) -> list[str]:
    """One row per node, the failed nodes' reasons below; with ``attempts`` the attempt that counted; last the
    node's console log."""
    header = ['GROUP', 'IMAGE', 'NODE', 'MAC', 'IP', 'PHASE', 'RESULT', 'SECONDS', 'RECEIVE', 'CHECKSUM', 'SECURE BOOT']
    if attempts:
        header.append('ATTEMPT')
    header.append('LOG')
    rows = [header]
    for state in states:
        row = [state.get('group') or '-', os.path.basename(state.get('image') or '-'), state['name'],
               state.get('mac') or '-', state.get('ip') or '-', state.get('phase') or 'none',
               state.get('result') or 'waiting',
               '%.0f' % state['seconds'] if state.get('seconds') is not None else '-',
               '%.0f' % state['receive_seconds'] if state.get('receive_seconds') is not None else '-',
               state.get('verdict') or '-', state.get('secure_boot') or '-']
        if attempts:
            row.append(str(state.get('attempt', 1)))
        # The console log the node sent at its end, kept in the run's dir.
        row.append(state.get('log') or '-')
        rows.append(row)
    widths = [max(len(str(row[index])) for row in rows) for index in range(len(header))]
    lines = ['  '.join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    for state in states:
        if state.get('result') != 'ok' and state.get('detail'):
            lines.append('%s: %s' % (state['name'], state['detail']))
    for state in states:
        for earlier in state.get('earlier') or []:
            lines.append('%s: %s' % (state['name'], earlier))
    return lines


def verdict(rounds: Sequence[Sequence[Node]], retries: int = 0,
            power: Sequence[Node] = ()) -> dict[str, t.Any]:
    """The run's result from its rounds: every node's counting row, the table, the failed nodes, and the
    imaged nodes' entries of ``power`` (node_power's form: they boot their new system)."""
    states = merge_attempts(rounds)
    ok = {state['name'] for state in states if is_ok(state)}
    return {
        'nodes': states,
        'ok': len(ok),
        'ok_power': [entry for entry in power if entry['name'] in ok],
        'failed_nodes': sorted(state['name'] for state in states if not is_ok(state)),
        'attempts': len(rounds),
        'table': table(states, attempts=retries > 0 or len(rounds) > 1),
    }
