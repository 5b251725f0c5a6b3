# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: etc_hosts_conflicts
short_description: The lines of a hosts file (/etc/hosts) a new node's name and address clash with
version_added: 0.1.0
positional: name, ip
description:
  - >-
    Reads the text of a static host table (hosts(5)) and returns the entries that would make O(name) at
    O(ip) ambiguous, each as V(line N: <the line>).
  - An entry clashes when it gives O(ip) without O(name) (another node has the address) or O(name) at
    another address. Names are compared without regard to case, as the resolver does. The entry of O(name)
    at O(ip) itself (a rerun) is no clash; comments and IPv6 entries of other names are none either.
author:
  - cluster.netboot contributors (!UNKNOWN)
options:
  _input:
    description: The content of the hosts file.
    type: str
    required: true
  name:
    description: The new node's host name.
    type: str
    required: true
  ip:
    description: The new node's IPv4 address.
    type: str
    required: true
requirements:
  - netaddr (on the controller, for addresses not written in canonical form)
'''

EXAMPLES = r'''
- name: Refuse a name or address another node has
  ansible.builtin.assert:
    that: conflicts | length == 0
    fail_msg: "/srv/nfsroot/etc/hosts already has {{ conflicts | join('; ') }}"
  vars:
    conflicts: "{{ hosts_file.content | b64decode | cluster.netboot.etc_hosts_conflicts('node2', '10.18.1.2') }}"
  # with the line "10.18.1.2 node7" => ['line 3: 10.18.1.2 node7']
'''

RETURN = r'''
_value:
  description: "The clashing entries, V(line N: <the line>), in file order; empty when there is none."
  type: list
  elements: str
  sample: ['line 3: 10.18.1.2 node7']
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.module_utils import _etc_hosts
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def etc_hosts_conflicts(text: str, name: str, ip: str) -> list[str]:
    if not isinstance(text, str) or not isinstance(name, str) or not name.strip():
        raise AnsibleFilterError('etc_hosts_conflicts: expected the file text and a node name, got %r and %r'
                                 % (text, name))
    try:
        return _etc_hosts.describe(_etc_hosts.conflicts(text, name.strip(), ip))
    except NetbootError as exc:
        raise AnsibleFilterError('etc_hosts_conflicts: %s' % exc) from None


class FilterModule:

    def filters(self) -> dict:
        return {'etc_hosts_conflicts': etc_hosts_conflicts}
