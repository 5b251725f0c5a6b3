# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One boot spec (:class:`_pxe.BootConfig`), three loaders: PXELINUX, GRUB and iPXE.

The spec is parsed and validated once by :func:`_pxe.parse_config`; this module
checks what a loader cannot express or would read as its own syntax, and renders
the text. Every path is written with a leading ``/``: GRUB reads it from the
TFTP root (``$root`` is ``tftp,SERVER``), iPXE resolves it against the script's
``tftp://SERVER/ipxe/...`` URI, so both fetch from the root, as PXELINUX does.

Local boot: neither loader can ``localboot`` a BIOS disk on UEFI. GRUB chains the
first loader it finds on a local disk's EFI system partition from GRUB_LOCAL_LOADERS
(``search --file`` then ``chainloader``; under Secure Boot shim verifies it: a
signed shim on the disk passes), and only when there is none ``exit``s. A bare
``exit`` is not enough: GRUB 2.06 returns EFI_SUCCESS to the firmware, and EDK2's
boot manager (OVMF, and the many firmwares built on it) then stops at its boot
menu instead of trying the next boot option (seen in the lab). iPXE renders
``exit`` (its ``sanboot --drive 0x80`` is BIOS only).

Tree on the TFTP server (what the real loaders asked for, Debian 12, OVMF with
Secure Boot, ``shimx64.efi`` -> ``grubx64.efi`` = ``grubnetx64.efi.signed``)::

    grub/grub.cfg                         the dispatcher below (GRUB_DISPATCHER)
    grub/<config>                         configs written by pxe_config (loader: grub)
    grub/grub.cfg-01-52-54-00-12-34-56    per-node pointer by MAC
    grub/grub.cfg-10.18.1.18              per-node pointer by IP
    ipxe/boot.ipxe                        the dispatcher (IPXE_DISPATCHER)
    ipxe/<config>                         configs written by pxe_config (loader: ipxe)
    ipxe/52-54-00-12-34-56.ipxe           per-node pointer by MAC (${mac:hexhyp})
    ipxe/10.18.1.18.ipxe                  per-node pointer by IP (${ip})
"""

from __future__ import annotations

import re

from ansible_collections.cluster.netboot.plugins.module_utils import _pxe
from ansible_collections.cluster.netboot.plugins.module_utils._pxe import BootConfig, PxeError

LOADER_NAMES = tuple(_pxe.LOADERS)
GRUB_HEADER = '# Managed by cluster.netboot.pxe_config: changes made by hand are overwritten.\n'
IPXE_HEADER = '#!ipxe\n' + GRUB_HEADER

# The top-level grub/grub.cfg. Debian's signed GRUB 2.06 sources $prefix/x86_64-efi/grub.cfg or
# $prefix/grub.cfg (prefix (tftp,SERVER)/grub) and asks for no per-node name by itself; it has
# regexp, $net_default_mac (52:54:00:12:34:56) and $net_default_ip (dotted).
GRUB_DISPATCHER = GRUB_HEADER + '''\
regexp --set=1:m1 --set=2:m2 --set=3:m3 --set=4:m4 --set=5:m5 --set=6:m6 \
'^(..):(..):(..):(..):(..):(..)$' "$net_default_mac"
if [ -s "$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6" ]; then
  source "$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6"
elif [ -s "$prefix/grub.cfg-$net_default_ip" ]; then
  source "$prefix/grub.cfg-$net_default_ip"
else
  source "$prefix/default"
fi
'''

# The top-level ipxe/boot.ipxe (DHCP hands iPXE clients tftp://SERVER/ipxe/boot.ipxe).
# A script that returns (a local boot's "exit") ends here too, and iPXE returns to the firmware.
IPXE_DISPATCHER = IPXE_HEADER + '''\
chain --autofree ${mac:hexhyp}.ipxe || chain --autofree ${ip}.ipxe || chain --autofree default
exit
'''

# A GRUB local boot chains the first of these found on a local disk: the distributions' shims,
# then the removable-media path every firmware boots, then Windows. FAT is case-insensitive.
GRUB_LOCAL_LOADERS = (
    '/EFI/debian/shimx64.efi', '/EFI/ubuntu/shimx64.efi', '/EFI/redhat/shimx64.efi', '/EFI/centos/shimx64.efi',
    '/EFI/rocky/shimx64.efi', '/EFI/almalinux/shimx64.efi', '/EFI/sles/shim.efi', '/EFI/opensuse/shim.efi',
    '/EFI/BOOT/BOOTX64.EFI', '/EFI/Microsoft/Boot/bootmgfw.efi',
)
# "exit 1": GRUB 2.06 ignores the code (EFI_SUCCESS), later GRUBs hand it to the firmware, whose
# boot manager then tries the next boot option.
GRUB_LOCAL_BOOT = ['  for loader in %s; do' % ' '.join(GRUB_LOCAL_LOADERS),
                   '    if search --no-floppy --file --set=root $loader; then',
                   '      chainloader $loader',
                   '      boot',
                   '    fi',
                   '  done',
                   '  exit 1']

# The file name of each loader's dispatcher in its directory, and its text.
DISPATCHERS = {'grub': ('grub.cfg', GRUB_DISPATCHER), 'ipxe': ('boot.ipxe', IPXE_DISPATCHER)}
# The config every dispatcher falls back to when a node has no pointer.
DISPATCHER_FALLBACK = 'default'


def dispatcher(loader: str) -> tuple[str, str]:
    """(file name, text) of ``loader``'s dispatcher; PXELINUX has none, it searches by itself."""
    _pxe.get_loader(loader)
    if loader not in DISPATCHERS:
        raise PxeError('loader %s has no dispatcher: PXELINUX asks for its per-node files itself' % loader)
    return DISPATCHERS[loader]


