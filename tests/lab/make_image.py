# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write a lab disk image: a boot sector that prints a banner, then seeded bytes.

The boot sector writes ``<banner>`` to the first serial port (0x3F8) and halts,
so a VM that boots the imaged disk proves it in its serial log; the rest of the
image is pseudo-random (seeded by the banner) so that every image differs and
a wrong or partial transfer cannot pass the checksum by accident.

With ``--esp SRC=DEST`` (repeatable) the image also gets an EFI system
partition (MBR partition type 0xEF, FAT made with mtools) holding those files,
for the UEFI VMs: Debian's signed shim as EFI/BOOT/BOOTX64.EFI, the signed
GRUB next to it and a grub.cfg that prints the banner, so a Secure Boot VM
that boots the imaged disk proves it too.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile

# 16-bit real mode, loaded at 0x7C00:
#   cli; xor ax,ax; mov ds,ax; mov si,msg
#   next: lodsb; test al,al; jz done; mov dx,0x3f8; out dx,al; jmp next
#   done: hlt; jmp done
BOOT_CODE = bytes.fromhex('fa31c08ed8be167c' + 'ac84c07406baf803eeebf5' + 'f4ebfd')
MESSAGE_OFFSET = 0x16
PARTITION_ENTRY = 446
SECTOR = 512
ESP_START = 2048  # sectors: 1 MiB, where partitioning tools start


def esp_filesystem(files: list[tuple[str, str]], size: int) -> bytes:
    """A FAT file system of ``size`` bytes holding ``files`` (source, path on the ESP), made by mtools."""
    with tempfile.TemporaryDirectory() as work:
        image = os.path.join(work, 'esp.img')
        with open(image, 'wb') as handle:
            handle.truncate(size)
        subprocess.run(['mformat', '-i', image, '-v', 'CNBLAB', '-N', '0', '::'], check=True)
        made = set()
        for source, dest in files:
            parts = dest.strip('/').split('/')
            for depth in range(1, len(parts)):
                directory = '::/' + '/'.join(parts[:depth])
                if directory not in made:
                    subprocess.run(['mmd', '-i', image, directory], check=True)
                    made.add(directory)
            subprocess.run(['mcopy', '-i', image, source, '::/' + '/'.join(parts)], check=True)
        with open(image, 'rb') as handle:
            return handle.read()


def partition_entry(start: int, sectors: int) -> bytes:
    """One MBR entry: type 0xEF (EFI system partition), LBA only (CHS fields saturated)."""
    return (b'\x00\xfe\xff\xff\xef\xfe\xff\xff' + start.to_bytes(4, 'little') + sectors.to_bytes(4, 'little'))


def boot_sector(banner: str) -> bytes:
    assert len(BOOT_CODE) == MESSAGE_OFFSET
    message = ('\r\n%s\r\n' % banner).encode('ascii') + b'\x00'
    if MESSAGE_OFFSET + len(message) > 440:
        raise SystemExit('banner too long for the boot sector')
    sector = BOOT_CODE + message
    return sector + b'\x00' * (510 - len(sector)) + b'\x55\xaa'


def write_image(path: str, banner: str, size: int, esp: list[tuple[str, str]] | None = None,
                esp_mib: int = 12) -> str:
    digest = hashlib.sha256()
    block = 1 << 20
    counter = 0
    seed = hashlib.sha256(banner.encode()).digest()
    temp = '%s.tmp%d' % (path, os.getpid())
    with open(temp, 'wb') as handle:
        first = boot_sector(banner)
        if esp:
            if (ESP_START * SECTOR) + (esp_mib << 20) > size:
                raise SystemExit('the image is too small for a %d MiB EFI system partition' % esp_mib)
            entry = partition_entry(ESP_START, (esp_mib << 20) // SECTOR)
            first = first[:PARTITION_ENTRY] + entry + first[PARTITION_ENTRY + len(entry):]
            first += b'\x00' * (ESP_START * SECTOR - len(first)) + esp_filesystem(esp, esp_mib << 20)
        handle.write(first)
        digest.update(first)
        written = len(first)
        while written < size:
            # SHAKE-256 as a seeded stream: fast enough for lab sizes, the same bytes everywhere.
            chunk = hashlib.shake_256(seed + counter.to_bytes(8, 'big')).digest(min(block, size - written))
            counter += 1
            handle.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    os.replace(temp, path)
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('path')
    parser.add_argument('--banner', required=True, help='text the imaged node prints when it boots the disk')
    parser.add_argument('--size-mib', type=int, default=64)
    parser.add_argument('--esp-mib', type=int, default=12, help='size of the EFI system partition')
    parser.add_argument('--esp', action='append', default=[], metavar='SRC=DEST',
                        help='put the file SRC on an EFI system partition as DEST (e.g. EFI/BOOT/BOOTX64.EFI)')
    args = parser.parse_args()
    if args.size_mib < 1:
        parser.error('--size-mib must be at least 1')
    esp = []
    for pair in args.esp:
        source, sep, dest = pair.partition('=')
        if not sep or not source or not dest:
            parser.error('--esp wants SRC=DEST, got %r' % pair)
        esp.append((source, dest))
    print(write_image(args.path, args.banner, args.size_mib << 20, esp, args.esp_mib))
    return 0


if __name__ == '__main__':
    sys.exit(main())
