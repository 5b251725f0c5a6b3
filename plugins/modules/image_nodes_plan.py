#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: image_nodes_plan
short_description: Work out which node gets which image, in which session, for the image_nodes role
version_added: 0.1.0
description:
  - The planning step of the P(cluster.netboot.image_nodes#role) role, as an action plugin. It runs on the
    controller, where the inventory is, and reads the image files on the target (the console) with
    M(ansible.builtin.stat), one call per image.
  - Turns O(groups) into one record per node (inventory hosts, inventory groups, NodeSet ranges of inventory
    hosts, or explicit nodes; the MAC, IP, target disk and power fields of inventory hosts come from their
    host variables), gives every image its session parameters (size and sha256 the disk must end up with,
    the name of its imaging config) and names the run.
  - Every problem is named at once and nothing is returned when there is one (no nodes, a group without
    image or nodes, an unknown inventory group, a node in two groups, nodes without MAC or IP, one image with
    two backends or two target disks, an image that is not a regular file on the target, or no
    O(server_address)).
  - Sets the fact C(image_nodes_plan) (the same as RV(plan)).
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
  - cluster.netboot.attributes.action
attributes:
  check_mode:
    support: full
    details: It reads and changes nothing else in check mode either.
  diff_mode:
    support: none
options:
  groups:
    description:
      - The groups, as O(cluster.netboot.image_nodes#role:main:image_nodes_groups) of the role describes them;
        each has an C(image) path on the target and optionally C(sha256), C(size) and C(raw_image).
    type: list
    elements: dict
    required: true
  backend:
    description: The backend of a group that names none.
    type: str
    default: udpcast
    choices: [udpcast, frisbee]
  disk:
    description: The target disk of a node for which neither the node, its host nor its group names one.
    type: str
    default: /dev/sda
  server_address:
    description: The console's address on the nodes' network; the plan refuses to go on without it.
    type: str
    default: ''
  catalog_results:
    description:
      - The results of M(cluster.netboot.image_catalog) with C(state=verified), one per catalog reference
        (C(NAME) or C(NAME@VERSION)) a group names as its image. Such a group is served the unpacked file,
        and its nodes check their disks against the catalog's size and sha256.
    type: list
    elements: dict
    default: []
'''

EXAMPLES = r'''
- name: Work out which node gets which image
  cluster.netboot.image_nodes_plan:
    groups:
      - name: compute
        image: /srv/images/compute.img
        nodeset: node[001-400]
    server_address: 10.18.0.1
'''

RETURN = r'''
plan:
  description: The plan; its first round is the plan itself.
  returned: success
  type: dict
  contains:
    run_id:
      description: This run's id (UTC time and a random part).
      type: str
    token:
      description: A random token for the report URL.
      type: str
    attempt:
      description: The round's attempt number (1).
      type: int
    names:
      description: The names of the nodes, in the groups' order.
      type: list
      elements: str
    nodes:
      description: One record per node (name, mac, ip, group, image, backend, disk, sha256, size, raw_image, power).
      type: list
      elements: dict
    images:
      description: One entry per image (image, backend, disk, size, sha256, config, nodes, pointers).
      type: list
      elements: dict
    all_images:
      description: The images without their nodes.
      type: list
      elements: dict
    hosts:
      description: The nodes as M(cluster.netboot.dhcpd_host) and M(cluster.netboot.pxe_boot) take them.
      type: list
      elements: dict
    power:
      description: The nodes as M(cluster.netboot.node_power) takes them.
      type: list
      elements: dict
    records:
      description: What the report receiver needs of every node.
      type: list
      elements: dict
    summary:
      description: One line saying what would be imaged.
      type: str
  sample:
    run_id: 20260101T120000-a1b2c3
'''
