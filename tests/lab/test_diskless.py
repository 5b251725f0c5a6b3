# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Diskless NFS-root nodes in the QEMU lab, end to end.

playbooks/provision_diskless.yml builds a Debian root tree with debootstrap
(mirror from this host's apt sources), prepares it (var -> var.ro, per-node
files linked into /var, the boot-time setup, the hosts file), exports it
read-only with nfs-ganesha, builds the diskless kernel and initramfs with the
imaging_ramdisk builder, writes their PXE config and points node1 at it, with
node1's DHCP entry. playbooks/add_node.yml then adds node2 (DHCP entry, hosts
entry, PXE pointer, power on through QMP) - the grid site's "MAC and IP into
DHCP and hosts, power on".

Two QEMU VMs (TCG) with blank disks PXE-boot the same NFS root: node1 with
SeaBIOS through PXELINUX, node2 with OVMF and Secure Boot enforced through
shim and Debian's signed network GRUB (the tftp_server role's layout, the
dhcp_server role's option-93 choice of boot file), both from one boot config
written for each loader (diskless_initrd_loaders); node2 reports the
SecureBoot EFI variable it sees from the NFS root. A lab-only
report unit in the tree prints what each node sees on its serial console
(CNB-LAB lines): its host name, / read-only over NFS, /var, /tmp and /home on
its own disk. On the first boot it writes a marker with a random token into
/home and reboots; on the second boot the marker must be there (and the disk
only mounted, not formatted again), the other node's marker must not, and the
node powers off. With CNB_LAB_DISKLESS_WIPE=1 node2 also requests /var/wipe
and must come back from a third boot with a freshly formatted disk.

The fabric is lab-only: a network namespace with a bridge (10.77.0.1/24),
radvd, dhcpd and in.tftpd in it, and nfs-ganesha with rpcbind in a private
mount namespace (tests/lab/diskless/nfs-server.sh), because this host's
kernel has no NFS server.

The debootstrapped tree and the kernel build are cached between runs in
CNB_LAB_CACHE (default /tmp/cluster-netboot-lab/cache); the first run takes
a few minutes longer. CNB_LAB_RESULTS names a JSON file for the result table,
CNB_LAB_DISKLESS_NFS_OPTIONS=vers=4.1 boots over NFSv4.1 instead of
vers=3,nolock, CNB_LAB_DISKLESS_TIMEOUT (default 600) bounds the boots.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from netns import wait_for

REPO = Path(__file__).resolve().parents[2]
LAB_FILES = REPO / 'tests' / 'lab' / 'diskless'
CACHE = Path(os.environ.get('CNB_LAB_CACHE', '/tmp/cluster-netboot-lab/cache'))
BOOT_TIMEOUT = float(os.environ.get('CNB_LAB_DISKLESS_TIMEOUT', '600'))
WIPE = os.environ.get('CNB_LAB_DISKLESS_WIPE') == '1'
# vers=4.1 boots the nodes over NFSv4.1 instead.
NFS_OPTIONS = os.environ.get('CNB_LAB_DISKLESS_NFS_OPTIONS', 'vers=3,nolock')
NFS4 = 'vers=4' in NFS_OPTIONS

SERVER = '10.77.0.1'
SUBNET = '10.77.0.0/24'
SUITE = 'bookworm'
# A lean tree boots faster under TCG; the role's default list adds udev,
# procps, kmod and openssh-server for real nodes.
TREE_PACKAGES = ['systemd-sysv', 'fdisk', 'e2fsprogs', 'iproute2']
INITRD_MODULES = ['virtio_pci', 'virtio_net', 'nfsv3', 'virtio_blk', 'ext4', 'efivarfs'] + (['nfsv4'] if NFS4 else [])
LAYOUT = [
    {'name': 'var', 'path': '/var', 'size': '64M', 'seed': '/var.ro'},
    {'name': 'tmp', 'path': '/tmp', 'size': '32M', 'mode': '1777'},
    {'name': 'home', 'path': '/home'},
]
DISK_MIB = 256
PXELINUX = Path('/usr/lib/PXELINUX/pxelinux.0')
LDLINUX = Path('/usr/lib/syslinux/modules/bios/ldlinux.c32')
# UEFI with Secure Boot enforced, as in the imaging lab: Microsoft's keys enrolled, shim signed by them.
OVMF_CODE = Path('/usr/share/OVMF/OVMF_CODE_4M.secboot.fd')
OVMF_VARS = Path('/usr/share/OVMF/OVMF_VARS_4M.ms.fd')
SHIM = Path('/usr/lib/shim/shimx64.efi.signed')
GRUB = Path('/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed')
# The EFI stub cannot decompress Debian's kernel in 256 MiB.
UEFI_MEMORY = '512'