# Label names become GRUB menu ids and iPXE goto labels.
_LABEL_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.+-]*\Z')
# Words GRUB reads literally without quotes; anything else is single-quoted (no expansion inside).
_GRUB_PLAIN = re.compile(r'[A-Za-z0-9_./,:=+@%-]+\Z')
# iPXE expands ${...} everywhere, splits on || and &&, starts comments with #, and reads quotes
# and backslashes; it has no quoting that makes them literal, so they are refused.
_IPXE_REFUSED = ('$', '|', '&', '#', '"', "'", '\\')
_SERIAL = re.compile(r'(?P<port>0x[0-9A-Fa-f]+|\d+)(?:\s+(?P<speed>\d+))?\Z')

# PXELINUX options the other loaders cannot express: refused rather than silently dropped.
_PXELINUX_ONLY = {
    'grub': ('prompt', 'display', 'ui', 'menu_title', 'ipappend'),
    'ipxe': ('prompt', 'display', 'ui', 'menu_title'),
}


def check_config(config: BootConfig, loader: str) -> None:
    """Everything in ``config`` can be written for ``loader`` without changing its meaning."""
    _pxe.get_loader(loader)
    if loader == 'pxelinux':
        return
    used = [option for option in _PXELINUX_ONLY[loader] if _is_set(config, option)]
    if used:
        raise PxeError('%s: PXELINUX only, %s has no equivalent (loader: %s)'
                       % (', '.join(used), loader.upper() if loader == 'grub' else 'iPXE', loader))
    for label in config.labels:
        if not _LABEL_NAME.match(label.name):
            raise PxeError('label %r: with loader %s a label name is letters, digits and _ . + - only'
                           % (label.name, loader))
    if loader == 'grub' and config.serial is not None:
        grub_serial(config.serial)
    for what, value in _fields(config):
        if loader == 'grub' and "'" in value:
            raise PxeError("%s %r contains a single quote, which a GRUB config cannot carry literally" % (what, value))
        if loader == 'ipxe':
            refused = sorted({char for char in _IPXE_REFUSED if char in value})
            if refused:
                raise PxeError('%s %r contains %s, which iPXE would read as script syntax (${...} expansion, '
                               '||, &&, comments, quotes)' % (what, value, ' '.join(refused)))


def _is_set(config: BootConfig, option: str) -> bool:
    if option == 'ipappend':
        return any(label.ipappend is not None for label in config.labels)
    return getattr(config, option) is not None


def _fields(config: BootConfig) -> list[tuple[str, str]]:
    """(what, text) of every free-text field a loader writes into its file."""
    fields = []
    for label in config.labels:
        where = 'label %s:' % label.name
        fields.extend(('%s %s' % (where, what), value) for what, value in (
            ('kernel', label.kernel), ('append', label.append), ('menu_label', label.menu_label)) if value)
        fields.extend(('%s initrd' % where, initrd) for initrd in label.initrd)
    return fields


