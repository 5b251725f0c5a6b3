# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _process as process


def fake_proc(root, pid, state='S', pgrp=None, start=4242, cmdline=('/usr/bin/udp-sender', '--file', 'x'), comm='udp-sender'):
    """A /proc/<pid> with just the stat and cmdline files the helpers read."""
    directory = root / str(pid)
    directory.mkdir(parents=True, exist_ok=True)
    rest = [state, '1', str(pgrp if pgrp is not None else pid), str(pid)] + ['0'] * 15 + [str(start)] + ['0'] * 30
    (directory / 'stat').write_text('%d (%s) %s\n' % (pid, comm, ' '.join(rest)))
    (directory / 'cmdline').write_bytes(b''.join(part.encode() + b'\x00' for part in cmdline))
    return directory


def test_read_stat_survives_parentheses_and_spaces_in_the_command_name(tmp_path):
    fake_proc(tmp_path, 77, comm='evil) S 1 (name', start=99)
    stat = process.read_stat(77, str(tmp_path))
    assert stat == process.ProcStat(state='S', process_group=77, start_ticks=99)


def test_read_stat_of_a_missing_process_is_none(tmp_path):
    assert process.read_stat(12345, str(tmp_path)) is None
    assert process.read_cmdline(12345, str(tmp_path)) is None


def test_is_running_needs_same_start_time_and_command_line(tmp_path):
    argv = ['/usr/bin/udp-sender', '--file', 'x']
    fake_proc(tmp_path, 10, start=500, cmdline=argv)
    assert process.is_running(10, 500, argv, str(tmp_path))
    # The PID was recycled: other start time.
    assert not process.is_running(10, 501, argv, str(tmp_path))
    # Same start time but another program (cannot normally happen; still no match).
    assert not process.is_running(10, 500, ['/bin/sleep', '100'], str(tmp_path))


def test_is_running_accepts_a_script_run_through_its_interpreter(tmp_path):
    argv = ['/opt/frisbee/frisbeed', '-m', '239.192.1.1']
    fake_proc(tmp_path, 11, start=7, cmdline=['/bin/sh', '/opt/frisbee/frisbeed', '-m', '239.192.1.1'])
    assert process.is_running(11, 7, argv, str(tmp_path))


def test_zombie_counts_as_gone(tmp_path):
    argv = ['/usr/bin/udp-sender']
    fake_proc(tmp_path, 12, state='Z', start=5, cmdline=[])
    assert not process.is_running(12, 5, argv, str(tmp_path))


def test_start_detached_runs_in_its_own_session_and_logs(tmp_path):
    log = tmp_path / 'server.log'
    child = process.start_detached([sys.executable, '-c', 'import sys, time; print("hello"); sys.stdout.flush(); time.sleep(30)'],
                                   str(log), cwd=str(tmp_path))
    try:
        assert process.wait_exit(child, 0.3) is None
        assert os.getsid(child.pid) == child.pid
        stat = process.read_stat(child.pid)
        assert stat.process_group == child.pid
        assert process.is_running(child.pid, stat.start_ticks, child.args)
        deadline = time.monotonic() + 5
        while b'hello' not in log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.tail_lines(str(log)) == ['hello']
        assert process.terminate(child.pid, stat.start_ticks, child.args, grace=5) == 'terminated'
        assert not process.is_running(child.pid, stat.start_ticks, child.args)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def test_terminate_falls_back_to_sigkill(tmp_path):
    code = 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print("ready", flush=True); time.sleep(60)'
    log = tmp_path / 'stubborn.log'
    child = process.start_detached([sys.executable, '-c', code], str(log))
    try:
        deadline = time.monotonic() + 5
        while b'ready' not in log.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.05)
        stat = process.read_stat(child.pid)
        assert process.terminate(child.pid, stat.start_ticks, child.args, grace=0.3) == 'killed'
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


def test_terminate_never_signals_a_recycled_pid(tmp_path):
    child = process.start_detached([sys.executable, '-c', 'import time; time.sleep(30)'], str(tmp_path / 'log'))
    try:
        stat = process.read_stat(child.pid)
        # Recorded start time differs: this PID is "someone else" now.
        assert process.terminate(child.pid, stat.start_ticks + 1, child.args, grace=0.2) == 'gone'
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()


def test_wait_exit_reports_an_immediate_failure(tmp_path):
    child = process.start_detached([sys.executable, '-c', 'import sys; print("port taken"); sys.exit(98)'], str(tmp_path / 'log'))
    assert process.wait_exit(child, 5) == 98
    assert process.tail_lines(str(tmp_path / 'log')) == ['port taken']


def test_start_detached_reports_a_missing_program(tmp_path):
    with pytest.raises(process.ProcessError, match='cannot start'):
        process.start_detached([str(tmp_path / 'no-such-program')], str(tmp_path / 'log'))


def test_tail_lines_splits_progress_meters_on_carriage_returns(tmp_path):
    log = tmp_path / 'udp-sender.log'
    log.write_bytes(b'Udp-sender 20120424\nStarting transfer\nbytes= 1 000\rbytes= 2 000\r\n\nTransfer complete.\n')
    assert process.tail_lines(str(log), 3) == ['bytes= 1 000', 'bytes= 2 000', 'Transfer complete.']
    assert process.tail_lines(str(tmp_path / 'missing.log')) == []


def test_terminate_recorded_stops_the_recorded_process_and_removes_the_record(tmp_path):
    child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        stat = process.read_stat(child.pid)
        record = tmp_path / 'receiver.json'
        record.write_text(json.dumps({'pid': child.pid, 'start_ticks': stat.start_ticks,
                                      'argv': process.read_cmdline(child.pid)}))
        assert process.terminate_recorded(str(record), grace=5.0) == {'stopped': True, 'pid': child.pid}
        assert child.wait(10) is not None and not record.exists()
        assert process.terminate_recorded(str(record))['stopped'] is False
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_print_json_writes_one_flushed_line(capsys):
    process.print_json({'b': 1, 'a': [2]}, sort_keys=True)
    process.print_json({'stopped': False})
    assert capsys.readouterr().out == '{"a": [2], "b": 1}\n{"stopped": false}\n'