@dataclass
class Node:
    """A lab VM."""

    name: str
    mac: str
    ip: str
    firmware: str = 'bios'
    boots: list[dict[str, t.Any]] = field(default_factory=list)
    seconds: float = 0.0

    def entry(self) -> dict[str, str]:
        """The node as the modules take it."""
        return {'name': self.name, 'mac': self.mac, 'ip': self.ip}

    def loaders(self) -> list[str]:
        """The boot loader its firmware reaches: PXELINUX (BIOS) or shim and GRUB (UEFI)."""
        return ['grub'] if self.firmware == 'uefi' else ['pxelinux']


NODES = [Node('node1', '52:54:00:77:00:11', '10.77.0.11'),
         Node('node2', '52:54:00:77:00:12', '10.77.0.12', firmware='uefi')]


def parse_reports(serial_log: str) -> list[dict[str, t.Any]]:
    """The CNB-LAB lines of a serial log, one dict per boot (a boot starts with its hostname line)."""
    boots: list[dict[str, t.Any]] = []
    for line in serial_log.splitlines():
        match = re.search(r'CNB-LAB (\S+)(?: (.*))?$', line.replace('\r', ''))
        if not match:
            continue
        key, value = match.group(1), (match.group(2) or '').strip()
        if key == 'hostname':
            boots.append({'mounts': {}})
        if not boots:
            continue
        boot = boots[-1]
        if key == 'mount':
            mount_point, _space, spec = value.partition(' ')
            source, fstype, options = (spec.split('|') + ['', '', ''])[:3]
            boot['mounts'][mount_point] = {'source': source, 'fstype': fstype, 'options': options.split(',')}
        elif key == 'status':
            boot['status'] = dict(item.split('=', 1) for item in value.split() if '=' in item)
        elif key == 'home':
            boot['home'] = sorted(name for name in value.split() if name != 'lost+found')
        else:
            boot[key] = value
    return boots


def format_table(rows: list[dict[str, t.Any]]) -> str:
    """The lab's result: one row per node, columns aligned."""
    columns = list(rows[0])
    widths = [max(len(column), *(len(str(row[column])) for row in rows)) for column in columns]
    lines = ['  '.join(column.ljust(width) for column, width in zip(columns, widths))]
    lines += ['  '.join(str(row[column]).ljust(width) for column, width in zip(columns, widths)) for row in rows]
    return '\n'.join(lines)


def tree_cache() -> Path:
    """The cached debootstrap tree for TREE_PACKAGES (built by the role on the first run)."""
    key = hashlib.sha256(json.dumps([SUITE, TREE_PACKAGES]).encode()).hexdigest()[:12]
    return CACHE / f'diskless-tree-{key}'


@contextlib.contextmanager
def cache_lock() -> t.Iterator[None]:
    """Labs running at once take turns at building the cached tree and kernel."""
    with open(CACHE / 'diskless.lock', 'w', encoding='utf-8') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def copy_tree(source: Path, target: Path) -> None:
    """Copy a root tree with owners, modes, links and device nodes."""
    subprocess.run(['cp', '-a', '--reflink=auto', f'{source}/.', str(target)], check=True)


