# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

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


# A writer that stops half-way, as a run does when it is killed there: the temporary
# name exists, the rename has not happened. The parent kills it with SIGKILL.
STUCK_WRITER = r'''
import os, sys, time
from ansible_collections.cluster.netboot.plugins.module_utils import _files

def stop_here(*args, **kwargs):
    print('ready', flush=True)
    time.sleep(600)

class Module:
    atomic_move = staticmethod(stop_here)

kind, path = sys.argv[1], sys.argv[2]
if kind == 'file':
    _files.atomic_write(Module(), path, b'new content')
else:
    with _files.locked_directory(os.path.dirname(os.path.dirname(path))):
        os.replace = stop_here
        _files.atomic_symlink(path, 'imaging')
'''


def start_stuck_writer(kind, path):
    """Start STUCK_WRITER and wait until it holds its temporary name; the caller kills it."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, '-c', STUCK_WRITER, kind, str(path)], env=env,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == 'ready\n', 'the writer did not get to its temporary name'
    return child


def kill_hard(child):
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()


def age(path, seconds=files.TEMP_GRACE + 60):
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_temp_file_of_a_live_run_is_kept_and_of_a_killed_run_removed(tmp_path):
    child = start_stuck_writer('file', tmp_path / 'dhcpd.hosts.conf')
    try:
        [temp] = os.listdir(tmp_path)
        assert files.is_temp_name(temp)
        age(tmp_path / temp)
        # Old, but its run is alive (it holds the file's lock): never removed.
        assert files.remove_leftover_files(str(tmp_path)) == []
        assert os.listdir(tmp_path) == [temp]
    finally:
        kill_hard(child)
    assert os.listdir(tmp_path) == [temp]
    # The next write in that directory removes it.
    files.atomic_write(FakeModule(), str(tmp_path / 'dhcpd.hosts.conf'), b'content')
    assert os.listdir(tmp_path) == ['dhcpd.hosts.conf']


def test_only_old_unlocked_temp_files_of_our_pattern_are_removed(tmp_path):
    for name in ('.cluster-netboot-old_0001', '.cluster-netboot-young001', '.cluster-netboot-notours', 'other.conf'):
        (tmp_path / name).write_text('x')
    age(tmp_path / '.cluster-netboot-old_0001')
    age(tmp_path / '.cluster-netboot-notours')
    age(tmp_path / 'other.conf')
    assert files.remove_leftover_files(str(tmp_path)) == ['.cluster-netboot-old_0001']
    assert sorted(os.listdir(tmp_path)) == ['.cluster-netboot-notours', '.cluster-netboot-young001', 'other.conf']


def test_temp_link_of_a_killed_run_is_removed_by_the_next_lock_holder(tmp_path):
    cfg = tmp_path / 'pxelinux.cfg'
    cfg.mkdir()
    child = start_stuck_writer('link', cfg / '0A120112')
    try:
        [temp] = os.listdir(cfg)
        assert temp.startswith('.0A120112.') and files.is_temp_name(temp)
        # While the run lives it holds the lock: nobody gets to clean up.
        with pytest.raises(FileStateError, match='timed out'):
            with files.locked_directory(str(tmp_path), timeout=0.2):
                pass
    finally:
        kill_hard(child)
    (cfg / 'imaging').write_text('DEFAULT imaging\n')
    os.symlink('imaging', cfg / '0A120113')
    with files.locked_directory(str(tmp_path)) as since:
        assert files.remove_leftover_links(str(cfg), since) == [temp]
    assert sorted(os.listdir(cfg)) == ['0A120113', 'imaging']


def test_temp_link_made_after_the_lock_was_taken_is_kept(tmp_path):
    with files.locked_directory(str(tmp_path)) as since:
        os.symlink('imaging', tmp_path / ('.0A120112.%s.tmp' % ('ab' * 8)))
        os.utime(tmp_path / ('.0A120112.%s.tmp' % ('ab' * 8)), (since + 1, since + 1), follow_symlinks=False)
        assert files.remove_leftover_links(str(tmp_path), since) == []


def test_resolve_inside_follows_links(tmp_path):
    (tmp_path / 'root').mkdir()
    (tmp_path / 'outside').write_text('x')
    (tmp_path / 'root' / 'in').write_text('x')
    (tmp_path / 'root' / 'alias').symlink_to('in')
    (tmp_path / 'root' / 'escape').symlink_to(tmp_path / 'outside')
    root = str(tmp_path / 'root')
    assert files.resolve_inside(root, os.path.join(root, 'alias'), 'kernel') == os.path.join(root, 'in')
    with pytest.raises(FileStateError, match='kernel .*escape resolves to .*outside, outside '):
        files.resolve_inside(root, os.path.join(root, 'escape'), 'kernel')
    # A sibling whose name starts like the root is outside too.
    (tmp_path / 'root2').mkdir()
    with pytest.raises(FileStateError):
        files.resolve_inside(root, str(tmp_path / 'root2'), 'x')


def test_replace_file_swaps_content_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / 'receiver.json'
    target.write_text('old\n')
    files.replace_file(str(target), b'new\n', mode=0o600)
    assert target.read_bytes() == b'new\n'
    assert target.stat().st_mode & 0o777 == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ['receiver.json']


def test_remove_leftovers_lists_the_directory_once_for_links_and_files(tmp_path, monkeypatch):
    link, temp = '.0A120112.%s.tmp' % ('cd' * 8), '.cluster-netboot-old_0002'
    os.symlink('imaging', tmp_path / link)
    (tmp_path / temp).write_text('x')
    (tmp_path / '.hidden-but-ours-not').write_text('x')
    for name in (link, temp):
        then = os.lstat(tmp_path / name).st_mtime - 3600
        os.utime(tmp_path / name, (then, then), follow_symlinks=False)
    listings = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, 'listdir', lambda path: listings.append(path) or real_listdir(path))
    monkeypatch.setattr(os, 'scandir', None)  # not used any more
    assert files.remove_leftovers(str(tmp_path), time.time()) == [link, temp]
    assert listings == [str(tmp_path)]
    assert real_listdir(tmp_path) == ['.hidden-but-ours-not']
    assert files.remove_leftovers(str(tmp_path / 'missing'), time.time()) == []


class _Ended(Exception):
    pass


class _Module:
    """What exit_module uses of an AnsibleModule: _diff, exit_json and fail_json (both end the module)."""

    def __init__(self, diff):
        self._diff = diff

    def exit_json(self, **result):
        raise _Ended('exit', result)

    def fail_json(self, **result):
        raise _Ended('fail', result)


@pytest.mark.parametrize('diff, expected', [
    (True, {'changed': True, 'diff': {'before': 'a', 'after': 'b'}}),
    (False, {'changed': True}),
])
def test_exit_module_keeps_the_diff_only_when_asked(diff, expected):
    with pytest.raises(_Ended) as ended:
        files.exit_module(_Module(diff), lambda: {'changed': True, 'diff': {'before': 'a', 'after': 'b'}})
    assert ended.value.args == ('exit', expected)


def test_exit_module_without_a_diff_and_on_a_domain_error():
    with pytest.raises(_Ended) as ended:
        files.exit_module(_Module(False), lambda: {'changed': False})
    assert ended.value.args == ('exit', {'changed': False})

    def refuse():
        raise FileStateError('/srv/tftp is not a directory')
    with pytest.raises(_Ended) as ended:
        files.exit_module(_Module(True), refuse)
    assert ended.value.args == ('fail', {'msg': '/srv/tftp is not a directory'})
