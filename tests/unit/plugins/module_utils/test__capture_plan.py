# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _capture_plan as plan

HOSTVARS = {
    'node1': {'mac': '52-54-00-00-00-11', 'ip': '10.0.0.11', 'power': {'bmc': '10.1.0.11'}},
    'node2': {'mac': '52:54:00:00:00:12', 'ansible_host': '10.0.0.12', 'image_nodes_disk': '/dev/vda'},
    'node3': {'mac': '52:54:00:00:00:13'},
}


def plan_of(entries, hostvars=None):
    return plan.plan_nodes(entries, HOSTVARS if hostvars is None else hostvars, '/dev/sda')


def test_nodes_come_from_the_entry_else_the_inventory_host_in_canonical_form():
    nodes, errors = plan_of([
        {'node': 'node1', 'image': 'base@v1', 'size': 1048576},
        {'node': 'node2', 'image': 'base@v2'},
        {'node': 'extra', 'image': 'other@1', 'mac': '000D.B90A.1234', 'ip': '10.0.0.99', 'power': {'x': 1},
         'disk': '/dev/nvme0n1', 'size': '512'},
    ])
    assert errors == []
    assert nodes == [
        {'name': 'node1', 'mac': '52:54:00:00:00:11', 'ip': '10.0.0.11', 'image': 'base@v1', 'image_name': 'base',
         'version': 'v1', 'disk': '/dev/sda', 'size': '1048576',
         'power': {'bmc': '10.1.0.11', 'name': 'node1', 'mac': '52:54:00:00:00:11', 'ip': '10.0.0.11'}},
        {'name': 'node2', 'mac': '52:54:00:00:00:12', 'ip': '10.0.0.12', 'image': 'base@v2', 'image_name': 'base',
         'version': 'v2', 'disk': '/dev/vda', 'size': '',  # ansible_host, the host's own disk
         'power': {'name': 'node2', 'mac': '52:54:00:00:00:12', 'ip': '10.0.0.12'}},
        {'name': 'extra', 'mac': '00:0d:b9:0a:12:34', 'ip': '10.0.0.99', 'image': 'other@1', 'image_name': 'other',
         'version': '1', 'disk': '/dev/nvme0n1', 'size': '512',
         'power': {'x': 1, 'name': 'extra', 'mac': '00:0d:b9:0a:12:34', 'ip': '10.0.0.99'}},
    ]


def test_the_entry_wins_over_the_host():
    nodes, errors = plan_of([{'node': 'node1', 'image': 'a@1', 'ip': '10.0.0.50', 'power': {}, 'disk': '/dev/sdb'}])
    assert errors == []
    assert (nodes[0]['ip'], nodes[0]['disk'], nodes[0]['power']) == (
        '10.0.0.50', '/dev/sdb', {'name': 'node1', 'mac': '52:54:00:00:00:11', 'ip': '10.0.0.50'})


@pytest.mark.parametrize('entry, message', [
    ({'node': 'node1'}, "capture_image_nodes[0] (node1): image '' must be NAME@VERSION"),
    ({'node': 'node1', 'image': 'base'}, "image 'base' must be NAME@VERSION (a capture makes one version)"),
    ({'node': 'node1', 'image': 'a b@1'}, "image 'a b@1' must be NAME@VERSION: image name 'a b'"),
    ({'node': 'node1', 'image': 'a@1@2'}, "image 'a@1@2' must be NAME@VERSION: image version '1@2'"),
    ({'node': 'node1', 'image': '/srv/x.img'}, "image '/srv/x.img' must be NAME@VERSION"),
    ({'image': 'a@1'}, 'capture_image_nodes[0]: every entry needs node'),
    ({'node': 'node1', 'image': 'a@1', 'imgae': 'b@1'}, 'capture_image_nodes[0]: unknown key(s) imgae; allowed: node,'),
    ({'node': 'node1', 'image': 'a@1', 'disk': 'sda'}, "disk 'sda' must be an absolute device path"),
    ({'node': 'node1', 'image': 'a@1', 'disk': '/dev/sda quiet'}, "disk '/dev/sda quiet' must be an absolute"),
    ({'node': 'node1', 'image': 'a@1', 'size': '10G'}, "size '10G' must be a positive number of bytes"),
    ({'node': 'node1', 'image': 'a@1', 'size': 0}, 'size 0 must be a positive number of bytes'),
    ({'node': 'node1', 'image': 'a@1', 'size': True}, 'size True must be a positive number of bytes'),
    ({'node': 'node1', 'image': 'a@1', 'power': 'ipmi'}, "power must be a mapping of node_power fields, got 'ipmi'"),
    ({'node': 'node3', 'image': 'a@1'}, 'nodes without mac or ip (give them in the entry'),
    ({'node': 'ghost', 'image': 'a@1'}, 'nodes without mac or ip (give them in the entry, or as the inventory '
                                        "host's mac and ip): ghost"),
    ({'node': 'node1', 'image': 'a@1', 'mac': '01:00:5e:00:00:02'}, 'capture_image_nodes[0] (node1): MAC address '
                                                                    "'01:00:5e:00:00:02' is a multicast address"),
    ({'node': 'node1', 'image': 'a@1', 'mac': 525400000011}, 'quote MAC addresses in YAML'),
    ({'node': 'node1', 'image': 'a@1', 'ip': '10.1'}, "invalid IPv4 address '10.1'"),
    ({'node': 'node1', 'image': 'a@1', 'ip': '224.0.0.1'}, '224.0.0.1 is a multicast address, which no node can have'),
    ({'node': 'node 1', 'image': 'a@1', 'mac': '52:54:00:00:00:99', 'ip': '10.0.0.9'}, 'white space'),
    ('node1', "capture_image_nodes[0]: expected a mapping with node and image, got 'node1'"),
])
def test_bad_entries_are_refused_with_a_clear_error(entry, message):
    _nodes, errors = plan_of([entry])
    assert len(errors) == 1 and message in errors[0], errors


