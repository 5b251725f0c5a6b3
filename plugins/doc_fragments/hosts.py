# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:

    # The host list of the DHCP binding modules (dhcpd_host, kea_host): one contract, one code path.
    DOCUMENTATION = r'''
options:
  hosts:
    description:
      - The hosts, as a list of mappings. Exactly one host source (this, O(hosts_file), or another the module
        offers) is required.
      - With O(state=absent), only O(hosts[].name) is used.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The host's name; the node also receives it as its host name (dhcpd with C(use-host-decl-names on),
            Kea's C(hostname)) unless O(hosts[].hostname) is set.
          - Letters, digits, C(-) and C(_), parts of at most 63 characters joined by dots, 253 at most in all.
            Compared case-insensitively.
        type: str
        required: true
      mac:
        description:
          - The MAC address, written as V(00:0D:B9:0A:12:34), V(00-0d-b9-0a-12-34), V(000d.b90a.1234) or V(000db90a1234).
          - Other forms (a bare number such as V(1), groups of one digit) are refused, and so are the addresses no NIC
            has - all zero, broadcast and multicast (the lowest bit of the first octet set).
        type: str
      ip:
        description:
          - The fixed IPv4 address. Never V(0.0.0.0/8), multicast, V(240.0.0.0/4) or V(255.255.255.255), and never
            the network or broadcast address of the subnet it lies in.
        type: str
      hostname:
        description: An explicit host name for this host (dhcpd's C(option host-name), Kea's C(hostname)).
        type: str
      filename:
        description: The boot file this host loads instead of the configuration's default (C(filename), C(boot-file-name)).
        type: str
      next_server:
        description: The IPv4 address of the TFTP server this host loads its boot file from (C(next-server)).
        type: str
  hosts_file:
    description:
      - A file B(on the managed host) listing the hosts, read in one pass so that 10,000 hosts do not
        pay ansible-core's per-item templating.
      - Either CSV whose header row names its columns among C(name), C(mac), C(ip), C(hostname),
        C(filename), C(next_server) (any order; blank lines and lines starting with C(#) are skipped; a UTF-8
        byte order mark is allowed), or a YAML or JSON list of mappings with those keys. The format follows the
        extension (C(.csv), C(.json), C(.yml), C(.yaml)), otherwise the content.
    type: path
  state:
    description:
      - V(present) adds or updates the hosts; V(absent) removes the named hosts.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With V(true) and O(state=present), the file holds exactly the given hosts afterwards; the
        others are removed.
      - An empty host list (an empty or header-only O(hosts_file), or O(hosts=[])) is refused unless
        O(allow_empty=true), because it would remove every binding.
    type: bool
    default: false
  allow_empty:
    description:
      - With O(exclusive=true), accept an empty host list and remove every binding. Without it such a call
        fails and changes nothing, since an empty export is far more often a mistake than the wish to unbind
        every node.
    type: bool
    default: false
'''
