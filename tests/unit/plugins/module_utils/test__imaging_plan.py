# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _imaging_plan as plan
from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset

HOSTVARS = {
    'node1': {'mac': '52:54:00:00:00:11', 'ip': '10.0.0.11', 'power': {'bmc': '10.1.0.11'}},
    'node2': {'mac': '52:54:00:00:00:12', 'ansible_host': '10.0.0.12', 'image_nodes_disk': '/dev/vda'},
    'node3': {'mac': '52:54:00:00:00:13', 'ip': '10.0.0.13'},
    'node4': {'mac': '52:54:00:00:00:14', 'ip': '10.0.0.14'},
}
GROUPS = {'rack_b': ['node3', 'node4'], 'all': list(HOSTVARS)}


def nodes_of(groups, hostvars=None):
    return plan.plan_nodes(groups, HOSTVARS if hostvars is None else hostvars, GROUPS, 'udpcast', '/dev/sda',
                           _nodeset.expand)


def test_groups_from_hosts_inventory_groups_nodesets_and_explicit_nodes():
    nodes, errors = nodes_of([
        {'name': 'a', 'image': '/img/a.img', 'hosts': ['node1']},
        {'name': 'b', 'image': '/img/b.img', 'inventory_group': 'rack_b', 'backend': 'frisbee', 'disk': '/dev/sdb'},
        {'name': 'c', 'image': '/img/a.img', 'nodeset': 'node2',
         'nodes': [{'name': 'extra', 'mac': '52:54:00:00:00:99', 'ip': '10.0.0.99', 'power': {'x': 1}}]},
    ])
    assert errors == []
    assert [(n['name'], n['group'], n['image'], n['backend'], n['disk'], n['ip']) for n in nodes] == [
        ('node1', 'a', '/img/a.img', 'udpcast', '/dev/sda', '10.0.0.11'),
        ('node3', 'b', '/img/b.img', 'frisbee', '/dev/sdb', '10.0.0.13'),
        ('node4', 'b', '/img/b.img', 'frisbee', '/dev/sdb', '10.0.0.14'),
        ('node2', 'c', '/img/a.img', 'udpcast', '/dev/vda', '10.0.0.12'),  # ansible_host, its own disk
        ('extra', 'c', '/img/a.img', 'udpcast', '/dev/sda', '10.0.0.99'),
    ]
    assert nodes[0]['power'] == {'bmc': '10.1.0.11'}
    assert nodes[4]['power'] == {'x': 1}


def test_every_group_problem_is_named_at_once():
    nodes, errors = nodes_of([{'name': 'a'}, {'image': '/img/b.img', 'inventory_group': 'nope'},
                              {'name': 'c', 'image': '/img/c.img', 'nodeset': 'node[1-'}])
    assert nodes == []
    assert errors[0] == 'a has no image'
    assert errors[1] == 'a has no nodes (give hosts, inventory_group, nodeset or nodes)'
    assert errors[2] == 'group 2: inventory group nope does not exist'
    assert errors[4].startswith('c: nodeset node[1-: ')


def test_duplicates_are_named_once_each():
    nodes, _errors = nodes_of([{'name': 'a', 'image': '/a', 'hosts': ['node1', 'node2', 'node1']},
                               {'name': 'b', 'image': '/b', 'inventory_group': 'all'}])
    assert plan.duplicates(nodes) == ['node1', 'node2']
    assert 'nodes in more than one group: node1, node2' in plan.plan_problems(nodes, '10.0.0.1')


def test_plan_problems():
    nodes, _errors = nodes_of([{'name': 'a', 'image': '/a', 'hosts': ['node1', 'ghost']},
                               {'name': 'b', 'image': '/a', 'hosts': ['node3'], 'backend': 'frisbee'}])
    assert plan.plan_problems(nodes, '') == [
        'image_nodes_server_address is required',
        'nodes without mac or ip: ghost, ghost',
        'the nodes of image /a need one backend and one target disk (one session and one config per image)',
    ]
    assert plan.plan_problems([], '10.0.0.1') == ['no nodes to image']


def test_image_checks_read_a_sha256_only_when_needed():
    nodes, _errors = nodes_of([
        {'name': 'raw', 'image': '/raw.img', 'hosts': ['node1']},
        {'name': 'given', 'image': '/given.img', 'sha256': 'ab' * 32, 'hosts': ['node2']},
        {'name': 'ndz', 'image': '/x.ndz', 'backend': 'frisbee', 'hosts': ['node3']},
        {'name': 'ndz-raw', 'image': '/y.ndz', 'raw_image': '/y.img', 'backend': 'frisbee', 'hosts': ['node4']},
    ])
    assert plan.image_checks(nodes) == {'/raw.img': True, '/given.img': False, '/x.ndz': False, '/y.ndz': False,
                                        '/y.img': True}


