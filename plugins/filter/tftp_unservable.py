# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: tftp_unservable
short_description: The boot files a TFTP server confined to its root cannot serve, from a stat loop
version_added: 0.1.0
positional: root
description:
  - Takes the results of an M(ansible.builtin.stat) loop over file names in the TFTP root (C(item) the name
    relative to the root, C(follow) left false) and returns the names the server (C(in.tftpd --secure)) cannot
    serve, in order.
  - Served are regular files, and symlinks that resolve inside O(root) to a file that is there. Not served are
    missing files, other file types, symlinks out of the root or to nothing, and names with a V(..) part.
author:
  - cluster.netboot contributors (!UNKNOWN)
options:
  _input:
    description: The C(results) of the registered stat loop.
    type: list
    elements: dict
    required: true
  root:
    description: The TFTP root, an absolute path.
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Look for the boot files
  ansible.builtin.stat:
    path: "/srv/tftp/{{ item }}"
  loop: [pxelinux.0, ipxe.efi]
  register: found

- name: Refuse the ones the server cannot serve
  ansible.builtin.assert:
    that: found.results | cluster.netboot.tftp_unservable('/srv/tftp') | length == 0
'''

RETURN = r'''
_value:
  description: The names that cannot be served; empty when every file is there.
  type: list
  elements: str
  sample: [ipxe.efi]
'''

from collections.abc import Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.module_utils import _tftp
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def tftp_unservable(results: Sequence[Mapping], root: str) -> list[str]:
    try:
        return _tftp.unservable(results, root)
    except NetbootError as exc:
        raise AnsibleFilterError('tftp_unservable: %s' % exc) from None


class FilterModule:

    def filters(self) -> dict:
        return {'tftp_unservable': tftp_unservable}
