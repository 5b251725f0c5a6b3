#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: node_discovery
short_description: Name the nodes a discovery run found and append them to a node file
version_added: 0.1.0
description:
  - Reads the facts documents that the imaging ramdisk in discovery mode (C(cnb.mode=discover)) posted to a
    report receiver, which keeps them in O(run_dir)C(/facts/), one per boot MAC, in order of arrival.
  - Optionally waits (the discovery window) until O(count) machines have reported, or O(timeout) seconds passed.
  - Names the machines in order of arrival - from O(nodeset) with consecutive addresses from O(ip_start)
    (names and addresses the node file already holds are skipped), or from a naming list (O(names) or
    O(names_file)) that binds each name to a C(mac) or to a system C(serial) (DMI C(product_serial)).
  - Appends the new nodes to O(node_file) as CSV rows (C(name,ip,mac)); the file is created with that
    header when missing. The existing bytes are kept as they are. M(cluster.netboot.pxe_boot),
    M(cluster.netboot.dhcpd_host), M(cluster.netboot.kea_host), the image_nodes role and the
    P(cluster.netboot.nodes#inventory) inventory plugin read the file as it is.
  - Writes every reported machine's hardware facts (NICs with MAC and link state, boot NIC, CPU model and
    count, memory, disks with size, model and serial, DMI vendor, product and serial, and the BMC interface
    when the firmware describes one) to O(facts_file), a JSON mapping of node name to facts; other nodes'
    entries stay.
  - A machine seen twice (two reports sharing a MAC, for example booted from two NICs) is one node. A machine
    whose MAC the node file binds to a node keeps that node (V(known)); the naming list giving it another
    name or address, a name or address the node file binds to another MAC, or one name for two machines is a
    conflict. Conflicts fail the task and nothing is written, unless O(allow_conflicts=true) (then the others
    are written and the conflicts returned). Nothing in the node file is ever overwritten.
  - Files are replaced through a temporary file and a rename; on any error both stay byte-identical.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
  - cluster.netboot.nodes.max_nodes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
requirements:
  - netaddr (Debian package C(python3-netaddr)) on the managed host
  - ClusterShell (C(python3-clustershell)) on the managed host, only for O(nodeset)
options:
  run_dir:
    description: The report receiver's run directory; the facts documents are in its C(facts/).
    type: path
    required: true
  node_file:
    description: The CSV node file to append to (created when missing). Its header row must have C(name) and C(mac), and C(ip) when nodes get addresses.
    type: path
    required: true
  facts_file:
    description: The JSON file of hardware facts per node. Without it, the facts are only returned.
    type: path
  nodeset:
    description:
      - Name the machines in order of arrival from this node range (ClusterShell syntax, for example V(node[1-400])).
      - Exactly one of O(nodeset), O(names) and O(names_file) is required.
    type: str
  ip_start:
    description: With O(nodeset), the address of the range's first node; the next node gets the next address.
    type: str
  names:
    description:
      - The naming list - mappings with C(name), optional C(ip), and either C(mac) (a MAC-to-name map) or C(serial)
        (the system serial, as a vendor ships them), the same key in every entry.
    type: list
    elements: dict
  names_file:
    description: The naming list as a node file on the managed host (CSV with a header row, YAML or JSON) with the columns of O(names).
    type: path
  network:
    description: The IPv4 network of the nodes in CIDR form; every address given must lie inside it.
    type: str
  count:
    description: Wait until this many machines reported (0, the default, does not wait).
    type: int
    default: 0
  timeout:
    description: The longest wait for O(count) machines, in seconds; then the machines that did report are named.
    type: int
    default: 600
  log_grace:
    description:
      - After the discovery window (with O(count) only), wait up to this many seconds for the console log that each
        machine sends right after its facts (O(run_dir)C(/logs/)); the C(log) of each of RV(nodes) names it.
    type: int
    default: 15
  allow_conflicts:
    description: Write the nodes without conflict and return the conflicts instead of failing.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Name up to 40 new nodes in order of arrival and add them to the node file
  cluster.netboot.node_discovery:
    run_dir: /var/lib/cluster-netboot/discovery/run-1
    node_file: /etc/cluster-netboot/nodes.csv
    facts_file: /etc/cluster-netboot/hardware.json
    nodeset: node[101-140]
    ip_start: 10.18.1.101
    count: 40
    timeout: 900

- name: Name them by the serials the vendor shipped (a CSV with name,ip,serial)
  cluster.netboot.node_discovery:
    run_dir: /var/lib/cluster-netboot/discovery/run-2
    node_file: /etc/cluster-netboot/nodes.csv
    names_file: /etc/cluster-netboot/rack12-serials.csv
'''

RETURN = r'''
nodes:
  description:
    - Every named machine, in order of arrival, with C(status) V(new) (appended) or V(known) (already in the file),
      its C(facts), and C(log), the console log it sent (empty when none arrived).
  type: list
  elements: dict
  returned: always
  sample: [{"name": "node101", "ip": "10.18.1.101", "mac": "52:54:00:00:00:01", "status": "new", "facts": {},
            "log": "/var/lib/cluster-netboot/discover-nodes/run-1/logs/52-54-00-00-00-01.log"}]
