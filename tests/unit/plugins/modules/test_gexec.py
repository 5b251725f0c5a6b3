# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The module with a fake gexec that prints what the real GEXEC 0.3.9 client prints."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from ansible_collections.cluster.netboot.plugins.modules import gexec
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import run_module

NODES = ['10.77.0.11', '10.77.0.12']


@pytest.fixture
def fake_gexec(tmp_path):
    """A gexec that records argv, environment and working directory, then replays canned output."""
    def make(stdout='', stderr='', rc=0, sleep=0):
        (tmp_path / 'stdout').write_text(stdout)
        (tmp_path / 'stderr').write_text(stderr)
        script = tmp_path / 'gexec'
        script.write_text(textwrap.dedent('''\
            #!{python}
            import json, os, sys, time
            with open({record!r}, 'a') as handle:
                handle.write(json.dumps({{'argv': sys.argv, 'env': dict(os.environ), 'cwd': os.getcwd(),
                                          'stdin': sys.stdin.read()}}) + '\\n')
            time.sleep({sleep})
            sys.stdout.write(open({stdout!r}).read())
            sys.stderr.write(open({stderr!r}).read())
            sys.exit({rc})
            ''').format(python=sys.executable, record=str(tmp_path / 'record'), stdout=str(tmp_path / 'stdout'),
                        stderr=str(tmp_path / 'stderr'), rc=rc, sleep=sleep))
        script.chmod(0o755)
        return str(script)
    return make


def records(tmp_path):
    path = tmp_path / 'record'
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_runs_gexec_with_vnn_prefix_minimal_environment_and_maps_output(fake_gexec, tmp_path):
    path = fake_gexec(stdout='1 node-b says hi\n0 node-a says hi\n0 second line\n')
    ended = run_module(gexec.main, {'nodes': NODES, 'command': ['/bin/echo', 'hi'], 'gexec_path': path,
                                    'environment': {'LD_ASSUME_KERNEL': '2.4.2'}, 'search_path': '/usr/bin:/bin'})
    assert not ended.failed, ended.result
    [record] = records(tmp_path)
    assert record['argv'][1:] == ['-n', '0', '-p', 'vnn', '-P', '2875', '/bin/echo', 'hi']
    # gexec forwards its environment to every node: nothing but these (Python itself adds LC_CTYPE
    # to the fake's environment when it coerces the C locale).
    record['env'].pop('LC_CTYPE', None)
    assert record['env'] == {'PATH': '/usr/bin:/bin', 'LD_ASSUME_KERNEL': '2.4.2', 'GEXEC_SVRS': '10.77.0.11 10.77.0.12'}
    assert record['cwd'] == '/'
    assert record['stdin'] == ''
    result = ended.result
    assert result['changed'] and result['failed_nodes'] == []
    outputs = [node['output_lines'] for node in result['results']]
    assert outputs == [['node-a says hi', 'second line'], ['node-b says hi']]
    assert result['cmd'] == [path, '-n', '0', '-p', 'vnn', '-P', '2875', '/bin/echo', 'hi']


def test_nodeset_string_and_port(fake_gexec, tmp_path):
    path = fake_gexec(stdout='')
    ended = run_module(gexec.main, {'nodes': '10.77.0.[11-12]', 'command': 'true', 'gexec_path': path,
                                    'port': 2999})
    assert not ended.failed, ended.result
    [record] = records(tmp_path)
    assert record['argv'][5:7] == ['-P', '2999']
    # gexec looks the program up itself; the module only checked that it would find it.
    assert record['argv'][7] == 'true'
    assert record['env']['GEXEC_SVRS'] == '10.77.0.11 10.77.0.12'


def test_unreachable_node_fails_the_task_and_names_the_nodes(fake_gexec):
    path = fake_gexec(stdout='Could not connect to  (10.77.0.12)\n')
    ended = run_module(gexec.main, {'nodes': NODES, 'command': 'hostname', 'gexec_path': path})
    assert ended.failed
    assert ended.result['failed_nodes'] == NODES
    assert [node['status'] for node in ended.result['results']] == ['not_run', 'unreachable']
    assert 'unreachable: 10.77.0.12' in ended.result['msg']
    assert not ended.result['changed']


def test_allow_failures_returns_instead_of_failing(fake_gexec):
    path = fake_gexec(stderr='Could not obtain signature from authd on localhost\n')
    ended = run_module(gexec.main, {'nodes': NODES, 'command': 'hostname', 'gexec_path': path,
                                    'allow_failures': True})
    assert not ended.failed
    assert ended.result['failed_nodes'] == NODES
    assert ended.result['errors'][0].startswith('Could not obtain signature from authd on localhost')


def test_gexec_own_errors_fail_with_its_message(fake_gexec):
    path = fake_gexec(stderr='Bad filename /opt/x\n', rc=3)
    ended = run_module(gexec.main, {'nodes': NODES, 'command': 'hostname', 'gexec_path': path})
    assert ended.failed and 'rc=3' in ended.result['msg'] and 'Bad filename /opt/x' in ended.result['msg']


def test_check_mode_does_not_run_the_command(fake_gexec, tmp_path):
    path = fake_gexec(stdout='0 x\n')
    ended = run_module(gexec.main, {'nodes': NODES, 'command': 'hostname', 'gexec_path': path}, check_mode=True)
    assert not ended.failed and ended.result['changed']
    assert records(tmp_path) == []
    assert 'check mode' in ended.result['msg']


@pytest.mark.parametrize('extra, message', [
    ({'nodes': ['n1', 'n[1-2]']}, 'more than once'),
    ({'command': 'no-such-program-anywhere'}, 'not in PATH'),
    ({'gexec_path': '/nonexistent/gexec'}, 'was not found'),
    ({'chdir': '/nonexistent/dir'}, 'not a directory'),
    ({'timeout': -1}, 'timeout'),
    ({'nodes': ['no-such-host.invalid']}, 'cannot resolve'),
])
def test_bad_input_fails_before_running(fake_gexec, tmp_path, extra, message):
    arguments = {'nodes': NODES, 'command': 'hostname', 'gexec_path': fake_gexec()}
    arguments.update(extra)
    ended = run_module(gexec.main, arguments)
    assert ended.failed and message in ended.result['msg'], ended.result
    assert records(tmp_path) == []


def test_timeout_stops_gexec_and_reports_every_node(fake_gexec):
    path = fake_gexec(stdout='0 x\n', sleep=30)
    ended = run_module(gexec.main, {'nodes': NODES, 'command': 'hostname', 'gexec_path': path, 'timeout': 1,
                                    'allow_failures': True})
    assert not ended.failed
    assert [node['status'] for node in ended.result['results']] == ['timeout', 'timeout']
