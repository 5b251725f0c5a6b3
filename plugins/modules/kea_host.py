#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: kea_host
short_description: Reserve fixed IPv4 addresses for node MACs in Kea DHCPv4, applied without a restart
version_added: 0.1.0
description:
  - Manages the host reservations of Kea DHCPv4 (C(kea-dhcp4)) in one file that the main configuration
    includes as the value of C(reservations), globally (C(Dhcp4)) or in one subnet, for thousands of
    hosts in one call. The same contract as M(cluster.netboot.dhcpd_host), through the same code for
    reading and checking host lists.
  - Nothing reaches the live file before it is checked. Duplicate names, MACs or IPs (within the input,
    against the reservations already in the file, and against reservations the main configuration holds
    itself), addresses outside every subnet the file applies to, and values that could break out of the
    JSON or Kea's syntax are refused. The candidate is then checked by C(kea-dhcp4 -t) together with the
    whole main configuration, and only then moved into place atomically, under a lock.
  - After a change the running server re-reads its configuration through its control socket
    (C(config-reload)), without a restart; leases and the process stay. Only when the configuration has no
    control socket does the module report RV(restart_required). Unchanged input writes nothing and
    reloads nothing.
  - If the server refuses the reload, the previous file is put back and the task fails.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
  - cluster.netboot.hosts
attributes:
  check_mode:
    support: full
    details: The candidate is still checked with C(kea-dhcp4 -t), through temporary files next to the live ones that are removed again; nothing is reloaded.
  diff_mode:
    support: full
options:
  path:
    description:
      - The reservations file this module owns, for example V(/etc/kea/reservations.json).
      - It holds only a JSON list of reservations in the form this module writes; a file with anything
        else is an error, never silently rewritten.
    type: path
    required: true
  config:
    description:
      - >-
        The main Kea DHCPv4 configuration, for example V(/etc/kea/kea-dhcp4.conf). It must include O(path)
        exactly once as the value of C(reservations), for example
        C("reservations": <?include "/etc/kea/reservations.json"?>), in C(Dhcp4) (global reservations,
        C(reservations-global) must then be true) or in one C(subnet4) entry.
      - Every address must lie inside the subnet the file is included in, or, for global reservations,
        inside a subnet whose C(reservations-global) is true.
      - Relative include paths are resolved from V(/).
    type: path
    required: true
  dhcpd_hosts_file:
    description:
      - An ISC dhcpd hosts file written by M(cluster.netboot.dhcpd_host) on the managed host, read as the
        host list, for the migration from dhcpd to Kea. It is only read, never changed.
    type: path
  validate:
    description:
      - Check the candidate with C(kea-dhcp4 -t) before it replaces the live file.
    type: bool
    default: true
  kea_path:
    description: The kea-dhcp4 binary used by O(validate).
    type: path
    default: /usr/sbin/kea-dhcp4
  reload:
    description:
      - When to send C(config-reload) to the server's control socket.
      - V(changed) after the file changed; V(always) also when it did not (for example because the caller
        changed the main configuration, so one reload covers both); V(never) leaves it to the caller.
      - A server that does not listen on the socket is not running; it reads the file when it starts.
    type: str
    choices: [changed, always, never]
    default: changed
notes:
  - The host_cmds hook of Kea is not needed, because the reservations live in the configuration file.
requirements:
  - netaddr (on the managed host)
  - C(kea-dhcp4) from kea-dhcp4-server on the managed host when O(validate=true)
seealso:
  - module: cluster.netboot.dhcpd_host
  - name: Kea host reservations
    description: The Kea Administrator Reference Manual, host reservations in DHCPv4.
    link: https://kea.readthedocs.io/en/kea-2.2.0/arm/dhcp4-srv.html#host-reservations-in-dhcpv4
'''

EXAMPLES = r'''
- name: Reserve addresses for two nodes and apply them without a restart
  cluster.netboot.kea_host:
    path: /etc/kea/reservations.json
    config: /etc/kea/kea-dhcp4.conf
    hosts:
      - {name: node1-2, mac: "00:0d:b9:0a:12:34", ip: 10.18.1.18}
      - name: node1-3
        mac: 00-0D-B9-0A-12-35
        ip: 10.18.1.19
        filename: efi64/syslinux.efi
        next_server: 10.18.0.1

- name: Move the hosts dhcpd_host manages to Kea
  cluster.netboot.kea_host:
    path: /etc/kea/reservations.json
    config: /etc/kea/kea-dhcp4.conf
    dhcpd_hosts_file: /etc/dhcp/dhcpd.hosts.conf

