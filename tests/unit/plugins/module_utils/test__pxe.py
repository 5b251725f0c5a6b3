# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError
from ansible_collections.cluster.netboot.plugins.module_utils import _pxe as pxe
from ansible_collections.cluster.netboot.plugins.module_utils._nodes import NodeRecord

ORBIT_LABELS = [
    {'name': 'boel', 'kernel': 'linux-orbit-pxe-2.6.20.4', 'initrd': ['initramfs-orbit-pxe-2.0.0.gz'],
     'append': 'rw init=/sbin/init console=tty0 console=ttyS0,9600'},
    {'name': 'harddisk', 'localboot': 0},
]

ORBIT_TEXT = """# Managed by cluster.netboot.pxe_config: changes made by hand are overwritten.
SERIAL 0 115200
DEFAULT boel
PROMPT 1
TIMEOUT 1

LABEL boel
  KERNEL linux-orbit-pxe-2.6.20.4
  INITRD initramfs-orbit-pxe-2.0.0.gz
  APPEND rw init=/sbin/init console=tty0 console=ttyS0,9600

LABEL harddisk
  LOCALBOOT 0
"""

NODE = NodeRecord(name='node1-2', ip='10.18.1.18', mac='00:0d:b9:0a:12:34', origin='nodes[0]')


def make_root(tmp_path, configs=('imaging', 'harddisk')):
    cfg = tmp_path / 'pxelinux.cfg'
    cfg.mkdir()
    for name in configs:
        (cfg / name).write_text('DEFAULT %s\n' % name)
    return str(tmp_path)


# ----------------------------------------------------------------------- configs

def test_render_orbit_config_serial_first():
    config = pxe.parse_config('boel', ORBIT_LABELS, prompt=1, timeout=1, serial='0 115200')
    assert pxe.render_config(config) == ORBIT_TEXT


def test_render_menu_display_and_ipappend():
    labels = [{'name': 'imaging', 'kernel': '/x86_64/vmlinuz', 'initrd': 'a.gz,b.gz', 'ipappend': 2,
               'menu_label': 'Image this node'},
              {'name': 'local', 'localboot': -1, 'menu_label': 'Local disk'}]
    text = pxe.render_config(pxe.parse_config('local', labels, ui='menu.c32', menu_title='Lab boot',
                                              display='message.txt', timeout=50))
    assert text.splitlines()[1:] == [
        'UI menu.c32', 'MENU TITLE Lab boot', 'DEFAULT local', 'TIMEOUT 50', 'DISPLAY message.txt', '',
        'LABEL imaging', '  MENU LABEL Image this node', '  KERNEL /x86_64/vmlinuz', '  INITRD a.gz,b.gz',
        '  IPAPPEND 2', '', 'LABEL local', '  MENU LABEL Local disk', '  LOCALBOOT -1']


def test_initrd_list_and_comma_string_are_the_same():
    one = pxe.parse_label({'name': 'a', 'kernel': 'k', 'initrd': ['x.gz', 'y.gz']}, 0)
    two = pxe.parse_label({'name': 'a', 'kernel': 'k', 'initrd': 'x.gz, y.gz'}, 0)
    assert one.initrd == two.initrd == ('x.gz', 'y.gz')


@pytest.mark.parametrize('default, labels, extra, message', [
    ('boel', [{'name': 'boel', 'kernel': 'k', 'append': 'quiet\nDEFAULT evil'}], {}, 'line break'),
    ('boel', [{'name': 'boel', 'kernel': 'k\r'}], {}, 'line break'),
    ('boel', [{'name': 'boel', 'kernel': 'k'}], {'serial': '0 115200\nUI evil.c32'}, 'line break'),
    ('boel', [{'name': 'boel', 'kernel': 'k', 'menu_label': 'x\x00'}], {}, 'NUL'),
    ('other', ORBIT_LABELS, {}, "default 'other' is not one of the labels (boel, harddisk)"),
    (None, ORBIT_LABELS, {}, 'default (the label PXELINUX boots) is required'),
    ('boel', [], {}, 'non-empty list'),
    ('boel', [{'name': 'boel', 'kernel': 'k'}, {'name': 'boel', 'localboot': 0}], {}, 'more than once: boel'),
    ('boel', [{'name': 'boel'}], {}, 'exactly one of kernel and localboot'),
    ('boel', [{'name': 'boel', 'kernel': 'k', 'localboot': 0}], {}, 'exactly one of kernel and localboot'),
    ('boel', [{'name': 'boel', 'localboot': 0, 'append': 'quiet'}], {}, 'only go with kernel'),
    ('boel', [{'name': 'boel', 'kernel': 'my kernel'}], {}, 'white space'),
    ('my label', [{'name': 'my label', 'kernel': 'k'}], {}, 'white space'),
    ('boel', [{'name': 'boel', 'kernel': 'k', 'initrd': 'i.gz', 'append': 'initrd=j.gz'}], {}, 'given twice'),
    ('boel', [{'name': 'boel', 'kernel': 'k', 'ipappend': 9}], {}, 'between 0 and 7'),
    ('boel', [{'name': 'boel', 'kernel': 'k'}], {'prompt': 2}, 'between 0 and 1'),
    ('boel', [{'name': 'boel', 'kernel': 'k'}], {'timeout': 'soon'}, 'must be an integer'),
    ('boel', ['boel'], {}, 'must be a mapping'),
])
def test_parse_config_refuses(default, labels, extra, message):
    with pytest.raises(pxe.PxeError) as info:
        pxe.parse_config(default, labels, **extra)
    assert message in str(info.value)


