# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""pxe_config and pxe_boot against the real tftpd-hpa, fetched by a real TFTP client.

A server namespace runs ``in.tftpd --listen --foreground --address 10.77.0.1:69
--secure --user nobody <root>`` on one end of a veth pair; a client namespace
(10.77.0.10) fetches files with the tftp-hpa client (or busybox tftp), and
walks PXELINUX's own search order (``01-<mac>``, the hex IP shortened one digit
at a time, ``default``) to tell which config a node would boot. The modules
run through ansible-playbook.
"""

from __future__ import annotations

import os
import shutil

import pytest

import netns

IN_TFTPD = '/usr/sbin/in.tftpd'
SERVER_IP = '10.77.0.1'
NODE10 = {'name': 'node10', 'ip': '10.77.0.10', 'mac': '02:00:4d:00:00:0a'}
NODE11 = {'name': 'node11', 'ip': '10.77.0.11', 'mac': '02-00-4D-00-00-0B'}
LABELS = {
    'imaging': [{'name': 'imaging', 'kernel': '/vmlinuz', 'initrd': ['/initrd.gz'],
                 'append': 'console=ttyS0,115200 cnb.mode=imaging', 'ipappend': 2}],
    'harddisk': [{'name': 'harddisk', 'localboot': 0}],
}


def pxelinux_candidates(mac, ip):
    """The names PXELINUX asks for, in its order: MAC, hex IP shortened digit by digit, default."""
    hex_ip = '%02X%02X%02X%02X' % tuple(int(part) for part in ip.split('.'))
    names = ['01-' + mac.lower().replace(':', '-')]
    names += [hex_ip[:length] for length in range(8, 0, -1)]
    return names + ['default']


@pytest.fixture
def lab(netns_factory, processes, tmp_path, require_programs):
    """A TFTP root with kernels, and in.tftpd serving it in its own namespace; a client namespace."""
    if not os.access(IN_TFTPD, os.X_OK):
        pytest.skip('NOT TESTED: %s missing (tftpd-hpa, run `make deps`)' % IN_TFTPD)
    client_program = shutil.which('tftp')
    if client_program is None:
        require_programs('busybox')
    server = netns_factory.namespace('srv')
    client = netns_factory.namespace('cli')
    netns_factory.veth(server, client, '%s/24' % SERVER_IP, '%s/24' % NODE10['ip'])
    root = tmp_path / 'tftp'
    root.mkdir()
    # in.tftpd chroots as root, then serves as nobody: the tree must be world-readable.
    root.chmod(0o755)
    for name in ('vmlinuz', 'initrd.gz'):
        (root / name).write_bytes(b'%s stand-in\n' % name.encode())
    daemon = processes.start([IN_TFTPD, '--listen', '--foreground', '--address', '%s:69' % SERVER_IP,
                              '--secure', '--user', 'nobody', str(root)], ns=server)
    netns.wait_for(lambda: server.listening(69) or not daemon.running(), timeout=15,
                   what='in.tftpd listening on 69/udp')
    assert daemon.running(), daemon.log()

    class Lab:
        tftp_root = root
        cfg = root / 'pxelinux.cfg'

        @staticmethod
        def fetch(remote):
            """The file's bytes as the server sends them, or None when it refuses.

            tftp-hpa exits 0 on "File not found", so the answer is judged by its
            messages and by the file it wrote, never by the exit code alone.
            """
            local = tmp_path / 'fetched'
            if local.exists():
                local.unlink()
            if client_program:
                argv = [client_program, '-m', 'binary', SERVER_IP, '-c', 'get', remote, str(local)]
            else:
                argv = ['busybox', 'tftp', '-g', '-r', remote, '-l', str(local), SERVER_IP]
            done = client.exec(argv, check=False, timeout=30)
            if done.returncode != 0 or 'rror' in done.stdout + done.stderr or not local.exists():
                return None
            return local.read_bytes()

        def booted_config(self, node):
            """(name, bytes) of the first file PXELINUX's search order finds for ``node``."""
            for name in pxelinux_candidates(node['mac'].replace('-', ':'), node['ip']):
                content = self.fetch('pxelinux.cfg/' + name)
                if content is not None:
                    return name, content
            return None, None

        def config(self, name):
            return (self.cfg / name).read_bytes()

    return Lab()


