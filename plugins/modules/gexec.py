#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: gexec
short_description: Run a command on many nodes at once through GEXEC and tell which nodes failed
version_added: 0.1.0
description:
  - Runs O(command) on every node of O(nodes) with the GEXEC client (C(gexec -n 0)) on the console, the way
    ORBIT consoles drove their nodes, and returns each node's output.
  - The module sets C(GEXEC_SVRS) to the nodes and runs C(gexec -n 0 -p vnn -P PORT PROGRAM ARGS...).
    C(-p vnn) prefixes each output line with the node's index in C(GEXEC_SVRS), which the module maps back to the
    node names. C(-p host) is not used on purpose; it prefixes the reverse-DNS name of the node's address and
    makes gexec stop without running anything when any address (its own included) has no reverse-DNS name.
  - C(gexec) exits 0 even when nodes are down or the keys are wrong, so the module reads its messages instead.
    C(Could not connect to HOST (IP)) on standard output marks a node that is down, has no gexecd listening, or
    whose gexecd rejected the credentials because its C(/etc/auth_pub.pem) is another key. C(Could not obtain
    signature from authd on localhost) on standard error means the console's own authd is not running or cannot
    sign (a key that is not 512-bit RSA makes it abort); nothing ran then.
  - When any node cannot be reached, gexec runs the command on B(no) node (it connects the whole tree of nodes
    before it starts the job). Those nodes get status V(unreachable), the others V(not_run).
  - A node whose gexecd reports C(Could not exec ...) or C(Could not chdir to ...) gets status V(failed).
    GEXEC does not report exit codes; a command that exits non-zero on a node without such a message counts as
    V(ok). Wrap it (for example V(['/bin/sh', '-c', 'cmd || echo FAILED'])) when the exit code matters.
  - The task fails when any node did not run the command successfully, unless O(allow_failures=true).
  - O(command) is never run through a shell. gexec looks the program up in C(PATH) on the console and the nodes
    run the path it found, so the program must be at the same path on the nodes.
  - The console's own host name must resolve (for example in C(/etc/hosts)); gexec aborts without it. The
    module checks this first.
  - gexec sends its environment and working directory to every node. The module starts it with only C(PATH),
    C(GEXEC_SVRS) and O(environment), in O(chdir).
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
attributes:
  check_mode:
    support: partial
    details:
      - In check mode the node list, the command and the gexec client are checked, but the command is not run,
        so no output and no failed nodes are reported; RV(ignore:changed) is V(true).
  diff_mode:
    support: none
requirements:
  - the GEXEC client C(gexec) (GEXEC 0.3.x) on the host the module runs on, and C(authd) running there with the
    cluster's private key; C(gexecd) and C(authd) on the nodes (see the gexec role)
  - ClusterShell (Python library) for node ranges
options:
  nodes:
    description:
      - The nodes, as a ClusterShell NodeSet string (V(node[1-20]), V(node1-[1-4],console)) or a list of names
        and ranges. Names must resolve on the console (gexec uses C(gethostbyname)); addresses work too.
      - A node listed twice is an error (gexec would run the command on it twice). At most 16384 nodes.
    type: raw
    required: true
  command:
    description:
      - The command, as a list of arguments (V(['frisbee', '-p', '5000', '/dev/hda'])) or a string split into
        words like a shell would split it (no variables, globs, pipes or redirections).
    type: raw
    required: true
  gexec_path:
    description:
      - The gexec client. By default C(gexec) is looked up in C(PATH) and C(/usr/local/bin).
      - A wrapper script must C(exec) the client (for example C(exec ip netns exec NS gexec "$@")), not pipe its
        output, because the module tells the nodes' output apart by gexec's separate writes (see the notes).
    type: path
  timeout:
    description:
      - Seconds gexec may take in all, waiting for its output included. Then its process group gets C(SIGTERM),
        which gexec forwards to the remote jobs, and after 5 more seconds C(SIGKILL); every node gets status
        V(timeout). V(0) waits forever.
    type: int
    default: 300
  port:
    description: The TCP port gexecd listens on (C(gexec 2875/tcp) in C(/etc/services)).
    type: int
    default: 2875
  environment:
    description:
      - Extra environment for gexec, which passes it on to the command on every node, for example
        C(LD_ASSUME_KERNEL=2.4.2) for old LinuxThreads builds.
    type: dict
    default: {}
  search_path:
    description:
      - C(PATH) for gexec and the remote command. Defaults to the module's own C(PATH).
    type: str
  chdir:
    description:
      - Working directory for the command on the nodes (gexec sends its own; it must exist on every node).
    type: path
    default: /
  allow_failures:
    description:
      - Do not fail the task when nodes fail; check RV(failed_nodes) instead.
    type: bool
    default: false
