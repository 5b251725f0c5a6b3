# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Node power control: one driver class per way of reaching a node's power, one loop over the nodes.

Every driver answers ``status`` (``on``, ``off`` or ``unknown``) and performs
``on``, ``off``, ``reset`` and ``cycle``; :func:`apply_state` turns a wanted
state into driver calls (``on`` and ``off`` only when needed, ``reset`` of a
node that is off powers it on) and :func:`apply_all` runs that over many nodes
in a thread pool, one result per node: a node that fails never stops the others.

The drivers take their transport as a constructor argument (an HTTP opener, a
command runner, a socket factory) so that unit tests fake the outside world.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import string
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.error import HTTPError, URLError

from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError

STATES = ('on', 'off', 'reset', 'cycle', 'status')
POWER_VALUES = ('on', 'off', 'unknown')
# Node fields a template may use; also the columns of a node file.
NODE_FIELDS = ('name', 'ip', 'mac', 'bmc', 'x', 'y', 'qmp', 'system')


class PowerError(NetbootError):
    """A power operation that could not be carried out, or a driver set up wrongly."""


def render(template: str, values: Mapping[str, object], what: str) -> str:
    """``str.format`` with the node's fields; an unknown or empty field is a clear error."""
    names = [name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None]
    for name in names:
        if name == '' or not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', name):
            raise PowerError('%s %r: only named fields such as {name} or {bmc} may be used' % (what, template))
        if values.get(name) in (None, ''):
            raise PowerError('%s %r needs {%s}, which node %s does not have'
                             % (what, template, name, values.get('name')))
    try:
        return template.format(**{key: value for key, value in values.items() if value is not None})
    except (KeyError, IndexError, ValueError) as exc:
        raise PowerError('%s %r cannot be filled in: %s' % (what, template, exc)) from None


def word_power(text: str) -> str:
    """``Chassis Power is on`` -> ``on``; the last on/off word wins; neither -> ``unknown``."""
    words = re.findall(r'(?i)\b(on|off|poweron|poweroff|powered on|powered off)\b', text)
    if not words:
        return 'unknown'
    return 'off' if words[-1].lower().replace('powered ', '').replace('power', '') == 'off' else 'on'


