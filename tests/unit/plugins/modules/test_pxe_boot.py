# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset
from ansible_collections.cluster.netboot.plugins.modules import pxe_boot
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import assert_documented, run_module, tree_digest

NODE2 = {'name': 'node1-2', 'ip': '10.18.1.18', 'mac': '00:0D:B9:0A:12:34'}
NODE3 = {'name': 'node1-3', 'ip': '10.18.1.19', 'mac': '000d.b90a.1235'}


@pytest.fixture
def root(tmp_path):
    cfg = tmp_path / 'pxelinux.cfg'
    cfg.mkdir()
    for name in ('default', 'orbit-2.0.0', 'harddisk'):
        (cfg / name).write_text('DEFAULT %s\n' % name)
    return tmp_path


def boot(root, **extra):
    args = {'tftp_root': str(root), 'nodes': [NODE2, NODE3], 'boot': 'orbit-2.0.0'}
    args.update(extra)
    return args


def links(root):
    cfg = root / 'pxelinux.cfg'
    return {name: os.readlink(cfg / name) for name in sorted(os.listdir(cfg)) if os.path.islink(cfg / name)}


def test_points_nodes_by_ip_then_reports_no_change(root):
    ended = run_module(pxe_boot.main, boot(root))
    assert not ended.failed and ended.result['changed']
    assert links(root) == {'0A120112': 'orbit-2.0.0', '0A120113': 'orbit-2.0.0'}
    assert ended.result['nodes'] == [{'nodeset': 'node1-[2-3]', 'count': 2, 'loader': 'pxelinux', 'key': 'ip',
                                      'previous': None, 'target': 'orbit-2.0.0', 'changed': True}]
    assert ended.result['summary'] == {'nodes': 2, 'pointers': 2, 'created': 2, 'replaced': 0, 'removed': 0,
                                       'unchanged': 0}
    before = tree_digest(root)
    again = run_module(pxe_boot.main, boot(root))
    assert not again.result['changed'] and again.result['nodes'] == [
        {'nodeset': 'node1-[2-3]', 'count': 2, 'loader': 'pxelinux', 'key': 'ip', 'previous': 'orbit-2.0.0',
         'target': 'orbit-2.0.0', 'changed': False}]
    assert tree_digest(root) == before


def test_repoint_reports_previous_and_diff(root):
    run_module(pxe_boot.main, boot(root))
    ended = run_module(pxe_boot.main, boot(root, nodes=[NODE2], boot='harddisk'), diff=True)
    assert ended.result['changed']
    assert ended.result['nodes'] == [{'nodeset': 'node1-2', 'count': 1, 'loader': 'pxelinux', 'key': 'ip',
                                      'previous': 'orbit-2.0.0', 'target': 'harddisk', 'changed': True}]
    assert ended.result['diff']['before'] == '0A120112 (node1-2) -> orbit-2.0.0\n'
    assert ended.result['diff']['after'] == '0A120112 (node1-2) -> harddisk\n'
    assert links(root) == {'0A120112': 'harddisk', '0A120113': 'orbit-2.0.0'}


def test_key_mac_and_both(root):
    ended = run_module(pxe_boot.main, boot(root, key='mac'))
    assert links(root) == {'01-00-0d-b9-0a-12-34': 'orbit-2.0.0', '01-00-0d-b9-0a-12-35': 'orbit-2.0.0'}
    ended = run_module(pxe_boot.main, boot(root, key='both'))
    assert ended.result['summary']['pointers'] == 4 and ended.result['summary']['created'] == 2
    assert len(links(root)) == 4


def test_check_mode_changes_nothing(root):
    before = tree_digest(root)
    ended = run_module(pxe_boot.main, boot(root, key='both'), check_mode=True, diff=True)
    assert ended.result['changed'] and ended.result['summary']['created'] == 4
    assert ended.result['diff']['after'].count('\n') == 4
    assert tree_digest(root) == before