def test_one_session_and_config_per_image_with_its_size_and_sha256():
    nodes, _errors = nodes_of([
        {'name': 'a', 'image': '/raw.img', 'hosts': ['node1']},
        {'name': 'b', 'image': '/y.ndz', 'raw_image': '/y.img', 'backend': 'frisbee', 'hosts': ['node3']},
        {'name': 'c', 'image': '/raw.img', 'hosts': ['node4']},
        {'name': 'd', 'image': '/x.ndz', 'backend': 'frisbee', 'size': '1024', 'hosts': ['node2']},
    ])
    stats = {'/raw.img': {'exists': True, 'isreg': True, 'size': 4096, 'checksum': 'aa'},
             '/y.ndz': {'exists': True, 'isreg': True, 'size': 100},
             '/y.img': {'exists': True, 'isreg': True, 'size': 8192, 'checksum': 'bb'},
             '/x.ndz': {'exists': True, 'isreg': True, 'size': 50}}
    images, errors = plan.plan_images(nodes, stats, 'RUN')
    assert errors == []
    assert images == [
        {'image': '/raw.img', 'backend': 'udpcast', 'disk': '/dev/sda', 'size': '4096', 'sha256': 'aa',
         'config': 'image-nodes-RUN-1'},
        {'image': '/y.ndz', 'backend': 'frisbee', 'disk': '/dev/sda', 'size': '8192', 'sha256': 'bb',
         'config': 'image-nodes-RUN-2'},
        {'image': '/x.ndz', 'backend': 'frisbee', 'disk': '/dev/vda', 'size': '1024', 'sha256': '',
         'config': 'image-nodes-RUN-3'},
    ]
    first = plan.make_round(nodes, images, 1)
    assert [(image['image'], image['nodes']) for image in first['images']] == [
        ('/raw.img', ['node1', 'node4']), ('/y.ndz', ['node3']), ('/x.ndz', ['node2'])]
    assert first['images'][0]['pointers'] == [{'name': 'node1', 'mac': '52:54:00:00:00:11', 'ip': '10.0.0.11'},
                                              {'name': 'node4', 'mac': '52:54:00:00:00:14', 'ip': '10.0.0.14'}]
    assert first['power'][0] == {'bmc': '10.1.0.11', 'name': 'node1', 'mac': '52:54:00:00:00:11', 'ip': '10.0.0.11'}
    assert first['records'][1] == {'name': 'node3', 'mac': '52:54:00:00:00:13', 'ip': '10.0.0.13', 'group': 'b',
                                   'image': '/y.ndz', 'sha256': 'bb', 'size': '8192'}


def test_missing_images_are_refused():
    nodes, _errors = nodes_of([{'name': 'a', 'image': '/gone.img', 'hosts': ['node1']},
                               {'name': 'b', 'image': '/dir', 'hosts': ['node2']}])
    _images, errors = plan.plan_images(nodes, {'/gone.img': {'exists': False},
                                               '/dir': {'exists': True, 'isreg': False}}, 'RUN')
    assert errors == ['image /gone.img does not exist on the console or is not a regular file',
                      'image /dir does not exist on the console or is not a regular file']


def test_a_retry_round_holds_only_the_failed_nodes_and_their_images():
    nodes, _errors = nodes_of([{'name': 'a', 'image': '/a', 'hosts': ['node1', 'node2']},
                               {'name': 'b', 'image': '/b', 'hosts': ['node3']}])
    images, _errors = plan.plan_images(nodes, {'/a': {'exists': True, 'isreg': True, 'size': 1, 'checksum': 'x'},
                                               '/b': {'exists': True, 'isreg': True, 'size': 1, 'checksum': 'y'}},
                                       'RUN')
    first = plan.make_round(nodes, images, 1)
    retry = plan.make_round(first['nodes'], first['images'], 2, ['node2'])
    assert retry['attempt'] == 2
    assert retry['names'] == ['node2']
    assert [(image['image'], image['config'], image['nodes']) for image in retry['images']] == [
        ('/a', 'image-nodes-RUN-1', ['node2'])]
    assert [entry['name'] for entry in retry['power']] == ['node2']
    assert plan.make_round(first['nodes'], first['images'], 2, [])['images'] == []


def state(name, result='ok', detail='', **extra):
    return dict({'name': name, 'group': 'g', 'image': '/img/a.img', 'mac': 'm', 'ip': 'i', 'phase': 'done',
                 'result': result, 'final': True, 'detail': detail, 'verdict': 'match' if result == 'ok' else '-',
                 'seconds': 10.0, 'receive_seconds': 3.0, 'secure_boot': 'n/a'}, **extra)


