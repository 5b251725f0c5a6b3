# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
name: pxe_mac
short_description: The PXELINUX config file name of a MAC address (C(01-) and lower case, dashes)
version_added: 0.1.0
description:
  - Turns a MAC address in one of the written notations (V(00:0D:B9:0A:12:34), V(00-0d-b9-0a-12-34),
    V(000d.b90a.1234), V(000db90a1234)) into the name PXELINUX asks for first in C(pxelinux.cfg/), the ARP hardware type
    C(01) followed by the address in lower case with dashes, for example V(01-00-0d-b9-0a-12-34).
  - Anything else is refused, a bare number such as V(1) or groups of one digit included, and so are the
    addresses no NIC has, all zero, broadcast and multicast (the lowest bit of the first octet set).
author:
  - cluster.netboot contributors (!UNKNOWN)
options:
  _input:
    description: A 48-bit MAC address.
    type: str
    required: true
seealso:
  - plugin: cluster.netboot.pxe_hex
    plugin_type: filter
  - module: cluster.netboot.pxe_boot
requirements:
  - netaddr (on the controller)
'''

EXAMPLES = r'''
- name: Where node1-2's MAC pointer lives
  ansible.builtin.debug:
    msg: "/srv/tftp/pxelinux.cfg/{{ '00:0D:B9:0A:12:34' | cluster.netboot.pxe_mac }}"
  # => /srv/tftp/pxelinux.cfg/01-00-0d-b9-0a-12-34
'''

RETURN = r'''
_value:
  description: V(01-) followed by six lower-case hex pairs separated by dashes.
  type: str
  sample: 01-00-0d-b9-0a-12-34
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.cluster.netboot.plugins.module_utils import _addresses
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def pxe_mac(address: object) -> str:
    try:
        return _addresses.pxe_mac(address)
    except NetbootError as exc:
        raise AnsibleFilterError('pxe_mac: %s' % exc) from None


class FilterModule:

    def filters(self) -> dict:
        return {'pxe_mac': pxe_mac}