def test_absent_removes_pointers_and_is_idempotent(root):
    run_module(pxe_boot.main, boot(root, key='both'))
    ended = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodes': [NODE2], 'key': 'both', 'state': 'absent'})
    assert ended.result['changed'] and ended.result['summary']['removed'] == 2
    assert ended.result['nodes'][0]['previous'] == 'orbit-2.0.0' and ended.result['nodes'][0]['target'] is None
    assert links(root) == {'01-00-0d-b9-0a-12-35': 'orbit-2.0.0', '0A120113': 'orbit-2.0.0'}
    again = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodes': [NODE2], 'key': 'both', 'state': 'absent'})
    assert not again.result['changed']


def test_nodes_file_csv_any_column_order(root, tmp_path_factory):
    listing = tmp_path_factory.mktemp('inv') / 'nodes.csv'
    listing.write_text('mac,name,ip\n00:0d:b9:0a:12:34,node1-2,10.18.1.18\n# spare\n\n00:0d:b9:0a:12:35,node1-3,10.18.1.19\n')
    ended = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodes_file': str(listing), 'boot': 'orbit-2.0.0',
                                       'key': 'both'})
    assert not ended.failed, ended.result.get('msg')
    assert ended.result['summary']['nodes'] == 2 and len(links(root)) == 4


def test_nodes_file_json(root, tmp_path_factory):
    listing = tmp_path_factory.mktemp('inv') / 'nodes.json'
    listing.write_text(json.dumps([NODE2, NODE3]))
    ended = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodes_file': str(listing), 'boot': 'harddisk'})
    assert not ended.failed and links(root) == {'0A120112': 'harddisk', '0A120113': 'harddisk'}


def test_nodeset_with_ip_start(root):
    ended = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodeset': 'node[1-3]', 'ip_start': '10.10.0.254',
                                       'boot': 'orbit-2.0.0'})
    assert not ended.failed
    assert [(entry['nodeset'], entry['count']) for entry in ended.result['nodes']] == [('node[1-3]', 3)]
    assert links(root) == {'0A0A00FE': 'orbit-2.0.0', '0A0A00FF': 'orbit-2.0.0', '0A0A0100': 'orbit-2.0.0'}


def test_nodeset_without_ip_start_names_the_nodes_without_ip(root):
    before = tree_digest(root)
    ended = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodeset': 'node[1-3]', 'boot': 'orbit-2.0.0'})
    assert ended.failed and 'node1' in ended.result['msg'] and 'ip' in ended.result['msg']
    assert tree_digest(root) == before


