#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: node_power
short_description: Power many nodes on, off, reset or cycle them, or read their power state
version_added: 0.1.0
description:
  - Drives the power of a whole list of nodes in one call, through one of several controllers (O(driver)),
    several nodes at a time (O(parallel)).
  - V(cmc) calls an HTTP chassis manager service the way ORBIT's C(http://cmc:5012/cmc/reset?x=1&y=2) works;
    the URL and the action names are templates.
  - V(ipmi) runs C(ipmitool -I lanplus chassis power ...) against each node's BMC; the password is passed in
    the environment (C(-E)), never on the command line.
  - V(redfish) posts C(ComputerSystem.Reset) to each BMC's Redfish service over HTTPS and reads C(PowerState).
  - V(qemu) talks to a virtual machine's QMP socket (C(query-status), C(system_reset), C(cont), C(stop)), for
    labs of QEMU VMs.
  - V(command) runs a command per state, built from templates (for PDUs and in-house tools).
  - Every node gets its own result. A node whose controller fails or times out is reported and the others go
    on; the task fails at the end when any node failed, with every node's result returned.
  - With O(boot_once=pxe), every node that is about to boot (V(on) of a node that is off, V(reset), V(cycle))
    first gets a one-time network boot from its BMC (V(ipmi) with C(ipmitool chassis bootdev pxe), V(redfish)
    with C(BootSourceOverrideTarget=Pxe) and C(BootSourceOverrideEnabled=Once)), so a node whose firmware boots
    its disk first still boots from the network once. A node whose BMC refuses the boot device is a failed
    node and is not powered.
  - Credentials (O(username), O(password)) come from the inventory or a vault; the password never appears in
    the results or error messages (V(ipmi) hands it over in the environment).
  - V(on) and V(off) only act on nodes that are not in that state already. V(reset) of a node that is off
    powers it on, so after V(reset) every reachable node boots. V(reset) and V(cycle) always report a change.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
  - cluster.netboot.nodes.max_nodes
attributes:
  check_mode:
    support: full
    details: Only the power state is read (a status query per node); the result tells what would be done.
  diff_mode:
    support: full
    details: 'The diff lists one C(node: power) line per node, before and after.'
