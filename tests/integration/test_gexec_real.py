# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""authd_keypair and gexec against the real GEXEC daemons, in network namespaces.

GEXEC (authd, gexecd, gexec) is not packaged by Debian and the collection
ships none of it: these tests run only when the operator's binaries are found,
in CLUSTER_NETBOOT_GEXEC_BIN_DIR or on PATH (authd may be named authd or
gexec-authd), and are skipped loudly otherwise.

Layout: a console namespace runs authd with the key the module made; each
node namespace runs gexecd with a public key. authd and gexecd read the
hard-coded /etc/auth_priv.pem and /etc/auth_pub.pem, so each daemon runs in
its own mount namespace where a read-only overlay puts that node's key
directory over /etc (the host's /etc is never touched). The gexec client runs
in the console namespace through a two-line wrapper given as gexec_path.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

import netns

BIN_DIR_VARIABLE = 'CLUSTER_NETBOOT_GEXEC_BIN_DIR'
SUBNET = '10.77.40'


def _find(*names: str) -> str | None:
    bin_dir = os.environ.get(BIN_DIR_VARIABLE)
    for name in names:
        if bin_dir:
            candidate = Path(bin_dir) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        else:
            found = shutil.which(name, path=os.environ.get('PATH', '') + ':/usr/local/sbin:/usr/sbin:/sbin')
            if found:
                return found
    return None


@pytest.fixture(scope='module')
def gexec_binaries() -> dict[str, str]:
    found = {'authd': _find('authd', 'gexec-authd'), 'gexecd': _find('gexecd'), 'gexec': _find('gexec')}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        where = os.environ.get(BIN_DIR_VARIABLE) or 'PATH'
        pytest.skip(f'NOT TESTED: the real GEXEC programs {", ".join(missing)} are not in {where}. GEXEC is not '
                    f'packaged; build authd/gexecd/gexec (GEXEC 0.3.x) and set {BIN_DIR_VARIABLE} to their '
                    f'directory to run these tests.')
    if shutil.which('openssl') is None:
        pytest.skip('NOT TESTED: the openssl command is missing (authd_keypair generates keys with it)')
    return {name: str(path) for name, path in found.items()}


class Cluster:
    """A console and nodes in namespaces on one bridge, with the real daemons."""

    def __init__(self, netns_factory, processes, binaries: dict[str, str], workdir: Path, nodes: int):
        self.factory = netns_factory
        self.processes = processes
        self.binaries = binaries
        self.workdir = workdir
        self.console = netns_factory.namespace('con')
        bridge = netns_factory.bridge(self.console, f'{SUBNET}.1/24')
        self.nodes = []
        for index in range(nodes):
            namespace = netns_factory.namespace(f'n{index + 1}')
            netns_factory.attach(self.console, bridge, namespace, f'{SUBNET}.{11 + index}/24')
            self.nodes.append(namespace)
        self.addresses = [f'{SUBNET}.{11 + index}' for index in range(nodes)]
        self.daemons: dict[str, object] = {}
        self.wrapper = workdir / 'gexec-in-console'
        self.wrapper.write_text('#!/bin/sh\n# The real gexec client, run in the console namespace.\n'
                                f'exec ip netns exec {self.console.name} {binaries["gexec"]} "$@"\n')
        self.wrapper.chmod(0o755)

    def key_dir(self, name: str, private: Path | None, public: Path | None) -> Path:
        """A directory holding exactly the key files a daemon should find in /etc."""
        directory = self.workdir / 'etc' / f'{name}-{time.monotonic_ns()}'
        directory.mkdir(parents=True)
        if private is not None:
            shutil.copyfile(private, directory / 'auth_priv.pem')
            (directory / 'auth_priv.pem').chmod(0o600)
        if public is not None:
            shutil.copyfile(public, directory / 'auth_pub.pem')
            (directory / 'auth_pub.pem').chmod(0o644)
        return directory

    def start(self, label: str, namespace, program: str, keys: Path, hide: Path | None = None):
        """Start a daemon whose /etc shows ``keys`` on top of the host's /etc (read-only overlay);
        ``hide`` is a directory it sees empty (a node that lacks what the console has)."""
        old = self.daemons.pop(label, None)
        if old is not None:
            self.processes.stop(old)
        script = 'mount -t overlay cnb-gexec -o "lowerdir=$1:/etc" /etc && shift && exec "$@"'
        if hide is not None:
            script = f'mount -t tmpfs cnb-hide {hide} && {script}'
        argv = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', str(keys), program]
        daemon = self.processes.start(argv, ns=namespace)
        self.daemons[label] = daemon
        return daemon

    def start_all(self, private: Path, public: Path, node_publics: list[Path | None] | None = None,
                  hide: Path | None = None) -> None:
        self.start('authd', self.console, self.binaries['authd'], self.key_dir('console', private, public))
        for index, namespace in enumerate(self.nodes):
            node_public = public if node_publics is None else node_publics[index]
            if node_public is None:
                continue
            self.start(f'gexecd{index}', namespace, self.binaries['gexecd'],
                       self.key_dir(f'node{index}', None, node_public), hide=hide)
        for index, namespace in enumerate(self.nodes):
            if f'gexecd{index}' in self.daemons:
                netns.wait_for(lambda ns=namespace: ns.listening(2875, 'tcp'), timeout=10,
                               what=f'gexecd in {namespace}')
        # authd's abstract socket has no port to poll; it binds at once.
        time.sleep(0.3)

    def raw_gexec(self, *argv: str) -> subprocess.CompletedProcess:
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'GEXEC_SVRS': ' '.join(self.addresses)}
        return subprocess.run([str(self.wrapper), '-n', '0', *argv], capture_output=True, text=True,
                              env=env, cwd='/', timeout=60, check=False)