@pytest.mark.parametrize('extra, message', [
    ({'boot': 'orbit-9.9.9'}, 'does not exist'),
    ({'boot': '../pxelinux.cfg/orbit-2.0.0'}, 'escapes'),
    ({'boot': '/etc/hostname'}, 'escapes'),
    ({'nodes': [NODE2, dict(NODE3, ip='10.18.1.18')]}, 'duplicate ip 10.18.1.18: node1-2'),
    ({'nodes': [NODE2, dict(NODE3, mac='00-0d-b9-0a-12-34')], 'key': 'mac'}, 'duplicate mac'),
    ({'nodes': [NODE2, dict(NODE3, name='node1-2')]}, 'duplicate name'),
    ({'nodes': [dict(NODE2, ip='10.18.1.300')]}, 'invalid IPv4 address'),
    ({'nodes': [dict(NODE2, mac='00:0d:b9:0a:12')]}, 'invalid MAC address'),
    ({'nodes': [{'name': 'node1-4', 'mac': '00:0d:b9:0a:12:36'}]}, 'node1-4'),
    ({'nodes': [{'name': 'node1-4', 'ip': '10.18.1.20'}], 'key': 'both'}, 'node1-4'),
    ({'nodes': [dict(NODE2, role='x')]}, 'unknown field'),
    ({'nodeset': 'node[1-2]'}, 'mutually exclusive'),
    ({'ip_start': '10.0.0.1'}, 'ip_start'),
    ({'boot': None}, 'boot'),
    ({'tftp_root': '/nonexistent/tftp'}, 'not a directory'),
    ({'nodes': [dict(NODE2, mac='1')], 'key': 'mac'}, "nodes[0] (node1-2): invalid MAC address '1'"),
    ({'nodes': [dict(NODE2, mac=1)], 'key': 'mac'}, 'invalid MAC address 1'),
    ({'nodes': [dict(NODE2, mac='0:d:b9:a:12:34')], 'key': 'mac'}, 'invalid MAC address'),
    ({'nodes': [dict(NODE2, mac='ff:ff:ff:ff:ff:ff')], 'key': 'mac'}, 'is the broadcast address, which no NIC has'),
    ({'nodes': [dict(NODE2, mac='00:00:00:00:00:00')], 'key': 'mac'}, 'is all zero'),
    ({'nodes': [dict(NODE2, mac='01:00:5e:00:00:02')], 'key': 'both'}, 'is a multicast address'),
    ({'nodes': [dict(NODE2, ip='255.255.255.255')]}, 'nodes[0] (node1-2): 255.255.255.255 is the limited broadcast'),
    ({'nodes': [dict(NODE2, ip='224.0.0.2')]}, '224.0.0.2 is a multicast address'),
    ({'nodes': [dict(NODE2, ip='10.18.0.0')], 'network': '10.18.0.0/16'}, '10.18.0.0 is the network address of 10.18.0.0/16'),
    ({'nodes': [NODE2, dict(NODE3, ip='10.18.255.255')], 'network': '10.18.0.0/16'},
     'nodes[1] (node1-3): 10.18.255.255 is the broadcast address of 10.18.0.0/16'),
    ({'nodes': [NODE2], 'network': '10.19.0.0/16'}, '10.18.1.18 is outside every subnet given (10.19.0.0/16)'),
    ({'nodes': [NODE2], 'network': '10.18.1.1/24'}, 'host bits are set'),
    ({'nodes': [dict(NODE2, name='n' * 64 + '.grid')]}, 'has a part of 64 characters; at most 63'),
    ({'nodes': None, 'nodeset': 'n[1-11]', 'ip_start': '10.18.2.1', 'max_nodes': 10},
     "node range 'n[1-11]' names 11 nodes, more than max_nodes (10)"),
    ({'nodes': None, 'nodeset': 'n[1-10]', 'ip_start': '10.18.255.250', 'network': '10.18.0.0/16'},
     'nodeset n6 (n6): 10.18.255.255 is the broadcast address of 10.18.0.0/16'),
])
def test_bad_input_fails_and_changes_nothing(root, extra, message):
    run_module(pxe_boot.main, boot(root, nodes=[NODE3], boot='harddisk'))
    before = tree_digest(root)
    args = boot(root, **extra)
    if args['nodes'] is None:  # a range instead of the list; a key given as None still counts as given
        del args['nodes']
    ended = run_module(pxe_boot.main, args)
    assert ended.failed
    assert message in ended.result['msg']
    assert tree_digest(root) == before


def test_a_range_over_max_nodes_fails_before_it_is_expanded(root, monkeypatch):
    from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset
    real = _nodeset.NodeSet

    def small_only(pattern='', *args, **kwargs):
        # ClusterShell expands a range in memory while it parses it: n[1-99999999] took 8 GiB.
        assert '99999999' not in pattern, 'ClusterShell was given %r' % pattern
        return real(pattern, *args, **kwargs)
    monkeypatch.setattr(_nodeset, 'NodeSet', small_only)
    before = tree_digest(root)
    ended = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodeset': 'n[1-99999999]', 'ip_start': '10.0.0.1',
                                       'boot': 'orbit-2.0.0'})
    assert ended.failed
    assert ended.result['msg'] == ("node range 'n[1-99999999]' names 99999999 nodes, more than max_nodes (1000000); "
                                   "raise max_nodes if that is really meant")
    assert tree_digest(root) == before


def test_network_option_accepts_the_nodes_inside(root):
    ended = run_module(pxe_boot.main, boot(root, network='10.18.0.0/16'))
    assert not ended.failed and ended.result['summary']['created'] == 2


