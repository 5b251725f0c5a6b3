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
  - cluster.netboot.hosts
attributes:
  check_mode:
    support: full
    details: The candidate is still checked with C(dhcpd -t), through temporary files next to the live ones that are removed again.
  diff_mode:
    support: full
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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cluster.netboot.plugins.module_utils import _dhcpd, _files, _hosts
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import HAS_NETADDR, NETADDR_IMPORT_ERROR
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def _apply(module: AnsibleModule) -> dict:
    params = module.params
    path = params['path']
    wanted = _hosts.load(params['hosts'], params['hosts_file'], exclusive=params['exclusive'] and params['state'] == 'present',
                         allow_empty=params['allow_empty'])
    before = _files.read_bytes(path)
    existing = _hosts.parse_owned(before, path, _dhcpd.parse_hosts)
    plan = _hosts.plan_hosts(existing, wanted, state=params['state'], exclusive=params['exclusive'])
    if params['config'] is not None and params['state'] == 'present':
        networks = _dhcpd.subnets(params['config'], skip=[path])
        _hosts.check_in_subnets(plan.wanted, networks, params['config'])
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
            _hosts.argument_spec(),
            path=dict(type='path', required=True),
            config=dict(type='path'),
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
        with _hosts.file_lock(module.params['path'], module.check_mode):
            result = _apply(module)
    except NetbootError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
