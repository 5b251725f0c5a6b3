# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Power drivers that run a program: ipmitool, or any command per state."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ansible_collections.cluster.netboot.plugins.module_utils import _process
from ansible_collections.cluster.netboot.plugins.module_utils._power_driver import (
    STATES, Driver, PowerError, render, word_power)

# runner(argv, env, timeout) -> (exit code, stdout, stderr)
Runner = Callable[[Sequence[str], 'Mapping[str, str] | None', float], 'tuple[int, str, str]']


def subprocess_runner(argv: Sequence[str], env: Mapping[str, str] | None, timeout: float) -> tuple[int, str, str]:
    """Run a power command within ``timeout`` seconds in all; on timeout its whole process group is killed."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        completed = _process.run(argv, timeout=timeout, env=full_env, term_grace=2.0)
    except _process.ProcessError as exc:
        raise PowerError(str(exc)) from None
    if completed.timed_out:
        raise PowerError('%s did not finish within %s s; it and every process it started were killed'
                         % (' '.join(argv), timeout))
    return (completed.rc if completed.rc is not None else -1, completed.text('stdout'), completed.text('stderr'))


def host_port_arguments(address: str) -> list[str]:
    """``bmc1`` -> ``-H bmc1``; ``host:623``, ``[v6]:623`` -> ``-H host -p 623`` (a bare IPv6 address has no port)."""
    match = re.fullmatch(r'\[(?P<v6>[^]]+)\]:(?P<port>\d+)|(?P<host>[^:]+):(?P<hport>\d+)', address)
    if not match:
        return ['-H', address]
    host, port = (match['v6'], match['port']) if match['v6'] else (match['host'], match['hport'])
    if not 0 < int(port) < 65536:
        raise PowerError('BMC address %s: port %s is out of range' % (address, port))
    return ['-H', host, '-p', str(int(port))]


class IpmiDriver(Driver):
    """``ipmitool -I lanplus chassis power ...``; the password goes by environment (``-E``), never argv."""

    name = 'ipmi'
    boot_once_supported = True

    def __init__(self, runner: Runner, address: str = '{bmc}', username: str | None = None,
                 password: str | None = None, interface: str = 'lanplus', binary: str = 'ipmitool',
                 timeout: float = 30.0, cipher_suite: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runner = runner
        self.address = address
        self.username = username
        self.password = password
        self.interface = interface
        self.binary = binary
        self.timeout = timeout
        self.cipher_suite = cipher_suite

    def check(self, node: Mapping[str, object]) -> None:
        render(self.address, node, 'address')

    def ipmitool(self, node: Mapping[str, object], words: Sequence[str]) -> str:
        """Run ``ipmitool ... WORDS`` against the node's BMC; a failure carries ipmitool's own message."""
        argv = [self.binary, '-I', self.interface] + host_port_arguments(render(self.address, node, 'address'))
        if self.cipher_suite is not None:
            argv += ['-C', str(self.cipher_suite)]
        env = None
        if self.username:
            argv += ['-U', self.username]
        if self.password is not None:
            argv.append('-E')
            env = {'IPMI_PASSWORD': self.password}
        argv += list(words)
        code, out, err = self.runner(argv, env, self.timeout)
        if code != 0:
            raise PowerError('ipmitool %s failed (exit %d): %s'
                             % (' '.join(words), code, (err or out).strip()[-300:]))
        return out

    def power(self, node: Mapping[str, object], verb: str) -> str:
        return self.ipmitool(node, ['chassis', 'power', verb])

    def boot_once(self, node: Mapping[str, object], device: str, uefi: bool = False) -> None:
        # Without persistent, ipmitool sets the boot flags valid for the next boot only.
        self.ipmitool(node, ['chassis', 'bootdev', device] + (['options=efiboot'] if uefi else []))

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
