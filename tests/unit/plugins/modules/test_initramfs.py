# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
from unittest import mock

import pytest
from ansible.module_utils import basic

from ansible_collections.cluster.netboot.plugins.modules import initramfs
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils.ramdisk_fake import KERNEL, FakeConsole
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import run_module, tree_digest


@pytest.fixture
def console(tmp_path):
    return FakeConsole(tmp_path / 'console')


@pytest.fixture
def args(tmp_path, console):
    (tmp_path / 'init').write_text('#!/bin/sh\n')
    (tmp_path / 'hook').write_text('#!/bin/sh\n')
    return {'dest': str(tmp_path / 'out'), 'work_dir': str(tmp_path / 'work'), 'init': str(tmp_path / 'init'),
            'files': [{'src': str(tmp_path / 'hook'), 'dest': '/etc/udhcpc.script'}],
            'binaries': [{'package': 'udpcast', 'path': '/usr/bin/udp-receiver'}],
            'modules': ['virtio_net'], 'deb_dir': str(console.debs)}


def run(console, args, **kwargs):
    def run_command(_self, argv, **options):
        return console.run(argv, cwd=options.get('cwd'))
    with mock.patch.object(basic.AnsibleModule, 'run_command', run_command):
        return run_module(initramfs.main, args, **kwargs)


def test_build_then_nothing_to_do(console, args):
    first = run(console, args)
    assert not first.failed, first.result
    assert first.result['changed']
    assert first.result['kernel_package'] == KERNEL
    assert first.result['initrd'] == os.path.join(args['dest'], 'initramfs.gz')
    assert first.result['initrd_sha256']
    again = run(console, args)
    assert not again.failed and not again.result['changed']
    assert again.result['initrd_sha256'] == first.result['initrd_sha256']
    forced = run(console, dict(args, force=True))
    assert forced.result['changed'] and forced.result['initrd_sha256'] == first.result['initrd_sha256']


def test_check_mode_writes_nothing_and_diff_shows_the_inputs(console, args, tmp_path):
    before = tree_digest(str(tmp_path))
    checked = run(console, args, check_mode=True, diff=True)
    assert not checked.failed, checked.result
    assert checked.result['changed']
    assert 'initrd_sha256' not in checked.result
    assert 'modules virtio_net\n' in checked.result['diff']['after'] and checked.result['diff']['before'] == ''
    assert not os.path.exists(args['dest']) and not os.path.exists(args['work_dir'])
    assert tree_digest(str(tmp_path)) == before
    assert not console.called('apt-get') and not [argv for argv in console.called('dpkg-deb') if argv[1] == '-x']

    run(console, args)
    built = tree_digest(args['dest'])
    checked = run(console, dict(args, modules=['virtio_net', 'ext4']), check_mode=True, diff=True)
    assert checked.result['changed']
    assert 'modules virtio_net\n' in checked.result['diff']['before']
    assert 'modules virtio_net ext4\n' in checked.result['diff']['after']
    assert tree_digest(args['dest']) == built
    unchanged = run(console, args, check_mode=True)
    assert not unchanged.result['changed'] and unchanged.result['initrd_sha256']


@pytest.mark.parametrize('change, message', [
    ({'files': [{'src': '/etc/hostname', 'dest': '/etc/x', 'mode': '07x5'}]}, 'not an octal number'),
    ({'initrd_name': 'a/b'}, 'plain file name'),
    ({'modules': ['no such']}, 'plain words'),
    ({'modules': ['e1000e']}, 'module e1000e is not in'),
])
def test_bad_input_fails_and_changes_nothing(console, args, change, message, tmp_path):
    run(console, args)
    before = tree_digest(args['dest'])
    failed = run(console, dict(args, **change))
    assert failed.failed and message in failed.result['msg'], failed.result
    assert tree_digest(args['dest']) == before
