# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: ipv4_range_nodes
short_description: One node per address of an IPv4 range, named in order
version_added: 0.1.0
description:
  - >-
    Turns a range of addresses, V({start: 10.18.250.1, end: 10.18.250.99}), into one node per address, in
    the form of M(cluster.netboot.pxe_boot)'s C(nodes), named O(prefix) followed by 1, 2, 3 and so on.
  - A range over O(max_nodes) addresses is refused at once, naming its size, before any node is made.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.nodes.max_nodes
options:
  _input:
    description: The range, a mapping with the first address C(start) and the last C(end) (both included).
    type: dict
    required: true
  prefix:
    description: The nodes' names before their number.
    type: str
    default: node
seealso:
  - module: cluster.netboot.pxe_boot
requirements:
  - netaddr (on the controller)
'''

EXAMPLES = r'''
- name: Point every address of a DHCP range at the discovery ramdisk
  cluster.netboot.pxe_boot:
    tftp_root: /srv/tftp
    nodes: "{{ {'start': '10.18.250.1', 'end': '10.18.250.3'} | cluster.netboot.ipv4_range_nodes(prefix='discovery-') }}"
    boot: discovery
    key: ip
  # nodes => [{'name': 'discovery-1', 'ip': '10.18.250.1'}, {'name': 'discovery-2', 'ip': '10.18.250.2'},
  #           {'name': 'discovery-3', 'ip': '10.18.250.3'}]
'''

RETURN = r'''
_value:
  description: One node per address, in address order.
  type: list
  elements: dict
  sample: [{name: discovery-1, ip: 10.18.250.1}, {name: discovery-2, ip: 10.18.250.2}]
'''

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import ipv4_range
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def ipv4_range_nodes(addresses: Mapping[str, object], prefix: str = 'node',
                     max_nodes: int = _nodeset.DEFAULT_MAX_NODES) -> list[dict[str, str]]:
    if not isinstance(addresses, Mapping) or 'start' not in addresses or 'end' not in addresses:
        raise AnsibleFilterError('ipv4_range_nodes: expected a mapping with start and end, got %r' % (addresses,))
    try:
        found = ipv4_range(addresses['start'], addresses['end'], max_nodes)
    except NetbootError as exc:
        raise AnsibleFilterError('ipv4_range_nodes: %s' % exc) from None
    return [{'name': '%s%d' % (prefix, number), 'ip': ip} for number, ip in enumerate(found, 1)]


class FilterModule:

    def filters(self) -> dict:
        return {'ipv4_range_nodes': ipv4_range_nodes}
