# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _tftp


def lstat(path: str) -> dict:
    """What ansible.builtin.stat reports with follow: false, for the fields the verdict reads."""
    if not os.path.lexists(path):
        return {'exists': False}
    result = {'exists': True, 'isreg': os.path.isfile(path) and not os.path.islink(path),
              'islnk': os.path.islink(path), 'readable': os.access(path, os.R_OK)}
    if result['islnk']:
        result['lnk_source'] = os.path.realpath(path)
    return result


@pytest.mark.parametrize('name, served', [
    ('pxelinux.0', True), ('inside.efi', True), ('outside.efi', False), ('dangling.efi', False),
    ('efi64', False), ('nothere', False), ('efi64/../pxelinux.0', False)])
def test_servable_on_a_real_tree(tmp_path, name, served):
    root = tmp_path / 'tftp'
    (root / 'efi64').mkdir(parents=True)
    (root / 'pxelinux.0').write_bytes(b'loader')
    (tmp_path / 'elsewhere.efi').write_bytes(b'loader')
    (root / 'inside.efi').symlink_to('pxelinux.0')
    (root / 'outside.efi').symlink_to(tmp_path / 'elsewhere.efi')
    (root / 'dangling.efi').symlink_to('gone.efi')
    assert _tftp.servable(name, lstat(str(root / name)), str(root)) is served
