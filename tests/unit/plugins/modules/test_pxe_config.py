# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _bootconfig as bootconfig
from ansible_collections.cluster.netboot.plugins.modules import pxe_config
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils.test__files import age, kill_hard, start_stuck_writer
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import run_module, tree_digest

LABELS = [
    {'name': 'boel', 'kernel': 'linux-orbit-pxe-2.6.20.4', 'initrd': ['initramfs-orbit-pxe-2.0.0.gz'],
     'append': 'rw init=/sbin/init console=tty0 console=ttyS0,9600'},
    {'name': 'harddisk', 'localboot': 0},
]


@pytest.fixture
def root(tmp_path):
    (tmp_path / 'linux-orbit-pxe-2.6.20.4').write_bytes(b'kernel')
    (tmp_path / 'initramfs-orbit-pxe-2.0.0.gz').write_bytes(b'initrd')
    return tmp_path


def orbit(root, **extra):
    args = {'tftp_root': str(root), 'name': 'orbit-2.0.0', 'default': 'boel', 'prompt': 1, 'timeout': 1,
            'serial': '0 115200', 'labels': LABELS}
    args.update(extra)
    return args


def test_writes_the_config_then_is_idempotent(root):
    ended = run_module(pxe_config.main, orbit(root))
    path = root / 'pxelinux.cfg' / 'orbit-2.0.0'
    assert not ended.failed and ended.result['changed']
    assert ended.result['path'] == str(path)
    text = path.read_text()
    assert text.splitlines()[1:4] == ['SERIAL 0 115200', 'DEFAULT boel', 'PROMPT 1']
    assert '  INITRD initramfs-orbit-pxe-2.0.0.gz\n' in text and ended.result['content'] == text
    assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(os.listdir(root / 'pxelinux.cfg')) == ['orbit-2.0.0']
    inode = path.stat().st_ino
    again = run_module(pxe_config.main, orbit(root))
    assert not again.failed and not again.result['changed']
    assert path.stat().st_ino == inode


def test_check_mode_and_diff_write_nothing(root):
    before = tree_digest(root)
    ended = run_module(pxe_config.main, orbit(root), check_mode=True, diff=True)
    assert ended.result['changed']
    assert ended.result['diff']['before'] == '' and 'LABEL boel' in ended.result['diff']['after']
    assert tree_digest(root) == before


def test_diff_shows_the_changed_line(root):
    run_module(pxe_config.main, orbit(root))
    ended = run_module(pxe_config.main, orbit(root, timeout=50), diff=True)
    assert ended.result['changed']
    assert 'TIMEOUT 1\n' in ended.result['diff']['before'] and 'TIMEOUT 50\n' in ended.result['diff']['after']
    assert 'TIMEOUT 50\n' in (root / 'pxelinux.cfg' / 'orbit-2.0.0').read_text()


def test_wrong_mode_is_repaired(root):
    run_module(pxe_config.main, orbit(root))
    path = root / 'pxelinux.cfg' / 'orbit-2.0.0'
    path.chmod(0o600)
    ended = run_module(pxe_config.main, orbit(root))
    assert ended.result['changed'] and path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize('extra, message', [
    ({'name': '../escape'}, "no '/'"),
    ({'name': 'a/b'}, "no '/'"),
    ({'name': 'orbit..2'}, "no '..'"),
    ({'default': 'nothere'}, 'not one of the labels'),
    ({'labels': [{'name': 'boel', 'kernel': 'linux-orbit-pxe-2.6.20.4', 'append': 'quiet\nDEFAULT x'}]}, 'line break'),
    ({'serial': '0 115200\nUI evil.c32'}, 'line break'),
    ({'labels': [{'name': 'boel', 'kernel': 'vmlinuz-missing'}]}, 'vmlinuz-missing'),
    ({'labels': [{'name': 'boel', 'kernel': 'linux-orbit-pxe-2.6.20.4', 'initrd': ['gone.gz']}]}, 'gone.gz'),
    ({'labels': [{'name': 'boel', 'kernel': '../../etc/passwd'}]}, 'escapes'),
    ({'tftp_root': '/nonexistent/tftp'}, 'not a directory'),
])
def test_bad_input_fails_and_changes_nothing(root, extra, message):
    before = tree_digest(root)
    ended = run_module(pxe_config.main, orbit(root, **extra))
    assert ended.failed
    assert message in ended.result['msg']
    assert tree_digest(root) == before


