# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: inventory_nodes
short_description: Node entries (name, ip, mac and more) from the host variables of inventory hosts
version_added: 0.1.0
positional: names
description:
  - Builds one entry per host of O(names), in that order, in the form of the per-node modules' C(nodes) and
    C(hosts) options, for example M(cluster.netboot.dhcpd_host) and M(cluster.netboot.pxe_boot).
  - A host's C(ip) is its C(ip) variable, or else its C(ansible_host); its C(mac) is its C(mac) variable.
    A field whose variable is unset, null or empty is left out of the entry.
  - Names and addresses are checked like every node list of the collection (a malformed or impossible MAC
    or address is an error naming the host); addresses come out in canonical form.
author:
  - cluster.netboot contributors (!UNKNOWN)
options:
  _input:
    description: The host variables of the inventory, C(hostvars).
    type: dict
    required: true
  names:
    description: The hosts to make entries of, for example V(groups['nodes']).
    type: list
    elements: str
    required: true
  require:
    description: The fields a host must have to get an entry; see O(incomplete).
    type: list
    elements: str
    choices: [ip, mac]
    default: [mac, ip]
  incomplete:
    description:
      - What becomes of a host without a field of O(require).
      - V(skip) leaves it out; V(fail) is an error naming the host.
    type: str
    choices: [skip, fail]
    default: skip
  extra:
    description:
      - >-
        Further host variables to carry over, each to the entry field given, for example
        V({'dhcp_filename': 'filename'}).
    type: dict
    default: {}
seealso:
  - module: cluster.netboot.dhcpd_host
  - module: cluster.netboot.pxe_boot
requirements:
  - netaddr (on the controller, for addresses not written in canonical form)
'''

EXAMPLES = r'''
- name: DHCP bindings for every node with a MAC and an address, with their own boot files
  cluster.netboot.dhcpd_host:
    path: /etc/dhcp/nodes.conf
    hosts: >-
      {{ hostvars | cluster.netboot.inventory_nodes(groups['nodes'], extra={'dhcp_filename': 'filename'}) }}
  # => [{'name': 'node1', 'ip': '10.18.1.1', 'mac': '00:0d:b9:0a:12:34', 'filename': 'ipxe.efi'}, ...]

- name: Every diskless node, each with an address (an error names a host without one)
  ansible.builtin.set_fact:
    diskless_nodes: "{{ hostvars | cluster.netboot.inventory_nodes(groups['diskless'], require=['ip'], incomplete='fail') }}"
'''

RETURN = r'''
_value:
  description: One entry per host, with C(name) and those of C(ip), C(mac) and the O(extra) fields it has.
  type: list
  elements: dict
  sample: [{name: node1, ip: 10.18.1.1, mac: "00:0d:b9:0a:12:34"}]
'''

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.module_utils import _hostvars
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def inventory_nodes(hostvars: Mapping, names: Sequence[str], require: Sequence[str] = ('mac', 'ip'),
                    incomplete: str = 'skip', extra: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    try:
        return _hostvars.inventory_nodes(hostvars, names, require, incomplete, extra)
    except NetbootError as exc:
        raise AnsibleFilterError('inventory_nodes: %s' % exc) from None


class FilterModule:

    def filters(self) -> dict:
        return {'inventory_nodes': inventory_nodes}
