#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: frisbee_server
short_description: Start, query and stop multicast imaging servers (frisbee, udpcast), one per image
version_added: 0.1.0
description:
  - Runs one multicast imaging server per image on the console, the way Emulab and ORBIT hand out
    C(getAddress?img=...) sessions. Each session gets a multicast group address and a port that no other
    live session uses, so node groups can be imaged in parallel from different images without two servers
    ever sharing a group and port.
  - Asking for an image that a live session already serves (same resolved path, same backend) returns that
    session unchanged.
  - The server runs detached from Ansible in its own session (setsid) with a pid file and a log file under
    O(state_dir). The sessions are recorded in C(sessions.json) in O(state_dir); it is only read and rewritten
    under an exclusive lock (C(sessions.lock)) and replaced atomically, so concurrent playbooks get distinct
    address/port pairs and no entry is lost.
  - Every call first removes (reaps) sessions whose process is gone. A PID only counts as the session's server
    while its kernel start time and command line are the recorded ones, so a recycled PID is never mistaken for
    a server nor signalled.
  - B(frisbee backend) (Emulab's C(frisbeed), not packaged in Debian; the operator provides the binary, see
    O(frisbeed_path)). The server serves any number of clients and exits after O(idle_timeout) seconds without
    requests. It is run with C(-d), which keeps its log on stderr (hence in the session's log file) instead of
    syslog; C(frisbeed) does not fork into the background, so the recorded PID is the server. Clients run
    C(frisbee -m ADDRESS -p PORT [-i CLIENT_ADDRESS] DEVICE) (see RV(session.receiver_args)); the client never gives up
    joining a silent server, so wrap it in a timeout.
  - B(udpcast backend) (Debian package C(udpcast), C(udp-sender)). A session serves B(one) transfer and then
    exits. It starts once O(min_receivers) receivers joined (or O(max_wait) seconds after the first one), and
    gives up after O(idle_timeout) seconds when nobody comes. Either way it exits with code 0, so the next call
    reaps it; its log file (kept in O(state_dir)) tells how it ended, and RV(reaped) shows the last lines. The
    session's group address is used both as data and as rendezvous address, and the port base is even (the
    sender uses the base and the next port); receivers run C(udp-receiver --nokbd --interface IF --portbase PORT
    --mcast-rdv-address ADDRESS --file TARGET). Check the receivers' data, not the sender's exit code.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
attributes:
  check_mode:
    support: full
    details: Reports the session that would be started (with the address and port free at that moment) or stopped.
  diff_mode:
    support: full
    details: The diff is the session registry (C(sessions.json)) before and after.
