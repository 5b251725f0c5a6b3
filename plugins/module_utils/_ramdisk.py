# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A kernel and a busybox initramfs for network-booted nodes, from Debian packages only.

The kernel and its modules come from a Debian kernel package (a metapackage
such as ``linux-image-amd64`` is followed to the versioned image it depends
on), the userland from ``busybox-static``, further programs from packages or
from files the operator gives, each with the shared libraries ``ldd`` names.

Reproducible: the archive is written here (cpio "newc"), entries sorted by
name, owner root, one fixed modification time, inode numbers counted from 1,
gzip without name and time; the same inputs give the same bytes.

Cached: every input (this builder, the package versions and archive checksums,
the init and the other files, the module list, the names, the time stamp)
makes a fingerprint. ``build-info.json`` next to the outputs records it with
the outputs' checksums; while both match nothing is rebuilt.

Programs run through ``run_command(argv, cwd=None) -> (rc, stdout, stderr)``
(``AnsibleModule.run_command`` fits), so everything here is testable with a
fake runner.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os
import re
import shutil
import stat
import typing as t
from dataclasses import dataclass, field

from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError

# Bump when the layout of the ramdisk changes in a way the fingerprint cannot see.
FORMAT = 2
INFO_NAME = 'build-info.json'
# What the ramdisk says about itself, for an operator looking inside.
IDENTITY_PATH = 'etc/cluster-netboot-ramdisk'
BUSYBOX_PACKAGE = 'busybox-static'
PLAIN_NAME = re.compile(r'^[A-Za-z0-9._-]+\Z')
MODULE_NAME = re.compile(r'^[A-Za-z0-9_-]+\Z')
PACKAGE_NAME = re.compile(r'^[a-z0-9][a-z0-9+.-]+\Z')
SHA256 = re.compile(r'^[0-9a-f]{64}\Z')
# The skeleton every ramdisk has; sbin and usr/{bin,sbin} lead to bin.
SKELETON_DIRS = ('bin', 'dev', 'etc', 'lib', 'proc', 'run', 'sys', 'tmp', 'usr', 'var')
SKELETON_LINKS = (('sbin', 'bin'), ('usr/bin', '../bin'), ('usr/sbin', '../bin'))
# The kernel opens /dev/console for init before devtmpfs is mounted.
DEVICES = (('dev/console', 0o600, 5, 1), ('dev/null', 0o666, 1, 3))

RunCommand = t.Callable[..., t.Tuple[int, str, str]]


class RamdiskError(NetbootError):
    """A build input that cannot be used, or a build step that failed."""


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class ExtraFile:
    """A file of the managed host copied into the ramdisk."""

    src: str
    dest: str
    mode: int = 0o755


@dataclass(frozen=True)
class Binary:
    """A program copied into /bin with its libraries: from a package (``package``, path inside it) or a file."""

    path: str
    name: str
    package: str | None = None


@dataclass(frozen=True)
class Spec:
    """What to build and where."""

    output: str
    work: str
    init: str
    kernel_package: str = 'linux-image-amd64'
    modules: tuple[str, ...] = ()
    files: tuple[ExtraFile, ...] = ()
    binaries: tuple[Binary, ...] = ()
    deb_dir: str | None = None
    epoch: int = 0
    kernel_name: str = 'vmlinuz'
    initrd_name: str = 'initramfs.gz'

    @property
    def packages(self) -> list[str]:
        """Every package the build takes something from, kernel first, each once."""
        names = [self.kernel_package, BUSYBOX_PACKAGE]
        names += [binary.package for binary in self.binaries if binary.package]
        return list(dict.fromkeys(names))


def _ramdisk_path(path: str, what: str) -> str:
    """A path inside the ramdisk, without the leading slash; no '..' or empty parts."""
    relative = path.strip('/')
    parts = relative.split('/')
    if not relative or any(part in ('', '.', '..') for part in parts) or '\0' in path or '\n' in path:
        raise RamdiskError('%s %r is not a usable path inside the ramdisk' % (what, path))
    return relative


