# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""PXELINUX boot configs and per-node pointers, as pure functions plus a few file reads.

A TFTP root served to PXELINUX looks like::

    pxelinux.0  ldlinux.c32  linux-orbit-pxe-2.6.20.4  initramfs-orbit-pxe-2.0.0.gz
    pxelinux.cfg/default         -> boots the local disk
    pxelinux.cfg/orbit-2.0.0     -> a boot config (DEFAULT/LABEL/KERNEL/APPEND)
    pxelinux.cfg/0A120112        -> symlink "orbit-2.0.0" (node 10.18.1.18)
    pxelinux.cfg/01-00-0d-b9-0a-12-34 -> symlink "orbit-2.0.0" (node by MAC)

PXELINUX asks for ``01-<mac>`` first, then the client IP in upper-case hex
(shortened one digit at a time), then ``default``; so a node boots a config
when its pointer exists and falls back to ``default`` once it is removed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ansible_collections.cluster.netboot.plugins.module_utils import _files
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import normalize_mac_many, pxe_hex_many
from ansible_collections.cluster.netboot.plugins.module_utils._errors import FileStateError, NetbootError
from ansible_collections.cluster.netboot.plugins.module_utils._nodes import NodeRecord
from ansible_collections.cluster.netboot.plugins.module_utils._nodeset import fold_names

CONFIG_DIR = 'pxelinux.cfg'
HEADER = '# Managed by cluster.netboot.pxe_config: changes made by hand are overwritten.\n'
CONFIG_MODE = 0o644
POINTER_KEYS = ('ip', 'mac')
# Errors that list offending nodes name at most this many: 10,000 bad rows make an unreadable message.
MAX_LISTED = 10


class PxeError(NetbootError):
    """A boot config or pointer request that cannot be carried out."""


# --------------------------------------------------------------------------- loaders

@dataclass(frozen=True)
class Loader:
    """Where a boot loader's configs live in the TFTP root, and how it names a node's own config.

    ``mac_name`` and ``ip_name`` wrap the PXELINUX forms (``01-<mac>`` and the
    hex IP) or, for iPXE, the ``${mac:hexhyp}`` / ``${ip}`` forms its script sees.
    """

    name: str
    directory: str
    mac_prefix: str = ''
    ip_prefix: str = ''
    suffix: str = ''
    hex_ip: bool = True
    mac_type: bool = True


LOADERS = {
    # PXELINUX asks for pxelinux.cfg/01-<mac>, then the upper-case hex IP shortened, then default.
    'pxelinux': Loader('pxelinux', CONFIG_DIR),
    # Debian's signed network GRUB (prefix (tftp,SERVER)/grub) reads grub/grub.cfg and nothing per node
    # by itself; the dispatcher grub.cfg (see _bootconfig.GRUB_DISPATCHER) sources these two names.
    'grub': Loader('grub', 'grub', mac_prefix='grub.cfg-', ip_prefix='grub.cfg-', hex_ip=False),
    # iPXE: the dispatcher script chains ${mac:hexhyp}.ipxe, then ${ip}.ipxe.
    'ipxe': Loader('ipxe', 'ipxe', suffix='.ipxe', hex_ip=False, mac_type=False),
}


def get_loader(name: object) -> Loader:
    try:
        return LOADERS[str(name)]
    except KeyError:
        raise PxeError('unknown loader %r; choose one of %s' % (name, ', '.join(LOADERS))) from None


# --------------------------------------------------------------------------- configs

@dataclass(frozen=True)
class Label:
    """One ``LABEL`` block: a kernel (with initrds and command line) or a local boot."""

    name: str
    kernel: str | None = None
    initrd: tuple[str, ...] = ()
    append: str | None = None
    localboot: int | None = None
    ipappend: int | None = None
    menu_label: str | None = None


@dataclass(frozen=True)
class BootConfig:
    """A whole PXELINUX config file."""

    default: str
    labels: tuple[Label, ...]
    prompt: int | None = None
    timeout: int | None = None
    serial: str | None = None
    display: str | None = None
    ui: str | None = None
    menu_title: str | None = None


