# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The example inventories under inventories/examples, through the real ansible-inventory.

Runs from an empty directory (no ansible.cfg) with the working tree as the only
collection path, so the cluster.netboot.nodes plugin is reached the way an
operator reaches it: through the auto plugin, or named in enable_plugins.
The collections_path fixture comes from conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / 'inventories' / 'examples'
BIN = Path(sys.executable).parent


@pytest.fixture
def ansible_inventory(collections_path, tmp_path):
    def run(source, *args, enable_plugins=None):
        env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
        env.update(ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR='1', ANSIBLE_HOME=str(tmp_path / 'home'),
                   ANSIBLE_INVENTORY_UNPARSED_FAILED='1')
        if enable_plugins:
            env['ANSIBLE_INVENTORY_ENABLED'] = enable_plugins
        result = subprocess.run([str(BIN / 'ansible-inventory'), '-i', str(source), *args], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        # A data file read as an INI inventory, or a plugin that failed, shows up here.
        assert '[WARNING]' not in result.stderr, result.stderr
        return result.stdout
    return run


def plain(value):
    """ansible-core 2.19 marks strings an inventory plugin computed as unsafe in --list output."""
    if isinstance(value, dict) and set(value) == {'__ansible_unsafe'}:
        return value['__ansible_unsafe']
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    return value


def hostvars_of(listing_text):
    return plain(json.loads(listing_text)['_meta']['hostvars'])


def graph_lines(text):
    return [line.rstrip() for line in text.splitlines() if line.strip()]


SANDBOX_GRAPH = '''\
@all:
  |--@ungrouped:
  |--@console:
  |  |--console.sb8
  |--@nodes:
  |  |--@sb8:
  |  |  |--node1-1.sb8
  |  |  |--node1-2.sb8
  |  |--@xcpu:
  |  |  |--n8
  |  |  |--n9
  |  |  |--n10
  |  |  |--n11
'''


@pytest.mark.parametrize('source', ['sandbox', 'sandbox/sandbox.netboot.yml'])
def test_sandbox_graph(ansible_inventory, source):
    assert graph_lines(ansible_inventory(EXAMPLES / source, '--graph')) == graph_lines(SANDBOX_GRAPH)


def test_sandbox_host_variables(ansible_inventory):
    hostvars = hostvars_of(ansible_inventory(EXAMPLES / 'sandbox', '--list'))
    assert hostvars['node1-2.sb8']['ansible_host'] == '10.18.1.2'
    assert hostvars['node1-2.sb8']['mac'] == '02:18:01:02:00:01'
    assert hostvars['node1-2.sb8']['image'] == 'baseline-2.0'
    assert (hostvars['node1-2.sb8']['x'], hostvars['node1-2.sb8']['y']) == (1, 2)
    assert hostvars['n10']['ip'] == '10.18.2.10'
    assert hostvars['n10']['mac'] == '02:18:02:0a:00:01'
    assert hostvars['n10']['image'] == 'xcpu2-initrd'
    assert hostvars['console.sb8']['ansible_connection'] == 'local'


def test_grid_groups(ansible_inventory):
    graph = graph_lines(ansible_inventory(EXAMPLES / 'grid', '--graph'))
    top_level = [line for line in graph if line.startswith('  |--@')]
    assert top_level == ['  |--@ungrouped:', '  |--@console:', '  |--@grid:', '  |--@grid_row1:',
                         '  |--@image_experiment_7_ndz:', '  |--@image_baseline_2_0:']
    assert '  |  |--@grid_batch1:' in graph


def test_grid_hosts_and_variables(ansible_inventory):
    text = ansible_inventory(EXAMPLES / 'grid', '--list')
    listing = json.loads(text)
    hostvars = hostvars_of(text)
    grid = set(listing['grid']['hosts']) | set(listing['grid_batch1']['hosts'])
    assert len(grid) == 400
    assert sorted(listing['grid_batch1']['hosts']) == ['node1-1.grid', 'node1-2.grid', 'node2-5.grid',
                                                       'node20-20.grid', 'node3-7.grid']
    assert len(listing['grid_row1']['hosts']) == 20
    assert len(listing['image_experiment_7_ndz']['hosts']) == 5
    assert len(listing['image_baseline_2_0']['hosts']) == 395
    for name in grid:
        variables = hostvars[name]
        assert name == 'node%d-%d.grid' % (variables['x'], variables['y'])
        assert variables['ansible_host'] == variables['ip'] == '10.10.%d.%d' % (variables['x'], variables['y'])
        assert variables['mac'] == '02:10:00:00:%02x:%02x' % (variables['x'], variables['y'])
    # The batch is a child of grid: its image wins for its five hosts.
    assert hostvars['node3-7.grid']['image'] == 'experiment-7.ndz'
    assert hostvars['node3-8.grid']['image'] == 'baseline-2.0'


@pytest.mark.parametrize('example', ['sandbox', 'grid'])
def test_plugin_named_in_enable_plugins(ansible_inventory, example):
    # Without auto: the plugin itself enabled, as an ansible.cfg [inventory] enable_plugins would.
    default = ansible_inventory(EXAMPLES / example, '--graph')
    assert ansible_inventory(EXAMPLES / example, '--graph', enable_plugins='cluster.netboot.nodes') == default