options:
  image:
    description:
      - Absolute path of the image file to serve; with O(state=started) it must be an existing, readable regular
        file. O(state=stopped) and O(state=query) find the session by the path it was started with, so a session
        whose image was deleted since is still stopped.
      - Symbolic links are resolved, so two links to one file are one session, and a link switched to a new
        image starts a new session.
      - Required when O(state=started) or O(state=stopped); with O(state=query) it limits the answer to this image.
    type: path
  state:
    description:
      - V(started) makes sure a server for O(image) runs, V(stopped) stops it (SIGTERM, then SIGKILL after
        O(stop_timeout) seconds) and removes its entry, V(query) only reports.
      - Every run first stops servers that a run killed between starting them and recording them left behind
        (found by their pid files in O(state_dir)), so no image gets a second server; a warning names them.
    type: str
    choices: [started, stopped, query]
    default: started
  backend:
    description:
      - Which server program to run.
      - With O(state=started) the default is V(frisbee). With O(state=stopped) and O(state=query), sessions of
        every backend that serves O(image) are stopped or reported unless this is set.
    type: str
    choices: [frisbee, udpcast]
  interface:
    description:
      - Network interface the server sends on (udpcast C(--interface)). For frisbee, whose C(-i) wants an address,
        the interface's IPv4 address is looked up unless O(interface_address) is given.
      - The udpcast backend needs O(interface) or O(interface_address).
    type: str
  interface_address:
    description:
      - IPv4 address of the sending interface (frisbee C(-i); udpcast accepts it for C(--interface) too).
    type: str
  bandwidth:
    description:
      - Cap on the sending rate in bits per second (frisbee C(-W), udpcast C(--max-bitrate), which counts headers
        and retransmissions too). Unset means the program's default.
    type: int
  idle_timeout:
    description:
      - Frisbee (C(-T)) exits after this many seconds without requests; V(0) never, a negative value about two
        seconds after the last client left.
      - Udpcast (C(--start-timeout)) gives up when no receiver comes (and the transfer has not started) within this
        many seconds; V(0) waits for ever. Negative values are an error for udpcast.
    type: int
    default: 1800
  min_receivers:
    description:
      - Udpcast only. The transfer starts as soon as this many receivers joined.
    type: int
    default: 1
  max_wait:
    description:
      - Udpcast only. Start anyway this many seconds after the first receiver joined, even when fewer than
        O(min_receivers) came. Unset waits for O(min_receivers) (up to O(idle_timeout)).
    type: int
  hello_interval:
    description:
      - Udpcast only (C(--rexmit-hello-interval)). Milliseconds between the sender's HELLO messages while it
        waits for receivers. They let a receiver whose join was lost find the session, and the sender decides
        to start when it sends one, so a short interval starts the transfer sooner once O(min_receivers)
        joined (without repeats udp-sender takes about two seconds).
    type: int
    default: 100
  keepalive:
    description:
      - Frisbee only (C(-K)); refused for udpcast. Seconds between keepalive messages that keep IGMP snooping
        switches from pruning an idle group.
      - At most O(idle_timeout) when that is positive; frisbeed silently sends no keepalives otherwise, so a longer
        one is refused.
    type: int
  address_pool:
    description:
      - Multicast network the group addresses are taken from, lowest first. Groups whose Ethernet address collides
        with 224.0.0.x or 224.128.0.x (C(X.0.0.y), C(X.128.0.y)) are skipped because switches flood them to every port.
    type: str
    default: 239.192.1.0/24
  port_range:
    description:
      - First and last UDP port a session may use. Udpcast takes an even base and the port after it.
      - Ports already bound by any program on the host are skipped too.
    type: list
    elements: int
    default: [7000, 7999]
  state_dir:
    description:
      - Directory for the registry (C(sessions.json)), its lock, and each session's C(.pid) and C(.log) files.
        Created when missing.
    type: path
    default: /var/lib/cluster-netboot
  frisbeed_path:
    description:
      - The C(frisbeed) program, as an absolute path or a name looked up on E(PATH). Frisbee is not packaged in
        Debian; the P(cluster.netboot.frisbee_server#role) role can install operator-provided binaries.
    type: path
    default: frisbeed
  udp_sender_path:
    description:
      - The C(udp-sender) program, as an absolute path or a name looked up on E(PATH).
    type: path
    default: udp-sender
  stop_timeout:
    description:
      - Seconds between SIGTERM and SIGKILL when stopping a server.
    type: float
    default: 10
  confirm_delay:
    description:
      - Seconds the new server must stay alive before it is recorded. A server that exits within this time
        (port taken, image unreadable, bad interface) fails the task with its exit code and last log lines.
    type: float
    default: 1
  lock_timeout:
    description:
      - Seconds to wait for the registry lock while other runs start or stop sessions.
    type: float
    default: 120
  user:
    description:
      - Who uses the session, for example the id of an imaging run. With O(state=started) the user is recorded
        in the session (a new one or a reused one; a user joining is a change). With O(state=stopped) the user
        leaves the session, and the server stops only when no other user is left; a session that records
        users but not this one is left alone. Without O(user), V(stopped) stops the session whoever uses it.
      - A user that never leaves (a killed run) keeps the session until its idle timeout ends it.
    type: str
notes:
  - The servers multicast on the console's network; firewalls must let the session ports (UDP, O(port_range))
    and IGMP through. The role sets up nothing of the kind.
  - A session's log file is named after the image and backend and is overwritten when the same image is started
    again.
  - Stopping a session only stops the server; receivers that are still waiting give up on their own timeout.
seealso:
  - name: Frisbee (Emulab)
    description: The frisbee disk loader, its server and client.
    link: https://gitlab.flux.utah.edu/emulab/emulab-devel
  - name: udpcast
    description: udp-sender and udp-receiver.
    link: https://www.udpcast.linux.lu/
'''

EXAMPLES = r'''
- name: Serve the ORBIT image with frisbee on the imaging bridge
  cluster.netboot.frisbee_server:
    image: /var/lib/netboot/images/orbit-2.0.ndz
    backend: frisbee
    frisbeed_path: /usr/local/sbin/frisbeed
    interface: br0
    bandwidth: 100000000
    idle_timeout: 1800
  register: session

- name: Tell the imaging nodes where to find it
  ansible.builtin.debug:
    msg: "frisbee -m {{ session.address }} -p {{ session.port }} /dev/sda"

- name: Send one image to a group of four nodes with udpcast
  cluster.netboot.frisbee_server:
    image: /var/lib/netboot/images/grid-worker.img
    backend: udpcast
    interface: br0
    min_receivers: 4
    max_wait: 60
    idle_timeout: 600
  register: cast

- name: Receivers join with
  ansible.builtin.debug:
    msg: "udp-receiver --nokbd --interface eth0 {{ cast.session.receiver_args | join(' ') }} --file /dev/sda"

- name: What is being served, and how far did it get
  cluster.netboot.frisbee_server:
    state: query
  register: serving

- name: Stop the frisbee session for the ORBIT image
  cluster.netboot.frisbee_server:
    image: /var/lib/netboot/images/orbit-2.0.ndz
    state: stopped
'''

RETURN = r'''
address:
  description: Multicast group of the session (for udpcast both the data and the rendezvous address).
  returned: when a session was found, started or stopped
  type: str
  sample: 239.192.1.1
port:
  description: UDP port of the session (for udpcast the port base; it uses this port and the next).
  returned: when a session was found, started or stopped
  type: int
  sample: 7000
pid:
  description: PID of the server (null in check mode for a session that would be started).
  returned: when a session was found, started or stopped
  type: int
  sample: 12345
session:
  description: The session started, reused or stopped (with O(state=query) and O(image), the one found).
  returned: when a session was found, started or stopped
  type: dict
  contains:
    id:
      description: Session id, also the base name of its log and pid files.
      type: str
      sample: udpcast-grid-worker.img-3f2a9c01de
    image:
      description: Resolved path of the image.
      type: str
    backend:
      description: V(frisbee) or V(udpcast).
      type: str
    address:
      description: Multicast group address.
      type: str
    port:
      description: Port (udpcast port base).
      type: int
    ports:
      description: All ports the session occupies.
      type: list
      elements: int
    pid:
      description: Server PID.
      type: int
    alive:
      description: Whether the server process runs.
      type: bool
    started:
      description: Start time, UTC, ISO 8601.
      type: str
    started_epoch:
      description: Start time, seconds since the epoch.
      type: float
    argv:
      description: The server's command line.
      type: list
      elements: str
    receiver_args:
      description: Client options that reach this session (frisbee C(-m ADDR -p PORT); udpcast
        C(--portbase PORT --mcast-rdv-address ADDR)); add the interface and target yourself.
      type: list
      elements: str
    log:
      description: Path of the server's log file.
      type: str
    pid_file:
      description: Path of the pid file.
      type: str
    users:
      description: The users recorded in the session (O(user)); after a V(stopped) that only let a user leave,
        those still in it.
      type: list
      elements: str
    progress:
      description:
        - What the log says. C(phase) is V(waiting), V(serving), V(idle) or V(finished) for frisbee and
          V(waiting), V(transferring) or V(complete) for udpcast; C(receivers_joined), C(receivers_active),
          C(bytes_sent) (udpcast) and C(image_bytes) (frisbee) where the log tells.
      type: dict
    log_tail:
      description: Last lines of the log.
      type: list
      elements: str
    stopped_by:
      description: How the server ended when this call stopped it (V(terminated), V(killed), V(gone)).
      type: str
      returned: when O(state=stopped) stopped a server
sessions:
  description:
    - With O(state=query), the live sessions (all, or those of O(image)) followed by the ones found dead and reaped
      by this call (C(alive=false)); each entry is shaped like RV(session).
    - With O(state=stopped), the sessions this call stopped (or would stop, in check mode).
  returned: when O(state=query) or O(state=stopped)
  type: list
  elements: dict
reaped:
  description:
    - Sessions whose server was gone and which this call removed from the registry (shaped like RV(session)).
      A finished udpcast transfer shows up here; its C(progress) and C(log_tail) tell the result.
  returned: always
  type: list
  elements: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cluster.netboot.plugins.module_utils import _addresses as addresses
from ansible_collections.cluster.netboot.plugins.module_utils import _files as files
from ansible_collections.cluster.netboot.plugins.module_utils import _frisbee as frisbee
from ansible_collections.cluster.netboot.plugins.module_utils import _frisbee_backends as backends
from ansible_collections.cluster.netboot.plugins.module_utils import _frisbee_sessions as sessions


def resolve_binary(module: AnsibleModule, path: str, option: str, hint: str) -> str:
    if os.path.isabs(path):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise backends.FrisbeeServerError('%s %s is not an executable file%s' % (option, path, hint))
        return path
    found = module.get_bin_path(path)
    if not found:
        raise backends.FrisbeeServerError('%s: %s not found on PATH%s' % (option, path, hint))
    return found


def run(module: AnsibleModule) -> dict:
    params = module.params
    state = params['state']
    manager = frisbee.SessionManager(
        params['state_dir'],
        write=lambda path, content: files.atomic_write(module, path, content, mode=0o644),
        check_mode=module.check_mode,
        lock_timeout=params['lock_timeout'],
    )
    backend = params['backend']
    image = None
    if params['image'] is not None:
        # Starting needs the file; query and stop find the session by its recorded path, file or not.
        image = (sessions.resolve_image if state == 'started' else sessions.lookup_image)(params['image'])

    if state == 'query':
        result = manager.query(image, backend)
    elif state == 'stopped':
        result = manager.stop(image, backend, grace=params['stop_timeout'], user=params['user'])
    else:
        backend = backend or 'frisbee'
        config = backends.ServerConfig(
            image=image, backend=backend, interface=params['interface'],
            interface_address=params['interface_address'], bandwidth=params['bandwidth'],
            idle_timeout=params['idle_timeout'], min_receivers=params['min_receivers'],
            max_wait=params['max_wait'], keepalive=params['keepalive'],
            hello_interval=params['hello_interval'],
        )
        # Settings that cannot work are refused before anything else is looked at.
        backends.get_backend(backend).validate(config)
        port_range = sessions.parse_port_range(params['port_range'])
        if backend == 'frisbee':
            option, hint = 'frisbeed_path', ' (frisbee is not packaged in Debian: install the operator-provided binaries)'
        else:
            option, hint = 'udp_sender_path', ' (install the Debian package udpcast)'
        try:
            binary = resolve_binary(module, params[option], option, hint)
        except backends.FrisbeeServerError as exc:
            if not module.check_mode:
                raise
            # A check run before the package is installed: report, do not fail.
            module.warn(str(exc))
            binary = params[option]
        result = manager.start(config, binary, params['address_pool'], port_range, confirm_delay=params['confirm_delay'],
                               user=params['user'])

    output: dict = {'changed': result.changed, 'reaped': result.reaped}
    for warning in result.warnings:
        module.warn(warning)
    if result.session is not None:
        output['session'] = result.session
        for key in ('address', 'port', 'pid'):
            output[key] = result.session[key]
    if state in ('query', 'stopped'):
        output['sessions'] = result.sessions
    if module._diff:
        output['diff'] = files.text_diff(result.registry_before, result.registry_after, manager.registry_path)
    return output


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            image=dict(type='path'),
            state=dict(type='str', default='started', choices=['started', 'stopped', 'query']),
            backend=dict(type='str', choices=['frisbee', 'udpcast']),
            interface=dict(type='str'),
            interface_address=dict(type='str'),
            bandwidth=dict(type='int'),
            idle_timeout=dict(type='int', default=1800),
            min_receivers=dict(type='int', default=1),
            max_wait=dict(type='int'),
            keepalive=dict(type='int'),
            hello_interval=dict(type='int', default=100),
            address_pool=dict(type='str', default='239.192.1.0/24'),
            port_range=dict(type='list', elements='int', default=[7000, 7999]),
            state_dir=dict(type='path', default='/var/lib/cluster-netboot'),
            frisbeed_path=dict(type='path', default='frisbeed'),
            udp_sender_path=dict(type='path', default='udp-sender'),
            stop_timeout=dict(type='float', default=10),
            confirm_delay=dict(type='float', default=1),
            lock_timeout=dict(type='float', default=120),
            user=dict(type='str'),
        ),
        required_if=[
            ('state', 'started', ('image',)),
            ('state', 'stopped', ('image',)),
        ],
        supports_check_mode=True,
    )
    if not addresses.HAS_NETADDR:
        module.fail_json(msg=missing_required_lib('netaddr'), exception=addresses.NETADDR_IMPORT_ERROR)
    files.exit_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