def _text(value: object, what: str, words: bool = False) -> str | None:
    """A field as text; no line breaks anywhere, and no blanks where pxelinux splits on them."""
    if value is None:
        return None
    text = str(value)
    if any(char in text for char in '\n\r\x00'):
        raise PxeError('%s %r contains a line break or NUL: it would inject lines into the boot config' % (what, text))
    text = text.strip()
    if not text:
        raise PxeError('%s is empty' % what)
    if words and any(char.isspace() for char in text):
        raise PxeError('%s %r contains white space' % (what, text))
    return text


def _required_text(value: object, what: str, words: bool = False) -> str:
    text = _text(value, what, words)
    if text is None:
        raise PxeError('%s is required' % what)
    return text


def _integer(value: object, what: str, low: int | None = None, high: int | None = None) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise PxeError('%s must be an integer, got %r' % (what, value)) from None
    if isinstance(value, bool) or (isinstance(value, float) and value != number):
        raise PxeError('%s must be an integer, got %r' % (what, value))
    if (low is not None and number < low) or (high is not None and number > high):
        raise PxeError('%s must be between %s and %s, got %d' % (what, low, high, number))
    return number


def _initrds(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).split(',')
    result = []
    for item in items:
        text = _text(item, what, words=True)
        if text and ',' in text:
            result.extend(_text(part, what, words=True) or '' for part in text.split(','))
        elif text:
            result.append(text)
    return tuple(result)


def check_config_name(name: object, loader: str = 'pxelinux') -> str:
    """A config file name inside ``pxelinux.cfg/`` (or the loader's directory): nothing that escapes."""
    text = _required_text(name, 'config name', words=True)
    if '/' in text or '..' in text or text.startswith('.'):
        raise PxeError("config name %r must be a plain file name inside %s/ (no '/', no '..', no leading '.')"
                       % (text, get_loader(loader).directory))
    return text


def parse_label(raw: Mapping[str, object], index: int) -> Label:
    where = 'labels[%d]' % index
    name = _required_text(raw.get('name'), '%s.name' % where, words=True)
    where = 'label %s' % name
    kernel = _text(raw.get('kernel'), '%s: kernel' % where, words=True)
    localboot = _integer(raw.get('localboot'), '%s: localboot' % where)
    if (kernel is None) == (localboot is None):
        raise PxeError('%s: give exactly one of kernel and localboot' % where)
    initrd = _initrds(raw.get('initrd'), '%s: initrd' % where)
    append = _text(raw.get('append'), '%s: append' % where)
    ipappend = _integer(raw.get('ipappend'), '%s: ipappend' % where, 0, 7)
    if localboot is not None and (initrd or append or ipappend is not None):
        raise PxeError('%s: initrd, append and ipappend only go with kernel, not with localboot' % where)
    if initrd and append and any(word.startswith('initrd=') for word in append.split()):
        raise PxeError('%s: the initrd is given twice, in initrd and as initrd= in append' % where)
    return Label(
        name=name,
        kernel=kernel,
        initrd=initrd,
        append=append,
        localboot=localboot,
        ipappend=ipappend,
        menu_label=_text(raw.get('menu_label'), '%s: menu_label' % where),
    )


def parse_config(default: object, labels: object, prompt: object = None, timeout: object = None,
                 serial: object = None, display: object = None, ui: object = None,
                 menu_title: object = None) -> BootConfig:
    """Validate a structured spec into a :class:`BootConfig`; every problem is a PxeError."""
    if not isinstance(labels, (list, tuple)) or not labels:
        raise PxeError('labels must be a non-empty list of mappings')
    parsed = []
    for index, raw in enumerate(labels):
        if not isinstance(raw, Mapping):
            raise PxeError('labels[%d] must be a mapping, got %r' % (index, raw))
        parsed.append(parse_label(raw, index))
    names = [label.name for label in parsed]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise PxeError('label(s) defined more than once: %s' % ', '.join(duplicates))
    default_text = _required_text(default, 'default (the label PXELINUX boots)', words=True)
    if default_text not in names:
        raise PxeError('default %r is not one of the labels (%s)' % (default_text, ', '.join(names)))
    return BootConfig(
        default=default_text,
        labels=tuple(parsed),
        prompt=_integer(prompt, 'prompt', 0, 1),
        timeout=_integer(timeout, 'timeout', 0, 35996),
        serial=_text(serial, 'serial'),
        display=_text(display, 'display', words=True),
        ui=_text(ui, 'ui'),
        menu_title=_text(menu_title, 'menu_title'),
    )