class Driver:
    """Base class: a node's power through one kind of controller.

    Subclasses implement ``status``, ``on``, ``off`` and ``reset``. ``cycle``
    defaults to off, a pause and on, for controllers without a native cycle.
    """

    name = 'base'

    def __init__(self, cycle_delay: float = 5.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.cycle_delay = cycle_delay
        self.sleep = sleep

    def check(self, node: Mapping[str, object]) -> None:
        """Raise PowerError when the node lacks what this driver needs (before anything is done)."""

    def status(self, node: Mapping[str, object]) -> str:
        raise NotImplementedError

    def on(self, node: Mapping[str, object]) -> None:
        raise NotImplementedError

    def off(self, node: Mapping[str, object]) -> None:
        raise NotImplementedError

    def reset(self, node: Mapping[str, object]) -> None:
        raise NotImplementedError

    def cycle(self, node: Mapping[str, object]) -> None:
        self.off(node)
        self.sleep(self.cycle_delay)
        self.on(node)


# --- HTTP drivers --------------------------------------------------------------

# opener(url, method, body, headers) -> (status code, body text); raises PowerError on transport errors.
Opener = Callable[[str, str, 'bytes | None', Mapping[str, str]], 'tuple[int, str]']


def make_open_url_opener(timeout: float, validate_certs: bool, username: str | None = None,
                         password: str | None = None) -> Opener:
    """An opener on ansible.module_utils.urls.open_url (proxies, TLS checks, basic auth)."""
    from ansible.module_utils.urls import open_url

    def opener(url: str, method: str, body: bytes | None, headers: Mapping[str, str]) -> tuple[int, str]:
        try:
            response = open_url(url, data=body, headers=dict(headers), method=method, timeout=timeout,
                                validate_certs=validate_certs, url_username=username, url_password=password,
                                force_basic_auth=bool(username))
            return response.getcode(), response.read().decode('utf-8', errors='replace')
        except HTTPError as exc:
            try:
                text = exc.read().decode('utf-8', errors='replace')
            except Exception:  # pylint: disable=broad-except
                text = ''
            return exc.code, text
        except (URLError, OSError, ValueError) as exc:
            raise PowerError('%s %s: %s' % (method, url, getattr(exc, 'reason', exc))) from None
    return opener


DEFAULT_CMC_URL = 'http://cmc:5012/cmc/{action}?x={x}&y={y}'
DEFAULT_CMC_ACTIONS = {'on': 'on', 'off': 'offHard', 'reset': 'reset', 'status': 'status'}
DEFAULT_CMC_NAME_REGEX = r'^node(?P<x>\d+)-(?P<y>\d+)'


class CmcDriver(Driver):
    """ORBIT's chassis manager service: one HTTP GET per action (``/cmc/reset?x=1&y=2``)."""

    name = 'cmc'

    def __init__(self, opener: Opener, url: str = DEFAULT_CMC_URL, actions: Mapping[str, str] | None = None,
                 name_regex: str | None = DEFAULT_CMC_NAME_REGEX, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.opener = opener
        self.url = url
        self.actions = dict(DEFAULT_CMC_ACTIONS)
        self.actions.update(actions or {})
        try:
            self.name_regex = re.compile(name_regex) if name_regex else None
        except re.error as exc:
            raise PowerError('cmc_name_regex %r: %s' % (name_regex, exc)) from None

    def values(self, node: Mapping[str, object], action: str) -> dict[str, object]:
        values = dict(node)
        if (not values.get('x') or not values.get('y')) and self.name_regex is not None:
            match = self.name_regex.search(str(node.get('name', '')))
            if match:
                for key, value in match.groupdict().items():
                    if value is not None and not values.get(key):
                        values[key] = value
        values['action'] = action
        return values

    def check(self, node: Mapping[str, object]) -> None:
        render(self.url, self.values(node, self.actions['status']), 'cmc_url')

    def call(self, node: Mapping[str, object], state: str) -> str:
        action = self.actions.get(state)
        if not action:
            raise PowerError('cmc_actions has no action for %s' % state)
        url = render(self.url, self.values(node, action), 'cmc_url')
        code, text = self.opener(url, 'GET', None, {})
        if code >= 400:
            raise PowerError('GET %s answered HTTP %d: %s' % (url, code, text.strip()[:200]))
        return text

    def status(self, node: Mapping[str, object]) -> str:
        return word_power(self.call(node, 'status'))

    def on(self, node: Mapping[str, object]) -> None:
        self.call(node, 'on')

    def off(self, node: Mapping[str, object]) -> None:
        self.call(node, 'off')

    def reset(self, node: Mapping[str, object]) -> None:
        self.call(node, 'reset')


REDFISH_RESET_TYPES = {'on': 'On', 'off': 'ForceOff', 'reset': 'ForceRestart', 'cycle': 'PowerCycle'}


class RedfishDriver(Driver):
    """DMTF Redfish: ``ComputerSystem.Reset`` and ``PowerState`` of the BMC's computer system."""

    name = 'redfish'

    def __init__(self, opener: Opener, url: str = 'https://{bmc}', system: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.opener = opener
        self.url = url
        self.system = system

    def check(self, node: Mapping[str, object]) -> None:
        render(self.url, node, 'redfish_url')

    def request(self, url: str, method: str = 'GET', payload: object = None) -> object:
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {'Accept': 'application/json'}
        if body is not None:
            headers['Content-Type'] = 'application/json'
        code, text = self.opener(url, method, body, headers)
        if code >= 400:
            raise PowerError('%s %s answered HTTP %d: %s' % (method, url, code, text.strip()[:200]))
        if not text.strip():
            return {}
        try:
            return json.loads(text)
        except ValueError:
            raise PowerError('%s %s did not answer JSON' % (method, url)) from None

    def system_url(self, node: Mapping[str, object]) -> tuple[str, dict]:
        base = render(self.url, node, 'redfish_url').rstrip('/')
        system = node.get('system') or self.system
        if system:
            path = str(system)
            if not path.startswith('/'):
                path = '/redfish/v1/Systems/%s' % path
        else:
            collection = self.request(base + '/redfish/v1/Systems')
            members = collection.get('Members') if isinstance(collection, dict) else None
            if not members or not isinstance(members[0], dict) or '@odata.id' not in members[0]:
                raise PowerError('%s/redfish/v1/Systems lists no computer system' % base)
            if len(members) > 1:
                raise PowerError('%s manages %d systems; say which one with redfish_system or the node\'s system'
                                 % (base, len(members)))
            path = members[0]['@odata.id']
        data = self.request(base + path)
        if not isinstance(data, dict):
            raise PowerError('%s%s is not a Redfish resource' % (base, path))
        return base + path, data

    def status(self, node: Mapping[str, object]) -> str:
        _url, data = self.system_url(node)
        state = str(data.get('PowerState', '')).lower()
        if state in ('on', 'poweringoff'):
            return 'on'
        if state in ('off', 'poweringon'):
            return 'off'
        return 'unknown'

    def act(self, node: Mapping[str, object], state: str) -> None:
        url, data = self.system_url(node)
        base = url.split('/redfish/', 1)[0]
        action = data.get('Actions', {}).get('#ComputerSystem.Reset', {}) if isinstance(data.get('Actions'), dict) else {}
        target = action.get('target') if isinstance(action, dict) else None
        target = base + target if target else url + '/Actions/ComputerSystem.Reset'
        reset_type = REDFISH_RESET_TYPES[state]
        allowed = action.get('ResetType@Redfish.AllowableValues') if isinstance(action, dict) else None
        if allowed and reset_type not in allowed:
            if state == 'cycle':
                Driver.cycle(self, node)
                return
            raise PowerError('%s does not allow ResetType %s (allowed: %s)' % (url, reset_type, ', '.join(allowed)))
        self.request(target, 'POST', {'ResetType': reset_type})

    def on(self, node: Mapping[str, object]) -> None:
        self.act(node, 'on')

    def off(self, node: Mapping[str, object]) -> None:
        self.act(node, 'off')

    def reset(self, node: Mapping[str, object]) -> None:
        self.act(node, 'reset')

    def cycle(self, node: Mapping[str, object]) -> None:
        self.act(node, 'cycle')


# --- command drivers ----------------------------------------------------------

# runner(argv, env, timeout) -> (exit code, stdout, stderr)
Runner = Callable[[Sequence[str], 'Mapping[str, str] | None', float], 'tuple[int, str, str]']


def subprocess_runner(argv: Sequence[str], env: Mapping[str, str] | None, timeout: float) -> tuple[int, str, str]:
    import os
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        completed = subprocess.run(list(argv), env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=timeout, check=False)
    except FileNotFoundError:
        raise PowerError('%s: command not found' % argv[0]) from None
    except subprocess.TimeoutExpired:
        raise PowerError('%s did not finish within %.0f s' % (' '.join(argv), timeout)) from None
    return (completed.returncode, completed.stdout.decode('utf-8', errors='replace'),
            completed.stderr.decode('utf-8', errors='replace'))


class IpmiDriver(Driver):
    """``ipmitool -I lanplus chassis power ...``; the password goes by environment (``-E``), never argv."""

    name = 'ipmi'

    def __init__(self, runner: Runner, address: str = '{bmc}', username: str | None = None,
                 password: str | None = None, interface: str = 'lanplus', binary: str = 'ipmitool',
                 timeout: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runner = runner
        self.address = address
        self.username = username
        self.password = password
        self.interface = interface
        self.binary = binary
        self.timeout = timeout

    def check(self, node: Mapping[str, object]) -> None:
        render(self.address, node, 'address')

    def power(self, node: Mapping[str, object], verb: str) -> str:
        argv = [self.binary, '-I', self.interface, '-H', render(self.address, node, 'address')]
        env = None
        if self.username:
            argv += ['-U', self.username]
        if self.password is not None:
            argv.append('-E')
            env = {'IPMI_PASSWORD': self.password}
        argv += ['chassis', 'power', verb]
        code, out, err = self.runner(argv, env, self.timeout)
        if code != 0:
            raise PowerError('ipmitool chassis power %s failed (exit %d): %s'
                             % (verb, code, (err or out).strip()[-300:]))
        return out

    def status(self, node: Mapping[str, object]) -> str:
        return word_power(self.power(node, 'status'))

    def on(self, node: Mapping[str, object]) -> None:
        self.power(node, 'on')

    def off(self, node: Mapping[str, object]) -> None:
        self.power(node, 'off')

    def reset(self, node: Mapping[str, object]) -> None:
        self.power(node, 'reset')

    def cycle(self, node: Mapping[str, object]) -> None:
        self.power(node, 'cycle')


class CommandDriver(Driver):
    """Any command per state, from templates. The template is split like a shell line first and
    each word is then filled in, so a field with spaces stays one argument and no shell runs."""

    name = 'command'

    def __init__(self, runner: Runner, commands: Mapping[str, str], timeout: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runner = runner
        self.commands = {key: value for key, value in (commands or {}).items() if value}
        unknown = sorted(set(self.commands) - set(STATES))
        if unknown:
            raise PowerError('commands has unknown state(s) %s; use %s' % (', '.join(unknown), ', '.join(STATES)))
        if not self.commands:
            raise PowerError('the command driver needs commands (a template per state)')
        self.timeout = timeout

    def argv(self, node: Mapping[str, object], state: str) -> list[str]:
        try:
            words = shlex.split(self.commands[state])
        except ValueError as exc:
            raise PowerError('commands.%s: %s' % (state, exc)) from None
        return [render(word, node, 'commands.%s' % state) for word in words]

    def check(self, node: Mapping[str, object]) -> None:
        for state in self.commands:
            self.argv(node, state)

    def run(self, node: Mapping[str, object], state: str) -> str:
        argv = self.argv(node, state)
        code, out, err = self.runner(argv, None, self.timeout)
        if code != 0:
            raise PowerError('%s exited %d: %s' % (argv[0], code, (err or out).strip()[-300:]))
        return out

    def status(self, node: Mapping[str, object]) -> str:
        if 'status' not in self.commands:
            return 'unknown'
        return word_power(self.run(node, 'status'))

    def on(self, node: Mapping[str, object]) -> None:
        self.need('on')
        self.run(node, 'on')

    def off(self, node: Mapping[str, object]) -> None:
        self.need('off')
        self.run(node, 'off')

    def reset(self, node: Mapping[str, object]) -> None:
        if 'reset' in self.commands:
            self.run(node, 'reset')
        else:
            self.cycle(node)

    def cycle(self, node: Mapping[str, object]) -> None:
        if 'cycle' in self.commands:
            self.run(node, 'cycle')
        else:
            Driver.cycle(self, node)

    def need(self, state: str) -> None:
        if state not in self.commands:
            raise PowerError('commands has no template for %s' % state)


# --- QEMU (QMP) ----------------------------------------------------------------

class QmpClient:
    """A minimal QEMU Machine Protocol client over a unix socket: greeting, capabilities, commands."""

    def __init__(self, path: str, timeout: float = 10.0,
                 connect: Callable[[str, float], socket.socket] | None = None) -> None:
        self.path = path
        self.timeout = timeout
        self.connect = connect or self._connect
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
        if self.sock is None:
            raise PowerError('QMP %s: not connected' % self.path)
        return self.sock

    def read(self) -> dict:
        sock = self._socket()
        while b'\n' not in self.buffer:
            try:
                chunk = sock.recv(65536)
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


# --- applying a state over many nodes -------------------------------------------

@dataclass
class NodeResult:
    name: str
    state: str
    power_before: str = 'unknown'
    power: str = 'unknown'
    action: str | None = None
    changed: bool = False
    failed: bool = False
    msg: str = ''
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {'name': self.name, 'state': self.state, 'power_before': self.power_before, 'power': self.power,
                'action': self.action, 'changed': self.changed, 'failed': self.failed, 'msg': self.msg,
                'seconds': round(self.seconds, 3)}


def apply_state(driver: Driver, node: Mapping[str, object], state: str, check_mode: bool = False,
                clock: Callable[[], float] = time.monotonic) -> NodeResult:
    """Bring one node to ``state``; errors become a failed result, never an exception."""
    if state not in STATES:
        raise PowerError('state must be one of %s' % ', '.join(STATES))
    result = NodeResult(name=str(node.get('name')), state=state)
    started = clock()
    try:
        driver.check(node)
        before = driver.status(node)
        result.power_before = result.power = before
        if state == 'status':
            action = None
        elif state in ('on', 'off'):
            action = None if before == state else state
        elif state == 'reset' and before == 'off':
            # A reset of a node that is off is a power on: the node boots now either way.
            action = 'on'
        else:
            action = state
        result.action = action
        result.changed = action is not None
        if action is not None and not check_mode:
            getattr(driver, action)(node)
            result.power = 'off' if action == 'off' else 'on'
        elif action is not None:
            result.power = 'off' if action == 'off' else 'on'
        result.msg = 'ok' if action is None or not check_mode else 'would %s' % action
    except NetbootError as exc:
        result.failed = True
        result.msg = str(exc)
    except Exception as exc:  # pylint: disable=broad-except
        # A driver bug or an unexpected transport error on one node must not hide the other nodes' results.
        result.failed = True
        result.msg = '%s: %s' % (type(exc).__name__, exc)
    result.seconds = clock() - started
    return result


def apply_all(driver: Driver, nodes: Sequence[Mapping[str, object]], state: str, check_mode: bool = False,
              parallel: int = 16) -> list[NodeResult]:
    """``apply_state`` over every node, ``parallel`` at a time; results in input order."""
    if state not in STATES:
        raise PowerError('state must be one of %s' % ', '.join(STATES))
    if parallel < 1:
        raise PowerError('parallel must be at least 1')
    if not nodes:
        return []
    with ThreadPoolExecutor(max_workers=min(parallel, len(nodes))) as pool:
        return list(pool.map(lambda node: apply_state(driver, node, state, check_mode), nodes))


@dataclass
class DriverSettings:
    """What the module hands over to build a driver (all optional but the driver's own)."""

    driver: str
    timeout: float = 30.0
    cycle_delay: float = 5.0
    address: str = '{bmc}'
    username: str | None = None
    password: str | None = None
    validate_certs: bool = True
    cmc_url: str = DEFAULT_CMC_URL
    cmc_actions: Mapping[str, str] = field(default_factory=dict)
    cmc_name_regex: str | None = DEFAULT_CMC_NAME_REGEX
    ipmi_interface: str = 'lanplus'
    ipmitool_path: str = 'ipmitool'
    redfish_url: str = 'https://{bmc}'
    redfish_system: str | None = None
    qmp_socket: str = '{qmp}'
    qemu_off: str = 'stop'
    commands: Mapping[str, str] = field(default_factory=dict)


DRIVERS = ('cmc', 'ipmi', 'redfish', 'qemu', 'command')


def make_driver(settings: DriverSettings, opener: Opener | None = None, runner: Runner | None = None,
                connect: Callable[[str, float], socket.socket] | None = None) -> Driver:
    """Build the driver the settings name, with real transports unless fakes are given."""
    common: dict[str, Any] = {'cycle_delay': settings.cycle_delay}
    kind = settings.driver
    if kind == 'cmc':
        unknown = sorted(set(settings.cmc_actions or {}) - {'on', 'off', 'reset', 'status'})
        if unknown:
            raise PowerError('cmc_actions has unknown key(s) %s; use on, off, reset, status' % ', '.join(unknown))
        return CmcDriver(opener or make_open_url_opener(settings.timeout, settings.validate_certs),
                         url=settings.cmc_url, actions=settings.cmc_actions, name_regex=settings.cmc_name_regex,
                         **common)
    if kind == 'redfish':
        return RedfishDriver(opener or make_open_url_opener(settings.timeout, settings.validate_certs,
                                                            settings.username, settings.password),
                             url=settings.redfish_url, system=settings.redfish_system, **common)
    if kind == 'ipmi':
        return IpmiDriver(runner or subprocess_runner, address=settings.address, username=settings.username,
                          password=settings.password, interface=settings.ipmi_interface,
                          binary=settings.ipmitool_path, timeout=settings.timeout, **common)
    if kind == 'qemu':
        return QemuDriver(socket_path=settings.qmp_socket, off_command=settings.qemu_off,
                          timeout=settings.timeout, connect=connect, **common)
    if kind == 'command':
        return CommandDriver(runner or subprocess_runner, settings.commands, timeout=settings.timeout, **common)
    raise PowerError('driver must be one of %s, not %r' % (', '.join(DRIVERS), kind))


def node_values(name: str, ip: str | None, mac: str | None, extra: Mapping[str, str]) -> dict[str, object]:
    """The fields a template sees for one node."""
    values: dict[str, object] = {key: None for key in NODE_FIELDS}
    values.update(extra)
    values.update({'name': name, 'ip': ip, 'mac': mac})
    return values


def summarize(results: Sequence[NodeResult]) -> dict[str, int]:
    return {
        'nodes': len(results),
        'changed': sum(1 for result in results if result.changed and not result.failed),
        'failed': sum(1 for result in results if result.failed),
        'on': sum(1 for result in results if result.power == 'on' and not result.failed),
        'off': sum(1 for result in results if result.power == 'off' and not result.failed),
        'unknown': sum(1 for result in results if result.power == 'unknown' or result.failed),
    }


def power_text(results: Sequence[NodeResult], after: bool) -> str:
    """One ``name: power`` line per node, the shape of the module's diff."""
    return ''.join('%s: %s\n' % (result.name, result.power if after else result.power_before) for result in results)