@pytest.mark.parametrize('name', ['../default', 'a/b', '/etc/passwd', '..', 'orbit..2', '.hidden', 'a b', 'x\ny', ''])
def test_config_name_must_be_a_plain_file_name(name):
    with pytest.raises(pxe.PxeError):
        pxe.check_config_name(name)


def test_config_name_accepts_default_and_versions():
    assert pxe.check_config_name('orbit-2.0.0') == 'orbit-2.0.0'
    assert pxe.check_config_name('default') == 'default'


def test_check_files_finds_kernels_with_and_without_leading_slash(tmp_path):
    (tmp_path / 'x86_64').mkdir()
    (tmp_path / 'x86_64' / 'vmlinuz').write_bytes(b'k')
    (tmp_path / 'initrd.gz').write_bytes(b'i')
    config = pxe.parse_config('a', [{'name': 'a', 'kernel': '/x86_64/vmlinuz', 'initrd': 'initrd.gz'},
                                    {'name': 'b', 'kernel': 'x86_64/vmlinuz'}])
    pxe.check_files(str(tmp_path), config)


def test_check_files_names_every_missing_file(tmp_path):
    (tmp_path / 'vmlinuz').write_bytes(b'k')
    config = pxe.parse_config('a', [{'name': 'a', 'kernel': 'vmlinuz', 'initrd': ['one.gz', 'two.gz']}],
                              display='message.txt')
    with pytest.raises(pxe.PxeError) as info:
        pxe.check_files(str(tmp_path), config)
    text = str(info.value)
    assert 'one.gz' in text and 'two.gz' in text and 'message.txt' in text and 'vmlinuz (' not in text


def test_check_files_refuses_paths_outside_the_root(tmp_path):
    root = tmp_path / 'tftp'
    root.mkdir()
    (tmp_path / 'vmlinuz').write_bytes(b'k')
    config = pxe.parse_config('a', [{'name': 'a', 'kernel': '../vmlinuz'}])
    with pytest.raises(Exception, match='escapes'):
        pxe.check_files(str(root), config)


def test_config_users_finds_pointers_and_aliases(tmp_path):
    root = make_root(tmp_path)
    cfg = os.path.join(root, 'pxelinux.cfg')
    os.symlink('imaging', os.path.join(cfg, '0A4D000A'))
    os.symlink('harddisk', os.path.join(cfg, '0A4D000B'))
    os.symlink('./imaging', os.path.join(cfg, 'alias'))
    assert pxe.config_users(cfg, 'imaging') == ['0A4D000A', 'alias']
    assert pxe.config_users(os.path.join(root, 'missing'), 'imaging') == []


def test_config_file_state_kinds(tmp_path):
    (tmp_path / 'file').write_bytes(b'x')
    os.chmod(tmp_path / 'file', 0o600)
    os.symlink('file', tmp_path / 'link')
    (tmp_path / 'dir').mkdir()
    assert pxe.config_file_state(str(tmp_path / 'none')).kind == 'absent'
    state = pxe.config_file_state(str(tmp_path / 'file'))
    assert (state.kind, state.content, state.mode) == ('file', b'x', 0o600)
    assert (pxe.config_file_state(str(tmp_path / 'link')).link) == 'file'
    assert pxe.config_file_state(str(tmp_path / 'dir')).kind == 'other'


# ----------------------------------------------------------------------- pointers

def test_pointer_names_ip_mac_both():
    assert pxe.pointer_names([NODE], 'ip') == [[('ip', '0A120112')]]
    assert pxe.pointer_names([NODE], 'mac') == [[('mac', '01-00-0d-b9-0a-12-34')]]
    assert pxe.pointer_names([NODE], 'both') == [[('ip', '0A120112'), ('mac', '01-00-0d-b9-0a-12-34')]]