options:
  nodes:
    description:
      - The nodes, as a list of mappings. Exactly one of O(nodes), O(nodes_file) and O(nodeset) is required.
      - Besides O(nodes[].name), the keys are the fields the templates may use (O(address), O(cmc_url),
        O(redfish_url), O(qmp_socket), O(commands)).
    type: list
    elements: dict
    suboptions:
      name:
        description: The node's name.
        type: str
        required: true
      ip:
        description: The node's IPv4 address (C({ip}) in templates); the addresses no node can have are refused.
        type: str
      mac:
        description: The node's MAC address (C({mac}) in templates), written as for M(cluster.netboot.pxe_boot).
        type: str
      bmc:
        description: The node's BMC host name or address (C({bmc}), the default O(address) and O(redfish_url)).
        type: str
      x:
        description: The node's column in the CMC grid (C({x})); taken from the name with O(cmc_name_regex) when missing.
        type: str
      y:
        description: The node's row in the CMC grid (C({y})).
        type: str
      qmp:
        description: The path of the VM's QMP unix socket (C({qmp}), the default O(qmp_socket)).
        type: str
      system:
        description: The Redfish computer system of this node (an id below C(/redfish/v1/Systems/) or a full path).
        type: str
  nodes_file:
    description:
      - A file B(on the managed host) listing the nodes, CSV with a header row naming its columns among C(name),
        C(ip), C(mac), C(bmc), C(x), C(y), C(qmp), C(system), or a YAML or JSON list of mappings with those keys.
    type: path
  nodeset:
    description:
      - A node range in ClusterShell NodeSet syntax, for example V(node[1-20]-[1-20]); the templates then
        derive everything from C({name}) (and C({ip}) with O(ip_start)).
    type: str
  ip_start:
    description: The first address handed to O(nodeset)'s nodes; the next node gets the next address.
    type: str
  state:
    description:
      - V(on), V(off), V(reset) (hard reset; powers on a node that is off), V(cycle) (off, then on) or
        V(status) (read only).
    type: str
    choices: ['on', 'off', reset, cycle, status]
    required: true
  driver:
    description: How the nodes' power is reached.
    type: str
    choices: [cmc, ipmi, redfish, qemu, command]
    required: true
  address:
    description:
      - V(ipmi) only. Template of the BMC address given to C(ipmitool -H), for example V({name}-ipmi.example.org).
      - V(host:port) or V([IPv6]:port) also gives C(ipmitool -p), for a BMC on another UDP port than 623.
    type: str
    default: '{bmc}'
  username:
    description: BMC user (V(ipmi), V(redfish)).
    type: str
  password:
    description: BMC password (V(ipmi) via C(IPMI_PASSWORD), V(redfish) via HTTP basic authentication).
    type: str
  validate_certs:
    description: Check the TLS certificates of V(redfish) and HTTPS V(cmc) services.
    type: bool
    default: true
  cmc_url:
    description:
      - V(cmc) only. URL template; C({action}) is the action name from O(cmc_actions), C({x}) and C({y}) the
        node's grid position, any other node field may be used.
    type: str
    default: 'http://cmc:5012/cmc/{action}?x={x}&y={y}'
  cmc_actions:
    description:
      - V(cmc) only. Action names per state (keys V(on), V(off), V(reset), V(status)), merged over the
        defaults V(on), V(offHard), V(reset) and V(status). A node is V(on) or V(off) by the last of those
        words in the status answer.
    type: dict
  cmc_name_regex:
    description:
      - V(cmc) only. Regular expression with named groups C(x) and C(y) that takes a node's grid position from
        its name when the node has no O(nodes[].x) and O(nodes[].y).
    type: str
    default: '^node(?P<x>\d+)-(?P<y>\d+)'
  ipmi_interface:
    description: V(ipmi) only. The C(ipmitool -I) interface.
    type: str
    default: lanplus
  ipmi_cipher_suite:
    description:
      - V(ipmi) only. The RMCP+ cipher suite (C(ipmitool -C)), for example V(3) or V(17). By default ipmitool
        first asks the BMC which suites it offers; a BMC that does not answer that question (OpenIPMI's
        C(ipmi_sim), older BMCs) costs about 10 s per call until ipmitool falls back.
    type: int
  ipmitool_path:
    description: V(ipmi) only. The C(ipmitool) program.
    type: path
    default: ipmitool
  redfish_url:
    description: V(redfish) only. Template of the Redfish service's base URL.
    type: str
    default: 'https://{bmc}'
  redfish_system:
    description:
      - V(redfish) only. The computer system to act on, for nodes without O(nodes[].system). By default the
        only member of C(/redfish/v1/Systems).
    type: str
  qmp_socket:
    description: V(qemu) only. Template of the VM's QMP socket path.
    type: str
    default: '{qmp}'
  qemu_off:
    description:
      - V(qemu) only. The QMP command that powers a VM off. V(stop) halts it (a later V(on) boots it afresh),
        V(system_powerdown) asks the guest (ACPI), V(quit) ends the QEMU process (it cannot be powered on again).
    type: str
    choices: [stop, system_powerdown, quit]
    default: stop
  commands:
    description:
      - V(command) only. A command template per state (keys V(on), V(off), V(reset), V(cycle), V(status)). Each
        template is split into words like a shell line, then each word is filled in with the node's fields, and
        the command runs without a shell. The V(status) command's output is searched for C(on)/C(off).
      - Without V(reset), a reset is a cycle; without V(cycle), a cycle is V(off), a pause and V(on).
    type: dict
  boot_once:
    description:
      - V(pxe) sets a one-time network boot on each node's BMC before the node boots (V(ipmi) and V(redfish)
        only; other drivers refuse it). V(none) leaves the boot order alone.
    type: str
    choices: [none, pxe]
    default: none
  boot_once_uefi:
    description:
      - With O(boot_once), ask for a UEFI boot (V(ipmi) C(options=efiboot), V(redfish)
        C(BootSourceOverrideMode=UEFI)). Without it, IPMI asks for a legacy BIOS boot and Redfish keeps the
        system's current boot mode.
    type: bool
    default: false
  timeout:
    description:
      - Seconds one operation on one node may take (HTTP request, command, QMP exchange); a BMC that does
        not answer in time is a failed node, the others go on.
    type: float
    default: 30
  cycle_delay:
    description: Seconds between off and on when a controller has no native power cycle.
    type: float
    default: 5
  parallel:
    description: How many nodes (BMCs) are handled at the same time.
    type: int
    default: 16
