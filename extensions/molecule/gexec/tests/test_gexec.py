# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Testinfra checks for the gexec scenario (console + two nodes, after a key rotation)."""

from __future__ import annotations

import os
import re

import pytest
import testinfra

CONSOLE = 'cnb-gexec-console'
HOSTS = [CONSOLE, 'cnb-gexec-node1', 'cnb-gexec-node2']

# SHA-256 of the public key's DER, with the standard library only (the nodes have no cryptography).
FINGERPRINT = ("import base64,hashlib,re,sys; pem=open(sys.argv[1]).read(); "
               "body=re.search(r'-----BEGIN PUBLIC KEY-----(.*?)-----END PUBLIC KEY-----', pem, re.S).group(1); "
               "print(hashlib.sha256(base64.b64decode(''.join(body.split()))).hexdigest())")


def _host(name):
    return testinfra.get_host('ansible://%s?ansible_inventory=%s' % (name, os.environ['MOLECULE_INVENTORY_FILE']))


def fingerprint(host, path='/etc/auth_pub.pem'):
    result = host.run('python3 -c %s %s' % (_quote(FINGERPRINT), path))
    assert result.rc == 0, result.stderr
    return result.stdout.strip()


def _quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.fixture(scope='module')
def hosts():
    return {name: _host(name) for name in HOSTS}


def test_console_master_copy(hosts):
    console = hosts[CONSOLE]
    private = console.file('/etc/cluster-netboot/auth_priv.pem')
    assert private.mode == 0o600 and private.user == 'root' and private.group == 'root'
    assert private.content_string.startswith('-----BEGIN RSA PRIVATE KEY-----\n')
    # 512 bits: the only size authd from GEXEC 0.3.x can sign with.
    text = console.run('openssl rsa -in /etc/cluster-netboot/auth_priv.pem -noout -text').stdout
    assert re.search(r'Private-Key: \(512 bit', text), text
    assert console.file('/etc/cluster-netboot/auth_pub.pem').mode == 0o644


@pytest.mark.parametrize('name', HOSTS)
def test_keys_in_place_with_modes(hosts, name):
    host = hosts[name]
    private = host.file('/etc/auth_priv.pem')
    public = host.file('/etc/auth_pub.pem')
    assert private.mode == 0o600 and private.user == 'root'
    assert public.mode == 0o644 and public.user == 'root'
    assert private.sha256sum == hosts[CONSOLE].file('/etc/cluster-netboot/auth_priv.pem').sha256sum
    assert public.content_string.startswith('-----BEGIN PUBLIC KEY-----\n')


def test_fingerprints_equal_everywhere(hosts):
    console = fingerprint(hosts[CONSOLE], '/etc/cluster-netboot/auth_pub.pem')
    assert {name: fingerprint(hosts[name]) for name in HOSTS} == {name: console for name in HOSTS}
    # The same hex openssl prints, as the module documents.
    from_openssl = hosts[CONSOLE].run(
        'openssl pkey -pubin -in /etc/auth_pub.pem -outform DER | sha256sum').stdout.split()[0]
    assert from_openssl == console


def test_rotation_changed_every_key(hosts):
    before = {name: fingerprint(hosts[name], '/var/tmp/auth_pub.pem.before-rotation') for name in HOSTS}
    assert len(set(before.values())) == 1, before
    now = {name: fingerprint(hosts[name]) for name in HOSTS}
    for name in HOSTS:
        assert now[name] != before[name], name


@pytest.mark.parametrize('name', HOSTS)
def test_services_line_exactly_once(hosts, name):
    lines = hosts[name].file('/etc/services').content_string.splitlines()
    gexec_lines = [line for line in lines if re.match(r'gexec\s', line)]
    assert len(gexec_lines) == 1, gexec_lines
    assert gexec_lines[0].split()[:2] == ['gexec', '2875/tcp']


@pytest.mark.parametrize('name', HOSTS)
def test_units_written(hosts, name):
    assert hosts[name].file('/etc/systemd/system/gexec-authd.service').contains('ExecStart=/usr/local/sbin/authd')
    assert hosts[name].file('/etc/systemd/system/gexecd.service').contains('ExecStart=/usr/local/sbin/gexecd -P 2875')


def _daemons_installed(hosts):
    return all(hosts[name].file('/usr/local/sbin/gexecd').exists for name in HOSTS)


@pytest.mark.parametrize('name', HOSTS)
def test_daemons_running(hosts, name):
    if not _daemons_installed(hosts):
        pytest.skip('NOT TESTED: no GEXEC programs (CLUSTER_NETBOOT_GEXEC_BIN_DIR was not set); '
                    'the role did not start authd and gexecd')
    host = hosts[name]
    assert host.service('gexec-authd').is_running and host.service('gexec-authd').is_enabled
    assert host.service('gexecd').is_running and host.service('gexecd').is_enabled


def test_gexec_runs_with_the_rotated_key(hosts):
    if not _daemons_installed(hosts):
        pytest.skip('NOT TESTED: no GEXEC programs (CLUSTER_NETBOOT_GEXEC_BIN_DIR was not set)')
    console = hosts[CONSOLE]
    # gexec exits 0 whatever happens: the output is the proof.
    result = console.run('GEXEC_SVRS=localhost /usr/local/bin/gexec -n 0 -p vnn hostname')
    assert result.rc == 0
    assert result.stdout == '0 %s\n' % console.check_output('hostname'), (result.stdout, result.stderr)
    assert result.stderr == ''
