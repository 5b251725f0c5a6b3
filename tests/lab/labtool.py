# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Python side of tests/lab/lab.sh: the VM list from the inventory, and the host-side check of a run.

vms     Read ``ansible-inventory --list --export`` on stdin; print ``name mac vm_mac firmware`` for
        every host of the group ``lab_vms`` (and ``lab_broken`` with --failure-case). ``vm_mac`` is the
        MAC the VM really has (``lab_vm_mac``, else ``mac``): a broken node's differs from what the
        console believes, so DHCP does not know it and it cannot PXE-boot. ``firmware`` is
        ``lab_firmware``: ``bios`` (SeaBIOS, the default) or ``uefi`` (OVMF with Secure Boot enforced).
check   After a run: every node the console reported as imaged must have, on its disk file as the
        host sees it, the sha256 of its image; no node pointer or imaging config may be left in
        pxelinux.cfg/ or grub/; every imaged node must boot its new disk (the image's boot sector,
        or on UEFI the signed shim and GRUB on its EFI system partition, prints a banner on the
        serial console); a UEFI node's ramdisk must have reported Secure Boot on, a BIOS node's
        n/a; with UEFI nodes, the Secure Boot VM offered an unsigned EFI loader must have refused it
        ("Access Denied" on its console); with --failure-case, exactly the broken nodes failed and the
        playbook failed. Prints a table and writes the figures as JSON (--results).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time

FIRMWARES = ('bios', 'uefi')


def group_hosts(inventory: dict, group: str, seen: set[str] | None = None) -> list[str]:
    seen = seen if seen is not None else set()
    if group in seen or group not in inventory:
        return []
    seen.add(group)
    entry = inventory[group]
    hosts = list(entry.get('hosts', []))
    for child in entry.get('children', []):
        hosts += [host for host in group_hosts(inventory, child, seen) if host not in hosts]
    return hosts


def vms(args: argparse.Namespace) -> int:
    inventory = json.load(sys.stdin)
    hostvars = inventory.get('_meta', {}).get('hostvars', {})
    names = group_hosts(inventory, 'lab_vms')
    if args.failure_case:
        names += [name for name in group_hosts(inventory, 'lab_broken') if name not in names]
    for name in names:
        variables = hostvars.get(name, {})
        mac = str(variables.get('mac', '')).lower()
        vm_mac = str(variables.get('lab_vm_mac', mac)).lower()
        if not re.match(r'^([0-9a-f]{2}:){5}[0-9a-f]{2}$', vm_mac):
            sys.stderr.write('lab host %s has no usable mac (%r)\n' % (name, vm_mac))
            return 1
        firmware = str(variables.get('lab_firmware', 'bios'))
        if firmware not in FIRMWARES:
            sys.stderr.write('lab host %s: lab_firmware must be one of %s, not %r\n' % (name, ', '.join(FIRMWARES), firmware))
            return 1
        print(name, mac, vm_mac, firmware)
    return 0


def packages(args: argparse.Namespace) -> int:
    """Every Debian package the console's roles install: their ``*_packages`` defaults."""
    import yaml  # only this subcommand needs it; the host's Python has it with ansible
    wanted: list[str] = []
    for role in args.roles:
        with open(os.path.join(args.roles_dir, role, 'defaults', 'main.yml')) as handle:
            defaults = yaml.safe_load(handle) or {}
        for key, value in defaults.items():
            if key.endswith('_packages') and isinstance(value, list):
                wanted += [str(item) for item in value if str(item) not in wanted]
    print(' '.join(wanted))
    return 0


def disk_sha256(path: str, size: int) -> str:
    digest = hashlib.sha256()
    left = size
    with open(path, 'rb') as handle:
        while left > 0:
            chunk = handle.read(min(1 << 20, left))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def pxe_hex(ip: str) -> str:
    return ''.join('%02X' % int(part) for part in ip.split('.'))