def test_regular_file_at_a_pointer_is_refused_unless_forced(root):
    (root / 'pxelinux.cfg' / '0A120113').write_text('DEFAULT handmade\n')
    before = tree_digest(root)
    ended = run_module(pxe_boot.main, boot(root))
    assert ended.failed and '0A120113 (node1-3)' in ended.result['msg'] and 'force' in ended.result['msg']
    assert tree_digest(root) == before
    ended = run_module(pxe_boot.main, boot(root, force=True))
    assert not ended.failed and links(root) == {'0A120112': 'orbit-2.0.0', '0A120113': 'orbit-2.0.0'}


def test_ten_thousand_nodes_from_a_nodeset(root):
    ended = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodeset': 'n[1-10000]', 'ip_start': '10.20.0.1',
                                       'boot': 'orbit-2.0.0'})
    assert ended.result['summary']['created'] == 10000
    # One entry, not 10,000: ansible-core's cost grows with every returned dict.
    assert ended.result['nodes'] == [{'nodeset': 'n[1-10000]', 'count': 10000, 'loader': 'pxelinux', 'key': 'ip',
                                      'previous': None, 'target': 'orbit-2.0.0', 'changed': True}]
    assert os.readlink(root / 'pxelinux.cfg' / '0A142710') == 'orbit-2.0.0'  # n10000 = 10.20.39.16
    again = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodeset': 'n[1-10000]', 'ip_start': '10.20.0.1',
                                       'boot': 'orbit-2.0.0'})
    assert not again.result['changed'] and again.result['summary']['unchanged'] == 10000
    assert [(entry['nodeset'], entry['changed']) for entry in again.result['nodes']] == [('n[1-10000]', False)]