new:
  description: The names appended to the node file.
  type: list
  elements: str
  returned: always
conflicts:
  description: Why a machine could not be named as asked (returned with O(allow_conflicts=true); otherwise the failure message lists them).
  type: list
  elements: str
  returned: always
unnamed:
  description: Machines without a name (no free name left in the range, no entry in the naming list), with their MAC and the reason.
  type: list
  elements: dict
  returned: always
rejected:
  description: Facts documents that could not be read, with the reason.
  type: list
  elements: dict
  returned: always
reported:
  description: How many distinct machines reported.
  type: int
  returned: always
'''

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cluster.netboot.plugins.module_utils import _discovery, _files, _nodes, _nodeset
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def wait_for_machines(run_dir: str, count: int, timeout: float,
                      log_grace: float) -> tuple[list[_discovery.Machine], list[dict]]:
    """The discovery window: the machines reported once ``count`` did, or when ``timeout`` passed.

    Then up to ``log_grace`` seconds more for their console logs, which each sends right after its facts.
    """
    deadline = time.monotonic() + timeout
    while True:
        machines, rejected = _discovery.read_machines(_discovery.report_files(run_dir))
        if len(machines) >= count or time.monotonic() >= deadline:
            break
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    deadline = time.monotonic() + log_grace
    while (time.monotonic() < deadline
           and not all(os.path.exists(_discovery.log_path(run_dir, machine.mac)) for machine in machines)):
        time.sleep(0.5)
    return machines, rejected


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            run_dir=dict(type='path', required=True),
            node_file=dict(type='path', required=True),
            facts_file=dict(type='path'),
            nodeset=dict(type='str'),
            ip_start=dict(type='str'),
            names=dict(type='list', elements='dict'),
            names_file=dict(type='path'),
            network=dict(type='str'),
            max_nodes=dict(type='int', default=_nodeset.DEFAULT_MAX_NODES),
            count=dict(type='int', default=0),
            timeout=dict(type='int', default=600),
            log_grace=dict(type='int', default=15),
            allow_conflicts=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('nodeset', 'names', 'names_file')],
        required_one_of=[('nodeset', 'names', 'names_file')],
        required_by={'ip_start': 'nodeset'},
        supports_check_mode=True,
    )
    params = module.params
    _nodes.check_libraries(module)
    node_file, facts_file = params['node_file'], params['facts_file']
    try:
        networks = None if params['network'] is None else [params['network']]
        if params['nodeset'] is not None:
            naming = _discovery.naming_from_range(params['nodeset'], params['ip_start'], params['max_nodes'])
        else:
            naming = _discovery.naming_from_list(_nodes.load(
                nodes=params['names'], nodes_file=params['names_file'], fields=_discovery.NAMING_FIELDS,
                list_label='names', networks=networks))
        if params['count'] < 0 or params['timeout'] < 0:
            raise NetbootError('count and timeout must not be negative')
        machines, rejected = wait_for_machines(params['run_dir'], params['count'], params['timeout'],
                                               params['log_grace'] if params['count'] else 0)
        with _files.locked_directory(os.path.dirname(os.path.abspath(node_file))):
            before = _files.read_bytes(node_file)
            text = before.decode('utf-8-sig', errors='strict') if before is not None else ''
            existing = _nodes.from_text(text, node_file, networks=networks) if before is not None else []
            result = _discovery.plan(existing, machines, naming)
            if result.conflicts and not params['allow_conflicts']:
                raise NetbootError('discovery conflicts, nothing written: %s' % '; '.join(result.conflicts))
            after = _discovery.node_file_content(node_file, before, result.new)
            facts_before = _files.read_bytes(facts_file) if facts_file else None
            facts_after = (_discovery.facts_file_content(facts_file, facts_before, result.nodes)
                           if facts_file else None)
            node_changed = after != (before or b'')
            facts_changed = facts_after is not None and facts_after != facts_before
            if not module.check_mode:
                if facts_changed:
                    _files.atomic_write(module, facts_file, facts_after, 0o644)
                if node_changed:
                    _files.atomic_write(module, node_file, after, 0o644)
    except (NetbootError, UnicodeDecodeError) as exc:
        module.fail_json(msg=str(exc))
    for node in result.nodes:
        log = _discovery.log_path(params['run_dir'], str(node['mac']))
        node['log'] = log if os.path.exists(log) else ''
    output = dict(
        changed=node_changed or facts_changed,
        nodes=result.nodes,
        new=[node['name'] for node in result.new],
        conflicts=result.conflicts,
        unnamed=result.unnamed,
        rejected=rejected,
        reported=len(machines),
    )
    if module._diff:
        output['diff'] = [_files.text_diff(before, after, node_file)]
        if facts_file:
            output['diff'].append(_files.text_diff(facts_before, facts_after, facts_file))
    module.exit_json(**output)


if __name__ == '__main__':
    main()
