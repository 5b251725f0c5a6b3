# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What AWX / Automation Controller needs from the collection.

- every role documents its variables in meta/argument_specs.yml (job template
  surveys and the role's own input check come from there);
- execution-environment.yml gives an ansible-builder build context offline,
  and the galaxy and introspection steps of that build, replayed here, find
  the collection and its Python and system requirements;
- the playbooks run under ansible-runner (the engine inside AWX) with extra
  vars only, against the example inventory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLES = REPO / 'inventories' / 'examples'


def run(args, cwd, env=None, timeout=300):
    result = subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, 'command %s failed:\n%s\n%s' % (args, result.stdout, result.stderr)
    return result


def roles():
    return sorted(path for path in (REPO / 'roles').iterdir() if path.is_dir()) if (REPO / 'roles').is_dir() else []


# ---------------------------------------------------------------- argument specs

@pytest.mark.parametrize('role', roles(), ids=lambda path: path.name)
def test_role_has_argument_specs(role):
    spec_file = role / 'meta' / 'argument_specs.yml'
    assert spec_file.is_file(), 'role %s has no meta/argument_specs.yml' % role.name
    try:
        specs = yaml.safe_load(spec_file.read_text())['argument_specs']
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        pytest.fail('%s: not an argument spec file: %s' % (spec_file, exc))
    assert 'main' in specs, '%s: no argument spec for the main entry point' % spec_file
    for entry_point, spec in specs.items():
        for option, details in (spec.get('options') or {}).items():
            assert details.get('description'), '%s: %s.%s has no description' % (spec_file, entry_point, option)
    defaults_file = role / 'defaults' / 'main.yml'
    if defaults_file.is_file():
        documented = set(specs['main'].get('options') or {})
        undocumented = sorted(set(yaml.safe_load(defaults_file.read_text()) or {}) - documented)
        assert not undocumented, '%s: defaults without an argument spec: %s' % (role.name, ', '.join(undocumented))


# ---------------------------------------------------------------- execution environment

@pytest.fixture(scope='module')
def ee_context(tmp_path_factory):
    """ansible-builder create on a copy of the EE definition, next to a freshly built tarball."""
    base = tmp_path_factory.mktemp('ee')
    for name in ('execution-environment.yml', 'requirements.txt', 'bindep.txt'):
        shutil.copy(REPO / name, base / name)
    definition = yaml.safe_load((base / 'execution-environment.yml').read_text())
    dist = base / 'dist'
    run([BIN / 'ansible-galaxy', 'collection', 'build', REPO, '--output-path', dist], cwd=base)
    (tarball,) = dist.glob('cluster-netboot-*.tar.gz')
    for entry in definition['additional_build_files']:
        if entry['src'].endswith('.tar.gz'):
            (base / entry['src']).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(tarball, base / entry['src'])
    context = base / 'context'
    run([BIN / 'ansible-builder', 'create', '--file', base / 'execution-environment.yml', '--context', context,
         '--output-filename', 'Containerfile'], cwd=base)
    return context, definition


def test_ee_definition_is_version_3(ee_context):
    _context, definition = ee_context
    assert definition['version'] == 3
    assert definition['dependencies']['python'] == 'requirements.txt'
    assert definition['dependencies']['system'] == 'bindep.txt'


def test_ee_context_holds_collection_and_requirements(ee_context):
    context, _definition = ee_context
    build = context / '_build'
    assert (build / 'requirements.txt').read_text() == (REPO / 'requirements.txt').read_text()
    assert (build / 'bindep.txt').read_text() == (REPO / 'bindep.txt').read_text()
    galaxy = yaml.safe_load((build / 'requirements.yml').read_text())
    (collection,) = galaxy['collections']
    assert collection['type'] == 'file'
    assert (build / collection['name']).is_file(), 'the collection tarball is not in the build context'
    containerfile = (context / 'Containerfile').read_text()
    assert 'ansible-galaxy collection install' in containerfile
    assert 'introspect.py introspect' in containerfile


def test_ee_galaxy_and_introspection_steps_offline(ee_context, tmp_path):
    """Replay what the image build does with the context, minus the container."""
    context, _definition = ee_context
    build = context / '_build'
    collections = tmp_path / 'collections'
    # As in the image: nothing installed yet anywhere ansible-galaxy looks.
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env.update(ANSIBLE_GALAXY_DISABLE_GPG_VERIFY='1', ANSIBLE_HOME=str(tmp_path / 'home'),
               ANSIBLE_COLLECTIONS_PATH=str(collections))
    # Same working directory (/build is a copy of _build) and arguments as the galaxy stage.
    run([BIN / 'ansible-galaxy', 'collection', 'install', '--offline', '-r', 'requirements.yml',
         '--collections-path', collections], cwd=build, env=env)
    assert (collections / 'ansible_collections' / 'cluster' / 'netboot' / 'MANIFEST.json').is_file()
    arguments = ['--user-pip=requirements.txt', '--user-bindep=bindep.txt',
                 '--write-pip=%s' % (tmp_path / 'pip.txt'), '--write-bindep=%s' % (tmp_path / 'bindep.txt')]
    if (build / 'exclude-collections.txt').is_file():
        arguments.append('--exclude-collection-reqs=exclude-collections.txt')
    run([sys.executable, 'scripts/introspect.py', 'introspect', collections, *arguments], cwd=build, env=env)
    python = (tmp_path / 'pip.txt').read_text()
    system = (tmp_path / 'bindep.txt').read_text()
    for requirement in ('netaddr', 'ClusterShell', 'cryptography'):
        assert python.count(requirement + '>=') == 1, python
    assert system.count('openssl') == 1, system
    # The bindep file is valid for bindep itself (the builder runs it in the image).
    listed = run([BIN / 'bindep', '-f', tmp_path / 'bindep.txt', '-l', 'newline'], cwd=tmp_path).stdout.split()
    assert 'openssl' in listed and 'isc-dhcp-server' not in listed
    console = run([BIN / 'bindep', '-f', tmp_path / 'bindep.txt', '-l', 'newline', 'console'], cwd=tmp_path).stdout.split()
    assert 'isc-dhcp-server' in console and 'tftpd-hpa' in console


# ---------------------------------------------------------------- ansible-runner

@pytest.fixture
def runner(collections_path, tmp_path):
    """ansible_runner.run as AWX drives it: a private data dir, an inventory, extra vars only."""
    ansible_runner = pytest.importorskip('ansible_runner', reason='NOT TESTED: ansible-runner (requirements-test.txt) is not installed')

    def _run(playbook, inventory, extravars, project_dir=REPO, cmdline='--check'):
        envvars = {
            'PATH': '%s:%s' % (BIN, os.environ.get('PATH', '/usr/bin:/bin')),
            'ANSIBLE_COLLECTIONS_PATH': collections_path,
            'ANSIBLE_HOME': str(tmp_path / 'ansible-home'),
            'ANSIBLE_NOCOLOR': '1',
        }
        (tmp_path / 'runner').mkdir(exist_ok=True)
        result = ansible_runner.run(private_data_dir=str(tmp_path / 'runner'), project_dir=str(project_dir),
                                    playbook=str(playbook), inventory=str(inventory), extravars=extravars,
                                    cmdline=cmdline, envvars=envvars, quiet=True, timeout=600)
        events = list(result.events)
        failures = [event for event in events if event.get('event') in ('runner_on_failed', 'runner_on_unreachable')
                    and not event['event_data'].get('ignore_errors')]
        stdout = result.stdout.read()
        assert result.status == 'successful' and result.rc == 0 and not failures, stdout
        ok = {}
        for event in events:
            if event.get('event') == 'runner_on_ok':
                ok.setdefault(event['event_data']['task'], set()).add(event['event_data']['host'])
        return ok, events, stdout
    return _run


def test_runner_mechanics_with_the_example_inventory(runner, tmp_path):
    """Extra vars in, check mode honoured, events out; the collection's filter and inventory plugin in use."""
    project = tmp_path / 'project'
    project.mkdir()
    marker = tmp_path / 'written-only-without-check-mode'
    # The console does the work and reaches the nodes only through their host
    # variables, as the real playbooks do: no connection to any node address.
    (project / 'check.yml').write_text(textwrap.dedent('''\
        - name: Runner mechanics
          hosts: console
          gather_facts: false
          tasks:
            - name: Each node's pxelinux file name from the collection's filter
              ansible.builtin.assert:
                that:
                  - (hostvars[item].ip | cluster.netboot.pxe_hex) == '0A1202%02X' % hostvars[item].x
                  - hostvars[item].image == wanted_image
              loop: "{{ groups['xcpu'] }}"
            - name: A write that check mode must not do
              ansible.builtin.copy:
                content: "{{ groups['xcpu'] | join(' ') }}\\n"
                dest: "{{ marker }}"
                mode: '0644'
        '''))
    ok, events, _stdout = runner('check.yml', EXAMPLES / 'sandbox', {'wanted_image': 'xcpu2-initrd', 'marker': str(marker)},
                                 project_dir=project)
    assert ok["Each node's pxelinux file name from the collection's filter"] == {'console.sb8'}
    assert ok['A write that check mode must not do'] == {'console.sb8'}
    assert not marker.exists()
    items = [event['event_data']['res'].get('item') for event in events if event.get('event') == 'runner_item_on_ok']
    assert sorted(items) == ['n10', 'n11', 'n8', 'n9']
    assert any(event.get('event') == 'playbook_on_stats' for event in events)


def image_nodes_extravars(base):
    """What an AWX job template would pass for one imaging run on the sandbox, pointed at
    temporary directories. The command power driver only runs `echo`: in check mode
    node_power still asks each node's power status, and no real controller may be asked."""
    image = base / 'baseline-2.0.img'
    image.write_bytes(b'\0' * 1024 * 1024)
    for name in ('tftp', 'state', 'sessions'):
        (base / name).mkdir()
    return {
        'image_nodes_groups': [{'name': 'sb8', 'inventory_group': 'sb8', 'image': str(image)}],
        'image_nodes_server_address': '10.18.1.254',
        'image_nodes_dhcp': False,
        'image_nodes_tftp_root': str(base / 'tftp'),
        'image_nodes_state_dir': str(base / 'state'),
        'image_nodes_session_state_dir': str(base / 'sessions'),
        'image_nodes_python': sys.executable,
        'image_nodes_power_driver': 'command',
        'image_nodes_power': {'commands': {'status': 'echo on', 'on': 'true', 'off': 'true', 'reset': 'true'}},
        'image_nodes_timeout': 60,
    }


def test_image_nodes_playbook_in_check_mode(runner, tmp_path):
    base = tmp_path / 'imaging'
    base.mkdir()
    _ok, events, stdout = runner('playbooks/image_nodes.yml', EXAMPLES / 'sandbox', image_nodes_extravars(base))
    actions = {event['event_data'].get('resolved_action') or event['event_data'].get('task_action')
               for event in events if event.get('event') in ('runner_on_ok', 'runner_item_on_ok')}
    for action in ('cluster.netboot.frisbee_server', 'cluster.netboot.pxe_config', 'cluster.netboot.pxe_boot',
                   'cluster.netboot.node_power'):
        assert action in actions, '%s never reported ok:\n%s' % (action, stdout)
    # Check mode: nothing written, no multicast sender started.
    for name in ('tftp', 'state', 'sessions'):
        assert not list((base / name).iterdir()), '%s written in check mode' % name


# ---------------------------------------------------------------- docs

def test_every_playbook_has_a_current_docs_page():
    """docs/playbooks/<playbook>.md exists and its variable tables match the roles' argument specs."""
    result = subprocess.run([sys.executable, str(REPO / 'docs' / 'tools' / 'playbook_variables.py'), '--check'],
                            cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
