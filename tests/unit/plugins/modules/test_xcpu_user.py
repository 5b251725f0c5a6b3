# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The module with fake xgroupset/xuserset programs that record their command lines."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from ansible_collections.cluster.netboot.plugins.modules import xcpu_user
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import run_module


@pytest.fixture
def tools(tmp_path):
    """Fake xcpu programs: append argv to a log, print a given stderr, exit with a given code."""
    def make(stderr='', rc=0):
        paths = {}
        for name in ('xgroupset', 'xuserset'):
            script = tmp_path / name
            script.write_text(textwrap.dedent('''\
                #!{python}
                import json, sys
                with open({log!r}, 'a') as handle:
                    handle.write(json.dumps(sys.argv) + '\\n')
                sys.stderr.write({stderr!r} if sys.argv[0].endswith('xuserset') else '')
                sys.exit({rc} if sys.argv[0].endswith('xuserset') else 0)
                ''').format(python=sys.executable, log=str(tmp_path / 'log'), stderr=stderr, rc=rc))
            script.chmod(0o755)
            paths[name + '_path'] = str(script)
        return paths
    return make


@pytest.fixture
def key(tmp_path):
    path = tmp_path / 'id_rsa.pub'
    path.write_text('ssh-rsa AAAAB3NzaC1yc2E root@console\n')
    return str(path)


def logged(tmp_path):
    path = tmp_path / 'log'
    return [json.loads(line)[1:] for line in path.read_text().splitlines()] if path.exists() else []


def test_pushes_groups_then_users_to_the_expanded_range(tools, key, tmp_path):
    ended = run_module(xcpu_user.main, dict(
        nodes='n[8-11]', groups=[{'name': 'root', 'gid': 0}, {'name': 'somegroup', 'gid': 567}],
        users=[{'name': 'rminnich', 'uid': 525, 'group': 'somegroup', 'public_key': key}], **tools()))
    assert not ended.failed, ended.result
    assert logged(tmp_path) == [
        ['n8,n9,n10,n11', 'root', '0'],
        ['n8,n9,n10,n11', 'somegroup', '567'],
        ['n8,n9,n10,n11', 'rminnich', '525', 'somegroup', key],
    ]
    assert ended.result['changed'] and ended.result['failed_nodes'] == []
    assert [node['status'] for node in ended.result['results']] == ['ok'] * 4


def test_subcommand_syntax_with_admin_key(tools, key, tmp_path):
    admin = tmp_path / 'admin_key'
    admin.write_text('private')
    ended = run_module(xcpu_user.main, dict(
        nodes=['n1', 'n2'], command_style='subcommand', admin_key=str(admin),
        users=[{'name': 'root', 'uid': 0, 'group': 'root', 'public_key': key}], **tools()))
    assert not ended.failed, ended.result
    assert logged(tmp_path) == [['add', '-A', str(admin), 'n1,n2', 'root', '0', 'root', key]]


def test_per_node_failures_fail_the_task_unless_allowed(tools, key, tmp_path):
    stderr = 'xp_user_add: n9: Error 111: Connection refused\n'
    arguments = dict(nodes='n[8-9]', users=[{'name': 'root', 'uid': 0, 'group': 'root', 'public_key': key}],
                     **tools(stderr=stderr, rc=255))
    ended = run_module(xcpu_user.main, arguments)
    assert ended.failed
    assert ended.result['failed_nodes'] == ['n9']
    assert 'n9: user root: Error 111: Connection refused' in ended.result['msg']
    allowed = run_module(xcpu_user.main, dict(arguments, allow_failures=True))
    assert not allowed.failed and allowed.result['changed']
    assert [node['status'] for node in allowed.result['results']] == ['ok', 'failed']


def test_check_mode_runs_nothing(tools, key, tmp_path):
    ended = run_module(xcpu_user.main, dict(
        nodes='n1', users=[{'name': 'root', 'uid': 0, 'group': 'root', 'public_key': key}], **tools()),
        check_mode=True)
    assert not ended.failed and ended.result['changed']
    assert logged(tmp_path) == []
    assert ended.result['commands'][0]['cmd'][1:] == ['n1', 'root', '0', 'root', key]


@pytest.mark.parametrize('extra, message', [
    ({'admin_key': '/etc/xcpu/admin_key'}, 'command_style=subcommand'),
    ({'nodes': 'n[1-2],n1'}, None),
    ({'nodes': ['n1', 'n1']}, 'more than once'),
    ({'users': [{'name': 'root', 'uid': 0, 'group': 'root', 'public_key': '/nonexistent.pub'}]}, 'cannot be read'),
    ({'xuserset_path': None, 'xgroupset_path': None}, 'not packaged'),
])
def test_bad_input_runs_nothing(tools, key, tmp_path, monkeypatch, extra, message):
    monkeypatch.setenv('PATH', str(tmp_path / 'empty-path'))
    arguments = dict(nodes='n1', users=[{'name': 'root', 'uid': 0, 'group': 'root', 'public_key': key}], **tools())
    arguments.update(extra)
    arguments = {name: value for name, value in arguments.items() if value is not None}
    ended = run_module(xcpu_user.main, arguments)
    if message is None:
        # n[1-2],n1 is one NodeSet: ClusterShell folds it, nothing twice.
        assert not ended.failed
        return
    assert ended.failed and message in ended.result['msg'], ended.result
    assert logged(tmp_path) == []