notes:
  - gexec prints output that does not end in a newline (the last words of a node's output, or 4 KiB pieces of a
    longer line) with the node prefix but without a newline, so the next node's prefixed line follows on the
    same line and, read as text, nothing tells where one node's output ends. The module gives gexec a Unix
    C(SOCK_SEQPACKET) socket as standard output, which keeps each of gexec's writes (one per printed piece)
    apart, and so gives every byte to the right node. Where the writes do not allow that (a wrapper that pipes
    gexec's output, or a rare split of a piece of more than 4 KiB), the nodes concerned get status
    V(ambiguous) and are not counted as V(ok), so a C(Could not exec) message hidden in such a line cannot pass.
seealso:
  - module: cluster.netboot.authd_keypair
'''

EXAMPLES = r'''
- name: Ask every node of the grid for its kernel
  cluster.netboot.gexec:
    nodes: node1-[1-20]
    command: [uname, -r]
  register: kernels

- name: Start the frisbee client on the nodes of an imaging group, even if some are down
  cluster.netboot.gexec:
    nodes: "{{ groups['imaging'] }}"
    command:
      - /usr/sbin/frisbee
      - -p
      - "5000"
      - -m
      - 239.192.1.1
      - /dev/hda
    environment:
      LD_ASSUME_KERNEL: 2.4.2
    timeout: 1800
    allow_failures: true
  register: imaging

- name: Show the nodes that did not image
  ansible.builtin.debug:
    msg: "{{ imaging.failed_nodes }}"
'''

RETURN = r'''
results:
  description: One entry per node, in the order of O(nodes) after expansion.
  returned: success or failure after gexec ran
  type: list
  elements: dict
  contains:
    name:
      description: The node's name as given.
      type: str
      sample: node1-1
    address:
      description: The address gexec connected to.
      type: str
      sample: 10.18.1.1
    vnn:
      description: The node's index in C(GEXEC_SVRS) (gexec's virtual node number, C(GEXEC_MY_VNN) on the node).
      type: int
      sample: 0
    status:
      description:
        - V(ok) the command ran; V(failed) gexecd could not start it (C(Could not exec), C(Could not chdir to));
          V(unreachable) gexec could not connect to the node or its gexecd rejected the key; V(not_run) the
          command ran nowhere because of another node or the console's authd; V(timeout) O(timeout) expired;
          V(ambiguous) the node's output cannot be told apart from another node's (see the notes).
      type: str
      sample: ok
    msg:
      description: Why the node failed; empty when it did not.
      type: str
      sample: ""
    output:
      description: The node's output, standard output and standard error merged (gexecd forwards both as output).
      type: str
      sample: "4.19.0-27-amd64\n"
    output_lines:
      description: RV(results[].output) split into lines.
      type: list
      elements: str
      sample: ["4.19.0-27-amd64"]
failed_nodes:
  description: The names of the nodes whose status is not V(ok).
  returned: success or failure after gexec ran
  type: list
  elements: str
  sample: [node1-3]
cmd:
  description: The gexec command line.
  returned: always
  type: list
  elements: str
  sample: [/usr/local/bin/gexec, -n, "0", -p, vnn, -P, "2875", /bin/uname, -r]