def test_required_options_for_present(root):
    ended = run_module(pxe_config.main, {'tftp_root': str(root), 'name': 'x'})
    assert ended.failed and 'default' in ended.result['msg'] and 'labels' in ended.result['msg']


def test_validate_files_false_skips_the_file_check(root):
    ended = run_module(pxe_config.main, orbit(root, labels=[{'name': 'boel', 'kernel': 'later/vmlinuz'}],
                                              validate_files=False))
    assert not ended.failed and ended.result['changed']


def test_symlink_at_the_name_is_refused_unless_forced(root):
    run_module(pxe_config.main, orbit(root))
    cfg = root / 'pxelinux.cfg'
    os.symlink('orbit-2.0.0', cfg / 'default')
    before = tree_digest(root)
    args = {'tftp_root': str(root), 'name': 'default', 'default': 'harddisk', 'labels': [{'name': 'harddisk', 'localboot': 0}]}
    ended = run_module(pxe_config.main, args)
    assert ended.failed and 'symlink to orbit-2.0.0' in ended.result['msg']
    assert tree_digest(root) == before
    ended = run_module(pxe_config.main, dict(args, force=True))
    assert not ended.failed and ended.result['changed']
    assert not os.path.islink(cfg / 'default') and 'LOCALBOOT 0' in (cfg / 'default').read_text()
    assert 'LABEL boel' in (cfg / 'orbit-2.0.0').read_text()


def test_absent_removes_and_is_idempotent(root):
    run_module(pxe_config.main, orbit(root))
    ended = run_module(pxe_config.main, {'tftp_root': str(root), 'name': 'orbit-2.0.0', 'state': 'absent'}, diff=True)
    assert ended.result['changed'] and 'LABEL boel' in ended.result['diff']['before']
    assert os.listdir(root / 'pxelinux.cfg') == []
    again = run_module(pxe_config.main, {'tftp_root': str(root), 'name': 'orbit-2.0.0', 'state': 'absent'})
    assert not again.failed and not again.result['changed']


def test_absent_refuses_a_config_nodes_point_at(root):
    run_module(pxe_config.main, orbit(root))
    os.symlink('orbit-2.0.0', root / 'pxelinux.cfg' / '0A120112')
    before = tree_digest(root)
    args = {'tftp_root': str(root), 'name': 'orbit-2.0.0', 'state': 'absent'}
    ended = run_module(pxe_config.main, args)
    assert ended.failed and '0A120112' in ended.result['msg']
    assert tree_digest(root) == before
    ended = run_module(pxe_config.main, dict(args, force=True))
    assert ended.result['changed'] and sorted(os.listdir(root / 'pxelinux.cfg')) == ['0A120112']


def test_absent_in_check_mode_keeps_the_file(root):
    run_module(pxe_config.main, orbit(root))
    before = tree_digest(root)
    ended = run_module(pxe_config.main, {'tftp_root': str(root), 'name': 'orbit-2.0.0', 'state': 'absent'},
                       check_mode=True)
    assert ended.result['changed'] and tree_digest(root) == before


@pytest.mark.parametrize('which', ['kernel', 'initrd'])
def test_kernel_or_initrd_linked_out_of_the_root_is_refused(root, tmp_path_factory, which):
    """in.tftpd --secure answers File not found for a symlink out of its root: refuse it up front."""
    outside = tmp_path_factory.mktemp('outside') / 'file'
    outside.write_bytes(b'elsewhere')
    name = 'linux-orbit-pxe-2.6.20.4' if which == 'kernel' else 'initramfs-orbit-pxe-2.0.0.gz'
    (root / name).unlink()
    (root / name).symlink_to(outside)
    before = tree_digest(root)
    ended = run_module(pxe_config.main, orbit(root))
    assert ended.failed and 'outside' in ended.result['msg'] and name in ended.result['msg'], ended.result
    assert tree_digest(root) == before