def render_config(config: BootConfig) -> str:
    """The config file text. SERIAL comes first: PXELINUX wants it before any other directive."""
    lines = [HEADER.rstrip('\n')]
    if config.serial is not None:
        lines.append('SERIAL %s' % config.serial)
    if config.ui is not None:
        lines.append('UI %s' % config.ui)
    if config.menu_title is not None:
        lines.append('MENU TITLE %s' % config.menu_title)
    lines.append('DEFAULT %s' % config.default)
    if config.prompt is not None:
        lines.append('PROMPT %d' % config.prompt)
    if config.timeout is not None:
        lines.append('TIMEOUT %d' % config.timeout)
    if config.display is not None:
        lines.append('DISPLAY %s' % config.display)
    for label in config.labels:
        lines.append('')
        lines.append('LABEL %s' % label.name)
        if label.menu_label is not None:
            lines.append('  MENU LABEL %s' % label.menu_label)
        if label.localboot is not None:
            lines.append('  LOCALBOOT %d' % label.localboot)
            continue
        lines.append('  KERNEL %s' % label.kernel)
        if label.initrd:
            lines.append('  INITRD %s' % ','.join(label.initrd))
        if label.append is not None:
            lines.append('  APPEND %s' % label.append)
        if label.ipappend is not None:
            lines.append('  IPAPPEND %d' % label.ipappend)
    return '\n'.join(lines) + '\n'


def referenced_files(config: BootConfig) -> list[tuple[str, str]]:
    """(what, path) for every file PXELINUX will fetch from the TFTP root for this config."""
    files = []
    if config.display is not None:
        files.append(('display', config.display))
    for label in config.labels:
        if label.kernel is not None:
            files.append(('label %s: kernel' % label.name, label.kernel))
        files.extend(('label %s: initrd' % label.name, initrd) for initrd in label.initrd)
    return files


def check_files(tftp_root: str, config: BootConfig) -> None:
    """Every kernel, initrd and display file exists under the TFTP root.

    A leading ``/`` means the TFTP root (what ``tftpd --secure`` serves); a path
    without one is taken from the root too, where pxelinux.0 lives.
    """
    missing = []
    escaping = []
    for what, path in referenced_files(config):
        full = _files.inside(tftp_root, path.lstrip('/'), what)
        if not os.path.isfile(full):
            missing.append('%s %s (%s)' % (what, path, full))
            continue
        try:
            _files.resolve_inside(tftp_root, full, '%s %s:' % (what, path))
        except FileStateError as exc:
            escaping.append(str(exc))
    if missing:
        raise PxeError('file(s) not found under %s: %s; copy them there first or set validate_files: false'
                       % (tftp_root, '; '.join(missing)))
    if escaping:
        raise PxeError('%s; tftpd --secure serves nothing outside its root (the node would get "File not found"):'
                       ' copy the file(s) into the root instead of linking them' % '; '.join(escaping))


def config_dir(tftp_root: str, loader: str = 'pxelinux') -> str:
    return os.path.join(tftp_root, get_loader(loader).directory)


def check_config_dir(tftp_root: str, loader: str = 'pxelinux') -> str:
    """``pxelinux.cfg/``, refused when it is not a directory or resolves outside the TFTP root.

    A ``pxelinux.cfg`` symlinked into the root (``configs/``) is fine; one linked
    out of it would have configs and pointers written where tftpd cannot serve them.
    """
    cfg_dir = config_dir(tftp_root, loader)
    if os.path.lexists(cfg_dir):
        _files.resolve_inside(tftp_root, cfg_dir, get_loader(loader).directory)
        if not os.path.isdir(cfg_dir):
            raise PxeError('%s exists and is not a directory' % cfg_dir)
    return cfg_dir


def remove_leftovers(tftp_root: str, locked_since: float, loader: str = 'pxelinux') -> list[str]:
    """Remove what killed runs left in ``pxelinux.cfg/``: temporary configs and pointers.

    Call it holding the TFTP root's :func:`_files.locked_directory`, acquired at
    ``locked_since``; every writer of that directory holds the same lock.
    """
    cfg_dir = config_dir(tftp_root, loader)
    return _files.remove_leftovers(cfg_dir, locked_since)


