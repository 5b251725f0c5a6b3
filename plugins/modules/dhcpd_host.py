#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: dhcpd_host
short_description: Bind node MAC addresses to fixed IPv4 addresses in an ISC dhcpd hosts file
version_added: 0.1.0
description:
  - Manages the C(host NAME { hardware ethernet MAC; fixed-address IP; }) entries of one include
    file of ISC dhcpd, for thousands of hosts in one call.
  - Nothing reaches the live file before it is checked. Duplicate names, MACs or IPs (within the
    input, and between the input and the entries already in the file), addresses outside every
    subnet of O(config) or that are a subnet's network or broadcast address, addresses and MACs no
    node can have, and values that could break out of the dhcpd syntax are refused. The
    candidate file is then checked by C(dhcpd -t) together with the whole main configuration, and
    only then moved into place atomically. A refused change leaves the live file byte-identical.
  - The file is written in a stable order (by address), so unchanged input gives an identical file
    and C(changed=false).
  - The module never restarts dhcpd; restart it once per batch, for example from a handler.
  - Two runs at the same time are serialised by a lock file next to O(path) (V(<path>.lock)).
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
attributes:
  check_mode:
    details: The candidate is still checked with C(dhcpd -t), through temporary files next to the live ones that are removed again.
options:
  path:
    description:
      - The hosts include file this module owns, for example V(/etc/dhcp/dhcpd.hosts.conf).
      - It holds only host entries in the form this module writes; a file with anything else
        (other statements, unreadable lines) is an error, never silently rewritten.
    type: path
    required: true
  config:
    description:
      - The main dhcpd configuration that includes O(path) with an C(include "<path>";) statement.
      - When given, every host address must lie inside a C(subnet ... netmask ...) declared there
        (or in a file it includes), and O(validate) checks the whole configuration with the
        candidate hosts file in place.
      - Relative include paths are resolved from V(/), the working directory of the dhcpd service.
    type: path
  hosts:
    description:
      - The hosts, as a list of mappings. Exactly one of O(hosts) and O(hosts_file) is required.
      - With O(state=absent), only O(hosts[].name) is used.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The host declaration name; with C(use-host-decl-names on) the node also receives it as its host name.
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
          - The fixed IPv4 address. Never V(0.0.0.0/8), multicast, V(240.0.0.0/4) or V(255.255.255.255); with O(config),
            never the network or broadcast address of the subnet it lies in.
        type: str
      hostname:
        description: An explicit C(option host-name) for this host.
        type: str
      filename:
        description: The boot file this host loads instead of the configuration's default (C(filename)).
        type: str
      next_server:
        description: The IPv4 address of the TFTP server this host loads its boot file from (C(next-server)).
        type: str
  hosts_file:
    description:
      - A file B(on the managed host) listing the hosts, read in one pass so that 10,000 hosts do not
        pay ansible-core's per-item templating.
      - Either CSV whose header row names its columns among C(name), C(mac), C(ip), C(hostname),
        C(filename), C(next_server) (any order; blank lines and lines starting with C(#) are skipped),
        or a YAML or JSON list of mappings with those keys. The format follows the extension
        (C(.csv), C(.json), C(.yml), C(.yaml)), otherwise the content. A byte order mark at its start is ignored.
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
    type: bool
    default: false
  validate:
    description:
      - Check the candidate with C(dhcpd -t -cf) before it replaces the live file.
    type: bool
    default: true
  dhcpd_path:
    description: The dhcpd binary used by O(validate).
    type: path
    default: /usr/sbin/dhcpd
notes:
  - The checks that run before C(dhcpd -t) matter, because dhcpd itself accepts two hosts with the same MAC
    or the same fixed address, and fixed addresses outside every subnet, and then serves the wrong
    binding or none.
requirements:
  - netaddr (on the managed host)
  - C(dhcpd) from isc-dhcp-server on the managed host when O(validate=true)
seealso:
  - name: dhcpd.conf(5)
    description: ISC dhcpd configuration, host declarations.
    link: https://manpages.debian.org/bookworm/isc-dhcp-server/dhcpd.conf.5.en.html
'''

EXAMPLES = r'''
- name: Bind two nodes
  cluster.netboot.dhcpd_host:
    path: /etc/dhcp/dhcpd.hosts.conf
    config: /etc/dhcp/dhcpd.conf
    hosts:
      - {name: node1-2, mac: "00:0d:b9:0a:12:34", ip: 10.18.1.18}
      - name: node1-3
        mac: 00-0D-B9-0A-12-35
        ip: 10.18.1.19
        hostname: node1-3.sb8
        filename: pxelinux.0
        next_server: 10.18.0.1
  notify: Restart dhcpd

- name: The whole cluster from a CSV file on the DHCP server (name,mac,ip header)
  cluster.netboot.dhcpd_host:
    path: /etc/dhcp/dhcpd.hosts.conf
    config: /etc/dhcp/dhcpd.conf
    hosts_file: /srv/cluster/nodes.csv
    exclusive: true
  notify: Restart dhcpd

- name: Retire a node
  cluster.netboot.dhcpd_host:
    path: /etc/dhcp/dhcpd.hosts.conf
    config: /etc/dhcp/dhcpd.conf
    hosts:
      - name: node1-2
    state: absent
  notify: Restart dhcpd
'''

RETURN = r'''
added:
  description: Names of the hosts added to the file.
  returned: success
  type: list
  elements: str
  sample: [node1-2]
updated:
  description: Names of the hosts whose entry changed (MAC, address or options).
  returned: success
  type: list
  elements: str
  sample: [node1-3]
removed:
  description: Names of the hosts removed from the file.
  returned: success
  type: list
  elements: str
  sample: []
hosts:
  description: The number of host entries in the file afterwards.
  returned: success
  type: int
  sample: 2
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cluster.netboot.plugins.module_utils import _dhcpd, _files, _nodes
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import HAS_NETADDR, NETADDR_IMPORT_ERROR
from ansible_collections.cluster.netboot.plugins.module_utils._errors import FileStateError, NetbootError


def _apply(module: AnsibleModule) -> dict:
    params = module.params
    path = params['path']
    wanted = _nodes.load(nodes=params['hosts'], nodes_file=params['hosts_file'],
                         fields=_dhcpd.HOST_FIELDS, list_label='hosts')
    before = _files.read_bytes(path)
    if before is None:
        existing = []
    else:
        try:
            text = before.decode('ascii')
        except UnicodeDecodeError:
            raise FileStateError('%s holds non-ASCII bytes; this module does not write those' % path) from None
        existing = _dhcpd.parse_hosts(text, path)
    plan = _dhcpd.plan_hosts(existing, wanted, state=params['state'], exclusive=params['exclusive'])
    if params['config'] is not None and params['state'] == 'present':
        networks = _dhcpd.subnets(params['config'], skip=[path])
        _dhcpd.check_in_subnets(plan.wanted, networks, params['config'])
    after = _dhcpd.render_hosts(plan.records)
    result = {
        'changed': after != before,
        'added': plan.added,
        'updated': plan.updated,
        'removed': plan.removed,
        'hosts': len(plan.records),
    }
    if module._diff:
        result['diff'] = _files.text_diff(before, after, path)
    if not result['changed']:
        return result
    if params['validate']:
        _dhcpd.check_candidate(module.run_command, path, after, config_path=params['config'],
                               dhcpd_path=params['dhcpd_path'])
    if not module.check_mode:
        _files.atomic_write(module, path, after)
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            config=dict(type='path'),
            hosts=dict(type='list', elements='dict', options=dict(
                name=dict(type='str', required=True),
                mac=dict(type='str'),
                ip=dict(type='str'),
                hostname=dict(type='str'),
                filename=dict(type='str'),
                next_server=dict(type='str'),
            )),
            hosts_file=dict(type='path'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            exclusive=dict(type='bool', default=False),
            validate=dict(type='bool', default=True),
            dhcpd_path=dict(type='path', default=_dhcpd.DEFAULT_DHCPD),
        ),
        mutually_exclusive=[('hosts', 'hosts_file')],
        required_one_of=[('hosts', 'hosts_file')],
        supports_check_mode=True,
    )
    if not HAS_NETADDR:
        module.fail_json(msg=missing_required_lib('netaddr'), exception=NETADDR_IMPORT_ERROR)
    try:
        directory = os.path.dirname(os.path.abspath(module.params['path']))
        if not os.path.isdir(directory):
            raise FileStateError('the directory of %s does not exist' % module.params['path'])
        if module.check_mode:
            # Creating the lock file would already be a change; a dry run only reads.
            result = _apply(module)
        else:
            with _files.locked(module.params['path'] + '.lock'):
                result = _apply(module)
    except NetbootError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
