#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: pxe_config
short_description: Write a PXELINUX, GRUB or iPXE boot config from one structured spec
version_added: 0.1.0
description:
  - Renders one boot configuration file from a list of labels, so that nodes can be pointed at it with
    M(cluster.netboot.pxe_boot). The same spec renders for three loaders (O(loader)) - a PXELINUX file
    C(<tftp_root>/pxelinux.cfg/<name>), a GRUB config C(<tftp_root>/grub/<name>) or an iPXE script
    C(<tftp_root>/ipxe/<name>).
  - "GRUB and iPXE configs name every kernel and initrd with a leading C(/), the TFTP root, as PXELINUX reads
    them. GRUB on UEFI cannot C(localboot): a label with O(labels[].localboot) makes GRUB chain the first
    loader it finds on a local disk's EFI system partition (the distributions' shims under C(/EFI/<vendor>/),
    then C(/EFI/BOOT/BOOTX64.EFI), then Windows' C(bootmgfw.efi); under Secure Boot shim checks it, a signed
    shim passes) and C(exit) only when there is none - a bare C(exit) hands EFI_SUCCESS back to the firmware,
    and EDK2-based firmware (OVMF among them) then stops at its boot menu instead of trying the disk. iPXE
    renders C(exit) (its C(sanboot) works on BIOS only). O(serial) becomes GRUB's C(serial --unit=PORT --speed=BAUD) with C(terminal_input) and
    C(terminal_output); iPXE's console is fixed when iPXE is built, so the iPXE script leaves it out.
    O(timeout) (tenths of a second) becomes GRUB's seconds, rounded up, and an iPXE C(menu) with C(choose);
    without it both boot the default at once. O(labels[].ipappend) becomes C(${netX/...}) settings in iPXE."
  - "Nothing is smuggled into a config through any field - line breaks are refused for every loader; a GRUB word
    with characters outside letters, digits and C(_ . / , : = + @ % -) is single-quoted (no C($) expansion,
    C(;), C({) or comment inside), and a single quote is refused; for iPXE, which expands C(${...}) everywhere
    and has no literal quoting, C($ | & # \" ' \\) are refused. PXELINUX-only options (O(prompt), O(display),
    O(ui), O(menu_title), and O(labels[].ipappend) for GRUB) are refused for the other loaders, not dropped."
  - Kernel, initrd and display files are checked to exist under O(tftp_root) before anything is written,
    following symlinks - a file linked from the root to a place outside it is refused, since C(tftpd --secure)
    cannot serve it (the node would get C(File not found)).
  - C(pxelinux.cfg) may be a symlink to a directory inside O(tftp_root); one that resolves outside is refused
    and nothing is written through it.
  - Temporary files and pointers that a killed run left in C(pxelinux.cfg/) are removed (only those of runs
    that are gone), and a temporary pointer never counts as a node pointing at a config.
  - The file is replaced atomically (temporary file and rename), so a node fetching it at that moment gets
    the old or the new content, never a partial file. It is world-readable (mode C(0644)) because
    C(tftpd --secure) drops its privileges before reading.
  - Bad input (a name that is not a plain file name, a line break in any field, a default that is not one of
    the labels, a missing kernel) fails the task with a clear message and changes nothing.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  tftp_root:
    description:
      - The directory the TFTP server serves; C(pxelinux.cfg/) is created inside it when missing.
    type: path
    default: /srv/tftp
  loader:
    description:
      - The boot loader the config is written for, and so its directory in O(tftp_root) - V(pxelinux)
        C(pxelinux.cfg/), V(grub) C(grub/) (the built-in prefix of Debian's signed network GRUB),
        V(ipxe) C(ipxe/).
    type: str
    choices: [pxelinux, grub, ipxe]
    default: pxelinux
    version_added: 0.1.0
  name:
    description:
      - The config's file name inside C(pxelinux.cfg/) (or the O(loader)'s directory), for example
        V(orbit-2.0.0) or V(default).
      - A plain file name; C(/), C(..) and a leading C(.) are refused, and so is the name of the O(loader)'s
        dispatcher (C(grub.cfg) for GRUB, C(boot.ipxe) for iPXE).
      - Required unless O(dispatcher=true).
    type: str
  dispatcher:
    description:
      - Write the O(loader)'s fixed dispatcher instead of a config - C(grub/grub.cfg), which Debian's signed
        network GRUB sources and which sources the node's C(grub.cfg-01-<mac>), else C(grub.cfg-<IP>), else
        C(default); or C(ipxe/boot.ipxe), the script DHCP hands iPXE clients, which chains C(<mac>.ipxe), else
        C(<IP>.ipxe), else C(default). The per-node names are those M(cluster.netboot.pxe_boot) writes.
      - Takes none of O(name), O(default), O(labels) and the other options of a config. V(pxelinux) has no
        dispatcher (PXELINUX asks for its per-node files itself).
      - With O(validate_files=true), the loader's C(default) config must exist first (write it with
        O(name=default)), since the dispatcher falls back to it.
      - O(state=absent) removes the dispatcher.
    type: bool
    default: false
    version_added: 0.1.0
  state:
    description:
      - V(present) writes the config, V(absent) removes it.
      - With V(absent), a config that symlinks in C(pxelinux.cfg/) still point at (node pointers, aliases)
        is refused unless O(force=true), because those nodes would silently fall back to C(default).
    type: str
    choices: [present, absent]
    default: present
  default:
    description:
      - The label PXELINUX boots (C(DEFAULT)); must be one of O(labels[].name).
      - Required when O(state=present) (unless O(dispatcher=true)).
    type: str
  prompt:
    description:
      - C(PROMPT) V(1) shows the C(boot:) prompt, V(0) only when Shift or Alt is held.
    type: int
    choices: [0, 1]
  timeout:
    description:
      - C(TIMEOUT) before the default label boots, in tenths of a second (V(0) waits forever).
    type: int
  serial:
    description:
      - The C(SERIAL) line, for example V(0 115200) (port and baud rate). Written first in the file,
        where PXELINUX expects it.
    type: str
  display:
    description:
      - A text file shown before the prompt (C(DISPLAY)), relative to the TFTP root; checked like the kernels.
    type: str
  ui:
    description:
      - A menu module, for example V(menu.c32) or V(vesamenu.c32) (C(UI)).
    type: str
  menu_title:
    description:
      - The menu's title (C(MENU TITLE)), used with O(ui).
    type: str
  labels:
    description:
      - The boot entries, in order. Required when O(state=present) (unless O(dispatcher=true)).
    type: list
    elements: dict
    suboptions:
      name:
        description: The label's name (C(LABEL)), without white space.
        type: str
        required: true
      kernel:
        description:
          - The kernel (C(KERNEL)), relative to the TFTP root. A leading C(/) also means the TFTP root and
            works for boot loaders in sub directories (C(efi64/syslinux.efi)).
          - Exactly one of O(labels[].kernel) and O(labels[].localboot).
        type: str
      initrd:
        description:
          - The initramfs image(s) (C(INITRD)), relative to the TFTP root like O(labels[].kernel).
            Several images are loaded in order.
        type: list
        elements: str
      append:
        description: The kernel command line (C(APPEND)).
        type: str
      localboot:
        description:
          - Boot the local disk instead of a kernel (C(LOCALBOOT)); V(0) boots the first hard disk.
        type: int
      ipappend:
        description:
          - C(IPAPPEND) flags; V(1) adds C(ip=), V(2) adds C(BOOTIF=) (the booting MAC), V(4) adds C(SYSUUID=).
        type: int
      menu_label:
        description: The text the menu shows for this label (C(MENU LABEL)).
        type: str
  validate_files:
    description:
      - Check that every kernel, initrd and display file exists under O(tftp_root) before writing.
    type: bool
    default: true
  force:
    description:
      - With O(state=present), replace a symlink that stands at the config's path with a regular file.
      - With O(state=absent), remove the config even though symlinks still point at it.
    type: bool
    default: false