def check(args: argparse.Namespace) -> int:
    state = args.state
    problems: list[str] = []
    try:
        with open(os.path.join(state, 'summary.json')) as handle:
            summary = json.load(handle)
    except (OSError, ValueError):
        summary = {'nodes': []}
        problems.append('the console wrote no summary of the run (the playbook stopped early)')
    vm_macs = {}
    firmwares: dict[str, str] = {}
    with open(os.path.join(state, 'vms.txt')) as handle:
        for line in handle:
            name, mac, vm_mac, firmware = line.split()
            vm_macs[name] = (mac, vm_mac)
            firmwares[name] = firmware
    broken = sorted(name for name, (mac, vm_mac) in vm_macs.items() if mac != vm_mac)
    nodes = summary.get('nodes', [])
    rows = []
    for node in nodes:
        name = node['name']
        image = os.path.join(state, 'share', 'images', os.path.basename(node.get('image') or ''))
        # A frisbee image (lab-X.ndz, made by imagezip on the console) is checked against its raw image.
        if image.endswith('.ndz'):
            image = image[:-len('.ndz')] + '.img'
        try:
            with open(image + '.sha256') as handle:
                expected = handle.read().strip()
            size = os.path.getsize(image)
        except OSError:
            expected, size = '', 0
            problems.append('%s: image %s not found on the host' % (name, image))
        disk = os.path.join(state, 'vms', name, 'disk.img')
        host_sha = disk_sha256(disk, size) if os.path.exists(disk) and size else ''
        rows.append({'name': name, 'group': node.get('group'), 'image': os.path.basename(image),
                     'backend': node.get('backend') or '',
                     'console_result': node.get('result'), 'host_sha256': host_sha, 'expected_sha256': expected,
                     'host_verdict': 'match' if host_sha and host_sha == expected else 'differs',
                     'seconds': node.get('seconds'), 'receive_seconds': node.get('receive_seconds'),
                     'verify_seconds': node.get('verify_seconds'), 'booted_image': None,
                     'firmware': firmwares.get(name, 'bios'), 'secure_boot': node.get('secure_boot') or '',
                     # Power reset to the ramdisk's first report: firmware, PXE, loader, kernel.
                     'boot_seconds': (round(node['first_report'] - summary['started'], 1)
                                      if node.get('first_report') and summary.get('started') else None)})
        # A UEFI VM runs OVMF with Secure Boot enforced: its ramdisk must have seen it on.
        expected_sb = 'on' if firmwares.get(name) == 'uefi' else 'n/a'
        if node.get('result') == 'ok' and node.get('secure_boot') != expected_sb:
            problems.append('%s (%s): the ramdisk reported Secure Boot %r, expected %r'
                            % (name, firmwares.get(name, 'bios'), node.get('secure_boot'), expected_sb))
        if node.get('result') == 'ok' and host_sha != expected:
            problems.append('%s: the console says imaged, but the disk holds %s, not %s' % (name, host_sha, expected))

    # The imaged nodes were reset into their new system: the image's boot sector prints its banner.
    check_started = time.time()
    deadline = check_started + args.boot_wait
    for row in rows:
        if row['console_result'] != 'ok':
            continue
        banner = 'cluster.netboot lab image %s' % row['image'][len('lab-'):-len('.img')].upper()
        serial = os.path.join(state, 'vms', row['name'], 'serial.log')
        try:
            with open(os.path.join(state, 'vms', row['name'], 'serial.offset')) as handle:
                offset = int(handle.read().strip() or 0)
        except (OSError, ValueError):
            offset = 0
        while True:
            try:
                with open(serial, 'rb') as handle:
                    handle.seek(offset)
                    seen = banner.encode() in handle.read()
            except OSError:
                seen = False
            if seen or time.time() > deadline:
                break
            time.sleep(2)
        row['booted_image'] = seen
        # Seconds from the check's start (the playbook's final power reset) to the banner.
        row['disk_boot_seconds'] = round(time.time() - check_started, 1) if seen else None
        if not seen:
            problems.append('%s: did not boot its new disk (no "%s" on its serial console)' % (row['name'], banner))

    # Every node boots its local disk again: no pointer and no imaging config is left.
    leftovers = []
    with open(os.path.join(state, 'pxelinux.cfg.txt')) as handle:
        entries = [line.split() for line in handle if line.strip()]
    pointer_names = set()
    for node in nodes:
        if node.get('ip'):
            pointer_names.add(pxe_hex(node['ip']))
        if node.get('mac'):
            pointer_names.add('01-' + node['mac'].lower().replace(':', '-'))
    for entry in entries:
        if entry[0] in pointer_names or entry[0].startswith('image-nodes-'):
            leftovers.append(entry[0])
    # The GRUB side (UEFI nodes): grub.cfg-01-<mac>, grub.cfg-<dotted IP> and the imaging configs.
    grub_pointers = set()
    for node in nodes:
        if node.get('ip'):
            grub_pointers.add('grub.cfg-' + node['ip'])
        if node.get('mac'):
            grub_pointers.add('grub.cfg-01-' + node['mac'].lower().replace(':', '-'))
    try:
        with open(os.path.join(state, 'grub.txt')) as handle:
            grub_entries = [line.split() for line in handle if line.strip()]
    except OSError:
        grub_entries = []
    for entry in grub_entries:
        if entry[0] in grub_pointers or entry[0].startswith('image-nodes-'):
            leftovers.append('grub/' + entry[0])
    if leftovers:
        problems.append('left in pxelinux.cfg/ or grub/: %s' % ', '.join(sorted(leftovers)))

    # Enforcement: the Secure Boot VM offered an unsigned EFI loader refused it (lab.sh unsigned_refusal).
    unsigned_refused = None
    if 'uefi' in firmwares.values():
        try:
            with open(os.path.join(state, 'vms', 'unsigned', 'serial.log'), 'rb') as handle:
                console = handle.read().decode('ascii', 'replace')
        except OSError:
            console = ''
        refusal = re.search(r'BdsDxe: failed to load Boot\d+ "[^"]*" from [^\r\n]*: Access Denied', console)
        unsigned_refused = bool(refusal) and 'Welcome to' not in console
        if unsigned_refused:
            print('\nSecure Boot enforced: the firmware refused the unsigned EFI loader:\n  ' + refusal.group(0))
        else:
            problems.append('the Secure Boot VM did not refuse the unsigned EFI loader (no "Access Denied" on its console)')

    failed = sorted(node['name'] for node in nodes if node.get('result') != 'ok')
    if args.failure_case:
        if failed != broken:
            problems.append('expected exactly %s to fail, got %s' % (broken or 'none', failed or 'none'))
        if args.playbook_rc == 0:
            problems.append('the playbook succeeded although %s could not be imaged' % ', '.join(broken))
    else:
        if failed:
            problems.append('nodes not imaged: %s' % ', '.join(failed))
        if args.playbook_rc != 0:
            problems.append('the playbook failed (exit %d)' % args.playbook_rc)
    if not nodes:
        problems.append('no node results')

    header = ('NODE', 'GROUP', 'FIRMWARE', 'SECURE BOOT', 'BACKEND', 'IMAGE', 'CONSOLE', 'HOST SHA256 (first 16)',
              'HOST CHECK', 'BOOTED NEW DISK')
    table = [header] + [(row['name'], row['group'] or '-', row['firmware'], row['secure_boot'] or '-',
                         row['backend'] or '-', row['image'],
                         row['console_result'] or '-',
                         (row['host_sha256'] or '-')[:16], row['host_verdict'],
                         {True: 'yes', False: 'NO', None: '-'}[row['booted_image']]) for row in rows]
    widths = [max(len(str(line[index])) for line in table) for index in range(len(header))]
    print('\nHost-side check of every VM disk:')
    for line in table:
        print('  ' + '  '.join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())

    wall = None
    try:
        with open(os.path.join(state, 'image_nodes.wall')) as handle:
            wall = float(handle.read().strip())
    except (OSError, ValueError):
        pass
    restarts = 0
    try:
        with open(os.path.join(state, 'image_nodes.log')) as handle:
            restarts = sum(1 for line in handle if re.match(r'^TASK \[.*dhcp_server : Start the DHCP server\]', line))
    except OSError:
        pass
    transfer = max((row['receive_seconds'] or 0 for row in rows if row['console_result'] == 'ok'), default=0)
    imaging = max((row['seconds'] or 0 for row in rows if row['console_result'] == 'ok'), default=0)
    span = None
    if summary.get('started') and nodes:
        finished = summary.get('finished') or summary.get('now')
        span = round(finished - summary['started'], 1) if finished else None
    results = {
        'passed': not problems, 'problems': problems, 'failure_case': args.failure_case,
        'playbook_rc': args.playbook_rc, 'unsigned_efi_refused': unsigned_refused, 'wall_seconds': wall, 'transfer_seconds': transfer,
        'node_imaging_seconds': imaging, 'reports_span_seconds': span, 'dhcpd_restarts': restarts,
        'nodes': rows,
    }
    if args.results:
        with open(args.results, 'w') as handle:
            json.dump(results, handle, indent=1)
    if problems:
        print('\nLAB CHECK FAILED:')
        for problem in problems:
            print('  - ' + problem)
        return 1
    print('\nLab check passed: %d node(s) imaged%s, every disk verified from the host, no pointer left.'
          % (sum(1 for row in rows if row['console_result'] == 'ok'),
             ', %s failed as expected' % ', '.join(broken) if args.failure_case else ''))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    vms_parser = commands.add_parser('vms')
    vms_parser.add_argument('--failure-case', action='store_true')
    packages_parser = commands.add_parser('packages')
    packages_parser.add_argument('--roles-dir', required=True)
    packages_parser.add_argument('roles', nargs='+')
    check_parser = commands.add_parser('check')
    check_parser.add_argument('--state', required=True)
    check_parser.add_argument('--playbook-rc', type=int, default=0)
    check_parser.add_argument('--failure-case', action='store_true')
    check_parser.add_argument('--results')
    check_parser.add_argument('--boot-wait', type=float, default=300)
    args = parser.parse_args()
    return {'vms': vms, 'check': check, 'packages': packages}[args.command](args)


if __name__ == '__main__':
    sys.exit(main())