def write_fabric_files(work: Path) -> dict[str, Path]:
    """dhcpd and ganesha main configs: the lab fabric around the roles (the TFTP root is the tftp_server role's)."""
    tftp = work / 'tftp'
    dhcp = work / 'dhcp'
    dhcp.mkdir()
    hosts = dhcp / 'dhcpd.hosts.conf'
    hosts.write_text('')
    config = dhcp / 'dhcpd.conf'
    (dhcp / 'dhcpd.leases').write_text('')
    ganesha = work / 'ganesha'
    ganesha.mkdir()
    main = ganesha / 'ganesha.conf'
    # Lab-only core settings; the nfsroot_server role adds its %include line.
    main.write_text(
        'NFS_CORE_PARAM { Protocols = 3, 4; Enable_NLM = false; Enable_RQUOTA = false; }\n'
        # Numeric owners: the nodes have no NFSv4 id mapper; names would map to
        # nobody and make setuid programs such as mount run unprivileged.
        'NFSV4 { Graceless = true; Only_Numeric_Owners = true; }\n'
        'NFS_KRB5 { Active_krb5 = false; }\n')
    radvd = work / 'radvd.conf'
    return {'tftp': tftp, 'dhcp_hosts': hosts, 'dhcp_config': config, 'dhcp_leases': dhcp / 'dhcpd.leases',
            'ganesha_main': main, 'ganesha_export': ganesha / 'export-lab.conf', 'radvd': radvd}


def fabric_play(fabric: dict[str, Path]) -> tuple[list[dict[str, t.Any]], dict[str, t.Any]]:
    """The roles' TFTP layout and dhcpd configuration, into the lab's files (no packages, no services).

    The tftp_server role lays out PXELINUX, shim and the signed network GRUB
    with GRUB's dispatcher; the dhcp_server role's template hands BIOS clients
    pxelinux.0 and x86-64 UEFI clients (option 93) shimx64.efi.
    """
    play = [{
        'name': 'Lab TFTP root and dhcpd configuration', 'hosts': 'localhost', 'gather_facts': False,
        'vars_files': [str(REPO / 'roles' / 'dhcp_server' / 'defaults' / 'main.yml')],
        'tasks': [
            {'name': 'TFTP layout', 'ansible.builtin.include_role': {
                'name': 'cluster.netboot.tftp_server', 'tasks_from': 'layout'}},
            {'name': 'dhcpd configuration', 'ansible.builtin.template': {
                'src': str(REPO / 'roles' / 'dhcp_server' / 'templates' / 'dhcpd.conf.j2'),
                'dest': str(fabric['dhcp_config']), 'mode': '0644'}},
        ],
    }]
    extravars = {
        'tftp_server_root': str(fabric['tftp']),
        'tftp_server_efi64': False,
        'tftp_server_ipxe': False,
        'tftp_server_shim': str(SHIM),
        'tftp_server_grub': str(GRUB),
        'dhcp_server_hosts_path': str(fabric['dhcp_hosts']),
        'dhcp_server_pid_file': str(fabric['dhcp_leases']) + '.pid',
        'dhcp_server_default_lease_time': 3600,
        'dhcp_server_subnets': [{'subnet': '10.77.0.0', 'netmask': '255.255.255.0', 'next_server': SERVER}],
    }
    return play, extravars


def install_lab_report(tree: Path, wipe_nodes: list[str]) -> None:
    """Lab only: the unit that reports what a node sees on its serial console."""
    shutil.copy(LAB_FILES / 'cnb-lab-report', tree / 'usr/local/sbin/cnb-lab-report')
    os.chmod(tree / 'usr/local/sbin/cnb-lab-report', 0o755)
    units = tree / 'etc/systemd/system'
    shutil.copy(LAB_FILES / 'cnb-lab-report.service', units / 'cnb-lab-report.service')
    wants = units / 'multi-user.target.wants'
    wants.mkdir(exist_ok=True)
    link = wants / 'cnb-lab-report.service'
    if not link.is_symlink():
        link.symlink_to('/etc/systemd/system/cnb-lab-report.service')
    (tree / 'etc/cnb-lab').mkdir(exist_ok=True)
    (tree / 'etc/cnb-lab/wipe').write_text(''.join(name + '\n' for name in wipe_nodes))


