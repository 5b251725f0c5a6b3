# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import shutil
import tempfile
from unittest import mock

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _power
from ansible_collections.cluster.netboot.plugins.modules import node_power
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils.qmp_fake import FakeQemu
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import run_module


@pytest.fixture
def lab():
    directory = tempfile.mkdtemp(prefix='qmp')
    vms = {name: FakeQemu('%s/%s.qmp' % (directory, name), status=status)
           for name, status in (('vm1', 'running'), ('vm2', 'shutdown'))}
    yield directory, vms
    for vm in vms.values():
        vm.close()
    shutil.rmtree(directory)


def qemu_args(directory, state, names=('vm1', 'vm2'), **extra):
    args = {'driver': 'qemu', 'state': state, 'qmp_socket': directory + '/{name}.qmp',
            'nodes': [{'name': name} for name in names], 'timeout': 2}
    args.update(extra)
    return args


def test_reset_every_vm_in_one_call(lab):
    directory, vms = lab
    ended = run_module(node_power.main, qemu_args(directory, 'reset'))
    assert not ended.failed, ended.result
    assert ended.result['changed'] is True
    assert [(entry['name'], entry['action']) for entry in ended.result['nodes']] == [('vm1', 'reset'), ('vm2', 'on')]
    assert vms['vm2'].status == 'running'
    assert ended.result['summary'] == {'nodes': 2, 'changed': 2, 'failed': 0, 'on': 2, 'off': 0, 'unknown': 0}


def test_on_is_idempotent(lab):
    directory, vms = lab
    first = run_module(node_power.main, qemu_args(directory, 'on'))
    second = run_module(node_power.main, qemu_args(directory, 'on'))
    assert first.result['changed'] is True and second.result['changed'] is False
    assert 'system_reset' not in vms['vm1'].commands


def test_check_mode_only_queries_status(lab):
    directory, vms = lab
    ended = run_module(node_power.main, qemu_args(directory, 'off'), check_mode=True, diff=True)
    assert not ended.failed and ended.result['changed'] is True
    for vm in vms.values():
        assert set(vm.commands) == {'qmp_capabilities', 'query-status'}
    assert ended.result['diff']['before'] == 'vm1: on\nvm2: off\n'
    assert ended.result['diff']['after'] == 'vm1: off\nvm2: off\n'
    assert [entry['msg'] for entry in ended.result['nodes']] == ['would off', 'ok']


def test_a_dead_vm_fails_the_task_after_the_others_were_reset(lab):
    directory, vms = lab
    ended = run_module(node_power.main, qemu_args(directory, 'reset', names=('vm1', 'ghost', 'vm2')))
    assert ended.failed
    assert ended.result['failed_nodes'] == ['ghost']
    assert '1 of 3 node(s) failed: ghost' in ended.result['msg']
    assert [entry['failed'] for entry in ended.result['nodes']] == [False, True, False]
    assert 'system_reset' in vms['vm1'].commands and vms['vm2'].status == 'running'


def test_nodeset_with_cmc_reaches_every_grid_position():
    seen = []

    def opener(url, method, body, headers):
        seen.append(url)
        return 200, 'on' if 'status' in url else 'OK'
    with mock.patch.object(_power, 'make_open_url_opener', return_value=opener):
        ended = run_module(node_power.main, {'driver': 'cmc', 'state': 'reset', 'nodeset': 'node[1-2]-[1-3]',
                                             'parallel': 1})
    assert not ended.failed, ended.result
    assert [url for url in seen if '/reset?' in url] == [
        'http://cmc:5012/cmc/reset?x=%d&y=%d' % (x, y) for x in (1, 2) for y in (1, 2, 3)]


def test_password_is_not_logged_and_reaches_ipmitool_by_environment():
    calls = []

    def runner(argv, env, timeout):
        calls.append((argv, env))
        return 0, 'Chassis Power is off\n', ''
    with mock.patch.object(_power, 'subprocess_runner', runner):
        ended = run_module(node_power.main, {'driver': 'ipmi', 'state': 'on', 'username': 'root',
                                             'password': 'hunter2', 'address': '{name}.bmc',
                                             'nodes': [{'name': 'n1'}]})
    assert not ended.failed, ended.result
    assert calls[-1][0][-3:] == ['chassis', 'power', 'on'] and calls[-1][1] == {'IPMI_PASSWORD': 'hunter2'}
    assert 'hunter2' not in repr(ended.result)


