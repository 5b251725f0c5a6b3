# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: pxe_hex
short_description: The PXELINUX config file name of an IPv4 address (upper-case hex)
version_added: 0.1.0
description:
  - Turns an IPv4 address into the name PXELINUX asks for in C(pxelinux.cfg/), eight upper-case hex digits,
    for example V(10.18.1.18) into V(0A120112).
  - Unlike C(ansible.utils.ip4_hex), whose result is lower case, this is the spelling PXELINUX requests.
author:
  - cluster.netboot contributors (!UNKNOWN)
options:
  _input:
    description: An IPv4 address in dotted-quad form.
    type: str
    required: true
seealso:
  - plugin: cluster.netboot.pxe_mac
    plugin_type: filter
  - module: cluster.netboot.pxe_boot
requirements:
  - netaddr (on the controller)
'''

EXAMPLES = r'''
- name: Where node1-2's pointer lives
  ansible.builtin.debug:
    msg: "/srv/tftp/pxelinux.cfg/{{ '10.18.1.18' | cluster.netboot.pxe_hex }}"
  # => /srv/tftp/pxelinux.cfg/0A120112

- name: The pointer names of a list of addresses
  ansible.builtin.debug:
    msg: "{{ ['10.77.0.10', '10.77.0.11'] | map('cluster.netboot.pxe_hex') | list }}"
  # => ['0A4D000A', '0A4D000B']
'''

RETURN = r'''
_value:
  description: Eight upper-case hex digits.
  type: str
  sample: 0A120112
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.module_utils import _addresses
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def pxe_hex(address: object) -> str:
    try:
        return _addresses.pxe_hex(address)
    except NetbootError as exc:
        raise AnsibleFilterError('pxe_hex: %s' % exc) from None


class FilterModule:

    def filters(self) -> dict:
        return {'pxe_hex': pxe_hex}