seealso:
  - name: ipmitool
    description: The IPMI utility C(ipmitool).
    link: https://github.com/ipmitool/ipmitool
  - name: DMTF Redfish
    description: The Redfish standard, C(ComputerSystem.Reset).
    link: https://www.dmtf.org/standards/redfish
  - name: QEMU Machine Protocol
    description: QMP reference.
    link: https://www.qemu.org/docs/master/interop/qemu-qmp-ref.html
'''

EXAMPLES = r'''
- name: Reset the nodes of an ORBIT grid through the chassis manager
  cluster.netboot.node_power:
    driver: cmc
    state: reset
    nodeset: node[1-20]-[1-20]

- name: Power-cycle nodes over IPMI
  cluster.netboot.node_power:
    driver: ipmi
    state: cycle
    address: '{name}-ipmi.example.org'
    username: admin
    password: "{{ vault_bmc_password }}"
    nodes:
      - name: node1
      - name: node2

- name: Network-boot 1,000 Redfish nodes once, 64 BMCs at a time, 10 s per BMC
  cluster.netboot.node_power:
    driver: redfish
    state: reset
    boot_once: pxe
    parallel: 64
    timeout: 10
    username: "{{ bmc_user }}"
    password: "{{ vault_bmc_password }}"
    redfish_url: 'https://{name}-bmc.example.org'
    nodeset: node[0001-1000]

- name: Read the power state of Redfish BMCs
  cluster.netboot.node_power:
    driver: redfish
    state: status
    username: admin
    password: "{{ vault_bmc_password }}"
    nodes:
      - {name: node1, bmc: 10.0.100.1}
      - {name: node2, bmc: 10.0.100.2}
  register: power

- name: Reset lab VMs through their QMP sockets
  cluster.netboot.node_power:
    driver: qemu
    state: reset
    qmp_socket: /run/lab/{name}.qmp
    nodes:
      - name: vm1
      - name: vm2

- name: Power through a PDU tool
  cluster.netboot.node_power:
    driver: command
    state: 'off'
    commands:
      'on': pdutool --outlet {name} on
      'off': pdutool --outlet {name} off
      status: pdutool --outlet {name} status
    nodeset: rack1-n[01-16]
'''

RETURN = r'''
nodes:
  description: One result per node, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The node's name.
      type: str
    state:
      description: The requested state.
      type: str
    power_before:
      description: V(on), V(off) or V(unknown), as read before acting.
      type: str
    power:
      description: V(on), V(off) or V(unknown) after the task (what the action implies).
      type: str
    action:
      description: What was (or in check mode would be) done, V(on), V(off), V(reset), V(cycle), or V(null).
      type: str
    boot_once:
      description: The one-time boot device set (or in check mode to be set) before the action, or V(null).
      type: str
    changed:
      description: Whether the node's power was (or would be) acted on.
      type: bool
    failed:
      description: Whether the operation failed on this node.
      type: bool
    msg:
      description: V(ok), what would be done in check mode, or the error.
      type: str
    seconds:
      description: How long this node took.
      type: float
  sample:
    - {name: node1-1, state: reset, power_before: 'on', power: 'on', action: reset, boot_once: null, changed: true,
       failed: false, msg: ok, seconds: 0.21}
failed_nodes:
  description: Names of the nodes whose operation failed.
  returned: always
  type: list
  elements: str
  sample: [node1-2]
