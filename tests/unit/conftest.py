# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests: a skip that says NOT TESTED fails in a strict run (tests/utils/strict_skips.py)."""

from __future__ import annotations

from ansible_collections.cluster.netboot.tests.utils.strict_skips import pytest_runtest_makereport

__all__ = ['pytest_runtest_makereport']