def check_spec(spec: Spec) -> None:
    """Refuse bad input before anything is resolved, downloaded or written."""
    for what, name in (('kernel_name', spec.kernel_name), ('initrd_name', spec.initrd_name)):
        if not PLAIN_NAME.match(name) or name in ('.', '..', INFO_NAME):
            raise RamdiskError('%s must be a plain file name, not %r' % (what, name))
    if spec.kernel_name == spec.initrd_name:
        raise RamdiskError('kernel_name and initrd_name must differ')
    if spec.epoch < 0:
        raise RamdiskError('epoch must be a number of seconds >= 0, not %d' % spec.epoch)
    for package in spec.packages:
        if not PACKAGE_NAME.match(package):
            raise RamdiskError('%r is not a Debian package name' % package)
    bad = [module for module in spec.modules if not MODULE_NAME.match(module)]
    if bad:
        raise RamdiskError('module names are plain words: %s' % ', '.join(repr(module) for module in bad))
    if not os.path.isfile(spec.init) or not os.access(spec.init, os.R_OK):
        raise RamdiskError('the init %s is not a readable file' % spec.init)
    targets = ['init', IDENTITY_PATH] + [_ramdisk_path(extra.dest, 'dest') for extra in spec.files]
    for extra in spec.files:
        if not os.path.isfile(extra.src) or not os.access(extra.src, os.R_OK):
            raise RamdiskError('the file %s is not a readable file' % extra.src)
    for binary in spec.binaries:
        if not PLAIN_NAME.match(binary.name):
            raise RamdiskError('a program name must be a plain file name, not %r' % binary.name)
        if binary.package is None and not (os.path.isfile(binary.path) and os.access(binary.path, os.X_OK)):
            raise RamdiskError('the program %s is not an executable file' % binary.path)
        if binary.package is not None:
            _ramdisk_path(binary.path, 'path')
        targets.append('bin/' + binary.name)
    duplicates = sorted({target for target in targets if targets.count(target) > 1})
    if duplicates:
        raise RamdiskError('more than one file for %s in the ramdisk' % ', '.join(duplicates))
    if spec.deb_dir is not None and not os.path.isdir(spec.deb_dir):
        raise RamdiskError('deb_dir %s is not a directory' % spec.deb_dir)


# --------------------------------------------------------------------------- packages


@dataclass(frozen=True)
class Package:
    """One resolved package: the archive's version and checksum (and where the .deb is, when known)."""

    name: str
    version: str
    sha256: str
    path: str | None = None


