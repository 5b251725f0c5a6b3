# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""capture_image refuses bad input in its plan, with a clear error, before it creates or starts anything.

(The captures themselves run in the Kea lab: tests/lab/catalog_case.sh.)
"""

from __future__ import annotations

import json
import typing as t

import pytest

PLAN_TASK = 'Work out which node goes to which catalog entry'
GOOD = {'node': 'node1', 'image': 'base@v2', 'mac': '52:54:00:00:00:11', 'ip': '10.0.0.11'}


@pytest.mark.parametrize('nodes, message', [
    ([dict(GOOD, mac='01:00:5e:00:00:02')], "capture_image_nodes[0] (node1): MAC address '01:00:5e:00:00:02' is a "
                                            'multicast address'),
    ([dict(GOOD, ip='10.0.0.0.1')], "capture_image_nodes[0] (node1): invalid IPv4 address '10.0.0.0.1'"),
    ([dict(GOOD, disk='sda')], "capture_image_nodes[0] (node1): disk 'sda' must be an absolute device path"),
    ([dict(GOOD, imgae='x@1')], 'capture_image_nodes[0]: unknown key(s) imgae'),
    ([GOOD, dict(GOOD, node='node2', image='base@v3')], 'duplicate ip 10.0.0.11: node1'),
    ([dict(GOOD, image='base@v1')], 'already in the catalog %(catalog)s: base@v1 (give another version, or '
                                    'capture_image_force)'),
])
def test_bad_input_is_refused_by_the_plan_and_changes_nothing(run_playbook, tmp_path, nodes, message):
    catalog = tmp_path / 'catalog' / 'catalog.json'
    catalog.parent.mkdir()
    catalog.write_text(json.dumps({'catalog': 1, 'images': [{
        'name': 'base', 'version': 'v1', 'file': str(tmp_path / 'catalog' / 'base@v1.img'), 'compression': 'none',
        'size': 0, 'sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'file_size': 0,
        'file_sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'source_node': 'n',
        'created': '2026-01-01T00:00:00Z', 'created_by': 'root'}]}))

    def snapshot() -> dict[str, t.Any]:
        return {str(path): path.read_bytes() if path.is_file() else None for path in sorted(tmp_path.rglob('*'))
                if 'playbook-' not in str(path)}

    before = snapshot()
    play = [{'name': 'Bad input', 'hosts': 'localhost', 'gather_facts': False,
             'roles': ['cluster.netboot.capture_image']}]
    result = run_playbook(play, extravars={
        'capture_image_nodes': nodes, 'capture_image_server_address': '10.0.0.1',
        'capture_image_catalog': str(catalog), 'capture_image_images_dir': str(tmp_path / 'images'),
        'capture_image_state_dir': str(tmp_path / 'state'), 'capture_image_tftp_root': str(tmp_path / 'tftp')})
    assert result.failed, result
    assert result.task(PLAN_TASK).failed, result
    assert message % {'catalog': catalog} in result.task(PLAN_TASK)['msg']
    assert snapshot() == before
