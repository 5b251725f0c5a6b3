# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import gzip
import hashlib
import json
import os
import socket
import threading

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _catalog as catalog
from ansible_collections.cluster.netboot.plugins.module_utils._errors import CatalogError

DISK = bytes(range(256)) * 4096 + os.urandom(1 << 16)


def entry_for(path, name='compute', version='1', compression='gzip', **extra):
    figures = catalog.digest_file(str(path), compression)
    entry = dict(figures, name=name, version=version, file=str(path), compression=compression,
                 source_node='node-a1', created='2026-11-29T07:00:00Z', created_by='root')
    entry.update(extra)
    return entry


@pytest.fixture
def stored(tmp_path):
    path = tmp_path / 'compute@1.img.gz'
    path.write_bytes(gzip.compress(DISK))
    return path


def test_digest_of_a_gzip_file_gives_the_disk_bytes_and_the_file_bytes(stored):
    figures = catalog.digest_file(str(stored), 'gzip')
    assert figures['size'] == len(DISK) and figures['sha256'] == hashlib.sha256(DISK).hexdigest()
    assert figures['file_size'] == stored.stat().st_size
    assert figures['file_sha256'] == hashlib.sha256(stored.read_bytes()).hexdigest()


def test_a_truncated_gzip_stream_is_an_error(tmp_path, stored):
    cut = tmp_path / 'cut.gz'
    cut.write_bytes(stored.read_bytes()[:-100])
    with pytest.raises(CatalogError, match='truncated'):
        catalog.digest_file(str(cut), 'gzip')


def test_references_and_names():
    assert catalog.parse_reference('compute') == ('compute', None)
    assert catalog.parse_reference('compute@2026.11') == ('compute', '2026.11')
    assert catalog.is_reference('compute@1') and not catalog.is_reference('/srv/images/a.img')
    for bad in ('', '@1', 'a@', 'a/b', 'a@b@c', '../x', 'a b'):
        with pytest.raises(CatalogError):
            catalog.parse_reference(bad)


def test_resolve_takes_the_highest_version_in_natural_order(stored):
    entries = [entry_for(stored, version=version) for version in ('9', '10', '2')]
    assert catalog.resolve(entries, 'compute', 'c')['version'] == '10'
    assert catalog.resolve(entries, 'compute@2', 'c')['version'] == '2'
    with pytest.raises(CatalogError, match=r'compute@3 is not in the catalog c \(known: compute@10, compute@2'):
        catalog.resolve(entries, 'compute@3', 'c')


def test_add_never_replaces_a_different_image_unless_forced(tmp_path, stored):
    first = entry_for(stored)
    entries = catalog.add([], first, False, 'c')
    # The same image again (another date): nothing changes.
    assert catalog.add(entries, dict(first, created='2027-01-01T00:00:00Z'), False, 'c') == entries
    other = tmp_path / 'other.img'
    other.write_bytes(b'other disk')
    different = entry_for(other, compression='none')
    with pytest.raises(CatalogError, match='compute@1 is already in the catalog c'):
        catalog.add(entries, different, False, 'c')
    assert catalog.add(entries, different, True, 'c') == [different]


def test_render_and_parse_round_trip_and_bad_catalogs_are_refused(stored):
    entries = [entry_for(stored, version='2'), entry_for(stored, version='1')]
    text = catalog.render(entries)
    assert [entry['version'] for entry in catalog.parse(text, 'c')] == ['1', '2']
    assert catalog.parse(None, 'c') == []
    for bad in (b'{', b'[]', b'{"catalog": 2, "images": []}',
                json.dumps({'catalog': 1, 'images': [dict(entries[0], sha256='x')]}).encode(),
                json.dumps({'catalog': 1, 'images': [entries[0], entries[0]]}).encode()):
        with pytest.raises(CatalogError):
            catalog.parse(bad, 'c')


