# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible_collections.cluster.netboot.plugins.module_utils import _imports

# A fresh interpreter, as AnsiballZ starts for every task: what does pxe_boot's
# common path (a CSV node file, canonical addresses, an unchanged tree) import?
POINTER_RUN = '''
import json, os, sys
from ansible_collections.cluster.netboot.plugins.module_utils import _files, _nodes, _pxe
root = sys.argv[1]
records = _nodes.load(nodes_file=os.path.join(root, 'nodes.csv'))
_nodes.check_unique(records)
for key in ('ip', 'mac'):
    plan = _pxe.plan_pointers(root, records, key, 'orbit', 'present')
    _pxe.apply_pointers(plan)
    _pxe.report(plan)
    _pxe.pointer_diff(root, plan)
print(json.dumps(sorted(name for name in ('netaddr', 'ClusterShell') if name in sys.modules)))
'''


def test_a_library_that_is_there_is_found_without_importing_it():
    assert 'cnb_fake_library' not in sys.modules
    assert _imports.probe('json') == (True, None)


def test_a_missing_library_gives_its_import_error():
    present, error = _imports.probe('cnb_no_such_library')
    assert not present
    assert "ModuleNotFoundError: No module named 'cnb_no_such_library'" in error


def test_the_pointer_path_imports_neither_netaddr_nor_clustershell(tmp_path):
    (tmp_path / 'pxelinux.cfg').mkdir()
    (tmp_path / 'pxelinux.cfg' / 'orbit').write_text('DEFAULT orbit\n')
    (tmp_path / 'nodes.csv').write_text('name,ip,mac\n'
                                        + ''.join('node%d,10.18.1.%d,00:0d:b9:0a:12:%02x\n' % (number, number, number)
                                                  for number in range(1, 41)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, '-c', POINTER_RUN, str(tmp_path)], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert len(os.listdir(tmp_path / 'pxelinux.cfg')) == 81


def test_the_libraries_are_imported_when_a_path_needs_them():
    from ansible_collections.cluster.netboot.plugins.module_utils import _addresses, _nodeset
    assert _addresses.parse_ipv4(' 10.18.1.18 ') == '10.18.1.18'  # not canonical: netaddr reads it
    assert _nodeset.expand('node[1-2]') == ['node1', 'node2']
    assert 'netaddr' in sys.modules and 'ClusterShell.NodeSet' in sys.modules
    assert _nodeset.NodeSet is sys.modules['ClusterShell.NodeSet'].NodeSet
