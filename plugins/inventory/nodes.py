# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: nodes
short_description: Cluster and testbed nodes from ranges, coordinates and node files
version_added: 0.1.0
author:
  - cluster.netboot contributors (!UNKNOWN)
description:
  - Builds an inventory from a YAML file whose name ends in C(.netboot.yml) or C(.netboot.yaml),
    declaring node groups compactly the way testbeds and clusters name their nodes
    (V(node[1-20]-[1-20].grid), V(n[8-11])) or listing them in plain node files, one node
    per line, as coordinates or names.
  - Each host gets C(ip) and C(ansible_host) when the group gives addresses, C(mac) when a
    MAC file lists it, and its coordinates when its name has numbers in it; the group's
    C(vars) become group variables.
  - The numbers in a host name, left to right, are its coordinates C(x), C(y) and C(z)
    (also the list C(coordinates)), as ClusterShell reads the name - V(node3-7.grid) is
    C(x=3), C(y=7); V(node1-2.sb8) is C(x=1), C(y=2), C(z=8); V(n09) is C(x=9).
  - Errors name the inventory file (or node file) and the line.
requirements:
  - ClusterShell (Python library) on the controller
  - netaddr (Python library) on the controller
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: Marks the file as a source for this plugin.
    required: true
    type: str
    choices: [cluster.netboot.nodes]
  groups:
    description:
      - The groups, by name. A group is a mapping (a node group, keys below), or a string
        (a Jinja2 conditional that puts the hosts for which it is true into the group, as the
        R(constructed,ansible_collections.ansible.builtin.constructed_inventory) plugin does).
      - C(nodes) - a node range in ClusterShell NodeSet syntax, for example
        V(node[1-20]-[1-20].grid), V(node1-[1-2].sb8) or V(n[01-10]) (zero padding is kept
        in the names), or a list of such ranges.
      - C(nodes_file) - a plain text file with one node per line, relative to the
        inventory file. A line of numbers (V(3,7), V(3 7) or V(8)) is a node by its
        coordinates and needs C(name); any other line is a node name or range
        (V(node3-7.grid), V(n[8-11])). Blank lines and C(#) comments are skipped.
        Give exactly one of C(nodes) and C(nodes_file), or neither when the group
        only has C(children).
      - C(name) - the name template for the coordinate lines of C(nodes_file),
        for example V(node{x}-{y}.grid).
      - C(ip) - an address template over the host's coordinates, for example
        V(10.10.{x}.{y}).
      - C(ip_start) - instead of C(ip), the first of consecutive addresses given
        to the group's hosts in range (or file) order.
      - C(network) - the group's IPv4 network in CIDR form, with C(ip) or C(ip_start), for example
        V(10.10.0.0/16). Every address the group gives must lie inside it and be neither its network
        address nor its broadcast address. With or without it, addresses no node can have are refused
        (V(0.0.0.0/8), multicast V(224.0.0.0/4), V(240.0.0.0/4), V(255.255.255.255)).
      - C(mac_file) - a file with C(name) and C(mac) columns, and optionally C(ip) (CSV with that header row,
        or a YAML or JSON list of mappings), relative to the inventory file; the node file
        M(cluster.netboot.node_discovery) writes is one. A row's C(ip) becomes the host's C(ip) and
        C(ansible_host); one that contradicts the group's O(groups) C(ip) or C(ip_start) is an error. MACs are written as
        V(00:0D:B9:0A:12:34), V(00-0d-b9-0a-12-34), V(000d.b90a.1234) or V(000db90a1234); other forms
        and the addresses no NIC has (all zero, broadcast, multicast) are refused. Rows for hosts of
        other groups are ignored, so one file can serve several groups; a row that names no
        host of the inventory is reported as a warning.
      - C(vars) - a mapping of group variables.
      - C(children) - names of other groups of this file that become child groups.
      - The templates are Python format strings over C({x}), C({y}), C({z}) (the first
        three numbers) and C({index}) (the only number, for names with exactly one); a
        format specification pads, as in V(n{x:02d}).
    type: dict
    default: {}
  max_nodes:
    description:
      - The most hosts one group's C(nodes), or one C(nodes_file), may name. A longer range is refused
        at once, naming its size; the size is read from the range's text, so a mistyped
        V(n[1-99999999]) costs neither time nor memory.
    type: int
    default: 1000000
notes:
  - >-
    Enable it through the P(ansible.builtin.auto#inventory) plugin (on by default) or by
    naming it in C(enable_plugins); the file must start with C(plugin: cluster.netboot.nodes).
  - When a directory is the inventory source, Ansible tries every file in it as inventory
    (a C(.csv) MAC file is read as an INI inventory of odd host names). Keep node and MAC
    files outside such a directory, or give them an extension Ansible ignores there, such
    as C(.txt).
  - Node and MAC files are read as UTF-8; a byte order mark at the start is ignored.
  - Host names are at most 253 characters, each dot-separated part at most 63.
  - A host in several groups gets its address and MAC from whichever group gives them;
    two groups giving one host different values is an error, as are two hosts with the
    same address or MAC.
'''

EXAMPLES = r'''
# grid.netboot.yml: an ORBIT-like 20x20 grid and a sandbox.
plugin: cluster.netboot.nodes
groups:
  grid:
    nodes: node[1-20]-[1-20].grid        # node3-7.grid: x=3, y=7
    ip: "10.10.{x}.{y}"
    mac_file: grid-macs.txt               # name,mac rows
    vars:
      image: baseline-2.0
  sb8:
    nodes: node1-[1-2].sb8
    ip_start: 10.18.1.1                   # node1-1.sb8 10.18.1.1, node1-2.sb8 10.18.1.2
  testbeds:
    children: [grid, sb8]

---
# imaging.netboot.yml: the node lists operators kept for imageNodes, one node a line.
#   batch1.txt:           xcpu.txt:
#     # x,y                 n[8-11]
#     1,1                   n20
#     3,7
plugin: cluster.netboot.nodes
groups:
  batch1:
    nodes_file: batch1.txt
    name: "node{x}-{y}.grid"
    ip: "10.10.{x}.{y}"
    vars:
      image: experiment-7.ndz
  xcpu:
    nodes_file: xcpu.txt
    ip: "10.20.0.{index}"

---
# Groups by image and a conditional group, with the constructed options.
plugin: cluster.netboot.nodes
groups:
  grid:
    nodes: node[1-20]-[1-20].grid
    ip: "10.10.{x}.{y}"
    vars:
      image: baseline-2.0
  grid_first_row: "x == 1"
keyed_groups:
  - key: image
    prefix: image
compose:
  console_port: 7000 + x * 100 + y
'''

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.helpers import get_group_vars
from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable
from ansible.utils.vars import combine_vars

from ansible_collections.cluster.netboot.plugins.module_utils import _addresses, _nodes, _nodeset, _templates
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError

try:
    # ansible-core 2.19 and later tag loaded YAML with where it came from; older
    # versions put (file, line, column) in ansible_pos instead. Without either,
    # errors still name the file.
    from ansible._internal._datatag._tags import Origin
except ImportError:
    Origin = None

SUFFIXES = ('.netboot.yml', '.netboot.yaml')
GROUP_KEYS = ('nodes', 'nodes_file', 'name', 'ip', 'ip_start', 'network', 'mac_file', 'vars', 'children')
TEMPLATE_FIELDS = ('x', 'y', 'z', 'index')
COORDINATE_NAMES = ('x', 'y', 'z')
_COORDINATE_LINE = re.compile(r'\d+(?:(?:\s*,\s*|\s+)\d+)*')


class InventorySourceError(NetbootError):
    """A node inventory file (or a node or MAC file it names) that cannot be used."""


def line_of(value: object) -> int | None:
    """The line a loaded YAML value (or mapping key) came from, when the loader recorded it."""
    position = getattr(value, 'ansible_pos', None)
    if position:
        return position[1]
    if Origin is not None:
        # A YAML syntax error carries the Origin itself as its obj.
        origin = value if isinstance(value, Origin) else Origin.get_tag(value)
        if origin is not None:
            return origin.line_num
    return None


@dataclass
class PlannedHost:
    name: str
    coordinates: tuple[int, ...]
    groups: list[str] = field(default_factory=list)
    variables: dict[str, object] = field(default_factory=dict)
    # Where each variable was set, so that a conflict names both places.
    origins: dict[str, str] = field(default_factory=dict)


@dataclass
class PlannedGroup:
    name: str
    hosts: list[str] = field(default_factory=list)
    variables: dict[str, object] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """What the inventory file declares, before anything is added to Ansible's inventory."""

    groups: dict[str, PlannedGroup] = field(default_factory=dict)
    hosts: dict[str, PlannedHost] = field(default_factory=dict)
    conditionals: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def template_fields(coordinates: tuple[int, ...]) -> dict[str, int]:
    fields = dict(zip(COORDINATE_NAMES, coordinates))
    if len(coordinates) == 1:
        fields['index'] = coordinates[0]
    return fields


def check_template(template: object) -> str:
    """Return the template if it only uses the known fields, else raise ValueError."""
    try:
        _templates.fields(template, 'template', TEMPLATE_FIELDS)
    except _templates.TemplateError as exc:
        raise ValueError(str(exc)) from None
    return template  # type: ignore[return-value]


def render(template: str, coordinates: tuple[int, ...], subject: str) -> str:
    try:
        return template.format(**template_fields(coordinates))
    except KeyError as exc:
        raise ValueError('%s has no {%s} for template %r (%d number(s) in it)'
                         % (subject, exc.args[0], template, len(coordinates))) from None
    except (ValueError, TypeError) as exc:
        raise ValueError('template %r cannot be applied to %s: %s' % (template, subject, exc)) from None


class _Source:
    """Turns loaded values into 'FILE line N' for error messages."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.base_dir = os.path.dirname(os.path.abspath(path))

    def where(self, value: object = None) -> str:
        line = line_of(value)
        return '%s line %d' % (self.path, line) if line else self.path

    def error(self, value: object, label: str, message: str) -> InventorySourceError:
        return InventorySourceError('%s: %s: %s' % (self.where(value), label, message))

    def resolve(self, relative: str) -> str:
        path = os.path.expanduser(relative)
        return path if os.path.isabs(path) else os.path.join(self.base_dir, path)


def _key(mapping: Mapping, name: str) -> object:
    """The mapping's own key object (it carries the line) for ``name``."""
    for key in mapping:
        if key == name:
            return key
    return name


def _expand(pattern: str, max_nodes: int) -> list[tuple[str, tuple[int, ...]]]:
    """A range's hosts with their coordinates; ranges over max_nodes and names no host can have are refused."""
    expanded = _nodeset.expand_indexed(pattern, max_nodes)
    for name, _coordinates in expanded:
        problem = _nodes.check_node_name(name)
        if problem:
            raise ValueError(problem)
    return expanded


def read_node_file(path: str, name_template: str | None,
                   max_nodes: int = _nodeset.DEFAULT_MAX_NODES) -> list[tuple[str, tuple[int, ...], str]]:
    """One node per line: coordinates (needs ``name_template``) or a name or range.

    Returns (name, coordinates, origin) in file order; at most ``max_nodes`` in all.
    """
    try:
        text = _nodes.read_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise InventorySourceError('cannot read node file %s: %s' % (path, exc)) from None
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        origin = '%s line %d' % (path, number)
        try:
            if _COORDINATE_LINE.fullmatch(line):
                coordinates = tuple(int(part) for part in re.split(r'[\s,]+', line))
                if len(coordinates) > len(COORDINATE_NAMES):
                    raise ValueError('at most %d coordinates, got %r' % (len(COORDINATE_NAMES), line))
                if name_template is None:
                    raise ValueError('coordinates %r need the group\'s name template (for example name: "node{x}-{y}.grid")'
                                     % line)
                name = render(name_template, coordinates, 'coordinates %r' % line)
                expanded = _expand(name, max_nodes)
                if len(expanded) != 1 or expanded[0][0] != name:
                    raise ValueError('name template %r made %r, which is not one node name' % (name_template, name))
            else:
                expanded = _expand(line, max_nodes)
        except (ValueError, NetbootError) as exc:
            raise InventorySourceError('%s: %s' % (origin, exc)) from None
        entries.extend((name, coordinates, origin) for name, coordinates in expanded)
        if len(entries) > max_nodes:
            raise InventorySourceError('%s: the file names more than max_nodes (%d) nodes' % (origin, max_nodes))
    return entries


def _group_nodes(source: _Source, spec: Mapping, label: str, max_nodes: int) -> list[tuple[str, tuple[int, ...], str]]:
    has_nodes, has_file = 'nodes' in spec, 'nodes_file' in spec
    if has_nodes and has_file:
        raise source.error(_key(spec, 'nodes_file'), label, 'give nodes or nodes_file, not both')
    if 'name' in spec and not has_file:
        raise source.error(_key(spec, 'name'), label + '.name', 'only goes with nodes_file (its coordinate lines)')
    if has_nodes:
        key = _key(spec, 'nodes')
        ranges = spec['nodes']
        if isinstance(ranges, str):
            ranges = [ranges]
        if not isinstance(ranges, list) or not ranges or not all(isinstance(item, str) for item in ranges):
            raise source.error(key, label + '.nodes', 'must be a node range or a list of node ranges, got %r' % (spec['nodes'],))
        origin = source.where(key)
        entries: list[tuple[str, tuple[int, ...], str]] = []
        try:
            for item in ranges:
                entries.extend((name, coordinates, origin) for name, coordinates in _expand(item, max_nodes))
                if len(entries) > max_nodes:
                    raise ValueError('the ranges name more than max_nodes (%d) nodes' % max_nodes)
        except (ValueError, NetbootError) as exc:
            raise source.error(key, label + '.nodes', str(exc)) from None
        return entries
    if has_file:
        key = _key(spec, 'nodes_file')
        if not isinstance(spec['nodes_file'], str) or not spec['nodes_file'].strip():
            raise source.error(key, label + '.nodes_file', 'must be a file name, got %r' % (spec['nodes_file'],))
        name_template = None
        if 'name' in spec:
            try:
                name_template = check_template(spec['name'])
            except ValueError as exc:
                raise source.error(_key(spec, 'name'), label + '.name', str(exc)) from None
        try:
            return read_node_file(source.resolve(spec['nodes_file']), name_template, max_nodes)
        except InventorySourceError as exc:
            raise source.error(key, label + '.nodes_file', str(exc)) from None
    return []


def _group_addresses(source: _Source, spec: Mapping, label: str,
                     nodes: list[tuple[str, tuple[int, ...], str]]) -> tuple[list[str | None], str]:
    if 'ip' in spec and 'ip_start' in spec:
        raise source.error(_key(spec, 'ip_start'), label, 'give ip or ip_start, not both')
    networks = None
    if 'network' in spec:
        if 'ip' not in spec and 'ip_start' not in spec:
            raise source.error(_key(spec, 'network'), label + '.network', 'only goes with ip or ip_start')
        try:
            networks = [_addresses.parse_ipv4_network(spec['network'])]
        except NetbootError as exc:
            raise source.error(_key(spec, 'network'), label + '.network', str(exc)) from None
    addresses, key = _group_address_list(source, spec, label, nodes)
    if key is None:
        return addresses, ''
    for index, reason in _addresses.node_ipv4_problems(addresses, networks):
        raise source.error(key, label + ('.ip' if 'ip' in spec else '.ip_start'), 'host %s: %s' % (nodes[index][0], reason))
    return addresses, source.where(key)


def _group_address_list(source: _Source, spec: Mapping, label: str,
                        nodes: list[tuple[str, tuple[int, ...], str]]) -> tuple[list[str | None], object]:
    """The group's addresses, one per node (None without ip or ip_start), and the key that gave them."""
    if 'ip' in spec:
        key = _key(spec, 'ip')
        try:
            template = check_template(spec['ip'])
            addresses: list[str | None] = []
            for name, coordinates, _origin in nodes:
                address = render(template, coordinates, 'host %s' % name)
                try:
                    addresses.append(_addresses.parse_ipv4(address))
                except NetbootError as exc:
                    raise ValueError('host %s: %s' % (name, exc)) from None
        except ValueError as exc:
            raise source.error(key, label + '.ip', str(exc)) from None
        return addresses, key
    if 'ip_start' in spec:
        key = _key(spec, 'ip_start')
        if not nodes:
            raise source.error(key, label + '.ip_start', 'the group has no nodes of its own to number')
        try:
            return list(_addresses.consecutive_ipv4(spec['ip_start'], len(nodes))), key
        except NetbootError as exc:
            raise source.error(key, label + '.ip_start', str(exc)) from None
    return [None] * len(nodes), None


def _read_mac_file(source: _Source, spec: Mapping, label: str) -> tuple[str, dict[str, _nodes.NodeRecord]]:
    key = _key(spec, 'mac_file')
    if not isinstance(spec['mac_file'], str) or not spec['mac_file'].strip():
        raise source.error(key, label + '.mac_file', 'must be a file name, got %r' % (spec['mac_file'],))
    path = source.resolve(spec['mac_file'])
    try:
        # An ip column too: the node file node_discovery writes (name,ip,mac) is a MAC file as it is.
        records = _nodes.from_file(path, fields=('name', 'ip', 'mac'))
        _nodes.check_unique(records, ('name', 'ip', 'mac'))
    except NetbootError as exc:
        raise source.error(key, label + '.mac_file', str(exc)) from None
    return path, {record.name: record for record in records if record.mac or record.ip}


def _set_host_variable(host: PlannedHost, variable: str, value: object, origin: str) -> None:
    if variable in host.variables and host.variables[variable] != value:
        raise InventorySourceError('%s: host %s gets %s %s here, but %s from %s'
                                   % (origin, host.name, variable, value, host.variables[variable], host.origins[variable]))
    host.variables.setdefault(variable, value)
    host.origins.setdefault(variable, origin)


def _check_no_loops(source: _Source, plan: Plan, children_keys: Mapping[str, object]) -> None:
    # Ansible refuses a loop too, but without saying where it is in the file.
    def visit(name: str, trail: list[str]) -> None:
        group = plan.groups.get(name)
        for child in group.children if group else ():
            if child in trail:
                loop = trail[trail.index(child):] + [child]
                raise source.error(children_keys[name], 'groups.%s.children' % name,
                                   'groups contain each other: %s' % ' -> '.join(loop))
            visit(child, trail + [child])

    for name in children_keys:
        visit(name, [name])


def build_plan(config: Mapping, path: str, max_nodes: int = _nodeset.DEFAULT_MAX_NODES) -> Plan:
    """Everything the file declares, checked, in the file's order. Raises InventorySourceError."""
    source = _Source(path)
    plan = Plan()
    groups = config.get('groups')
    if groups is None:
        return plan
    if not isinstance(groups, Mapping):
        raise source.error(_key(config, 'groups'), 'groups', 'must be a mapping of group names, got %r' % (groups,))

    mac_files: dict[str, tuple[str, dict[str, _nodes.NodeRecord]]] = {}
    children_keys: dict[str, object] = {}
    for group_key, spec in groups.items():
        label = 'groups.%s' % group_key
        if not isinstance(group_key, str) or not group_key:
            raise source.error(group_key, 'groups', 'group names must be strings, got %r' % (group_key,))
        if isinstance(spec, str):
            plan.conditionals[group_key] = spec
            continue
        if not isinstance(spec, Mapping):
            raise source.error(group_key, label, 'must be a mapping (a node group) or a string (a conditional), got %r' % (spec,))
        unknown = [key for key in spec if key not in GROUP_KEYS]
        if unknown:
            raise source.error(unknown[0], label, 'unknown key %r; the keys are %s' % (unknown[0], ', '.join(GROUP_KEYS)))
        if not any(key in spec for key in ('nodes', 'nodes_file', 'children')):
            raise source.error(group_key, label, 'declares no nodes, nodes_file or children')
        group = PlannedGroup(name=str(group_key))

        nodes = _group_nodes(source, spec, label, max_nodes)
        seen: dict[str, str] = {}
        for name, _coordinates, origin in nodes:
            if name in seen:
                raise source.error(group_key, label, 'node %s is listed twice: %s and %s' % (name, seen[name], origin))
            seen[name] = origin
        addresses, address_origin = _group_addresses(source, spec, label, nodes)

        macs: dict[str, _nodes.NodeRecord] = {}
        if 'mac_file' in spec:
            mac_path, macs = _read_mac_file(source, spec, label)
            mac_files[mac_path] = (source.where(_key(spec, 'mac_file')), macs)

        for (name, coordinates, _origin), address in zip(nodes, addresses):
            host = plan.hosts.get(name)
            if host is None:
                host = plan.hosts[name] = PlannedHost(name=name, coordinates=coordinates)
                if coordinates:
                    host.variables['coordinates'] = list(coordinates)
                    host.variables.update(zip(COORDINATE_NAMES, coordinates))
            host.groups.append(group.name)
            group.hosts.append(name)
            if address is not None:
                _set_host_variable(host, 'ip', address, address_origin)
                _set_host_variable(host, 'ansible_host', address, address_origin)
            row = macs.get(name)
            if row is not None and row.mac:
                _set_host_variable(host, 'mac', row.mac, row.origin)
            if row is not None and row.ip:
                _set_host_variable(host, 'ip', row.ip, row.origin)
                _set_host_variable(host, 'ansible_host', row.ip, row.origin)

        if 'vars' in spec:
            if not isinstance(spec['vars'], Mapping):
                raise source.error(_key(spec, 'vars'), label + '.vars', 'must be a mapping, got %r' % (spec['vars'],))
            group.variables = dict(spec['vars'])
        if 'children' in spec:
            children = spec['children']
            if not isinstance(children, list) or not all(isinstance(child, str) for child in children):
                raise source.error(_key(spec, 'children'), label + '.children', 'must be a list of group names, got %r' % (children,))
            group.children = list(children)
            children_keys[group.name] = _key(spec, 'children')
        plan.groups[group.name] = group

    for parent, key in children_keys.items():
        for child in plan.groups[parent].children:
            if child not in plan.groups and child not in plan.conditionals:
                raise source.error(key, 'groups.%s.children' % parent, 'unknown group %r (declare it under groups)' % child)
    _check_no_loops(source, plan, children_keys)

    hosts = list(plan.hosts.values())
    try:
        for variable in ('ip', 'mac'):
            records = [_nodes.NodeRecord(name=host.name, origin=host.origins[variable], **{variable: str(host.variables[variable])})
                       for host in hosts if variable in host.variables]
            _nodes.check_unique(records, (variable,))
    except NetbootError as exc:
        raise InventorySourceError('%s: %s' % (path, exc)) from None

    for mac_path, (origin, macs) in mac_files.items():
        strays = sorted(name for name in macs if name not in plan.hosts)
        if strays:
            plan.warnings.append('%s (mac_file at %s): %d row(s) name no host of this inventory: %s'
                                 % (mac_path, origin, len(strays), ', '.join(strays[:5]) + (', ...' if len(strays) > 5 else '')))
    return plan


class InventoryModule(BaseInventoryPlugin, Constructable):

    NAME = 'cluster.netboot.nodes'

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        for available, library, error in ((_nodeset.HAS_CLUSTERSHELL, 'ClusterShell', _nodeset.CLUSTERSHELL_IMPORT_ERROR),
                                          (_addresses.HAS_NETADDR, 'netaddr', _addresses.NETADDR_IMPORT_ERROR)):
            if not available:
                raise AnsibleParserError('%s\n%s' % (missing_required_lib(library), error))
        source = _Source(path)
        try:
            # Loaded here first to report a YAML syntax error with its line
            # (_read_config_data keeps nothing but the error's text), and to
            # check what the option validation would report without a line.
            raw = self.loader.load_from_file(path, cache='none')
        except AnsibleError as exc:
            raise AnsibleParserError('%s: %s' % (source.where(getattr(exc, 'obj', None)), getattr(exc, 'message', exc))) from None
        if isinstance(raw, Mapping):
            # Ansible ignores keys that are no option: here a typo would lose a whole group.
            known = C.config.get_configuration_definitions(self.plugin_type, self._load_name) or {}
            unknown = [key for key in raw if known and key not in known]
            if unknown:
                raise AnsibleParserError(str(source.error(unknown[0], unknown[0], 'unknown option; the options are %s'
                                                          % ', '.join(sorted(known)))))
            if raw.get('groups') is not None and not isinstance(raw['groups'], Mapping):
                raise AnsibleParserError(str(source.error(_key(raw, 'groups'), 'groups', 'must be a mapping of group names, got %r'
                                                          % (raw['groups'],))))
        config = self._read_config_data(path)
        try:
            plan = build_plan(config, path, self.get_option('max_nodes'))
        except NetbootError as exc:
            raise AnsibleParserError(str(exc)) from None
        for warning in plan.warnings:
            self.display.warning(warning)
        self._populate(plan)

    def _populate(self, plan: Plan) -> None:
        # add_group may rewrite a name with characters Ansible does not like.
        names = {name: self.inventory.add_group(name) for name in list(plan.groups) + list(plan.conditionals)}
        for group in plan.groups.values():
            for variable, value in group.variables.items():
                self.inventory.set_variable(names[group.name], variable, value)
        for host in plan.hosts.values():
            for group in host.groups:
                self.inventory.add_host(host.name, group=names[group])
            for variable, value in host.variables.items():
                self.inventory.set_variable(host.name, variable, value)
        for group in plan.groups.values():
            for child in group.children:
                self.inventory.add_child(names[group.name], names[child])

        compose = self.get_option('compose')
        keyed_groups = self.get_option('keyed_groups')
        if not (compose or keyed_groups or plan.conditionals):
            return
        strict = self.get_option('strict')
        conditionals = {names[name]: condition for name, condition in plan.conditionals.items()}
        for name in plan.hosts:
            host = self.inventory.get_host(name)
            self._set_composite_vars(compose, combine_vars(get_group_vars(host.get_groups()), host.get_vars()), name, strict=strict)
            # Again: the composed variables may be what the groups are keyed on.
            variables = combine_vars(get_group_vars(host.get_groups()), host.get_vars())
            self._add_host_to_composed_groups(conditionals, variables, name, strict=strict, fetch_hostvars=False)
            self._add_host_to_keyed_groups(keyed_groups, variables, name, strict=strict, fetch_hostvars=False)