def test_check_keys_names_the_node_without_the_address():
    nodes = [NODE, NodeRecord(name='node1-3', mac='00:0d:b9:0a:12:35', origin='nodes[1]')]
    pxe.check_keys(nodes, 'mac')
    with pytest.raises(pxe.PxeError, match=r'needs the ip .* node1-3 \(nodes\[1\]\)'):
        pxe.check_keys(nodes, 'ip')
    with pytest.raises(pxe.PxeError, match='node1-3'):
        pxe.check_keys(nodes, 'both')


def test_check_keys_lists_a_bounded_number_of_nodes():
    nodes = [NodeRecord(name='n%d' % index, origin='x') for index in range(25)]
    with pytest.raises(pxe.PxeError) as info:
        pxe.check_keys(nodes, 'ip')
    assert '25 node(s)' in str(info.value) and 'and 15 more' in str(info.value)


def test_boot_target(tmp_path):
    root = make_root(tmp_path)
    os.mkdir(os.path.join(root, 'pxelinux.cfg', 'x86_64'))
    with open(os.path.join(root, 'pxelinux.cfg', 'x86_64', '2.6.23-rc8'), 'w') as handle:
        handle.write('DEFAULT initrd\n')
    assert pxe.boot_target(root, 'imaging') == 'imaging'
    assert pxe.boot_target(root, './x86_64//2.6.23-rc8') == 'x86_64/2.6.23-rc8'
    with pytest.raises(pxe.PxeError, match='does not exist'):
        pxe.boot_target(root, 'orbit-9')
    with pytest.raises(Exception, match='escapes'):
        pxe.boot_target(root, '../pxelinux.cfg/imaging')
    with pytest.raises(Exception, match='escapes'):
        pxe.boot_target(root, '/etc/hostname')


def test_boot_target_refuses_a_config_that_resolves_outside_the_root(tmp_path):
    (tmp_path / 'tftp').mkdir()
    root = make_root(tmp_path / 'tftp')
    (tmp_path / 'outside').write_text('DEFAULT x\n')
    os.symlink(str(tmp_path / 'outside'), os.path.join(root, 'pxelinux.cfg', 'sneaky'))
    with pytest.raises(NetbootError, match='sneaky: .* resolves to .*outside, outside '):
        pxe.boot_target(root, 'sneaky')


def test_plan_create_keep_replace_and_apply(tmp_path):
    root = make_root(tmp_path)
    cfg = os.path.join(root, 'pxelinux.cfg')
    nodes = [NodeRecord(name='a', ip='10.77.0.10'), NodeRecord(name='b', ip='10.77.0.11'),
             NodeRecord(name='c', ip='10.77.0.12')]
    os.symlink('imaging', os.path.join(cfg, '0A4D000B'))
    os.symlink('harddisk', os.path.join(cfg, '0A4D000C'))
    plan = pxe.plan_pointers(root, nodes, 'ip', 'imaging', 'present')
    assert [(c.name, os.path.basename(c.path), c.previous, c.target, c.action) for c in plan] == [
        ('a', '0A4D000A', None, 'imaging', 'create'),
        ('b', '0A4D000B', 'imaging', 'imaging', 'keep'),
        ('c', '0A4D000C', 'harddisk', 'imaging', 'replace'),
    ]
    assert [c.changed for c in plan] == [True, False, True]
    inode_kept = os.lstat(os.path.join(cfg, '0A4D000B')).st_ino
    pxe.apply_pointers(plan)
    assert {name: os.readlink(os.path.join(cfg, name)) for name in ('0A4D000A', '0A4D000B', '0A4D000C')} == \
        dict.fromkeys(('0A4D000A', '0A4D000B', '0A4D000C'), 'imaging')
    assert os.lstat(os.path.join(cfg, '0A4D000B')).st_ino == inode_kept
    assert sorted(os.listdir(cfg)) == ['0A4D000A', '0A4D000B', '0A4D000C', 'harddisk', 'imaging']
    assert pxe.summarize(plan) == {'pointers': 3, 'created': 1, 'replaced': 1, 'removed': 0, 'unchanged': 1}
    again = pxe.plan_pointers(root, nodes, 'ip', 'imaging', 'present')
    assert not any(change.changed for change in again)


