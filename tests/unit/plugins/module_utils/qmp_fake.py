# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A tiny QMP server on a real unix socket, standing in for a QEMU VM in the power tests."""

from __future__ import annotations

import json
import os
import socket
import threading


class FakeQemu:
    """Serves QMP on ``path`` with a VM status that the power commands change like QEMU does.

    Every command received is appended to ``commands``; events are sent before
    some answers, as QEMU does, to prove the client skips them.
    """

    def __init__(self, path: str, status: str = 'running', greeting: bool = True):
        self.path = path
        self.status = status
        self.greeting = greeting
        self.commands: list[str] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.stopped = False
        self.thread.start()

    def close(self) -> None:
        self.stopped = True
        self.server.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    def _serve(self) -> None:
        while not self.stopped:
            try:
                conn, _addr = self.server.accept()
            except OSError:
                return
            with conn:
                self._session(conn)

    def _send(self, conn: socket.socket, message: dict) -> None:
        conn.sendall(json.dumps(message).encode() + b'\r\n')

    def _session(self, conn: socket.socket) -> None:
        if not self.greeting:
            conn.sendall(b'{"hello": "not qmp"}\n')
            return
        self._send(conn, {'QMP': {'version': {'qemu': {'major': 7, 'minor': 2, 'micro': 0}}, 'capabilities': []}})
        handle = conn.makefile('rb')
        negotiated = False
        for line in handle:
            request = json.loads(line)
            command = request['execute']
            self.commands.append(command)
            if command == 'qmp_capabilities':
                negotiated = True
                self._send(conn, {'return': {}})
                continue
            if not negotiated:
                self._send(conn, {'error': {'class': 'CommandNotFound', 'desc': 'Expecting capabilities negotiation'}})
                continue
            if command == 'query-status':
                self._send(conn, {'return': {'status': self.status, 'running': self.status == 'running'}})
            elif command == 'system_reset':
                self._send(conn, {'timestamp': {'seconds': 1, 'microseconds': 0}, 'event': 'RESET', 'data': {}})
                self._send(conn, {'return': {}})
            elif command == 'cont':
                self.status = 'running'
                self._send(conn, {'timestamp': {'seconds': 1, 'microseconds': 0}, 'event': 'RESUME'})
                self._send(conn, {'return': {}})
            elif command == 'stop':
                self.status = 'paused'
                self._send(conn, {'return': {}})
            elif command == 'system_powerdown':
                self._send(conn, {'return': {}})
            elif command == 'quit':
                self._send(conn, {'return': {}})
                return
            else:
                self._send(conn, {'error': {'class': 'CommandNotFound', 'desc': 'The command %s has not been found' % command}})
