# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Console-side receiver of one node's capture (the capture_image role runs it, stdlib only).

receive  Listen on --bind:--port (0: any free port), record who it is and the port in --record, and
         take the node's stream (``cnb-capture TOKEN BYTES`` then its disk, gzip-compressed): hashed while
         it is received into a temporary file next to the stored images, renamed to its final name and
         entered into the catalog (both under the catalog's lock) only when complete. A connection without
         the token is refused and the receiver goes on listening. Prints one JSON result; exit 0 when the
         image is in the catalog. It ends after --lifetime seconds whatever happens.
stop     Stop the receiver recorded in --record (checked by its start time and command line).

The catalog code is the collection's own module_utils (_catalog, _files, _errors, _process). The program on
the console is the launcher that cluster.netboot.receiver_program (program: capture) installs with this code and
the module_utils it imports; it calls :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import time

from ansible_collections.cluster.netboot.plugins.module_utils import _catalog, _files, _process
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def receive(args: argparse.Namespace) -> int:
    def stop_now(*_: object) -> None:
        raise SystemExit('capture receiver stopped (signal or --lifetime)')
    signal.signal(signal.SIGTERM, stop_now)
    signal.signal(signal.SIGALRM, stop_now)
    signal.alarm(max(1, args.lifetime))
    final = os.path.join(args.images_dir, _catalog.stored_name(args.name, args.version, 'gzip'))
    listener = socket.create_server((args.bind, args.port))
    stat = _process.read_stat(os.getpid())
    record = {'pid': os.getpid(), 'start_ticks': stat.start_ticks if stat else -1, 'argv': sys.argv,
              'port': listener.getsockname()[1]}
    _files.replace_file(args.record, (json.dumps(record, sort_keys=True) + '\n').encode())
    started = time.monotonic()
    refused = []

    def consume(temp_path: str, figures: dict) -> None:
        entry = dict(figures, name=args.name, version=args.version, file=final, compression='gzip',
                     source_node=args.node, created=_catalog.now(), created_by=args.created_by)
        _catalog.commit(args.catalog, temp_path, entry, args.force)
    while True:
        connection, peer = listener.accept()
        with connection:
            try:
                figures = _catalog.receive(connection, args.token, args.images_dir, 'gzip', args.idle_timeout, consume)
            except NetbootError as exc:
                if 'token' in str(exc):
                    refused.append('%s: %s' % (peer[0], exc))
                    continue
                _process.print_json({'ok': False, 'node': args.node, 'error': str(exc), 'refused': refused})
                return 1
        seconds = time.monotonic() - started
        entry = _catalog.find(_catalog.load(args.catalog), args.name, args.version)
        _process.print_json({'ok': True, 'node': args.node, 'image': entry, 'peer': peer[0], 'refused': refused,
                             'seconds': round(seconds, 1)}, sort_keys=True)
        return 0


def stop(args: argparse.Namespace) -> int:
    _process.print_json(_process.terminate_recorded(args.record))
    return 0


def main(argv: list[str] | None = None, program: str | None = None) -> int:
    """The command line; ``program`` names the launcher in the help (default: ``sys.argv[0]``)."""
    parser = argparse.ArgumentParser(prog=os.path.basename(program or sys.argv[0]), description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    run = sub.add_parser('receive')
    run.add_argument('--catalog', required=True)
    run.add_argument('--images-dir', required=True)
    run.add_argument('--name', required=True)
    run.add_argument('--version', required=True)
    run.add_argument('--node', required=True)
    run.add_argument('--created-by', default='root')
    run.add_argument('--bind', required=True)
    run.add_argument('--port', type=int, default=0)
    run.add_argument('--token', required=True)
    run.add_argument('--idle-timeout', type=float, default=60.0)
    run.add_argument('--lifetime', type=int, default=3600)
    run.add_argument('--record', required=True)
    run.add_argument('--force', action='store_true')
    halt = sub.add_parser('stop')
    halt.add_argument('--record', required=True)
    args = parser.parse_args(argv)
    return receive(args) if args.command == 'receive' else stop(args)
