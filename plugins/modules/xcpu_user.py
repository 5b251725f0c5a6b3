#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: xcpu_user
short_description: Tell the xcpufs of many xcpu2 nodes about groups and users
version_added: 0.1.0
description:
  - xcpufs, the xcpu2 node server, reads no C(/etc/passwd) and no C(/etc/group). It starts with no users at all
    (C(xrx) then says C(Error - unknown user)) and learns groups and users from the console, which pushes them with
    C(xgroupset) and C(xuserset), signed with the admin key C(/etc/xcpu/admin_key) (xcpufs holds
    C(admin_key.pub), see the xcpu role).
  - "This module runs those commands on the console for a whole node range at once, groups first (a user's group
    must be known), and reports which nodes failed, from the per-node lines libxcpu prints
    (C(xp_user_add: NODE: Error CODE: MESSAGE))"
  - The xcpu2 programs are not packaged; the operator provides C(xgroupset) and C(xuserset) (and C(xcpufs) on the
    nodes). Two command syntaxes exist, see O(command_style).
  - xcpufs keeps users and groups in memory only and offers no cheap way to compare, so every run pushes them
    again and reports RV(ignore:changed=true) when a push succeeded on a node. Pushing a user that exists
    replaces it.
  - Very long node lists are split into batches, each passed as one comma-separated argument.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
attributes:
  check_mode:
    support: partial
    details:
      - In check mode the definitions and the programs are checked and RV(commands) lists what would run, but
        nothing is pushed, so no node failures are reported.
  diff_mode:
    support: none
requirements:
  - the operator's xcpu2 C(xgroupset) and C(xuserset) on the host the module runs on
  - ClusterShell (Python library) for node ranges
options:
  nodes:
    description:
      - The xcpufs nodes, as a ClusterShell NodeSet string (V(n[8-11])) or a list of names and ranges.
    type: raw
    required: true
  groups:
    description: Groups to push, before the users.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Group name.
        type: str
        required: true
      gid:
        description: Numeric group id on the nodes.
        type: int
        required: true
  users:
    description: Users to push.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: User name.
        type: str
        required: true
      uid:
        description: Numeric user id on the nodes.
        type: int
        required: true
      group:
        description: The user's default group (pushed in O(groups) or known to xcpufs already).
        type: str
        required: true
      public_key:
        description: The user's public key file on the console (for example C(~user/.ssh/id_rsa.pub)).
        type: path
        required: true
  command_style:
    description:
      - V(classic) is the syntax of the early xcpu2 utilities, C(xgroupset NODES GROUP GID) and
        C(xuserset NODES USER UID GROUP KEYFILE); they sign with C(/etc/xcpu/admin_key).
      - V(subcommand) is the syntax of later xcpu2 releases, C(xgroupset add [-A ADMINKEY] NODES GROUP GID) and
        C(xuserset add [-A ADMINKEY] NODES USER UID GROUP KEYFILE).
    type: str
    choices: [classic, subcommand]
    default: classic
  admin_key:
    description:
      - The admin private key the commands sign with, passed with C(-A). Only with O(command_style=subcommand);
        without it the tools use C(/etc/xcpu/admin_key).
    type: path
  xgroupset_path:
    description: The C(xgroupset) program. By default it is looked up in C(PATH) and C(/usr/local/bin).
    type: path
  xuserset_path:
    description: The C(xuserset) program. By default it is looked up in C(PATH) and C(/usr/local/bin).
    type: path
  timeout:
    description: Seconds each command may run.
    type: int
    default: 120
  allow_failures:
    description: Do not fail the task when nodes fail; check RV(failed_nodes) instead.
    type: bool
    default: false
seealso:
  - module: cluster.netboot.gexec
'''

EXAMPLES = r'''
- name: Let root and rminnich run jobs on n[8-11] (as in the xcpu2 setup notes)
  cluster.netboot.xcpu_user:
    nodes: n[8-11]
    groups:
      - {name: root, gid: 0}
      - {name: somegroup, gid: 567}
    users:
      - {name: root, uid: 0, group: root, public_key: /root/.ssh/id_rsa.pub}
      - {name: rminnich, uid: 525, group: somegroup, public_key: /home/rminnich/.ssh/id_rsa.pub}

