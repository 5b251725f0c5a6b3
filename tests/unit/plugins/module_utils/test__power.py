# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _power as power
from ansible_collections.cluster.netboot.plugins.module_utils import _power_command as power_command
from ansible_collections.cluster.netboot.plugins.module_utils import _power_driver as power_driver
from ansible_collections.cluster.netboot.plugins.module_utils import _power_http as power_http
from ansible_collections.cluster.netboot.plugins.module_utils import _power_qemu as power_qemu
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils.qmp_fake import FakeQemu
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils.process_checks import dies_soon


def node(name='node1-2', **fields):
    return power.node_values(name, fields.pop('ip', None), fields.pop('mac', None), fields)


# --- templates and status words --------------------------------------------------

def test_render_fills_named_fields():
    assert power_driver.render('http://cmc/{action}?x={x}', {'action': 'on', 'x': '3', 'name': 'n'}, 'cmc_url') == 'http://cmc/on?x=3'


@pytest.mark.parametrize('template, message', [
    ('{bmc}-ipmi', r"needs \{bmc\}, which node n1 does not have"),
    ('{}', 'only named fields'),
    ('{0}', 'only named fields'),
    ('{name.__class__}', 'only named fields'),
])
def test_render_refuses_missing_or_positional_fields(template, message):
    with pytest.raises(power.PowerError, match=message):
        power_driver.render(template, {'name': 'n1', 'bmc': None}, 'address')


@pytest.mark.parametrize('text, expected', [
    ('Chassis Power is on\n', 'on'),
    ('Chassis Power is off\n', 'off'),
    ('<status>POWEROFF</status>', 'off'),
    ('node is powered on', 'on'),
    ('was off, now on', 'on'),
    ('no idea', 'unknown'),
    ('onboard', 'unknown'),
])
def test_word_power(text, expected):
    assert power_driver.word_power(text) == expected


# --- the state logic, on a recording driver ----------------------------------------

class RecordingDriver(power.Driver):
    name = 'recording'

    def __init__(self, powers, failing=()):
        super().__init__(cycle_delay=0, sleep=lambda seconds: None)
        self.powers = dict(powers)
        self.failing = set(failing)
        self.calls = []
        self.lock = threading.Lock()

    def _record(self, node, action):
        with self.lock:
            self.calls.append((node['name'], action))
        if node['name'] in self.failing:
            raise power.PowerError('BMC of %s does not answer' % node['name'])

    def status(self, node):
        self._record(node, 'status')
        return self.powers[node['name']]

    def on(self, node):
        self._record(node, 'on')
        self.powers[node['name']] = 'on'

    def off(self, node):
        self._record(node, 'off')
        self.powers[node['name']] = 'off'

    def reset(self, node):
        self._record(node, 'reset')


@pytest.mark.parametrize('state, before, action, changed, after', [
    ('on', 'off', 'on', True, 'on'),
    ('on', 'on', None, False, 'on'),
    ('off', 'on', 'off', True, 'off'),
    ('off', 'off', None, False, 'off'),
    ('reset', 'on', 'reset', True, 'on'),
    ('reset', 'off', 'on', True, 'on'),
    ('reset', 'unknown', 'reset', True, 'on'),
    ('cycle', 'on', 'cycle', True, 'on'),
    ('status', 'off', None, False, 'off'),
])
def test_apply_state(state, before, action, changed, after):
    driver = RecordingDriver({'n1': before})
    result = power.apply_state(driver, node('n1'), state)
    assert (result.action, result.changed, result.power_before, result.power, result.failed) == (
        action, changed, before, after, False)
    expected_calls = [('n1', 'status')]
    if action == 'cycle':
        expected_calls += [('n1', 'off'), ('n1', 'on')]
    elif action:
        expected_calls.append(('n1', action))
    assert driver.calls == expected_calls


