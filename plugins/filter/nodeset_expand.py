# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: nodeset_expand
short_description: Expand a node range (ClusterShell NodeSet syntax) into a list of names
version_added: 0.1.0
description:
  - Expands a node range such as V(node[1-4,8]) or V(node[1-2]-[1-2].grid) into the node names, in
    ClusterShell's sorted order.
  - Node groups (V(@name)) are refused; no group resolver or external command is ever run.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.nodes.max_nodes
options:
  _input:
    description: A node range in ClusterShell NodeSet syntax; several ranges may be separated by commas.
    type: str
    required: true
seealso:
  - plugin: cluster.netboot.nodeset_fold
    plugin_type: filter
  - name: ClusterShell NodeSet syntax
    description: The range syntax, as the C(nodeset) command understands it.
    link: https://clustershell.readthedocs.io/en/latest/tools/nodeset.html
requirements:
  - ClusterShell (on the controller)
'''

EXAMPLES = r'''
- name: The names of a rack
  ansible.builtin.debug:
    msg: "{{ 'node[1-4,8]' | cluster.netboot.nodeset_expand }}"
  # => ['node1', 'node2', 'node3', 'node4', 'node8']
'''

RETURN = r'''
_value:
  description: The node names.
  type: list
  elements: str
  sample: [node1, node2, node3, node4, node8]
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def nodeset_expand(pattern: object, max_nodes: int = _nodeset.DEFAULT_MAX_NODES) -> list[str]:
    try:
        return _nodeset.expand(pattern, max_nodes)
    except NetbootError as exc:
        raise AnsibleFilterError('nodeset_expand: %s' % exc) from None


class FilterModule:

    def filters(self) -> dict:
        return {'nodeset_expand': nodeset_expand}