def check_tftp_root(tftp_root: str) -> str:
    if not os.path.isdir(tftp_root):
        raise PxeError('tftp_root %s is not a directory' % tftp_root)
    return os.path.abspath(tftp_root)


def config_users(cfg_dir: str, name: str) -> list[str]:
    """Names in ``pxelinux.cfg/`` that are symlinks to config ``name`` (pointers and aliases)."""
    users = []
    try:
        entries = list(os.scandir(cfg_dir))
    except FileNotFoundError:
        return []
    for entry in entries:
        # A temporary pointer (a run killed before its rename) points at nothing a node asks for.
        if not entry.is_symlink() or _files.is_temp_name(entry.name):
            continue
        target = os.readlink(entry.path)
        if os.path.normpath(os.path.join(cfg_dir, target)) == os.path.join(cfg_dir, name):
            users.append(entry.name)
    return sorted(users)


@dataclass
class ConfigFileState:
    """What is at a config path now: 'absent', 'file', 'symlink' (with its target) or 'other'."""

    kind: str
    content: bytes | None = None
    mode: int | None = None
    link: str | None = None


def config_file_state(path: str) -> ConfigFileState:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return ConfigFileState('absent')
    if stat.S_ISLNK(info.st_mode):
        return ConfigFileState('symlink', link=os.readlink(path))
    if stat.S_ISREG(info.st_mode):
        return ConfigFileState('file', content=_files.read_bytes(path), mode=stat.S_IMODE(info.st_mode))
    return ConfigFileState('other')


# --------------------------------------------------------------------------- pointers

def pointer_names(records: Sequence[NodeRecord], key: str, loader: str = 'pxelinux') -> list[list[tuple[str, str]]]:
    """Per node, (key, file name) of its pointers: ``0A120112`` for an IP, ``01-00-0d-...`` for a MAC.

    GRUB: ``grub.cfg-01-00-0d-...`` and ``grub.cfg-10.18.1.18``; iPXE: ``00-0d-....ipxe`` and ``10.18.1.18.ipxe``.
    """
    spec = get_loader(loader)
    columns = []
    if key in ('ip', 'both'):
        ips = pxe_hex_many(record.ip for record in records) if spec.hex_ip else [record.ip for record in records]
        columns.append([('ip', '%s%s%s' % (spec.ip_prefix, ip, spec.suffix)) for ip in ips])
    if key in ('mac', 'both'):
        prefix = spec.mac_prefix + ('01-' if spec.mac_type else '')
        macs = normalize_mac_many(record.mac for record in records)
        columns.append([('mac', '%s%s%s' % (prefix, mac.replace(':', '-'), spec.suffix)) for mac in macs])
    return [list(names) for names in zip(*columns)]


def check_keys(records: Sequence[NodeRecord], key: str) -> None:
    """Every node has the address(es) its pointer is named after."""
    wanted = POINTER_KEYS if key == 'both' else (key,)
    for needed in wanted:
        lacking = [record for record in records if record.get(needed) is None]
        if lacking:
            shown = ', '.join('%s (%s)' % (record.name, record.origin) for record in lacking[:MAX_LISTED])
            more = ' and %d more' % (len(lacking) - MAX_LISTED) if len(lacking) > MAX_LISTED else ''
            raise PxeError('key: %s needs the %s of every node; %d node(s) have none: %s%s'
                           % (key, needed, len(lacking), shown, more))


def boot_target(tftp_root: str, boot: object, loader: str = 'pxelinux') -> str:
    """The pointer target for config ``boot`` (relative to ``pxelinux.cfg/``), which must exist.

    Sub directories are allowed (``x86_64/2.6.23-rc8``); the config must stay
    inside the TFTP root, because ``tftpd --secure`` serves nothing outside it.
    """
    text = _required_text(boot, 'boot', words=True)
    cfg_dir = config_dir(tftp_root, loader)
    full = _files.inside(cfg_dir, text, 'boot config')
    target = os.path.relpath(full, cfg_dir)
    if not os.path.isfile(full):
        raise PxeError('boot config %s does not exist (%s); write it first, for example with cluster.netboot.pxe_config'
                       '%s' % (text, full, '' if loader == 'pxelinux' else ' (loader: %s)' % loader))
    _files.resolve_inside(tftp_root, full, 'boot config %s:' % text)
    return target