def test_every_problem_is_named_at_once():
    _nodes, errors = plan_of([
        {'node': 'node1', 'image': 'a'},
        {'node': 'node2', 'image': 'b@1', 'size': -1},
        {'node': 'node3', 'image': 'c@1', 'disk': 'x'},
    ])
    assert [error.split(':')[0] for error in errors] == [
        'capture_image_nodes[0] (node1)', 'capture_image_nodes[1] (node2)', 'capture_image_nodes[2] (node3)',
        'nodes without mac or ip (give them in the entry, or as the inventory host\'s mac and ip)']


@pytest.mark.parametrize('entries, message', [
    ([{'node': 'node1', 'image': 'a@1'}, {'node': 'node2', 'image': 'a@1'}],
     'a@1 is asked of more than one node (node1, node2): each node captures into its own NAME@VERSION'),
    ([{'node': 'node1', 'image': 'a@1'}, {'node': 'node1', 'image': 'a@2'}],
     'duplicate name node1: node1 (capture_image_nodes[0]) and node1 (capture_image_nodes[1])'),
    ([{'node': 'node1', 'image': 'a@1'}, {'node': 'node2', 'image': 'a@2', 'ip': '10.0.0.11'}],
     'duplicate ip 10.0.0.11: node1 (capture_image_nodes[0]) and node2 (capture_image_nodes[1])'),
    ([{'node': 'node1', 'image': 'a@1'}, {'node': 'node2', 'image': 'a@2', 'mac': '52:54:00:00:00:11'}],
     'duplicate mac 52:54:00:00:00:11: node1'),
])
def test_two_entries_for_one_image_or_one_node_are_refused(entries, message):
    _nodes, errors = plan_of(entries)
    assert errors == [message] or (len(errors) == 1 and errors[0].startswith(message)), errors


@pytest.mark.parametrize('nodes, address, expected', [
    ([], '10.0.0.1', ['capture_image_nodes is empty: name at least one node to capture']),
    ([{}], '', ["capture_image_server_address is required (the console's address on the nodes' network)"]),
    ([{}], 'console.example', ["capture_image_server_address: invalid IPv4 address 'console.example'"]),
    ([{}], '10.0.0.1', []),
])
def test_plan_problems(nodes, address, expected):
    assert plan.plan_problems(nodes, address) == expected


def test_taken_names_the_images_the_catalog_holds_in_plan_order():
    nodes = [{'image': 'b@2'}, {'image': 'a@1'}, {'image': 'a@3'}]
    entries = [{'name': 'a', 'version': '1'}, {'name': 'b', 'version': '2'}, {'name': 'a', 'version': '2'}]
    assert plan.taken(nodes, entries) == ['b@2', 'a@1']
    assert plan.taken(nodes, []) == []


def test_name_files():
    run_dir, nodes = plan.name_files([{'name': 'node1'}], '/var/lib/capture', '20260101T120000-abcdef')
    assert run_dir == '/var/lib/capture/20260101T120000-abcdef'
    assert nodes == [{'name': 'node1', 'record': '/var/lib/capture/20260101T120000-abcdef/node1.receiver.json',
                      'config': 'capture-20260101T120000-abcdef-node1'}]


def job(name, image, **result):
    return dict(result, item={'item': {'name': name, 'image': image}})


def test_the_verdict_reads_each_receivers_json_line():
    entry = {'name': 'a', 'version': '1', 'sha256': '0' * 64}
    verdict = plan.verdict([
        job('node1', 'a@1', finished=1, stdout=json.dumps({'ok': True, 'image': entry, 'seconds': 12.5})),
        job('node2', 'b@1', finished=1, stdout=json.dumps({'ok': False, 'error': 'stream ended early'})),
        job('node3', 'c@1', finished=1, stdout='Traceback (most recent call last):', stderr='ValueError: x'),
        job('node4', 'd@1', finished=0),
        job('node5', 'e@1', finished=1, stdout='{"ok": tru', msg='non-zero return code'),
        job('node6', 'f@1', finished=1, stdout='{"ok": "yes"}'),
    ])
    assert verdict['results'][0] == {'name': 'node1', 'image': 'a@1', 'ok': True, 'error': '', 'entry': entry,
                                     'seconds': 12.5, 'line': 'node1 -> a@1: captured in 12.5 s'}
    assert [(result['ok'], result['error'], result['entry']) for result in verdict['results'][1:]] == [
        (False, 'stream ended early', None),
        (False, 'ValueError: x', None),
        (False, 'no result (the receiver had not finished)', None),
        (False, 'non-zero return code', None),
        (False, 'no result', None),
    ]
    assert verdict['lines'][1] == 'node2 -> b@1: FAILED'
    assert verdict['failed_nodes'] == ['node2', 'node3', 'node4', 'node5', 'node6']
    assert verdict['error'].startswith('not captured (no catalog entry was made for them): node2: stream ended early; '
                                       'node3: ValueError: x; node4: no result (the receiver had not finished); ')


def test_a_verdict_without_failures_has_no_error():
    verdict = plan.verdict([job('node1', 'a@1', finished=1, stdout='{"ok": true, "image": {}, "seconds": 1}')])
    assert (verdict['failed_nodes'], verdict['error'], verdict['lines']) == ([], '', ['node1 -> a@1: captured in 1 s'])
