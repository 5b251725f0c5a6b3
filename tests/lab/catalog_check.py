# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What lab.sh --catalog-case saw (tests/lab/catalog_case.sh), checked from the host, with its figures.

Prints the checks and figures and writes them as JSON (--results); exit 1 when a check failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys


def read(state: str, name: str, default: str = '') -> str:
    try:
        with open(os.path.join(state, name), encoding='utf-8', errors='replace') as handle:
            return handle.read()
    except OSError:
        return default


def disk_sha256(path: str, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        digest.update(handle.read(size))
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--state', required=True)
    parser.add_argument('--image-mib', type=int, required=True)
    parser.add_argument('--results')
    args = parser.parse_args()
    state, size = args.state, args.image_mib << 20
    lab_a = read(state, 'share/images/lab-a.img.sha256').split()[0]
    try:
        catalog = {'%s@%s' % (entry['name'], entry['version']): entry
                   for entry in json.loads(read(state, 'catalog.json', '{}')).get('images', [])}
    except ValueError:
        catalog = {}
    captured = catalog.get('lab-a@captured') or {}
    files = read(state, 'catalog-images.txt').split()
    corrupt_log = read(state, 'catalog-corrupt.log')
    serial = read(state, 'vms/node-a1/serial.log')
    capture_seconds = [int(seconds) for seconds in re.findall(r'receiver: ok \S+ \S+ \((\d+)s\)', serial)]
    try:
        summary = json.loads(read(state, 'catalog-image-summary.json', '{}'))
        (imaged,) = [node for node in summary.get('nodes', []) if node.get('name') == 'node-a2']
    except ValueError:
        imaged = {}
    checks = {
        'capture_ok': read(state, 'capture.rc').strip() == '0',
        'captured_sha256_is_lab_a': captured.get('sha256') == lab_a and captured.get('size') == size,
        'captured_from_node_a1': captured.get('source_node') == 'node-a1' and captured.get('compression') == 'gzip',
        'imaged_from_catalog_ok': read(state, 'catalog-image.rc').strip() == '0',
        'imaged_disk_is_lab_a': disk_sha256(os.path.join(state, 'vms', 'node-a2', 'disk.img'), size) == lab_a,
        'node_checked_catalog_sha256': imaged.get('verdict') == 'match' and imaged.get('sha256') == lab_a,
        'corrupt_refused': read(state, 'catalog-corrupt.rc').strip() not in ('', '0')
        and 'lab-a@corrupt' in corrupt_log and 'does not match the catalog' in corrupt_log,
        'corrupt_refused_before_power': 'Set the power of the nodes' not in corrupt_log
        and 'Bind every node' not in corrupt_log and 'Reserve every node' not in corrupt_log,
        'killed_capture_failed': read(state, 'catalog-killed.rc').strip() not in ('', '0'),
        'killed_capture_left_no_entry': 'lab-a@killed' not in catalog,
        'killed_capture_left_no_file': not [name for name in files
                                            if name.startswith('lab-a@killed') or name.startswith('.cluster-netboot-')],
    }
    figures = {
        'image_bytes': size,
        'stored_bytes': captured.get('file_size'),
        'capture_seconds': capture_seconds[-1] if capture_seconds else None,
        'imaging_receive_seconds': imaged.get('receive_seconds'),
    }
    for key, seconds in (('capture_mib_s', figures['capture_seconds']),
                         ('imaging_mib_s', figures['imaging_receive_seconds'])):
        figures[key] = round(args.image_mib / float(seconds), 1) if seconds else None
    print('\nCatalog case (capture, image from the catalog, corrupted file, killed capture):')
    for name, passed in checks.items():
        print('  %-32s %s' % (name, 'ok' if passed else 'FAILED'))
    print('  figures: %s' % json.dumps(figures, sort_keys=True))
    if args.results:
        with open(args.results, 'w', encoding='utf-8') as handle:
            json.dump({'checks': checks, 'figures': figures, 'catalog': catalog}, handle, indent=2, sort_keys=True)
    return 0 if all(checks.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
