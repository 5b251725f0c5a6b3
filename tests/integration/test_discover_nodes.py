# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""playbooks/discover_nodes.yml end to end on loopback, with the ramdisk's own discovery code.

The playbook starts its report receiver on 127.0.0.1, writes the discovery
config and points the discovery range's addresses at it. Two machines then
"boot" it: roles/imaging_ramdisk/files/discover.sh runs in busybox sh on a fake
/proc and /sys (tests/unit's fake machine), with the report URL read from the
config the playbook wrote, and posts facts and console log as the ramdisk does
(one machine twice). The playbook names them from a range, appends them to a
node file that already holds a node, writes their facts, and cleans up; then
pxe_boot and dhcpd_host read that node file as it is.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DISCOVER_SH = REPO / 'roles' / 'imaging_ramdisk' / 'files' / 'discover.sh'
PLAYBOOK = REPO / 'playbooks' / 'discover_nodes.yml'
RANGE = {'start': '10.18.250.1', 'end': '10.18.250.9'}
MACHINES = [('52:54:00:aa:00:01', '10.18.250.3', 'lab-a'), ('52:54:00:bb:00:01', '10.18.250.4', 'lab-b')]


def fake_root(root: Path, mac: str, serial: str, disk_bytes: int) -> None:
    def put(path: str, content: str) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)
    put('proc/cpuinfo', 'processor\t: 0\nmodel name\t: QEMU Virtual CPU version 2.5+\n')
    put('proc/meminfo', 'MemTotal:         230000 kB\n')
    put('sys/class/net/ens3/address', mac + '\n')
    put('sys/class/net/ens3/operstate', 'up\n')
    put('sys/block/vda/size', '%d\n' % (disk_bytes // 512))
    put('sys/class/dmi/id/product_serial', serial + '\n')


def boot_discovery(tmp_path: Path, report: str, mac: str, ip: str, serial: str) -> None:
    """What the ramdisk does in discovery mode, from discover.sh itself: facts, a report, then the log."""
    root = tmp_path / ('machine-' + serial)
    fake_root(root, mac, serial, 64 << 20)
    scratch = root / 'run'
    scratch.mkdir(exist_ok=True)
    script = ('. "$0"; log() { echo "cnb-imaging: $*"; }; '
              'report() { wget -q -O /dev/null "$REPORT?mac=$MAC&ip=$IP&phase=$1&result=$2"; }; '
              'cnb_discover >>"$CNB_CONSOLE_LOG" 2>&1; echo "cnb-imaging: powering off" >>"$CNB_CONSOLE_LOG"; cnb_send_log')
    env = {'PATH': os.environ['PATH'], 'CNB_ROOT': str(root), 'CNB_RUN': str(scratch), 'REPORT': report,
           'IFACE': 'ens3', 'MAC': mac, 'IP': ip, 'NODE': ''}
    subprocess.run(['busybox', 'sh', '-c', script, str(DISCOVER_SH)], env=env, check=True, timeout=120)


def test_two_unknown_machines_are_discovered_named_and_recorded(run_playbook, tmp_path, require_programs):
    require_programs('busybox')
    tftp = tmp_path / 'tftp'
    (tftp / 'pxelinux.cfg').mkdir(parents=True)
    (tftp / 'pxelinux.cfg' / 'default').write_text('DEFAULT local\n')
    (tftp / 'imaging').mkdir()
    (tftp / 'imaging' / 'vmlinuz').write_text('kernel stand-in\n')
    (tftp / 'imaging' / 'initramfs.gz').write_text('initrd stand-in\n')
    node_file = tmp_path / 'nodes.csv'
    node_file.write_text('name,ip,mac\nnode1,10.18.1.1,52:54:00:00:00:99\n')
    state = tmp_path / 'state'
    extravars = {
        'discover_nodes_console': 'localhost', 'discover_nodes_server_address': '127.0.0.1',
        'discover_nodes_range': RANGE, 'discover_nodes_count': 2, 'discover_nodes_timeout': 120,
        'discover_nodes_nodeset': 'node[1-8]', 'discover_nodes_ip_start': '10.18.1.1',
        'discover_nodes_node_file': str(node_file), 'discover_nodes_tftp_root': str(tftp),
        'discover_nodes_state_dir': str(state), 'discover_nodes_python': sys.executable,
    }
    outcome = {}
    playbook = threading.Thread(target=lambda: outcome.update(result=run_playbook(PLAYBOOK, extravars=extravars)))
    playbook.start()
    try:
        # The ramdisk's PXE config: where the first address of the range is pointed.
        pointer = tftp / 'pxelinux.cfg' / '0A12FA01'
        deadline = time.monotonic() + 120
        while not pointer.is_symlink() and time.monotonic() < deadline and playbook.is_alive():
            time.sleep(0.2)
        assert pointer.is_symlink(), outcome
        config = (tftp / 'pxelinux.cfg' / os.readlink(pointer)).read_text()
        assert 'cnb.mode=discover' in config and 'imaging/vmlinuz' in config
        report = re.search(r'cnb\.report=(\S+)', config).group(1)
        assert report.startswith('http://127.0.0.1:')
        assert (tftp / 'pxelinux.cfg' / '0A12FA09').is_symlink() and not (tftp / 'pxelinux.cfg' / '0A12FA0A').exists()
        boot_discovery(tmp_path, report, *MACHINES[0])
        boot_discovery(tmp_path, report, *MACHINES[0])  # the same machine again: one node
        boot_discovery(tmp_path, report, *MACHINES[1])
    finally:
        playbook.join(timeout=300)
    result = outcome['result']
    assert not result.failed, result.stdout[-3000:]

    # Named in order of arrival, after the node the file held; nothing of it rewritten.
    assert node_file.read_text() == ('name,ip,mac\nnode1,10.18.1.1,52:54:00:00:00:99\n'
                                     'node2,10.18.1.2,52:54:00:aa:00:01\nnode3,10.18.1.3,52:54:00:bb:00:01\n')
    facts = json.loads((tmp_path / 'nodes.hardware.json').read_text())
    assert sorted(facts) == ['node2', 'node3']
    assert facts['node3']['disks'] == [{'name': 'vda', 'bytes': 64 << 20, 'model': '', 'serial': ''}]
    assert facts['node3']['memory_bytes'] == 230000 * 1024 and facts['node3']['system']['product_serial'] == 'lab-b'
    # Each machine's console log, kept in the run's directory and named in the table.
    task = result.task('Wait for the machines, name them and append them to the node file')
    logs = [node['log'] for node in task['nodes']]
    assert all(log.startswith(str(state)) and 'powering off' in Path(log).read_text() for log in logs), logs
    table = result.task('The discovered nodes')['msg']
    assert table[0].startswith('node2  52:54:00:aa:00:01  10.18.1.2  new  cpus=1') and logs[0] in table[0], table
    # The range points nowhere any more, the config is gone, the receiver stopped.
    assert sorted(os.listdir(tftp / 'pxelinux.cfg')) == ['default']
    assert result.task('Stop this run\'s report receiver').changed

    # The node file as the per-node modules read it.
    (tftp / 'pxelinux.cfg' / 'orbit').write_text('DEFAULT orbit\n')
    hosts = tmp_path / 'dhcpd.hosts.conf'
    check = run_playbook([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Point', 'cluster.netboot.pxe_boot': {
            'tftp_root': str(tftp), 'boot': 'orbit', 'nodes_file': str(node_file)}},
        {'name': 'Bind', 'cluster.netboot.dhcpd_host': {
            'path': str(hosts), 'hosts_file': str(node_file), 'validate': False}}]}])
    assert not check.failed, check.stdout[-3000:]
    assert os.readlink(tftp / 'pxelinux.cfg' / '0A120103') == 'orbit'
    assert 'hardware ethernet 52:54:00:bb:00:01;' in hosts.read_text()

    # A second run with a map that binds node3's MAC to another name: a conflict, nothing written.
    before = node_file.read_bytes()
    extravars.update(discover_nodes_timeout=30)
    del extravars['discover_nodes_nodeset'], extravars['discover_nodes_ip_start']
    extravars['discover_nodes_names'] = [{'name': 'rack9-1', 'mac': MACHINES[1][0]}]
    outcome.clear()
    playbook = threading.Thread(target=lambda: outcome.update(result=run_playbook(PLAYBOOK, extravars=extravars)))
    playbook.start()
    try:
        deadline = time.monotonic() + 120
        while not pointer.is_symlink() and time.monotonic() < deadline and playbook.is_alive():
            time.sleep(0.2)
        config = (tftp / 'pxelinux.cfg' / os.readlink(pointer)).read_text()
        boot_discovery(tmp_path, re.search(r'cnb\.report=(\S+)', config).group(1), *MACHINES[1])
    finally:
        playbook.join(timeout=300)
    result = outcome['result']
    assert result.failed
    assert ('MAC 52:54:00:bb:00:01 is bound to node3 in the node file; the naming list names it rack9-1'
            in result.task('Wait for the machines, name them and append them to the node file')['msg'])
    assert node_file.read_bytes() == before
    # Cleaned up after a failure too: no discovery config, no pointer of the range.
    assert [name for name in os.listdir(tftp / 'pxelinux.cfg') if 'discover' in name or name.startswith('0A12FA')] == []
