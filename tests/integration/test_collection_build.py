# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection as users get it: built into a tarball, installed, used from elsewhere.

Everything after the build runs from a fresh directory whose only collection
path is the installed copy, never the working tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Never in the tarball: test stack, caches, build output, VCS data.
FORBIDDEN_TOP = {'.venv', '.cache', '.ansible', '.git', 'build', '.pytest_cache'}


def run(args, cwd, env=None, timeout=300):
    result = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, 'command %s failed:\n%s\n%s' % (args, result.stdout, result.stderr)
    return result


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """(tarball, install root): ansible-galaxy collection build, then install into a temp path."""
    base = tmp_path_factory.mktemp('collection')
    run([BIN / 'ansible-galaxy', 'collection', 'build', REPO, '--output-path', base / 'dist'], cwd=base)
    meta = yaml.safe_load((REPO / 'galaxy.yml').read_text())
    tarball = base / 'dist' / ('%s-%s-%s.tar.gz' % (meta['namespace'], meta['name'], meta['version']))
    assert tarball.is_file()
    install = base / 'installed'
    # Only the target path counts as installed: a copy in ~/.ansible would make this a no-op.
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env.update(ANSIBLE_HOME=str(base / 'home'), ANSIBLE_COLLECTIONS_PATH=str(install))
    run([BIN / 'ansible-galaxy', 'collection', 'install', '--offline', tarball, '-p', install], cwd=base, env=env)
    assert (install / 'ansible_collections' / 'cluster' / 'netboot' / 'MANIFEST.json').is_file()
    return tarball, install


@pytest.fixture
def fresh(built, tmp_path):
    """Environment and working directory that only know the installed collection."""
    _tarball, install = built
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(install), ANSIBLE_NOCOLOR='1', ANSIBLE_HOME=str(tmp_path / 'home'),
               ANSIBLE_LOCALHOST_WARNING='0')
    work = tmp_path / 'work'
    work.mkdir()
    return env, work, install / 'ansible_collections' / 'cluster' / 'netboot'


def test_tarball_leaves_out_test_stack_and_build_output(built):
    tarball, _install = built
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    tops = {name.split('/', 1)[0] for name in names}
    assert not tops & FORBIDDEN_TOP, sorted(tops & FORBIDDEN_TOP)
    assert not [name for name in names if name.startswith('tests/output/')]
    assert not [name for name in names if name.endswith(('.tar.gz', '.pyc')) or '/__pycache__/' in name]
    for wanted in ('MANIFEST.json', 'meta/runtime.yml', 'plugins/inventory/nodes.py', 'requirements.txt', 'bindep.txt',
                   'execution-environment.yml'):
        assert wanted in names, wanted


def test_ansible_doc_from_the_installed_copy(fresh):
    env, work, installed = fresh
    inventory_doc = run([BIN / 'ansible-doc', '-t', 'inventory', 'cluster.netboot.nodes'], cwd=work, env=env).stdout
    assert str(installed / 'plugins' / 'inventory' / 'nodes.py') in inventory_doc
    assert str(REPO) not in inventory_doc
    module_doc = run([BIN / 'ansible-doc', 'cluster.netboot.pxe_boot'], cwd=work, env=env).stdout
    assert str(installed / 'plugins' / 'modules' / 'pxe_boot.py') in module_doc


def test_playbook_with_filter_and_inventory_plugin(fresh):
    env, work, _installed = fresh
    (work / 'sandbox.netboot.yml').write_text(textwrap.dedent('''\
        plugin: cluster.netboot.nodes
        groups:
          sb8:
            nodes: node1-[1-2].sb8
            ip_start: 10.18.1.17
            vars:
              ansible_connection: local
              ansible_python_interpreter: "{{ ansible_playbook_python }}"
        '''))
    (work / 'site.yml').write_text(textwrap.dedent('''\
        - name: Use the installed collection
          hosts: sb8
          gather_facts: false
          tasks:
            - name: The pxelinux file name of each node
              ansible.builtin.assert:
                that:
                  - (ip | cluster.netboot.pxe_hex) == expected[inventory_hostname]
                  - x == 1 and y in [1, 2]
              vars:
                expected:
                  node1-1.sb8: 0A120111
                  node1-2.sb8: 0A120112
        '''))
    result = run([BIN / 'ansible-playbook', '-i', 'sandbox.netboot.yml', 'site.yml'], cwd=work, env=env)
    assert 'ok=1' in result.stdout and 'failed=0' in result.stdout, result.stdout
    assert result.stdout.count('ok: [node1-') == 2, result.stdout


def test_the_receivers_install_and_run_from_the_installed_copy(fresh, tmp_path):
    """The roles' receiver programs come from the module's own payload: the same from an installed collection."""
    env, work, installed = fresh
    state = tmp_path / 'state'
    for program in ('report', 'capture'):
        run([BIN / 'ansible', 'localhost', '-i', 'localhost,', '-c', 'local', '-e',
             'ansible_python_interpreter=%s' % sys.executable, '-m', 'cluster.netboot.receiver_program',
             '-a', 'path=%s program=%s' % (state, program)], cwd=work, env=env)
    carried = state / 'imaging_reports_lib' / 'ansible_collections' / 'cluster' / 'netboot' / 'plugins' / 'module_utils'
    assert (carried / '_report_receiver.py').read_bytes() == (
        installed / 'plugins' / 'module_utils' / '_report_receiver.py').read_bytes()
    stopped = run([sys.executable, state / 'imaging_reports.py', 'stop', '--dir', tmp_path], cwd=work,
                  env={'PATH': os.environ['PATH']})
    assert '"stopped": false' in stopped.stdout
    stopped = run([sys.executable, state / 'capture_receiver.py', 'stop', '--record', tmp_path / 'none.json'], cwd=work,
                  env={'PATH': os.environ['PATH']})
    assert '"stopped": false' in stopped.stdout