seealso:
  - module: cluster.netboot.pxe_boot
  - name: PXELINUX configuration
    description: The config file directives of the Syslinux project.
    link: https://wiki.syslinux.org/wiki/index.php?title=Config
notes:
  - PXELINUX reads C(pxelinux.cfg/01-<mac>), then the client IP in upper-case hex, then C(default).
'''

EXAMPLES = r'''
- name: Config that boots the imaging ramdisk with a serial console
  cluster.netboot.pxe_config:
    tftp_root: /srv/tftp
    name: orbit-2.0.0
    default: boel
    prompt: 1
    timeout: 1
    serial: "0 115200"
    labels:
      - name: boel
        kernel: linux-orbit-pxe-2.6.20.4
        initrd: initramfs-orbit-pxe-2.0.0.gz
        append: "rw init=/sbin/init console=tty0 console=ttyS0,9600"
      - name: harddisk
        localboot: 0

- name: Nodes without a pointer boot their local disk
  cluster.netboot.pxe_config:
    name: default
    default: harddisk
    labels:
      - name: harddisk
        localboot: 0

- name: GRUB (UEFI, Secure Boot) and iPXE nodes without a pointer go back to the firmware's boot order
  cluster.netboot.pxe_config:
    name: default
    loader: "{{ item }}"
    default: harddisk
    labels: [{name: harddisk, localboot: 0}]
  loop: [grub, ipxe]

