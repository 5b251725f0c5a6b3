# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The capture_image plan (the inventory is read on the controller, the catalog on the console), or its verdict."""

from __future__ import annotations

import secrets
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.cluster.netboot.plugins.module_utils import _capture_plan, _imaging_plan

ARGUMENT_SPEC = {
    'nodes': {'type': 'list', 'elements': 'raw', 'default': []},
    'disk': {'type': 'str', 'default': '/dev/sda'},
    'server_address': {'type': 'str', 'default': ''},
    'state_dir': {'type': 'str', 'default': '/var/lib/cluster-netboot/capture'},
    'catalog': {'type': 'str'},
    'force': {'type': 'bool', 'default': False},
    'jobs': {'type': 'list', 'elements': 'dict'},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _requires_connection = True

    def _catalog_entries(self, path: str, task_vars: dict[str, t.Any]) -> list[dict[str, t.Any]]:
        """The catalog's entries, read on the console by image_catalog (state=query)."""
        found = self._execute_module(module_name='cluster.netboot.image_catalog', task_vars=task_vars,
                                     module_args={'path': path, 'state': 'query'})
        if found.get('failed'):
            raise AnsibleActionFail('cannot read the catalog %s: %s' % (path, found.get('msg', '')))
        return list(found.get('images') or [])

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        self._supports_check_mode = True
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)

        if args['jobs'] is not None:
            result.update(changed=False, **_capture_plan.verdict(args['jobs']))
            return result

        nodes, errors = _capture_plan.plan_nodes(args['nodes'], task_vars.get('hostvars', {}), args['disk'])
        errors += _capture_plan.plan_problems(nodes, args['server_address'])
        if errors:
            raise AnsibleActionFail('; '.join(errors))
        # Refused before any node is touched: a capture never replaces an entry unless forced
        # (and a catalog that cannot be read is refused even then).
        if args['catalog']:
            held = _capture_plan.taken(nodes, self._catalog_entries(args['catalog'], task_vars))
            if held and not args['force']:
                raise AnsibleActionFail('already in the catalog %s: %s (give another version, or capture_image_force)'
                                        % (args['catalog'], ', '.join(held)))

        run_id = _imaging_plan.new_run_id()
        run_dir, nodes = _capture_plan.name_files(nodes, args['state_dir'], run_id)
        result.update(changed=False, nodes=nodes, run_id=run_id, run_dir=run_dir, token=secrets.token_hex(16))
        return result
