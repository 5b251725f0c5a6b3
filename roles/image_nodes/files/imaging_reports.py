# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Report receiver and progress tracker of one image_nodes run (runs on the console, stdlib only).

serve   Receive the imaging ramdisk's reports: ``GET /<token>/report?node=..&mac=..&ip=..&phase=..
        &result=..&sha256=..&seconds=..`` appended as JSON lines to ``<run dir>/reports.jsonl``.
        Detaches, binds port 0 unless told otherwise and prints the port it got.
wait    Block until a node reaches its final state or ``--poll`` seconds pass, then print the state
        of every node (phase, result, seconds, checksum verdict) as one JSON document. A node that
        never reported within ``--boot-timeout`` seconds, or did not finish within ``--timeout``, is
        failed. ``done`` is true once every node is final.
stop    Stop this run's receiver (only the process recorded in the run dir, checked by its command line).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import signal
import socketserver
import sys
import time
import urllib.parse

FIELDS = ('node', 'mac', 'ip', 'phase', 'result', 'sha256', 'detail', 'seconds', 'receive_seconds',
          'verify_seconds', 'backend')
PHASE_ORDER = ('none', 'boot', 'receive', 'verify', 'done')


def write_atomic(path: str, text: str) -> None:
    temp = '%s.tmp%d' % (path, os.getpid())
    with open(temp, 'w') as handle:
        handle.write(text)
    os.replace(temp, path)


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

    def log_message(self, format: str, *args: object) -> None:  # pylint: disable=redefined-builtin
        sys.stderr.write('%s %s\n' % (self.client_address[0], format % args))


class ReportServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(args: argparse.Namespace) -> int:
    os.makedirs(args.dir, exist_ok=True)
    server = ReportServer((args.bind, args.port), ReportHandler)
    server.token = args.token
    server.reports = os.path.join(args.dir, 'reports.jsonl')
    port = server.server_address[1]
    if args.daemon:
        # Classic double fork: the receiver outlives the Ansible task that started it.
        read_end, write_end = os.pipe()
        if os.fork():
            os.close(write_end)
            pid = os.read(read_end, 32).decode().strip()
            print(json.dumps({'port': port, 'pid': int(pid)}))
            return 0
        os.close(read_end)
        os.setsid()
        if os.fork():
            os._exit(0)
        log = os.open(os.path.join(args.dir, 'receiver.log'), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        write_atomic(os.path.join(args.dir, 'receiver.pid'), '%d\n' % os.getpid())
        write_atomic(os.path.join(args.dir, 'receiver.port'), '%d\n' % port)
        os.write(write_end, str(os.getpid()).encode())
        os.close(write_end)
    else:
        write_atomic(os.path.join(args.dir, 'receiver.pid'), '%d\n' % os.getpid())
        write_atomic(os.path.join(args.dir, 'receiver.port'), '%d\n' % port)
        print(json.dumps({'port': port, 'pid': os.getpid()}), flush=True)
    # A receiver that nobody stops (a killed playbook) still ends.
    signal.signal(signal.SIGALRM, lambda *_: os._exit(0))
    signal.alarm(max(1, int(args.lifetime)))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server.serve_forever()
    return 0


def stop(args: argparse.Namespace) -> int:
    pid_path = os.path.join(args.dir, 'receiver.pid')
    try:
        with open(pid_path) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        print(json.dumps({'stopped': False, 'reason': 'no receiver recorded'}))
        return 0
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            cmdline = handle.read().split(b'\0')
    except OSError:
        cmdline = []
    stopped = False
    # Only a receiver of this run dir: a recycled PID is left alone.
    if b'serve' in cmdline and args.dir.encode() in cmdline:
        os.kill(pid, signal.SIGTERM)
        stopped = True
    os.unlink(pid_path)
    print(json.dumps({'stopped': stopped, 'pid': pid}))
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
        'reports': len(mine), 'last_report': None, 'note': '',
    }
    for report in mine:
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


def progress_text(states: list[dict], elapsed: float) -> list[str]:
    groups: dict[str, list[dict]] = {}
    for state in states:
        groups.setdefault(state['group'] or '-', []).append(state)
    lines = []
    for group, members in groups.items():
        finished = sum(1 for state in members if state['final'])
        parts = []
        for state in members:
            if state['final']:
                parts.append('%s %s' % (state['name'], 'ok' if state['result'] == 'ok' else 'FAILED'))
            else:
                parts.append('%s %s' % (state['name'], state['phase'] if state['phase'] != 'none' else 'booting'))
        lines.append('%4.0fs %s: %d/%d finished (%s)' % (elapsed, group, finished, len(members), ', '.join(parts)))
    return lines


def table(states: list[dict]) -> list[str]:
    header = ('GROUP', 'IMAGE', 'NODE', 'MAC', 'IP', 'PHASE', 'RESULT', 'SECONDS', 'RECEIVE', 'CHECKSUM')
    rows = [header]
    for state in states:
        rows.append((
            state['group'] or '-', os.path.basename(state['image'] or '-'), state['name'], state['mac'] or '-',
            state['ip'] or '-', state['phase'], state['result'],
            '%.0f' % state['seconds'] if state['seconds'] is not None else '-',
            '%.0f' % state['receive_seconds'] if state['receive_seconds'] is not None else '-',
            state['verdict'] or '-'))
    widths = [max(len(str(row[index])) for row in rows) for index in range(len(header))]
    lines = ['  '.join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    for state in states:
        if state['result'] != 'ok' and state['detail']:
            lines.append('%s: %s' % (state['name'], state['detail']))
    return lines


def evaluate(args: argparse.Namespace, started: float, nodes: list[dict], power_failed: dict[str, str]) -> dict:
    now = time.time()
    reports = load_reports(os.path.join(args.dir, 'reports.jsonl'))
    states = [node_state(node, reports, started, now, args.boot_timeout, args.timeout, power_failed, args.finish)
              for node in nodes]
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
        'progress': progress_text(states, now - started),
        'table': table(states) if done else [],
    }


def wait(args: argparse.Namespace) -> int:
    with open(os.path.join(args.dir, 'nodes.json')) as handle:
        nodes = json.load(handle)
    # The first wait comes right after the power reset: the timeouts count from there.
    started_path = os.path.join(args.dir, 'started')
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
    if result['done']:
        summary = dict(result, finished=time.time())
        write_atomic(os.path.join(args.dir, 'summary.json'), json.dumps(summary, indent=1, sort_keys=True) + '\n')
    print(json.dumps(result, sort_keys=True))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    serve_parser = commands.add_parser('serve')
    serve_parser.add_argument('--dir', required=True)
    serve_parser.add_argument('--bind', required=True)
    serve_parser.add_argument('--port', type=int, default=0)
    serve_parser.add_argument('--token', required=True)
    serve_parser.add_argument('--lifetime', type=float, default=6 * 3600)
    serve_parser.add_argument('--daemon', action='store_true')
    wait_parser = commands.add_parser('wait')
    wait_parser.add_argument('--dir', required=True)
    wait_parser.add_argument('--poll', type=float, default=15)
    wait_parser.add_argument('--boot-timeout', type=float, default=300)
    wait_parser.add_argument('--timeout', type=float, default=1800)
    wait_parser.add_argument('--power-failed', action='append', help='NODE=REASON for a node whose power failed')
    wait_parser.add_argument('--finish', action='store_true', help='count nodes still under way as failed')
    stop_parser = commands.add_parser('stop')
    stop_parser.add_argument('--dir', required=True)
    args = parser.parse_args(argv)
    args.dir = os.path.abspath(args.dir)
    return {'serve': serve, 'wait': wait, 'stop': stop}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
