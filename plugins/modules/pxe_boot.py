#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: pxe_boot
short_description: Point many nodes at a PXELINUX, GRUB or iPXE boot config in one call
version_added: 0.1.0
description:
  - Makes each node's PXELINUX pointer, C(pxelinux.cfg/<IP in upper-case hex>) (for example V(0A120112) for
    V(10.18.1.18)) and/or C(pxelinux.cfg/01-<mac>) (for example V(01-00-0d-b9-0a-12-34)), a relative symlink
    to the config O(boot), so that the node boots it on its next network boot.
  - With O(loader) the same call also (or instead) makes the nodes' GRUB and iPXE pointers, each a relative
    symlink to the config O(boot) in that loader's directory (written by M(cluster.netboot.pxe_config) with
    the same O(loader)) - C(grub/grub.cfg-01-<mac>) and C(grub/grub.cfg-<dotted IP>) (for example
    V(grub.cfg-10.18.1.18)), C(ipxe/<mac with dashes>.ipxe) (C(${mac:hexhyp}), for example
    V(00-0d-b9-0a-12-34.ipxe)) and C(ipxe/<dotted IP>.ipxe) (C(${ip})). Every loader's O(boot) config must
    exist before any pointer changes.
  - "What the real loaders ask for (Debian 12, OVMF with Secure Boot, C(shimx64.efi) loading C(grubx64.efi) =
    C(grubnetx64.efi.signed) from its own TFTP directory) - shim fetches C(grubx64.efi); Debian's signed network
    GRUB 2.06 has the built-in prefix C((tftp,SERVER)/grub) and sources C(/grub/x86_64-efi/grub.cfg) when it
    exists, else C(/grub/grub.cfg); it asks for no per-node name by itself. Only GRUB's C(normal) command
    searches C(grub.cfg-01-<mac>) first. So C(grub/grub.cfg) is a small dispatcher - it turns
    C($net_default_mac) (C(52:54:00:12:34:56)) into the dashed form with C(regexp) and sources
    C(grub.cfg-01-<mac>), else C(grub.cfg-$net_default_ip), else C(default). iPXE's dispatcher
    C(ipxe/boot.ipxe) runs C(chain ${mac:hexhyp}.ipxe || chain ${ip}.ipxe || chain default). Both dispatchers
    are written by M(cluster.netboot.pxe_config) with O(cluster.netboot.pxe_config#module:dispatcher=true)
    (the C(tftp_server) role does it)."
  - With O(state=absent) the pointers are removed and the nodes fall back to C(pxelinux.cfg/default)
    (C(grub/default), C(ipxe/default) through the dispatchers).
  - The whole node list is handled in one pass, one C(readlink) per pointer; 10,000 nodes is normal input.
    For lists that long, O(nodes_file) or O(nodeset) avoid ansible-core's per-item cost of a long O(nodes) list.
  - A changed pointer is created under a temporary name and renamed over the old one, so a node never sees
    a missing pointer while it changes; a new one is a single C(symlink), which appears whole.
  - Temporary pointers and files that a killed run left in C(pxelinux.cfg/) are removed (not in check mode).
  - Refused with a clear message and nothing changed - a O(boot) config that does not exist or resolves
    outside O(tftp_root), a C(pxelinux.cfg) linked out of O(tftp_root), an invalid IP or MAC, an address no
    node can have (see O(network)), two nodes with the same name, IP or MAC, a node without the address
    O(key) needs, a range over O(max_nodes), and a pointer path holding a regular file (unless
    O(force=true)) or a directory.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
  - cluster.netboot.nodes
  - cluster.netboot.nodes.max_nodes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
requirements:
  - netaddr (Debian package C(python3-netaddr)) on the managed host
  - ClusterShell (C(python3-clustershell)) on the managed host, only for O(nodeset)
  - PyYAML on the managed host, only for a YAML O(nodes_file)
options:
  tftp_root:
    description:
      - The directory the TFTP server serves; pointers and configs are in its C(pxelinux.cfg/).
    type: path
    default: /srv/tftp
  network:
    description:
      - The IPv4 network of the nodes in CIDR form, for example V(10.18.0.0/16). When given, every node address
        must lie inside it and be neither its network address nor its broadcast address (a V(/31) or V(/32) has
        neither).
      - Without it, only the addresses no node can have anywhere are refused - V(0.0.0.0/8), multicast
        V(224.0.0.0/4), V(240.0.0.0/4) and V(255.255.255.255).
    type: str
  boot:
    description:
      - The config to point the nodes at, a file in C(pxelinux.cfg/) (for example V(orbit-2.0.0), or
        V(x86_64/2.6.23-rc8) in a sub directory). It must exist, see M(cluster.netboot.pxe_config).
      - Required when O(state=present); ignored when O(state=absent).
    type: str
  key:
    description:
      - Which pointer each node gets. V(ip) the hex IP name, V(mac) the C(01-<mac>) name (PXELINUX tries it
        first), V(both) both names. Every node must have the address(es) the key names.
      - For GRUB and iPXE the names differ, see the description; the key means the same address.
    type: str
    choices: [ip, mac, both]
    default: ip
  loader:
    description:
      - The boot loader(s) whose pointers are made, all in one pass - V(pxelinux) in C(pxelinux.cfg/),
        V(grub) in C(grub/), V(ipxe) in C(ipxe/). O(boot) names a config in each of those directories.
    type: list
    elements: str
    choices: [pxelinux, grub, ipxe]
    default: [pxelinux]
    version_added: 0.1.0
  state:
    description:
      - V(present) points the nodes at O(boot); V(absent) removes their pointers.
    type: str
    choices: [present, absent]
    default: present
  report:
    description:
      - Which pointers RV(nodes) lists. V(all) every pointer; V(changed) only those that changed (or would
        change). Both group pointers that agree into one entry, so the result stays small either way.
        RV(summary) always counts all.
    type: str
    choices: [all, changed]
    default: all
  force:
    description:
      - Replace (or with O(state=absent), remove) a regular file that stands at a pointer path, such as a
        per-node config written by hand. Directories are never touched.
    type: bool
    default: false
seealso:
  - module: cluster.netboot.pxe_config
  - name: PXELINUX configuration file lookup
    description: The order in which PXELINUX asks for config files.
    link: https://wiki.syslinux.org/wiki/index.php?title=PXELINUX#Configuration
'''

EXAMPLES = r'''
- name: Boot node1-2 into the imaging ramdisk on its next PXE boot
  cluster.netboot.pxe_boot:
    tftp_root: /srv/tftp
    nodes:
      - {name: node1-2, ip: 10.18.1.18, mac: "00:0D:B9:0A:12:34"}
    boot: orbit-2.0.0

- name: Point 400 nodes with consecutive addresses at a config, by IP
  cluster.netboot.pxe_boot:
    nodeset: node[1-400]
    ip_start: 10.10.0.1
    boot: orbit-2.0.0

- name: Point every node of a CSV file (header row name,ip,mac) at a config, by IP and MAC
  cluster.netboot.pxe_boot:
    nodes_file: /etc/cluster/nodes.csv
    boot: orbit-2.0.0
    key: both

- name: Point UEFI nodes (GRUB behind shim) and iPXE nodes at the same imaging spec, by MAC
  cluster.netboot.pxe_boot:
    nodes_file: /etc/cluster/nodes.csv
    boot: orbit-2.0.0
    key: mac
    loader: [pxelinux, grub, ipxe]

- name: Let the nodes boot their local disk again (pxelinux.cfg/default)
  cluster.netboot.pxe_boot:
    nodes_file: /etc/cluster/nodes.csv
    key: both
    state: absent
'''

RETURN = r'''
nodes:
  description:
    - The pointers, grouped - one entry per loader, key, previous target, new target and changed, its nodes
      folded into one node range (ClusterShell NodeSet syntax). An unchanged rerun over 10,000 nodes returns one
      entry, V(node[1-10000]), instead of 10,000 (ansible-core spends tens of microseconds on every returned
      dict).
    - Every pointer is in exactly one entry; expand RV(nodes[].nodeset) with the
      P(cluster.netboot.nodeset_expand#filter) filter for the names, or give it to
      M(cluster.netboot.node_power) as O(cluster.netboot.node_power#module:nodeset) as it is. The pointer's
      file name follows from the node's address, O(loader) and O(key) (see the description); the diff names
      each changed pointer's file.
    - Entries are in the order of their first pointer in the input; with O(report=changed), only the
      entries of pointers that changed.
  returned: always
  type: list
  elements: dict
  contains:
    nodeset:
      description: The nodes whose pointers are in this entry, as one node range.
      type: str
      sample: node[1-400,402]
    count:
      description: How many pointers (nodes) the entry holds.
      type: int
      sample: 401
    loader:
      description: The boot loader whose pointers these are, V(pxelinux), V(grub) or V(ipxe).
      type: str
      sample: pxelinux
    key:
      description: Which address the pointers are named after, V(ip) or V(mac).
      type: str
      sample: ip
    previous:
      description: The pointers' target before the task, V(null) when there was no symlink.
      type: str
      sample: harddisk
    target:
      description: The pointers' target after the task, V(null) when they are removed.
      type: str
      sample: orbit-2.0.0
    changed:
      description: Whether these pointers were (or in check mode, would be) changed.
      type: bool
      sample: true
  sample:
    - {nodeset: "node[1-400,402]", count: 401, loader: pxelinux, key: ip, previous: harddisk, target: orbit-2.0.0,
       changed: true}
    - {nodeset: node401, count: 1, loader: pxelinux, key: ip, previous: orbit-2.0.0, target: orbit-2.0.0,
       changed: false}
summary:
  description: Counts over all pointers.
  returned: always
  type: dict
  contains:
    nodes:
      description: Number of nodes.
      type: int
    pointers:
      description: Number of pointers (nodes times one or two).
      type: int
    created:
      description: Pointers that did not exist before.
      type: int
    replaced:
      description: Pointers that pointed elsewhere (or were a regular file replaced with O(force=true)).
      type: int
    removed:
      description: Pointers removed (O(state=absent)).
      type: int
    unchanged:
      description: Pointers already as wanted.
      type: int
  sample: {nodes: 10000, pointers: 10000, created: 12, replaced: 3, removed: 0, unchanged: 9985}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cluster.netboot.plugins.module_utils import _files, _nodes, _pxe
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


@_nodes.bulk_work()
def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            _nodes.argument_spec(),
            tftp_root=dict(type='path', default='/srv/tftp'),
            network=dict(type='str'),
            boot=dict(type='str'),
            key=dict(type='str', choices=['ip', 'mac', 'both'], default='ip'),
            loader=dict(type='list', elements='str', choices=list(_pxe.LOADERS), default=['pxelinux']),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            report=dict(type='str', choices=['all', 'changed'], default='all'),
            force=dict(type='bool', default=False),
        ),
        required_if=[('state', 'present', ('boot',))],
        supports_check_mode=True,
        **_nodes.ARGUMENT_RULES,
    )
    params = module.params
    _nodes.check_libraries(module)
    try:
        root = _pxe.check_tftp_root(params['tftp_root'])
        networks = None if params['network'] is None else [params['network']]
        records = _nodes.from_params(params, networks=networks)
        _nodes.check_unique(records)
        # One lock per TFTP root, shared with pxe_config: a config cannot vanish while nodes are pointed at it.
        with _files.locked_directory(root) as locked_since:
            loaders = list(dict.fromkeys(params['loader']))
            plan = []
            for loader in loaders:
                target = _pxe.boot_target(root, params['boot'], loader) if params['state'] == 'present' else None
                plan += _pxe.plan_pointers(root, records, params['key'], target, params['state'], params['force'],
                                           loader)
            if not module.check_mode:
                for loader in loaders:
                    _pxe.remove_leftovers(root, locked_since, loader)
                _pxe.apply_pointers(plan)
    except NetbootError as exc:
        module.fail_json(msg=str(exc))
    summary = _pxe.summarize(plan)
    summary['nodes'] = len(records)
    result = dict(
        changed=summary['pointers'] != summary['unchanged'],
        nodes=_pxe.report(plan, changed_only=params['report'] == 'changed'),
        summary=summary,
    )
    if module._diff:
        result['diff'] = _pxe.pointer_diff(root, plan, loaders)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
