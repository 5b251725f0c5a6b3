#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: image_nodes_wait
short_description: Wait for an image_nodes round while printing progress, or settle the run's verdict
version_added: 0.1.0
description:
  - The waiting and verdict steps of the P(cluster.netboot.image_nodes#role) role, as an action plugin. One task
    waits for the whole round (no task per poll round). It runs the report receiver's C(wait) query on the
    target again and again (each blocks until a node finishes or O(poll) seconds pass) and prints every group's
    progress on the controller, until every node of the round is done, failed or timed out.
  - With O(finish=true) it settles the run instead - the rounds that ended count as they ended, the nodes of a
    round still under way (an interrupted run) count as failed - and returns one row per node from the
    attempt that counted, the table and the failed nodes.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
  - cluster.netboot.attributes.action
attributes:
  check_mode:
    support: none
  diff_mode:
    support: none
options:
  python:
    description: The Python on the target that runs O(program).
    type: str
    default: /usr/bin/python3
  program:
    description: The report receiver program on the target (C(imaging_reports.py)).
    type: str
    required: true
  dir:
    description: The run's directory on the target.
    type: str
    required: true
  poll:
    description: Longest pause between two progress prints, in seconds.
    type: int
    default: 15
  boot_timeout:
    description: A node without a report this many seconds after its reset failed.
    type: int
    default: 300
  timeout:
    description: A node not finished this many seconds after its reset failed.
    type: int
    default: 1800
  round:
    description: The round (the C(image_nodes_plan) fact or a RV(retry)); its C(attempt), C(nodes) and C(images).
    type: dict
    required: true
  power:
    description: The result of the round's M(cluster.netboot.node_power) reset; the nodes it failed are failed.
    type: dict
    default: {}
  attempts:
    description: The node states of the rounds that ended (the fact C(image_nodes__attempts) this plugin sets).
    type: list
    elements: list
    default: []
  retries:
    description: How many retries the run allows; with any, the table has an C(ATTEMPT) column.
    type: int
    default: 0
  finish:
    description: Settle the run's verdict instead of waiting.
    type: bool
    default: false
  power_nodes:
    description: With O(finish=true), the run's nodes as M(cluster.netboot.node_power) takes them; RV(ok_power)
      holds the imaged ones.
    type: list
    elements: dict
    default: []
'''

EXAMPLES = r'''
- name: Wait for every node to report, showing progress
  cluster.netboot.image_nodes_wait:
    program: /var/lib/cluster-netboot/image-nodes/imaging_reports.py
    dir: "{{ image_nodes_run_dir }}"
    round: "{{ image_nodes_plan }}"
  register: image_nodes__wait
'''

RETURN = r'''
failed_nodes:
  description: The nodes of the round that failed; with O(finish=true), the nodes of the run that were not imaged.
  returned: success
  type: list
  elements: str
retry:
  description: The round that retries RV(failed_nodes) (no nodes when none failed).
  returned: success, unless O(finish=true)
  type: dict
nodes:
  description: With O(finish=true), one state per node from the attempt that counted (C(attempt)).
  returned: success, with O(finish=true)
  type: list
  elements: dict
ok:
  description: How many nodes were imaged.
  returned: success
  type: int
attempts:
  description: With O(finish=true), how many rounds ran.
  returned: success, with O(finish=true)
  type: int
ok_power:
  description: The entries of O(power_nodes) of the imaged nodes.
  returned: success, with O(finish=true)
  type: list
  elements: dict
table:
  description: With O(finish=true), one row per node, then the failed nodes' reasons.
  returned: success, with O(finish=true)
  type: list
  elements: str
  sample:
    - GROUP    IMAGE      NODE   MAC                IP          PHASE  RESULT  SECONDS  RECEIVE  CHECKSUM  SECURE BOOT
    - group-a  lab-a.img  node1  52:54:00:00:00:11  10.66.0.11  done   ok      52       9        match     n/a
'''
