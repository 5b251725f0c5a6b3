# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Power of QEMU VMs through their QMP socket: the lab's power switch."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.cluster.netboot.plugins.module_utils._power_driver import Driver, PowerError, render


class QmpClient:
    """A minimal QEMU Machine Protocol client over a unix socket: greeting, capabilities, commands.

    ``timeout`` holds for the whole session, from connect to the last answer,
    however slowly the peer sends.
    """

    def __init__(self, path: str, timeout: float = 10.0,
                 connect: Callable[[str, float], socket.socket] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.timeout = timeout
        self.connect = connect or self._connect
        self.clock = clock
        self.deadline = clock() + timeout
        self.sock: socket.socket | None = None
        self.buffer = b''

    @staticmethod
    def _connect(path: str, timeout: float) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError as exc:
            sock.close()
            raise PowerError('cannot connect to the QMP socket %s: %s' % (path, exc.strerror or exc)) from None
        return sock

    def __enter__(self) -> QmpClient:
        self.deadline = self.clock() + self.timeout
        self.sock = self.connect(self.path, self.timeout)
        greeting = self.read()
        if 'QMP' not in greeting:
            self.close()
            raise PowerError('%s did not greet like QMP: %r' % (self.path, greeting))
        self.execute('qmp_capabilities')
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _socket(self) -> socket.socket:
        """The connection, its timeout set to what is left of the session's time."""
        if self.sock is None:
            raise PowerError('QMP %s: not connected' % self.path)
        left = self.deadline - self.clock()
        if left <= 0:
            raise PowerError('QMP %s: no complete answer within %s s' % (self.path, self.timeout))
        self.sock.settimeout(left)
        return self.sock

    def read(self) -> dict:
        while b'\n' not in self.buffer:
            sock = self._socket()
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                raise PowerError('QMP %s: no complete answer within %s s' % (self.path, self.timeout)) from None
            except OSError as exc:
                raise PowerError('QMP %s: %s' % (self.path, exc)) from None
            if not chunk:
                raise PowerError('QMP %s closed the connection' % self.path)
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b'\n', 1)
        try:
            message = json.loads(line.decode('utf-8'))
        except ValueError:
            raise PowerError('QMP %s sent something that is not JSON: %r' % (self.path, line[:200])) from None
        if not isinstance(message, dict):
            raise PowerError('QMP %s sent %r' % (self.path, message))
        return message

    def execute(self, command: str, arguments: Mapping[str, object] | None = None) -> object:
        sock = self._socket()
        request: dict[str, object] = {'execute': command}
        if arguments:
            request['arguments'] = dict(arguments)
        try:
            sock.sendall(json.dumps(request).encode() + b'\n')
        except OSError as exc:
            raise PowerError('QMP %s: %s' % (self.path, exc)) from None
        while True:
            message = self.read()
            if 'event' in message:
                continue
            if 'error' in message:
                error = message['error'] if isinstance(message['error'], dict) else {}
                raise PowerError('QMP %s %s: %s' % (self.path, command, error.get('desc', message['error'])))
            if 'return' in message:
                return message['return']


QEMU_OFF_STATUSES = ('prelaunch', 'paused', 'shutdown', 'postmigrate', 'finish-migrate')


class QemuDriver(Driver):
    """A QEMU VM through its QMP socket: the lab's power switch.

    ``off`` stops the CPUs (``stop``, or ``system_powerdown``/``quit`` if asked);
    ``on`` resets a stopped or shut down VM before ``cont``, so it boots afresh
    like a machine that was powered off; ``reset`` is ``system_reset`` + ``cont``.
    """

    name = 'qemu'

    def __init__(self, socket_path: str = '{qmp}', off_command: str = 'stop', timeout: float = 10.0,
                 connect: Callable[[str, float], socket.socket] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if off_command not in ('stop', 'system_powerdown', 'quit'):
            raise PowerError('qemu_off must be stop, system_powerdown or quit')
        self.socket_path = socket_path
        self.off_command = off_command
        self.timeout = timeout
        self.connect = connect

    def check(self, node: Mapping[str, object]) -> None:
        render(self.socket_path, node, 'qmp_socket')

    def client(self, node: Mapping[str, object]) -> QmpClient:
        return QmpClient(render(self.socket_path, node, 'qmp_socket'), self.timeout, self.connect)

    @staticmethod
    def _status(qmp: QmpClient) -> str:
        answer = qmp.execute('query-status')
        return str(answer.get('status', '')) if isinstance(answer, dict) else ''

    def status(self, node: Mapping[str, object]) -> str:
        with self.client(node) as qmp:
            status = self._status(qmp)
        if not status:
            return 'unknown'
        return 'off' if status in QEMU_OFF_STATUSES else 'on'

    def on(self, node: Mapping[str, object]) -> None:
        with self.client(node) as qmp:
            status = self._status(qmp)
            if status in ('paused', 'shutdown', 'postmigrate', 'finish-migrate'):
                qmp.execute('system_reset')
            if status in QEMU_OFF_STATUSES:
                qmp.execute('cont')

    def off(self, node: Mapping[str, object]) -> None:
        with self.client(node) as qmp:
            qmp.execute(self.off_command)

    def reset(self, node: Mapping[str, object]) -> None:
        with self.client(node) as qmp:
            qmp.execute('system_reset')
            if self._status(qmp) in QEMU_OFF_STATUSES:
                qmp.execute('cont')

    def cycle(self, node: Mapping[str, object]) -> None:
        with self.client(node) as qmp:
            qmp.execute('stop')
            qmp.execute('system_reset')
            qmp.execute('cont')