def test_plan_absent_removes_only_existing_pointers(tmp_path):
    root = make_root(tmp_path)
    cfg = os.path.join(root, 'pxelinux.cfg')
    os.symlink('imaging', os.path.join(cfg, '01-00-0d-b9-0a-12-34'))
    plan = pxe.plan_pointers(root, [NODE], 'both', None, 'absent')
    assert [(c.key, c.action, c.previous, c.target) for c in plan] == [
        ('ip', 'absent', None, None), ('mac', 'remove', 'imaging', None)]
    pxe.apply_pointers(plan)
    assert sorted(os.listdir(cfg)) == ['harddisk', 'imaging']


def test_plan_refuses_regular_files_unless_forced(tmp_path):
    root = make_root(tmp_path)
    cfg = os.path.join(root, 'pxelinux.cfg')
    with open(os.path.join(cfg, '0A120112'), 'w') as handle:
        handle.write('DEFAULT handmade\n')
    with pytest.raises(pxe.PxeError, match=r'regular files .*0A120112 \(node1-2\)'):
        pxe.plan_pointers(root, [NODE], 'ip', 'imaging', 'present')
    plan = pxe.plan_pointers(root, [NODE], 'ip', 'imaging', 'present', force=True)
    assert (plan[0].action, plan[0].previous, plan[0].replaced_kind) == ('replace', None, 'file')
    assert 'regular file' in pxe.pointer_diff(root, plan)['before']
    pxe.apply_pointers(plan)
    assert os.readlink(os.path.join(cfg, '0A120112')) == 'imaging'


def test_plan_refuses_directories_even_when_forced(tmp_path):
    root = make_root(tmp_path)
    os.mkdir(os.path.join(root, 'pxelinux.cfg', '0A120112'))
    for state, target in (('present', 'imaging'), ('absent', None)):
        with pytest.raises(pxe.PxeError, match='directories'):
            pxe.plan_pointers(root, [NODE], 'ip', target, state, force=True)


def test_plan_refuses_a_pointer_that_is_the_boot_config(tmp_path):
    root = make_root(tmp_path, configs=('0A120112',))
    with pytest.raises(pxe.PxeError, match='is the boot config itself'):
        pxe.plan_pointers(root, [NODE], 'ip', '0A120112', 'present')


def test_plan_validates_its_arguments(tmp_path):
    root = make_root(tmp_path)
    with pytest.raises(pxe.PxeError, match='key must be'):
        pxe.plan_pointers(root, [NODE], 'name', 'imaging', 'present')
    with pytest.raises(pxe.PxeError, match='state must be'):
        pxe.plan_pointers(root, [NODE], 'ip', 'imaging', 'latest')
    with pytest.raises(pxe.PxeError, match='needs a boot config'):
        pxe.plan_pointers(root, [NODE], 'ip', None, 'present')


def test_pointer_diff_lists_only_changes(tmp_path):
    root = make_root(tmp_path)
    cfg = os.path.join(root, 'pxelinux.cfg')
    nodes = [NodeRecord(name='a', ip='10.77.0.10'), NodeRecord(name='b', ip='10.77.0.11')]
    os.symlink('harddisk', os.path.join(cfg, '0A4D000A'))
    os.symlink('imaging', os.path.join(cfg, '0A4D000B'))
    diff = pxe.pointer_diff(root, pxe.plan_pointers(root, nodes, 'ip', 'imaging', 'present'))
    assert diff['before'] == '0A4D000A (a) -> harddisk\n'
    assert diff['after'] == '0A4D000A (a) -> imaging\n'
    assert diff['before_header'] == os.path.join(root, 'pxelinux.cfg') + '/'
    removal = pxe.pointer_diff(root, pxe.plan_pointers(root, nodes, 'ip', None, 'absent'))
    assert removal['before'] == '0A4D000A (a) -> harddisk\n0A4D000B (b) -> imaging\n' and removal['after'] == ''


