# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The output formats here are the real ones, recorded from GEXEC 0.3.9 gexec/gexecd and authd 0.2.4
built from source and run in network namespaces (see tests/integration/test_gexec_real.py)."""

from __future__ import annotations

import signal
import sys
import textwrap
import time

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _gexec
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils.process_checks import dies_soon

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


def fake_client(tmp_path, body):
    """A stand-in for the gexec client: a Python script that makes the writes ``body`` makes."""
    script = tmp_path / 'gexec'
    script.write_text('#!%s\nimport os, sys, time\n%s\n' % (sys.executable, body))
    script.chmod(0o755)
    return str(script)


def test_run_keeps_each_write_of_the_client_apart(tmp_path):
    # What the real client does for two nodes whose output does not end in a newline: one write per piece.
    client = fake_client(tmp_path, 'os.write(1, b"0 out-of-0"); os.write(1, b"1 out-of-1")')
    result = _gexec.run([client, '-n', '0', 'x'], {'PATH': '/bin'}, '/', 10)
    assert result.stdout == '0 out-of-01 out-of-1'
    assert result.records == [b'0 out-of-0', b'1 out-of-1']
    outcome = _gexec.parse(result, NAMES[:2], ADDRESSES[:2])
    assert [node.as_dict()['output'] for node in outcome.nodes] == ['out-of-0', 'out-of-1']
    assert statuses(outcome) == ['ok', 'ok']


def test_run_gives_no_stdin_the_environment_and_directory(tmp_path):
    client = fake_client(tmp_path, 'print(repr((sys.stdin.read(), dict(os.environ), os.getcwd())))')
    result = _gexec.run([client], {'PATH': '/bin', 'GEXEC_SVRS': 'a'}, str(tmp_path), 10)
    stdin, env, cwd = eval(result.stdout)  # pylint: disable=eval-used
    env.pop('LC_CTYPE', None)
    assert (stdin, env, cwd) == ('', {'PATH': '/bin', 'GEXEC_SVRS': 'a'}, str(tmp_path))


def test_run_stops_the_client_and_its_children_on_timeout(tmp_path):
    pids = tmp_path / 'pids'
    client = fake_client(tmp_path, textwrap.dedent('''\
        import signal, subprocess
        child = subprocess.Popen(['sleep', '60'])
        open(%r, 'w').write('%%d %%d' %% (os.getpid(), child.pid))
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.write(1, b'0 started\\n')
        time.sleep(60)
        ''') % str(pids))
    started = time.monotonic()
    result = _gexec.run([client], {'PATH': '/usr/bin:/bin'}, '/', 1)
    # SIGTERM is ignored: SIGKILL follows after the grace period.
    assert result.timed_out and result.rc == -signal.SIGKILL
    assert time.monotonic() - started < 1 + _gexec.KILL_GRACE + 5
    assert result.stdout == '0 started\n'
    for pid in map(int, pids.read_text().split()):
        assert dies_soon(pid), pid


def test_run_reports_a_gexec_that_cannot_start(tmp_path):
    with pytest.raises(_gexec.GexecError, match='cannot start'):
        _gexec.run([str(tmp_path / 'gexec')], {}, '/', 5)


def test_own_host_name_must_resolve():
    assert _gexec.check_own_name(lambda name: {'console': '10.18.0.1'}[name], lambda: 'console') == '10.18.0.1'

    def unknown(name):
        raise OSError('Name or service not known')
    with pytest.raises(_gexec.GexecError, match='console2, does not resolve.*/etc/hosts'):
        _gexec.check_own_name(unknown, lambda: 'console2')


# The raw outputs of issue 20: ``printf "out-of-$GEXEC_MY_VNN"`` and ``printf "line1-N\\nlast-N"`` on two
# nodes, as the real client prints them (see test_gexec_real.py for the proof against GEXEC itself).
ISSUE_OUTPUTS = {
    'no newline': ['0 out-of-0', '1 out-of-1'],
    'two lines, the last without newline': ['0 line1-0\n', '0 last-0', '1 line1-1\n', '1 last-1'],
    'exec failure after a partial line': ['0 partial', '1 Could not exec /opt/tool\n'],
}


@pytest.mark.parametrize('writes', ISSUE_OUTPUTS.values(), ids=list(ISSUE_OUTPUTS))
def test_text_that_cannot_be_split_for_sure_leaves_no_node_ok(writes):
    outcome = _gexec.parse(raw(''.join(writes)), NAMES[:2], ADDRESSES[:2])
    assert statuses(outcome) in (['ambiguous', 'ambiguous'], ['ambiguous', 'failed'], ['failed', 'ambiguous'])
    assert outcome.failed_nodes == NAMES[:2]
    assert 'several nodes on one line' in outcome.nodes[0].msg


@pytest.mark.parametrize('writes', ISSUE_OUTPUTS.values(), ids=list(ISSUE_OUTPUTS))
def test_the_client_writes_give_every_byte_to_its_node(writes):
    records = [write.encode() for write in writes]
    outcome = _gexec.parse(_gexec.RawRun(0, ''.join(writes), '', records=records, record_size=4096),
                           NAMES[:2], ADDRESSES[:2])
    expected = ['', '']
    for write in writes:
        vnn, text = write.split(' ', 1)
        expected[int(vnn)] += text
    assert [node.as_dict()['output'] for node in outcome.nodes] == expected
    exec_failed = [text.startswith('Could not exec') for text in expected]
    assert statuses(outcome) == ['failed' if failed else 'ok' for failed in exec_failed]


def test_lines_without_a_second_prefix_are_not_ambiguous():
    outcome = _gexec.parse(raw('0 took 5s\n1 done: 3 files'), NAMES[:2], ADDRESSES[:2])
    assert statuses(outcome) == ['ok', 'ok']
    # "03 " is no prefix the client prints ("%d "), nor is a node number beyond the list.
    outcome = _gexec.parse(raw('0 a03 b\n1 x7 y'), NAMES[:2], ADDRESSES[:2])
    assert statuses(outcome) == ['ok', 'ok']


def test_a_piece_longer_than_the_stdio_buffer_is_joined_again():
    # "0 " + 4095 bytes: glibc writes a full 4096-byte buffer, then the last byte.
    text = b'x' * 4095
    records = [b'0 ' + text[:4094], text[4094:], b'1 next\n']
    pieces = _gexec.pieces_from_records(records, 4096, 2)
    assert [(piece.vnn, piece.text) for piece in pieces] == [(0, text), (1, b'next\n')]
    assert not any(piece.ambiguous for piece in pieces)


def test_a_full_buffer_followed_by_what_may_be_a_prefix_is_ambiguous():
    # With 100+ nodes the rest of a long piece may look like a prefix ("5 \n"): both readings are possible.
    records = [b'100 ' + b'x' * 4092, b'5 \n']
    outcome = _gexec.parse(_gexec.RawRun(0, '', '', records=records, record_size=4096),
                           ['n%d' % index for index in range(101)], ['10.0.%d.%d' % divmod(i, 250) for i in range(101)])
    assert outcome.nodes[100].status == 'ambiguous' and outcome.nodes[5].status == 'ambiguous'


def test_merged_writes_fall_back_to_the_text_rules():
    # A wrapper that pipes gexec's output merges its writes: a record with a newline inside.
    records = [b'0 out-of-0\n1 Could not exec /x\n0 tail-01 y\n']
    assert _gexec.pieces_from_records(records, 4096, 2) is None
    outcome = _gexec.parse(_gexec.RawRun(0, records[0].decode(), '', records=records, record_size=4096),
                           NAMES[:2], ADDRESSES[:2])
    assert statuses(outcome) == ['ambiguous', 'failed']


def test_client_lines_split_over_records_still_name_unreachable_nodes():
    line = b'Could not connect to  (10.77.0.12)\n'
    stream = line * 200
    records = [stream[:4096], stream[4096:]]
    outcome = _gexec.parse(_gexec.RawRun(0, stream.decode(), '', records=records, record_size=4096),
                           NAMES, ADDRESSES)
    assert statuses(outcome) == ['not_run', 'unreachable', 'not_run']
    assert outcome.unparsed == []


def test_summary_names_nodes_that_do_not_fold():
    # The fallback joins the names it was given (a generator used to arrive there empty).
    assert _gexec._nodeset_fold(name for name in ['a]b', 'c']) == 'a]b,c'