def sha256_file(path: str) -> str:
    """The sha256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def parse_control(text: str) -> dict[str, str]:
    """The fields of the first paragraph of a Debian control record (continuation lines joined)."""
    fields: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        if line[0] in ' \t' and last:
            fields[last] += '\n' + line.strip()
            continue
        name, sep, value = line.partition(':')
        if sep:
            last = name.strip()
            fields[last] = value.strip()
    return fields


def is_kernel_metapackage(name: str) -> bool:
    """linux-image-amd64 is a metapackage; linux-image-6.1.0-18-amd64 is the kernel."""
    return name.startswith('linux-image-') and not re.match(r'^linux-image-[0-9]', name)


def versioned_kernel(depends: str) -> str | None:
    """The first versioned linux-image package a Depends field names."""
    for alternative in re.split(r'[,|]', depends):
        name = alternative.strip().split(' ', 1)[0].split(':', 1)[0]
        if re.match(r'^linux-image-[0-9]', name):
            return name
    return None


def _checked(run_command: RunCommand, argv: list[str], what: str, cwd: str | None = None) -> str:
    rc, out, err = run_command(argv, cwd=cwd)
    if rc != 0:
        raise RamdiskError('%s failed (%s, exit %d): %s' % (what, ' '.join(argv), rc, (err or out).strip()[-2000:]))
    return out


class AptArchive:
    """Packages from apt: candidates from ``apt-cache show``, archives by ``apt-get download`` into a cache."""

    def __init__(self, run_command: RunCommand, cache_dir: str):
        self.run_command = run_command
        self.cache_dir = cache_dir

    def record(self, name: str) -> tuple[dict[str, str], str, str | None]:
        rc, out, _err = self.run_command(['apt-cache', 'show', '--no-all-versions', name])
        fields = parse_control(out) if rc == 0 else {}
        if not fields:
            raise RamdiskError('package %s is unknown to apt (run apt-get update?)' % name)
        return fields, fields.get('SHA256', ''), None

    def download(self, package: Package) -> None:
        os.makedirs(self.cache_dir, exist_ok=True)
        _checked(self.run_command, ['apt-get', 'download', '-q', '-o', 'APT::Sandbox::User=root',
                                    '%s=%s' % (package.name, package.version)],
                 'downloading %s %s' % (package.name, package.version), cwd=self.cache_dir)


class DebDirectory:
    """Packages from a directory of .deb files (consoles without a route to an archive): the highest version."""

    def __init__(self, run_command: RunCommand, directory: str):
        self.run_command = run_command
        self.cache_dir = directory
        self._index: dict[str, list[tuple[dict[str, str], str]]] | None = None

    def _debs(self) -> dict[str, list[tuple[dict[str, str], str]]]:
        if self._index is None:
            self._index = {}
            for path in sorted(glob.glob(os.path.join(self.cache_dir, '*.deb'))):
                rc, out, _err = self.run_command(['dpkg-deb', '-f', path, 'Package', 'Version', 'Depends'])
                fields = parse_control(out) if rc == 0 else {}
                if fields.get('Package') and fields.get('Version'):
                    self._index.setdefault(fields['Package'], []).append((fields, path))
        return self._index

    def _newer(self, version: str, than: str) -> bool:
        rc, _out, _err = self.run_command(['dpkg', '--compare-versions', version, 'gt', than])
        return rc == 0

    def record(self, name: str) -> tuple[dict[str, str], str, str | None]:
        best: tuple[dict[str, str], str] | None = None
        for candidate in self._debs().get(name, []):
            if best is None or self._newer(candidate[0]['Version'], best[0]['Version']):
                best = candidate
        if best is None:
            raise RamdiskError('no .deb of %s in %s' % (name, self.cache_dir))
        return best[0], sha256_file(best[1]), best[1]

    def download(self, package: Package) -> None:
        raise RamdiskError('%s %s (sha256 %s) vanished from %s'
                           % (package.name, package.version, package.sha256, self.cache_dir))


Source = t.Union[AptArchive, DebDirectory]


def package_source(spec: Spec, run_command: RunCommand) -> Source:
    """Where the packages come from: the .deb directory when given, else apt with a cache in the work dir."""
    if spec.deb_dir is not None:
        return DebDirectory(run_command, spec.deb_dir)
    return AptArchive(run_command, os.path.join(spec.work, 'debs'))


def resolve(source: Source, name: str) -> Package:
    """Name -> version and archive checksum; a kernel metapackage is followed to its versioned image."""
    fields, checksum, path = source.record(name)
    if is_kernel_metapackage(name):
        image = versioned_kernel(fields.get('Depends', ''))
        if image is None:
            raise RamdiskError('%s does not depend on a versioned linux-image package' % name)
        return resolve(source, image)
    if not fields.get('Version') or not SHA256.match(checksum):
        raise RamdiskError('%s: no version or SHA256 in its record' % name)
    return Package(name, fields['Version'], checksum, path)


def find_deb(directory: str, package: Package) -> str | None:
    """The .deb of this package in a directory whose checksum is the archive's."""
    for path in sorted(glob.glob(os.path.join(glob.escape(directory), glob.escape(package.name) + '_*.deb'))):
        if sha256_file(path) == package.sha256:
            return path
    return None