@pytest.mark.parametrize('state', ['on', 'off', 'reset', 'cycle'])
def test_check_mode_only_reads_the_status(state):
    driver = RecordingDriver({'n1': 'off' if state == 'on' else 'on'})
    result = power.apply_state(driver, node('n1'), state, check_mode=True)
    assert driver.calls == [('n1', 'status')]
    assert result.changed and result.msg.startswith('would ')


def test_one_failing_node_does_not_stop_the_others():
    names = ['n%d' % index for index in range(12)]
    driver = RecordingDriver({name: 'on' for name in names}, failing={'n3'})
    results = power.apply_all(driver, [node(name) for name in names], 'reset', parallel=4)
    assert [result.name for result in results] == names
    assert [result.name for result in results if result.failed] == ['n3']
    assert 'does not answer' in results[3].msg
    assert sorted(name for name, action in driver.calls if action == 'reset') == sorted(set(names) - {'n3'})
    assert power.summarize(results) == {'nodes': 12, 'changed': 11, 'failed': 1, 'on': 11, 'off': 0, 'unknown': 1}


def test_an_unexpected_exception_is_a_failed_node_too():
    class Broken(RecordingDriver):
        def status(self, node):
            raise KeyError('surprise')
    result = power.apply_state(Broken({}), node('n1'), 'status')
    assert result.failed and 'KeyError' in result.msg


def test_apply_all_refuses_bad_arguments():
    with pytest.raises(power.PowerError, match='state must be'):
        power.apply_all(RecordingDriver({}), [], 'explode')
    with pytest.raises(power.PowerError, match='parallel'):
        power.apply_all(RecordingDriver({}), [node()], 'status', parallel=0)


# --- one-time network boot -------------------------------------------------------------

class BootingDriver(RecordingDriver):
    name = 'booting'
    boot_once_supported = True

    def __init__(self, powers, failing=(), refusing=()):
        super().__init__(powers, failing)
        self.refusing = set(refusing)

    def boot_once(self, node, device, uefi=False):
        self._record(node, 'boot_once %s%s' % (device, ' uefi' if uefi else ''))
        if node['name'] in self.refusing:
            raise power.PowerError('BMC of %s refuses the boot device' % node['name'])


@pytest.mark.parametrize('state, before, calls, boot_once', [
    ('reset', 'on', ['status', 'boot_once pxe', 'reset'], 'pxe'),
    ('reset', 'off', ['status', 'boot_once pxe', 'on'], 'pxe'),
    ('on', 'off', ['status', 'boot_once pxe', 'on'], 'pxe'),
    ('cycle', 'on', ['status', 'boot_once pxe', 'off', 'on'], 'pxe'),
    # Nothing boots: the boot order is left alone.
    ('on', 'on', ['status'], None),
    ('off', 'on', ['status', 'off'], None),
    ('status', 'on', ['status'], None),
])
def test_boot_once_is_set_just_before_a_node_boots(state, before, calls, boot_once):
    driver = BootingDriver({'n1': before})
    result = power.apply_state(driver, node('n1'), state, boot_once='pxe')
    assert not result.failed, result.msg
    assert [call for _name, call in driver.calls] == calls
    assert result.boot_once == boot_once and result.to_dict()['boot_once'] == boot_once


def test_boot_once_in_check_mode_is_reported_but_not_set():
    driver = BootingDriver({'n1': 'on'})
    result = power.apply_state(driver, node('n1'), 'reset', check_mode=True, boot_once='pxe', boot_once_uefi=True)
    assert driver.calls == [('n1', 'status')]
    assert (result.boot_once, result.changed) == ('pxe', True)


def test_a_refused_boot_device_fails_that_node_unpowered_and_the_others_go_on():
    names = ['n%d' % index for index in range(6)]
    driver = BootingDriver({name: 'on' for name in names}, refusing={'n2'})
    results = power.apply_all(driver, [node(name) for name in names], 'reset', parallel=3, boot_once='pxe',
                              boot_once_uefi=True)
    assert [result.name for result in results if result.failed] == ['n2']
    assert 'refuses the boot device' in results[2].msg
    assert ('n2', 'reset') not in driver.calls
    assert ('n5', 'boot_once pxe uefi') in driver.calls and ('n5', 'reset') in driver.calls