def test_the_attempt_that_counted_is_the_last_one_a_node_took_part_in():
    first = [state('node1'), state('node2', 'failed', 'receiver-exit-1'), state('node3', 'failed', 'no report')]
    second = [state('node2'), state('node3', 'failed', 'still nothing')]
    result = plan.verdict([first, second], retries=1,
                          power=[{'name': 'node1', 'bmc': 'b1'}, {'name': 'node2'}, {'name': 'node3'}])
    assert [(s['name'], s['result'], s['attempt']) for s in result['nodes']] == [
        ('node1', 'ok', 1), ('node2', 'ok', 2), ('node3', 'failed', 2)]
    assert result['ok'] == 2
    assert result['failed_nodes'] == ['node3']
    assert result['ok_power'] == [{'name': 'node1', 'bmc': 'b1'}, {'name': 'node2'}]
    assert result['attempts'] == 2
    header, row1, row2, row3 = result['table'][:4]
    assert header.split()[-2:] == ['ATTEMPT', 'LOG']
    assert row2.split()[2] == 'node2' and row2.split()[-2:] == ['2', '-']
    assert row3.split()[-2] == '2'
    assert result['table'][4:] == ['node3: still nothing', 'node2: attempt 1: failed (receiver-exit-1)',
                                   'node3: attempt 1: failed (no report)']


def test_without_retries_the_table_is_the_one_round_table_and_names_each_console_log():
    result = plan.verdict([[dict(state('node1'), log='/run/1/logs/m.log'), state('node2', 'failed', 'power: off')]])
    assert result['table'][0].split() == ['GROUP', 'IMAGE', 'NODE', 'MAC', 'IP', 'PHASE', 'RESULT', 'SECONDS',
                                          'RECEIVE', 'CHECKSUM', 'SECURE', 'BOOT', 'LOG']
    assert result['table'][1].split() == ['g', 'a.img', 'node1', 'm', 'i', 'done', 'ok', '10', '3', 'match', 'n/a',
                                          '/run/1/logs/m.log']
    assert result['table'][2].split()[-1] == '-'
    assert result['table'][3:] == ['node2: power: off']
    assert result['failed_nodes'] == ['node2']


def test_a_node_still_under_way_is_not_ok():
    result = plan.verdict([[dict(state('node1'), final=False, result='started', phase='receive')]])
    assert result['failed_nodes'] == ['node1']


@pytest.mark.parametrize('power, expected', [
    (None, {}),
    ({'nodes': [{'name': 'a', 'failed': False}, {'name': 'b', 'failed': True, 'msg': 'no BMC'},
                {'name': 'c', 'failed': True}]}, {'b': 'no BMC', 'c': 'failed'}),
])
def test_power_failures(power, expected):
    assert plan.power_failures(power) == expected


def test_progress_names_every_node_of_a_small_group_and_counts_a_large_one():
    small = [state('a1', group='a'), dict(state('a2', group='a'), final=False, phase='receive'),
             dict(state('a3', group='a'), final=False, phase='none')]
    large = [dict(state('b%d' % index, group='b'), final=False, phase='verify') for index in range(20)]
    large[3] = state('b3', 'failed', group='b')
    lines = plan.progress(small + large, 12.4, list_up_to=16)
    assert lines == ['  12s a: 1/3 finished (a1 ok, a2 receive, a3 booting)',
                     '  12s b: 1/20 finished (FAILED 1, verify 19; failed: b3)']
    assert plan.progress(small, 3, attempt=2)[0].startswith('attempt 2    3s a: 1/3')


def test_a_catalog_reference_is_served_the_checked_file_with_the_catalogs_size_and_sha256():
    verified = [{'item': 'lab-a@2', 'serve_path': '/cat/unpacked/lab-a@2.img',
                 'image': {'file': '/cat/lab-a@2.img.gz', 'sha256': 'ab' * 32, 'size': 67108864}}]
    catalog = plan.catalog_images(verified, check_mode=False)
    nodes, errors = plan.plan_nodes([{'name': 'a', 'image': 'lab-a@2', 'hosts': ['node1']},
                                     {'name': 'b', 'image': '/img/b.img', 'hosts': ['node2']}],
                                    HOSTVARS, GROUPS, 'udpcast', '/dev/sda', _nodeset.expand, catalog)
    assert errors == []
    assert [(n['image'], n['sha256'], n['size']) for n in nodes] == [
        ('/cat/unpacked/lab-a@2.img', 'ab' * 32, '67108864'), ('/img/b.img', '', '')]
    # Check mode unpacks nothing: the plan names the stored file, which exists.
    assert plan.catalog_images(verified, check_mode=True)['lab-a@2']['path'] == '/cat/lab-a@2.img.gz'
