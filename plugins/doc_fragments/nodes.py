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
        description:
          - The node's name (reported back, used in error messages), without white space; at most 253
            characters, each dot-separated part at most 63 (the host name limits). None of C(,[]!&^@),
            which a node range reads as syntax.
        type: str
        required: true
      ip:
        description:
          - The node's IPv4 address, in dotted-quad form. An address no node can have is refused -
            V(0.0.0.0/8), multicast V(224.0.0.0/4), V(240.0.0.0/4) and V(255.255.255.255).
        type: str
      mac:
        description:
          - The node's MAC address, written as V(00:0D:B9:0A:12:34), V(00-0d-b9-0a-12-34), V(000d.b90a.1234) or
            V(000db90a1234). Other forms (a bare number such as V(1), groups of one digit) are refused, and so
            are the addresses no NIC has - all zero, broadcast and multicast (the lowest bit of the first octet set).
          - Quote it in YAML, where an unquoted V(10:20:30:40:50:60) can be read as a number.
        type: str
  nodes_file:
    description:
      - A file B(on the managed host) listing the nodes, read in one pass so that 10,000 nodes
        do not pay ansible-core's per-item templating.
      - Either CSV whose header row names its columns among C(name), C(ip), C(mac) (any order;
        blank lines and lines starting with C(#) are skipped), or a YAML or JSON list of mappings
        with those keys. The format follows the extension (C(.csv), C(.json), C(.yml), C(.yaml)),
        otherwise the content. The file is read as UTF-8; a byte order mark at its start is ignored.
    type: path
  nodeset:
    description:
      - A node range in ClusterShell NodeSet syntax, for example V(node[1-400]) or V(node[1-4,8]).
      - With O(ip_start), the nodes get consecutive addresses in the range's order.
      - A range over O(max_nodes) nodes is refused at once, before it is expanded.
    type: str
  ip_start:
    description:
      - The first address handed to O(nodeset)'s nodes; the next node gets the next address.
    type: str
'''

    # The bound on node ranges: the modules' O(nodeset) and the nodeset filters.
    MAX_NODES = r'''
options:
  max_nodes:
    description:
      - The most nodes a node range may name. A longer range is refused at once, naming its size; the size is
        read from the range's text, so a mistyped V(n[1-99999999]) costs neither time nor memory.
      - Raise it only for a range that really is that long (ClusterShell holds each name in memory).
    type: int
    default: 1000000
'''
