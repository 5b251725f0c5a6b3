# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import gzip
import hashlib
import json

import pytest

from ansible_collections.cluster.netboot.plugins.modules import image_catalog
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import run_module, tree_digest

DISK = b'disk bytes ' * 100000


@pytest.fixture
def tree(tmp_path):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'images' / 'compute-1.img.gz').write_bytes(gzip.compress(DISK))
    (tmp_path / 'images' / 'other.img').write_bytes(b'another disk')
    return tmp_path


def add(tree, **extra):
    args = {'path': str(tree / 'catalog.json'), 'state': 'present', 'image': 'compute@1',
            'file': str(tree / 'images' / 'compute-1.img.gz'), 'source_node': 'node-a1'}
    args.update(extra)
    return run_module(image_catalog.main, args)


def test_present_adds_the_entry_once(tree):
    ended = add(tree)
    assert not ended.failed and ended.result['changed']
    image = ended.result['image']
    assert image['compression'] == 'gzip' and image['sha256'] == hashlib.sha256(DISK).hexdigest()
    assert image['size'] == len(DISK) and image['source_node'] == 'node-a1'
    text = (tree / 'catalog.json').read_bytes()
    again = add(tree)
    assert not again.failed and not again.result['changed']
    assert (tree / 'catalog.json').read_bytes() == text


def test_an_existing_version_is_not_replaced_unless_forced(tree):
    add(tree)
    before = tree_digest(tree)
    ended = add(tree, file=str(tree / 'images' / 'other.img'))
    assert ended.failed and 'compute@1 is already in the catalog' in ended.result['msg']
    assert tree_digest(tree) == before
    forced = add(tree, file=str(tree / 'images' / 'other.img'), force=True)
    assert not forced.failed and forced.result['image']['compression'] == 'none'


def test_check_mode_and_diff_write_nothing(tree):
    before = tree_digest(tree)
    ended = run_module(
        image_catalog.main, {'path': str(tree / 'catalog.json'), 'state': 'present', 'image': 'compute@1',
                             'file': str(tree / 'images' / 'compute-1.img.gz')}, check_mode=True, diff=True)
    assert ended.result['changed'] and ended.result['diff']['before'] == ''
    assert '"compute"' in ended.result['diff']['after']
    assert tree_digest(tree) == before


def test_bad_input_changes_nothing(tree):
    add(tree)
    before = tree_digest(tree)
    for args in ({'image': 'compute'}, {'image': 'a/b@1'}, {'file': str(tree / 'missing.img')},
                 {'file': 'relative.img'}):
        ended = add(tree, **args)
        assert ended.failed, args
    assert tree_digest(tree) == before


def test_verified_fails_naming_the_image_of_a_corrupted_file_and_unpacks_a_good_one(tree):
    add(tree)
    unpacked = tree / 'unpacked'
    ended = run_module(image_catalog.main, {'path': str(tree / 'catalog.json'), 'state': 'verified',
                                            'image': 'compute', 'unpack_dir': str(unpacked)})
    assert not ended.failed and ended.result['serve_path'] == str(unpacked / 'compute@1.img')
    assert (unpacked / 'compute@1.img').read_bytes() == DISK
    stored = tree / 'images' / 'compute-1.img.gz'
    data = bytearray(stored.read_bytes())
    data[100] ^= 1
    stored.write_bytes(bytes(data))
    ended = run_module(image_catalog.main, {'path': str(tree / 'catalog.json'), 'state': 'verified',
                                            'image': 'compute@1'})
    assert ended.failed and 'the stored file of compute@1 does not match the catalog' in ended.result['msg']


def test_query_and_absent(tree):
    add(tree)
    add(tree, image='compute@2', file=str(tree / 'images' / 'other.img'))
    listed = run_module(image_catalog.main, {'path': str(tree / 'catalog.json'), 'image': 'compute'})
    assert [image['version'] for image in listed.result['images']] == ['1', '2']
    removed = run_module(image_catalog.main, {'path': str(tree / 'catalog.json'), 'state': 'absent',
                                              'image': 'compute@2', 'remove_file': True})
    assert removed.result['changed'] and not (tree / 'images' / 'other.img').exists()
    data = json.loads((tree / 'catalog.json').read_text())
    assert [image['version'] for image in data['images']] == ['1']
    again = run_module(image_catalog.main, {'path': str(tree / 'catalog.json'), 'state': 'absent',
                                            'image': 'compute@2'})
    assert not again.result['changed']
