# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import shutil
import threading

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _files as files
from ansible_collections.cluster.netboot.plugins.module_utils._errors import FileStateError, NetbootError


class FakeModule:
    """Only what atomic_write uses: AnsibleModule.atomic_move is a rename into place."""

    def atomic_move(self, src, dest, unsafe_writes=False):
        shutil.move(src, dest)


def test_atomic_write_replaces_content_and_leaves_no_temp(tmp_path):
    path = tmp_path / 'dhcpd.hosts.conf'
    path.write_bytes(b'old')
    files.atomic_write(FakeModule(), str(path), b'new', mode=0o640)
    assert path.read_bytes() == b'new'
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    assert os.listdir(tmp_path) == ['dhcpd.hosts.conf']


def test_atomic_symlink_replaces_a_link_in_place(tmp_path):
    link = tmp_path / '0A120112'
    files.atomic_symlink(str(link), 'imaging')
    assert files.read_link(str(link)) == 'imaging'
    files.atomic_symlink(str(link), 'harddisk')
    assert files.read_link(str(link)) == 'harddisk'
    assert sorted(os.listdir(tmp_path)) == ['0A120112']


def test_read_link_refuses_regular_files(tmp_path):
    regular = tmp_path / 'default'
    regular.write_text('default harddisk\n')
    assert files.read_link(str(tmp_path / 'missing')) is None
    with pytest.raises(FileStateError, match='is not a symlink'):
        files.read_link(str(regular))


@pytest.mark.parametrize('relative', ['../etc/passwd', '/etc/passwd', 'a/../../b', '..', '.', '', 'a\nb'])
def test_inside_refuses_escapes(tmp_path, relative):
    with pytest.raises(NetbootError):
        files.inside(str(tmp_path), relative, 'boot config')


def test_inside_allows_subdirectories(tmp_path):
    assert files.inside(str(tmp_path), 'x86_64/2.6.23-rc8', 'boot config') == str(tmp_path / 'x86_64' / '2.6.23-rc8')


def test_lock_serialises_read_modify_write(tmp_path):
    counter = tmp_path / 'counter'
    counter.write_text('0')
    lock = str(tmp_path / 'counter.lock')

    def bump():
        for _round in range(50):
            with files.locked(lock):
                value = int(counter.read_text())
                counter.write_text(str(value + 1))

    threads = [threading.Thread(target=bump) for _thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.read_text() == '200'


def test_lock_times_out_with_a_clear_error(tmp_path):
    lock = str(tmp_path / 'registry.lock')
    with files.locked(lock):
        result = []

        def contender():
            try:
                with files.locked(lock, timeout=0.2):
                    result.append('acquired')
            except FileStateError as exc:
                result.append(str(exc))

        thread = threading.Thread(target=contender)
        thread.start()
        thread.join()
    assert 'timed out' in result[0]


def test_text_diff_shape():
    assert files.text_diff(None, b'x\n', 'pxelinux.cfg/0A120112') == {
        'before': '', 'after': 'x\n',
        'before_header': 'pxelinux.cfg/0A120112', 'after_header': 'pxelinux.cfg/0A120112',
    }


def test_replace_file_swaps_content_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / 'receiver.json'
    target.write_text('old\n')
    files.replace_file(str(target), b'new\n', mode=0o600)
    assert target.read_bytes() == b'new\n'
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ['receiver.json']