CHANGING = ('create', 'replace', 'remove')


@dataclass
class PointerChange:
    """One pointer of one node: what is there, what should be, and what to do about it.

    ``action`` is ``create``, ``replace``, ``remove`` (these change the tree) or
    ``keep`` / ``absent`` (nothing to do).
    """

    name: str
    key: str
    path: str
    previous: str | None
    target: str | None
    action: str
    # What stood at the path before when it was not a symlink ('file'), else None.
    replaced_kind: str | None = None
    loader: str = 'pxelinux'

    @property
    def changed(self) -> bool:
        return self.action in CHANGING


def _entry_kinds(cfg_dir: str) -> dict[str, str]:
    """Name -> ``link``, ``file`` or ``other`` for everything in ``cfg_dir``: one listing, no stat per pointer."""
    kinds = {}
    try:
        with os.scandir(cfg_dir) as entries:
            for entry in entries:
                # d_type from the listing; scandir falls back to lstat where the file system gives none.
                if entry.is_symlink():
                    kinds[entry.name] = 'link'
                elif entry.is_file(follow_symlinks=False):
                    kinds[entry.name] = 'file'
                else:
                    kinds[entry.name] = 'other'
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise PxeError('cannot list %s: %s' % (cfg_dir, exc)) from None
    return kinds


