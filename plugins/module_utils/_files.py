# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""File primitives every module shares: atomic writes and symlinks, locks, diffs, safe paths.

A node may read a file at any moment (pxelinux fetching its pointer, dhcpd
re-reading its config), so nothing is ever written in place: content goes to
a temporary file in the same directory and is renamed over the old one.

A run killed between the two steps (``kill -9``, a lost host) leaves its
temporary name behind. Later runs remove such leftovers, and only those:

- a temporary file (``.cluster-netboot-XXXXXXXX``) is flock'd by the run that
  made it for as long as it exists; one whose lock can be taken belongs to a
  run that is gone (the kernel drops the locks of a dead process);
- a temporary symlink (``.<name>.<16 hex digits>.tmp``) cannot be locked, so
  every caller of :func:`atomic_symlink` holds a :func:`locked_directory` lock
  while it has one; the next holder of that lock removes those made before it
  acquired the lock.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

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


TEMP_PREFIX = '.cluster-netboot-'
# mkstemp's names: the prefix and eight characters from [a-z0-9_].
_TEMP_FILE = re.compile(re.escape(TEMP_PREFIX) + r'[a-z0-9_]{8}\Z')
_TEMP_LINK = re.compile(r'\..+\.[0-9a-f]{16}\.tmp\Z', re.DOTALL)
# A temporary file is locked right after mkstemp creates it: one younger than this
# may belong to a live run that has not taken its lock yet.
TEMP_GRACE = 5.0


def is_temp_name(name: str) -> bool:
    """True for the temporary names :func:`temp_file` and :func:`atomic_symlink` create."""
    return bool(_TEMP_FILE.match(name) or _TEMP_LINK.match(name))


def _hidden_names(directory: str) -> list[str] | None:
    """The names in ``directory`` that start with a dot (every temporary name does), None when unreadable."""
    try:
        return [name for name in os.listdir(directory) if name.startswith('.')]
    except OSError:
        return None


def remove_leftover_files(directory: str, hidden: list[str] | None = None) -> list[str]:
    """Remove the temporary files killed runs left in ``directory``; never a live run's. Names removed.

    A candidate goes only when it is older than :data:`TEMP_GRACE` and its flock
    can be taken: the run that made it is gone. ``hidden`` is the directory's
    :func:`_hidden_names` when the caller has listed it already.
    """
    removed: list[str] = []
    oldest = time.time() - TEMP_GRACE
    if hidden is None:
        hidden = _hidden_names(directory)
    if hidden is None:
        return removed
    names = [name for name in hidden if _TEMP_FILE.match(name)]
    for name in names:
        path = os.path.join(directory, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_mtime >= oldest:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # Still the file that was locked, not a new one under the same name.
            current = os.lstat(path)
            if (current.st_dev, current.st_ino) == (info.st_dev, info.st_ino):
                os.unlink(path)
                removed.append(name)
        except OSError:
            continue  # locked by a live run, or gone meanwhile
        finally:
            os.close(fd)
    return removed


def remove_leftover_links(directory: str, older_than: float, hidden: list[str] | None = None) -> list[str]:
    """Remove the temporary symlinks killed runs left in ``directory``. Names removed.

    Only call it while holding the :func:`locked_directory` lock every
    :func:`atomic_symlink` caller in ``directory`` holds, with ``older_than`` the
    time it was acquired: no live run owns a temporary link made before that.
    ``hidden`` is the directory's :func:`_hidden_names` when the caller has listed it already.
    """
    removed: list[str] = []
    if hidden is None:
        hidden = _hidden_names(directory)
    for name in hidden or ():
        if not _TEMP_LINK.match(name):
            continue
        path = os.path.join(directory, name)
        try:
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode) and info.st_mtime < older_than:
                os.unlink(path)
                removed.append(name)
        except OSError:
            continue
    return removed


def remove_leftovers(directory: str, older_than: float) -> list[str]:
    """:func:`remove_leftover_links` and :func:`remove_leftover_files` from one listing of ``directory``."""
    hidden = _hidden_names(directory)
    return remove_leftover_links(directory, older_than, hidden) + remove_leftover_files(directory, hidden)


@contextmanager
def temp_file(directory: str, content: bytes) -> Iterator[str]:
    """A new temporary file in ``directory`` holding ``content``, gone again after the block.

    It stays flock'd while it exists, so :func:`remove_leftover_files` (run here
    first) tells it from a killed run's. Renaming it away inside the block
    (``module.atomic_move``) is the normal use.
    """
    remove_leftover_files(directory)
    fd, temp_path = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(os.dup(fd), 'wb') as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        yield temp_path
    finally:
        # Unlinked before the descriptor (and with it the lock) goes: never seen unlocked.
        if os.path.lexists(temp_path):
            os.unlink(temp_path)
        os.close(fd)


def replace_file(path: str, content: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``content`` through a temp file and a rename, for programs that have no module.

    Modules use :func:`atomic_write`, which goes through ``module.atomic_move``.
    """
    with temp_file(os.path.dirname(os.path.abspath(path)), content) as temp_path:
        os.chmod(temp_path, mode)
        os.replace(temp_path, path)


def atomic_write(module: Any, path: str, content: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``content`` through a temp file and ``module.atomic_move``."""
    directory = os.path.dirname(os.path.abspath(path))
    with temp_file(directory, content) as temp_path:
        if mode is not None:
            os.chmod(temp_path, mode)
        module.atomic_move(temp_path, path, unsafe_writes=False)
    if mode is not None:
        os.chmod(path, mode)


def atomic_symlink(path: str, target: str) -> None:
    """Point ``path`` at ``target``; readers see the old link or the new one, never nothing.

    ``module.atomic_move`` would follow or copy the link, so the rename is done
    here. The caller holds :func:`locked_directory` on a directory above ``path``
    (see :func:`remove_leftover_links`).
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


def resolve_inside(root: str, path: str, what: str) -> str:
    """The real path of ``path``, after checking that it resolves inside the real ``root``.

    :func:`inside` checks the spelling; this follows symlinks: a server confined
    to ``root`` (``in.tftpd --secure``) cannot reach a file merely linked from
    there, and a directory linked out of ``root`` must not be written through.
    """
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise FileStateError('%s %s resolves to %s, outside %s' % (what, path, real, real_root))
    return real


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
def locked_directory(directory: str, timeout: float = 60.0) -> Iterator[float]:
    """Hold an exclusive fcntl lock on a directory itself for the block; yields when it was acquired.

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
        yield time.time()
    finally:
        os.close(fd)


def exit_module(module: Any, work: Callable[[], dict[str, Any]]) -> NoReturn:
    """End ``module`` with the result of ``work``, or fail it with the message of the NetbootError it raises.

    The result's ``diff`` is kept only when the run asks for diffs (``--diff``): a module whose diff costs
    little returns one always and lets this drop it.
    """
    try:
        result = work()
    except NetbootError as exc:
        module.fail_json(msg=str(exc))
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)
