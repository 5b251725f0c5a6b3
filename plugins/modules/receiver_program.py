#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: receiver_program
short_description: Install one of the console-side receiver programs the imaging roles start
version_added: 0.2.0
description:
  - Writes a receiver program into O(path) on the console, the same way from a source checkout, an installed
    collection or an execution environment - the code travels in this module's own payload.
  - O(program=report) is the report receiver of the P(cluster.netboot.image_nodes#role) role and the
    C(cluster.netboot.discover_nodes) playbook (C(imaging_reports.py) with the commands C(serve), C(wait) and C(stop));
    O(program=capture) is the capture receiver of the P(cluster.netboot.capture_image#role) role
    (C(capture_receiver.py) with C(receive) and C(stop)).
  - The program is a small launcher C(<path>/<name>.py) and, in C(<path>/<name>_lib/), the collection's module_utils
    it runs (its receiver and every module_utils that imports). Each file is replaced atomically, and only when it
    differs; a module_utils the program no longer uses is removed from there. Run it with the console's Python,
    for example C(/usr/bin/python3 <path>/imaging_reports.py stop --dir RUN_DIR).
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
attributes:
  check_mode:
    support: full
    details: Reports which files would be written or removed; writes nothing.
  diff_mode:
    support: full
    details: One before/after per file written or removed.
options:
  path:
    description:
      - The directory the program goes to (an absolute path); it is created when missing, with its parents (mode
        C(0755)).
    type: path
    required: true
  program:
    description:
      - Which receiver to install.
    type: str
    choices: [report, capture]
    required: true
'''

EXAMPLES = r'''
- name: Install the report receiver
  cluster.netboot.receiver_program:
    path: /var/lib/cluster-netboot/image-nodes
    program: report
  register: receiver

- name: Stop a run's report receiver
  ansible.builtin.command:
    argv: [/usr/bin/python3, "{{ receiver.program }}", stop, --dir, /var/lib/cluster-netboot/image-nodes/RUN]
'''

RETURN = r'''
program:
  description: The program to run (the launcher).
  returned: success
  type: str
  sample: /var/lib/cluster-netboot/image-nodes/imaging_reports.py
changed_files:
  description: The files written, whose mode was set, or removed (would be, in check mode).
  returned: success
  type: list
  elements: str
'''

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cluster.netboot.plugins.module_utils import _files, _receiver_program
# The receivers: imported so that they (and what they import) are in this module's payload, where the
# installer reads their source.
from ansible_collections.cluster.netboot.plugins.module_utils import _capture_receiver, _report_receiver

CARRIED = (_capture_receiver, _report_receiver)


def run(module: AnsibleModule) -> dict[str, Any]:
    changes = _receiver_program.plan(module.params['path'], module.params['program'])
    if not module.check_mode:
        _receiver_program.apply(changes, lambda path, content, mode: _files.atomic_write(module, path, content, mode))
    return {'changed': changes.changed, 'program': changes.program, 'changed_files': changes.changed_files(),
            'diff': changes.diff()}


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            program=dict(type='str', choices=sorted(_receiver_program.PROGRAMS), required=True),
        ),
        supports_check_mode=True,
    )
    _files.exit_module(module, lambda: run(module))


if __name__ == '__main__':
    main()
