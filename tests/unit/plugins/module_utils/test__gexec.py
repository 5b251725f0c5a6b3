# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The output formats here are the real ones, recorded from GEXEC 0.3.9 gexec/gexecd and authd 0.2.4
built from source and run in network namespaces (see tests/integration/test_gexec_real.py)."""

from __future__ import annotations

import signal
import subprocess

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _gexec
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError

NAMES = ['node1-1', 'node1-2', 'node1-3']
ADDRESSES = ['10.77.0.11', '10.77.0.12', '10.77.0.13']


def raw(stdout='', stderr='', rc=0, timed_out=False):
    return _gexec.RawRun(rc=rc, stdout=stdout, stderr=stderr, timed_out=timed_out)


def statuses(outcome):
    return [node.status for node in outcome.nodes]


def test_expand_nodes_from_a_range_a_list_and_mixed():
    assert _gexec.expand_nodes('node1-[1-3]') == NAMES
    assert _gexec.expand_nodes(['console', 'node1-[2-3]']) == ['console', 'node1-2', 'node1-3']


@pytest.mark.parametrize('nodes, message', [
    (['node1', 'node[1-2]'], 'node1 more than once'),
    ([], 'empty'),
    ([3], 'strings'),
    ({'node1': 1}, 'node range string or a list'),
    ('n[1-16385]', 'at most 16384'),
])
def test_expand_nodes_refuses(nodes, message):
    with pytest.raises(NetbootError, match=message):
        _gexec.expand_nodes(nodes)


def test_resolve_uses_the_lookup_and_names_every_failure():
    table = {'node1-1': '10.77.0.11', 'node1-2': '10.77.0.12'}

    def lookup(name):
        if name not in table:
            raise OSError('unknown host')
        return table[name]
    assert _gexec.resolve(['node1-1', 'node1-2'], lookup) == ['10.77.0.11', '10.77.0.12']
    with pytest.raises(_gexec.GexecError, match='cannot resolve node1-3, node9 on this host; gexec would stop'):
        _gexec.resolve(['node1-1', 'node1-3', 'node9'], lookup)


def test_command_argv_from_string_and_list_never_through_a_shell():
    assert _gexec.command_argv("frisbee -m 239.192.1.1 -p 5000 '/dev/hda'") == [
        'frisbee', '-m', '239.192.1.1', '-p', '5000', '/dev/hda']
    assert _gexec.command_argv(['sh', '-c', 'echo $HOME; ls | wc']) == ['sh', '-c', 'echo $HOME; ls | wc']
    assert _gexec.command_argv(['uname', 5]) == ['uname', '5']


@pytest.mark.parametrize('command, message', [
    ('', 'empty'), ([], 'empty'), ('-n 3 ls', 'own options'), ("echo 'open", 'cannot split'), (7, 'string or a list'),
])
def test_command_argv_refuses(command, message):
    with pytest.raises(_gexec.GexecError, match=message):
        _gexec.command_argv(command)


def test_find_program_like_gexec_on_the_console(tmp_path):
    program = tmp_path / 'bin' / 'imagezip'
    program.parent.mkdir()
    program.write_text('#!/bin/sh\n')
    program.chmod(0o755)
    assert _gexec.find_program('imagezip', '/nonexistent:%s' % program.parent) == str(program)
    assert _gexec.find_program(str(program), '') == str(program)
    with pytest.raises(_gexec.GexecError, match='not in PATH'):
        _gexec.find_program('imagezip', '/nonexistent')
    with pytest.raises(_gexec.GexecError, match='Bad filename'):
        _gexec.find_program(str(tmp_path / 'missing'), '')
    with pytest.raises(_gexec.GexecError, match='absolute path'):
        _gexec.find_program('bin/imagezip', '')


def test_gexec_argv_keeps_every_option_value_a_separate_word():
    assert _gexec.gexec_argv('/usr/local/bin/gexec', ['hostname']) == [
        '/usr/local/bin/gexec', '-n', '0', '-p', 'vnn', '-P', '2875', 'hostname']
    with pytest.raises(_gexec.GexecError, match='port'):
        _gexec.gexec_argv('gexec', ['hostname'], port=0)


def test_gexec_environment_is_minimal():
    env = _gexec.gexec_environment(NAMES, '/usr/bin:/bin', {'LD_ASSUME_KERNEL': '2.4.2'})
    assert env == {'PATH': '/usr/bin:/bin', 'LD_ASSUME_KERNEL': '2.4.2', 'GEXEC_SVRS': 'node1-1 node1-2 node1-3'}
    with pytest.raises(_gexec.GexecError, match='not valid'):
        _gexec.gexec_environment(NAMES, '/bin', {'BAD NAME': 'x'})
    with pytest.raises(_gexec.GexecError, match='GEXEC_SVRS'):
        _gexec.gexec_environment(NAMES, '/bin', {'GEXEC_SVRS': 'x'})


def test_parse_output_by_vnn_prefix_including_a_last_line_without_newline():
    stdout = '1 vm\n0 vm\n2 first\n0 to-stderr\n2 no newline'
    outcome = _gexec.parse(raw(stdout), NAMES, ADDRESSES)
    assert statuses(outcome) == ['ok', 'ok', 'ok']
    assert outcome.failed_nodes == []
    results = [node.as_dict() for node in outcome.nodes]
    assert results[0]['output'] == 'vm\nto-stderr\n'
    assert results[0]['output_lines'] == ['vm', 'to-stderr']
    assert results[2]['output'] == 'first\nno newline'
    assert results[1]['vnn'] == 1 and results[1]['address'] == '10.77.0.12'
    assert outcome.summary() == 'ran on 3 node(s)'


def test_parse_could_not_connect_means_unreachable_and_nothing_ran_elsewhere():
    # gexec prints these on stdout, host name empty when the address has no reverse-DNS name.
    stdout = 'Could not connect to  (10.77.0.12)\nCould not connect to node1-3.grid (10.77.0.13)\n'
    outcome = _gexec.parse(raw(stdout), NAMES, ADDRESSES)
    assert statuses(outcome) == ['not_run', 'unreachable', 'unreachable']
    assert outcome.failed_nodes == NAMES
    assert 'node1-[2-3] could not be reached' in outcome.nodes[0].msg
    assert "rejected the credentials" in outcome.nodes[1].msg
    assert outcome.summary().startswith('3 of 3 node(s) failed (not_run: node1-1, unreachable: node1-[2-3])')
    assert outcome.unparsed == []


def test_parse_unreachable_address_shared_by_two_names():
    outcome = _gexec.parse(raw('Could not connect to  (10.77.0.11)\n'), ['a', 'b', 'c'],
                           ['10.77.0.11', '10.77.0.11', '10.77.0.13'])
    assert statuses(outcome) == ['unreachable', 'unreachable', 'not_run']


def test_parse_signature_failure_on_stderr_means_nothing_ran():
    outcome = _gexec.parse(raw(stderr='Could not obtain signature from authd on localhost\n'), NAMES, ADDRESSES)
    assert statuses(outcome) == ['not_run'] * 3
    assert outcome.errors[0].startswith('Could not obtain signature from authd on localhost: ')
    assert '512-bit' in outcome.nodes[0].msg


def test_parse_error_sending_and_missing_reverse_name_mean_nothing_ran():
    for line in ('Error sending to node1-1 (10.77.0.11)', 'Could not find hostname for 10.77.0.11'):
        outcome = _gexec.parse(raw(stderr=line + '\n'), NAMES, ADDRESSES)
        assert statuses(outcome) == ['not_run'] * 3
        assert outcome.errors == [line]


def test_parse_remote_exec_and_chdir_failures_are_failed_nodes():
    stdout = '0 Could not exec /usr/sbin/frisbee\n1 ok\n2 Could not chdir to /home/lab/run\n'
    outcome = _gexec.parse(raw(stdout), NAMES, ADDRESSES)
    assert statuses(outcome) == ['failed', 'ok', 'failed']
    assert outcome.nodes[0].msg == 'Could not exec /usr/sbin/frisbee'
    assert outcome.nodes[2].msg == 'Could not chdir to /home/lab/run'
    # Only the first line counts: a command may print these words later.
    later = _gexec.parse(raw('0 start\n0 Could not exec x\n'), NAMES[:1], ADDRESSES[:1])
    assert statuses(later) == ['ok']


def test_parse_keeps_unknown_lines_and_messages():
    outcome = _gexec.parse(raw('0 a\n7 beyond the node list\nstray text\n', 'something odd\n'), NAMES[:1],
                           ADDRESSES[:1])
    assert statuses(outcome) == ['ok']
    assert outcome.unparsed == ['7 beyond the node list', 'stray text']
    assert outcome.errors == ['something odd']


def test_parse_timeout_marks_every_node():
    outcome = _gexec.parse(raw('0 partial\n', rc=-15, timed_out=True), NAMES[:2], ADDRESSES[:2], timeout=30)
    assert statuses(outcome) == ['timeout', 'timeout']
    assert 'within 30 s' in outcome.nodes[0].msg
    assert outcome.nodes[0].as_dict()['output'] == 'partial\n'


class FakePopen:
    """Stands in for gexec: hangs ``hangs`` times in communicate, records signals."""

    def __init__(self, argv, hangs=0, **kwargs):
        self.argv = argv
        self.kwargs = kwargs
        self.hangs = hangs
        self.signals = []
        self.returncode = None

    def communicate(self, timeout=None):
        if self.hangs:
            self.hangs -= 1
            raise subprocess.TimeoutExpired(self.argv, timeout)
        self.returncode = -signal.SIGKILL if signal.SIGKILL in self.signals else (-signal.SIGTERM if self.signals else 0)
        return b'0 out\n', b''

    def send_signal(self, signum):
        self.signals.append(signum)

    def kill(self):
        self.signals.append(signal.SIGKILL)


@pytest.mark.parametrize('hangs, signals, timed_out', [
    (0, [], False),
    (1, [signal.SIGTERM], True),
    (2, [signal.SIGTERM, signal.SIGKILL], True),
])
def test_run_stops_gexec_with_term_then_kill(hangs, signals, timed_out):
    made = []

    def popen(argv, **kwargs):
        made.append(FakePopen(argv, hangs=hangs, **kwargs))
        return made[0]
    result = _gexec.run(['gexec', '-n', '0', 'hostname'], {'PATH': '/bin'}, '/', 10, popen=popen)
    assert made[0].signals == signals
    assert result.timed_out is timed_out
    assert result.stdout == '0 out\n'
    assert made[0].kwargs['stdin'] == subprocess.DEVNULL
    assert made[0].kwargs['env'] == {'PATH': '/bin'} and made[0].kwargs['cwd'] == '/'


def test_run_reports_a_gexec_that_cannot_start(tmp_path):
    with pytest.raises(_gexec.GexecError, match='cannot start'):
        _gexec.run([str(tmp_path / 'gexec')], {}, '/', 5)


def test_own_host_name_must_resolve():
    assert _gexec.check_own_name(lambda name: {'console': '10.18.0.1'}[name], lambda: 'console') == '10.18.0.1'

    def unknown(name):
        raise OSError('Name or service not known')
    with pytest.raises(_gexec.GexecError, match='console2, does not resolve.*/etc/hosts'):
        _gexec.check_own_name(unknown, lambda: 'console2')