def keypair_play(directory: Path, size: int = 512, regenerate: str = 'never') -> list[dict]:
    return [{
        'name': 'Keypair', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{
            'name': 'Make the pair',
            'cluster.netboot.authd_keypair': {
                'private_key': str(directory / 'auth_priv.pem'),
                'public_key': str(directory / 'auth_pub.pem'),
                'size': size, 'regenerate': regenerate,
            },
        }],
    }]


def gexec_play(wrapper: Path, nodes, command, allow_failures: bool = True, **extra) -> list[dict]:
    arguments = {'nodes': nodes, 'command': command, 'gexec_path': str(wrapper), 'allow_failures': allow_failures,
                 'timeout': 60}
    arguments.update(extra)
    return [{
        'name': 'Run', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'Run it', 'cluster.netboot.gexec': arguments}],
    }]


def made_keys(run_playbook, tmp_path: Path) -> Path:
    """The directory of a key pair made by the module."""
    keys = tmp_path / 'keys'
    keys.mkdir()
    assert not run_playbook(keypair_play(keys)).failed
    return keys


def console_only_program(tmp_path: Path, name: str, script: str) -> tuple[Path, Path]:
    """A program in a directory that the nodes' gexecd sees empty (start them with hide=that directory)."""
    only_here = tmp_path / 'console-only'
    only_here.mkdir(exist_ok=True)
    program = only_here / name
    program.write_text(script)
    program.chmod(0o755)
    return only_here, program


@pytest.fixture
def cluster_factory(netns_factory, processes, gexec_binaries, tmp_path):
    def make(nodes: int = 2) -> Cluster:
        return Cluster(netns_factory, processes, gexec_binaries, tmp_path, nodes)
    return make


