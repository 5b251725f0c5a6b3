# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import json
import os
import stat
import textwrap

import pytest

from ansible_collections.cluster.netboot.plugins.modules import authd_keypair
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils import authd_test_keys as keys
from ansible_collections.cluster.netboot.tests.unit.plugins.modules.utils import run_module


@pytest.fixture
def fake_openssl(tmp_path):
    """An openssl that behaves like OpenSSL 3 (or 1.1.1): genrsa prints a fixed key on stdout."""
    tools = tmp_path / 'tools'
    tools.mkdir()

    def make(version='OpenSSL 3.0.22 25 Aug 2026', which='a'):
        key = keys.key512(which)
        (tools / 'traditional.pem').write_bytes(keys.traditional(key))
        (tools / 'pkcs8.pem').write_bytes(keys.pkcs8(key))
        script = tools / 'openssl'
        script.write_text(textwrap.dedent('''\
            #!/bin/sh
            echo "$@" >> {tools}/calls
            case "$1" in
              version) echo "{version}" ;;
              genrsa)
                case "$*" in
                  *-traditional*)
                    case "{version}" in OpenSSL\\ 3*) cat {tools}/traditional.pem ;;
                      *) echo "genrsa: Unrecognized flag traditional" >&2; exit 1 ;; esac ;;
                  *) case "{version}" in OpenSSL\\ 3*) cat {tools}/pkcs8.pem ;; *) cat {tools}/traditional.pem ;; esac ;;
                esac ;;
              *) exit 2 ;;
            esac
            ''').format(tools=tools, version=version))
        script.chmod(0o755)
        return str(script), key
    return make


def calls(tmp_path):
    path = tmp_path / 'tools' / 'calls'
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def keydir(tmp_path):
    directory = tmp_path / 'etc'
    directory.mkdir()
    return directory


def args(keydir, openssl, **extra):
    result = {'private_key': str(keydir / 'auth_priv.pem'), 'public_key': str(keydir / 'auth_pub.pem'),
              'openssl_path': openssl}
    result.update(extra)
    return result


def snapshot(directory):
    """Names, modes, inodes, mtimes and contents: equal means nothing was touched."""
    state = {}
    for name in sorted(os.listdir(directory)):
        info = os.lstat(directory / name)
        state[name] = (stat.S_IMODE(info.st_mode), info.st_ino, info.st_mtime_ns,
                       hashlib.sha256((directory / name).read_bytes()).hexdigest())
    return state


def fingerprint(key):
    return ':'.join('%02x' % byte for byte in hashlib.sha256(keys.public_der(key)).digest())


def test_creates_the_pair_authd_reads_then_keeps_it(keydir, fake_openssl, tmp_path):
    openssl, key = fake_openssl()
    ended = run_module(authd_keypair.main, args(keydir, openssl))
    assert not ended.failed, ended.result
    result = ended.result
    assert result['changed'] and result['generated']
    assert calls(tmp_path) == ['version', 'genrsa -traditional 512']

    private = keydir / 'auth_priv.pem'
    public = keydir / 'auth_pub.pem'
    assert private.read_bytes() == keys.traditional(key)
    assert private.read_bytes().startswith(b'-----BEGIN RSA PRIVATE KEY-----\n')
    assert public.read_bytes() == keys.public_pem(key)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    if os.geteuid() == 0:
        assert (private.stat().st_uid, private.stat().st_gid) == (0, 0)
    assert result['fingerprint'] == fingerprint(key)
    assert result['public_key'] == keys.public_pem(key).decode()
    assert sorted(os.listdir(keydir)) == ['auth_priv.pem', 'auth_pub.pem']
    # No key material anywhere in the result except the public key itself.
    dumped = json.dumps({k: v for k, v in result.items() if k != 'public_key'})
    assert 'PRIVATE' not in dumped and keys.traditional(key).decode().split('\n')[1] not in dumped

    before = snapshot(keydir)
    again = run_module(authd_keypair.main, args(keydir, openssl))
    assert not again.failed and not again.result['changed']
    assert again.result['fingerprint'] == fingerprint(key)
    assert snapshot(keydir) == before
    assert calls(tmp_path) == ['version', 'genrsa -traditional 512'], 'no openssl call on a valid pair'


def test_openssl_1_gets_no_traditional_flag(keydir, fake_openssl, tmp_path):
    openssl, key = fake_openssl(version='OpenSSL 1.1.1w  11 Sep 2023')
    ended = run_module(authd_keypair.main, args(keydir, openssl))
    assert not ended.failed, ended.result
    assert calls(tmp_path) == ['version', 'genrsa 512']
    assert (keydir / 'auth_priv.pem').read_bytes() == keys.traditional(key)


def test_check_mode_creates_nothing(keydir, fake_openssl, tmp_path):
    openssl, _key = fake_openssl()
    ended = run_module(authd_keypair.main, args(keydir, openssl), check_mode=True, diff=True)
    assert not ended.failed and ended.result['changed']
    assert ended.result['fingerprint'] is None and ended.result['public_key'] is None
    assert os.listdir(keydir) == []
    assert calls(tmp_path) == []
    assert 'a new key' in ended.result['diff']['after']