def config_task(lab, name):
    return {'name': 'Config %s' % name,
            'cluster.netboot.pxe_config': {'tftp_root': str(lab.tftp_root), 'name': name, 'default': name,
                                           'serial': '0 115200', 'labels': LABELS[name]}}


def setup_play(lab):
    default = {'name': 'Config default',
               'cluster.netboot.pxe_config': {'tftp_root': str(lab.tftp_root), 'name': 'default',
                                              'default': 'harddisk', 'labels': LABELS['harddisk']}}
    return [{'name': 'Boot configs', 'hosts': 'localhost', 'gather_facts': False,
             'tasks': [default, config_task(lab, 'imaging'), config_task(lab, 'harddisk')]}]


def boot_play(lab, key='ip', state='present', pairs=((NODE10, 'imaging'), (NODE11, 'harddisk')), **extra):
    tasks = []
    for node, boot in pairs:
        args = {'tftp_root': str(lab.tftp_root), 'nodes': [node], 'key': key, 'state': state}
        if state == 'present':
            args['boot'] = boot
        args.update(extra)
        tasks.append({'name': 'Point %s' % node['name'], 'cluster.netboot.pxe_boot': args})
    return [{'name': 'Pointers', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]


@pytest.mark.parametrize('key, pointer10, pointer11', [
    ('ip', '0A4D000A', '0A4D000B'),
    ('mac', '01-02-00-4d-00-00-0a', '01-02-00-4d-00-00-0b'),
])
def test_nodes_fetch_the_config_they_are_pointed_at(lab, run_playbook, tree_digest, key, pointer10, pointer11):
    result = run_playbook(setup_play(lab))
    assert not result.failed, result
    imaging, harddisk, default = lab.config('imaging'), lab.config('harddisk'), lab.config('default')
    assert b'KERNEL /vmlinuz' in imaging and b'LOCALBOOT 0' in harddisk
    # Before any pointer: every node boots default.
    assert lab.booted_config(NODE10) == ('default', default)

    # Check mode predicts, and touches nothing.
    before = tree_digest(lab.tftp_root)
    result = run_playbook(boot_play(lab, key), check=True, diff=True)
    assert not result.failed, result
    assert result.task('Point node10').changed
    assert pointer10 in result.task('Point node10')['diff']['after']
    assert tree_digest(lab.tftp_root) == before

    result = run_playbook(boot_play(lab, key))
    assert not result.failed, result
    point10 = result.task('Point node10')
    assert point10.changed and point10['nodes'] == [{
        'nodeset': 'node10', 'count': 1, 'loader': 'pxelinux', 'key': key, 'previous': None, 'target': 'imaging',
        'changed': True}]
    assert os.readlink(lab.cfg / pointer10) == 'imaging' and os.readlink(lab.cfg / pointer11) == 'harddisk'
    assert lab.fetch('pxelinux.cfg/' + pointer10) == imaging
    assert lab.fetch('pxelinux.cfg/' + pointer11) == harddisk
    assert lab.booted_config(NODE10) == (pointer10, imaging)
    assert lab.booted_config(NODE11) == (pointer11, harddisk)

    # The same call again: nothing changes, nothing is touched.
    before = tree_digest(lab.tftp_root)
    result = run_playbook(boot_play(lab, key))
    assert not result.failed and not result.changed, result
    assert tree_digest(lab.tftp_root) == before

    # Repoint node10 to the local disk: the server sends the new config at once.
    result = run_playbook(boot_play(lab, key, pairs=((NODE10, 'harddisk'),)), diff=True)
    assert result.task('Point node10')['nodes'][0]['previous'] == 'imaging'
    assert lab.fetch('pxelinux.cfg/' + pointer10) == harddisk

    # Removed: the pointer is gone from the server and the node falls back to default.
    result = run_playbook(boot_play(lab, key, state='absent'))
    assert not result.failed, result
    assert result.task('Point node10').changed and result.task('Point node11').changed
    assert lab.fetch('pxelinux.cfg/' + pointer10) is None
    assert lab.fetch('pxelinux.cfg/' + pointer11) is None
    assert lab.booted_config(NODE10) == ('default', default)
    assert lab.booted_config(NODE11) == ('default', default)


def test_uefi_directory_shares_the_pointers_through_a_symlink(lab, run_playbook):
    """efi64/pxelinux.cfg -> ../pxelinux.cfg: tftpd --secure follows it inside its chroot."""
    assert not run_playbook(setup_play(lab)).failed
    (lab.tftp_root / 'efi64').mkdir(mode=0o755)
    os.symlink('../pxelinux.cfg', lab.tftp_root / 'efi64' / 'pxelinux.cfg')
    result = run_playbook(boot_play(lab, 'both'))
    assert not result.failed, result
    imaging = lab.config('imaging')
    assert lab.fetch('efi64/pxelinux.cfg/0A4D000A') == imaging
    assert lab.fetch('efi64/pxelinux.cfg/01-02-00-4d-00-00-0a') == imaging
    assert lab.fetch('efi64/pxelinux.cfg/default') == lab.config('default')
    # A kernel path with a leading / is the TFTP root, from either loader's directory.
    assert lab.fetch('/vmlinuz') == b'vmlinuz stand-in\n'


def test_ten_thousand_nodes_in_one_task(lab, run_playbook, tree_digest):
    """A nodeset of 10,000 nodes, one task; every pointer is served, a node fetches its own."""
    assert not run_playbook(setup_play(lab)).failed
    play = [{'name': 'Many', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [{
        'name': 'Point many',
        'cluster.netboot.pxe_boot': {'tftp_root': str(lab.tftp_root), 'nodeset': 'n[1-10000]',
                                     'ip_start': '10.77.0.10', 'boot': 'imaging'}}]}]
    result = run_playbook(play)
    assert not result.failed, result
    summary = result.task('Point many')['summary']
    assert summary == {'nodes': 10000, 'pointers': 10000, 'created': 10000, 'replaced': 0, 'removed': 0,
                       'unchanged': 0}
    assert lab.booted_config(NODE10) == ('0A4D000A', lab.config('imaging'))
    # n10000 = 10.77.0.10 + 9999 = 10.77.39.25
    assert lab.fetch('pxelinux.cfg/0A4D2719') == lab.config('imaging')
    before = tree_digest(lab.tftp_root)
    result = run_playbook(play)
    assert not result.failed and not result.changed, result
    assert tree_digest(lab.tftp_root) == before


@pytest.mark.parametrize('case', ['duplicate ip', 'duplicate mac', 'unknown boot', 'regular file at pointer',
                                  'escaping boot', 'invalid mac', 'node without ip'])
def test_bad_input_fails_and_leaves_the_tree_byte_identical(lab, run_playbook, tree_digest, case):
    assert not run_playbook(setup_play(lab)).failed
    assert not run_playbook(boot_play(lab, 'ip')).failed
    key = 'ip'
    nodes = [NODE10, NODE11]
    boot = 'imaging'
    if case == 'duplicate ip':
        nodes = [NODE10, dict(NODE11, ip=NODE10['ip'])]
        expected = 'duplicate ip 10.77.0.10'
    elif case == 'duplicate mac':
        nodes, key = [NODE10, dict(NODE11, mac='02:00:4D:00:00:0A')], 'mac'
        expected = 'duplicate mac'
    elif case == 'unknown boot':
        boot, expected = 'orbit-9.9.9', 'does not exist'
    elif case == 'regular file at pointer':
        nodes = [NODE10, dict(NODE11, ip='10.77.0.12')]
        (lab.cfg / '0A4D000C').write_bytes(b'DEFAULT handmade\n')
        expected = 'regular file'
    elif case == 'escaping boot':
        boot, expected = '../vmlinuz', 'escapes'
    elif case == 'invalid mac':
        nodes, key = [NODE10, dict(NODE11, mac='02:00:4d:00:00')], 'mac'
        expected = 'invalid MAC address'
    else:
        nodes = [NODE10, {'name': 'node12', 'mac': '02:00:4d:00:00:0c'}]
        expected = 'node12'
    before = tree_digest(lab.tftp_root)
    arguments = {'tftp_root': str(lab.tftp_root), 'nodes': nodes, 'boot': boot, 'key': key}
    play = [{'name': 'Bad', 'hosts': 'localhost', 'gather_facts': False,
             'tasks': [{'name': 'Point', 'cluster.netboot.pxe_boot': arguments}]}]
    result = run_playbook(play)
    assert result.failed
    assert expected in result.task('Point')['msg']
    assert tree_digest(lab.tftp_root) == before
    # The server still hands out what was there before.
    assert lab.fetch('pxelinux.cfg/0A4D000A') == lab.config('imaging')


# The imaging spec every loader takes: GRUB has no IPAPPEND (put BOOTIF= in append for it).
SHARED_LABELS = [{key: value for key, value in LABELS['imaging'][0].items() if key != 'ipappend'}] + LABELS['harddisk']


def loader_play(lab, loaders, state='present'):
    """pxe_config writes the imaging spec for every loader, pxe_boot points both nodes in one task."""
    tasks = [{'name': 'Config %s' % loader,
              'cluster.netboot.pxe_config': {'tftp_root': str(lab.tftp_root), 'name': 'imaging', 'loader': loader,
                                             'default': 'imaging', 'serial': '0 115200', 'labels': SHARED_LABELS}}
             for loader in loaders]
    tasks.append({'name': 'Point',
                  'cluster.netboot.pxe_boot': {'tftp_root': str(lab.tftp_root), 'nodes': [NODE10, NODE11],
                                               'boot': 'imaging', 'key': 'both', 'state': state,
                                               'loader': loaders}})
    return [{'name': 'Loaders', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}]


def test_grub_and_ipxe_fetch_their_per_node_files_by_the_names_they_ask_for(lab, run_playbook):
    """The names Debian's signed GRUB (through its dispatcher) and iPXE request, served by the real in.tftpd.

    GRUB asks with a leading slash (``/grub/grub.cfg-01-<mac>``, seen on the wire from a
    Secure Boot OVMF VM); iPXE's dispatcher chains ``${mac:hexhyp}.ipxe`` and ``${ip}.ipxe``
    relative to ``ipxe/``.
    """
    result = run_playbook(loader_play(lab, ['pxelinux', 'grub', 'ipxe']))
    assert not result.failed, result
    assert result.task('Point')['summary']['created'] == 12
    grub = (lab.tftp_root / 'grub' / 'imaging').read_bytes()
    ipxe = (lab.tftp_root / 'ipxe' / 'imaging').read_bytes()
    assert b'  linux /vmlinuz console=ttyS0,115200 cnb.mode=imaging\n' in grub
    # Local boot: the disk's EFI loader, else back to the firmware.
    assert b'      chainloader $loader\n' in grub and b'  exit 1\n' in grub
    assert ipxe.startswith(b'#!ipxe\n') and b'\nkernel /vmlinuz initrd=initrd.gz console=ttyS0' in ipxe
    for node, hexhyp in ((NODE10, '02-00-4d-00-00-0a'), (NODE11, '02-00-4d-00-00-0b')):
        assert lab.fetch('/grub/grub.cfg-01-%s' % hexhyp) == grub
        assert lab.fetch('/grub/grub.cfg-%s' % node['ip']) == grub
        assert lab.fetch('ipxe/%s.ipxe' % hexhyp) == ipxe
        assert lab.fetch('ipxe/%s.ipxe' % node['ip']) == ipxe
    # The kernel and initrd by the paths the configs give, from the TFTP root.
    assert lab.fetch('/vmlinuz') == b'vmlinuz stand-in\n' and lab.fetch('/initrd.gz') == b'initrd.gz stand-in\n'
    assert lab.booted_config(NODE10) == ('01-02-00-4d-00-00-0a', lab.config('imaging'))

    # Gone from the server for every loader at once.
    result = run_playbook(loader_play(lab, ['grub', 'ipxe'], state='absent'))
    assert not result.failed, result
    assert result.task('Point')['summary']['removed'] == 8
    assert lab.fetch('/grub/grub.cfg-01-02-00-4d-00-00-0a') is None
    assert lab.fetch('ipxe/10.77.0.10.ipxe') is None
    assert lab.booted_config(NODE10) == ('01-02-00-4d-00-00-0a', lab.config('imaging'))


def test_grub_pointer_failure_leaves_every_loader_byte_identical(lab, run_playbook, tree_digest):
    """A boot config missing for one loader: no pointer of any loader changes, the server sends the same."""
    assert not run_playbook(setup_play(lab)).failed
    assert not run_playbook(boot_play(lab, 'ip')).failed
    (lab.tftp_root / 'ipxe').mkdir(mode=0o755)
    (lab.tftp_root / 'ipxe' / 'harddisk').write_bytes(b'#!ipxe\nexit\n')
    before = tree_digest(lab.tftp_root)
    play = [{'name': 'Bad', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [{
        'name': 'Point', 'cluster.netboot.pxe_boot': {
            'tftp_root': str(lab.tftp_root), 'nodes': [NODE10, NODE11], 'boot': 'harddisk',
            'loader': ['pxelinux', 'ipxe', 'grub']}}]}]
    result = run_playbook(play)
    assert result.failed and 'loader: grub' in result.task('Point')['msg']
    assert tree_digest(lab.tftp_root) == before
    assert lab.fetch('pxelinux.cfg/0A4D000A') == lab.config('imaging')
    assert lab.fetch('ipxe/10.77.0.10.ipxe') is None


SIGNED = {'shimx64.efi': '/usr/lib/shim/shimx64.efi.signed',
          'grubx64.efi': '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed'}
IPXE = {'ipxe.efi': '/usr/lib/ipxe/ipxe.efi', 'undionly.kpxe': '/usr/lib/ipxe/undionly.kpxe'}


def layout_play(lab, **values):
    """The tftp_server role's layout of the TFTP root (no packages, no service: the lab runs in.tftpd)."""
    return [{'name': 'Layout', 'hosts': 'localhost', 'gather_facts': False,
             'vars': dict({'tftp_server_root': str(lab.tftp_root)}, **values),
             'tasks': [{'name': 'Lay out', 'ansible.builtin.include_role': {
                 'name': 'cluster.netboot.tftp_server', 'tasks_from': 'layout'}}]}]


@pytest.fixture
def signed_binaries():
    missing = [path for path in list(SIGNED.values()) + list(IPXE.values()) if not os.path.exists(path)]
    if missing:
        pytest.skip('NOT TESTED: %s missing (shim-signed, grub-efi-amd64-signed, ipxe; run `make deps`)'
                    % ', '.join(missing))


def test_tftp_server_layout_serves_shim_grub_ipxe_and_dispatchers(lab, run_playbook, signed_binaries):
    """What a Secure Boot node (shim, then grubx64.efi, then grub/grub.cfg) and an iPXE node fetch, by TFTP."""
    result = run_playbook(layout_play(lab))
    assert not result.failed, result
    for name, source in list(SIGNED.items()) + list(IPXE.items()):
        with open(source, 'rb') as installed:
            assert lab.fetch(name) == installed.read(), name
        assert not (lab.tftp_root / name).is_symlink()
    grub_cfg = lab.fetch('/grub/grub.cfg')
    assert b'source "$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6"' in grub_cfg
    assert grub_cfg == (lab.tftp_root / 'grub' / 'grub.cfg').read_bytes()
    assert lab.fetch('ipxe/boot.ipxe').startswith(b'#!ipxe\n# Managed') and b'${mac:hexhyp}.ipxe' in lab.fetch('ipxe/boot.ipxe')
    # The dispatchers' fallback: back to the firmware's boot order (the disk).
    assert b'      chainloader $loader\n' in lab.fetch('/grub/default') and b'\nexit\n' in lab.fetch('ipxe/default')
    assert b'LOCALBOOT 0' in lab.fetch('pxelinux.cfg/default')
    assert lab.fetch('pxelinux.0') is not None and lab.fetch('efi64/syslinux.efi') is not None
    again = run_playbook(layout_play(lab))
    assert not again.failed and not again.changed, again.changed_tasks


@pytest.mark.parametrize('values, missing', [
    ({'tftp_server_grub': '/nonexistent/grubnetx64.efi.signed'}, '/nonexistent/grubnetx64.efi.signed'),
    ({'tftp_server_ipxe_files': ['/nonexistent/ipxe.efi']}, '/nonexistent/ipxe.efi'),
])
def test_tftp_server_layout_with_a_loader_missing_changes_nothing(
        lab, run_playbook, tree_digest, signed_binaries, values, missing):
    before = tree_digest(lab.tftp_root)
    result = run_playbook(layout_play(lab, **values))
    assert result.failed
    message = result.task('cluster.netboot.tftp_server : Refuse to lay out a tree with a boot loader missing')['msg']
    assert 'not installed on localhost: %s' % missing in message and 'nothing in' in message
    assert tree_digest(lab.tftp_root) == before