def test_kernel_linked_inside_the_root_is_fine(root):
    (root / 'images').mkdir()
    (root / 'linux-orbit-pxe-2.6.20.4').rename(root / 'images' / 'vmlinuz')
    (root / 'linux-orbit-pxe-2.6.20.4').symlink_to('images/vmlinuz')
    ended = run_module(pxe_config.main, orbit(root))
    assert not ended.failed, ended.result['msg']


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_config_dir_linked_out_of_the_root_is_not_written_through(root, tmp_path_factory, state):
    outside = tmp_path_factory.mktemp('outside')
    (outside / 'orbit-2.0.0').write_text('DEFAULT old\n')
    (root / 'pxelinux.cfg').symlink_to(outside)
    before, outside_before = tree_digest(root), tree_digest(outside)
    ended = run_module(pxe_config.main, orbit(root, state=state))
    assert ended.failed and 'outside' in ended.result['msg'] and 'pxelinux.cfg' in ended.result['msg'], ended.result
    assert tree_digest(root) == before and tree_digest(outside) == outside_before


def test_config_dir_linked_inside_the_root_is_fine(root):
    (root / 'configs').mkdir()
    (root / 'pxelinux.cfg').symlink_to('configs')
    ended = run_module(pxe_config.main, orbit(root))
    assert not ended.failed, ended.result['msg']
    assert (root / 'configs' / 'orbit-2.0.0').is_file()


def test_killed_runs_temp_pointer_is_no_user_and_is_removed(root):
    """kill -9 between symlink and rename leaves .<pointer>.<hex>.tmp: it must not block state=absent."""
    run_module(pxe_config.main, orbit(root))
    child = start_stuck_writer('link', root / 'pxelinux.cfg' / '0A120112')
    kill_hard(child)
    [temp] = [name for name in os.listdir(root / 'pxelinux.cfg') if name.startswith('.')]
    assert os.readlink(root / 'pxelinux.cfg' / temp) == 'imaging'
    os.unlink(root / 'pxelinux.cfg' / temp)
    os.symlink('orbit-2.0.0', root / 'pxelinux.cfg' / temp)
    args = {'tftp_root': str(root), 'name': 'orbit-2.0.0', 'state': 'absent'}
    before = tree_digest(root)
    ended = run_module(pxe_config.main, args, check_mode=True)
    assert not ended.failed and ended.result['changed'], ended.result.get('msg')
    assert tree_digest(root) == before
    ended = run_module(pxe_config.main, args)
    assert not ended.failed and ended.result['changed'], ended.result.get('msg')
    assert os.listdir(root / 'pxelinux.cfg') == []


def test_killed_runs_temp_config_is_removed_by_the_next_write(root):
    (root / 'pxelinux.cfg').mkdir()
    child = start_stuck_writer('file', root / 'pxelinux.cfg' / 'orbit-2.0.0')
    kill_hard(child)
    [temp] = os.listdir(root / 'pxelinux.cfg')
    age(root / 'pxelinux.cfg' / temp)
    run_module(pxe_config.main, orbit(root), check_mode=True)
    assert os.listdir(root / 'pxelinux.cfg') == [temp]
    ended = run_module(pxe_config.main, orbit(root))
    assert not ended.failed and os.listdir(root / 'pxelinux.cfg') == ['orbit-2.0.0']


def for_loader(root, loader, **extra):
    """The orbit spec without PXELINUX's PROMPT, which GRUB and iPXE refuse."""
    args = orbit(root, loader=loader, **extra)
    if 'prompt' not in extra:
        del args['prompt']
    return args


@pytest.mark.parametrize('loader, first_line', [('grub', '# Managed'), ('ipxe', '#!ipxe')])
def test_grub_and_ipxe_configs_go_to_their_directory(root, loader, first_line):
    args = for_loader(root, loader)
    ended = run_module(pxe_config.main, args)
    assert not ended.failed and ended.result['changed'], ended.result
    path = root / loader / 'orbit-2.0.0'
    assert ended.result['path'] == str(path)
    assert path.read_text() == ended.result['content']
    assert ended.result['content'].startswith(first_line)
    assert '/linux-orbit-pxe-2.6.20.4' in ended.result['content']
    assert not (root / 'pxelinux.cfg').exists()
    assert not run_module(pxe_config.main, args).result['changed']