def test_missing_or_foreign_public_key_is_recreated_from_the_private_key(keydir, fake_openssl):
    openssl, _key = fake_openssl()
    mine = keys.key512('a')
    (keydir / 'auth_priv.pem').write_bytes(keys.traditional(mine))
    (keydir / 'auth_priv.pem').chmod(0o600)
    private_before = snapshot(keydir)['auth_priv.pem']

    ended = run_module(authd_keypair.main, args(keydir, openssl))
    assert not ended.failed and ended.result['changed'] and not ended.result['generated']
    assert (keydir / 'auth_pub.pem').read_bytes() == keys.public_pem(mine)

    (keydir / 'auth_pub.pem').write_bytes(keys.public_pem(keys.key512('b')))
    ended = run_module(authd_keypair.main, args(keydir, openssl), diff=True)
    assert not ended.failed and ended.result['changed']
    assert (keydir / 'auth_pub.pem').read_bytes() == keys.public_pem(mine)
    assert fingerprint(keys.key512('b')) in ended.result['diff']['before']
    assert fingerprint(mine) in ended.result['diff']['after']
    assert snapshot(keydir)['auth_priv.pem'] == private_before


def test_pkcs8_private_key_is_rewritten_traditional_same_key(keydir, fake_openssl):
    openssl, _key = fake_openssl()
    mine = keys.key512('b')
    (keydir / 'auth_priv.pem').write_bytes(keys.pkcs8(mine))
    (keydir / 'auth_pub.pem').write_bytes(keys.public_pem(mine))
    ended = run_module(authd_keypair.main, args(keydir, openssl))
    assert not ended.failed and ended.result['changed'] and not ended.result['generated']
    assert (keydir / 'auth_priv.pem').read_bytes() == keys.traditional(mine)
    assert ended.result['fingerprint'] == fingerprint(mine)
    assert stat.S_IMODE((keydir / 'auth_priv.pem').stat().st_mode) == 0o600


def test_loose_modes_are_tightened(keydir, fake_openssl):
    openssl, _key = fake_openssl()
    mine = keys.key512()
    (keydir / 'auth_priv.pem').write_bytes(keys.traditional(mine))
    (keydir / 'auth_priv.pem').chmod(0o644)
    (keydir / 'auth_pub.pem').write_bytes(keys.public_pem(mine))
    (keydir / 'auth_pub.pem').chmod(0o600)
    ended = run_module(authd_keypair.main, args(keydir, openssl))
    assert ended.result['changed'] and len(ended.result['actions']) == 2
    assert stat.S_IMODE((keydir / 'auth_priv.pem').stat().st_mode) == 0o600
    assert stat.S_IMODE((keydir / 'auth_pub.pem').stat().st_mode) == 0o644


@pytest.mark.parametrize('content, message', [
    (b'not a key at all\n', 'not a PEM private key'),
    (keys.encrypted(keys.key512()), 'encrypted'),
    (keys.traditional(keys.key2048()), '2048-bit RSA key, size is 512'),
])
def test_unusable_private_key_is_an_error_and_nothing_changes(keydir, fake_openssl, tmp_path, content, message):
    openssl, _key = fake_openssl()
    (keydir / 'auth_priv.pem').write_bytes(content)
    (keydir / 'auth_priv.pem').chmod(0o644)
    (keydir / 'auth_pub.pem').write_bytes(b'stale')
    before = snapshot(keydir)
    ended = run_module(authd_keypair.main, args(keydir, openssl))
    assert ended.failed and message in ended.result['msg']
    assert snapshot(keydir) == before
    assert calls(tmp_path) == []


def test_regenerate_always_rotates_and_replaces_an_unusable_key(keydir, fake_openssl, tmp_path):
    openssl, new = fake_openssl(which='b')
    (keydir / 'auth_priv.pem').write_bytes(keys.traditional(keys.key2048()))
    ended = run_module(authd_keypair.main, args(keydir, openssl, regenerate='always'), diff=True)
    assert not ended.failed and ended.result['changed'] and ended.result['generated']
    assert ended.result['fingerprint'] == fingerprint(new)
    assert (keydir / 'auth_priv.pem').read_bytes() == keys.traditional(new)

    # A valid pair is replaced too: every run with always makes a new key.
    ended = run_module(authd_keypair.main, args(keydir, openssl, regenerate='always'))
    assert ended.result['changed'] and ended.result['generated']
    assert calls(tmp_path).count('genrsa -traditional 512') == 2


def test_other_size_warns(keydir, fake_openssl, monkeypatch):
    warnings = []
    monkeypatch.setattr(authd_keypair.AnsibleModule, 'warn', lambda self, text: warnings.append(text))
    openssl, _key = fake_openssl()
    mine = keys.key2048()
    (keydir / 'auth_priv.pem').write_bytes(keys.traditional(mine))
    (keydir / 'auth_priv.pem').chmod(0o600)
    (keydir / 'auth_pub.pem').write_bytes(keys.public_pem(mine))
    ended = run_module(authd_keypair.main, args(keydir, openssl, size=2048))
    assert not ended.failed and not ended.result['changed']
    assert any('only works with 512-bit keys' in warning for warning in warnings)


def test_missing_openssl_is_a_clear_error(keydir, tmp_path):
    ended = run_module(authd_keypair.main, args(keydir, str(tmp_path / 'no-openssl')))
    assert ended.failed
    assert 'no-openssl' in ended.result['msg']
    assert os.listdir(keydir) == []
