# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import re
from pathlib import Path

from ansible_collections.cluster.netboot.plugins.modules import receiver_program
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import assert_documented, run_module, tree_digest

COLLECTION = Path(receiver_program.__file__).resolve().parents[2]


def test_install_is_idempotent_and_documented(tmp_path):
    ended = run_module(receiver_program.main, {'path': str(tmp_path / 'state'), 'program': 'report'})
    assert not ended.failed and ended.result['changed'], ended.result
    assert_documented(receiver_program, ended.result)
    assert ended.result['program'] == str(tmp_path / 'state' / 'imaging_reports.py')
    assert str(tmp_path / 'state' / 'imaging_reports.py') in ended.result['changed_files']
    before = tree_digest(str(tmp_path))
    again = run_module(receiver_program.main, {'path': str(tmp_path / 'state'), 'program': 'report'}, diff=True)
    assert not again.failed and not again.result['changed'] and again.result['changed_files'] == []
    assert again.result['diff'] == [] and tree_digest(str(tmp_path)) == before


def test_check_mode_writes_nothing_and_the_diff_shows_each_file(tmp_path):
    before = tree_digest(str(tmp_path))
    ended = run_module(receiver_program.main, {'path': str(tmp_path / 'state'), 'program': 'capture'},
                       check_mode=True, diff=True)
    assert not ended.failed and ended.result['changed'] and tree_digest(str(tmp_path)) == before
    assert not (tmp_path / 'state').exists()
    assert sorted(diff['after_header'] for diff in ended.result['diff']) == ended.result['changed_files']
    launcher = ended.result['diff'][0]
    assert launcher['before'] == '' and 'capture_receiver_lib' in launcher['after']


def test_bad_input_fails_and_changes_nothing(tmp_path):
    (tmp_path / 'state').write_text('not a directory\n')
    before = tree_digest(str(tmp_path))
    ended = run_module(receiver_program.main, {'path': str(tmp_path / 'state'), 'program': 'report'})
    assert ended.failed and 'is not a directory' in ended.result['msg'] and tree_digest(str(tmp_path)) == before
    ended = run_module(receiver_program.main, {'path': 'relative/state', 'program': 'report'})
    assert ended.failed and 'not absolute' in ended.result['msg']
    ended = run_module(receiver_program.main, {'path': str(tmp_path / 'other'), 'program': 'mail'})
    assert ended.failed and 'mail' in ended.result['msg'] and not (tmp_path / 'other').exists()


def test_no_task_reaches_into_another_role_or_the_collection_tree_by_path():
    """The receivers (and anything else) come through the collection's interfaces: a role's files are
    its own, a playbook uses modules and roles' entry points (never role_path/.. or playbook_dir/..)."""
    reaching = re.compile(r'(role_path|playbook_dir)\s*\}\}\s*/\s*\.\.')
    found = [str(path.relative_to(COLLECTION)) for pattern in ('roles/*/tasks/*.yml', 'playbooks/*.yml')
             for path in sorted(COLLECTION.glob(pattern)) if reaching.search(path.read_text(encoding='utf-8'))]
    assert found == []