rc:
  description: gexec's exit code (0 also when nodes failed).
  returned: when gexec ran
  type: int
  sample: 0
stdout:
  description: gexec's standard output, unparsed.
  returned: when gexec ran
  type: str
stderr:
  description: gexec's standard error, unparsed.
  returned: when gexec ran
  type: str
unparsed:
  description: Lines of gexec's standard output that carried no node prefix and no known message.
  returned: when gexec ran
  type: list
  elements: str
errors:
  description: gexec's own messages from standard error.
  returned: when gexec ran
  type: list
  elements: str
  sample: ["Could not obtain signature from authd on localhost: ..."]
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cluster.netboot.plugins.module_utils import _gexec
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import HAS_NETADDR, NETADDR_IMPORT_ERROR
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError
from ansible_collections.cluster.netboot.plugins.module_utils._nodeset import CLUSTERSHELL_IMPORT_ERROR, HAS_CLUSTERSHELL


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            nodes=dict(type='raw', required=True),
            command=dict(type='raw', required=True),
            gexec_path=dict(type='path'),
            timeout=dict(type='int', default=300),
            port=dict(type='int', default=_gexec.DEFAULT_PORT),
            environment=dict(type='dict', default={}),
            search_path=dict(type='str'),
            chdir=dict(type='path', default='/'),
            allow_failures=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not HAS_CLUSTERSHELL:
        module.fail_json(msg=missing_required_lib('ClusterShell'), exception=CLUSTERSHELL_IMPORT_ERROR)
    if not HAS_NETADDR:
        module.fail_json(msg=missing_required_lib('netaddr'), exception=NETADDR_IMPORT_ERROR)
    cmd: list[str] = []
    try:
        if params['timeout'] < 0:
            raise _gexec.GexecError('timeout must be 0 (no limit) or more, got %d' % params['timeout'])
        search_path = params['search_path'] or os.environ.get('PATH') or '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
        gexec = params['gexec_path'] or module.get_bin_path('gexec', opt_dirs=['/usr/local/bin'])
        if not gexec or not os.access(gexec, os.X_OK):
            raise _gexec.GexecError('the gexec client %s was not found or is not executable' % (gexec or 'gexec'))
        names = _gexec.expand_nodes(params['nodes'])
        argv = _gexec.command_argv(params['command'])
        _gexec.find_program(argv[0], search_path)
        cmd = _gexec.gexec_argv(gexec, argv, params['port'])
        env = _gexec.gexec_environment(names, search_path, params['environment'])
        if not os.path.isdir(params['chdir']):
            raise _gexec.GexecError('chdir %s is not a directory on this host' % params['chdir'])
        addresses = _gexec.resolve(names)
        _gexec.check_own_name()
        if module.check_mode:
            module.exit_json(changed=True, cmd=cmd, results=[], failed_nodes=[],
                             msg='check mode: %d node(s) would run the command' % len(names))
        raw = _gexec.run(cmd, env, params['chdir'], params['timeout'] or None)
        if raw.rc != 0 and not raw.timed_out:
            raise _gexec.GexecError('%s failed (rc=%s): %s' % (gexec, raw.rc, raw.stderr.strip() or raw.stdout.strip()))
    except NetbootError as exc:
        module.fail_json(msg=str(exc), cmd=cmd)
    outcome = _gexec.parse(raw, names, addresses, params['timeout'])
    result = dict(
        changed=any(node.status in ('ok', 'failed', 'timeout', 'ambiguous') for node in outcome.nodes),
        cmd=cmd,
        rc=raw.rc,
        stdout=raw.stdout,
        stderr=raw.stderr,
        results=[node.as_dict() for node in outcome.nodes],
        failed_nodes=outcome.failed_nodes,
        unparsed=outcome.unparsed,
        errors=outcome.errors,
        msg=outcome.summary(),
    )
    if outcome.failed_nodes and not params['allow_failures']:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