summary:
  description: Counts over all nodes (V(on), V(off), V(unknown) after the task).
  returned: always
  type: dict
  sample: {nodes: 400, changed: 398, failed: 2, 'on': 398, 'off': 0, unknown: 2}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cluster.netboot.plugins.module_utils import _files, _nodes, _power
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            _nodes.argument_spec(),
            state=dict(type='str', required=True, choices=list(_power.STATES)),
            driver=dict(type='str', required=True, choices=list(_power.DRIVERS)),
            address=dict(type='str', default='{bmc}'),
            username=dict(type='str'),
            password=dict(type='str', no_log=True),
            validate_certs=dict(type='bool', default=True),
            cmc_url=dict(type='str', default=_power.DEFAULT_CMC_URL),
            cmc_actions=dict(type='dict'),
            cmc_name_regex=dict(type='str', default=_power.DEFAULT_CMC_NAME_REGEX),
            ipmi_interface=dict(type='str', default='lanplus'),
            ipmitool_path=dict(type='path', default='ipmitool'),
            ipmi_cipher_suite=dict(type='int'),
            redfish_url=dict(type='str', default='https://{bmc}'),
            redfish_system=dict(type='str'),
            qmp_socket=dict(type='str', default='{qmp}'),
            qemu_off=dict(type='str', default='stop', choices=['stop', 'system_powerdown', 'quit']),
            commands=dict(type='dict'),
            timeout=dict(type='float', default=30),
            cycle_delay=dict(type='float', default=5),
            parallel=dict(type='int', default=16),
            boot_once=dict(type='str', default='none', choices=list(_power.BOOT_ONCE)),
            boot_once_uefi=dict(type='bool', default=False),
        ),
        required_if=[('driver', 'command', ('commands',))],
        supports_check_mode=True,
        **_nodes.ARGUMENT_RULES,
    )
    params = module.params
    _nodes.check_libraries(module)
    try:
        records = _nodes.from_params(params, fields=_power.NODE_FIELDS)
        _nodes.check_unique(records, ('name',))
        settings = _power.DriverSettings(
            driver=params['driver'], timeout=params['timeout'], cycle_delay=params['cycle_delay'],
            address=params['address'], username=params['username'], password=params['password'],
            validate_certs=params['validate_certs'], cmc_url=params['cmc_url'],
            cmc_actions={str(key): str(value) for key, value in (params['cmc_actions'] or {}).items()},
            cmc_name_regex=params['cmc_name_regex'], ipmi_interface=params['ipmi_interface'],
            ipmitool_path=params['ipmitool_path'], ipmi_cipher_suite=params['ipmi_cipher_suite'],
            redfish_url=params['redfish_url'],
            redfish_system=params['redfish_system'], qmp_socket=params['qmp_socket'], qemu_off=params['qemu_off'],
            commands={str(key): str(value) for key, value in (params['commands'] or {}).items()})
        driver = _power.make_driver(settings)
        values = [_power.node_values(record.name, record.ip, record.mac, record.extra) for record in records]
        results = _power.apply_all(driver, values, params['state'], check_mode=module.check_mode,
                                   parallel=params['parallel'], boot_once=params['boot_once'],
                                   boot_once_uefi=params['boot_once_uefi'])
    except NetbootError as exc:
        module.fail_json(msg=str(exc))
    failed = [result.name for result in results if result.failed]
    output = dict(
        changed=any(result.changed and not result.failed for result in results),
        nodes=[result.to_dict() for result in results],
        failed_nodes=failed,
        summary=_power.summarize(results),
    )
    if module._diff:
        output['diff'] = _files.text_diff(_power.power_text(results, after=False), _power.power_text(results, after=True),
                                          'power (%s)' % params['driver'])
    if failed:
        first = next(result for result in results if result.failed)
        module.fail_json(msg='%d of %d node(s) failed: %s (first error, %s: %s)'
                         % (len(failed), len(results), ', '.join(failed[:20]) + (' ...' if len(failed) > 20 else ''),
                            first.name, first.msg), **output)
    module.exit_json(**output)


if __name__ == '__main__':
    main()
