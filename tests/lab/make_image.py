# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write a deterministic lab disk image: a boot sector that prints a banner, then seeded bytes.

The boot sector writes ``<banner>`` to the first serial port (0x3F8) and halts,
so a VM that boots the imaged disk proves it in its serial log; the rest of the
image is pseudo-random (seeded by the banner) so that every image differs and
a wrong or partial transfer cannot pass the checksum by accident.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys

# 16-bit real mode, loaded at 0x7C00:
#   cli; xor ax,ax; mov ds,ax; mov si,msg
#   next: lodsb; test al,al; jz done; mov dx,0x3f8; out dx,al; jmp next
#   done: hlt; jmp done
BOOT_CODE = bytes.fromhex('fa31c08ed8be167c' + 'ac84c07406baf803eeebf5' + 'f4ebfd')
MESSAGE_OFFSET = 0x16


def boot_sector(banner: str) -> bytes:
    assert len(BOOT_CODE) == MESSAGE_OFFSET
    message = ('\r\n%s\r\n' % banner).encode('ascii') + b'\x00'
    if MESSAGE_OFFSET + len(message) > 440:
        raise SystemExit('banner too long for the boot sector')
    sector = BOOT_CODE + message
    return sector + b'\x00' * (510 - len(sector)) + b'\x55\xaa'


def write_image(path: str, banner: str, size: int) -> str:
    digest = hashlib.sha256()
    block = 1 << 20
    counter = 0
    seed = hashlib.sha256(banner.encode()).digest()
    temp = '%s.tmp%d' % (path, os.getpid())
    with open(temp, 'wb') as handle:
        first = boot_sector(banner)
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
    args = parser.parse_args()
    if args.size_mib < 1:
        parser.error('--size-mib must be at least 1')
    print(write_image(args.path, args.banner, args.size_mib << 20))
    return 0


if __name__ == '__main__':
    sys.exit(main())
