# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _bootconfig as bootconfig
from ansible_collections.cluster.netboot.plugins.module_utils import _pxe as pxe
from ansible_collections.cluster.netboot.plugins.module_utils._nodes import NodeRecord

LABELS = [
    {'name': 'imaging', 'kernel': 'vmlinuz', 'initrd': ['initrd.gz', '/extra/modules.gz'],
     'append': 'console=ttyS0,115200 cnb.mode=imaging'},
    {'name': 'harddisk', 'localboot': 0, 'menu_label': 'Local disk'},
]

GRUB_TEXT = """# Managed by cluster.netboot.pxe_config: changes made by hand are overwritten.
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set default=imaging
set timeout=2

menuentry imaging --id imaging {
  linux /vmlinuz console=ttyS0,115200 cnb.mode=imaging
  initrd /initrd.gz /extra/modules.gz
}

menuentry 'Local disk' --id harddisk {
""" + ('  for loader in /EFI/debian/shimx64.efi /EFI/ubuntu/shimx64.efi /EFI/redhat/shimx64.efi'
       ' /EFI/centos/shimx64.efi /EFI/rocky/shimx64.efi /EFI/almalinux/shimx64.efi /EFI/sles/shim.efi'
       ' /EFI/opensuse/shim.efi /EFI/BOOT/BOOTX64.EFI /EFI/Microsoft/Boot/bootmgfw.efi; do\n') + """\
    if search --no-floppy --file --set=root $loader; then
      chainloader $loader
      boot
    fi
  done
  exit 1
}
"""

IPXE_TEXT = """#!ipxe
# Managed by cluster.netboot.pxe_config: changes made by hand are overwritten.
menu
item imaging imaging
item harddisk Local disk
choose --default imaging --timeout 1500 target || goto imaging
goto ${target}

:imaging
kernel /vmlinuz initrd=initrd.gz initrd=modules.gz console=ttyS0,115200 cnb.mode=imaging
initrd /initrd.gz
initrd /extra/modules.gz
boot

:harddisk
exit
"""

NODE = NodeRecord(name='node1-2', ip='10.18.1.18', mac='00:0d:b9:0a:12:34', origin='nodes[0]')


def config(labels=None, **extra):
    return pxe.parse_config(extra.pop('default', 'imaging'), labels or LABELS, **extra)


def label(**fields):
    return [dict({'name': 'imaging', 'kernel': 'vmlinuz'}, **fields)]


def test_grub_rendering():
    assert bootconfig.render(config(serial='0 115200', timeout=15), 'grub') == GRUB_TEXT


def test_ipxe_rendering_with_a_menu():
    assert bootconfig.render(config(serial='0 115200', timeout=15), 'ipxe') == IPXE_TEXT


def test_pxelinux_rendering_is_the_pxelinux_renderer():
    spec = config(serial='0 115200', timeout=15, prompt=1)
    assert bootconfig.render(spec, 'pxelinux') == pxe.render_config(spec)


@pytest.mark.parametrize('timeout, grub, ipxe', [
    (None, 'set timeout=0', 'goto imaging'),
    (0, 'set timeout=-1', 'choose --default imaging target || goto imaging'),
    (1, 'set timeout=1', 'choose --default imaging --timeout 100 target || goto imaging'),
    (10, 'set timeout=1', 'choose --default imaging --timeout 1000 target || goto imaging'),
    (11, 'set timeout=2', 'choose --default imaging --timeout 1100 target || goto imaging'),
])
def test_timeouts(timeout, grub, ipxe):
    spec = config(timeout=timeout)
    assert grub in bootconfig.render(spec, 'grub').splitlines()
    assert ipxe in bootconfig.render(spec, 'ipxe').splitlines()


def test_grub_quotes_words_that_are_not_plain():
    spec = config(label(append='root=/dev/nfs a;b $x {y} #z <w> x|y', menu_label='Imaging (NFS) $1'))
    text = bootconfig.render(spec, 'grub')
    assert "menuentry 'Imaging (NFS) $1' --id imaging {" in text
    assert "  linux /vmlinuz root=/dev/nfs 'a;b' '$x' '{y}' '#z' '<w>' 'x|y'" in text


def test_grub_serial_forms():
    assert bootconfig.grub_serial('1') == ('--unit=1', 9600)
    assert bootconfig.grub_serial('0x3f8 57600') == ('--port=0x3f8', 57600)
    with pytest.raises(pxe.PxeError, match='PORT'):
        bootconfig.check_config(config(serial='0 115200 0x003'), 'grub')
    # PXELINUX keeps taking its own flow control field.
    bootconfig.check_config(config(serial='0 115200 0x003'), 'pxelinux')


def test_ipxe_ipappend_uses_ipxe_settings():
    text = bootconfig.render(config(label(ipappend=3)), 'ipxe')
    assert ('kernel /vmlinuz ip=${netX/ip}:${next-server}:${netX/gateway}:${netX/netmask} '
            'BOOTIF=01-${netX/mac:hexhyp}') in text


