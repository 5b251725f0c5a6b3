# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _xcpu
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils.process_checks import dies_soon


@pytest.fixture
def key(tmp_path):
    path = tmp_path / 'id_rsa.pub'
    path.write_text('ssh-rsa AAAAB3NzaC1yc2E rminnich@prism\n')
    return str(path)


def test_command_lines_in_both_syntaxes(key):
    group = _xcpu.Group('somegroup', 567)
    user = _xcpu.User('rminnich', 525, 'somegroup', key)
    # The seed's commands: xgroupset node somegroup 567; xuserset node rminnich 525 somegroup KEYFILE
    assert _xcpu.group_argv('xgroupset', 'classic', 'n8,n9', group, None) == ['xgroupset', 'n8,n9', 'somegroup', '567']
    assert _xcpu.user_argv('xuserset', 'classic', 'n8,n9', user, None) == [
        'xuserset', 'n8,n9', 'rminnich', '525', 'somegroup', key]
    assert _xcpu.group_argv('xgroupset', 'subcommand', 'n8', group, '/etc/xcpu/admin_key') == [
        'xgroupset', 'add', '-A', '/etc/xcpu/admin_key', 'n8', 'somegroup', '567']
    assert _xcpu.user_argv('xuserset', 'subcommand', 'n8', user, None) == [
        'xuserset', 'add', 'n8', 'rminnich', '525', 'somegroup', key]


def test_plan_pushes_groups_before_users(key):
    steps = _xcpu.plan_steps(['n8', 'n9'], [_xcpu.Group('root', 0)], [_xcpu.User('root', 0, 'root', key)],
                             '/usr/bin/xgroupset', '/usr/bin/xuserset', 'classic', None)
    assert [step.argv for step in steps] == [
        ['/usr/bin/xgroupset', 'n8,n9', 'root', '0'],
        ['/usr/bin/xuserset', 'n8,n9', 'root', '0', 'root', key],
    ]


def test_long_node_lists_are_batched_below_the_argument_limit():
    names = ['node%05d' % index for index in range(20000)]
    batches = _xcpu.node_batches(names)
    assert [name for batch in batches for name in batch] == names
    assert all(len(','.join(batch)) <= _xcpu.MAX_NODELIST_CHARS for batch in batches)
    assert len(batches) == 4  # 20000 names of 9 characters plus commas: 200 KB
    assert _xcpu.node_batches(['a', 'bb', 'c'], limit=4) == [['a', 'bb'], ['c']]
    with pytest.raises(_xcpu.XcpuError):
        _xcpu.node_batches(['n1,n2'])


def test_definitions_are_checked(key, tmp_path):
    assert _xcpu.parse_groups([{'name': 'root', 'gid': '0'}]) == [_xcpu.Group('root', 0)]
    for bad, message in (([{'name': 'a b', 'gid': 1}], 'not a valid name'),
                         ([{'name': 'g', 'gid': -1}], 'out of range'),
                         ([{'name': 'g', 'gid': 'x'}], 'must be a number'),
                         ([{'name': 'g', 'gid': 1}, {'name': 'g', 'gid': 2}], 'twice')):
        with pytest.raises(_xcpu.XcpuError, match=message):
            _xcpu.parse_groups(bad)
    assert _xcpu.parse_users([{'name': 'root', 'uid': 0, 'group': 'root', 'public_key': key}])[0].uid == 0
    empty = tmp_path / 'empty.pub'
    empty.write_text('\n')
    for bad, message in (([{'name': 'u', 'uid': 1, 'group': 'g', 'public_key': str(tmp_path / 'nope')}], 'cannot be read'),
                         ([{'name': 'u', 'uid': 1, 'group': 'g', 'public_key': str(empty)}], 'empty'),
                         ([{'name': 'u', 'uid': 1, 'group': 'bad;group', 'public_key': key}], 'not a valid name')):
        with pytest.raises(_xcpu.XcpuError, match=message):
            _xcpu.parse_users(bad)


def test_admin_key_only_with_the_subcommand_syntax():
    _xcpu.check_style('subcommand', '/etc/xcpu/admin_key')
    _xcpu.check_style('classic', None)
    with pytest.raises(_xcpu.XcpuError, match='subcommand'):
        _xcpu.check_style('classic', '/etc/xcpu/admin_key')


def test_per_node_errors_in_libxcpu_format_map_to_nodes(key):
    steps = _xcpu.plan_steps(['n8', 'n9', 'n10'], [], [_xcpu.User('root', 0, 'root', key)], 'xgroupset',
                             'xuserset', 'classic', None)

    def runner(argv, timeout):
        # libxcpu: fprintf(stderr, "%s: %s: Error %d: %s\n", prog, node, ecode, ename)
        return 255, '', 'xp_user_add: n9: Error 111: Connection refused\nxp_user_add: n10: Error 2: unknown group\n'
    _xcpu.run_steps(steps, runner, 10)
    outcomes = _xcpu.node_outcomes(['n8', 'n9', 'n10'], steps)
    assert [outcome.status for outcome in outcomes] == ['ok', 'failed', 'failed']
    assert outcomes[1].errors == ['user root: Error 111: Connection refused']
    assert outcomes[2].errors == ['user root: Error 2: unknown group']


def test_failure_without_node_lines_fails_the_whole_batch(key):
    steps = _xcpu.plan_steps(['n8', 'n9'], [_xcpu.Group('g', 5)], [], 'xgroupset', 'xuserset', 'classic', None)

    def runner(argv, timeout):
        return 255, '', 'Error: cannot read /etc/xcpu/admin_key\n'
    _xcpu.run_steps(steps, runner, 10)
    outcomes = _xcpu.node_outcomes(['n8', 'n9'], steps)
    assert [outcome.errors for outcome in outcomes] == [['group g: Error: cannot read /etc/xcpu/admin_key']] * 2


def test_default_runner_reports_missing_program_and_timeout(tmp_path):
    with pytest.raises(_xcpu.XcpuError, match='cannot run'):
        _xcpu.default_runner([str(tmp_path / 'xuserset')], 5)
    rc, _out, err = _xcpu.default_runner(['sleep', '5'], 0.2)
    assert rc == -1 and 'did not finish' in err


@pytest.mark.parametrize('name', ['-h', '--help', ''])
def test_a_node_name_that_reads_as_an_option_is_refused(name):
    with pytest.raises(_xcpu.XcpuError, match='option'):
        _xcpu.node_batches([name, 'n2'])
    with pytest.raises(_xcpu.XcpuError, match='option'):
        _xcpu.node_batches(['n1', name])


def test_default_runner_kills_the_children_of_a_tool_that_times_out(tmp_path):
    pid_file = tmp_path / 'child'
    rc, _out, err = _xcpu.default_runner(['sh', '-c', 'sleep 60 & echo $! > %s; wait' % pid_file], 0.5)
    assert rc == -1 and 'killed' in err
    assert dies_soon(int(pid_file.read_text()))