def fetch(source: Source, package: Package) -> str:
    """The checked .deb of a resolved package, downloaded once into the cache."""
    path = package.path or find_deb(source.cache_dir, package)
    if path is None:
        source.download(package)
        path = find_deb(source.cache_dir, package)
        if path is None:
            raise RamdiskError('the downloaded %s does not match the archive\'s SHA256 %s'
                               % (package.name, package.sha256))
    return path


# --------------------------------------------------------------------------- fingerprint and cache


def builder_digest() -> str:
    """This builder's own source (so that a changed builder rebuilds), else its format number."""
    loader = globals().get('__loader__')
    try:
        source = loader.get_source(__name__) if loader is not None else None  # type: ignore[union-attr]
    except (ImportError, OSError, AttributeError):
        source = None
    if not source:
        return 'format-%d' % FORMAT
    return hashlib.sha256(source if isinstance(source, bytes) else source.encode('utf-8')).hexdigest()


def fingerprint_inputs(spec: Spec, packages: t.Sequence[Package]) -> list[str]:
    """One line per input; the fingerprint is their sha256. Stored in the ramdisk and in build-info.json."""
    lines = ['format %d' % FORMAT, 'builder %s' % builder_digest(), 'init %s' % sha256_file(spec.init)]
    lines += ['file %s %04o %s' % (_ramdisk_path(extra.dest, 'dest'), extra.mode, sha256_file(extra.src))
              for extra in spec.files]
    for binary in spec.binaries:
        origin = 'package %s %s' % (binary.package, binary.path) if binary.package else sha256_file(binary.path)
        lines.append('program %s %s' % (binary.name, origin))
    lines.append('modules %s' % ' '.join(spec.modules))
    lines += ['package %s %s %s' % (package.name, package.version, package.sha256) for package in packages]
    lines += ['epoch %d' % spec.epoch, 'names %s %s' % (spec.kernel_name, spec.initrd_name)]
    return lines


def fingerprint(lines: t.Sequence[str]) -> str:
    """The sha256 of the input lines."""
    return hashlib.sha256(''.join(line + '\n' for line in lines).encode('utf-8')).hexdigest()


def info_path(spec: Spec) -> str:
    """Where the build record lives."""
    return os.path.join(spec.output, INFO_NAME)


def read_info(spec: Spec) -> dict[str, t.Any] | None:
    """The recorded build, None when missing or unreadable."""
    try:
        with open(info_path(spec), encoding='utf-8') as handle:
            info = json.load(handle)
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def up_to_date(spec: Spec, info: dict[str, t.Any] | None, wanted: str) -> bool:
    """The recorded fingerprint is the wanted one and both outputs still have their recorded checksums."""
    if not info or info.get('fingerprint') != wanted:
        return False
    for name, key in ((spec.kernel_name, 'kernel_sha256'), (spec.initrd_name, 'initrd_sha256')):
        path = os.path.join(spec.output, name)
        if not os.path.isfile(path) or sha256_file(path) != info.get(key):
            return False
    return True


# --------------------------------------------------------------------------- the archive


@dataclass
class Entry:
    """One member of the initramfs."""

    mode: int
    data: bytes = b''
    source: str | None = None
    rdev: tuple[int, int] = (0, 0)


