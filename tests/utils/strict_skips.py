# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Loud skips become failures in strict runs (``make test STRICT=1``).

A test that cannot run on this machine (a program that is not packaged, no
root) skips with a reason that starts with ``NOT TESTED``. On a machine that
has everything, such a skip can only hide a regression: with
``CNB_TEST_STRICT=1`` in the environment every such skip is reported as a
failure. ansible-test runs unit tests with a filtered environment, so
tests/utils/ansible-test.sh leaves the file ``tests/output/.tmp/strict-skips``
in its copy of the tree instead.

The unit and integration conftests import the hook; the molecule verifier
loads this file as a pytest plugin (``-p strict_skips``).
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest

MARKER = 'NOT TESTED'
ROOT = Path(__file__).resolve().parents[2]
STRICT_FILE = ROOT / 'tests' / 'output' / '.tmp' / 'strict-skips'


def strict() -> bool:
    """Whether this run turns loud skips into failures."""
    return os.environ.get('CNB_TEST_STRICT') == '1' or STRICT_FILE.is_file()


def skip_reason(report: pytest.TestReport) -> str:
    """The reason of a skipped test's report."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> t.Iterator[None]:
    """A skip whose reason says NOT TESTED fails the test in a strict run."""
    del item, call
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and not hasattr(report, 'wasxfail') and strict():
        reason = skip_reason(report)
        if MARKER in reason:
            report.outcome = 'failed'
            report.longrepr = 'STRICT run (CNB_TEST_STRICT=1): a loud skip is a failure here: %s' % reason