- name: The dispatchers that pick each GRUB and iPXE node's own config (after the defaults above)
  cluster.netboot.pxe_config:
    loader: "{{ item }}"
    dispatcher: true
  loop: [grub, ipxe]

- name: Retire a config that no node points at any more
  cluster.netboot.pxe_config:
    name: orbit-1.9.0
    state: absent
'''

RETURN = r'''
path:
  description: The config file's full path.
  returned: always
  type: str
  sample: /srv/tftp/pxelinux.cfg/orbit-2.0.0
content:
  description: The rendered config text.
  returned: when O(state=present)
  type: str
  sample: "# Managed by cluster.netboot.pxe_config: changes made by hand are overwritten.\nDEFAULT harddisk\n\nLABEL harddisk\n  LOCALBOOT 0\n"
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cluster.netboot.plugins.module_utils import _bootconfig, _files, _pxe

# The boot spec's options: a dispatcher takes none of them.
SPEC_OPTIONS = ('name', 'default', 'prompt', 'timeout', 'serial', 'display', 'ui', 'menu_title', 'labels')
LABEL_OPTIONS = dict(
    name=dict(type='str', required=True),
    kernel=dict(type='str'),
    initrd=dict(type='list', elements='str'),
    append=dict(type='str'),
    localboot=dict(type='int'),
    ipappend=dict(type='int'),
    menu_label=dict(type='str'),
)


def describe(current: _pxe.ConfigFileState) -> bytes | None:
    """The before side of the diff."""
    if current.kind == 'symlink':
        return ('symlink to %s\n' % current.link).encode()
    return current.content


def config_name(params: dict) -> str:
    """The file name to write: the loader's dispatcher, or a checked O(name) with what a config needs."""
    loader = params['loader']
    if params['dispatcher']:
        name = _bootconfig.dispatcher(loader)[0]
        given = [option for option in SPEC_OPTIONS if params[option] is not None]
        if given:
            raise _pxe.PxeError('dispatcher: true writes the fixed %s/%s and takes none of %s (got %s)'
                                % (_pxe.get_loader(loader).directory, name, ', '.join(SPEC_OPTIONS), ', '.join(given)))
        return name
    if params['name'] is None:
        raise _pxe.PxeError('name is required unless dispatcher is true')
    if params['state'] == 'present':
        missing = [option for option in ('default', 'labels') if params[option] is None]
        if missing:
            raise _pxe.PxeError('state is present but all of the following are missing: %s' % ', '.join(missing))
    name = _pxe.check_config_name(params['name'], loader)
    if name == _bootconfig.DISPATCHERS.get(loader, (None,))[0]:
        raise _pxe.PxeError('%s/%s is the dispatcher every %s node reads first: manage it with dispatcher: true, '
                            'give the config another name' % (_pxe.get_loader(loader).directory, name, loader))
    return name


def ensure_present(module: AnsibleModule, root: str, path: str) -> dict:
    params = module.params
    config = _pxe.parse_config(
        params['default'], params['labels'], prompt=params['prompt'], timeout=params['timeout'],
        serial=params['serial'], display=params['display'], ui=params['ui'], menu_title=params['menu_title'])
    _bootconfig.check_config(config, params['loader'])
    if params['validate_files']:
        _pxe.check_files(root, config)
    return write_config(module, path, _bootconfig.render(config, params['loader']))