@pytest.mark.parametrize('loader, extra, message', [
    ('grub', {'prompt': 1}, 'PXELINUX only'),
    ('ipxe', {'labels': [{'name': 'boel', 'kernel': 'linux-orbit-pxe-2.6.20.4', 'append': 'root=${x}'}]}, 'iPXE'),
    ('grub', {'labels': [{'name': 'boel', 'kernel': 'linux-orbit-pxe-2.6.20.4', 'append': "a'b"}]}, 'single quote'),
    ('ipxe', {'labels': [{'name': 'boel', 'kernel': 'vmlinuz-missing'}]}, 'vmlinuz-missing'),
    ('grub', {'labels': [{'name': 'boel', 'kernel': '../../etc/passwd'}]}, 'escapes'),
])
def test_grub_and_ipxe_bad_input_changes_nothing(root, loader, extra, message):
    assert not run_module(pxe_config.main, for_loader(root, loader)).failed
    before = tree_digest(root)
    ended = run_module(pxe_config.main, for_loader(root, loader, **extra))
    assert ended.failed
    assert message in ended.result['msg']
    assert tree_digest(root) == before


def write_default(root, loader):
    """What the tftp_server role writes before the dispatcher: the config nodes without a pointer boot."""
    args = {'tftp_root': str(root), 'name': 'default', 'loader': loader, 'default': 'harddisk',
            'labels': [{'name': 'harddisk', 'localboot': 0}]}
    assert not run_module(pxe_config.main, args).failed


@pytest.mark.parametrize('loader, name, text', [
    ('grub', 'grub.cfg', bootconfig.GRUB_DISPATCHER),
    ('ipxe', 'boot.ipxe', bootconfig.IPXE_DISPATCHER),
])
def test_dispatcher_is_written_idempotently_with_check_and_diff(root, loader, name, text):
    write_default(root, loader)
    args = {'tftp_root': str(root), 'loader': loader, 'dispatcher': True}
    before = tree_digest(root)
    checked = run_module(pxe_config.main, args, check_mode=True, diff=True)
    assert not checked.failed and checked.result['changed'], checked.result
    assert checked.result['diff']['after'] == text and tree_digest(root) == before
    ended = run_module(pxe_config.main, args)
    path = root / loader / name
    assert not ended.failed and ended.result['changed'] and ended.result['path'] == str(path)
    assert path.read_text() == text and path.stat().st_mode & 0o777 == 0o644
    assert not run_module(pxe_config.main, args).result['changed']
    removed = run_module(pxe_config.main, dict(args, state='absent'))
    assert removed.result['changed'] and not path.exists() and (root / loader / 'default').exists()


@pytest.mark.parametrize('extra, message', [
    ({'loader': 'pxelinux'}, 'PXELINUX asks for its per-node files itself'),
    ({'name': 'grub.cfg'}, 'takes none of name, default'),
    ({'default': 'harddisk', 'labels': [{'name': 'harddisk', 'localboot': 0}]}, '(got default, labels)'),
    ({'loader': 'ipxe'}, 'ipxe/default'),
    ({}, 'grub/default'),
])
def test_dispatcher_bad_input_changes_nothing(root, extra, message):
    """Options the fixed dispatcher does not take, or no default config for it to fall back to."""
    before = tree_digest(root)
    ended = run_module(pxe_config.main, dict({'tftp_root': str(root), 'loader': 'grub', 'dispatcher': True}, **extra))
    assert ended.failed and message in ended.result['msg'], ended.result
    assert tree_digest(root) == before


def test_dispatcher_without_default_when_file_checks_are_off(root):
    ended = run_module(pxe_config.main, {'tftp_root': str(root), 'loader': 'grub', 'dispatcher': True,
                                         'validate_files': False})
    assert not ended.failed and (root / 'grub' / 'grub.cfg').read_text() == bootconfig.GRUB_DISPATCHER


def test_name_is_required_without_dispatcher(root):
    ended = run_module(pxe_config.main, {'tftp_root': str(root), 'default': 'x', 'labels': LABELS})
    assert ended.failed and 'name' in ended.result['msg']