- name: Same with a later xcpu2 release and another admin key
  cluster.netboot.xcpu_user:
    nodes: "{{ groups['xcpu_nodes'] }}"
    command_style: subcommand
    admin_key: /etc/xcpu/admin_key
    users:
      - {name: root, uid: 0, group: root, public_key: /root/.ssh/id_rsa.pub}
'''

RETURN = r'''
results:
  description: One entry per node.
  returned: when the commands ran
  type: list
  elements: dict
  contains:
    name:
      description: The node.
      type: str
      sample: n8
    status:
      description: V(ok) or V(failed).
      type: str
      sample: failed
    errors:
      description: What failed on this node.
      type: list
      elements: str
      sample: ["user rminnich: Error 111: Connection refused"]
failed_nodes:
  description: Nodes where a push failed.
  returned: when the commands ran
  type: list
  elements: str
  sample: [n9]
commands:
  description: Every command run (or in check mode, to be run), with its exit code and output.
  returned: always
  type: list
  elements: dict
  sample:
    - {what: group somegroup, cmd: [/usr/local/bin/xgroupset, "n8,n9", somegroup, "567"], rc: 0, stdout: "", stderr: ""}
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset, _xcpu
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def _program(module: AnsibleModule, given: str | None, name: str) -> str:
    path = given or module.get_bin_path(name, opt_dirs=['/usr/local/bin', '/usr/local/sbin'])
    if not path:
        raise _xcpu.XcpuError('%s was not found: the xcpu2 programs are not packaged, give %s_path' % (name, name))
    return path


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            nodes=dict(type='raw', required=True),
            groups=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                gid=dict(type='int', required=True),
            )),
            users=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                uid=dict(type='int', required=True),
                group=dict(type='str', required=True),
                public_key=dict(type='path', required=True),
            )),
            command_style=dict(type='str', choices=list(_xcpu.STYLES), default='classic'),
            admin_key=dict(type='path'),
            xgroupset_path=dict(type='path'),
            xuserset_path=dict(type='path'),
            timeout=dict(type='int', default=120),
            allow_failures=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not _nodeset.HAS_CLUSTERSHELL:
        module.fail_json(msg=missing_required_lib('ClusterShell'), exception=_nodeset.CLUSTERSHELL_IMPORT_ERROR)
    steps: list[_xcpu.Step] = []
    try:
        names = _nodeset.expand_list(params['nodes'])
        _xcpu.check_style(params['command_style'], params['admin_key'])
        groups = _xcpu.parse_groups(params['groups'])
        users = _xcpu.parse_users(params['users'])
        if params['admin_key'] and not os.path.isfile(params['admin_key']):
            raise _xcpu.XcpuError('admin_key %s does not exist on this host' % params['admin_key'])
        xgroupset = _program(module, params['xgroupset_path'], 'xgroupset') if groups else 'xgroupset'
        xuserset = _program(module, params['xuserset_path'], 'xuserset') if users else 'xuserset'
        steps = _xcpu.plan_steps(names, groups, users, xgroupset, xuserset, params['command_style'],
                                 params['admin_key'])
        if module.check_mode or not steps:
            module.exit_json(changed=bool(steps), commands=[step.as_dict() for step in steps],
                             msg='check mode: nothing pushed' if steps else 'no groups and no users to push')
        _xcpu.run_steps(steps, _xcpu.default_runner, params['timeout'])
    except NetbootError as exc:
        module.fail_json(msg=str(exc), commands=[step.as_dict() for step in steps])
    outcomes = _xcpu.node_outcomes(names, steps)
    failed = [outcome.name for outcome in outcomes if outcome.status != 'ok']
    result = dict(
        changed=len(failed) < len(outcomes),
        results=[outcome.as_dict() for outcome in outcomes],
        failed_nodes=failed,
        commands=[step.as_dict() for step in steps],
    )
    if failed and not params['allow_failures']:
        first = next(outcome for outcome in outcomes if outcome.errors)
        module.fail_json(msg='%d of %d node(s) failed (%s); first: %s: %s' % (
            len(failed), len(outcomes), _nodeset.fold(failed), first.name, first.errors[0]), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
