# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # The three ways a per-node module receives its nodes (plugins/module_utils/_nodes.py).
    DOCUMENTATION = r'''
options:
  nodes:
    description:
      - The nodes, as a list of mappings with O(nodes[].name) and O(nodes[].ip) and/or O(nodes[].mac).
      - Exactly one of O(nodes), O(nodes_file) and O(nodeset) is required.
    type: list
    elements: dict
    suboptions:
      name:
        description: The node's name (reported back, used in error messages).
        type: str
        required: true
      ip:
        description: The node's IPv4 address.
        type: str
      mac:
        description: The node's MAC address, in any common notation (V(00:0D:B9:0A:12:34), V(00-0d-b9-0a-12-34), V(000d.b90a.1234)).
        type: str
  nodes_file:
    description:
      - A file B(on the managed host) listing the nodes, read in one pass so that 10,000 nodes
        do not pay ansible-core's per-item templating.
      - Either CSV whose header row names its columns among C(name), C(ip), C(mac) (any order;
        blank lines and lines starting with C(#) are skipped), or a YAML or JSON list of mappings
        with those keys. The format follows the extension (C(.csv), C(.json), C(.yml), C(.yaml)),
        otherwise the content.
    type: path
  nodeset:
    description:
      - A node range in ClusterShell NodeSet syntax, for example V(node[1-400]) or V(node[1-4,8]).
      - With O(ip_start), the nodes get consecutive addresses in the range's order.
    type: str
  ip_start:
    description:
      - The first address handed to O(nodeset)'s nodes; the next node gets the next address.
    type: str
'''
