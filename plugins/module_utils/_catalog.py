# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The image catalog: one JSON file on the console listing every stored disk image.

Each entry names an image (``name`` and ``version``) and its stored file,
with the size and sha256 of the disk bytes (what a node's disk must end up
holding), the size and sha256 of the stored file (what the console checks
before serving it), the compression of the stored file (``gzip`` or
``none``), the node it was captured from, when, and by whom.

The catalog is only read and rewritten under an exclusive lock
(a flock on its directory, so that
checking creates no file) and replaced atomically; an existing name+version is never
replaced unless forced. A capture streams into a temporary file next to the
stored images (flock'd while it lives, see ``_files.temp_file``), hashing
while it receives, and only a complete, checked stream is renamed to its
final name and entered, both under the lock: a capture that fails or is
killed leaves neither an entry nor a file under the catalog's name.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import socket
import zlib
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

from ansible_collections.cluster.netboot.plugins.module_utils import _files
from ansible_collections.cluster.netboot.plugins.module_utils._errors import CatalogError

FORMAT = 1
COMPRESSIONS = ('gzip', 'none')
CHUNK = 1 << 20
_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9._+-]{0,127}\Z')
_SHA256 = re.compile(r'[0-9a-f]{64}\Z')
FIELDS = ('name', 'version', 'file', 'compression', 'size', 'sha256', 'file_size', 'file_sha256',
          'source_node', 'created', 'created_by')
# An entry added again with these equal is the same image: nothing changes.
SAME = ('file', 'compression', 'size', 'sha256', 'file_size', 'file_sha256')
# The first line a capturing node sends: magic, token, the number of disk bytes that follow (compressed).
HEADER = re.compile(rb'cnb-capture ([0-9a-f]{16,64}) ([0-9]{1,20})\n\Z')


def check_name(value: str, what: str) -> str:
    """A name or version: letters, digits, ``._+-``, starting with a letter or digit (no ``@`` or ``/``)."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise CatalogError('%s %r must be 1 to 128 letters, digits, ".", "_", "+" or "-", starting with a letter '
                           'or digit' % (what, value))
    return value


def is_reference(image: str) -> bool:
    """True for ``NAME`` or ``NAME@VERSION`` (a catalog reference); an absolute path is a file."""
    return not image.startswith('/')


def parse_reference(reference: str) -> tuple[str, str | None]:
    """``NAME`` or ``NAME@VERSION`` as (name, version or None)."""
    name, version = reference.partition('@')[::2]
    check_name(name, 'image name')
    if '@' in reference:
        return name, check_name(version, 'image version')
    return name, None


def _version_key(version: str) -> list[tuple[int, int | str]]:
    """Natural order: ``v10`` after ``v9``."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.findall(r'\d+|\D+', version)]