@dataclass
class Tree:
    """The initramfs being assembled: ramdisk path (no leading slash) -> entry; parents made as needed."""

    entries: dict[str, Entry] = field(default_factory=dict)

    def directory(self, path: str) -> None:
        parent = os.path.dirname(path)
        if parent:
            self.directory(parent)
        existing = self.entries.get(path)
        if existing is None:
            self.entries[path] = Entry(stat.S_IFDIR | 0o755)
        elif not stat.S_ISDIR(existing.mode):
            raise RamdiskError('%s is in the ramdisk twice, once as a directory' % path)

    def _add(self, path: str, entry: Entry) -> None:
        if os.path.dirname(path):
            self.directory(os.path.dirname(path))
        if path in self.entries:
            raise RamdiskError('%s is in the ramdisk twice' % path)
        self.entries[path] = entry

    def file(self, path: str, source: str, mode: int = 0o644) -> None:
        self._add(path, Entry(stat.S_IFREG | mode, source=source))

    def content(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self._add(path, Entry(stat.S_IFREG | mode, data=data))

    def symlink(self, path: str, target: str) -> None:
        self._add(path, Entry(stat.S_IFLNK | 0o777, data=target.encode()))

    def device(self, path: str, mode: int, major: int, minor: int) -> None:
        self._add(path, Entry(stat.S_IFCHR | mode, rdev=(major, minor)))

    def __contains__(self, path: str) -> bool:
        return path in self.entries


def _pad(length: int) -> bytes:
    return b'\0' * (-length % 4)


def _header(ino: int, mode: int, nlink: int, mtime: int, size: int, rdev: tuple[int, int], name: bytes) -> bytes:
    fields = (ino, mode, 0, 0, nlink, mtime, size, 0, 0, rdev[0], rdev[1], len(name) + 1, 0)
    header = b'070701' + b''.join(b'%08X' % value for value in fields) + name + b'\0'
    return header + _pad(len(header))


def write_cpio(tree: Tree, handle: t.BinaryIO, mtime: int) -> None:
    """The tree as a cpio "newc" archive: sorted names, root owner, one mtime, inodes from 1."""
    for ino, name in enumerate(sorted(tree.entries), start=1):
        entry = tree.entries[name]
        data = entry.data
        if entry.source is not None:
            with open(entry.source, 'rb') as source:
                data = source.read()
        nlink = 2 if stat.S_ISDIR(entry.mode) else 1
        handle.write(_header(ino, entry.mode, nlink, mtime, len(data), entry.rdev, name.encode('utf-8')))
        handle.write(data)
        handle.write(_pad(len(data)))
    handle.write(_header(0, 0, 1, 0, 0, (0, 0), b'TRAILER!!!'))


def write_initramfs(tree: Tree, path: str, mtime: int) -> None:
    """The gzip'd archive, without a file name or time in the gzip header."""
    with open(path, 'wb') as raw:
        with gzip.GzipFile(filename='', mode='wb', compresslevel=9, fileobj=raw, mtime=0) as packed:
            write_cpio(tree, t.cast(t.BinaryIO, packed), mtime)
        raw.flush()
        os.fsync(raw.fileno())


# --------------------------------------------------------------------------- building


def library_paths(ldd_output: str) -> list[str]:
    """The absolute paths ``ldd`` names (libraries and the loader), in order."""
    paths = []
    for line in ldd_output.splitlines():
        for word in line.split():
            if word.startswith('/'):
                paths.append(word)
                break
    return list(dict.fromkeys(paths))


def add_program(tree: Tree, run_command: RunCommand, path: str, name: str) -> None:
    """A dynamic program into /bin, with the libraries (and loader) ldd resolves for it."""
    tree.file('bin/' + name, path, 0o755)
    _rc, out, _err = run_command(['ldd', path])
    for library in library_paths(out):
        relative = library.lstrip('/')
        if os.path.isfile(library) and relative not in tree:
            tree.file(relative, os.path.realpath(library), 0o755)


def module_paths(show_depends: str) -> list[str]:
    """The module files of ``modprobe --show-depends`` output, in insmod order (built-ins have none)."""
    return [words[1] for words in (line.split() for line in show_depends.splitlines())
            if len(words) >= 2 and words[0] == 'insmod']


@dataclass(frozen=True)
class Kernel:
    """An extracted kernel package."""

    release: str
    module_root: str
    vmlinuz: str


def extract_kernel(spec: Spec, run_command: RunCommand, package: Package, deb: str) -> Kernel:
    """The kernel tree, extracted once per package checksum (it is large), with its module index."""
    tree = os.path.join(spec.work, 'kernel-' + package.sha256)
    if not os.path.isfile(os.path.join(tree, '.complete')):
        for old in glob.glob(os.path.join(glob.escape(spec.work), 'kernel-*')):
            shutil.rmtree(old)
        os.makedirs(tree)
        _checked(run_command, ['dpkg-deb', '-x', deb, tree], 'extracting %s' % package.name)
    found = sorted(glob.glob(os.path.join(glob.escape(tree), 'lib', 'modules', '*', 'kernel'))
                   + glob.glob(os.path.join(glob.escape(tree), 'usr', 'lib', 'modules', '*', 'kernel')))
    if not found:
        raise RamdiskError('%s %s has no lib/modules/<release>/kernel' % (package.name, package.version))
    module_dir = os.path.dirname(found[0])
    release = os.path.basename(module_dir)
    module_root = module_dir[:-len('/lib/modules/' + release)]
    vmlinuz = os.path.join(tree, 'boot', 'vmlinuz-' + release)
    if not os.path.isfile(vmlinuz):
        raise RamdiskError('%s %s has no boot/vmlinuz-%s' % (package.name, package.version, release))
    if not os.path.isfile(os.path.join(tree, '.complete')):
        _checked(run_command, ['depmod', '-b', module_root, release], 'depmod')
        with open(os.path.join(tree, '.complete'), 'w', encoding='utf-8'):
            pass
    return Kernel(release, module_root, vmlinuz)


def add_modules(tree: Tree, run_command: RunCommand, kernel: Kernel, spec: Spec, package: Package) -> None:
    """The modules and what they depend on, each once, and /etc/modules.order for the init's insmod loop."""
    order: list[str] = []
    for module in spec.modules:
        rc, out, err = run_command(['modprobe', '-d', kernel.module_root, '-S', kernel.release, '--show-depends',
                                    module])
        if rc != 0:
            raise RamdiskError('module %s is not in %s %s: %s' % (module, package.name, package.version, err.strip()))
        for path in module_paths(out):
            relative = 'lib/modules/' + path.split('/lib/modules/', 1)[-1]
            if '/' + relative not in order:
                order.append('/' + relative)
                tree.file(relative, path, 0o644)
    tree.content('etc/modules.order', ''.join(line + '\n' for line in order).encode())


def assemble(spec: Spec, run_command: RunCommand, packages: dict[str, Package], debs: dict[str, str],
             kernel: Kernel, inputs: t.Sequence[str]) -> Tree:
    """Everything that goes into the initramfs."""
    tree = Tree()
    for directory in SKELETON_DIRS:
        tree.directory(directory)
    for path, target in SKELETON_LINKS:
        tree.symlink(path, target)
    for path, mode, major, minor in DEVICES:
        tree.device(path, mode, major, minor)

    extracted: dict[str, str] = {}

    def unpacked(name: str) -> str:
        if name not in extracted:
            target = os.path.join(spec.work, 'extract', name)
            os.makedirs(target)
            _checked(run_command, ['dpkg-deb', '-x', debs[name], target], 'extracting %s' % name)
            extracted[name] = target
        return extracted[name]

    # busybox --list names busybox itself, which must stay the real binary.
    busybox = os.path.join(unpacked(BUSYBOX_PACKAGE), 'bin', 'busybox')
    if not os.path.isfile(busybox):
        raise RamdiskError('%s has no bin/busybox' % BUSYBOX_PACKAGE)
    tree.file('bin/busybox', busybox, 0o755)
    for binary in spec.binaries:
        source = binary.path
        if binary.package:
            source = os.path.join(unpacked(binary.package), _ramdisk_path(binary.path, 'path'))
            if not os.path.isfile(source):
                raise RamdiskError('%s %s has no %s' % (binary.package, packages[binary.package].version, binary.path))
        add_program(tree, run_command, source, binary.name)
    applets = _checked(run_command, [busybox, '--list'], 'busybox --list')
    for applet in applets.split():
        if PLAIN_NAME.match(applet) and 'bin/' + applet not in tree:
            tree.symlink('bin/' + applet, 'busybox')

    add_modules(tree, run_command, kernel, spec, packages[spec.kernel_package])
    tree.file('init', spec.init, 0o755)
    for extra in spec.files:
        tree.file(_ramdisk_path(extra.dest, 'dest'), extra.src, extra.mode)
    tree.content(IDENTITY_PATH, ''.join(line + '\n' for line in inputs).encode())
    return tree


@dataclass
class Plan:
    """The resolved inputs and whether the outputs on disk are current."""

    spec: Spec
    packages: dict[str, Package]
    inputs: list[str]
    fingerprint: str
    recorded: dict[str, t.Any] | None
    current: bool


def plan(spec: Spec, run_command: RunCommand) -> Plan:
    """Resolve the packages, compute the fingerprint, compare with the record. Writes nothing."""
    check_spec(spec)
    source = package_source(spec, run_command)
    packages = {name: resolve(source, name) for name in spec.packages}
    inputs = fingerprint_inputs(spec, list(packages.values()))
    wanted = fingerprint(inputs)
    recorded = read_info(spec)
    return Plan(spec, packages, inputs, wanted, recorded, up_to_date(spec, recorded, wanted))


def build(the_plan: Plan, run_command: RunCommand, move: t.Callable[[str, str], None]) -> dict[str, t.Any]:
    """Build the kernel and initramfs into the output directory; ``move(temp, dest)`` publishes each file."""
    spec = the_plan.spec
    os.makedirs(spec.work, exist_ok=True)
    os.makedirs(spec.output, exist_ok=True)
    source = package_source(spec, run_command)
    debs = {name: fetch(source, package) for name, package in the_plan.packages.items()}
    kernel_package = the_plan.packages[spec.kernel_package]
    kernel = extract_kernel(spec, run_command, kernel_package, debs[spec.kernel_package])
    scratch = os.path.join(spec.work, 'extract')
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        tree = assemble(spec, run_command, the_plan.packages, debs, kernel, the_plan.inputs)
        initrd_temp = os.path.join(spec.output, '.%s.tmp' % spec.initrd_name)
        write_initramfs(tree, initrd_temp, spec.epoch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    kernel_temp = os.path.join(spec.output, '.%s.tmp' % spec.kernel_name)
    shutil.copyfile(kernel.vmlinuz, kernel_temp)
    for temp, name in ((kernel_temp, spec.kernel_name), (initrd_temp, spec.initrd_name)):
        os.chmod(temp, 0o644)
        move(temp, os.path.join(spec.output, name))
    info = summary(the_plan)
    info_temp = os.path.join(spec.output, '.%s.tmp' % INFO_NAME)
    with open(info_temp, 'w', encoding='utf-8') as handle:
        handle.write(json.dumps(info, indent=1, sort_keys=True) + '\n')
    os.chmod(info_temp, 0o644)
    move(info_temp, info_path(spec))
    return info


def summary(the_plan: Plan, outputs: bool = True) -> dict[str, t.Any]:
    """What the outputs are: the record written next to them, and the module's result.

    ``outputs=False`` leaves out the outputs' checksums (a build is due and did not run: check mode).
    """
    spec = the_plan.spec
    kernel = os.path.join(spec.output, spec.kernel_name)
    initrd = os.path.join(spec.output, spec.initrd_name)
    package = the_plan.packages[spec.kernel_package]
    result: dict[str, t.Any] = {
        'fingerprint': the_plan.fingerprint, 'inputs': the_plan.inputs,
        'kernel': kernel, 'initrd': initrd,
        'kernel_package': package.name, 'kernel_version': package.version,
    }
    if outputs:
        result.update(kernel_sha256=sha256_file(kernel), initrd_sha256=sha256_file(initrd),
                      initrd_size=os.path.getsize(initrd))
    return result