def qemu_argv(node: Node, work: Path, tap: str, boot: int) -> list[str]:
    """A lab VM: TCG, a blank virtio disk, PXE on virtio-net - SeaBIOS with iPXE, or OVMF with Secure Boot.

    The first boot starts paused ("powered off") for node_power. A BIOS
    node's reboot ends the QEMU process (-no-reboot) and the test starts the
    next boot in a fresh one, on the same disk, with its own serial log. A
    UEFI node reboots inside its QEMU (OVMF may reset once by itself while it
    sets up its variables) and logs every boot to one serial log; it ends
    when it powers off.
    """
    vm = work / node.name
    if node.firmware == 'uefi':
        if boot == 1:
            shutil.copy(OVMF_VARS, vm / 'OVMF_VARS.fd')
        # romfile= keeps QEMU's (unsigned) iPXE ROM away: OVMF's own network stack boots shim.
        machine = ['-m', UEFI_MEMORY, '-machine', 'q35,smm=on,graphics=off',
                   '-global', 'driver=cfi.pflash01,property=secure,value=on',
                   '-drive', f'if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}',
                   '-drive', f'if=pflash,format=raw,unit=1,file={vm}/OVMF_VARS.fd']
        nic = f'virtio-net-pci,netdev=net0,mac={node.mac},romfile=,bootindex=1'
    else:
        machine = ['-m', '256', '-machine', 'pc,graphics=off', '-no-reboot', '-boot', 'order=n']
        nic = f'virtio-net-pci,netdev=net0,mac={node.mac}'
    return ['qemu-system-x86_64', '-name', f'cnb-lab-diskless-{node.name}', '-accel', 'tcg', *machine,
            '-display', 'none', '-nodefaults', '-serial', f'file:{vm}/serial-{boot}.log',
            '-qmp', f'unix:{vm}/qmp-{boot}.sock,server=on,wait=off',
            '-netdev', f'tap,id=net0,ifname={tap},script=no,downscript=no', '-device', nic,
            '-drive', f'file={vm}/disk.img,if=virtio,format=raw'] + (['-S'] if boot == 1 else [])


def serial_logs(node: Node, work: Path) -> list[str]:
    """The serial logs of a node's boots, in order."""
    logs = []
    boot = 1
    while (work / node.name / f'serial-{boot}.log').exists():
        logs.append((work / node.name / f'serial-{boot}.log').read_text(errors='replace'))
        boot += 1
    return logs


def lab_vars(work: Path, tree: Path, fabric: dict[str, Path]) -> dict[str, t.Any]:
    """Extra variables of provision_diskless.yml for the lab (everything under the test's directory)."""
    return {
        'diskless_console': 'localhost',
        'diskless_name': 'lab',
        'nfsroot_server_root': str(tree),
        'nfsroot_server_source': 'debootstrap',
        'nfsroot_server_debootstrap_include': TREE_PACKAGES,
        'nfsroot_server_backend': 'ganesha',
        'nfsroot_server_clients': [SUBNET],
        'nfsroot_server_ganesha_config': str(fabric['ganesha_main']),
        'nfsroot_server_ganesha_export_file': str(fabric['ganesha_export']),
        'nfsroot_server_install_packages': False,
        'nfsroot_server_manage_service': False,
        'diskless_node_layout': LAYOUT,
        'diskless_initrd_tftp_root': str(fabric['tftp']),
        'diskless_initrd_work_dir': str(CACHE / 'diskless-initrd-work'),
        'diskless_initrd_modules': INITRD_MODULES,
        'diskless_initrd_install_build_packages': False,
        'diskless_initrd_apt_update_cache': False,
        'diskless_initrd_kernel_args': 'console=ttyS0,115200 quiet',
        'diskless_initrd_nfs_options': NFS_OPTIONS,
        'diskless_initrd_loaders': ['pxelinux', 'grub'],
        'diskless_dhcpd_hosts_path': str(fabric['dhcp_hosts']),
        'diskless_dhcpd_config_path': str(fabric['dhcp_config']),
    }


