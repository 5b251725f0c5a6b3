# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""node_power against real BMC protocol implementations on loopback.

IPMI: ``ipmi_sim`` (OpenIPMI's BMC simulator) with one LAN endpoint per BMC
on its own UDP port; ``ipmitool -I lanplus`` talks RMCP+ to it. Its chassis
control program (the ``chassis_control`` hook of ipmi_sim's lan.conf) keeps
the power and the boot device in files, so a test sees what the BMC was told.

Redfish: ``sushy-emulator`` (sushy-tools) with its fake driver, basic
authentication from an htpasswd file, several systems per emulator.

Each test puts good and bad BMCs into one node_power call: the bad ones fail
with the BMC's own message and the good ones are powered all the same.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from base64 import b64encode
from pathlib import Path

import pytest

import netns

PASSWORD = 'Bmc-s3cret-71'
WRONG = 'Other-s3cret-22'

CHASSIS_CONTROL = r'''#!/bin/sh
# ipmi_sim's chassis control hook: "get power boot ..." / "set power 0|1", "set reset 1", "set boot pxe".
dir=$(dirname "$0")
echo "$*" >> "$dir/calls"
op=$1; shift
case $op in
get)
    for parm in "$@"; do
        case $parm in
        power) echo "power:$(cat "$dir/power")";;
        boot) echo "boot:$(cat "$dir/boot" 2>/dev/null || echo default)";;
        *) echo "$parm:0";;
        esac
    done;;
set)
    while [ $# -ge 2 ]; do
        case $1 in
        power) echo "$2" > "$dir/power";;
        reset) echo reset >> "$dir/resets";;
        boot) echo "$2" > "$dir/boot";;
        esac
        shift 2
    done;;
esac
'''

EMULATION = '''mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
mc_enable 0x20
'''


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class IpmiSim:
    """One ipmi_sim BMC on 127.0.0.1:port; ``control=False`` gives a BMC that refuses chassis control."""

    def __init__(self, processes, workdir: Path, name: str, password: str = PASSWORD, control: bool = True,
                 power: str = '1'):
        self.dir = workdir / name
        (self.dir / 'state').mkdir(parents=True)
        self.password = password
        self.port = free_port()
        lines = [f'name "{name}"', 'set_working_mc 0x20', '  startlan 1', f'    addr 127.0.0.1 {self.port}',
                 '    priv_limit admin', '    allowed_auths_admin md5', '    guid a123456789abcdefa123456789abcdef',
                 '  endlan']
        if control:
            script = self.dir / 'chassis_control'
            script.write_text(CHASSIS_CONTROL, encoding='utf-8')
            script.chmod(0o755)
            (self.dir / 'power').write_text(power + '\n', encoding='utf-8')
            lines.append(f'  chassis_control "{script}"')
        lines.append(f'  user 2 true "admin" "{password}" admin 10 md5')
        (self.dir / 'lan.conf').write_text('\n'.join(lines) + '\n', encoding='utf-8')
        (self.dir / 'bmc.emu').write_text(EMULATION, encoding='utf-8')
        self.process = processes.start(['ipmi_sim', '-n', '-c', str(self.dir / 'lan.conf'),
                                        '-f', str(self.dir / 'bmc.emu'), '-s', str(self.dir / 'state')])
        netns.wait_for(lambda: self.ipmitool('chassis', 'power', 'status', check=False).returncode == 0,
                       timeout=15, what=f'ipmi_sim {name}')
        if control:
            (self.dir / 'calls').unlink()

    @property
    def address(self) -> str:
        return f'127.0.0.1:{self.port}'

    def ipmitool(self, *words: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(['ipmitool', '-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', str(self.port),
                               '-U', 'admin', '-P', self.password, *words],
                              capture_output=True, text=True, timeout=30, check=check)

    def power(self) -> str:
        return (self.dir / 'power').read_text(encoding='utf-8').strip()

    def calls(self) -> list[str]:
        path = self.dir / 'calls'
        return path.read_text(encoding='utf-8').splitlines() if path.exists() else []


def node_power(run_playbook, args: dict, name: str = 'Power the nodes'):
    result = run_playbook([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': name, 'cluster.netboot.node_power': args, 'register': 'power', 'ignore_errors': True}]}])
    assert PASSWORD not in result.stdout + result.stderr, 'the BMC password leaked into the output'
    return result, result.task(name)


def by_name(task) -> dict[str, dict]:
    return {node['name']: node for node in task['nodes']}


@pytest.fixture
def ipmi(require_programs):
    require_programs('ipmi_sim', 'ipmitool')


def test_ipmi_sim_boot_once_and_reset(ipmi, processes, tmp_path, run_playbook):
    bmcs = [IpmiSim(processes, tmp_path, f'bmc{index}') for index in range(2)]
    args = {'driver': 'ipmi', 'state': 'reset', 'boot_once': 'pxe', 'username': 'admin', 'password': PASSWORD,
            'ipmi_cipher_suite': 3,
            'nodes': [{'name': f'node{index}', 'bmc': bmc.address} for index, bmc in enumerate(bmcs)]}
    result, task = node_power(run_playbook, args)
    assert not task.failed, result
    assert [(node['action'], node['boot_once'], node['failed']) for node in task['nodes']] == [('reset', 'pxe', False)] * 2
    for bmc in bmcs:
        # The BMC was told the boot device before the reset, and keeps it as its boot flags (parameter 5).
        calls = bmc.calls()
        assert calls.index('set boot pxe') < calls.index('set reset 1'), calls
        assert 'Force PXE' in bmc.ipmitool('chassis', 'bootparam', 'get', '5').stdout

    args.update(state='off', boot_once='none')
    _result, task = node_power(run_playbook, args, 'Power off')
    assert [node['action'] for node in task['nodes']] == ['off', 'off'] and not task.failed
    assert [bmc.power() for bmc in bmcs] == ['0', '0']
    assert all('Chassis Power is off' in bmc.ipmitool('chassis', 'power', 'status').stdout for bmc in bmcs)

    args.update(state='on')
    _result, task = node_power(run_playbook, args, 'Power on')
    assert [bmc.power() for bmc in bmcs] == ['1', '1'] and task['summary']['on'] == 2


def test_ipmi_bad_bmcs_fail_alone_with_their_own_message(ipmi, processes, tmp_path, run_playbook):
    good = IpmiSim(processes, tmp_path, 'good', power='0')
    refusing = IpmiSim(processes, tmp_path, 'refusing', control=False)
    other_password = IpmiSim(processes, tmp_path, 'otherpw', password=WRONG)
    silent = f'127.0.0.1:{free_port()}'
    nodes = [{'name': 'refusing', 'bmc': refusing.address}, {'name': 'wrongpw', 'bmc': other_password.address},
             {'name': 'silent', 'bmc': silent}, {'name': 'good', 'bmc': good.address}]
    started = time.monotonic()
    result, task = node_power(run_playbook, {'driver': 'ipmi', 'state': 'on', 'username': 'admin',
                                             'password': PASSWORD, 'ipmi_cipher_suite': 3, 'timeout': 6,
                                             'parallel': 4, 'nodes': nodes})
    elapsed = time.monotonic() - started
    nodes = by_name(task)
    assert task.failed and sorted(task['failed_nodes']) == ['refusing', 'silent', 'wrongpw'], result
    assert not nodes['good']['failed'] and good.power() == '1'
    assert 'Set Chassis Power Control to Up/On failed: Invalid data field in request' in nodes['refusing']['msg']
    assert 'Unable to establish IPMI v2 / RMCP+ session' in nodes['wrongpw']['msg']
    assert 'did not finish within 6' in nodes['silent']['msg']
    assert other_password.calls() == []
    # The silent BMC cost one timeout, not one per node (they ran side by side).
    assert elapsed < 40, elapsed
    assert all(PASSWORD not in node['msg'] for node in task['nodes'])

    # With a one-time boot: this BMC accepts the boot device but still refuses the power action.
    _result, task = node_power(run_playbook, {'driver': 'ipmi', 'state': 'reset', 'boot_once': 'pxe',
                                              'username': 'admin', 'password': PASSWORD, 'ipmi_cipher_suite': 3,
                                              'nodes': [{'name': 'refusing', 'bmc': refusing.address}]}, 'Boot once')
    assert task['nodes'][0]['msg'] == ('ipmitool chassis power on failed (exit 1): '
                                       'Set Chassis Power Control to Up/On failed: Invalid data field in request')


@pytest.mark.parametrize('setting, expected', [('auto', 'pxe'), ('none', None)])
def test_image_nodes_reset_sets_the_boot_once_through_ipmi(ipmi, processes, tmp_path, run_playbook, setting,
                                                           expected):
    """The image_nodes role's imaging reset (its power tasks) with the ipmi driver against ipmi_sim."""
    bmc = IpmiSim(processes, tmp_path, 'bmc')
    play = {'hosts': 'localhost', 'gather_facts': False, 'tasks': [{
        'name': 'Reset into the imaging ramdisk',
        'ansible.builtin.include_role': {'name': 'cluster.netboot.image_nodes', 'tasks_from': 'power.yml'},
        'vars': {'image_nodes_power_driver': 'ipmi', 'image_nodes_boot_once': setting,
                 'image_nodes_power': {'username': 'admin', 'password': PASSWORD, 'ipmi_cipher_suite': 3},
                 'image_nodes_power_state': 'reset', 'image_nodes_power_boot_once': '{{ image_nodes_reset_boot_once }}',
                 'image_nodes_power_nodes': [{'name': 'node1', 'ip': '10.0.0.11', 'mac': '52:54:00:00:00:11',
                                              'bmc': bmc.address}]}}]}
    result = run_playbook([play])
    assert result.rc == 0, result
    assert PASSWORD not in result.stdout + result.stderr
    power = next(task for task in result.tasks if task.action == 'cluster.netboot.node_power')
    assert [(node['action'], node['boot_once']) for node in power['nodes']] == [('reset', expected)]
    assert ('set boot pxe' in bmc.calls()) == (expected == 'pxe')


# --- Redfish: sushy-emulator, fake driver ----------------------------------------------

def sushy_emulator() -> str:
    found = shutil.which('sushy-emulator', path=f'{Path(sys.executable).parent}{os.pathsep}{os.environ.get("PATH", "")}')
    if not found:
        pytest.skip('NOT TESTED: sushy-emulator (sushy-tools, pinned in requirements-test.txt) is not installed: '
                    'run `make deps`')
    return found


def emulator_python(program: str) -> str:
    """The interpreter of the sushy-emulator script (bcrypt, a sushy-tools dependency, lives there)."""
    first = Path(program).read_text(encoding='utf-8', errors='replace').splitlines()[0]
    return first[2:].strip() if first.startswith('#!') else sys.executable


def system_uuid(index: int) -> str:
    return f'00000000-0000-4000-8000-{index:012d}'


class Sushy:
    """One sushy-emulator on 127.0.0.1 with ``systems`` fake systems, basic auth, started as a daemon."""

    def __init__(self, processes, workdir: Path, name: str, systems: int, password: str = PASSWORD,
                 power_off_disabled: bool = False, power_state: str = 'On'):
        program = sushy_emulator()
        self.dir = workdir / name
        (self.dir / 'state').mkdir(parents=True)
        htpasswd = subprocess.run(
            [emulator_python(program), '-c', 'import bcrypt, sys; '
             'print("admin:" + bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(4)).decode())', password],
            capture_output=True, text=True, check=True).stdout
        (self.dir / 'htpasswd').write_text(htpasswd, encoding='utf-8')
        self.port = free_port(socket.SOCK_STREAM)
        fake = [{'uuid': system_uuid(index), 'name': f'{name}-{index}', 'power_state': power_state,
                 'nics': [{'mac': f'52:54:00:00:{index // 256:02x}:{index % 256:02x}', 'ip': '127.0.0.1'}]}
                for index in range(systems)]
        config = {'SUSHY_EMULATOR_LISTEN_IP': '127.0.0.1', 'SUSHY_EMULATOR_LISTEN_PORT': self.port,
                  'SUSHY_EMULATOR_FAKE_DRIVER': True, 'SUSHY_EMULATOR_FAKE_SYSTEMS': fake,
                  'SUSHY_EMULATOR_AUTH_FILE': str(self.dir / 'htpasswd'),
                  'SUSHY_EMULATOR_STATE_DIR': str(self.dir / 'state'),
                  'SUSHY_EMULATOR_DISABLE_POWER_OFF': power_off_disabled}
        (self.dir / 'config.py').write_text(''.join(f'{key} = {value!r}\n' for key, value in config.items()),
                                            encoding='utf-8')
        self.process = processes.start([program, '--config', str(self.dir / 'config.py')])
        netns.wait_for(self.answers, timeout=30, what=f'sushy-emulator {name}')

    @property
    def bmc(self) -> str:
        return f'127.0.0.1:{self.port}'

    @property
    def url(self) -> str:
        return f'http://{self.bmc}'

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + '/redfish/v1/', timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def system(self, index: int) -> dict:
        request = urllib.request.Request(f'{self.url}/redfish/v1/Systems/{system_uuid(index)}', headers={
            'Authorization': 'Basic ' + b64encode(f'admin:{PASSWORD}'.encode()).decode()})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


def redfish_args(emulator: Sushy, state: str, systems: int, **extra) -> dict:
    nodes = [{'name': f'n{index}', 'bmc': emulator.bmc, 'system': system_uuid(index)} for index in range(systems)]
    return dict({'driver': 'redfish', 'state': state, 'username': 'admin', 'password': PASSWORD,
                 'redfish_url': 'http://{bmc}', 'nodes': nodes}, **extra)


def test_redfish_boot_once_power_and_reset_types(processes, tmp_path, run_playbook):
    emulator = Sushy(processes, tmp_path, 'rf', systems=3, power_state='Off')
    result, task = node_power(run_playbook, redfish_args(emulator, 'status', 3))
    assert not task.failed, result
    assert [node['power'] for node in task['nodes']] == ['off'] * 3

    # Reset with a one-time network boot: PATCH the boot override, then ComputerSystem.Reset (On: they were off).
    _result, task = node_power(run_playbook, redfish_args(emulator, 'reset', 3, boot_once='pxe',
                                                          boot_once_uefi=True), 'Boot once')
    assert [(node['action'], node['boot_once'], node['failed']) for node in task['nodes']] == [('on', 'pxe', False)] * 3
    for index in range(3):
        boot = emulator.system(index)['Boot']
        assert (boot['BootSourceOverrideTarget'], boot['BootSourceOverrideMode']) == ('Pxe', 'UEFI')
    # The fake driver applies a power change 1 to 11 s later, like a real BMC.
    netns.wait_for(lambda: all(emulator.system(index)['PowerState'] == 'On' for index in range(3)), timeout=30,
                   what='the systems to power on')

    # ForceRestart (reset) and ForceOff (off) are accepted reset types; PowerCycle is not offered by the
    # emulator, so cycle falls back to ForceOff, a pause and On.
    _result, task = node_power(run_playbook, redfish_args(emulator, 'reset', 1), 'Reset')
    assert (task['nodes'][0]['action'], task['nodes'][0]['failed']) == ('reset', False)
    _result, task = node_power(run_playbook, redfish_args(emulator, 'cycle', 1, cycle_delay=0), 'Cycle')
    assert not task['nodes'][0]['failed'], task['nodes'][0]['msg']
    _result, task = node_power(run_playbook, redfish_args(emulator, 'off', 3), 'Off')
    # n0 may already read Off (the cycle's own ForceOff landing late: the fake driver's delay).
    assert [node['action'] for node in task['nodes']][1:] == ['off'] * 2 and not task.failed
    netns.wait_for(lambda: all(emulator.system(index)['PowerState'] == 'Off' for index in (1, 2)), timeout=30,
                   what='the systems to power off')


def test_redfish_bad_bmcs_fail_alone_with_their_own_message(processes, tmp_path, run_playbook):
    good = Sushy(processes, tmp_path, 'good', systems=2)
    refusing = Sushy(processes, tmp_path, 'refusing', systems=1, power_off_disabled=True)
    other_password = Sushy(processes, tmp_path, 'otherpw', systems=1, password=WRONG)
    silent = f'127.0.0.1:{free_port(socket.SOCK_STREAM)}'
    args = redfish_args(good, 'off', 2, timeout=10)
    args['nodes'] += [{'name': 'refusing', 'bmc': refusing.bmc, 'system': system_uuid(0)},
                      {'name': 'wrongpw', 'bmc': other_password.bmc, 'system': system_uuid(0)},
                      {'name': 'silent', 'bmc': silent, 'system': system_uuid(0)},
                      {'name': 'nosystem', 'bmc': good.bmc, 'system': system_uuid(9)}]
    result, task = node_power(run_playbook, args)
    nodes = by_name(task)
    assert task.failed and sorted(task['failed_nodes']) == ['nosystem', 'refusing', 'silent', 'wrongpw'], result
    assert [nodes[name]['action'] for name in ('n0', 'n1')] == ['off', 'off']
    assert 'answered HTTP 400' in nodes['refusing']['msg']
    assert 'Can not request power off transition' in nodes['refusing']['msg']
    assert 'answered HTTP 401: Incorrect username or password' in nodes['wrongpw']['msg']
    assert 'Connection refused' in nodes['silent']['msg']
    assert 'answered HTTP 404' in nodes['nosystem']['msg'] and 'was not found' in nodes['nosystem']['msg']
    assert all(PASSWORD not in node['msg'] for node in task['nodes'])
    assert PASSWORD not in json.dumps(task.get('invocation', {}))
