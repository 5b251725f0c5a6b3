# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks on real processes that the unit tests start."""

from __future__ import annotations

import time

from ansible_collections.cluster.netboot.plugins.module_utils import _process


def dies_soon(pid: int, seconds: float = 5.0) -> bool:
    """True once ``pid`` is gone or a zombie; a SIGKILL just sent takes a moment to land."""
    deadline = time.monotonic() + seconds
    while True:
        stat = _process.read_stat(pid)
        if stat is None or stat.state in ('Z', 'X', 'x'):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
