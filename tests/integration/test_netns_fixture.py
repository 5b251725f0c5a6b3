# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Proof that the shared integration fixtures work and clean up after themselves."""

from __future__ import annotations

import signal

import pytest

import netns


def test_two_namespaces_ping_over_veth(netns_factory):
    server = netns_factory.namespace('srv')
    client = netns_factory.namespace('cli')
    netns_factory.veth(server, client, '10.77.0.1/24', '10.77.0.2/24')

    result = client.exec(['ping', '-c', '1', '-W', '2', '10.77.0.1'], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert server.name.startswith(netns_factory.prefix)
    assert netns.namespace_exists(server.name)


def test_namespaces_are_gone_after_cleanup():
    factory = netns.NetnsFactory()
    first = factory.namespace('a')
    second = factory.namespace('b')
    factory.veth(first, second, '10.77.1.1/30', '10.77.1.2/30')
    assert netns.namespace_exists(first.name) and netns.namespace_exists(second.name)

    factory.cleanup()
    assert not netns.namespace_exists(first.name)
    assert not netns.namespace_exists(second.name)
    listed = netns.run(['ip', 'netns', 'list']).stdout
    assert factory.prefix not in listed


def test_bridge_joins_three_namespaces(netns_factory):
    fabric = netns_factory.namespace('fab')
    bridge = netns_factory.bridge(fabric, '10.77.2.1/24')
    members = [netns_factory.namespace(f'm{index}') for index in range(2)]
    for index, member in enumerate(members):
        netns_factory.attach(fabric, bridge, member, f'10.77.2.{10 + index}/24')

    result = members[0].exec(['ping', '-c', '1', '-W', '2', '10.77.2.11'], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    result = members[1].exec(['ping', '-c', '1', '-W', '2', '10.77.2.1'], check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_daemon_in_namespace_is_stopped_by_pid(netns_factory, processes, tmp_path):
    server = netns_factory.namespace('d')
    server.add_address('lo', '10.77.3.1/32')
    # socat as a stand-in daemon: a UDP echo service inside the namespace.
    daemon = processes.start(['socat', 'UDP4-RECVFROM:7777,bind=10.77.3.1,fork', 'EXEC:cat'], ns=server)
    netns.wait_for(lambda: server.listening(7777, 'udp'), timeout=10, what='socat listening')

    reply = server.exec(['sh', '-c', 'echo hello | socat -t 2 - UDP4:10.77.3.1:7777'])
    assert reply.stdout == 'hello\n'

    # socat exits 143 (128 + SIGTERM) from its handler; others die of the signal.
    assert processes.stop(daemon) in (-signal.SIGTERM, 128 + signal.SIGTERM)
    assert not daemon.running()
    assert daemon.log_path.parent.parent == tmp_path


def test_run_playbook_reports_tasks(run_playbook, tmp_path):
    target = tmp_path / 'marker.txt'
    playbook = [{
        'name': 'Write a file',
        'hosts': 'localhost',
        'gather_facts': False,
        'tasks': [{
            'name': 'Write the marker',
            'ansible.builtin.copy': {'dest': '{{ marker_path }}', 'content': 'x\n', 'mode': '0644'},
        }],
    }]

    first = run_playbook(playbook, extravars={'marker_path': str(target)})
    assert first.rc == 0, first
    assert first.task('Write the marker').changed
    assert target.read_text() == 'x\n'

    second = run_playbook(playbook, extravars={'marker_path': str(target)}, check=True, diff=True)
    assert second.rc == 0, second
    assert not second.changed


def test_run_playbook_resolves_the_collection(run_playbook, collections_path):
    playbook = '''
- hosts: localhost
  gather_facts: false
  tasks:
    - name: List cluster.netboot
      ansible.builtin.command: ansible-galaxy collection list cluster.netboot --format json
      changed_when: false
      register: listing
'''
    result = run_playbook(playbook)
    assert result.rc == 0, result
    listing = result.task('List cluster.netboot')['stdout']
    assert 'cluster.netboot' in listing
    assert collections_path in listing


def test_run_playbook_reports_failure(run_playbook):
    result = run_playbook('- hosts: localhost\n  gather_facts: false\n  tasks:\n'
                          '    - name: Fail on purpose\n      ansible.builtin.fail:\n        msg: boom\n')
    assert result.rc != 0
    assert result.failed
    assert result.task('Fail on purpose').failed
    assert result.task('Fail on purpose')['msg'] == 'boom'


@pytest.mark.parametrize('suffix', ['this-suffix-is-too-long'])
def test_long_names_are_refused(suffix):
    with pytest.raises(ValueError, match='longer than 15'):
        netns.NetnsFactory().namespace(suffix)