@pytest.mark.parametrize('loader', ['grub', 'ipxe'])
@pytest.mark.parametrize('field, value', [
    ('append', 'quiet\nset root=evil'),
    ('append', 'quiet\rboot'),
    ('menu_label', 'x\n}'),
    ('kernel', 'vmlinuz\n'),
    ('initrd', ['initrd.gz\nkernel evil']),
])
def test_line_breaks_are_refused_for_every_loader(loader, field, value):
    with pytest.raises(pxe.PxeError, match='line break'):
        bootconfig.render(config(label(**{field: value})), loader)


@pytest.mark.parametrize('field, value', [
    ('append', "a'b"),
    ('menu_label', "it's"),
    ('kernel', "vm'linuz"),
])
def test_grub_refuses_a_single_quote(field, value):
    with pytest.raises(pxe.PxeError, match='single quote'):
        bootconfig.render(config(label(**{field: value})), 'grub')


@pytest.mark.parametrize('field, value', [
    ('append', 'root=${root-path}'),
    ('append', 'quiet || shell'),
    ('append', 'quiet && shell'),
    ('append', 'quiet #comment'),
    ('append', 'a="b c"'),
    ('append', "a='b'"),
    ('append', 'a\\b'),
    ('menu_label', 'Boot ${x}'),
    ('kernel', 'vmlinuz$x'),
    ('initrd', ['initrd${x}.gz']),
])
def test_ipxe_refuses_script_syntax(field, value):
    with pytest.raises(pxe.PxeError, match='iPXE'):
        bootconfig.render(config(label(**{field: value})), 'ipxe')
    # PXELINUX reads none of these as syntax: unchanged behaviour there.
    bootconfig.render(config(label(**{field: value})), 'pxelinux')


@pytest.mark.parametrize('loader', ['grub', 'ipxe'])
def test_label_names_must_be_plain_for_grub_and_ipxe(loader):
    with pytest.raises(pxe.PxeError, match='label name'):
        bootconfig.render(config([{'name': 'a{b', 'kernel': 'vmlinuz'}], default='a{b'), loader)


@pytest.mark.parametrize('loader, option, value', [
    ('grub', 'prompt', 1), ('grub', 'display', 'motd.txt'), ('grub', 'ui', 'menu.c32'),
    ('grub', 'menu_title', 'Cluster'), ('ipxe', 'prompt', 0), ('ipxe', 'ui', 'menu.c32'),
    ('ipxe', 'display', 'motd.txt'), ('ipxe', 'menu_title', 'Cluster'),
])
def test_pxelinux_only_options_are_refused(loader, option, value):
    with pytest.raises(pxe.PxeError, match='PXELINUX only'):
        bootconfig.check_config(config(**{option: value}), loader)


def test_grub_refuses_ipappend():
    with pytest.raises(pxe.PxeError, match='ipappend: PXELINUX only'):
        bootconfig.check_config(config(label(ipappend=2)), 'grub')


def test_unknown_loader():
    with pytest.raises(pxe.PxeError, match='unknown loader'):
        bootconfig.render(config(), 'syslinux')


@pytest.mark.parametrize('loader, key, expected', [
    ('pxelinux', 'ip', [('ip', '0A120112')]),
    ('pxelinux', 'mac', [('mac', '01-00-0d-b9-0a-12-34')]),
    ('grub', 'both', [('ip', 'grub.cfg-10.18.1.18'), ('mac', 'grub.cfg-01-00-0d-b9-0a-12-34')]),
    ('ipxe', 'both', [('ip', '10.18.1.18.ipxe'), ('mac', '00-0d-b9-0a-12-34.ipxe')]),
])
def test_pointer_names_per_loader(loader, key, expected):
    assert pxe.pointer_names([NODE], key, loader) == [expected]


def test_dispatchers_ask_for_the_pointer_names():
    """The names pointer_names makes are the ones the dispatchers build from the loader's variables."""
    assert '"$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6"' in bootconfig.GRUB_DISPATCHER
    assert '"$prefix/grub.cfg-$net_default_ip"' in bootconfig.GRUB_DISPATCHER
    assert 'chain --autofree ${mac:hexhyp}.ipxe || chain --autofree ${ip}.ipxe' in bootconfig.IPXE_DISPATCHER


def test_pointers_live_in_the_loader_directory(tmp_path):
    (tmp_path / 'grub').mkdir()
    (tmp_path / 'grub' / 'imaging').write_text('set default=imaging\n')
    target = pxe.boot_target(str(tmp_path), 'imaging', 'grub')
    plan = pxe.plan_pointers(str(tmp_path), [NODE], 'mac', target, 'present', loader='grub')
    assert [change.path for change in plan] == [str(tmp_path / 'grub' / 'grub.cfg-01-00-0d-b9-0a-12-34')]
    with pytest.raises(pxe.PxeError, match='loader: ipxe'):
        pxe.boot_target(str(tmp_path), 'imaging', 'ipxe')
    diff = pxe.pointer_diff(str(tmp_path), plan, ('pxelinux', 'grub'))
    assert diff['after'] == 'grub/grub.cfg-01-00-0d-b9-0a-12-34 (node1-2) -> imaging\n'
