# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Report receiver and progress tracker of one image_nodes run (runs on the console, stdlib only).

serve   Receive the imaging ramdisk's reports: ``GET /<token>/report?node=..&mac=..&ip=..&phase=..
        &result=..&sha256=..&seconds=..&secure_boot=on|off|n/a`` appended as JSON lines to ``<run dir>/reports.jsonl``.
        Binds port 0 unless told otherwise and prints the port it got; with ``--daemon`` it runs detached
        (the collection's _process.start_detached) and its identity is recorded for ``stop``.
wait    Block until a node reaches its final state or ``--poll`` seconds pass, then print the state
        of every node (phase, result, seconds, checksum verdict) as one JSON document. A node that
        never reported within ``--boot-timeout`` seconds, or did not finish within ``--timeout``, is
        failed. ``done`` is true once every node is final.
stop    Stop this run's receiver (only the process recorded in the run dir, checked by its start time and
        command line: the collection's _process.terminate).

Process handling and atomic writes are the collection's own module_utils (_process, _files). The program on
the console is the launcher that cluster.netboot.receiver_program (program: report) installs with this code and
the module_utils it imports; it calls :func:`main`.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import http.server
import json
import os
import re
import signal
import socketserver
import sys
import threading
import time
import urllib.parse

from ansible_collections.cluster.netboot.plugins.module_utils import _files as files
from ansible_collections.cluster.netboot.plugins.module_utils import _imaging_plan as imaging_plan
from ansible_collections.cluster.netboot.plugins.module_utils import _process as process


RECORD = 'receiver.json'

FIELDS = ('node', 'mac', 'ip', 'phase', 'result', 'sha256', 'detail', 'seconds', 'receive_seconds',
          'verify_seconds', 'backend', 'secure_boot')
# What the ramdisk read from the SecureBoot EFI variable: on, off, n/a (BIOS), unknown (unreadable).
SECURE_BOOT_VALUES = ('on', 'off', 'n/a', 'unknown')
PHASE_ORDER = ('none', 'boot', 'receive', 'verify', 'done')
# What a node may POST: kind -> (directory in the run dir, largest body in bytes).
POSTED = {'log': ('logs', 4 << 20), 'facts': ('facts', 256 << 10)}
MAC_TEXT = re.compile(r'[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z')


def posted_path(run_dir: str, kind: str, mac: str) -> str:
    """Where a node's posted log or facts are kept: ``logs/52-54-00-12-34-56.log``, ``facts/<mac>.txt``."""
    return os.path.join(run_dir, POSTED[kind][0], mac.lower().replace(':', '-') + ('.log' if kind == 'log' else '.txt'))


def write_atomic(path: str, text: str) -> None:
    files.replace_file(path, text.encode('utf-8'))


# --- node locks --------------------------------------------------------------------

def lock_names(node: dict) -> list[str]:
    """The lock files of one node: its MAC and its IP (either is enough to collide)."""
    names = []
    if node.get('mac'):
        names.append('mac-' + str(node['mac']).lower().replace(':', '-'))
    if node.get('ip'):
        names.append('ip-' + str(node['ip']))
    return names


def take_locks(lock_dir: str, nodes: list[dict], run_id: str) -> tuple[list[int], dict[str, str]]:
    """An fcntl lock per node, held by this process for as long as it lives (the kernel drops it when the
    process dies, however it dies). Returns the open descriptors and, for nodes another live run holds,
    ``{node: that run}`` (then nothing is kept)."""
    os.makedirs(lock_dir, exist_ok=True)
    held: list[int] = []
    busy: dict[str, str] = {}
    for node in nodes:
        for name in lock_names(node):
            fd = os.open(os.path.join(lock_dir, name + '.lock'), os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EAGAIN):
                    raise
                holder = os.pread(fd, 200, 0).decode('utf-8', errors='replace').strip() or 'another run'
                os.close(fd)
                busy.setdefault(node['name'], holder)
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, run_id.encode('utf-8'), 0)
            held.append(fd)
    if busy:
        for fd in held:
            os.close(fd)
        held = []
    return held, busy


