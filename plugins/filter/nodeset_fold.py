# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: nodeset_fold
short_description: Fold node names into a node range (ClusterShell NodeSet syntax)
version_added: 0.1.0
description:
  - Folds a list of node names (or ranges) into the shortest ClusterShell NodeSet form, for example
    V([node1, node2, node3, node4, node8]) into V(node[1-4,8]).
  - A string input is split on commas and white space. A list holds node names or ranges, each a string
    without white space; anything else (a mapping, a name with a space) is refused, never turned into a string.
  - Node groups (V(@name)) are refused; no group resolver or external command is ever run.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.nodes.max_nodes
options:
  _input:
    description: Node names or ranges.
    type: raw
    required: true
seealso:
  - plugin: cluster.netboot.nodeset_expand
    plugin_type: filter
  - name: ClusterShell NodeSet syntax
    description: The range syntax, as the C(nodeset) command understands it.
    link: https://clustershell.readthedocs.io/en/latest/tools/nodeset.html
requirements:
  - ClusterShell (on the controller)
'''

EXAMPLES = r'''
- name: A short name for the hosts of a group
  ansible.builtin.debug:
    msg: "{{ groups['rack1'] | cluster.netboot.nodeset_fold }}"
  # => node[1-4,8]
'''

RETURN = r'''
_value:
  description: The node range.
  type: str
  sample: node[1-4,8]
'''

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def nodeset_fold(names: object, max_nodes: int = _nodeset.DEFAULT_MAX_NODES) -> str:
    # A generator (from map()) is fine; a mapping is not a list of names.
    if isinstance(names, Mapping) or not (isinstance(names, str) or hasattr(names, '__iter__')):
        raise AnsibleFilterError('nodeset_fold: expected a list of node names or a string, got %r' % (names,))
    try:
        return _nodeset.fold(names, max_nodes)  # type: ignore[arg-type]
    except NetbootError as exc:
        raise AnsibleFilterError('nodeset_fold: %s' % exc) from None


class FilterModule:

    def filters(self) -> dict:
        return {'nodeset_fold': nodeset_fold}