- name: Retire a node
  cluster.netboot.kea_host:
    path: /etc/kea/reservations.json
    config: /etc/kea/kea-dhcp4.conf
    hosts:
      - name: node1-2
    state: absent
'''

RETURN = r'''
added:
  description: Names of the hosts added to the file.
  returned: success
  type: list
  elements: str
  sample: [node1-2]
updated:
  description: Names of the hosts whose reservation changed (MAC, address or options).
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
  description: The number of reservations in the file afterwards.
  returned: success
  type: int
  sample: 2
reloaded:
  description: Whether the running server took the configuration through C(config-reload).
  returned: success
  type: bool
  sample: true
restart_required:
  description: The configuration changed and has no control socket, so the server must be restarted to read it.
  returned: success
  type: bool
  sample: false
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cluster.netboot.plugins.module_utils import _dhcpd, _files, _hosts, _kea
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import HAS_NETADDR, NETADDR_IMPORT_ERROR
from ansible_collections.cluster.netboot.plugins.module_utils._errors import FileStateError, NetbootError


def _wanted(params: dict) -> list:
    exclusive = params['exclusive'] and params['state'] == 'present'
    if params['dhcpd_hosts_file'] is None:
        return _hosts.load(params['hosts'], params['hosts_file'], exclusive=exclusive, allow_empty=params['allow_empty'])
    if not os.path.isfile(params['dhcpd_hosts_file']):
        raise FileStateError('dhcpd_hosts_file %s does not exist' % params['dhcpd_hosts_file'])
    records = _hosts.parse_owned(_files.read_bytes(params['dhcpd_hosts_file']), params['dhcpd_hosts_file'],
                                 _dhcpd.parse_hosts)
    _hosts.refuse_empty(records, 'dhcpd_hosts_file %s' % params['dhcpd_hosts_file'], exclusive, params['allow_empty'])
    return records


def _apply(module: AnsibleModule) -> dict:
    params = module.params
    path = params['path']
    config = _kea.read_config(params['config'], path)
    wanted = [_kea.canonical(record) for record in _wanted(params)]
    before = _files.read_bytes(path)
    existing = _hosts.parse_owned(before, path, _kea.parse_reservations)
    plan = _hosts.plan_hosts(existing, wanted, state=params['state'], exclusive=params['exclusive'])
    if params['state'] == 'present':
        _hosts.check_in_subnets(plan.wanted, config.networks, params['config'])
    _kea.check_others(config, plan.records)
    after = _kea.render_reservations(plan.records)
    result = {
        'changed': after != before,
        'added': plan.added,
        'updated': plan.updated,
        'removed': plan.removed,
        'hosts': len(plan.records),
        'reloaded': False,
        'restart_required': False,
    }
    if module._diff:
        result['diff'] = _files.text_diff(before, after, path)
    if result['changed'] and params['validate']:
        _kea.check_candidate(module.run_command, path, after, params['config'], kea_path=params['kea_path'])
    wants_reload = params['reload'] == 'always' or (params['reload'] == 'changed' and result['changed'])
    if module.check_mode:
        return result
    if result['changed']:
        # A new file readable by the _kea user the service runs as; an existing one keeps its mode.
        _files.atomic_write(module, path, after, mode=0o644 if before is None else None)
    if not wants_reload:
        return result
    if config.socket is None:
        result['restart_required'] = True
        return result
    try:
        result['reloaded'] = _kea.reload(config.socket)
    except NetbootError:
        if result['changed']:
            # The server keeps what it had; so does the file.
            if before is None:
                _files.remove(path)
            else:
                _files.atomic_write(module, path, before)
        raise
    if not result['reloaded']:
        module.warn('no Kea server listens on %s: the reservations take effect when it starts' % config.socket)
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            _hosts.argument_spec(),
            path=dict(type='path', required=True),
            config=dict(type='path', required=True),
            dhcpd_hosts_file=dict(type='path'),
            validate=dict(type='bool', default=True),
            kea_path=dict(type='path', default=_kea.DEFAULT_KEA),
            reload=dict(type='str', choices=['changed', 'always', 'never'], default='changed'),
        ),
        mutually_exclusive=[('hosts', 'hosts_file', 'dhcpd_hosts_file')],
        required_one_of=[('hosts', 'hosts_file', 'dhcpd_hosts_file')],
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