def heartbeat_age(directory: str, started: float) -> float:
    """Seconds since the run last showed life (its last ``wait``, or this receiver's start)."""
    try:
        last = max(started, os.stat(os.path.join(directory, 'heartbeat')).st_mtime)
    except FileNotFoundError:
        last = started
    return time.time() - last


# --- serve ------------------------------------------------------------------------

class ReportHandler(http.server.BaseHTTPRequestHandler):
    server_version = 'cluster-netboot-reports/1'

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urllib.parse.urlsplit(self.path)
        if url.path != '/%s/report' % self.server.token:
            self.send_error(404)
            return
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        record = {key: query.get(key, [''])[0][:200] for key in FIELDS}
        record['mac'] = record['mac'].lower()
        record['time'] = time.time()
        record['peer'] = self.client_address[0]
        line = json.dumps(record, sort_keys=True) + '\n'
        # One write per line under O_APPEND: concurrent reports never interleave.
        fd = os.open(self.server.reports, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        body = b'ok\n'
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        """``POST /<token>/log?mac=..`` (the node's console log, replaced by each post) and ``/<token>/facts?mac=..``
        (discovery: the first document per MAC is kept, its mtime is the arrival), stored under the run dir."""
        url = urllib.parse.urlsplit(self.path)
        kind = url.path[len('/%s/' % self.server.token):] if url.path.startswith('/%s/' % self.server.token) else ''
        mac = urllib.parse.parse_qs(url.query).get('mac', [''])[0].lower()
        try:
            length = int(self.headers.get('Content-Length', ''))
        except ValueError:
            length = -1
        if kind not in POSTED or not MAC_TEXT.match(mac):
            self.send_error(404)
            return
        if not 0 <= length <= POSTED[kind][1]:
            self.send_error(413)
            return
        body = self.rfile.read(length)
        path = posted_path(self.server.run_dir, kind, mac)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == 'log' or not os.path.exists(path):
            write_atomic(path, body.decode('utf-8', errors='replace'))
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
        sys.stderr.write('%s %s\n' % (self.client_address[0], format % args))


class ReportServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Whole groups report at once: with the default listen queue (5) the kernel drops the other
    # handshakes while the receiver is busy, and their reports come 10 s and more late.
    request_queue_size = 4096


def serve(args: argparse.Namespace) -> int:
    os.makedirs(args.dir, mode=0o755, exist_ok=True)
    if args.nodes_from_stdin:
        text = sys.stdin.read()
        if not isinstance(json.loads(text), list):
            raise SystemExit('%s: the nodes on stdin are not a JSON list' % os.path.basename(args.program))
        write_atomic(os.path.join(args.dir, 'nodes.json'), text)
    if args.daemon:
        return start_daemon(args)
    locks: list[int] = []
    if args.lock_dir:
        with open(os.path.join(args.dir, 'nodes.json')) as handle:
            nodes = json.load(handle)
        locks, busy = take_locks(args.lock_dir, nodes, args.run_id or os.path.basename(args.dir))
        if busy:
            runs = sorted(set(busy.values()))
            process.print_json({'pid': os.getpid(), 'busy': busy, 'error': 'refused: %d node(s) are being imaged by '
                                'another run (%s): %s' % (len(busy), ', '.join(runs), ', '.join(sorted(busy)))})
            return 3
    server = ReportServer((args.bind, args.port), ReportHandler)
    server.token = args.token
    server.reports = os.path.join(args.dir, 'reports.jsonl')
    server.run_dir = args.dir
    server.locks = locks
    process.print_json({'port': server.server_address[1], 'pid': os.getpid()})
    # A receiver that nobody stops (a killed playbook) still ends: at its lifetime, or once the run
    # has shown no life (no progress query) for --orphan-timeout seconds. Its node locks end with it.
    signal.signal(signal.SIGALRM, lambda *_: os._exit(0))
    signal.alarm(max(1, int(args.lifetime)))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.orphan_timeout > 0:
        started = time.time()

        def watch() -> None:
            while heartbeat_age(args.dir, started) < args.orphan_timeout:
                time.sleep(min(5.0, args.orphan_timeout / 4))
            sys.stderr.write('no sign of the run for %d s: exiting\n' % args.orphan_timeout)
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()
    return 0


def start_daemon(args: argparse.Namespace) -> int:
    """Run ``serve`` (without --daemon) detached, wait for the port it got, and record who it is."""
    argv = [sys.executable, args.program, 'serve', '--dir', args.dir, '--bind', args.bind,
            '--port', str(args.port), '--token', args.token, '--lifetime', str(args.lifetime),
            '--orphan-timeout', str(args.orphan_timeout)]
    if args.lock_dir:
        argv += ['--lock-dir', args.lock_dir, '--run-id', args.run_id or os.path.basename(args.dir)]
    log = os.path.join(args.dir, 'receiver.log')
    child = process.start_detached(argv, log, cwd=args.dir)
    deadline = time.monotonic() + 30
    announced = None
    while announced is None:
        code = process.wait_exit(child, 0.05)
        for line in process.tail_lines(log, 50):
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get('pid') == child.pid:
                announced = message
        if announced is not None and announced.get('error'):
            process.wait_exit(child, 5)
            process.print_json(announced)
            raise SystemExit(announced['error'])
        if announced is None and (code is not None or time.monotonic() > deadline):
            if code is None:
                child.kill()
                child.wait()
            raise SystemExit('the report receiver did not start (exit %s): %s'
                             % (code, ' | '.join(process.tail_lines(log, 5))))
    stat = process.read_stat(child.pid)
    record = {'pid': child.pid, 'start_ticks': stat.start_ticks if stat else -1, 'argv': argv,
              'port': announced['port']}
    write_atomic(os.path.join(args.dir, RECORD), json.dumps(record, sort_keys=True) + '\n')
    process.print_json({'port': announced['port'], 'pid': child.pid})
    return 0


def stop(args: argparse.Namespace) -> int:
    # Only the recorded receiver: a recycled PID is left alone.
    process.print_json(process.terminate_recorded(os.path.join(args.dir, RECORD), grace=5.0))
    return 0


# --- wait -------------------------------------------------------------------------

def load_reports(path: str) -> list[dict]:
    reports = []
    try:
        with open(path) as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    reports.append(record)
    except FileNotFoundError:
        pass
    return reports


def as_number(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def node_state(node: dict, reports: list[dict], started: float, now: float, boot_timeout: float,
               timeout: float, power_failed: dict[str, str], finish: bool = False) -> dict:
    """Everything the table says about one node, from the reports that name its MAC (or IP)."""
    mac = (node.get('mac') or '').lower()
    mine = [r for r in reports if (mac and r.get('mac') == mac) or (not mac and r.get('ip') == node.get('ip'))]
    state = {
        'name': node['name'], 'group': node.get('group'), 'image': node.get('image'), 'mac': node.get('mac'),
        'ip': node.get('ip'), 'phase': 'none', 'result': 'waiting', 'sha256': '', 'verdict': '',
        'seconds': None, 'receive_seconds': None, 'verify_seconds': None, 'detail': '', 'final': False,
        'reports': len(mine), 'first_report': mine[0].get('time') if mine else None, 'last_report': None,
        'note': '', 'secure_boot': '', 'backend': '', 'log': '',
    }
    seen = set()
    for report in mine:
        # A report delivered twice (the ramdisk tries again when the answer is late, and the late first
        # try can land after the node's next report) is the same report: it must not move the node back.
        key = tuple(report.get(field) for field in FIELDS)
        if key in seen:
            continue
        seen.add(key)
        state['phase'] = report.get('phase') or state['phase']
        state['result'] = report.get('result') or state['result']
        state['detail'] = report.get('detail') or ''
        state['last_report'] = report.get('time')
        for key in ('seconds', 'receive_seconds', 'verify_seconds'):
            number = as_number(report.get(key))
            if number is not None:
                state[key] = number
        if report.get('sha256'):
            state['sha256'] = report['sha256']
        if report.get('backend'):
            state['backend'] = report['backend']
        if report.get('secure_boot') in SECURE_BOOT_VALUES:
            state['secure_boot'] = report['secure_boot']
        if report.get('peer') and report.get('ip') and report['peer'] != report['ip']:
            # NAT or a spoofed report: kept for the summary, the verdict stays the node's own.
            state['note'] = 'reported ip %s from %s' % (report['ip'], report['peer'])
        if report.get('result') == 'failed' or report.get('phase') == 'done':
            state['final'] = True
            break
    expected = node.get('sha256') or ''
    if state['final'] and state['result'] == 'ok':
        if expected and state['sha256'] == expected:
            state['verdict'] = 'match'
        elif expected:
            state['verdict'] = 'mismatch'
            state['result'] = 'failed'
            state['detail'] = 'the node reported sha256 %s, the image has %s' % (state['sha256'] or 'nothing', expected)
        else:
            state['verdict'] = 'unchecked'
    elif state['final']:
        state['verdict'] = 'mismatch' if state['detail'] == 'checksum-mismatch' else '-'
    if not state['final']:
        elapsed = now - started
        if node['name'] in power_failed:
            state.update(final=True, result='failed', verdict='-', detail='power: %s' % power_failed[node['name']])
        elif not mine and elapsed > boot_timeout:
            state.update(final=True, result='failed', verdict='-',
                         detail='no report within %d s: the node did not boot the imaging ramdisk' % boot_timeout)
        elif elapsed > timeout:
            state.update(final=True, result='failed', verdict='-',
                         detail='timed out after %d s in phase %s' % (timeout, state['phase']))
        elif finish:
            state.update(final=True, result='failed', verdict='-',
                         detail='the run ended (interrupted) while the node was in phase %s' % state['phase'])
    return state


def evaluate(args: argparse.Namespace, started: float, nodes: list[dict], power_failed: dict[str, str]) -> dict:
    now = time.time()
    reports = [report for report in load_reports(os.path.join(args.dir, 'reports.jsonl'))
               if (as_number(report.get('time')) or 0.0) >= getattr(args, 'since', 0.0)]
    # Each node's reports, looked up once (node_state would scan every report for every node).
    by_key: dict[str, list[dict]] = {}
    for report in reports:
        by_key.setdefault('mac ' + str(report.get('mac')), []).append(report)
        by_key.setdefault('ip ' + str(report.get('ip')), []).append(report)
    states = [node_state(node, by_key.get('mac ' + (node.get('mac') or '').lower() if node.get('mac')
                                          else 'ip ' + str(node.get('ip')), []),
                         started, now, args.boot_timeout, args.timeout, power_failed, args.finish)
              for node in nodes]
    for state in states:
        # The console log each node sends at its end (and on failure), kept in this run's dir.
        log = posted_path(args.dir, 'log', state['mac']) if state['mac'] else ''
        state['log'] = log if log and os.path.exists(log) else ''
    done = all(state['final'] for state in states)
    return {
        'done': done,
        'elapsed': round(now - started, 1),
        'started': started,
        'now': now,
        'final': sum(1 for state in states if state['final']),
        'ok': sum(1 for state in states if state['final'] and state['result'] == 'ok'),
        'failed': sorted(state['name'] for state in states if state['final'] and state['result'] != 'ok'),
        'nodes': states,
        'progress': imaging_plan.progress(states, now - started),
        'table': imaging_plan.table(states) if done else [],
    }


def round_files(args: argparse.Namespace) -> tuple[str, str, str]:
    """The nodes, start and summary files of the round (``--round``): a retry round has its own."""
    suffix = '' if args.round <= 1 else '-%d' % args.round
    return tuple(os.path.join(args.dir, name % suffix)  # type: ignore[return-value]
                 for name in ('nodes%s.json', 'started%s', 'summary%s.json'))


def wait(args: argparse.Namespace) -> int:
    nodes_path, started_path, summary_path = round_files(args)
    with open(nodes_path) as handle:
        nodes = json.load(handle)
    # A retry round counts the reports sent after its nodes were recorded (before their reset).
    args.since = os.stat(nodes_path).st_mtime if args.round > 1 else 0.0
    # The receiver's sign that this run is alive (see serve --orphan-timeout).
    write_atomic(os.path.join(args.dir, 'heartbeat'), '%f\n' % time.time())
    # The first wait comes right after the power reset: the timeouts count from there.
    if not os.path.exists(started_path):
        write_atomic(started_path, '%f\n' % time.time())
    with open(started_path) as handle:
        started = float(handle.read().strip())
    power_failed = {}
    for item in args.power_failed or []:
        name, _sep, reason = item.partition('=')
        power_failed[name] = reason or 'failed'
    deadline = time.time() + max(0.0, args.poll)
    result = evaluate(args, started, nodes, power_failed)
    initial_final = result['final']
    while not result['done'] and not args.finish and time.time() < deadline:
        time.sleep(min(1.0, max(0.0, deadline - time.time())))
        result = evaluate(args, started, nodes, power_failed)
        if result['final'] != initial_final:
            break
    # A node sends its console log right after its last report: give the logs a moment to arrive.
    log_deadline = time.time() + args.log_grace
    while (result['done'] and time.time() < log_deadline
           and any(state['reports'] and not state['log'] for state in result['nodes'])):
        time.sleep(0.5)
        result = evaluate(args, started, nodes, power_failed)
    if result['done']:
        summary = dict(result, finished=time.time())
        write_atomic(summary_path, json.dumps(summary, indent=1, sort_keys=True) + '\n')
    process.print_json(result, sort_keys=True)
    return 0


def main(argv: list[str] | None = None, program: str | None = None) -> int:
    """The command line; ``program`` is the launcher that ``serve --daemon`` runs again (default: ``sys.argv[0]``)."""
    parser = argparse.ArgumentParser(prog=os.path.basename(program or sys.argv[0]), description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    serve_parser = commands.add_parser('serve')
    serve_parser.add_argument('--dir', required=True)
    serve_parser.add_argument('--bind', required=True)
    serve_parser.add_argument('--port', type=int, default=0)
    serve_parser.add_argument('--token', required=True)
    serve_parser.add_argument('--lifetime', type=float, default=6 * 3600)
    serve_parser.add_argument('--daemon', action='store_true')
    serve_parser.add_argument('--lock-dir', help='hold a lock per node of nodes.json here; refuse nodes another run holds')
    serve_parser.add_argument('--nodes-from-stdin', action='store_true',
                              help='write the nodes (a JSON list) read from stdin to nodes.json first')
    serve_parser.add_argument('--run-id', default='', help='how other runs see this one in a refusal')
    serve_parser.add_argument('--orphan-timeout', type=float, default=0,
                              help='exit when no wait has run for this many seconds (0: only at --lifetime)')
    wait_parser = commands.add_parser('wait')
    wait_parser.add_argument('--dir', required=True)
    wait_parser.add_argument('--poll', type=float, default=15)
    wait_parser.add_argument('--boot-timeout', type=float, default=300)
    wait_parser.add_argument('--timeout', type=float, default=1800)
    wait_parser.add_argument('--power-failed', action='append', help='NODE=REASON for a node whose power failed')
    wait_parser.add_argument('--finish', action='store_true', help='count nodes still under way as failed')
    wait_parser.add_argument('--log-grace', type=float, default=0,
                             help='once every node is final, wait this long for the console logs of nodes that reported')
    wait_parser.add_argument('--round', type=int, default=1,
                             help='the imaging round (a retry round N > 1 waits for the nodes of nodes-N.json)')
    stop_parser = commands.add_parser('stop')
    stop_parser.add_argument('--dir', required=True)
    args = parser.parse_args(argv)
    args.dir = os.path.abspath(args.dir)
    args.program = os.path.abspath(program or sys.argv[0])
    return {'serve': serve, 'wait': wait, 'stop': stop}[args.command](args)