def _point_range(root, first, boot, queue):
    """One playbook's worth of work, in its own process: 300 nodes of its own plus one shared node."""
    nodes = [{'name': 'n%d' % number, 'ip': '10.30.%d.%d' % (number // 256, number % 256)}
             for number in range(first, first + 300)]
    nodes.append({'name': 'shared', 'ip': '10.31.0.1'})
    ended = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodes': nodes, 'boot': boot})
    queue.put((ended.failed, ended.result.get('msg'), ended.result.get('summary')))


def test_concurrent_calls_do_not_lose_pointers(root):
    context = multiprocessing.get_context('fork')
    queue = context.Queue()
    workers = [context.Process(target=_point_range, args=(root, index * 300, boot, queue))
               for index, boot in enumerate(['orbit-2.0.0', 'harddisk', 'default', 'orbit-2.0.0'])]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=120) for _worker in workers]
    for worker in workers:
        worker.join(timeout=120)
    assert all(not failed for failed, _msg, _summary in results), results
    pointers = links(root)
    assert len(pointers) == 1201
    for index, boot in enumerate(['orbit-2.0.0', 'harddisk', 'default', 'orbit-2.0.0']):
        number = index * 300 + 7
        assert pointers['0A1E%02X%02X' % (number // 256, number % 256)] == boot
    assert pointers['0A1F0001'] in ('orbit-2.0.0', 'harddisk', 'default')
    # No temporary link is left behind by the renames.
    assert not [name for name in os.listdir(root / 'pxelinux.cfg') if name.startswith('.')]


def test_report_changed_lists_only_changed_pointers(root):
    run_module(pxe_boot.main, boot(root, nodes=[NODE2]))
    ended = run_module(pxe_boot.main, boot(root, report='changed'))
    assert [(entry['nodeset'], entry['changed']) for entry in ended.result['nodes']] == [('node1-3', True)]
    assert ended.result['summary']['unchanged'] == 1 and ended.result['summary']['created'] == 1
    again = run_module(pxe_boot.main, boot(root, report='changed'))
    assert again.result['nodes'] == [] and not again.result['changed']


@pytest.mark.parametrize('key', ['ip', 'mac', 'both'])
def test_results_match_the_documented_return_values(root, key):
    """Every documented key is returned (nodes[].key among them) and nothing undocumented is."""
    for state, extra in (('present', {}), ('present', {'report': 'changed'}), ('absent', {})):
        args = boot(root, key=key, state=state, **extra)
        for check_mode in (True, False):
            ended = run_module(pxe_boot.main, args, check_mode=check_mode, diff=True)
            assert not ended.failed, ended.result.get('msg')
            assert_documented(pxe_boot, ended.result)
    ended = run_module(pxe_boot.main, boot(root, key=key))
    assert_documented(pxe_boot, ended.result)
    wanted = {'ip': ['ip'], 'mac': ['mac'], 'both': ['ip', 'mac']}[key]
    assert [entry['key'] for entry in ended.result['nodes']] == wanted


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_config_dir_linked_out_of_the_root_is_not_written_through(tmp_path, state):
    root, outside = tmp_path / 'tftp', tmp_path / 'outside'
    root.mkdir()
    outside.mkdir()
    (outside / 'orbit-2.0.0').write_text('DEFAULT orbit\n')
    (outside / '0A120112').symlink_to('orbit-2.0.0')
    (root / 'pxelinux.cfg').symlink_to(outside)
    before = tree_digest(tmp_path)
    ended = run_module(pxe_boot.main, boot(root, state=state))
    assert ended.failed and 'outside' in ended.result['msg'] and 'pxelinux.cfg' in ended.result['msg'], ended.result
    assert tree_digest(tmp_path) == before


def test_leftovers_of_killed_runs_are_removed_but_not_in_check_mode(root):
    cfg = root / 'pxelinux.cfg'
    os.symlink('harddisk', cfg / ('.0A120112.%s.tmp' % ('5a' * 8)))
    (cfg / '.cluster-netboot-abc_1234').write_text('DEFAULT half-written\n')
    for name in ('.0A120112.%s.tmp' % ('5a' * 8), '.cluster-netboot-abc_1234'):
        then = os.lstat(cfg / name).st_mtime - 3600
        os.utime(cfg / name, (then, then), follow_symlinks=False)
    before = tree_digest(root)
    ended = run_module(pxe_boot.main, boot(root), check_mode=True)
    assert not ended.failed and tree_digest(root) == before
    ended = run_module(pxe_boot.main, boot(root))
    assert not ended.failed
    assert sorted(os.listdir(cfg)) == ['0A120112', '0A120113', 'default', 'harddisk', 'orbit-2.0.0']


def loader_root(root):
    for loader in ('grub', 'ipxe'):
        (root / loader).mkdir()
        (root / loader / 'orbit-2.0.0').write_text('%s orbit\n' % loader)
    return root


def test_all_three_loaders_in_one_call(root):
    loader_root(root)
    args = boot(root, key='both', loader=['pxelinux', 'grub', 'ipxe'])
    ended = run_module(pxe_boot.main, args, check_mode=True, diff=True)
    assert ended.result['changed'] and ended.result['summary']['pointers'] == 12
    assert 'grub/grub.cfg-10.18.1.18 (node1-2) -> orbit-2.0.0' in ended.result['diff']['after']
    assert not os.path.lexists(root / 'grub' / 'grub.cfg-10.18.1.18')
    ended = run_module(pxe_boot.main, args)
    assert not ended.failed and ended.result['summary']['created'] == 12, ended.result
    assert os.readlink(root / 'grub' / 'grub.cfg-10.18.1.18') == 'orbit-2.0.0'
    assert os.readlink(root / 'grub' / 'grub.cfg-01-00-0d-b9-0a-12-35') == 'orbit-2.0.0'
    assert os.readlink(root / 'ipxe' / '10.18.1.19.ipxe') == 'orbit-2.0.0'
    assert os.readlink(root / 'ipxe' / '00-0d-b9-0a-12-34.ipxe') == 'orbit-2.0.0'
    assert links(root) == {'01-00-0d-b9-0a-12-34': 'orbit-2.0.0', '01-00-0d-b9-0a-12-35': 'orbit-2.0.0',
                           '0A120112': 'orbit-2.0.0', '0A120113': 'orbit-2.0.0'}
    assert not run_module(pxe_boot.main, args).result['changed']
    ended = run_module(pxe_boot.main, dict(args, state='absent'))
    assert ended.result['summary']['removed'] == 12
    assert os.listdir(root / 'grub') == ['orbit-2.0.0'] and os.listdir(root / 'ipxe') == ['orbit-2.0.0']


def test_a_config_missing_for_one_loader_changes_nothing(root):
    loader_root(root)
    (root / 'ipxe' / 'orbit-2.0.0').unlink()
    before = tree_digest(root)
    ended = run_module(pxe_boot.main, boot(root, loader=['pxelinux', 'grub', 'ipxe']))
    assert ended.failed and 'loader: ipxe' in ended.result['msg']
    assert tree_digest(root) == before


def test_unknown_loader_is_refused(root):
    before = tree_digest(root)
    ended = run_module(pxe_boot.main, boot(root, loader=['syslinux']))
    assert ended.failed and 'syslinux' in ended.result['msg']
    assert tree_digest(root) == before


def test_nodes_groups_pointers_that_agree_and_keeps_each_pointer_findable(root):
    """One entry per (loader, key, previous, target, changed); expanding them gives back every pointer."""
    loader_root(root)
    nodes = [{'name': 'n%02d' % number, 'ip': '10.18.2.%d' % number, 'mac': '02:00:00:00:00:%02x' % number}
             for number in range(1, 13)]
    run_module(pxe_boot.main, {'tftp_root': str(root), 'nodes': nodes[:4], 'boot': 'harddisk'})
    run_module(pxe_boot.main, {'tftp_root': str(root), 'nodes': nodes[8:], 'boot': 'orbit-2.0.0'})
    ended = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodes': nodes, 'boot': 'orbit-2.0.0',
                                       'key': 'both', 'loader': ['pxelinux', 'grub']})
    assert not ended.failed, ended.result.get('msg')
    fields = ('nodeset', 'count', 'loader', 'key', 'previous', 'changed')
    assert all(entry['target'] == 'orbit-2.0.0' for entry in ended.result['nodes'])
    assert [tuple(entry[field] for field in fields) for entry in ended.result['nodes']] == [
        ('n[01-04]', 4, 'pxelinux', 'ip', 'harddisk', True),
        ('n[01-12]', 12, 'pxelinux', 'mac', None, True),
        ('n[05-08]', 4, 'pxelinux', 'ip', None, True),
        ('n[09-12]', 4, 'pxelinux', 'ip', 'orbit-2.0.0', False),
        ('n[01-12]', 12, 'grub', 'ip', None, True),
        ('n[01-12]', 12, 'grub', 'mac', None, True),
    ]
    assert all(set(entry) == set(fields) | {'target'} for entry in ended.result['nodes'])
    pointers = [(name, entry['loader'], entry['key']) for entry in ended.result['nodes']
                for name in _nodeset.expand(entry['nodeset'])]
    assert sorted(pointers) == sorted((node['name'], loader, key) for node in nodes
                                      for loader in ('pxelinux', 'grub') for key in ('ip', 'mac'))
    assert sum(entry['count'] for entry in ended.result['nodes']) == ended.result['summary']['pointers'] == 48
    # Each changed pointer is still named one by one in the diff.
    ended = run_module(pxe_boot.main, {'tftp_root': str(root), 'nodes': nodes, 'boot': 'harddisk'}, diff=True)
    assert ended.result['diff']['after'].count('\n') == 12 and '0A12020C (n12) -> harddisk' in ended.result['diff']['after']


def test_node_names_that_a_range_cannot_hold_are_refused(root):
    before = tree_digest(root)
    ended = run_module(pxe_boot.main, boot(root, nodes=[dict(NODE2, name='node[1]')]))
    assert ended.failed and 'node[1]' in ended.result['msg'] and 'range' in ended.result['msg']
    assert tree_digest(root) == before