def _current(path: str) -> tuple[str | None, str | None]:
    """(link target, None) for a symlink, (None, None) when absent, (None, 'file' or 'other') otherwise."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        raise PxeError('cannot inspect %s: %s' % (path, exc)) from None
    if stat.S_ISLNK(info.st_mode):
        return _files.read_link(path), None
    return None, 'file' if stat.S_ISREG(info.st_mode) else 'other'


def plan_pointers(tftp_root: str, records: Sequence[NodeRecord], key: str, target: str | None,
                  state: str, force: bool = False, loader: str = 'pxelinux') -> list[PointerChange]:
    """The change for every pointer of every node, from one listing of the directory and one readlink per link.

    Raises before anything is touched when a pointer path holds a regular file
    (and not ``force``) or anything else that is not a symlink.
    """
    if key not in ('ip', 'mac', 'both'):
        raise PxeError('key must be ip, mac or both, got %r' % (key,))
    if state not in ('present', 'absent'):
        raise PxeError('state must be present or absent, got %r' % (state,))
    if state == 'present' and target is None:
        raise PxeError('state: present needs a boot config')
    check_keys(records, key)
    cfg_dir = check_config_dir(tftp_root, loader)
    names = pointer_names(records, key, loader)
    if state == 'present':
        for record, pointers in zip(records, names):
            for _pointer_key, file_name in pointers:
                if file_name == target:
                    raise PxeError('node %s: its pointer %s is the boot config itself' % (record.name, file_name))
    kinds = _entry_kinds(cfg_dir)
    new_target = None if state == 'absent' else target
    plan = []
    foreign = []
    blocked = []
    directory_fd = os.open(cfg_dir, os.O_RDONLY | os.O_DIRECTORY) if kinds else -1
    try:
        for record, pointers in zip(records, names):
            for pointer_key, file_name in pointers:
                path = cfg_dir + os.sep + file_name
                kind = kinds.get(file_name)
                previous = None
                if kind == 'link':
                    # Relative to the open directory: no walk down the whole path per pointer.
                    try:
                        previous, kind = os.readlink(file_name, dir_fd=directory_fd), None
                    except OSError:
                        previous, kind = _current(path)  # changed since the listing (another tool)
                elif kind is not None:
                    previous, kind = _current(path)
                if kind == 'other':
                    blocked.append('%s (%s)' % (path, record.name))
                    continue
                if kind == 'file' and not force:
                    foreign.append('%s (%s)' % (path, record.name))
                    continue
                exists = previous is not None or kind is not None
                if state == 'absent':
                    action = 'remove' if exists else 'absent'
                elif previous == target and kind is None:
                    action = 'keep'
                else:
                    action = 'replace' if exists else 'create'
                plan.append(PointerChange(record.name, pointer_key, path, previous, new_target, action, kind, loader))
    finally:
        if directory_fd >= 0:
            os.close(directory_fd)
    if blocked:
        raise PxeError('%d pointer path(s) are directories or special files, not touched: %s'
                       % (len(blocked), _listing(blocked)))
    if foreign:
        raise PxeError('%d pointer path(s) are regular files this module did not create (a hand-written '
                       'per-node config?); nothing was changed; remove them or set force: true to replace them: %s'
                       % (len(foreign), _listing(foreign)))
    return plan


def report(plan: Iterable[PointerChange], changed_only: bool = False) -> list[dict[str, object]]:
    """The module's ``nodes``: one entry per (loader, key, previous, target, changed), its nodes folded.

    ansible-core spends tens of microseconds on every dict and string a module
    returns; 10,000 pointers that agree (an unchanged rerun) are one entry here,
    ``node[1-10000]``, instead of 10,000. Entries keep the order of their first pointer.
    """
    groups: dict[tuple[str, str, str | None, str | None, bool], list[str]] = {}
    for change in plan:
        changed = change.action in CHANGING
        if changed or not changed_only:
            groups.setdefault((change.loader, change.key, change.previous, change.target, changed), []).append(change.name)
    return [{'nodeset': fold_names(names), 'count': len(names), 'loader': loader, 'key': key,
             'previous': previous, 'target': target, 'changed': changed}
            for (loader, key, previous, target, changed), names in groups.items()]


def _listing(items: Sequence[str]) -> str:
    shown = ', '.join(items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        shown += ' and %d more' % (len(items) - MAX_LISTED)
    return shown


def apply_pointers(plan: Iterable[PointerChange]) -> None:
    """Carry the plan out: each pointer is renamed into place, never absent while it changes."""
    # New pointers are made relative to an open pxelinux.cfg/: a quarter less time per symlink
    # than resolving the whole path each time, on a first run over 10,000 nodes.
    directories: dict[str, int] = {}
    try:
        for change in plan:
            if change.action == 'create' and change.target is not None:
                directory, file_name = os.path.split(change.path)
                if directory not in directories:
                    directories[directory] = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
                # Nothing stands there: symlink(2) itself appears atomically, and skipping the
                # temporary name halves the metadata writes of a first run.
                try:
                    os.symlink(change.target, file_name, dir_fd=directories[directory])
                except FileExistsError:
                    # Someone made it since the plan was read (another tool): replace it atomically.
                    _files.atomic_symlink(change.path, change.target)
            elif change.action == 'replace' and change.target is not None:
                _files.atomic_symlink(change.path, change.target)
            elif change.action == 'remove':
                _files.remove(change.path)
    except OSError as exc:
        raise PxeError('cannot change pointer %s: %s' % (change.path, exc)) from None
    finally:
        for fd in directories.values():
            os.close(fd)


def summarize(plan: Sequence[PointerChange]) -> dict[str, int]:
    counts = {'pointers': len(plan), 'created': 0, 'replaced': 0, 'removed': 0, 'unchanged': 0}
    for change in plan:
        if change.action == 'create':
            counts['created'] += 1
        elif change.action == 'replace':
            counts['replaced'] += 1
        elif change.action == 'remove':
            counts['removed'] += 1
        else:
            counts['unchanged'] += 1
    return counts


def pointer_diff(tftp_root: str, plan: Sequence[PointerChange], loaders: Sequence[str] = ('pxelinux',)) -> dict[str, str]:
    """One line per changed pointer, ``0A120112 (node1-2) -> orbit-2.0.0``, before and after.

    With several loaders the names are relative to the TFTP root (``grub/grub.cfg-10.18.1.18``).
    """
    base = config_dir(tftp_root, loaders[0]) if len(loaders) == 1 else tftp_root
    before = []
    after = []
    for change in plan:
        if not change.changed:
            continue
        file_name = os.path.relpath(change.path, base)
        if change.replaced_kind == 'file':
            before.append('%s (%s): regular file\n' % (file_name, change.name))
        elif change.previous is not None:
            before.append('%s (%s) -> %s\n' % (file_name, change.name, change.previous))
        if change.target is not None:
            after.append('%s (%s) -> %s\n' % (file_name, change.name, change.target))
    return _files.text_diff(''.join(before), ''.join(after), '%s/' % base)
