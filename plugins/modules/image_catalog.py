#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: image_catalog
short_description: Add, remove, verify and list the disk images of the console's image catalog
version_added: 0.1.0
description:
  - The image catalog is one JSON file on the console (O(path)) listing every stored disk image by name and
    version, with the size and sha256 of the disk bytes (what a node's disk holds after imaging), the size and
    sha256 of the stored file, its compression (V(gzip) or V(none)), the node it was captured from, when and by whom.
  - The file is only read and rewritten under an exclusive lock (a flock on its directory) and replaced atomically, so
    concurrent runs (a capture finishing while another adds an image) lose no entry.
  - An existing name and version is never replaced by a different image unless O(force=true); adding the
    same file with the same checksums again changes nothing.
  - The P(cluster.netboot.capture_image#role) role fills the catalog from nodes' disks; the
    P(cluster.netboot.image_nodes#role) role images nodes from an entry (C(NAME) or C(NAME@VERSION) as a group's image),
    verifying the stored file with O(state=verified) before any node is powered.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
attributes:
  check_mode:
    support: full
    details: Reports the catalog change that would be made; O(state=verified) reads and checks but writes no
      decompressed copy.
  diff_mode:
    support: full
    details: The diff is the catalog file before and after.
options:
  path:
    description:
      - The catalog file. Its directory must exist; the file is created by the first O(state=present).
    type: path
    default: /var/lib/cluster-netboot/catalog/catalog.json
  state:
    description:
      - V(present) adds O(image) (C(NAME@VERSION)) for the stored file O(file), reading it once to compute its
        checksums (and, decompressing on the fly, those of the disk bytes).
      - V(absent) removes the entry O(image); C(NAME) alone removes every version of it. The stored files stay
        unless O(remove_file=true).
      - V(verified) reads the stored file of O(image) (C(NAME) alone means its highest version) and fails naming
        the image when its size or sha256, or those of the disk bytes it holds, differ from the catalog. With
        O(unpack_dir), a compressed image's disk bytes are written there in the same pass (replaced atomically,
        only when everything matched) and RV(serve_path) names that copy. Without O(image) every entry is checked.
      - V(query) only lists entries (all, or those of O(image)).
    type: str
    choices: [present, absent, verified, query]
    default: query
  image:
    description:
      - C(NAME@VERSION), or C(NAME) where the state allows it. Names and versions are letters, digits, C(.), C(_),
        C(+) and C(-), starting with a letter or digit.
      - Required with O(state=present) and O(state=absent).
    type: str
  file:
    description:
      - With O(state=present), the absolute path of the stored image file (it must exist).
    type: path
  compression:
    description:
      - With O(state=present), how O(file) is compressed; the default is V(gzip) for a name ending in C(.gz),
        else V(none).
    type: str
    choices: [gzip, none]
  source_node:
    description:
      - With O(state=present), the node the image was taken from, if any.
    type: str
  created_by:
    description:
      - With O(state=present), who made the image; the default is the user the module runs as.
    type: str
  force:
    description:
      - With O(state=present), replace an existing entry of the same name and version that describes a
        different image.
    type: bool
    default: false
  remove_file:
    description:
      - With O(state=absent), delete the removed entries' stored files too.
    type: bool
    default: false
  unpack_dir:
    description:
      - With O(state=verified), a directory (created when missing) for the decompressed copy of a compressed image.
    type: path
'''

EXAMPLES = r'''
- name: Enter an image made elsewhere into the catalog
  cluster.netboot.image_catalog:
    state: present
    image: compute@2026.11
    file: /srv/images/compute-2026.11.img

- name: List the catalog
  cluster.netboot.image_catalog:
  register: catalog

- name: Check the stored file of the newest compute image and unpack it for serving
  cluster.netboot.image_catalog:
    state: verified
    image: compute
    unpack_dir: /var/lib/cluster-netboot/catalog/unpacked

- name: Retire a version and its file
  cluster.netboot.image_catalog:
    state: absent
    image: compute@2026.10
    remove_file: true
'''

RETURN = r'''
images:
  description: The entries concerned (O(state=query) and O(state=verified)) or added/removed.
  returned: always
  type: list
  elements: dict
  sample:
    - name: compute
      version: "2026.11"
      file: /var/lib/cluster-netboot/catalog/images/compute@2026.11.img.gz
      compression: gzip
      size: 67108864
      sha256: a02e380d86514f4857432765d82e647bcf3d0b5186421e55a556b7578c1497e4
      file_size: 55668136
      file_sha256: b3d027413666eaf632b2f2d69ec87be726815f7b10a7781a1d9327efc47ca481
      source_node: node-a1
      created: "2026-11-29T07:30:00Z"
      created_by: root
image:
  description: The one entry O(image) resolved to (O(state=present) and O(state=verified) with O(image)).
  returned: when O(image) names one entry
  type: dict
serve_path:
  description: With O(state=verified) and O(image), the file holding the disk bytes (the stored file, or its
    decompressed copy in O(unpack_dir)).
  returned: when O(state=verified) and O(image) is given
  type: str
problems:
  description: With O(state=verified), what differs, per image (C(NAME@VERSION) to messages).
  returned: when O(state=verified)
  type: dict
'''

import getpass
import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cluster.netboot.plugins.module_utils import _catalog, _files
from ansible_collections.cluster.netboot.plugins.module_utils._errors import CatalogError


def present(module: AnsibleModule, path: str) -> dict[str, Any]:
    params = module.params
    name, version = _catalog.parse_reference(params['image'] or '')
    if version is None:
        raise CatalogError('state=present needs image: NAME@VERSION, not %r' % params['image'])
    stored = params['file']
    if not stored or not os.path.isabs(stored) or not os.path.isfile(stored):
        raise CatalogError('file must be an existing regular file given by its absolute path, not %r' % stored)
    compression = params['compression'] or ('gzip' if stored.endswith('.gz') else 'none')
    existing = _catalog.find(_catalog.load(path), name, version)
    if existing is not None and existing['file'] == stored and not params['force']:
        figures = {field: existing[field] for field in ('size', 'sha256', 'file_size', 'file_sha256')}
    else:
        figures = _catalog.digest_file(stored, compression)
    entry = dict(figures, name=name, version=version, file=stored, compression=compression,
                 source_node=params['source_node'], created=_catalog.now(),
                 created_by=params['created_by'] or getpass.getuser())
    before, after = _catalog.update(path, lambda entries: _catalog.add(entries, entry, params['force'], path),
                                    None if module.check_mode else lambda target, content: _files.atomic_write(
                                        module, target, content, 0o644))
    final = _catalog.find(_catalog.parse(after, path), name, version)
    return {'changed': before != after, 'diff': _files.text_diff(before, after, path), 'image': final,
            'images': [final]}


def absent(module: AnsibleModule, path: str) -> dict[str, Any]:
    name, version = _catalog.parse_reference(module.params['image'] or '')
    removed: list[dict[str, Any]] = []

    def change(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept, gone = _catalog.remove(entries, name, version)
        removed.extend(gone)
        return kept
    if not os.path.exists(path):
        return {'changed': False, 'diff': _files.text_diff(None, None, path), 'images': []}
    before, after = _catalog.update(path, change, None if module.check_mode else lambda target, content:
                                    _files.atomic_write(module, target, content, 0o644))
    if module.params['remove_file'] and not module.check_mode:
        for entry in removed:
            _files.remove(entry['file'])
    return {'changed': before != after, 'diff': _files.text_diff(before, after, path), 'images': removed}


def verified(module: AnsibleModule, path: str) -> dict[str, Any]:
    entries = _catalog.load(path)
    reference = module.params['image']
    result: dict[str, Any] = {'changed': False, 'diff': _files.text_diff(None, None, path)}
    if reference:
        entry = _catalog.resolve(entries, reference, path)
        unpack_dir = module.params['unpack_dir']
        if unpack_dir and entry['compression'] != 'none' and not module.check_mode:
            serve_path, problems = _catalog.unpack(entry, unpack_dir)
            result['changed'] = not problems
        else:
            problems = _catalog.verify(entry)
            serve_path = entry['file'] if entry['compression'] == 'none' or not unpack_dir else os.path.join(
                unpack_dir, _catalog.stored_name(entry['name'], entry['version'], 'none'))
        checked = {_catalog.label(entry): problems}
        result.update(image=entry, images=[entry], serve_path=serve_path)
    else:
        checked = {_catalog.label(entry): _catalog.verify(entry) for entry in entries}
        result['images'] = entries
    result['problems'] = {key: value for key, value in checked.items() if value}
    if result['problems']:
        raise CatalogError('the stored file of %s does not match the catalog %s: %s' % (
            ', '.join(sorted(result['problems'])), path,
            '; '.join('%s: %s' % (key, ', '.join(value)) for key, value in sorted(result['problems'].items()))))
    return result


def query(module: AnsibleModule, path: str) -> dict[str, Any]:
    entries = _catalog.load(path)
    reference = module.params['image']
    if reference:
        name, version = _catalog.parse_reference(reference)
        entries = [entry for entry in entries if entry['name'] == name and version in (None, entry['version'])]
    return {'changed': False, 'diff': _files.text_diff(None, None, path), 'images': entries}


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/var/lib/cluster-netboot/catalog/catalog.json'),
            state=dict(type='str', choices=['present', 'absent', 'verified', 'query'], default='query'),
            image=dict(type='str'),
            file=dict(type='path'),
            compression=dict(type='str', choices=list(_catalog.COMPRESSIONS)),
            source_node=dict(type='str'),
            created_by=dict(type='str'),
            force=dict(type='bool', default=False),
            remove_file=dict(type='bool', default=False),
            unpack_dir=dict(type='path'),
        ),
        required_if=[('state', 'present', ('image', 'file')), ('state', 'absent', ('image',))],
        supports_check_mode=True,
    )
    handlers = {'present': present, 'absent': absent, 'verified': verified, 'query': query}
    _files.exit_module(module, lambda: handlers[module.params['state']](module, module.params['path']))


if __name__ == '__main__':
    main()
