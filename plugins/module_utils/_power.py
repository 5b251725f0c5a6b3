# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Node power control: one driver class per way of reaching a node's power, one loop over the nodes.

The drivers live in ``_power_driver`` (the base class and templates),
``_power_http`` (CMC, Redfish), ``_power_command`` (ipmitool, any command) and
``_power_qemu`` (QMP); this file applies a state over many nodes with them.

Every driver answers ``status`` (``on``, ``off`` or ``unknown``) and performs
``on``, ``off``, ``reset`` and ``cycle``; :func:`apply_state` turns a wanted
state into driver calls (``on`` and ``off`` only when needed, ``reset`` of a
node that is off powers it on) and :func:`apply_all` runs that over many nodes
in a thread pool, one result per node: a node that fails never stops the others.
With ``boot_once`` (``pxe``), a node that is about to boot (``on``, ``reset``,
``cycle``) first gets a one-time network boot from its BMC (IPMI, Redfish).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError
from ansible_collections.cluster.netboot.plugins.module_utils._power_command import (
    CommandDriver, IpmiDriver, Runner, subprocess_runner)
from ansible_collections.cluster.netboot.plugins.module_utils._power_driver import (
    BOOT_ONCE, BOOTING_ACTIONS, NODE_FIELDS, STATES, Driver, PowerError)
from ansible_collections.cluster.netboot.plugins.module_utils._power_http import (
    DEFAULT_CMC_NAME_REGEX, DEFAULT_CMC_URL, CmcDriver, Opener, RedfishDriver, make_open_url_opener)
from ansible_collections.cluster.netboot.plugins.module_utils._power_qemu import QemuDriver


# --- applying a state over many nodes -------------------------------------------

@dataclass
class NodeResult:
    name: str
    state: str
    power_before: str = 'unknown'
    power: str = 'unknown'
    action: str | None = None
    boot_once: str | None = None
    changed: bool = False
    failed: bool = False
    msg: str = ''
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {'name': self.name, 'state': self.state, 'power_before': self.power_before, 'power': self.power,
                'action': self.action, 'boot_once': self.boot_once, 'changed': self.changed, 'failed': self.failed, 'msg': self.msg,
                'seconds': round(self.seconds, 3)}


def check_boot_once(driver: Driver, boot_once: str) -> None:
    if boot_once not in BOOT_ONCE:
        raise PowerError('boot_once must be one of %s, not %r' % (', '.join(BOOT_ONCE), boot_once))
    if boot_once != 'none' and not driver.boot_once_supported:
        raise PowerError('the %s driver cannot set a one-time boot device; boot_once needs ipmi or redfish'
                         % driver.name)


def apply_state(driver: Driver, node: Mapping[str, object], state: str, check_mode: bool = False,
                clock: Callable[[], float] = time.monotonic, boot_once: str = 'none',
                boot_once_uefi: bool = False) -> NodeResult:
    """Bring one node to ``state``; errors become a failed result, never an exception.

    With ``boot_once``, a node that will boot gets that one-time boot device
    first; the power action is not tried when the BMC refuses it.
    """
    if state not in STATES:
        raise PowerError('state must be one of %s' % ', '.join(STATES))
    check_boot_once(driver, boot_once)
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
        if boot_once != 'none' and action in BOOTING_ACTIONS:
            result.boot_once = boot_once
            if not check_mode:
                driver.boot_once(node, boot_once, uefi=boot_once_uefi)
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
              parallel: int = 16, boot_once: str = 'none', boot_once_uefi: bool = False) -> list[NodeResult]:
    """``apply_state`` over every node, ``parallel`` at a time; results in input order."""
    if state not in STATES:
        raise PowerError('state must be one of %s' % ', '.join(STATES))
    check_boot_once(driver, boot_once)
    if parallel < 1:
        raise PowerError('parallel must be at least 1')
    if not nodes:
        return []
    with ThreadPoolExecutor(max_workers=min(parallel, len(nodes))) as pool:
        return list(pool.map(lambda node: apply_state(driver, node, state, check_mode, boot_once=boot_once,
                                                      boot_once_uefi=boot_once_uefi), nodes))


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
    ipmi_cipher_suite: int | None = None
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
                          binary=settings.ipmitool_path, timeout=settings.timeout,
                          cipher_suite=settings.ipmi_cipher_suite, **common)
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