def test_plan_reads_each_pointer_once_on_ten_thousand_nodes(tmp_path, monkeypatch):
    """10,000 nodes is normal input: one listing of the directory, one readlink per link, no lstat per pointer.

    The check that pxelinux.cfg resolves inside the root stats a few path components once per run.
    """
    root = make_root(tmp_path)
    nodes = [NodeRecord(name='n%d' % index, ip='10.20.%d.%d' % (index // 256, index % 256))
             for index in range(10000)]
    calls = {'readlink': 0, 'lstat': 0, 'scandir': 0, 'listdir': 0}
    real = {name: getattr(os, name) for name in calls}

    def counting(name):
        def call(*args, **kwargs):
            calls[name] += 1
            return real[name](*args, **kwargs)
        return call

    for name in calls:
        monkeypatch.setattr(os, name, counting(name))
    first = pxe.plan_pointers(root, nodes, 'ip', 'imaging', 'present')
    # A new tree: the listing shows no pointer, so none is read.
    assert calls['lstat'] < 40 and dict(calls, lstat=0) == {'readlink': 0, 'lstat': 0, 'scandir': 1, 'listdir': 0}
    pxe.apply_pointers(first)
    calls.update(dict.fromkeys(calls, 0))
    again = pxe.plan_pointers(root, nodes, 'ip', 'imaging', 'present')
    assert len(again) == 10000 and all(change.action == 'keep' for change in again)
    assert calls['lstat'] < 40, calls
    assert dict(calls, lstat=0) == {'readlink': 10000, 'lstat': 0, 'scandir': 1, 'listdir': 0}
    assert len(real['listdir'](os.path.join(root, 'pxelinux.cfg'))) == 10002


def test_apply_replaces_a_pointer_made_after_the_plan(tmp_path):
    """A pointer that appeared between plan and apply (another tool) is replaced, not an error."""
    root = make_root(tmp_path)
    plan = pxe.plan_pointers(root, [NODE], 'ip', 'imaging', 'present')
    assert plan[0].action == 'create'
    os.symlink('harddisk', os.path.join(root, 'pxelinux.cfg', '0A120112'))
    pxe.apply_pointers(plan)
    assert os.readlink(os.path.join(root, 'pxelinux.cfg', '0A120112')) == 'imaging'
    assert sorted(os.listdir(os.path.join(root, 'pxelinux.cfg'))) == ['0A120112', 'harddisk', 'imaging']


@pytest.mark.parametrize('address', ['10.18.1.18', '0.0.0.0', '255.255.255.255', ' 10.1.2.3 ', '010.1.2.3', '10.1.2',
                                     '1.2.3.256', '0x0a.1.2.3', '1.2.3.4\x00', '+1.2.3.4', '', None])
def test_pointer_names_agree_with_pxe_hex(address):
    """The bulk path pointer_names takes gives pxe_hex's name, or its error, for any input."""
    from ansible_collections.cluster.netboot.plugins.module_utils._addresses import pxe_hex
    from ansible_collections.cluster.netboot.plugins.module_utils._errors import AddressError
    record = NodeRecord(name='n', ip=address)
    try:
        expected = [[('ip', pxe_hex(address))]]
    except AddressError:
        with pytest.raises(AddressError):
            pxe.pointer_names([record], 'ip')
    else:
        assert pxe.pointer_names([record], 'ip') == expected


def test_a_pointer_changed_between_listing_and_reading_is_looked_at_again(tmp_path, monkeypatch):
    """The listing said symlink; by the time it is read it is a regular file (another tool): still refused."""
    root = make_root(tmp_path)
    cfg = os.path.join(root, 'pxelinux.cfg')
    with open(os.path.join(cfg, '0A120112'), 'w') as handle:
        handle.write('DEFAULT handmade\n')
    monkeypatch.setattr(pxe, '_entry_kinds', lambda directory: {'0A120112': 'link'})
    with pytest.raises(pxe.PxeError, match='regular files'):
        pxe.plan_pointers(root, [NODE], 'ip', 'imaging', 'present')
    # And one that vanished since the listing is simply absent.
    os.unlink(os.path.join(cfg, '0A120112'))
    [change] = pxe.plan_pointers(root, [NODE], 'ip', 'imaging', 'present')
    assert (change.previous, change.action) == (None, 'create')


def test_report_folds_each_group_and_keeps_first_appearance_order():
    def change(name, key, previous, action, loader='pxelinux'):
        return pxe.PointerChange(name, key, '/x/' + name, previous, None if action == 'remove' else 'imaging',
                                 action, None, loader)

    plan = [change('n1', 'ip', 'harddisk', 'replace'), change('n2', 'ip', 'imaging', 'keep'),
            change('n3', 'ip', 'harddisk', 'replace'), change('n4', 'ip', 'imaging', 'keep'),
            change('n5', 'mac', None, 'create', 'ipxe')]
    assert pxe.report(plan) == [
        {'nodeset': 'n[1,3]', 'count': 2, 'loader': 'pxelinux', 'key': 'ip', 'previous': 'harddisk',
         'target': 'imaging', 'changed': True},
        {'nodeset': 'n[2,4]', 'count': 2, 'loader': 'pxelinux', 'key': 'ip', 'previous': 'imaging',
         'target': 'imaging', 'changed': False},
        {'nodeset': 'n5', 'count': 1, 'loader': 'ipxe', 'key': 'mac', 'previous': None, 'target': 'imaging',
         'changed': True},
    ]
    assert [entry['nodeset'] for entry in pxe.report(plan, changed_only=True)] == ['n[1,3]', 'n5']
    assert pxe.report([]) == []