def grub_serial(serial: str) -> tuple[str, int]:
    """PXELINUX's ``SERIAL port [baud]`` as GRUB's serial options; flow control has no GRUB form."""
    match = _SERIAL.match(serial.strip())
    if not match:
        raise PxeError("serial %r: GRUB takes 'PORT [BAUD]' (PORT 0-3 or an I/O address like 0x3f8)" % serial)
    port = match.group('port')
    option = '--port=%s' % port if port.lower().startswith('0x') else '--unit=%s' % port
    return option, int(match.group('speed') or 9600)


def render(config: BootConfig, loader: str) -> str:
    """The config text for ``loader``; call :func:`check_config` first."""
    check_config(config, loader)
    if loader == 'grub':
        return render_grub(config)
    if loader == 'ipxe':
        return render_ipxe(config)
    return _pxe.render_config(config)


def _root_path(path: str) -> str:
    return '/' + path.lstrip('/')


def _grub_word(text: str) -> str:
    return text if _GRUB_PLAIN.match(text) else "'%s'" % text


def render_grub(config: BootConfig) -> str:
    lines = [GRUB_HEADER.rstrip('\n')]
    if config.serial is not None:
        option, speed = grub_serial(config.serial)
        lines += ['serial %s --speed=%d' % (option, speed), 'terminal_input serial console',
                  'terminal_output serial console']
    lines.append('set default=%s' % config.default)
    # PXELINUX: no TIMEOUT boots at once, 0 waits forever, else tenths of a second. GRUB: seconds.
    if config.timeout is None:
        lines.append('set timeout=0')
    elif config.timeout == 0:
        lines.append('set timeout=-1')
    else:
        lines.append('set timeout=%d' % -(-config.timeout // 10))
    for label in config.labels:
        lines.append('')
        lines.append('menuentry %s --id %s {' % (_grub_word(label.menu_label or label.name), label.name))
        if label.localboot is not None:
            lines += GRUB_LOCAL_BOOT
        else:
            words = [_grub_word(_root_path(label.kernel or ''))]
            words += [_grub_word(word) for word in (label.append or '').split()]
            lines.append('  linux %s' % ' '.join(words))
            if label.initrd:
                lines.append('  initrd %s' % ' '.join(_grub_word(_root_path(path)) for path in label.initrd))
        lines.append('}')
    return '\n'.join(lines) + '\n'


def _ipxe_ipappend(flags: int) -> list[str]:
    """PXELINUX's IPAPPEND flags as iPXE settings: 1 ip=, 2 BOOTIF=, 4 SYSUUID=."""
    words = []
    if flags & 1:
        words.append('ip=${netX/ip}:${next-server}:${netX/gateway}:${netX/netmask}')
    if flags & 2:
        words.append('BOOTIF=01-${netX/mac:hexhyp}')
    if flags & 4:
        words.append('SYSUUID=${uuid}')
    return words


def render_ipxe(config: BootConfig) -> str:
    lines = [IPXE_HEADER.rstrip('\n')]
    # No TIMEOUT: boot the default at once; otherwise a menu (0 waits forever, else tenths of a second).
    if config.timeout is None:
        lines.append('goto %s' % config.default)
    else:
        lines.append('menu')
        lines.extend('item %s %s' % (label.name, label.menu_label or label.name) for label in config.labels)
        wait = ' --timeout %d' % (config.timeout * 100) if config.timeout else ''
        lines.append('choose --default %s%s target || goto %s' % (config.default, wait, config.default))
        lines.append('goto ${target}')
    for label in config.labels:
        lines.append('')
        lines.append(':%s' % label.name)
        if label.localboot is not None:
            lines.append('exit')
            continue
        # The EFI stub finds each initrd by its image name (the file's base name).
        words = [_root_path(label.kernel or '')]
        words += ['initrd=%s' % path.rsplit('/', 1)[-1] for path in label.initrd]
        words += (label.append or '').split()
        if label.ipappend:
            words += _ipxe_ipappend(label.ipappend)
        lines.append('kernel %s' % ' '.join(words))
        lines.extend('initrd %s' % _root_path(path) for path in label.initrd)
        lines.append('boot')
    return '\n'.join(lines) + '\n'
