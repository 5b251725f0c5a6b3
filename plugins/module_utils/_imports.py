# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Optional libraries looked for at import time and imported on first use.

netaddr and ClusterShell take a tenth of a per-node module's start-up to import
(AnsiballZ starts a fresh interpreter for every task), and the common paths
(canonical addresses, a node file, folding names) need neither. A module still
fails at once, with ``missing_required_lib``, when one is not installed:
:func:`probe` finds out without importing it.
"""

from __future__ import annotations

import importlib.util
import traceback


def probe(name: str) -> tuple[bool, str | None]:
    """``(True, None)`` when library ``name`` can be imported, else ``(False, the ImportError's traceback)``.

    Nothing is imported when the library is there; when it is not, the import is
    tried once for the traceback that ``fail_json(exception=...)`` shows.
    """
    try:
        if importlib.util.find_spec(name) is not None:
            return True, None
    except (ImportError, ValueError):
        pass
    try:
        __import__(name)
    except ImportError:
        return False, traceback.format_exc()
    return True, None
