# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Domain errors shared by the collection's plugins.

Modules catch :class:`NetbootError` once, in ``main()``, and turn it into
``fail_json``; everything below raises instead of failing the module itself.
"""

from __future__ import annotations


class NetbootError(Exception):
    """An input or state problem that should fail the task with a clear message."""


class AddressError(NetbootError):
    """An IP address, MAC address or network that cannot be used."""


class NodeSetError(NetbootError):
    """A node range (ClusterShell NodeSet syntax) that cannot be parsed."""


class NodeListError(NetbootError):
    """A node list (inline, file or range) that is malformed or inconsistent."""


class FileStateError(NetbootError):
    """A path on disk that is not in a state the module may touch."""


class DiscoveryError(NetbootError):
    """A discovery report that cannot be read, or a naming that cannot be applied."""


class CatalogError(NetbootError):
    """An image catalog entry, reference or stored file that cannot be used."""