def test_module_key_works_with_real_authd(cluster_factory, run_playbook, tmp_path):
    keys = tmp_path / 'keys'
    keys.mkdir()
    made = run_playbook(keypair_play(keys))
    assert not made.failed, made
    pair = made.task('Make the pair')
    assert pair.changed and pair['size'] == 512
    assert (keys / 'auth_priv.pem').read_bytes().startswith(b'-----BEGIN RSA PRIVATE KEY-----')

    cluster = cluster_factory(2)
    cluster.start_all(keys / 'auth_priv.pem', keys / 'auth_pub.pem')

    # The raw client first: this is the proof the issue asks for, independent of the module's parsing.
    raw = cluster.raw_gexec('-p', 'vnn', 'hostname')
    assert raw.returncode == 0 and raw.stderr == '', raw
    # Nodes answer in any order.
    assert sorted(raw.stdout.splitlines()) == [f'0 {socket.gethostname()}', f'1 {socket.gethostname()}'], raw

    ran = run_playbook(gexec_play(cluster.wrapper, cluster.addresses,
                                  ['/bin/sh', '-c', 'echo "vnn $GEXEC_MY_VNN"; echo to-stderr >&2'],
                                  allow_failures=False))
    assert not ran.failed, ran
    result = ran.task('Run it')
    assert result['failed_nodes'] == []
    by_name = {node['name']: node for node in result['results']}
    for index, address in enumerate(cluster.addresses):
        assert by_name[address]['status'] == 'ok'
        # gexecd forwards stdout and stderr from two threads: their order is not kept.
        assert sorted(by_name[address]['output_lines']) == ['to-stderr', f'vnn {index}']


def test_2048_bit_key_fails_with_the_real_message(cluster_factory, run_playbook, tmp_path):
    keys = tmp_path / 'keys'
    keys.mkdir()
    # What an operator gets with today's defaults: openssl genrsa makes 2048 bits.
    subprocess.run(['openssl', 'genrsa', '-traditional', '-out', str(keys / 'auth_priv.pem'), '2048'],
                   check=True, capture_output=True)
    subprocess.run(['openssl', 'rsa', '-in', str(keys / 'auth_priv.pem'), '-pubout', '-out',
                    str(keys / 'auth_pub.pem')], check=True, capture_output=True)

    cluster = cluster_factory(1)
    cluster.start_all(keys / 'auth_priv.pem', keys / 'auth_pub.pem')
    raw = cluster.raw_gexec('hostname')
    # gexec exits 0; the only sign is on stderr. authd dies on its buffer assertion.
    assert raw.returncode == 0 and raw.stdout == '', raw
    assert raw.stderr == 'Could not obtain signature from authd on localhost\n', raw
    authd = cluster.daemons['authd']
    netns.wait_for(lambda: not authd.running(), timeout=5, what='authd to abort')
    assert 'Assertion failed' in authd.log(), authd.log()

    cluster.start_all(keys / 'auth_priv.pem', keys / 'auth_pub.pem')
    ran = run_playbook(gexec_play(cluster.wrapper, cluster.addresses, 'hostname', allow_failures=False))
    assert ran.rc != 0
    result = ran.task('Run it')
    assert result.failed
    assert result['failed_nodes'] == cluster.addresses
    assert result['results'][0]['status'] == 'not_run'
    assert 'Could not obtain signature from authd on localhost' in result['msg']

    # The module refuses to keep such a key for authd, and replaces it on request.
    kept = run_playbook(keypair_play(keys))
    assert kept.failed and '2048-bit' in kept.task('Make the pair')['msg']
    replaced = run_playbook(keypair_play(keys, regenerate='always'))
    assert not replaced.failed, replaced
    cluster.start_all(keys / 'auth_priv.pem', keys / 'auth_pub.pem')
    ran = run_playbook(gexec_play(cluster.wrapper, cluster.addresses, 'hostname', allow_failures=False))
    assert not ran.failed, ran


