# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Power drivers over HTTP: ORBIT's chassis manager (CMC) and DMTF Redfish."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.error import HTTPError, URLError

from ansible_collections.cluster.netboot.plugins.module_utils._power_driver import (
    Driver, PowerError, render_url, url_quote, word_power)

# opener(url, method, body, headers) -> (status code, body text); raises PowerError on transport errors.
Opener = Callable[[str, str, 'bytes | None', Mapping[str, str]], 'tuple[int, str]']


def make_open_url_opener(timeout: float, validate_certs: bool, username: str | None = None,
                         password: str | None = None) -> Opener:
    """An opener on ansible.module_utils.urls.open_url (proxies, TLS checks, basic auth).

    ``timeout`` holds for the whole request, answer included: open_url's own
    timeout is per socket operation, and a peer that sends a byte a second
    would never trip it.
    """
    from ansible.module_utils.urls import open_url

    def opener(url: str, method: str, body: bytes | None, headers: Mapping[str, str]) -> tuple[int, str]:
        return with_deadline(lambda: request(url, method, body, headers), timeout, '%s %s' % (method, url))

    def request(url: str, method: str, body: bytes | None, headers: Mapping[str, str]) -> tuple[int, str]:
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


def with_deadline(function: Callable[[], Any], seconds: float, what: str) -> Any:
    """``function()``, or a PowerError once ``seconds`` have passed.

    The call goes on in a daemon thread that nobody waits for; its own socket
    timeouts end it later, and the module's exit ends it at the latest.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome['value'] = function()
        except BaseException as exc:  # pylint: disable=broad-except
            outcome['error'] = exc
    thread = threading.Thread(target=target, name='power-request', daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise PowerError('%s: no complete answer within %s s' % (what, seconds))
    if 'error' in outcome:
        raise outcome['error']
    return outcome['value']


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
        render_url(self.url, self.values(node, self.actions['status']), 'cmc_url')

    def call(self, node: Mapping[str, object], state: str) -> str:
        action = self.actions.get(state)
        if not action:
            raise PowerError('cmc_actions has no action for %s' % state)
        url = render_url(self.url, self.values(node, action), 'cmc_url')
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


def redfish_message(text: str) -> str:
    """The service's own words from a Redfish error body (``error.message`` and the extended info), else the text."""
    try:
        error = json.loads(text).get('error')
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        return text.strip()[:200]
    messages = [str(error.get('message') or error.get('code') or '')]
    for info in error.get('@Message.ExtendedInfo') or []:
        if isinstance(info, dict) and info.get('Message') and info['Message'] not in messages:
            messages.append(str(info['Message']))
    return '; '.join(message for message in messages if message)[:300] or text.strip()[:200]


REDFISH_BOOT_TARGETS = {'pxe': 'Pxe'}
REDFISH_RESET_TYPES = {'on': 'On', 'off': 'ForceOff', 'reset': 'ForceRestart', 'cycle': 'PowerCycle'}


class RedfishDriver(Driver):
    """DMTF Redfish: ``ComputerSystem.Reset`` and ``PowerState`` of the BMC's computer system."""

    name = 'redfish'
    boot_once_supported = True

    def __init__(self, opener: Opener, url: str = 'https://{bmc}', system: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.opener = opener
        self.url = url
        self.system = system

    def check(self, node: Mapping[str, object]) -> None:
        render_url(self.url, node, 'redfish_url')

    def request(self, url: str, method: str = 'GET', payload: object = None) -> object:
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {'Accept': 'application/json'}
        if body is not None:
            headers['Content-Type'] = 'application/json'
        code, text = self.opener(url, method, body, headers)
        if code >= 400:
            raise PowerError('%s %s answered HTTP %d: %s' % (method, url, code, redfish_message(text)))
        if not text.strip():
            return {}
        try:
            return json.loads(text)
        except ValueError:
            raise PowerError('%s %s did not answer JSON' % (method, url)) from None

    def system_url(self, node: Mapping[str, object]) -> tuple[str, dict]:
        base = render_url(self.url, node, 'redfish_url').rstrip('/')
        system = node.get('system') or self.system
        if system:
            path = str(system)
            if not path.startswith('/'):
                path = '/redfish/v1/Systems/%s' % url_quote(path)
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

    def boot_once(self, node: Mapping[str, object], device: str, uefi: bool = False) -> None:
        url, data = self.system_url(node)
        target = REDFISH_BOOT_TARGETS[device]
        boot = data.get('Boot') if isinstance(data.get('Boot'), dict) else {}
        allowed = boot.get('BootSourceOverrideTarget@Redfish.AllowableValues')
        if allowed and target not in allowed:
            raise PowerError('%s does not allow BootSourceOverrideTarget %s (allowed: %s)'
                             % (url, target, ', '.join(str(value) for value in allowed)))
        wanted: dict[str, str] = {'BootSourceOverrideTarget': target, 'BootSourceOverrideEnabled': 'Once'}
        if uefi:
            wanted['BootSourceOverrideMode'] = 'UEFI'
        self.request(url, 'PATCH', {'Boot': wanted})

    def on(self, node: Mapping[str, object]) -> None:
        self.act(node, 'on')

    def off(self, node: Mapping[str, object]) -> None:
        self.act(node, 'off')

    def reset(self, node: Mapping[str, object]) -> None:
        self.act(node, 'reset')

    def cycle(self, node: Mapping[str, object]) -> None:
        self.act(node, 'cycle')
