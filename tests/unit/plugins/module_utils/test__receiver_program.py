# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _receiver_program as receiver_program
from ansible_collections.cluster.netboot.plugins.module_utils._errors import FileStateError, NetbootError

MODULE_UTILS = Path(receiver_program.__file__).parent
PACKAGE = receiver_program.PACKAGE


def write(path: str, content: bytes, mode: int) -> None:
    with open(path, 'wb') as handle:
        handle.write(content)
    os.chmod(path, mode)


def install(directory: Path, program: str) -> receiver_program.Plan:
    changes = receiver_program.plan(str(directory), program)
    receiver_program.apply(changes, write)
    return changes


def test_imported_names_are_the_collections_module_utils_only():
    source = '\n'.join([
        'import os',
        'from ansible.module_utils.basic import AnsibleModule',
        'from %s import _files, _process as process' % PACKAGE,
        'from %s._errors import NetbootError' % PACKAGE,
        'import %s._catalog' % PACKAGE,
        'import %s._nodes as nodes' % PACKAGE,
        'def later():',
        '    from %s import _imaging_plan' % PACKAGE,
    ])
    assert receiver_program.imported_names(source) == {'_files', '_process', '_errors', '_catalog', '_nodes',
                                                       '_imaging_plan'}


def test_sources_follow_imports_transitively_and_once():
    tree = {
        '_a': 'from %s import _b' % PACKAGE,
        '_b': 'from %s._c import x\nfrom %s import _a' % (PACKAGE, PACKAGE),
        '_c': 'import json',
        '_unused': '',
    }
    read = []

    def reader(name):
        read.append(name)
        return tree[name]
    assert sorted(receiver_program.sources('_a', reader)) == ['_a', '_b', '_c']
    assert sorted(read) == ['_a', '_b', '_c']


@pytest.mark.parametrize('program, entry, needed, not_needed', [
    ('report', '_report_receiver', {'_files', '_errors', '_process', '_imaging_plan'}, {'_catalog', '_capture_receiver'}),
    ('capture', '_capture_receiver', {'_files', '_errors', '_process', '_catalog'}, {'_imaging_plan', '_report_receiver'}),
])
def test_a_program_carries_its_receiver_and_what_it_imports_as_in_the_collection(tmp_path, program, entry, needed,
                                                                                 not_needed):
    wanted, package = receiver_program.wanted_files(str(tmp_path), program)
    launcher = wanted[0]
    assert launcher.path == str(tmp_path / receiver_program.PROGRAMS[program][0]) and launcher.mode == 0o755
    carried = {Path(item.path).stem: item for item in wanted if Path(item.path).parent == Path(package)}
    assert entry in carried and needed <= set(carried) and not not_needed & set(carried)
    for name, item in carried.items():
        if name != '__init__':
            assert item.content == (MODULE_UTILS / (name + '.py')).read_bytes() and item.mode == 0o644


def test_unknown_programs_and_relative_or_blocked_paths_are_refused(tmp_path):
    with pytest.raises(NetbootError, match='unknown receiver program'):
        receiver_program.plan(str(tmp_path), 'mail')
    with pytest.raises(NetbootError, match='not absolute'):
        receiver_program.plan('state', 'report')
    (tmp_path / 'file').write_text('x')
    with pytest.raises(FileStateError, match='is not a directory'):
        receiver_program.plan(str(tmp_path / 'file'), 'report')
    (tmp_path / 'imaging_reports.py').mkdir()
    with pytest.raises(FileStateError, match='is not a regular file'):
        receiver_program.plan(str(tmp_path), 'report')
    (tmp_path / 'imaging_reports.py').rmdir()
    (tmp_path / 'imaging_reports_lib').write_text('x')
    with pytest.raises(FileStateError, match='imaging_reports_lib exists and is not a directory'):
        receiver_program.plan(str(tmp_path), 'report')


def test_install_then_nothing_to_do_and_modes_and_stale_files_are_put_right(tmp_path):
    first = install(tmp_path / 'state', 'report')
    assert first.changed and first.program == str(tmp_path / 'state' / 'imaging_reports.py')
    assert receiver_program.plan(str(tmp_path / 'state'), 'report').changed is False
    package = tmp_path / 'state' / 'imaging_reports_lib' / Path(*PACKAGE.split('.'))
    os.chmod(tmp_path / 'state' / 'imaging_reports.py', 0o600)
    (package / '_gone.py').write_text('old code\n')
    (package / '__pycache__').mkdir()
    again = receiver_program.plan(str(tmp_path / 'state'), 'report')
    assert [item.path for item in again.chmod] == [str(tmp_path / 'state' / 'imaging_reports.py')]
    assert again.remove == [(str(package / '_gone.py'), b'old code\n')] and not again.write
    assert again.diff() == [{'before': 'old code\n', 'after': '', 'before_header': str(package / '_gone.py'),
                             'after_header': str(package / '_gone.py')}]
    receiver_program.apply(again, write)
    assert stat.S_IMODE(os.stat(tmp_path / 'state' / 'imaging_reports.py').st_mode) == 0o755
    assert not (package / '_gone.py').exists() and (package / '__pycache__').is_dir()
    assert not receiver_program.plan(str(tmp_path / 'state'), 'report').changed


def test_an_install_failure_is_a_clear_error(tmp_path):
    changes = receiver_program.plan(str(tmp_path), 'capture')

    def refuse(path, content, mode):
        raise PermissionError(13, 'Permission denied', path)
    with pytest.raises(FileStateError, match='cannot install the capture_receiver.py: .*Permission denied'):
        receiver_program.apply(changes, refuse)


def test_the_installed_program_runs_on_its_own_before_anything_else_installed(tmp_path):
    """No collection on the path: the launcher finds its own tree first, even over a regular package
    ``ansible_collections`` that another installation put on PYTHONPATH."""
    install(tmp_path / 'state', 'capture')
    other = tmp_path / 'other' / 'ansible_collections'
    other.mkdir(parents=True)
    (other / '__init__.py').write_text('raise ImportError("the wrong ansible_collections")\n')
    env = {'PATH': os.environ.get('PATH', ''), 'PYTHONPATH': str(tmp_path / 'other')}

    def run(*argv):
        return subprocess.run([sys.executable, str(tmp_path / 'state' / 'capture_receiver.py'), *argv],
                              cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=60, check=False)
    stopped = run('stop', '--record', str(tmp_path / 'none.json'))
    assert stopped.returncode == 0 and json.loads(stopped.stdout)['stopped'] is False, stopped.stderr
    helped = run('--help')
    assert helped.returncode == 0 and helped.stdout.startswith('usage: capture_receiver.py'), helped.stderr