def _check_entry(entry: dict[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise CatalogError('%s: an entry is not a mapping' % where)
    missing = [field for field in FIELDS if field not in entry]
    if missing:
        raise CatalogError('%s: entry %r lacks %s' % (where, entry.get('name'), ', '.join(missing)))
    check_name(entry['name'], 'image name')
    check_name(entry['version'], 'image version')
    label = '%s@%s' % (entry['name'], entry['version'])
    if entry['compression'] not in COMPRESSIONS:
        raise CatalogError('%s: %s has unknown compression %r' % (where, label, entry['compression']))
    for field in ('sha256', 'file_sha256'):
        if not isinstance(entry[field], str) or not _SHA256.match(entry[field]):
            raise CatalogError('%s: %s has no valid %s' % (where, label, field))
    for field in ('size', 'file_size'):
        if not isinstance(entry[field], int) or isinstance(entry[field], bool) or entry[field] < 0:
            raise CatalogError('%s: %s has no valid %s' % (where, label, field))
    if not isinstance(entry['file'], str) or not os.path.isabs(entry['file']):
        raise CatalogError('%s: %s: file must be an absolute path' % (where, label))
    return {field: entry[field] for field in FIELDS}


def parse(text: bytes | None, where: str) -> list[dict[str, Any]]:
    """The entries of a catalog file's content (None: no catalog yet, no entries)."""
    if text is None or not text.strip():
        return []
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CatalogError('%s is not a JSON catalog: %s' % (where, exc)) from None
    if not isinstance(data, dict) or data.get('catalog') != FORMAT or not isinstance(data.get('images'), list):
        raise CatalogError('%s is not a catalog of format %d ({"catalog": %d, "images": [...]})'
                           % (where, FORMAT, FORMAT))
    entries = [_check_entry(entry, where) for entry in data['images']]
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = (entry['name'], entry['version'])
        if key in seen:
            raise CatalogError('%s lists %s@%s twice' % (where, key[0], key[1]))
        seen.add(key)
    return entries


def render(entries: Iterable[dict[str, Any]]) -> bytes:
    """The catalog file for ``entries``: stable order (name, then version), one key order."""
    ordered = sorted(entries, key=lambda entry: (entry['name'], _version_key(entry['version'])))
    return (json.dumps({'catalog': FORMAT, 'images': ordered}, indent=2, sort_keys=True) + '\n').encode('utf-8')


def load(path: str) -> list[dict[str, Any]]:
    return parse(_files.read_bytes(path), path)


def label(entry: dict[str, Any]) -> str:
    return '%s@%s' % (entry['name'], entry['version'])


def find(entries: list[dict[str, Any]], name: str, version: str) -> dict[str, Any] | None:
    for entry in entries:
        if entry['name'] == name and entry['version'] == version:
            return entry
    return None


def resolve(entries: list[dict[str, Any]], reference: str, where: str) -> dict[str, Any]:
    """The entry ``NAME@VERSION`` names, or for ``NAME`` its highest version."""
    name, version = parse_reference(reference)
    candidates = [entry for entry in entries if entry['name'] == name
                  and (version is None or entry['version'] == version)]
    if not candidates:
        known = sorted({label(entry) for entry in entries if entry['name'] == name}) or \
            sorted({entry['name'] for entry in entries})
        raise CatalogError('image %s is not in the catalog %s (known: %s)' % (reference, where, ', '.join(known) or 'none'))
    return max(candidates, key=lambda entry: _version_key(entry['version']))


def add(entries: list[dict[str, Any]], entry: dict[str, Any], force: bool, where: str) -> list[dict[str, Any]]:
    """``entries`` with ``entry``; an existing name+version that differs is refused unless ``force``."""
    entry = _check_entry(entry, where)
    existing = find(entries, entry['name'], entry['version'])
    if existing is not None and all(existing[field] == entry[field] for field in SAME):
        return entries  # the same image again (its date and maker stay the first ones)
    if existing is not None and not force:
        raise CatalogError('%s is already in the catalog %s (sha256 %s, from %s); give another version, or force '
                           'to replace it' % (label(entry), where, existing['sha256'], existing['file']))
    return [item for item in entries if item is not existing] + [entry]


def remove(entries: list[dict[str, Any]], name: str, version: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(entries kept, entries removed): ``version`` None removes every version of ``name``."""
    removed = [entry for entry in entries if entry['name'] == name and version in (None, entry['version'])]
    return [entry for entry in entries if entry not in removed], removed


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace('+00:00', 'Z')


def stored_name(name: str, version: str, compression: str) -> str:
    """The file name a captured image is stored under in the images directory."""
    return '%s@%s.img%s' % (name, version, '.gz' if compression == 'gzip' else '')


# --- hashing while reading or receiving ------------------------------------------------

class StreamDigest:
    """sha256 and size of a stored file's bytes and, through on-the-fly decompression, of the disk bytes.

    ``sink`` (optional) gets the disk bytes as they come (to write a decompressed copy).
    """

    def __init__(self, compression: str, sink: Callable[[bytes], Any] | None = None) -> None:
        if compression not in COMPRESSIONS:
            raise CatalogError('unknown compression %r (one of %s)' % (compression, ', '.join(COMPRESSIONS)))
        self.compression = compression
        self.file_hash = hashlib.sha256()
        self.disk_hash = hashlib.sha256()
        self.file_size = 0
        self.size = 0
        self.sink = sink
        # wbits 31: a gzip member (header and trailer, whose CRC and length zlib checks).
        self._inflate = zlib.decompressobj(wbits=31) if compression == 'gzip' else None

    def _disk(self, data: bytes) -> None:
        if data:
            self.disk_hash.update(data)
            self.size += len(data)
            if self.sink is not None:
                self.sink(data)

    def update(self, data: bytes) -> None:
        self.file_hash.update(data)
        self.file_size += len(data)
        if self._inflate is None:
            self._disk(data)
            return
        if self._inflate.eof:
            if data:
                raise CatalogError('data after the end of the gzip stream')
            return
        try:
            while data:
                self._disk(self._inflate.decompress(data, CHUNK))
                data = self._inflate.unconsumed_tail
        except zlib.error as exc:
            raise CatalogError('the gzip stream is corrupt: %s' % exc) from None

    def finish(self) -> dict[str, Any]:
        """The four figures; a gzip stream that did not reach its end (truncated) is an error."""
        if self._inflate is not None:
            if not self._inflate.eof:
                raise CatalogError('the gzip stream ended early after %d bytes (%d disk bytes): truncated'
                                   % (self.file_size, self.size))
            if self._inflate.unused_data:
                raise CatalogError('data after the end of the gzip stream')
        return {'size': self.size, 'sha256': self.disk_hash.hexdigest(),
                'file_size': self.file_size, 'file_sha256': self.file_hash.hexdigest()}


def digest_file(path: str, compression: str, sink: Callable[[bytes], Any] | None = None) -> dict[str, Any]:
    """:class:`StreamDigest` figures of a stored file, read once."""
    digest = StreamDigest(compression, sink)
    try:
        with open(path, 'rb') as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b''):
                digest.update(chunk)
    except OSError as exc:
        raise CatalogError('cannot read %s: %s' % (path, exc)) from None
    return digest.finish()


def verify(entry: dict[str, Any], sink: Callable[[bytes], Any] | None = None) -> list[str]:
    """What differs between the stored file and its entry (empty: it matches). Reads the file once."""
    try:
        got = digest_file(entry['file'], entry['compression'], sink)
    except CatalogError as exc:
        return [str(exc)]
    return ['%s is %s, the catalog says %s' % (field, got[field], entry[field])
            for field in ('file_size', 'file_sha256', 'size', 'sha256') if got[field] != entry[field]]


def unpack(entry: dict[str, Any], directory: str) -> tuple[str, list[str]]:
    """Verify ``entry``'s stored file and, when compressed, write its disk bytes to ``directory`` in the same pass.

    Returns (the path to serve, problems). The decompressed copy replaces the old
    one atomically and only when everything matched; on a mismatch nothing is left.
    """
    if entry['compression'] == 'none':
        return entry['file'], verify(entry)
    os.makedirs(directory, exist_ok=True)
    target = os.path.join(directory, stored_name(entry['name'], entry['version'], 'none'))
    with _files.temp_file(directory, b'') as temp_path:
        with open(temp_path, 'wb') as handle:
            problems = verify(entry, handle.write)
            handle.flush()
            os.fsync(handle.fileno())
        if not problems:
            os.chmod(temp_path, 0o644)
            os.replace(temp_path, target)
    return target, problems


# --- the catalog file under its lock -----------------------------------------------------

def update(path: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
           write: Callable[[str, bytes], None] | None, timeout: float = 60.0) -> tuple[bytes | None, bytes]:
    """Apply ``change`` to the catalog under its lock; write the result unless ``write`` is None (check mode).

    Returns (content before, content after); nothing is written when they are equal.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CatalogError('the catalog directory %s does not exist' % directory)
    with _files.locked_directory(directory, timeout):
        before = _files.read_bytes(path)
        entries = parse(before, path)
        after = render(change(entries))
        if write is not None and after != before:
            write(path, after)
    return before, after


def commit(path: str, temp_path: str, entry: dict[str, Any], force: bool) -> None:
    """Rename a received file (``temp_path``) to ``entry['file']`` and enter it, both under the catalog lock.

    A conflicting name+version is refused before the rename: the file under the
    catalog's name is then the old one, untouched.
    """
    def change(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result = add(entries, entry, force, path)
        os.chmod(temp_path, 0o644)
        os.replace(temp_path, entry['file'])
        return result
    update(path, change, _files.replace_file)


# --- the console side of a capture -------------------------------------------------------

def receive(connection: socket.socket, token: str, images_dir: str, compression: str,
            idle_timeout: float, consume: Callable[[str, dict[str, Any]], None]) -> dict[str, Any]:
    """Receive one capture stream into a temporary file in ``images_dir``, hashing as it comes.

    The node sends ``cnb-capture TOKEN SIZE\\n`` and then its disk, compressed.
    Only a stream with the right token that ends where it should (a complete
    gzip member of exactly SIZE disk bytes) reaches ``consume(temp_path, figures)``
    (which renames the file away: :func:`commit`); anything else raises
    :class:`CatalogError` and the temporary file is gone. The node is answered
    ``ok FILE_SHA256 DISK_SHA256`` or ``failed REASON``.
    """
    connection.settimeout(idle_timeout)
    reader: BinaryIO = connection.makefile('rb')
    try:
        try:
            header = reader.readline(256)
        except OSError as exc:
            raise CatalogError('no capture header: %s' % exc) from None
        match = HEADER.match(header)
        if not match or match.group(1).decode() != token:
            raise CatalogError('refused a connection without this capture\'s header and token')
        expected = int(match.group(2))
        with _files.temp_file(images_dir, b'') as temp_path:
            digest = StreamDigest(compression)
            with open(temp_path, 'wb') as handle:
                while True:
                    try:
                        chunk = reader.read1(CHUNK)
                    except OSError as exc:  # socket.timeout included: the node went silent
                        raise CatalogError('the stream stopped after %d bytes (%d disk bytes): %s'
                                           % (digest.file_size, digest.size, exc or 'timeout')) from None
                    if not chunk:
                        break
                    handle.write(chunk)
                    digest.update(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            figures = digest.finish()
            if figures['size'] != expected:
                raise CatalogError('the node announced %d disk bytes and sent %d' % (expected, figures['size']))
            consume(temp_path, figures)
        _answer(connection, 'ok %s %s\n' % (figures['file_sha256'], figures['sha256']))
        return figures
    except CatalogError as exc:
        _answer(connection, 'failed %s\n' % str(exc).replace('\n', ' '))
        raise
    finally:
        reader.close()


def _answer(connection: socket.socket, text: str) -> None:
    try:
        connection.sendall(text.encode('utf-8', errors='replace'))
    except OSError:
        pass  # the node is gone; the console's result says what happened
