# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The QEMU labs, end to end: one pytest module per scenario (``make lab``, ``make lab-test``).

Each lab is a test that builds its fabric, runs the collection's playbooks
against it, checks every node from the host, prints the result table (one
row per node) and tears everything down, also on failure. They run as root,
one at a time (TCG VMs take whole cores), with tests/utils/run-lab.sh.

The fixtures are those of the integration tests (tests/integration/conftest.py:
namespaces with a unique prefix, processes stopped by PID, playbook runs),
loaded here under their own module name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tests' / 'integration'))


def _integration_conftest():
    spec = importlib.util.spec_from_file_location('cluster_netboot_integration_conftest',
                                                  REPO / 'tests' / 'integration' / 'conftest.py')
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_shared = _integration_conftest()
# Fixtures.
netns_factory = _shared.netns_factory
processes = _shared.processes
collections_path = _shared.collections_path
run_playbook = _shared.run_playbook
require_programs = _shared.require_programs
# Hooks: namespace safety net and cleanup, skip (loudly) without root, STRICT.
pytest_configure = _shared.pytest_configure
pytest_collection_modifyitems = _shared.pytest_collection_modifyitems
pytest_terminal_summary = _shared.pytest_terminal_summary
pytest_sessionfinish = _shared.pytest_sessionfinish
pytest_runtest_makereport = _shared.pytest_runtest_makereport
