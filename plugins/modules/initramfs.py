#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: initramfs
short_description: Build the kernel and busybox initramfs that network-booted nodes run, from Debian packages
version_added: 0.1.0
description:
  - Builds, on the host it runs on (the console), a kernel and a gzip'd initramfs from distribution packages only,
    for nodes to PXE-boot. The P(cluster.netboot.imaging_ramdisk#role) role uses it for the imaging ramdisk and,
    through that role, P(cluster.netboot.diskless_initrd#role) for the diskless NFS-root initramfs.
  - The kernel and its modules come from a Debian kernel package (a metapackage such as V(linux-image-amd64) is
    followed to the versioned image package it depends on; C(dpkg-deb -x), C(depmod -b)); the modules in
    O(modules) and their dependencies are put in C(/lib/modules) in C(modprobe --show-depends) order and listed
    in C(/etc/modules.order) for the init to C(insmod). The userland is C(busybox-static) (an applet link for every
    applet). O(binaries) adds programs with the shared libraries C(ldd) names.
  - Packages are resolved with C(apt-cache show) and downloaded once with C(apt-get download) into
    O(work_dir)C(/debs), each checked against the archive's SHA256; with O(deb_dir) they come from a directory of
    C(.deb) files instead (the highest version of each), for consoles without a route to an archive.
  - Reproducible; the same inputs give the same bytes (entries sorted, owned by root, one modification time
    O(epoch), inode numbers counted from 1, gzip without name or time).
  - Cached; a fingerprint of every input (this builder, package versions and archive checksums, the init, the
    other files and programs, the module list, the names, O(epoch)) is recorded with the outputs' checksums in
    C(build-info.json) next to them, and nothing is rebuilt while they match. The fingerprint's input lines are
    also in the initramfs, as C(/etc/cluster-netboot-ramdisk).
  - The kernel, the initramfs and C(build-info.json) are each replaced atomically (temporary file and rename).
  - Bad input (a name that is not a plain file name, a module name that is not a plain word, a missing init or
    program, two files for one path, an unknown package) fails the task with a clear message before anything is
    downloaded or written.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
attributes:
  check_mode:
    support: full
    details:
      - Packages are resolved (C(apt-cache show) only reads), nothing is downloaded or written.
  diff_mode:
    support: full
    details:
      - The diff shows the fingerprint's input lines, recorded and wanted.
requirements:
  - On the host the module runs on, C(dpkg-deb) and C(dpkg) (package dpkg), C(depmod) and C(modprobe) (kmod),
    C(ldd) (libc-bin), and C(apt-cache) and C(apt-get) unless O(deb_dir) is set.
options:
  dest:
    description:
      - Directory for the kernel, the initramfs and C(build-info.json), usually inside the TFTP root. Created when
        missing.
    type: path
    required: true
  work_dir:
    description:
      - Work directory; downloaded packages (kept as a cache) and the extracted kernel package (about 400 MB,
        kept while its checksum is the same).
    type: path
    required: true
  init:
    description:
      - The file on the managed host that becomes C(/init) (mode C(0755)).
    type: path
    required: true
  files:
    description:
      - Further files of the managed host to put into the initramfs.
    type: list
    elements: dict
    default: []
    suboptions:
      src:
        description: The file on the managed host.
        type: path
        required: true
      dest:
        description: Its absolute path inside the initramfs.
        type: str
        required: true
      mode:
        description: Its mode, an octal string.
        type: str
        default: '0755'
  binaries:
    description:
      - Programs to put into C(/bin) with the shared libraries (and the loader) C(ldd) names for them. With
        O(binaries[].package) the program is taken from that Debian package (resolved, checked and fingerprinted
        like the kernel), else O(binaries[].path) is a file on the managed host.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The program's path inside O(binaries[].package), or on the managed host without a package.
        type: str
        required: true
      name:
        description: Its name in C(/bin); the base name of O(binaries[].path) when not set.
        type: str
      package:
        description: The Debian package that holds the program.
        type: str
  kernel_package:
    description: The Debian kernel package (a metapackage is followed to the versioned image it depends on).
    type: str
    default: linux-image-amd64
  modules:
    description:
      - Kernel modules to include with their dependencies, loaded in this order; a module built into the kernel
        is skipped. A module the kernel package does not have fails the task.
    type: list
    elements: str
    default: []
  deb_dir:
    description: A directory of C(.deb) files to take every package from instead of apt.
    type: path
  epoch:
    description: The modification time (seconds since the epoch) of every file in the initramfs.
    type: int
    default: 0
  kernel_name:
    description: File name of the kernel in O(dest).
    type: str
    default: vmlinuz
  initrd_name:
    description: File name of the initramfs in O(dest).
    type: str
    default: initramfs.gz
  force:
    description: Rebuild even when the recorded fingerprint matches.
    type: bool
    default: false
seealso:
  - module: cluster.netboot.pxe_config
'''

EXAMPLES = r'''
- name: Build an imaging ramdisk into the TFTP root
  cluster.netboot.initramfs:
    dest: /srv/tftp/imaging
    work_dir: /var/cache/cluster-netboot/imaging-ramdisk
    init: /var/cache/cluster-netboot/imaging-ramdisk/init
    files:
      - src: /var/cache/cluster-netboot/imaging-ramdisk/udhcpc.script
        dest: /etc/udhcpc.script
    binaries:
      - package: udpcast
        path: /usr/bin/udp-receiver
    modules: [virtio_pci, virtio_net, virtio_blk, e1000e]
'''

RETURN = r'''
fingerprint:
  description: The sha256 of the build's inputs.
  returned: always
  type: str
  sample: 5f0c2b8a9d6e4c1f3a7b2d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9012345
inputs:
  description: The input lines the fingerprint is made of (also in the initramfs as C(/etc/cluster-netboot-ramdisk)).
  returned: always
  type: list
  elements: str
  sample: [format 2, modules virtio_net, package busybox-static 1:1.35.0-4+b3 0d1e...]
kernel:
  description: Full path of the kernel.
  returned: always
  type: str
  sample: /srv/tftp/imaging/vmlinuz
initrd:
  description: Full path of the initramfs.
  returned: always
  type: str
  sample: /srv/tftp/imaging/initramfs.gz
kernel_package:
  description: The versioned kernel package the kernel and modules come from.
  returned: always
  type: str
  sample: linux-image-6.1.0-18-amd64
kernel_version:
  description: Its version.
  returned: always
  type: str
  sample: 6.1.76-1
kernel_sha256:
  description: The sha256 of the kernel file.
  returned: when the outputs are current (not in check mode when a build is due)
  type: str
initrd_sha256:
  description: The sha256 of the initramfs.
  returned: when the outputs are current (not in check mode when a build is due)
  type: str
initrd_size:
  description: Size of the initramfs in bytes.
  returned: when the outputs are current (not in check mode when a build is due)
  type: int
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cluster.netboot.plugins.module_utils import _files, _ramdisk
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def spec_from(params: dict) -> _ramdisk.Spec:
    """The build spec from the module's parameters."""
    files = []
    for entry in params['files']:
        try:
            mode = int(entry['mode'], 8)
        except ValueError:
            raise _ramdisk.RamdiskError('mode %r of %s is not an octal number' % (entry['mode'], entry['dest'])) from None
        files.append(_ramdisk.ExtraFile(entry['src'], entry['dest'], mode & 0o7777))
    binaries = [_ramdisk.Binary(entry['path'], entry['name'] or os.path.basename(entry['path']), entry['package'])
                for entry in params['binaries']]
    return _ramdisk.Spec(
        output=params['dest'], work=params['work_dir'], init=params['init'],
        kernel_package=params['kernel_package'], modules=tuple(params['modules']), files=tuple(files),
        binaries=tuple(binaries), deb_dir=params['deb_dir'], epoch=params['epoch'],
        kernel_name=params['kernel_name'], initrd_name=params['initrd_name'])


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type='path', required=True),
            work_dir=dict(type='path', required=True),
            init=dict(type='path', required=True),
            files=dict(type='list', elements='dict', default=[], options=dict(
                src=dict(type='path', required=True),
                dest=dict(type='str', required=True),
                mode=dict(type='str', default='0755'),
            )),
            binaries=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='str', required=True),
                name=dict(type='str'),
                package=dict(type='str'),
            )),
            kernel_package=dict(type='str', default='linux-image-amd64'),
            modules=dict(type='list', elements='str', default=[]),
            deb_dir=dict(type='path'),
            epoch=dict(type='int', default=0),
            kernel_name=dict(type='str', default='vmlinuz'),
            initrd_name=dict(type='str', default='initramfs.gz'),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    try:
        the_plan = _ramdisk.plan(spec_from(module.params), module.run_command)
        changed = module.params['force'] or not the_plan.current
        if changed and not module.check_mode:
            result = _ramdisk.build(the_plan, module.run_command,
                                    lambda temp, dest: module.atomic_move(temp, dest, unsafe_writes=False))
        else:
            result = _ramdisk.summary(the_plan, outputs=not changed)
    except (NetbootError, OSError) as exc:
        module.fail_json(msg=str(exc))
    recorded = (the_plan.recorded or {}).get('inputs')
    before = ''.join(line + '\n' for line in recorded) if isinstance(recorded, list) else None
    after = ''.join(line + '\n' for line in the_plan.inputs)
    if module._diff:
        result['diff'] = _files.text_diff(before, after,
                                          _ramdisk.info_path(the_plan.spec))
    module.exit_json(changed=changed, **result)


if __name__ == '__main__':
    main()
