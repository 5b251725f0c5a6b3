# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""File primitives every module shares: atomic writes and symlinks, locks, diffs, safe paths.

A node may read a file at any moment (pxelinux fetching its pointer, dhcpd
re-reading its config), so nothing is ever written in place: content goes to
a temporary file in the same directory and is renamed over the old one.
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ansible_collections.cluster.netboot.plugins.module_utils._errors import FileStateError, NetbootError


def read_bytes(path: str) -> bytes | None:
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FileStateError('cannot read %s: %s' % (path, exc)) from None


def read_link(path: str) -> str | None:
    """The target of a symlink, None when nothing is there; anything else is a FileStateError."""
    try:
        return os.readlink(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            raise FileStateError('%s exists and is not a symlink' % path) from None
        raise FileStateError('cannot read %s: %s' % (path, exc)) from None


def write_temp(directory: str, content: bytes, prefix: str = '.cluster-netboot-') -> str:
    """Write content to a new temporary file in ``directory`` (same file system as its target)."""
    fd, temp_path = tempfile.mkstemp(dir=directory, prefix=prefix)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(temp_path)
        raise
    return temp_path


def replace_file(path: str, content: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``content`` through a temp file and a rename, for programs that have no module.

    Modules use :func:`atomic_write`, which goes through ``module.atomic_move``.
    """
    temp_path = write_temp(os.path.dirname(os.path.abspath(path)), content)
    try:
        os.chmod(temp_path, mode)
        os.replace(temp_path, path)
    finally:
        if os.path.lexists(temp_path):
            os.unlink(temp_path)


def atomic_write(module: Any, path: str, content: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``content`` through a temp file and ``module.atomic_move``."""
    directory = os.path.dirname(os.path.abspath(path))
    temp_path = write_temp(directory, content)
    try:
        if mode is not None:
            os.chmod(temp_path, mode)
        module.atomic_move(temp_path, path, unsafe_writes=False)
    finally:
        if os.path.lexists(temp_path):
            os.unlink(temp_path)
    if mode is not None:
        os.chmod(path, mode)


def atomic_symlink(path: str, target: str) -> None:
    """Point ``path`` at ``target``; readers see the old link or the new one, never nothing.

    ``module.atomic_move`` would follow or copy the link, so the rename is done here.
    """
    directory = os.path.dirname(os.path.abspath(path))
    # A random name: two playbooks may relink the same node at the same moment.
    temp_path = os.path.join(directory, '.%s.%s.tmp' % (os.path.basename(path), os.urandom(8).hex()))
    os.symlink(target, temp_path)
    try:
        os.replace(temp_path, path)
    except OSError as exc:
        os.unlink(temp_path)
        raise FileStateError('cannot replace %s: %s' % (path, exc)) from None


def remove(path: str) -> bool:
    """Remove a file or link; False when it was already gone."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def inside(root: str, relative: str, what: str) -> str:
    """``root/relative`` after checking it cannot escape ``root`` (no absolute path, no ``..``)."""
    if not relative or '\x00' in relative or '\n' in relative:
        raise NetbootError('%s %r is empty or contains a NUL or newline' % (what, relative))
    normalized = os.path.normpath(relative)
    if os.path.isabs(relative) or normalized == '..' or normalized.startswith('../') or normalized == '.':
        raise NetbootError('%s %r escapes %s' % (what, relative, root))
    return os.path.join(root, normalized)


def _flock(fd: int, what: str, timeout: float) -> None:
    """Take an exclusive flock on ``fd``, polling until ``timeout`` runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise FileStateError('timed out after %.0f s waiting for the lock %s' % (timeout, what)) from None
            time.sleep(0.05)


@contextmanager
def locked(lock_path: str, timeout: float = 60.0) -> Iterator[None]:
    """Hold an exclusive fcntl lock on ``lock_path`` (created if needed) for the block.

    Concurrent playbooks serialise their read-modify-write of one shared file here.
    """
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _flock(fd, lock_path, timeout)
        yield
    finally:
        os.close(fd)


def text_diff(before: str | bytes | None, after: str | bytes | None, before_header: str, after_header: str | None = None) -> dict[str, str]:
    """The one diff shape every module returns: Ansible's before/after with headers."""
    def as_text(value: str | bytes | None) -> str:
        if value is None:
            return ''
        if isinstance(value, bytes):
            return value.decode('utf-8', errors='replace')
        return value
    return {
        'before': as_text(before),
        'after': as_text(after),
        'before_header': before_header,
        'after_header': after_header or before_header,
    }


@contextmanager
def locked_directory(directory: str, timeout: float = 60.0) -> Iterator[None]:
    """Hold an exclusive fcntl lock on a directory itself for the block.

    Unlike :func:`locked` this creates no file, so a tree that a daemon serves
    (a TFTP root, where a failed run must leave every byte as it was) gains no
    lock file next to the files it publishes.
    """
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise FileStateError('cannot open directory %s: %s' % (directory, exc)) from None
    try:
        _flock(fd, 'on %s' % directory, timeout)
        yield
    finally:
        os.close(fd)
