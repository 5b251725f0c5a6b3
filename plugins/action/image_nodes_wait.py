# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Wait for an image_nodes round, printing progress, without one task per poll; or settle the run's verdict."""

from __future__ import annotations

import json
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.cluster.netboot.plugins.module_utils import _imaging_plan

display = Display()

ARGUMENT_SPEC = {
    'python': {'type': 'str', 'default': '/usr/bin/python3'},
    'program': {'type': 'str', 'required': True},
    'dir': {'type': 'str', 'required': True},
    'poll': {'type': 'int', 'default': 15},
    'boot_timeout': {'type': 'int', 'default': 300},
    'timeout': {'type': 'int', 'default': 1800},
    'round': {'type': 'dict', 'required': True},
    'power': {'type': 'dict', 'default': {}},
    'retries': {'type': 'int', 'default': 0},
    'finish': {'type': 'bool', 'default': False},
    'attempts': {'type': 'list', 'elements': 'list', 'default': []},
    'power_nodes': {'type': 'list', 'elements': 'dict', 'default': []},
}


# A node sends its console log right after its last report: once every node is final, the query waits
# this long for the logs of the nodes that reported, so that the table can name them.
LOG_GRACE_SECONDS = 15


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _requires_connection = True

    def _query(self, args: dict[str, t.Any], task_vars: dict[str, t.Any], finish: bool) -> dict[str, t.Any]:
        """One progress query of the round (the report receiver's ``wait``), as a JSON document."""
        argv = [args['python'], args['program'], 'wait', '--dir', args['dir'], '--poll', str(args['poll']),
                '--boot-timeout', str(args['boot_timeout']), '--timeout', str(args['timeout']),
                '--round', str(args['round']['attempt']), '--log-grace', str(LOG_GRACE_SECONDS)]
        argv += ['--power-failed=%s=%s' % item for item in _imaging_plan.power_failures(args['power']).items()]
        if finish:
            argv.append('--finish')
        result = self._execute_module(module_name='ansible.builtin.command', task_vars=task_vars,
                                      module_args={'argv': argv})
        if result.get('failed') or result.get('rc'):
            raise AnsibleActionFail('the progress query failed: %s %s' % (
                result.get('msg', ''), result.get('stderr', '')[-2000:]))
        try:
            return json.loads(result['stdout'])
        except (KeyError, ValueError) as exc:
            raise AnsibleActionFail('the progress query printed no JSON: %s' % exc) from exc

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        current = args['round']
        attempts = list(args['attempts'])

        if args['finish']:
            # Every round that finished is in attempts; the one under way (interrupted) is settled now.
            if len(attempts) < int(current.get('attempt', 1)) and current.get('names'):
                attempts.append(self._query(args, task_vars, finish=True)['nodes'])
            result.update(changed=False, **_imaging_plan.verdict(attempts, args['retries'], args['power_nodes']))
            return result

        status = self._query(args, task_vars, finish=False)
        while True:
            display.display('\n'.join(_imaging_plan.progress(status['nodes'], status['elapsed'], current['attempt'])))
            if status['done']:
                break
            status = self._query(args, task_vars, finish=False)
        states = status['nodes']
        failed = sorted(state['name'] for state in states if not _imaging_plan.is_ok(state))
        retry = _imaging_plan.make_round(current['nodes'], current['images'], current['attempt'] + 1, failed)
        result.update(changed=False, failed_nodes=failed, ok=len(states) - len(failed), retry=retry,
                      ansible_facts={'image_nodes__attempts': attempts + [states]})
        return result