def test_down_node_and_foreign_key_are_reported(cluster_factory, run_playbook, tmp_path):
    keys, other = tmp_path / 'keys', tmp_path / 'other'
    keys.mkdir()
    other.mkdir()
    assert not run_playbook(keypair_play(keys)).failed
    assert not run_playbook(keypair_play(other)).failed

    cluster = cluster_factory(3)
    # node 1 good, node 2 has another cluster's public key, node 3 runs no gexecd.
    cluster.start_all(keys / 'auth_priv.pem', keys / 'auth_pub.pem',
                      [keys / 'auth_pub.pem', other / 'auth_pub.pem', None])
    raw = cluster.raw_gexec('hostname')
    assert raw.returncode == 0 and raw.stderr == '', raw
    # No reverse DNS for these addresses: gexec prints an empty host name.
    assert raw.stdout.splitlines() == [f'Could not connect to  ({cluster.addresses[1]})',
                                       f'Could not connect to  ({cluster.addresses[2]})'], raw

    ran = run_playbook(gexec_play(cluster.wrapper, f'{SUBNET}.[11-13]', 'hostname', allow_failures=True))
    assert not ran.failed, ran
    result = ran.task('Run it')
    statuses = {node['name']: node['status'] for node in result['results']}
    assert statuses == {cluster.addresses[0]: 'not_run', cluster.addresses[1]: 'unreachable',
                        cluster.addresses[2]: 'unreachable'}
    assert result['failed_nodes'] == cluster.addresses
    assert not result.changed

    strict = run_playbook(gexec_play(cluster.wrapper, cluster.addresses[:2], 'hostname', allow_failures=False))
    assert strict.rc != 0
    assert strict.task('Run it')['failed_nodes'] == cluster.addresses[:2]


def test_program_or_directory_missing_on_a_node(cluster_factory, run_playbook, tmp_path):
    keys = made_keys(run_playbook, tmp_path)
    # The program and a directory exist on the console (gexec resolves the path there) but the
    # nodes' gexecd sees that directory empty.
    only_here, program = console_only_program(tmp_path, 'hello',
                                              '#!/bin/sh\necho "hi from $GEXEC_MY_VNN $LD_ASSUME_KERNEL"\n')
    workdir = only_here / 'workdir'
    workdir.mkdir()
    cluster = cluster_factory(2)
    cluster.start_all(keys / 'auth_priv.pem', keys / 'auth_pub.pem', hide=only_here)

    raw = cluster.raw_gexec(str(program))
    assert raw.returncode == 0 and raw.stderr == '', raw
    assert sorted(raw.stdout.splitlines()) == [f'0 Could not exec {program}', f'1 Could not exec {program}'], raw

    plays = [{
        'name': 'Run', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [
            {'name': 'Run a program the nodes lack', 'cluster.netboot.gexec': {
                'nodes': cluster.addresses, 'command': [str(program)], 'gexec_path': str(cluster.wrapper),
                'allow_failures': True}},
            {'name': 'Run in a directory the nodes lack', 'cluster.netboot.gexec': {
                'nodes': cluster.addresses, 'command': ['/bin/true'], 'gexec_path': str(cluster.wrapper),
                'allow_failures': True, 'chdir': str(workdir)}},
            {'name': 'Pass the environment', 'cluster.netboot.gexec': {
                'nodes': cluster.addresses[0], 'gexec_path': str(cluster.wrapper),
                'command': ['/bin/sh', '-c', 'echo "$LD_ASSUME_KERNEL $GEXEC_SVRS"; env | grep -c ^CNB_MODULE_ONLY'],
                'environment': {'LD_ASSUME_KERNEL': '2.4.2'}},
             # The task keyword (not the module option): the module process has it, the nodes must not.
             'environment': {'CNB_MODULE_ONLY': 'not for the nodes'}},
        ],
    }]
    ran = run_playbook(plays)
    assert not ran.failed, ran
    lacking = ran.task('Run a program the nodes lack')
    assert [node['status'] for node in lacking['results']] == ['failed', 'failed']
    assert lacking['results'][0]['msg'] == f'Could not exec {program}'
    chdir = ran.task('Run in a directory the nodes lack')
    assert [node['status'] for node in chdir['results']] == ['failed', 'failed']
    assert chdir['results'][1]['msg'] == f'Could not chdir to {workdir}'
    environment = ran.task('Pass the environment')['results'][0]['output_lines']
    assert environment[0] == f'2.4.2 {cluster.addresses[0]}'
    # The job gets gexecd's own environment plus what gexec sent; the module's own must not leak.
    assert environment[1] == '0', environment