def add_node_vars(node: Node, work: Path, tree: Path, fabric: dict[str, Path], power: bool) -> dict[str, t.Any]:
    """Extra variables of add_node.yml for one lab VM."""
    return {
        'diskless_console': 'localhost',
        'diskless_name': 'lab',
        'diskless_root': str(tree),
        'diskless_tftp_root': str(fabric['tftp']),
        'diskless_dhcpd_hosts_path': str(fabric['dhcp_hosts']),
        'diskless_dhcpd_config_path': str(fabric['dhcp_config']),
        # dhcpd is lab fabric here, not a service: the test restarts it.
        'diskless_dhcpd_service': '',
        'node_name': node.name,
        'node_mac': node.mac,
        'node_ip': node.ip,
        'diskless_loaders': node.loaders(),
        'diskless_power': power,
        'diskless_power_driver': 'qemu',
        'node_power_fields': {'qmp': str(work / node.name / 'qmp-1.sock')},
        # The playbook runs in the host's namespace, the VM is only reachable
        # inside the lab's: the serial console tells when it is up.
        'diskless_wait': False,
    }


def changed_tasks(result: t.Any) -> list[str]:
    """Names (without the role prefix) of the tasks that changed something."""
    return [entry.name.rpartition(' : ')[2] for entry in result.tasks if entry.changed]


def start_dhcpd(processes: t.Any, ns: t.Any, bridge: str, fabric: dict[str, Path]) -> t.Any:
    """dhcpd in the foreground on the lab bridge."""
    return processes.start(['dhcpd', '-4', '-f', '-cf', str(fabric['dhcp_config']), '-lf', str(fabric['dhcp_leases']),
                            '-pf', str(fabric['dhcp_leases']) + '.pid', bridge], ns=ns)


