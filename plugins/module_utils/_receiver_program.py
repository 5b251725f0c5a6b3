# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The console-side receiver programs as files: a launcher and the collection code it runs.

A receiver (the report receiver of image_nodes and discover_nodes, the capture receiver of
capture_image) is a module_utils of this collection with a ``main()``. Installed, it is a small
launcher ``<dir>/<program>.py`` and, in ``<dir>/<program>_lib``, a package tree
``ansible_collections/cluster/netboot/plugins/module_utils`` holding that module_utils and every
module_utils of the collection it imports, read from wherever this code itself was loaded (the
collection's tree, an installed collection, or the module's AnsiballZ payload). The tree has
``__init__.py`` files, so it is found first whatever else the console's Python has installed.
"""

from __future__ import annotations

import ast
import importlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

from ansible_collections.cluster.netboot.plugins.module_utils import _files
from ansible_collections.cluster.netboot.plugins.module_utils._errors import FileStateError, NetbootError

PACKAGE = 'ansible_collections.cluster.netboot.plugins.module_utils'

# What the roles call each program: the launcher's name and the module_utils whose main() it runs.
PROGRAMS = {
    'report': ('imaging_reports.py', '_report_receiver'),
    'capture': ('capture_receiver.py', '_capture_receiver'),
}

LAUNCHER = '''#!/usr/bin/env python3
# Installed by cluster.netboot.receiver_program (program: {program}), replaced by the next install.
# The code is the collection's module_utils in {lib}/.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), {lib!r}))

from ansible_collections.cluster.netboot.plugins.module_utils.{entry} import main  # noqa: E402

sys.exit(main(program=os.path.abspath(__file__)))
'''


@dataclass(frozen=True)
class Wanted:
    """One file of an installed program: its path, content and mode."""

    path: str
    content: bytes
    mode: int


def imported_names(source: str) -> set[str]:
    """The collection's module_utils that ``source`` imports (``_files`` for ``...module_utils._files``)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or '').startswith(PACKAGE + '.'):
            names.add(node.module[len(PACKAGE) + 1:].split('.')[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name[len(PACKAGE) + 1:].split('.')[0] for alias in node.names
                         if alias.name.startswith(PACKAGE + '.'))
    return names


def loaded_source(name: str) -> str:
    """The source of this collection's module_utils ``name``, from the loader that imported it."""
    module = importlib.import_module('%s.%s' % (PACKAGE, name))
    loader = getattr(module, '__loader__', None)
    source = loader.get_source(module.__name__) if loader is not None and hasattr(loader, 'get_source') else None
    if source is None:
        raise NetbootError('the source of %s cannot be read from %r' % (module.__name__, loader))
    # Ansible's collection loader (the controller, ansible-test) answers in bytes.
    return source.decode('utf-8') if isinstance(source, bytes) else source


def sources(entry: str, read: Callable[[str], str] = loaded_source) -> dict[str, str]:
    """``entry`` and every module_utils it imports, directly or not: name -> source."""
    found: dict[str, str] = {}
    pending = [entry]
    while pending:
        name = pending.pop()
        if name not in found:
            found[name] = read(name)
            pending.extend(sorted(imported_names(found[name]) - set(found)))
    return found


def wanted_files(directory: str, program: str, read: Callable[[str], str] = loaded_source) -> tuple[list[Wanted], str]:
    """Every file of ``program`` installed in ``directory`` (the launcher first) and its module_utils directory."""
    if program not in PROGRAMS:
        raise NetbootError('unknown receiver program %r (one of %s)' % (program, ', '.join(sorted(PROGRAMS))))
    launcher, entry = PROGRAMS[program]
    lib = launcher[:-len('.py')] + '_lib'
    wanted = [Wanted(os.path.join(directory, launcher),
                     LAUNCHER.format(program=program, lib=lib, entry=entry).encode('utf-8'), 0o755)]
    package = os.path.join(directory, lib)
    for part in PACKAGE.split('.'):
        package = os.path.join(package, part)
        wanted.append(Wanted(os.path.join(package, '__init__.py'), b'', 0o644))
    for name, source in sorted(sources(entry, read).items()):
        wanted.append(Wanted(os.path.join(package, name + '.py'), source.encode('utf-8'), 0o644))
    return wanted, package


def current(path: str) -> tuple[bytes | None, int | None]:
    """A file's content and permission bits, ``(None, None)`` when it is not there."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None, None
    if not stat.S_ISREG(info.st_mode):
        raise FileStateError('%s exists and is not a regular file' % path)
    with open(path, 'rb') as handle:
        return handle.read(), stat.S_IMODE(info.st_mode)


@dataclass
class Plan:
    """What an install changes: files to write (with what they held), modes to set, stale files to remove."""

    program: str
    write: list[tuple[Wanted, bytes | None]]
    chmod: list[Wanted]
    remove: list[tuple[str, bytes | None]]

    @property
    def changed(self) -> bool:
        return bool(self.write or self.chmod or self.remove)

    def diff(self) -> list[dict[str, str]]:
        """One before/after per file written or removed (the shared diff shape of _files.text_diff)."""
        return ([_files.text_diff(before, item.content, item.path) for item, before in self.write]
                + [_files.text_diff(before, None, path) for path, before in self.remove])

    def changed_files(self) -> list[str]:
        return sorted({item.path for item, _before in self.write} | {item.path for item in self.chmod}
                      | {path for path, _before in self.remove})


def directory_exists(path: str) -> bool:
    """Whether directory ``path`` exists; a FileStateError when it, or the nearest existing directory above it,
    is something else (it could never be created)."""
    existing = path
    while not os.path.lexists(existing) and os.path.dirname(existing) != existing:
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise FileStateError('%s exists and is not a directory' % existing)
    return existing == path


def plan(directory: str, program: str, read: Callable[[str], str] = loaded_source) -> Plan:
    """Compare the installed ``program`` in ``directory`` with this collection's; nothing is written."""
    if not os.path.isabs(directory):
        raise NetbootError('path %r is not absolute' % directory)
    wanted, package = wanted_files(directory, program, read)
    result = Plan(program=os.path.join(directory, PROGRAMS[program][0]), write=[], chmod=[], remove=[])
    for item in wanted:
        content, mode = current(item.path) if directory_exists(os.path.dirname(item.path)) else (None, None)
        if content != item.content:
            result.write.append((item, content))
        elif mode != item.mode:
            result.chmod.append(item)
    # A module_utils the program no longer imports goes: the tree is exactly this collection's.
    paths = {item.path for item in wanted}
    names = sorted(os.listdir(package)) if directory_exists(package) else []
    for name in names:
        path = os.path.join(package, name)
        if name.endswith('.py') and path not in paths:
            result.remove.append((path, current(path)[0]))
    return result


def apply(changes: Plan, write: Callable[[str, bytes, int], None]) -> None:
    """Make the changes: ``write(path, content, mode)`` replaces one file atomically."""
    try:
        for item, _before in changes.write:
            os.makedirs(os.path.dirname(item.path), mode=0o755, exist_ok=True)
            write(item.path, item.content, item.mode)
        for item in changes.chmod:
            os.chmod(item.path, item.mode)
        for path, _before in changes.remove:
            _files.remove(path)
    except OSError as exc:
        raise FileStateError('cannot install the %s: %s' % (os.path.basename(changes.program), exc)) from None
