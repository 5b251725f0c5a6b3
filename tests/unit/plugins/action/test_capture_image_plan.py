# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import re
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.task import Task

from ansible_collections.cluster.netboot.plugins.action.capture_image_plan import ActionModule

HOSTVARS = {'node1': {'mac': '52:54:00:00:00:11', 'ip': '10.0.0.11'},
            'node2': {'mac': '52:54:00:00:00:12', 'ip': '10.0.0.12', 'power': {'bmc': '10.1.0.12'}}}
ENTRIES = [{'node': 'node1', 'image': 'base@v1'}, {'node': 'node2', 'image': 'base@v2', 'size': 4096}]
CATALOG = '/var/lib/cluster-netboot/catalog/catalog.json'


def action_for(args, catalog=None, check_mode=False):
    """The action plugin with ``args``; image_catalog (the only module it runs) answers ``catalog``."""
    task = MagicMock(Task)
    task.args = args
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    play_context = MagicMock()
    play_context.check_mode = check_mode
    action = ActionModule(task, MagicMock(), play_context, loader=None, templar=None, shared_loader_obj=None)
    action._execute_module = MagicMock(return_value=catalog if catalog is not None else {'images': []})
    return action


def run(args, **kwargs):
    action = action_for(args, **kwargs)
    return action, action.run(task_vars={'hostvars': HOSTVARS})


def test_the_plan_names_the_run_and_each_nodes_files_after_reading_the_catalog():
    action, result = run({'nodes': ENTRIES, 'server_address': '10.0.0.1', 'catalog': CATALOG,
                          'state_dir': '/var/lib/capture'},
                         catalog={'images': [{'name': 'base', 'version': 'v0'}]})
    assert not result.get('failed') and result['changed'] is False
    assert re.match(r'\d{8}T\d{6}-[0-9a-f]{6}\Z', result['run_id'])
    assert result['run_dir'] == '/var/lib/capture/' + result['run_id']
    assert re.match(r'[0-9a-f]{32}\Z', result['token'])
    assert [(node['name'], node['image'], node['size'], node['disk'], node['power']) for node in result['nodes']] == [
        ('node1', 'base@v1', '', '/dev/sda', {'name': 'node1', 'mac': '52:54:00:00:00:11', 'ip': '10.0.0.11'}),
        ('node2', 'base@v2', '4096', '/dev/sda',
         {'bmc': '10.1.0.12', 'name': 'node2', 'mac': '52:54:00:00:00:12', 'ip': '10.0.0.12'}),
    ]
    assert result['nodes'][1]['record'] == '%s/node2.receiver.json' % result['run_dir']
    assert result['nodes'][1]['config'] == 'capture-%s-node2' % result['run_id']
    action._execute_module.assert_called_once_with(
        module_name='cluster.netboot.image_catalog', task_vars={'hostvars': HOSTVARS},
        module_args={'path': CATALOG, 'state': 'query'})


def test_two_runs_have_their_own_ids_and_tokens():
    args = {'nodes': ENTRIES, 'server_address': '10.0.0.1'}
    first, second = run(args)[1], run(args)[1]
    assert first['run_id'] != second['run_id'] and first['token'] != second['token']


@pytest.mark.parametrize('args, message', [
    ({'server_address': '10.0.0.1'}, 'capture_image_nodes is empty'),
    ({'nodes': ENTRIES}, 'capture_image_server_address is required'),
    ({'nodes': [{'node': 'node1', 'image': 'base'}, {'node': 'node2', 'image': 'x@1', 'disk': 'sdb'}],
      'server_address': '10.0.0.300'},
     "capture_image_nodes[0] (node1): image 'base' must be NAME@VERSION (a capture makes one version); "
     "capture_image_nodes[1] (node2): disk 'sdb' must be an absolute device path without white space; "
     "capture_image_server_address: invalid IPv4 address '10.0.0.300'"),
    ({'nodes': ['node1'], 'server_address': '10.0.0.1'}, 'expected a mapping with node and image'),
])
def test_bad_input_is_refused_before_the_console_is_asked_anything(args, message):
    action = action_for(dict(args, catalog=CATALOG))
    with pytest.raises(AnsibleActionFail) as failure:
        action.run(task_vars={'hostvars': HOSTVARS})
    assert message in str(failure.value)
    action._execute_module.assert_not_called()


def test_an_image_the_catalog_holds_is_refused_unless_forced():
    args = {'nodes': ENTRIES, 'server_address': '10.0.0.1', 'catalog': CATALOG}
    held = {'images': [{'name': 'base', 'version': 'v2'}, {'name': 'base', 'version': 'v1'}]}
    with pytest.raises(AnsibleActionFail) as failure:
        run(args, catalog=held)
    assert str(failure.value) == ('already in the catalog %s: base@v1, base@v2 (give another version, or '
                                  'capture_image_force)' % CATALOG)
    assert [node['image'] for node in run(dict(args, force=True), catalog=held)[1]['nodes']] == ['base@v1', 'base@v2']


def test_a_catalog_that_cannot_be_read_is_refused_even_when_forced():
    with pytest.raises(AnsibleActionFail, match='cannot read the catalog %s: .* is not a JSON catalog' % CATALOG):
        run({'nodes': ENTRIES, 'server_address': '10.0.0.1', 'catalog': CATALOG, 'force': True},
            catalog={'failed': True, 'msg': '%s is not a JSON catalog: Expecting value' % CATALOG})


def test_without_a_catalog_it_is_not_read():
    action, result = run({'nodes': ENTRIES, 'server_address': '10.0.0.1'})
    assert len(result['nodes']) == 2
    action._execute_module.assert_not_called()


def test_check_mode_plans_all_the_same():
    _action, result = run({'nodes': ENTRIES, 'server_address': '10.0.0.1', 'catalog': CATALOG}, check_mode=True)
    assert not result.get('failed') and [node['name'] for node in result['nodes']] == ['node1', 'node2']


def test_with_jobs_it_returns_the_verdict_and_does_not_fail():
    jobs = [{'item': {'item': {'name': 'node1', 'image': 'base@v1'}}, 'finished': 1,
             'stdout': '{"ok": true, "image": {"name": "base"}, "seconds": 3.0}'},
            {'item': {'item': {'name': 'node2', 'image': 'base@v2'}}, 'finished': 1,
             'stdout': '{"ok": false, "error": "idle for 60 s"}'}]
    action, result = run({'jobs': jobs})
    assert not result.get('failed') and result['changed'] is False
    assert result['lines'] == ['node1 -> base@v1: captured in 3.0 s', 'node2 -> base@v2: FAILED']
    assert result['failed_nodes'] == ['node2']
    assert result['error'] == 'not captured (no catalog entry was made for them): node2: idle for 60 s'
    assert [item['entry'] for item in result['results']] == [{'name': 'base'}, None]
    action._execute_module.assert_not_called()