def test_two_diskless_nodes_share_one_nfs_root(netns_factory, processes, run_playbook, require_programs, tmp_path):
    require_programs('qemu-system-x86_64', 'ganesha.nfsd', 'rpcbind', 'rpcinfo', 'dhcpd', 'in.tftpd', 'radvd',
                     'debootstrap', 'unshare', 'dpkg-deb', 'depmod', 'cpio')
    for loader in (PXELINUX, LDLINUX, OVMF_CODE, OVMF_VARS, SHIM, GRUB):
        if not loader.is_file():
            pytest.skip(f'NOT TESTED: {loader} missing (packages pxelinux, syslinux-common, ovmf, shim-signed, '
                        'grub-efi-amd64-signed: run `make deps`)')
    started = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    work = tmp_path / 'lab'
    work.mkdir()
    fabric = write_fabric_files(work)
    tree = work / 'nfsroot'
    extravars = lab_vars(work, tree, fabric)
    play, fabric_vars = fabric_play(fabric)
    laid_out = run_playbook(play, extravars=fabric_vars)
    assert not laid_out.failed, str(laid_out)
    dhcpd_conf = fabric['dhcp_config'].read_text()
    assert 'filename "shimx64.efi";' in dhcpd_conf and 'filename "pxelinux.0";' in dhcpd_conf

    with cache_lock():
        # The first run bootstraps the tree with the role itself, into the cache.
        cache = tree_cache()
        if not (cache / 'etc').is_dir():
            building = cache.with_name(cache.name + '.building')
            if building.exists():
                shutil.rmtree(building)
            result = run_playbook([{
                'name': 'Bootstrap the lab root tree', 'hosts': 'localhost', 'gather_facts': False,
                'tasks': [{'name': 'Bootstrap', 'ansible.builtin.include_role': {
                    'name': 'cluster.netboot.nfsroot_server', 'tasks_from': 'debootstrap.yml'}}],
            }], extravars={**extravars, 'nfsroot_server_root': str(building)}, timeout=900)
            assert not result.failed, str(result)
            building.rename(cache)
        tree.mkdir()
        copy_tree(cache, tree)
        prepared_at = time.monotonic()

        provision = run_playbook(REPO / 'playbooks' / 'provision_diskless.yml',
                                 extravars={**extravars, 'diskless_nodes': [NODES[0].entry()]}, timeout=900)
        assert not provision.failed, str(provision)
        assert provision.task('Move var to the var seed').changed
        assert provision.task('Write the PXE config that boots the NFS root').changed
        assert provision.task('Point the nodes at the diskless boot config').changed
        again = run_playbook(REPO / 'playbooks' / 'provision_diskless.yml',
                             extravars={**extravars, 'diskless_nodes': [NODES[0].entry()]}, timeout=900)
        assert not again.failed, str(again)
        assert changed_tasks(again) == [], 'second provision run changed: %s' % changed_tasks(again)
    provisioned_at = time.monotonic()

    # What the roles made, before any node boots.
    assert (tree / 'var').is_dir() and not any((tree / 'var').iterdir())
    assert (tree / 'var.ro/lib/dpkg/status').is_file()
    assert os.readlink(tree / 'etc/hostname') == '../var/lib/diskless/etc/hostname'
    assert f'{NODES[0].ip} {NODES[0].name}' in (tree / 'etc/hosts').read_text().splitlines()
    pxe = (fabric['tftp'] / 'pxelinux.cfg' / 'diskless-lab').read_text()
    assert f'nfsroot={tree},{NFS_OPTIONS}' in pxe and 'init=/usr/local/sbin/diskless-init' in pxe
    assert os.readlink(fabric['tftp'] / 'pxelinux.cfg' / '0A4D000B') == 'diskless-lab'
    grub = (fabric['tftp'] / 'grub' / 'diskless-lab').read_text()
    assert f'nfsroot={tree},{NFS_OPTIONS}' in grub and 'init=/usr/local/sbin/diskless-init' in grub
    assert '  linux /diskless/lab/vmlinuz ' in grub and 'BOOTIF' not in grub
    assert os.readlink(fabric['tftp'] / 'grub' / f'grub.cfg-{NODES[0].ip}') == 'diskless-lab'
    assert (fabric['tftp'] / 'shimx64.efi').is_file() and (fabric['tftp'] / 'grub' / 'grub.cfg').is_file()
    assert f'Path = "{tree}";' in fabric['ganesha_export'].read_text()

    install_lab_report(tree, [NODES[1].name] if WIPE else [])

    # Fabric: namespace, bridge, radvd, dhcpd, tftpd, rpcbind + ganesha.
    ns = netns_factory.namespace('dl')
    bridge = netns_factory.bridge(ns, f'{SERVER}/24')
    fabric['radvd'].write_text(
        f'interface {bridge} {{ AdvSendAdvert on; AdvDefaultLifetime 0; MinRtrAdvInterval 3; MaxRtrAdvInterval 10; }};\n')
    processes.start(['radvd', '-n', '-C', str(fabric['radvd']), '-p', str(work / 'radvd.pid'), '-m', 'stderr'], ns=ns)
    dhcpd = start_dhcpd(processes, ns, bridge, fabric)
    processes.start(['in.tftpd', '--listen', '--foreground', '--address', f'{SERVER}:69', '--secure',
                     '--user', 'nobody', str(fabric['tftp'])], ns=ns)
    nfs = processes.start([str(LAB_FILES / 'nfs-server.sh'), str(fabric['ganesha_main']), str(work / 'nfs-logs')],
                          ns=ns)
    wait_for(lambda: ns.listening(2049, 'tcp') or not nfs.running(), timeout=60)
    assert nfs.running(), nfs.log()
    wait_for(lambda: ns.listening(67, 'udp') and ns.listening(69, 'udp'), timeout=30)

    vms = {}
    taps = {}
    for index, node in enumerate(NODES, start=1):
        (work / node.name).mkdir()
        with open(work / node.name / 'disk.img', 'wb') as disk:
            disk.truncate(DISK_MIB * 1024 * 1024)
        taps[node.name] = tap = f'{netns_factory.prefix}-t{index}'
        ns.ip('tuntap', 'add', 'dev', tap, 'mode', 'tap')
        ns.ip('link', 'set', tap, 'master', bridge, 'up')
        vms[node.name] = processes.start(qemu_argv(node, work, tap, 1), ns=ns)
    for node in NODES:
        wait_for(lambda node=node: (work / node.name / 'qmp-1.sock').exists(), timeout=30)

    # node1 is provisioned: power it on.
    power = run_playbook([{
        'name': 'Power on', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'Power on node1', 'cluster.netboot.node_power': {
            'nodes': [{'name': NODES[0].name, 'qmp': str(work / NODES[0].name / 'qmp-1.sock')}],
            'driver': 'qemu', 'state': 'on'}}],
    }])
    assert not power.failed, str(power)
    powered = {NODES[0].name: time.monotonic()}

    # node2 is new: add_node.yml (DHCP, hosts, pointer); dhcpd restarts; then power on.
    added = run_playbook(REPO / 'playbooks' / 'add_node.yml',
                         extravars=add_node_vars(NODES[1], work, tree, fabric, power=False))
    assert not added.failed, str(added)
    for name in ('Bind the node\'s MAC to its address in DHCP',
                 'Add the node to the hosts file of the root tree (its host name comes from there)',
                 'Point the node at the diskless boot config'):
        assert added.task(name).changed, name
    assert f'{NODES[1].ip} {NODES[1].name}' in (tree / 'etc/hosts').read_text().splitlines()
    # The UEFI node gets its GRUB pointer only.
    assert os.readlink(fabric['tftp'] / 'grub' / f'grub.cfg-{NODES[1].ip}') == 'diskless-lab'
    assert not (fabric['tftp'] / 'pxelinux.cfg' / '0A4D000C').is_symlink()
    processes.stop(dhcpd)
    start_dhcpd(processes, ns, bridge, fabric)
    wait_for(lambda: ns.listening(67, 'udp'), timeout=30)
    added_again = run_playbook(REPO / 'playbooks' / 'add_node.yml',
                               extravars=add_node_vars(NODES[1], work, tree, fabric, power=True))
    assert not added_again.failed, str(added_again)
    assert changed_tasks(added_again) == ['Power the node on'], changed_tasks(added_again)
    powered[NODES[1].name] = time.monotonic()

    # Each node reboots by itself (QEMU exits; the next boot gets a fresh
    # QEMU on the same disk) until it reports "done poweroff".
    boots = {node.name: 1 for node in NODES}
    finished: set[str] = set()
    deadline = time.monotonic() + BOOT_TIMEOUT
    while len(finished) < len(NODES) and time.monotonic() < deadline:
        for node in NODES:
            if node.name in finished or vms[node.name].running():
                continue
            reports = parse_reports(serial_logs(node, work)[-1])
            step = reports[-1].get('done') if reports else None
            if step in ('reboot', 'reboot-wipe') and boots[node.name] < 4:
                boots[node.name] += 1
                vms[node.name] = processes.start(qemu_argv(node, work, taps[node.name], boots[node.name]), ns=ns)
            else:
                finished.add(node.name)
                node.seconds = time.monotonic() - powered[node.name]
        time.sleep(2)
    for node in NODES:
        node.boots = [boot for log in serial_logs(node, work) for boot in parse_reports(log)]
        if node.name not in finished:
            node.seconds = time.monotonic() - powered[node.name]
    finished_at = time.monotonic()

    table = [{
        'node': node.name, 'firmware': node.firmware, 'mac': node.mac, 'ip': node.ip, 'boots': len(node.boots),
        'hostname': ','.join(sorted({boot.get('hostname', '?') for boot in node.boots})) or '-',
        'root': ','.join(sorted({'%s %s' % (boot['mounts'].get('/', {}).get('fstype', '?'),
                                            'ro' if 'ro' in boot['mounts'].get('/', {}).get('options', []) else 'rw')
                                 for boot in node.boots})) or '-',
        'var tmp home': ','.join(sorted({' '.join(boot['mounts'].get(path, {}).get('source', '?')
                                                  for path in ('/var', '/tmp', '/home')) for boot in node.boots})) or '-',
        'formatted': ' '.join(boot.get('status', {}).get('formatted', '?') for boot in node.boots) or '-',
        'home marker': 'kept' if len(node.boots) > 1 and node.boots[1].get('marker-found') else 'lost',
        'secure boot': ','.join(sorted({boot.get('secure-boot', '?') for boot in node.boots})) or '-',
        'seconds': round(node.seconds),
    } for node in NODES]
    summary = {'nodes': table, 'prepare_seconds': round(prepared_at - started),
               'provision_seconds': round(provisioned_at - prepared_at),
               'boot_seconds': round(finished_at - provisioned_at), 'total_seconds': round(finished_at - started)}
    print('\n' + format_table(table))
    print('prepare %(prepare_seconds)ss, provision %(provision_seconds)ss, boots %(boot_seconds)ss, '
          'total %(total_seconds)ss' % summary)
    if os.environ.get('CNB_LAB_RESULTS'):
        Path(os.environ['CNB_LAB_RESULTS']).write_text(json.dumps(summary, indent=2) + '\n')

    logs = {node.name: serial_logs(node, work)[-1][-3000:] for node in NODES}
    for node in NODES:
        assert node.name in finished, f'{node.name} did not power off in time: {table}\n{logs[node.name]}'
        expected_boots = 3 if WIPE and node is NODES[1] else 2
        assert len(node.boots) == expected_boots, f'{node.name}: {node.boots}\n{logs[node.name]}'
        first, second = node.boots[0], node.boots[1]
        for boot in node.boots:
            assert boot['hostname'] == node.name
            assert boot['etc-hostname'] == node.name
            root = boot['mounts']['/']
            assert root['fstype'] == ('nfs4' if NFS4 else 'nfs') and 'ro' in root['options'], root
            assert root['source'] == f'{SERVER}:{tree}', root
            assert boot['root-writable'] == 'no'
            for index, path in enumerate(('/var', '/tmp', '/home'), start=1):
                mount = boot['mounts'][path]
                assert mount['source'] == f'/dev/vda{index}' and mount['fstype'] == 'ext4', (path, mount)
            assert boot['tmp-mode'] == '1777'
            assert boot['status']['storage'] == 'disk' and boot['status']['hostname'] == node.name
            # The SecureBoot EFI variable, read on the node from the NFS root: enforced on the UEFI node.
            assert boot['secure-boot'] == ('on' if node.firmware == 'uefi' else 'n/a'), boot
        # First boot: blank disk formatted, /home empty, marker written.
        assert first['status']['formatted'] == 'yes' and first['status']['reason'] == 'blank'
        assert first['home'] == []
        written = first['marker-written']
        assert written.startswith(node.name + ' ')
        # Second boot: the disk is only mounted, the marker survived, nobody else's is there.
        assert second['status']['formatted'] == 'no'
        assert second['marker-found'] == written
        assert second['home'] == [f'cnb-lab-{node.name}']
        assert second['machine-id'] == first['machine-id']
        if expected_boots == 3:
            third = node.boots[2]
            assert third['status']['formatted'] == 'yes' and third['status']['reason'] == 'wipe'
            assert third['home'] == [] and third.get('wiped') == ''
    # Two nodes, one tree, each its own identity and data.
    assert NODES[0].boots[0]['machine-id'] != NODES[1].boots[0]['machine-id']
    assert NODES[0].boots[0]['marker-written'] != NODES[1].boots[0]['marker-written']
