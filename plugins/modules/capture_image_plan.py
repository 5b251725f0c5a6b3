#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: capture_image_plan
short_description: Work out which node is captured into which catalog entry, and read how the captures ended
version_added: 0.1.0
description:
  - The planning step and the verdict of the P(cluster.netboot.capture_image#role) role, as an action plugin.
    It runs on the controller, where the inventory is, and reads the image catalog on the target (the console)
    with M(cluster.netboot.image_catalog) (O(catalog)).
  - Turns O(nodes) into one record per node; the MAC, IP, power fields and target disk of an inventory host come
    from its host variables unless the entry gives them. The addresses are checked as every module of the
    collection checks them and returned in their canonical form.
  - Every problem of the entries is named at once and nothing is returned when there is one (no nodes, an entry
    that is not a mapping or has unknown keys, no C(node), an image that is not C(NAME@VERSION), two nodes with one
    image, a node, IP or MAC named twice, a node without MAC or IP, an address no node can have, a disk that is
    not an absolute path, a size that is not a positive number, or no or a bad O(server_address)). Then an image
    the catalog already holds is refused unless O(force).
  - Names the run (RV(run_id), RV(run_dir), RV(token)) and each node's receiver record and capture config.
  - With O(jobs), it reads how the captures ended instead (RV(results)); it never fails then, so that the results
    can be kept before the role fails on RV(failed_nodes).
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
  - cluster.netboot.attributes.action
attributes:
  check_mode:
    support: full
    details: It changes nothing in any mode.
  diff_mode:
    support: none
options:
  nodes:
    description:
      - The nodes to capture, as O(cluster.netboot.capture_image#role:main:capture_image_nodes) of the role describes
        them, each a mapping with C(node) and C(image) (C(NAME@VERSION)), and optionally C(mac), C(ip), C(power),
        C(disk) and C(size).
    type: list
    elements: raw
    default: []
  disk:
    description: The target disk of a node for which neither the entry nor its host (C(image_nodes_disk)) names one.
    type: str
    default: /dev/sda
  server_address:
    description: The console's IPv4 address on the nodes' network, where the receivers listen; required.
    type: str
    default: ''
  state_dir:
    description: The directory under which the run's directory is named.
    type: str
    default: /var/lib/cluster-netboot/capture
  catalog:
    description:
      - The catalog file on the target. Its entries are read (a catalog that cannot be read is refused), and the
        images it already holds are refused unless O(force). Without it the catalog is not looked at.
    type: str
  force:
    description: Let the captures replace catalog entries of the same name and version.
    type: bool
    default: false
  jobs:
    description:
      - The results of M(ansible.builtin.async_status) for the receivers, one per node, each with the plan's node
        as its C(item.item). When given, the other options are ignored and the verdict is returned.
    type: list
    elements: dict
'''

EXAMPLES = r'''
- name: Work out which node goes to which catalog entry
  cluster.netboot.capture_image_plan:
    nodes:
      - node: node001
        image: compute@2026-01
    server_address: 10.18.0.1
    catalog: /var/lib/cluster-netboot/catalog/catalog.json
  register: plan

- name: Read how the captures ended
  cluster.netboot.capture_image_plan:
    jobs: "{{ done.results }}"
  register: verdict
'''

RETURN = r'''
nodes:
  description: One record per node, in the entries' order.
  returned: when planning
  type: list
  elements: dict
  contains:
    name:
      description: The node's name.
      type: str
    mac:
      description: Its MAC, lower case with colons.
      type: str
    ip:
      description: Its IPv4 address.
      type: str
    power:
      description: Its power fields with its name and addresses, as M(cluster.netboot.node_power) takes them.
      type: dict
    image:
      description: The catalog entry it is captured into, C(NAME@VERSION).
      type: str
    image_name:
      description: The entry's name.
      type: str
    version:
      description: The entry's version.
      type: str
    disk:
      description: The disk to capture.
      type: str
    size:
      description: Bytes to capture from the start of the disk, empty for the whole disk.
      type: str
    record:
      description: The file its receiver records itself in.
      type: str
    config:
      description: The name of its capture config (M(cluster.netboot.pxe_config)'s O(cluster.netboot.pxe_config#module:name)).
      type: str
  sample:
    - name: node001
      mac: 52:54:00:00:00:01
      ip: 10.18.0.11
      power: {name: node001, mac: 52:54:00:00:00:01, ip: 10.18.0.11}
      image: compute@2026-01
      image_name: compute
      version: 2026-01
      disk: /dev/sda
      size: ''
      record: /var/lib/cluster-netboot/capture/20260101T120000-a1b2c3/node001.receiver.json
      config: capture-20260101T120000-a1b2c3-node001
run_id:
  description: This run's id (UTC time and a random part).
  returned: when planning
  type: str
  sample: 20260101T120000-a1b2c3
run_dir:
  description: This run's directory, under O(state_dir).
  returned: when planning
  type: str
  sample: /var/lib/cluster-netboot/capture/20260101T120000-a1b2c3
token:
  description: A random token the nodes send to their receivers.
  returned: when planning
  type: str
results:
  description: One result per node.
  returned: with O(jobs)
  type: list
  elements: dict
  contains:
    name:
      description: The node.
      type: str
    image:
      description: Its catalog entry, C(NAME@VERSION).
      type: str
    ok:
      description: Whether the image was entered into the catalog.
      type: bool
    error:
      description: Why not (empty when C(ok)).
      type: str
    entry:
      description: The catalog entry made (when C(ok)).
      type: dict
    seconds:
      description: How long the capture took, when the receiver said.
      type: float
    line:
      description: One line to show.
      type: str
lines:
  description: The results' lines.
  returned: with O(jobs)
  type: list
  elements: str
failed_nodes:
  description: The nodes not captured.
  returned: with O(jobs)
  type: list
  elements: str
error:
  description: One message naming every node not captured and why (empty when all were).
  returned: with O(jobs)
  type: str
'''