def ensure_dispatcher(module: AnsibleModule, root: str, path: str) -> dict:
    """The loader's fixed dispatcher; the config it falls back to must be there first."""
    fallback = os.path.join(os.path.dirname(path), _bootconfig.DISPATCHER_FALLBACK)
    if module.params['validate_files'] and not os.path.isfile(fallback):
        raise _pxe.PxeError('%s is missing: the dispatcher sources it for nodes without a pointer, so write it first '
                            '(pxe_config name: %s, loader: %s)'
                            % (os.path.relpath(fallback, root), _bootconfig.DISPATCHER_FALLBACK, module.params['loader']))
    return write_config(module, path, _bootconfig.dispatcher(module.params['loader'])[1])


def write_config(module: AnsibleModule, path: str, text: str) -> dict:
    """Replace the file at ``path`` with ``text`` unless it already is that (content and mode)."""
    current = _pxe.config_file_state(path)
    if current.kind == 'other':
        raise _pxe.PxeError('%s exists and is not a regular file' % path)
    if current.kind == 'symlink' and not module.params['force']:
        raise _pxe.PxeError('%s is a symlink to %s (a node pointer or an alias); set force: true to replace it '
                            'with this config' % (path, current.link))
    content = text.encode('utf-8')
    changed = current.kind != 'file' or current.content != content or current.mode != _pxe.CONFIG_MODE
    if changed and not module.check_mode:
        if not os.path.isdir(os.path.dirname(path)):
            os.mkdir(os.path.dirname(path), 0o755)
        _files.atomic_write(module, path, content, mode=_pxe.CONFIG_MODE)
    return dict(changed=changed, path=path, content=text,
                diff=_files.text_diff(describe(current), content, path))


def ensure_absent(module: AnsibleModule, root: str, path: str, name: str) -> dict:
    current = _pxe.config_file_state(path)
    if current.kind == 'absent':
        return dict(changed=False, path=path, diff=_files.text_diff(None, None, path))
    if current.kind == 'other':
        raise _pxe.PxeError('%s exists and is not a regular file' % path)
    users = [user for user in _pxe.config_users(os.path.dirname(path), name) if user != name]
    if users and not module.params['force']:
        raise _pxe.PxeError('%d symlink(s) in %s still point at %s (%s); point those nodes elsewhere with '
                            'cluster.netboot.pxe_boot first, or set force: true'
                            % (len(users), os.path.dirname(path), name, _pxe._listing(users)))
    if not module.check_mode:
        _files.remove(path)
    return dict(changed=True, path=path, diff=_files.text_diff(describe(current), None, path))


def apply(module: AnsibleModule) -> dict:
    """Write, replace or remove the config, under the TFTP root's lock."""
    root = _pxe.check_tftp_root(module.params['tftp_root'])
    loader = module.params['loader']
    name = config_name(module.params)
    # Same lock as pxe_boot: a config is not removed while nodes are being pointed at it.
    with _files.locked_directory(root) as locked_since:
        path = os.path.join(_pxe.check_config_dir(root, loader), name)
        if not module.check_mode:
            _pxe.remove_leftovers(root, locked_since, loader)
        if module.params['state'] == 'present' and module.params['dispatcher']:
            return ensure_dispatcher(module, root, path)
        if module.params['state'] == 'present':
            return ensure_present(module, root, path)
        return ensure_absent(module, root, path, name)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            tftp_root=dict(type='path', default='/srv/tftp'),
            name=dict(type='str'),
            dispatcher=dict(type='bool', default=False),
            loader=dict(type='str', choices=list(_bootconfig.LOADER_NAMES), default='pxelinux'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            default=dict(type='str'),
            prompt=dict(type='int', choices=[0, 1]),
            timeout=dict(type='int'),
            serial=dict(type='str'),
            display=dict(type='str'),
            ui=dict(type='str'),
            menu_title=dict(type='str'),
            labels=dict(type='list', elements='dict', options=LABEL_OPTIONS),
            validate_files=dict(type='bool', default=True),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    _files.exit_module(module, lambda: apply(module))


if __name__ == '__main__':
    main()
