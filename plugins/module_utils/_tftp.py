# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which boot files a TFTP server confined to its root (``in.tftpd --secure``) can serve.

The verdict is made from what ``ansible.builtin.stat`` (``follow: false``)
reported on the server: a regular file is served; a symlink only when it
resolves inside the root (the server cannot follow one out of it) and its target
is there (stat's ``readable`` follows the link: false for a dangling one); a name
with a ``..`` part never (the server refuses it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def servable(name: str, stat: Mapping[str, object], root: str) -> bool:
    """Whether the file ``name`` (relative to ``root``), stat'ed as ``stat``, is served."""
    if '..' in name.split('/') or not stat.get('exists'):
        return False
    if stat.get('isreg'):
        return True
    source = stat.get('lnk_source')
    return (bool(stat.get('islnk')) and bool(stat.get('readable')) and isinstance(source, str)
            and source.startswith(root.rstrip('/') + '/'))


def unservable(results: Iterable[Mapping[str, object]], root: str) -> list[str]:
    """The names among a stat loop's ``results`` (``item``: the name, ``stat``) that cannot be served."""
    if not isinstance(root, str) or not root.startswith('/'):
        raise NetbootError('the TFTP root must be an absolute path, got %r' % (root,))
    missing = []
    for result in results:
        if not isinstance(result, Mapping) or not isinstance(result.get('item'), str) \
                or not isinstance(result.get('stat'), Mapping):
            raise NetbootError('expected the results of a stat loop over file names, got %r' % (result,))
        if not servable(result['item'], result['stat'], root):
            missing.append(result['item'])
    return missing
