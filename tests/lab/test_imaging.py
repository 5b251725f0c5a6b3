# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The imaging lab end to end (make lab, make lab-test), with a node that cannot boot.

tests/lab/lab.sh builds the fabric (a console container configured by the
collection's roles, QEMU VMs that PXE-boot from it), runs
playbooks/image_nodes.yml for two groups with two images plus one VM whose
MAC the console does not know, and checks from the host side: every other
node's disk holds its image (sha256), each booted its new disk afterwards
(group A on SeaBIOS through PXELINUX, group B on OVMF with Secure Boot
enforced through Debian's signed shim and GRUB, whose ramdisk reported
Secure Boot on, and whose new disk boots through its own signed shim; a
VM with the same firmware refuses an unsigned EFI loader, Debian's ipxe.efi),
the broken node is reported failed, the playbook fails because of it, and no
node pointer or imaging config is left in pxelinux.cfg/. The result table is
printed (one row per node). The lab is torn down whatever happens, and the
machine is left as found: no lab namespace, no QEMU process, and no Docker
engine unless one was running before.

With LAB_EE=1 (make lab EE=1) image_nodes.yml runs inside the execution
environment (tests/utils/ee.sh build) through ansible-navigator, as AWX runs
it, and the run's events (navigator's playbook artifact) must show the same
per-node results, from the collection installed in the image.

With FRISBEE_DIR (the operator's frisbeed, frisbee and imagezip) group-b is
imaged through frisbee from an imagezip image of its raw image and its disks
are checked against the raw image; without it the lab says so loudly.

Environment: LAB_TEST_TIMEOUT (seconds, default 1500), LAB_EE, and lab.sh's own
(LAB_IMAGE_MIB, LAB_VM_MEMORY, LAB_STATE_ROOT, LAB_CACHE, LAB_BOOT_TIMEOUT,
LAB_EE_IMAGE, FRISBEE_DIR).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / 'tests' / 'lab' / 'lab.sh'
DOCKERD = REPO / 'tests' / 'utils' / 'dockerd.sh'
# The lab on 2 cores: about 7 minutes; the limit only guards against a hang.
TIMEOUT = int(os.environ.get('LAB_TEST_TIMEOUT', '1500'))
FRISBEE_NOT_RUN = ('NOT TESTED: the frisbee path of the lab (FRISBEE_DIR was not set: a directory with the '
                   "operator's frisbeed, frisbee and imagezip); both groups were imaged with udpcast")


def missing_tools() -> list[str]:
    return [tool for tool in ('qemu-system-x86_64', 'radvd', 'docker', 'dockerd', 'debootstrap', 'socat')
            if shutil.which(tool) is None and not os.path.exists('/usr/sbin/' + tool)]


def docker_engine_answers() -> bool:
    return subprocess.run([str(DOCKERD), 'env'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          check=False).returncode == 0


def leftovers(lab_id: str) -> list[str]:
    """The lab's namespace and QEMU processes, if any are left (their names carry the lab id)."""
    found = [line.split()[0] for line in subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True,
                                                        check=False).stdout.splitlines()
             if line.startswith(lab_id)]
    for cmdline in Path('/proc').glob('[0-9]*/cmdline'):
        try:
            argv = cmdline.read_bytes().split(b'\0')
        except OSError:
            continue
        if argv[0].endswith(b'qemu-system-x86_64') and ('cnb-lab-%s-' % lab_id).encode() in b' '.join(argv):
            found.append('qemu pid %s' % cmdline.parent.name)
    return found


LAB_EE = os.environ.get('LAB_EE') == '1'


def ee_events(artifact: Path) -> tuple[str, list[dict]]:
    """The status and the runner events (one per task and host) of navigator's playbook artifact."""
    data = json.loads(artifact.read_text())
    return data['status'], [task for play in data['plays'] for task in play['tasks']]


def check_ee_run(artifact: Path, data: dict) -> None:
    """The run inside the EE: the collection's modules ran, and its events carry each node's result."""
    status, events = ee_events(artifact)
    assert status == 'failed', status  # node-x1 cannot boot
    actions = {event.get('resolved_action') for event in events if event['__result'].lower() == 'ok'}
    for action in ('cluster.netboot.frisbee_server', 'cluster.netboot.pxe_config', 'cluster.netboot.pxe_boot',
                   'cluster.netboot.node_power'):
        assert action in actions, '%s never reported ok inside the EE' % action
    # Role tasks may carry the role's name in front.
    (published,) = [event for event in events if event['task'].endswith('Publish the results')]
    assert published['__result'].lower() == 'ok' and published['host'] == 'console'
    per_node = {node['name']: node['result'] for node in published['res']['ansible_facts']['image_nodes_results']}
    # The events say what the host side found on the disks, node by node.
    assert per_node == {node['name']: node['console_result'] for node in data['nodes']}, per_node
    assert per_node.pop('node-x1') == 'failed' and set(per_node.values()) == {'ok'}, per_node
    (failed,) = [event for event in events if event['__result'].lower() == 'failed']
    assert failed['task'].endswith('Fail when any node was not imaged') and 'node-x1' in failed['res']['msg']


def run_imaging_lab(tmp_path: Path, args: list[str], **env_overrides: str) -> tuple[str, dict]:
    """``lab.sh run ARGS``: its output (also printed as it comes) and its results, with the machine as found.

    Fails the test when the lab hangs past TIMEOUT, when lab.sh fails, or when
    the lab left a namespace, a QEMU process or a Docker engine it started.
    """
    results = tmp_path / 'lab-results.json'
    # Only a test that asks for it runs the playbook inside the execution environment.
    env = {key: value for key, value in os.environ.items() if key not in ('LAB_EE', 'LAB_EE_ARTIFACT')}
    env.update(LAB_RESULTS=str(results), ANSIBLE_NOCOLOR='1', **env_overrides)
    engine_before = docker_engine_answers()
    # The lab's output goes to the terminal as it comes (make lab), and is kept for the checks.
    process = subprocess.Popen([str(LAB), 'run'] + args, cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        process.terminate()  # lab.sh's trap tears the lab down

    timer = threading.Timer(TIMEOUT, stop)
    timer.start()
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
        returncode = process.wait()
    finally:
        timer.cancel()
    output = ''.join(lines)
    if timed_out.is_set():
        subprocess.run([str(LAB), 'down'], cwd=REPO, check=False)
        pytest.fail('the lab did not finish within %d s:\n%s' % (TIMEOUT, output[-6000:]))
    assert returncode == 0, 'lab.sh run %s failed:\n%s' % (' '.join(args), output[-8000:])
    # The machine as found: the lab's fabric is gone, and so is a Docker engine the lab had to start.
    assert docker_engine_answers() == engine_before, 'Docker engine before the lab: %s, after: %s' % (
        engine_before, not engine_before)
    lab_id = re.search(r'lab (cnbl[0-9a-f]{4}): state in', output)
    assert lab_id, output[-4000:]
    assert leftovers(lab_id.group(1)) == [], leftovers(lab_id.group(1))
    return output, json.loads(results.read_text())


def check_imaged(data: dict, names: set[str]) -> None:
    """Exactly ``names`` imaged in two groups with two images, each disk verified and booted."""
    assert data['passed'], data['problems']
    imaged = [node for node in data['nodes'] if node['name'] in names]
    assert {node['name'] for node in imaged} == names
    assert {node['group'] for node in imaged} == {'group-a', 'group-b'}
    for node in imaged:
        assert node['console_result'] == 'ok', node
        assert node['host_verdict'] == 'match', node
        assert node['booted_image'] is True, node
        # Group B is the UEFI group: its ramdisk read SecureBoot=1 from efivars; BIOS nodes have none.
        expected = ('uefi', 'on') if node['group'] == 'group-b' else ('bios', 'n/a')
        assert (node['firmware'], node['secure_boot']) == expected, node
    # The two groups got two different images.
    assert len({node['expected_sha256'] for node in imaged}) == 2
    # With the operator's frisbee programs (FRISBEE_DIR) group-b went through frisbee, else both through udpcast.
    backends = {node['group']: node['backend'] for node in imaged}
    assert backends == {'group-a': 'udpcast', 'group-b': 'frisbee' if os.environ.get('FRISBEE_DIR') else 'udpcast'}
    # Secure Boot is enforced, not only reported: the same firmware refused an unsigned EFI loader.
    assert data['unsigned_efi_refused'] is True


@pytest.mark.skipif(bool(missing_tools()), reason='NOT TESTED: the QEMU lab cannot run: missing %s (run make deps)'
                    % ', '.join(missing_tools()))
def test_two_groups_image_in_parallel_and_a_node_that_cannot_boot_fails_alone(tmp_path: Path) -> None:
    artifact = tmp_path / 'image_nodes.artifact.json'
    output, data = run_imaging_lab(tmp_path, ['--failure-case'],
                                   **({'LAB_EE': '1', 'LAB_EE_ARTIFACT': str(artifact)} if LAB_EE else {}))
    check_imaged(data, {'node-a1', 'node-a2', 'node-b1', 'node-b2'})
    if LAB_EE:
        check_ee_run(artifact, data)
    by_name = {node['name']: node for node in data['nodes']}
    assert by_name['node-x1']['console_result'] == 'failed'
    assert data['playbook_rc'] != 0
    assert 'node-x1' in output and 'not imaged' in output
    # The table of the run: one row per node.
    assert 'GROUP' in output and 'CHECKSUM' in output
    if not os.environ.get('FRISBEE_DIR'):
        assert 'FRISBEE PATH NOT RUN' in output
        warnings.warn(FRISBEE_NOT_RUN)


@pytest.mark.skipif(bool(missing_tools()), reason='NOT TESTED: the QEMU lab cannot run: missing %s (run make deps)'
                    % ', '.join(missing_tools()))
def test_a_frisbee_node_whose_disk_differs_from_the_raw_image_fails(tmp_path: Path) -> None:
    """The node checks the raw bytes of its disk: a wrong sha256 for the raw image fails every node of the group."""
    if not os.environ.get('FRISBEE_DIR'):
        warnings.warn(FRISBEE_NOT_RUN)
        pytest.skip(FRISBEE_NOT_RUN)
    env = dict(os.environ, LAB_RESULTS=str(tmp_path / 'lab-results.json'), ANSIBLE_NOCOLOR='1')
    env.pop('LAB_FAILURE_CASE', None)
    up = subprocess.run([str(LAB), 'up'], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True, timeout=TIMEOUT,
                        check=False)
    lab_id = up.stdout.strip().splitlines()[-1] if up.stdout.strip() else ''
    try:
        assert up.returncode == 0 and re.fullmatch(r'cnbl[0-9a-f]{4}', lab_id), up.stdout[-4000:]
        wrong = tmp_path / 'wrong-sha.json'
        wrong.write_text(json.dumps({'image_nodes_groups': [{
            'name': 'group-b', 'image': '/srv/lab/images/lab-b.ndz', 'raw_image': '/srv/lab/images/lab-b.img',
            'backend': 'frisbee', 'inventory_group': 'lab_group_b', 'sha256': '0' * 64}]}))
        image = subprocess.run([str(LAB), 'image', lab_id, '-e', '@%s' % wrong], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT,
                               check=False)
        sys.stdout.write(image.stdout)
        assert image.returncode != 0, 'the run passed although no disk can match the sha256 it was given'
        summary = json.loads(subprocess.run(
            ['docker', 'exec', '%s-console' % lab_id, 'sh', '-c',
             'cat "$(ls -t /var/lib/cluster-netboot/image-nodes/*/summary.json | head -n 1)"'],
            env=dict(env, **docker_env()), stdout=subprocess.PIPE, text=True, check=True).stdout)
        nodes = {node['name']: node for node in summary['nodes']}
        assert set(nodes) == {'node-b1', 'node-b2'}
        for node in nodes.values():
            # The node received the image through frisbee, read its disk back and refused it itself.
            assert (node['backend'], node['phase'], node['result']) == ('frisbee', 'done', 'failed'), node
            assert node['detail'] == 'checksum-mismatch' and node['verdict'] == 'mismatch', node
            assert node['sha256'] and node['sha256'] != '0' * 64, node
    finally:
        subprocess.run([str(LAB), 'down', lab_id] if lab_id.startswith('cnbl') else [str(LAB), 'down'], cwd=REPO,
                       check=False)
    if lab_id.startswith('cnbl'):
        assert leftovers(lab_id) == [], leftovers(lab_id)


def docker_env() -> dict[str, str]:
    """DOCKER_HOST and friends of the engine the lab uses (tests/utils/dockerd.sh env)."""
    line = subprocess.run([str(DOCKERD), 'env'], stdout=subprocess.PIPE, text=True, check=True).stdout
    return dict(re.findall(r'(\w+)=([^\s;]+)', line.replace('export ', '').replace('"', '')))