def test_boot_once_with_ipmi_sets_bootdev_then_resets_and_hides_the_password():
    calls = []

    def runner(argv, env, timeout):
        calls.append(argv)
        if argv[-2:] == ['power', 'reset']:
            return 1, '', 'Set Chassis Power Control to Reset failed: Insufficient privilege level\n'
        return 0, 'Chassis Power is on\n', ''
    with mock.patch.object(_power, 'subprocess_runner', runner):
        ended = run_module(node_power.main, {'driver': 'ipmi', 'state': 'reset', 'boot_once': 'pxe',
                                             'boot_once_uefi': True, 'username': 'root', 'password': 'hunter2',
                                             'ipmi_cipher_suite': 3, 'nodes': [{'name': 'n1', 'bmc': 'b1:6230'}]})
    assert [argv[4:] for argv in calls] == [
        ['b1', '-p', '6230', '-C', '3', '-U', 'root', '-E', 'chassis', 'power', 'status'],
        ['b1', '-p', '6230', '-C', '3', '-U', 'root', '-E', 'chassis', 'bootdev', 'pxe', 'options=efiboot'],
        ['b1', '-p', '6230', '-C', '3', '-U', 'root', '-E', 'chassis', 'power', 'reset']]
    assert ended.failed and ended.result['failed_nodes'] == ['n1']
    assert ended.result['nodes'][0]['boot_once'] == 'pxe'
    assert 'Insufficient privilege level' in ended.result['msg']
    assert 'hunter2' not in repr(ended.result)


@pytest.mark.parametrize('args, message', [
    ({'driver': 'command', 'state': 'on', 'nodes': [{'name': 'n1'}]}, 'commands'),
    ({'driver': 'qemu', 'state': 'on', 'nodes': [{'name': 'n1', 'colour': 'red'}]}, 'unknown field'),
    ({'driver': 'qemu', 'state': 'on', 'nodes': [{'name': 'n1'}, {'name': 'n1'}]}, 'duplicate name'),
    ({'driver': 'cmc', 'state': 'on', 'nodes': [{'name': 'n1'}], 'cmc_name_regex': '(unclosed'}, 'cmc_name_regex'),
    ({'driver': 'qemu', 'state': 'teleport', 'nodes': [{'name': 'n1'}]}, 'state'),
    ({'driver': 'cmc', 'state': 'on', 'nodeset': 'node[1-99999999]'},
     "node range 'node[1-99999999]' names 99999999 nodes, more than max_nodes (1000000)"),
    ({'driver': 'cmc', 'state': 'on', 'nodeset': 'node[1-3]', 'max_nodes': 2}, 'more than max_nodes (2)'),
    ({'driver': 'qemu', 'state': 'on', 'nodes': [{'name': 'n1', 'mac': '1'}]}, "n1): invalid MAC address '1'"),
    ({'driver': 'qemu', 'state': 'on', 'nodes': [{'name': 'n1'}], 'nodeset': 'n1'}, 'mutually exclusive'),
    ({'driver': 'qemu', 'state': 'on', 'nodes': [{'name': 'n1'}], 'ip_start': '10.0.0.1'}, 'ip_start'),
    ({'driver': 'qemu', 'state': 'on'}, 'one of the following is required: nodes, nodes_file, nodeset'),
    ({'driver': 'qemu', 'state': 'reset', 'boot_once': 'pxe', 'nodes': [{'name': 'n1', 'qmp': '/nonexistent'}]},
     'the qemu driver cannot set a one-time boot device; boot_once needs ipmi or redfish'),
    ({'driver': 'ipmi', 'state': 'reset', 'boot_once': 'cdrom', 'nodes': [{'name': 'n1'}]}, 'boot_once'),
])
def test_bad_input_fails_before_touching_any_node(args, message):
    ended = run_module(node_power.main, args)
    assert ended.failed and message in ended.result['msg']