def test_boot_once_is_refused_up_front_by_drivers_without_it():
    driver = RecordingDriver({'n1': 'on'})
    with pytest.raises(power.PowerError, match='recording driver cannot set a one-time boot device'):
        power.apply_all(driver, [node('n1')], 'reset', boot_once='pxe')
    with pytest.raises(power.PowerError, match='boot_once must be one of'):
        power.apply_all(BootingDriver({'n1': 'on'}), [node('n1')], 'reset', boot_once='cdrom')
    assert driver.calls == []
    assert not power.QemuDriver(socket_path='{qmp}').boot_once_supported


# --- CMC ---------------------------------------------------------------------------

class FakeHttp:
    def __init__(self, answers):
        self.answers = answers
        self.requests = []

    def __call__(self, url, method, body, headers):
        self.requests.append((method, url, json.loads(body) if body else None))
        answer = self.answers.get((method, url))
        if answer is None:
            return 404, 'not found'
        code, payload = answer
        return code, payload if isinstance(payload, str) else json.dumps(payload)


def test_cmc_takes_the_grid_position_from_orbit_names():
    http = FakeHttp({('GET', 'http://cmc:5012/cmc/reset?x=1&y=2'): (200, 'OK'),
                     ('GET', 'http://cmc:5012/cmc/status?x=1&y=2'): (200, '<NODE status="POWERON"/>')})
    driver = power.CmcDriver(http)
    result = power.apply_state(driver, node('node1-2.sb8'), 'reset')
    assert not result.failed, result.msg
    assert [url for _method, url, _body in http.requests] == [
        'http://cmc:5012/cmc/status?x=1&y=2', 'http://cmc:5012/cmc/reset?x=1&y=2']


def test_cmc_uses_explicit_coordinates_actions_and_url():
    http = FakeHttp({('GET', 'https://cm.example/power/off-now/7/9'): (200, 'done'),
                     ('GET', 'https://cm.example/power/state/7/9'): (200, 'on')})
    driver = power.CmcDriver(http, url='https://cm.example/power/{action}/{x}/{y}',
                             actions={'off': 'off-now', 'status': 'state'})
    result = power.apply_state(driver, node('rack-a', x='7', y='9'), 'off')
    assert (result.failed, result.action) == (False, 'off')


def test_cmc_http_error_and_unknown_position_fail_the_node():
    http = FakeHttp({('GET', 'http://cmc:5012/cmc/status?x=1&y=1'): (500, 'CMC timeout')})
    driver = power.CmcDriver(http)
    assert 'HTTP 500: CMC timeout' in power.apply_state(driver, node('node1-1'), 'status').msg
    result = power.apply_state(driver, node('gateway'), 'status')
    assert result.failed and 'needs {x}' in result.msg
    assert len(http.requests) == 1


# --- Redfish -----------------------------------------------------------------------

