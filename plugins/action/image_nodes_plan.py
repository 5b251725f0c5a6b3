# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The image_nodes plan: read on the controller (the inventory lives there), the image files on the console."""

from __future__ import annotations

import secrets
import typing as t

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.cluster.netboot.plugins.module_utils import _imaging_plan, _nodeset

ARGUMENT_SPEC = {
    'groups': {'type': 'list', 'elements': 'dict', 'required': True},
    'backend': {'type': 'str', 'default': 'udpcast', 'choices': ['udpcast', 'frisbee']},
    'disk': {'type': 'str', 'default': '/dev/sda'},
    'server_address': {'type': 'str', 'default': ''},
    'catalog_results': {'type': 'list', 'elements': 'dict', 'default': []},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)
    _requires_connection = True

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        self._supports_check_mode = True
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)

        nodes, errors = _imaging_plan.plan_nodes(
            args['groups'], task_vars.get('hostvars', {}), task_vars.get('groups', {}), args['backend'],
            args['disk'], _nodeset.expand,
            _imaging_plan.catalog_images(args['catalog_results'], bool(self._task.check_mode)))
        errors += _imaging_plan.plan_problems(nodes, args['server_address'])
        if errors:
            raise AnsibleActionFail('; '.join(errors))

        stats = {}
        for path, checksum in _imaging_plan.image_checks(nodes).items():
            stat = self._execute_module(
                module_name='ansible.builtin.stat', task_vars=task_vars,
                module_args={'path': path, 'get_checksum': checksum, 'checksum_algorithm': 'sha256',
                             'get_mime': False, 'get_attributes': False})
            if stat.get('failed'):
                raise AnsibleActionFail('cannot read image %s: %s' % (path, stat.get('msg', '')))
            stats[path] = stat.get('stat', {})

        run_id = _imaging_plan.new_run_id()
        images, image_errors = _imaging_plan.plan_images(nodes, stats, run_id)
        if image_errors:
            raise AnsibleActionFail('; '.join(image_errors))
        first = _imaging_plan.make_round(nodes, images, 1)
        plan = dict(first, run_id=run_id, token=secrets.token_hex(12), all_images=images,
                    summary='would image %d node(s) in %d group(s) with %d image(s): %s' % (
                        len(nodes), len({node['group'] for node in nodes}), len(images),
                        ', '.join(image['image'] for image in images)))
        result.update(changed=False, plan=plan, ansible_facts={'image_nodes_plan': plan, 'image_nodes__attempts': []})
        return result
