# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Node power control, the common part: what every driver answers, and filling in node templates.

A driver answers ``status`` (``on``, ``off`` or ``unknown``) and performs
``on``, ``off``, ``reset`` and ``cycle`` on one node. Drivers take their
transport as a constructor argument (an HTTP opener, a command runner, a
socket factory) so that unit tests fake the outside world.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote

from ansible_collections.cluster.netboot.plugins.module_utils import _templates
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError

STATES = ('on', 'off', 'reset', 'cycle', 'status')
# One-time boot devices a driver may set before it powers a node on (``none``: leave the boot order alone).
BOOT_ONCE = ('none', 'pxe')
# The power actions after which a one-time boot device takes effect.
BOOTING_ACTIONS = ('on', 'reset', 'cycle')
POWER_VALUES = ('on', 'off', 'unknown')
# Node fields a template may use; also the columns of a node file.
NODE_FIELDS = ('name', 'ip', 'mac', 'bmc', 'x', 'y', 'qmp', 'system')


class PowerError(NetbootError):
    """A power operation that could not be carried out, or a driver set up wrongly."""


def render(template: str, values: Mapping[str, object], what: str) -> str:
    """``str.format`` with the node's fields; an unknown or empty field is a clear error."""
    try:
        return _templates.render(template, values, what, 'node %s' % values.get('name'))
    except _templates.TemplateError as exc:
        raise PowerError(str(exc)) from None


def url_quote(value: str) -> str:
    """A node field as it goes into a URL: percent-encoded, so it cannot add a path, query or parameter.

    ``:`` and brackets stay, for ``host:port`` and ``[IPv6]`` in the host part.
    """
    return quote(value, safe=':[]')


def render_url(template: str, values: Mapping[str, object], what: str) -> str:
    """:func:`render` for URL templates: every value percent-encoded."""
    try:
        return _templates.render(template, values, what, 'node %s' % values.get('name'), escape=url_quote)
    except _templates.TemplateError as exc:
        raise PowerError(str(exc)) from None


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
    Drivers of BMCs that keep a one-time boot device (IPMI, Redfish) set
    ``boot_once_supported`` and implement ``boot_once``.
    """

    name = 'base'
    boot_once_supported = False

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

    def boot_once(self, node: Mapping[str, object], device: str, uefi: bool = False) -> None:
        """Make the node boot from ``device`` (``pxe``) at its next boot only."""
        raise PowerError('the %s driver cannot set a one-time boot device' % self.name)

    def cycle(self, node: Mapping[str, object]) -> None:
        self.off(node)
        self.sleep(self.cycle_delay)
        self.on(node)