SYSTEM = {
    '@odata.id': '/redfish/v1/Systems/1',
    'PowerState': 'Off',
    'Actions': {'#ComputerSystem.Reset': {
        'target': '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
        'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'ForceRestart']}},
}


def redfish_http(system=None):
    base = 'https://10.0.100.1'
    return FakeHttp({
        ('GET', base + '/redfish/v1/Systems'): (200, {'Members': [{'@odata.id': '/redfish/v1/Systems/1'}]}),
        ('GET', base + '/redfish/v1/Systems/1'): (200, system or SYSTEM),
        ('POST', base + '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset'): (204, ''),
    })


def test_redfish_reset_of_a_node_that_is_off_posts_on():
    http = redfish_http()
    result = power.apply_state(power.RedfishDriver(http), node('n1', bmc='10.0.100.1'), 'reset')
    assert (result.failed, result.power_before, result.action) == (False, 'off', 'on')
    assert http.requests[-1] == ('POST', 'https://10.0.100.1/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
                                 {'ResetType': 'On'})


def test_redfish_cycle_falls_back_to_off_and_on_when_power_cycle_is_not_allowed():
    http = redfish_http(dict(SYSTEM, PowerState='On'))
    driver = power.RedfishDriver(http, cycle_delay=0, sleep=lambda seconds: None)
    result = power.apply_state(driver, node('n1', bmc='10.0.100.1'), 'cycle')
    assert not result.failed, result.msg
    posted = [body['ResetType'] for method, _url, body in http.requests if method == 'POST']
    assert posted == ['ForceOff', 'On']


def test_redfish_boot_once_patches_the_override_before_the_reset():
    http = redfish_http(dict(SYSTEM, PowerState='On'))
    http.answers[('PATCH', 'https://10.0.100.1/redfish/v1/Systems/1')] = (204, '')
    result = power.apply_state(power.RedfishDriver(http), node('n1', bmc='10.0.100.1'), 'reset', boot_once='pxe',
                               boot_once_uefi=True)
    assert not result.failed, result.msg
    changes = [(method, body) for method, _url, body in http.requests if method != 'GET']
    assert changes == [
        ('PATCH', {'Boot': {'BootSourceOverrideTarget': 'Pxe', 'BootSourceOverrideEnabled': 'Once',
                            'BootSourceOverrideMode': 'UEFI'}}),
        ('POST', {'ResetType': 'ForceRestart'})]


def test_redfish_boot_once_respects_the_allowed_targets():
    system = dict(SYSTEM, PowerState='On', Boot={'BootSourceOverrideTarget@Redfish.AllowableValues': ['Hdd', 'Cd']})
    http = redfish_http(system)
    result = power.apply_state(power.RedfishDriver(http), node('n1', bmc='10.0.100.1'), 'reset', boot_once='pxe')
    assert result.failed and 'does not allow BootSourceOverrideTarget Pxe (allowed: Hdd, Cd)' in result.msg
    assert [method for method, _url, _body in http.requests if method != 'GET'] == []


def test_redfish_explicit_system_and_http_errors():
    http = FakeHttp({('GET', 'https://bmc7/redfish/v1/Systems/Self'): (200, dict(SYSTEM, PowerState='On'))})
    driver = power.RedfishDriver(http, system='Self', url='https://{bmc}')
    assert power.apply_state(driver, node('n7', bmc='bmc7'), 'status').power == 'on'
    http = FakeHttp({('GET', 'https://bmc8/redfish/v1/Systems'): (401, 'unauthorized')})
    result = power.apply_state(power.RedfishDriver(http), node('n8', bmc='bmc8'), 'status')
    assert result.failed and 'HTTP 401' in result.msg


# --- IPMI and commands ----------------------------------------------------------------

class FakeRunner:
    def __init__(self, outputs):
        self.outputs = outputs
        self.calls = []

    def __call__(self, argv, env, timeout):
        self.calls.append((list(argv), env))
        for key, answer in self.outputs.items():
            if key in ' '.join(argv):
                return answer
        return 0, '', ''


def test_ipmi_keeps_the_password_out_of_argv():
    runner = FakeRunner({'power status': (0, 'Chassis Power is on\n', '')})
    driver = power.IpmiDriver(runner, address='{name}-ipmi', username='admin', password='s3cret')
    result = power.apply_state(driver, node('n1'), 'cycle')
    assert not result.failed, result.msg
    argv, env = runner.calls[-1]
    assert argv == ['ipmitool', '-I', 'lanplus', '-H', 'n1-ipmi', '-U', 'admin', '-E', 'chassis', 'power', 'cycle']
    assert env == {'IPMI_PASSWORD': 's3cret'}
    assert all('s3cret' not in ' '.join(argv) for argv, _env in runner.calls)


@pytest.mark.parametrize('uefi, words', [
    (False, ['chassis', 'bootdev', 'pxe']),
    (True, ['chassis', 'bootdev', 'pxe', 'options=efiboot']),
])
def test_ipmi_boot_once_runs_bootdev_before_the_reset(uefi, words):
    runner = FakeRunner({'power status': (0, 'Chassis Power is on\n', '')})
    driver = power.IpmiDriver(runner, username='admin', password='s3cret')
    result = power.apply_state(driver, node('n1', bmc='10.0.0.9'), 'reset', boot_once='pxe', boot_once_uefi=uefi)
    assert not result.failed, result.msg
    prefix = ['ipmitool', '-I', 'lanplus', '-H', '10.0.0.9', '-U', 'admin', '-E']
    assert [argv for argv, _env in runner.calls] == [
        prefix + ['chassis', 'power', 'status'], prefix + words, prefix + ['chassis', 'power', 'reset']]


def test_ipmi_refused_bootdev_carries_the_bmc_message():
    runner = FakeRunner({'power status': (0, 'Chassis Power is on\n', ''),
                         'bootdev': (1, '', 'Set Chassis Boot Parameter 5 failed: Invalid data field in request\n')})
    result = power.apply_state(power.IpmiDriver(runner), node('n1', bmc='10.0.0.9'), 'reset', boot_once='pxe')
    assert result.failed
    assert result.msg == ('ipmitool chassis bootdev pxe failed (exit 1): '
                          'Set Chassis Boot Parameter 5 failed: Invalid data field in request')
    assert not any('reset' in argv for argv, _env in runner.calls)


@pytest.mark.parametrize('address, expected', [
    ('bmc1', ['-H', 'bmc1']),
    ('10.0.0.9:6230', ['-H', '10.0.0.9', '-p', '6230']),
    ('[fd00::9]:623', ['-H', 'fd00::9', '-p', '623']),
    ('fd00::9', ['-H', 'fd00::9']),
])
def test_ipmi_address_may_carry_a_port(address, expected):
    assert power_command.host_port_arguments(address) == expected


def test_ipmi_address_port_out_of_range_is_refused():
    with pytest.raises(power.PowerError, match='port 70000 is out of range'):
        power_command.host_port_arguments('bmc:70000')


@pytest.mark.parametrize('body, message', [
    ('{"error": {"code": "Base.1.0.GeneralError", "message": "Incorrect username or password"}}',
     'Incorrect username or password'),
    ('{"error": {"message": "Bad request", "@Message.ExtendedInfo": [{"Message": "ResetType is not allowed"}]}}',
     'Bad request; ResetType is not allowed'),
    ('Service Unavailable', 'Service Unavailable'),
    ('[1, 2]', '[1, 2]'),
])
def test_redfish_errors_carry_the_services_own_message(body, message):
    assert power_http.redfish_message(body) == message


def test_ipmi_failure_carries_ipmitool_stderr():
    runner = FakeRunner({'power status': (1, '', 'Error: Unable to establish IPMI v2 / RMCP+ session\n')})
    result = power.apply_state(power.IpmiDriver(runner), node('n1', bmc='10.0.0.9'), 'status')
    assert result.failed and 'Unable to establish' in result.msg


def test_command_templates_are_split_before_filling_in():
    runner = FakeRunner({'status': (0, 'outlet is off', '')})
    driver = power.CommandDriver(runner, {'on': 'pdu --outlet {name} --label "rack {x}" on',
                                          'status': 'pdu --outlet {name} status'})
    result = power.apply_state(driver, node('n 1', x='A; rm -rf /'), 'on')
    assert not result.failed, result.msg
    assert runner.calls[-1][0] == ['pdu', '--outlet', 'n 1', '--label', 'rack A; rm -rf /', 'on']


def test_command_reset_without_template_cycles_and_missing_templates_fail():
    runner = FakeRunner({})
    driver = power.CommandDriver(runner, {'on': 'p on {name}', 'off': 'p off {name}'}, cycle_delay=0)
    driver.sleep = lambda seconds: None
    result = power.apply_state(driver, node('n1'), 'reset')
    assert (result.failed, result.power_before) == (False, 'unknown')
    assert [argv for argv, _env in runner.calls] == [['p', 'off', 'n1'], ['p', 'on', 'n1']]
    driver = power.CommandDriver(runner, {'reset': 'p reset {name}'})
    assert 'no template for on' in power.apply_state(driver, node('n1'), 'on').msg
    with pytest.raises(power.PowerError, match='unknown state'):
        power.CommandDriver(runner, {'explode': 'x'})


def test_make_driver_rejects_unknown_drivers_and_cmc_keys():
    with pytest.raises(power.PowerError, match='driver must be'):
        power.make_driver(power.DriverSettings(driver='telepathy'))
    with pytest.raises(power.PowerError, match='unknown key'):
        power.make_driver(power.DriverSettings(driver='cmc', cmc_actions={'explode': 'x'}), opener=FakeHttp({}))


# --- QEMU over a real QMP socket ------------------------------------------------------

@pytest.fixture
def socket_dir():
    # AF_UNIX paths are limited to 108 bytes: pytest's tmp_path can be longer.
    path = tempfile.mkdtemp(prefix='qmp')
    yield path
    shutil.rmtree(path)


@pytest.fixture
def vm(socket_dir):
    fake = FakeQemu(socket_dir + '/vm1.qmp', status='running')
    yield fake
    fake.close()


def test_qemu_status_and_reset(vm):
    driver = power.QemuDriver()
    target = node('vm1', qmp=vm.path)
    assert power.apply_state(driver, target, 'status').power == 'on'
    result = power.apply_state(driver, target, 'reset')
    assert (result.failed, result.action) == (False, 'reset'), result.msg
    assert vm.commands[-3:] == ['qmp_capabilities', 'system_reset', 'query-status']


def test_qemu_on_boots_a_shut_down_vm_afresh(vm):
    vm.status = 'shutdown'
    result = power.apply_state(power.QemuDriver(), node('vm1', qmp=vm.path), 'on')
    assert (result.failed, result.action, result.power_before) == (False, 'on', 'off'), result.msg
    assert vm.commands[-3:] == ['query-status', 'system_reset', 'cont']
    assert vm.status == 'running'


def test_qemu_prelaunch_vm_is_off_and_reset_starts_it(vm):
    vm.status = 'prelaunch'
    result = power.apply_state(power.QemuDriver(), node('vm1', qmp=vm.path), 'reset')
    assert (result.failed, result.action) == (False, 'on'), result.msg
    assert vm.commands[-1] == 'cont' and 'system_reset' not in vm.commands


def test_qemu_off_stops_and_cycle_resets(vm):
    driver = power.QemuDriver(socket_path='%s/{name}.qmp' % vm.path.rsplit('/', 1)[0])
    assert power.apply_state(driver, node('vm1'), 'off').action == 'off'
    assert vm.status == 'paused'
    assert power.apply_state(driver, node('vm1'), 'cycle').action == 'cycle'
    assert vm.commands[-3:] == ['stop', 'system_reset', 'cont'] and vm.status == 'running'


def test_qemu_errors_are_per_node(vm, socket_dir):
    driver = power.QemuDriver(timeout=2)
    results = power.apply_all(driver, [node('vm1', qmp=vm.path), node('vm2', qmp=socket_dir + '/vm2.qmp'),
                                       node('vm3')], 'reset')
    assert [result.failed for result in results] == [False, True, True]
    assert 'cannot connect to the QMP socket' in results[1].msg
    assert 'needs {qmp}' in results[2].msg


def test_qmp_client_refuses_a_non_qmp_peer_and_reports_qmp_errors(socket_dir):
    fake = FakeQemu(socket_dir + '/odd.qmp', greeting=False)
    try:
        with pytest.raises(power.PowerError, match='did not greet like QMP'):
            with power_qemu.QmpClient(fake.path, timeout=2):
                pass
    finally:
        fake.close()
    fake = FakeQemu(socket_dir + '/vm.qmp')
    try:
        with power_qemu.QmpClient(fake.path, timeout=2) as qmp:
            with pytest.raises(power.PowerError, match='has not been found'):
                qmp.execute('teleport')
    finally:
        fake.close()


def test_qmp_client_notices_a_closed_connection(socket_dir):
    path = socket_dir + '/mute.qmp'
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def accept_and_close():
        conn, _addr = server.accept()
        conn.close()
    thread = threading.Thread(target=accept_and_close, daemon=True)
    thread.start()
    try:
        with pytest.raises(power.PowerError, match='closed the connection'):
            with power_qemu.QmpClient(path, timeout=2):
                pass
    finally:
        thread.join(2)
        server.close()


# --- deadlines that hold, process groups, encoded URLs (issue 21) --------------------

def _trickle(serve_socket, payload: bytes, interval: float) -> threading.Thread:
    """Accept one connection and send ``payload`` one byte every ``interval`` seconds."""
    def run() -> None:
        try:
            connection, _peer = serve_socket.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(5)
            try:
                connection.recv(65536)
                for byte in payload:
                    connection.sendall(bytes([byte]))
                    time.sleep(interval)
            except OSError:
                pass
        serve_socket.close()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_slow_http_peer_cannot_hold_a_call_beyond_the_timeout():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(('127.0.0.1', 0))
    server.listen(1)
    port = server.getsockname()[1]
    body = b'Chassis Power is on\n'
    _trickle(server, b'HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n' % len(body) + body, 0.25)
    settings = power.DriverSettings(driver='cmc', timeout=1, cmc_url='http://127.0.0.1:%d/cmc/{action}?x={x}&y={y}' % port)
    started = time.monotonic()
    result = power.apply_state(power.make_driver(settings), node('node1-2'), 'status')
    elapsed = time.monotonic() - started
    assert result.failed and 'no complete answer within 1' in result.msg, result
    assert elapsed < 3, elapsed


def test_a_slow_qmp_peer_cannot_hold_a_call_beyond_the_timeout(socket_dir):
    path = os.path.join(socket_dir, 'slow.qmp')
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)

    def run() -> None:
        connection, _peer = server.accept()
        with connection:
            try:
                for byte in b'{"QMP": {"version": {}, "capabilities": []}}\r\n':
                    connection.sendall(bytes([byte]))
                    time.sleep(0.25)
            except OSError:
                pass
        server.close()
    threading.Thread(target=run, daemon=True).start()
    started = time.monotonic()
    result = power.apply_state(power.QemuDriver(socket_path=path, timeout=1), node('vm1'), 'status')
    assert result.failed and 'no complete answer within 1' in result.msg, result
    assert time.monotonic() - started < 3


def test_a_command_that_times_out_leaves_no_child_running(tmp_path):
    pid_file = tmp_path / 'child'
    driver = power.CommandDriver(power.subprocess_runner,
                                 {'status': "sh -c 'sleep 60 & echo $! > %s; wait'" % pid_file}, timeout=1)
    result = power.apply_state(driver, node('n1'), 'status')
    assert result.failed and 'did not finish within 1 s' in result.msg
    assert dies_soon(int(pid_file.read_text()))


def test_node_fields_are_encoded_in_urls():
    urls = []

    def opener(url, method, body, headers):
        urls.append(url)
        return 200, '{"PowerState": "On"}'
    driver = power.CmcDriver(opener)
    power.apply_state(driver, node('n1', x='1&y=99', y='2/../x'), 'status')
    assert urls == ['http://cmc:5012/cmc/status?x=1%26y%3D99&y=2%2F..%2Fx']
    redfish = power.RedfishDriver(opener, url='https://{bmc}', system='Sys 1?x')
    power.apply_state(redfish, node('n1', bmc='10.0.0.9:8443'), 'status')
    assert urls[-1] == 'https://10.0.0.9:8443/redfish/v1/Systems/Sys%201%3Fx'