def test_output_without_newline_goes_to_the_right_node(cluster_factory, run_playbook, tmp_path):
    """Issue 20: the client prints a node's last words without a newline, and the next node's prefixed
    line follows on the same physical line. The module must still give every byte to its node, and a
    "Could not exec" that follows such words must not leave its node ok."""
    keys = made_keys(run_playbook, tmp_path)
    only_here, program = console_only_program(tmp_path, 'words', '#!/bin/sh\nprintf "partial-$GEXEC_MY_VNN"\n')
    cluster = cluster_factory(2)
    cluster.start_all(keys / 'auth_priv.pem', keys / 'auth_pub.pem')

    # The raw client: both nodes' words on one line, no newline anywhere.
    raw = cluster.raw_gexec('-p', 'vnn', '/bin/sh', '-c', 'printf "out-of-$GEXEC_MY_VNN"')
    assert raw.returncode == 0 and raw.stderr == '', raw
    assert raw.stdout in ('0 out-of-01 out-of-1', '1 out-of-10 out-of-0'), raw
    raw = cluster.raw_gexec('-p', 'vnn', '/bin/sh', '-c', 'printf "line1-$GEXEC_MY_VNN\\nlast-$GEXEC_MY_VNN"')
    assert raw.stdout.count('\n') == 2 and len(raw.stdout.splitlines()) == 3, raw

    long_text = 'x' * 5000 + 'END'
    plays = [{
        'name': 'Run', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [
            {'name': 'No newline', 'cluster.netboot.gexec': {
                'nodes': cluster.addresses, 'gexec_path': str(cluster.wrapper), 'allow_failures': False,
                'command': ['/bin/sh', '-c', 'printf "out-of-$GEXEC_MY_VNN"']}},
            {'name': 'Last line without newline', 'cluster.netboot.gexec': {
                'nodes': cluster.addresses, 'gexec_path': str(cluster.wrapper), 'allow_failures': False,
                'command': ['/bin/sh', '-c', 'printf "line1-$GEXEC_MY_VNN\\nlast-$GEXEC_MY_VNN"']}},
            {'name': 'A line longer than a chunk', 'cluster.netboot.gexec': {
                'nodes': cluster.addresses, 'gexec_path': str(cluster.wrapper), 'allow_failures': False,
                'command': ['/bin/sh', '-c', f'printf "{long_text}"; printf "$GEXEC_MY_VNN"']}},
        ],
    }]
    ran = run_playbook(plays)
    assert not ran.failed, ran
    outputs = [node['output'] for node in ran.task('No newline')['results']]
    assert outputs == ['out-of-0', 'out-of-1']
    outputs = [node['output'] for node in ran.task('Last line without newline')['results']]
    assert outputs == ['line1-0\nlast-0', 'line1-1\nlast-1']
    results = ran.task('A line longer than a chunk')['results']
    assert [node['output'] for node in results] == [long_text + '0', long_text + '1']
    assert [node['status'] for node in results] == ['ok', 'ok']

    # Node 0 runs the program (its last words without newline), node 1 lacks it: "Could not exec".
    cluster.start('gexecd1', cluster.nodes[1], cluster.binaries['gexecd'],
                  cluster.key_dir('node1-hidden', None, keys / 'auth_pub.pem'), hide=only_here)
    netns.wait_for(lambda: cluster.nodes[1].listening(2875, 'tcp'), timeout=10, what='gexecd in node 1')
    raw = cluster.raw_gexec('-p', 'vnn', str(program))
    assert sorted([raw.stdout.count('partial-0'), raw.stdout.count(f'1 Could not exec {program}')]) == [1, 1], raw
    ran = run_playbook(gexec_play(cluster.wrapper, cluster.addresses, [str(program)], allow_failures=True))
    assert not ran.failed, ran
    results = ran.task('Run it')['results']
    assert [(node['status'], node['output']) for node in results] == [
        ('ok', 'partial-0'), ('failed', f'Could not exec {program}\n')]
    assert ran.task('Run it')['failed_nodes'] == [cluster.addresses[1]]