def test_verify_names_what_differs_and_unpack_leaves_nothing_on_a_mismatch(tmp_path, stored):
    entry = entry_for(stored)
    assert catalog.verify(entry) == []
    target, problems = catalog.unpack(entry, str(tmp_path / 'unpacked'))
    assert problems == [] and open(target, 'rb').read() == DISK
    os.unlink(target)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    problems = catalog.verify(entry)
    assert problems and ('file_sha256' in ' '.join(problems) or 'corrupt' in ' '.join(problems))
    target, problems = catalog.unpack(entry, str(tmp_path / 'unpacked'))
    assert problems and os.listdir(tmp_path / 'unpacked') == []


def test_update_writes_under_the_lock_and_not_in_check_mode(tmp_path, stored):
    path = str(tmp_path / 'catalog.json')
    entry = entry_for(stored)
    before, after = catalog.update(path, lambda entries: catalog.add(entries, entry, False, path), None)
    assert before is None and b'compute' in after and not os.path.exists(path)
    written = []
    catalog.update(path, lambda entries: catalog.add(entries, entry, False, path),
                   lambda target, content: written.append(content))
    assert written == [after]
    with pytest.raises(CatalogError, match='does not exist'):
        catalog.update(str(tmp_path / 'missing' / 'catalog.json'), lambda entries: entries, None)


def receive_from(tmp_path, payload: bytes, token='ab' * 8, close=True, idle=5.0):
    """Run catalog.receive on one end of a socket pair, the 'node' writing payload on the other."""
    images = tmp_path / 'images'
    images.mkdir(exist_ok=True)
    path = str(tmp_path / 'catalog.json')
    final = str(images / catalog.stored_name('compute', '1', 'gzip'))
    console, node = socket.socketpair()
    outcome = {}

    def consume(temp_path, figures):
        catalog.commit(path, temp_path, dict(figures, name='compute', version='1', file=final, compression='gzip',
                                             source_node='node-a1', created=catalog.now(), created_by='root'), False)

    def run():
        try:
            outcome['figures'] = catalog.receive(console, token, str(images), 'gzip', idle, consume)
        except CatalogError as exc:
            outcome['error'] = str(exc)
    thread = threading.Thread(target=run)
    thread.start()
    node.sendall(payload)
    if close:
        node.shutdown(socket.SHUT_WR)
    thread.join(30)
    answer = node.recv(4096).decode()
    node.close()
    console.close()
    return outcome, answer, path, final, images


def test_receive_stores_a_complete_stream_and_enters_it(tmp_path):
    packed = gzip.compress(DISK)
    outcome, answer, path, final, images = receive_from(
        tmp_path, b'cnb-capture %s %d\n' % (b'ab' * 8, len(DISK)) + packed)
    assert 'error' not in outcome, outcome
    digest = hashlib.sha256(DISK).hexdigest()
    assert answer == 'ok %s %s\n' % (hashlib.sha256(packed).hexdigest(), digest)
    (entry,) = catalog.load(path)
    assert entry['sha256'] == digest and entry['file'] == final and open(final, 'rb').read() == packed
    assert sorted(os.listdir(images)) == [os.path.basename(final)]


@pytest.mark.parametrize('payload, reason', [
    (b'cnb-capture %s %d\n' % (b'cd' * 8, len(DISK)) + gzip.compress(DISK), 'token'),
    (b'cnb-capture %s %d\n' % (b'ab' * 8, len(DISK)) + gzip.compress(DISK)[:-5000], 'truncated'),
    (b'cnb-capture %s %d\n' % (b'ab' * 8, len(DISK) + 1) + gzip.compress(DISK), 'announced'),
    (b'GET / HTTP/1.0\r\n\r\n', 'token'),
])
def test_a_bad_or_cut_stream_leaves_no_entry_and_no_file(tmp_path, payload, reason):
    outcome, answer, path, final, images = receive_from(tmp_path, payload)
    assert reason in outcome['error'] and answer.startswith('failed ')
    assert not os.path.exists(path) and os.listdir(images) == []


def test_a_node_that_goes_silent_times_out_and_leaves_nothing(tmp_path):
    payload = b'cnb-capture %s %d\n' % (b'ab' * 8, len(DISK)) + gzip.compress(DISK)[:1000]
    outcome, answer, path, final, images = receive_from(tmp_path, payload, close=False, idle=0.5)
    assert 'stopped after' in outcome['error']
    assert not os.path.exists(path) and os.listdir(images) == []
