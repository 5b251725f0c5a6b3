# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The diskless roles refuse bad input before they touch the root tree or the exports.

(The diskless nodes themselves boot in the QEMU lab: tests/lab/test_diskless.py.)
"""

from __future__ import annotations

import typing as t


def test_bad_input_changes_nothing(run_playbook, tmp_path):
    """A bad layout or a bad client list fails the play before anything in the tree or exports changes."""
    tree = tmp_path / 'tree'
    for directory in ('etc', 'var/lib/dpkg', 'usr/sbin', 'usr/bin'):
        (tree / directory).mkdir(parents=True)
    (tree / 'etc/hostname').write_text('reference\n')
    (tree / 'var/lib/dpkg/status').write_text('Package: base-files\n')
    exports = tmp_path / 'exports'
    exports.write_text('/srv/other 10.0.0.0/8(ro)\n')

    def snapshot() -> dict[str, t.Any]:
        state: dict[str, t.Any] = {}
        for path in sorted([tree, *tree.rglob('*')]):
            stat = path.lstat()
            state[str(path)] = (stat.st_mode, path.read_bytes() if path.is_file() and not path.is_symlink() else None)
        state['exports'] = exports.read_bytes()
        return state

    before = snapshot()
    base = {'nfsroot_server_root': str(tree), 'nfsroot_server_source': 'existing', 'nfsroot_server_backend': 'kernel',
            'nfsroot_server_exports_file': str(exports), 'nfsroot_server_install_packages': False,
            'nfsroot_server_manage_service': False, 'diskless_node_root': str(tree)}
    play = [{'name': 'Bad input', 'hosts': 'localhost', 'gather_facts': False,
             'roles': ['cluster.netboot.nfsroot_server', 'cluster.netboot.diskless_node']}]
    for bad in ({'nfsroot_server_clients': []},
                {'nfsroot_server_clients': ['10.0.0.0/8 *(rw)']},
                {'nfsroot_server_clients': ['10.0.0.0/8'], 'nfsroot_server_node_files': ['/var/lib/x']},
                {'nfsroot_server_clients': ['10.0.0.0/8'], 'nfsroot_server_root': '/'}):
        result = run_playbook(play, extravars={**base, **bad})
        assert result.failed, bad
        assert result.task('Check the root tree, source and export settings').failed, bad
        assert snapshot() == before, bad
    # diskless_node checks its own input before it writes into the (already prepared) tree.
    diskless_play = [{'name': 'Bad layout', 'hosts': 'localhost', 'gather_facts': False,
                      'roles': ['cluster.netboot.diskless_node']}]
    for bad in ({'diskless_node_layout': [{'name': 'var', 'path': '/var'}, {'name': 'home', 'path': '/home'}]},
                {'diskless_node_layout': [{'name': 'var', 'path': 'var', 'size': '1G'}]},
                {'diskless_node_hosts': [{'name': 'n1', 'ip': '10.0.0.1'}, {'name': 'n1', 'ip': '10.0.0.2'}]},
                {'diskless_node_hosts': [{'name': 'n1\n10.6.6.6 evil', 'ip': '10.0.0.1'}]}):
        result = run_playbook(diskless_play, extravars={**base, **bad})
        assert result.failed, bad
        assert result.task('Check the layout and the host entries').failed, bad
        assert snapshot() == before, bad
