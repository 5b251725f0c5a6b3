# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import os
import shutil
import stat

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _authd
from ansible_collections.cluster.netboot.tests.unit.plugins.module_utils import authd_test_keys as keys


def test_fingerprint_is_sha256_of_the_der_in_colon_hex():
    key = keys.key512()
    expected = hashlib.sha256(keys.public_der(key)).hexdigest()
    fingerprint = _authd.fingerprint_der(keys.public_der(key))
    assert fingerprint.replace(':', '') == expected
    assert len(fingerprint.split(':')) == 32


def test_public_pem_fingerprint_needs_no_crypto_library_and_ignores_wrapping():
    key = keys.key512()
    pem = keys.public_pem(key)
    rewrapped = pem.replace(b'\n', b'\n\n', 2) + b'trailing text\n'
    assert _authd.public_pem_fingerprint(rewrapped) == _authd.fingerprint_der(keys.public_der(key))


@pytest.mark.parametrize('pem, message', [
    (b'no pem here', 'no BEGIN PUBLIC KEY'),
    (b'-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n', 'not valid base64'),
])
def test_public_pem_der_rejects_what_gexecd_cannot_read(pem, message):
    with pytest.raises(_authd.AuthdKeyError, match=message):
        _authd.public_pem_der(pem)


def test_pkcs1_public_key_is_not_what_gexecd_reads():
    with pytest.raises(_authd.AuthdKeyError):
        _authd.public_pem_der(keys.pkcs1_public_pem(keys.key512()))


@pytest.mark.parametrize('version, flag', [
    ('OpenSSL 3.0.22 25 Aug 2026 (Library: OpenSSL 3.0.22 25 Aug 2026)', True),
    ('OpenSSL 3.5.0 8 Apr 2025 (Library: OpenSSL 3.5.0 8 Apr 2025)', True),
    ('OpenSSL 1.1.1w  11 Sep 2023', False),
    ('OpenSSL 1.0.2k-fips  26 Jan 2017', False),
    ('OpenSSL 0.9.8e-fips-rhel5 01 Jul 2008', False),
    ('LibreSSL 3.8.2', False),
    ('', False),
])
def test_traditional_flag_only_for_openssl_3(version, flag):
    assert _authd.genrsa_needs_traditional_flag(version) is flag
    argv = _authd.genrsa_argv('/usr/bin/openssl', 512, version)
    assert argv == ['/usr/bin/openssl', 'genrsa'] + (['-traditional'] if flag else []) + ['512']


def test_load_private_traditional_and_pkcs8_give_the_same_traditional_form():
    key = keys.key512()
    from_traditional = _authd.load_private(keys.traditional(key), 'k')
    from_pkcs8 = _authd.load_private(keys.pkcs8(key), 'k')
    assert from_traditional == from_pkcs8
    assert from_traditional.bits == 512
    assert from_traditional.traditional_pem.startswith(_authd.TRADITIONAL_HEADER)
    assert from_traditional.public_pem == keys.public_pem(key)
    assert from_traditional.public_pem.startswith(b'-----BEGIN PUBLIC KEY-----')
    # The private key never shows in the repr (tracebacks, debug output).
    assert b'PRIVATE' not in repr(from_traditional).encode()


@pytest.mark.parametrize('content, message', [
    (b'garbage\n', 'not a PEM private key'),
    (keys.encrypted(keys.key512()), 'encrypted'),
    (keys.public_pem(keys.key512()), 'not a PEM private key'),
])
def test_load_private_errors_name_the_file_and_never_its_content(content, message):
    with pytest.raises(_authd.AuthdKeyError, match=message) as raised:
        _authd.load_private(content, '/etc/auth_priv.pem')
    assert '/etc/auth_priv.pem' in str(raised.value)
    assert 'MII' not in str(raised.value)


def test_load_private_rejects_a_non_rsa_key():
    from cryptography.hazmat.primitives import serialization
    ec_pem = keys.ec_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    with pytest.raises(_authd.AuthdKeyError, match='non-RSA'):
        _authd.load_private(ec_pem, 'k')


@pytest.mark.parametrize('bits', [256, 511, 521])
def test_sizes_openssl_cannot_make_are_refused(bits):
    with pytest.raises(_authd.AuthdKeyError, match='multiple of 8'):
        _authd.check_size(bits)


class FakeRun:
    """module.run_command stand-in that plays an OpenSSL of a given version."""

    def __init__(self, version='OpenSSL 3.0.22 25 Aug 2026', key=None, genrsa_rc=0):
        self.version = version
        self.key = key or keys.key512()
        self.genrsa_rc = genrsa_rc
        self.calls = []

    def __call__(self, argv, encoding='utf-8'):
        self.calls.append((list(argv), encoding))
        if argv[1] == 'version':
            return 0, self.version + '\n', ''
        if self.genrsa_rc:
            return self.genrsa_rc, b'', b'genrsa: boom\n'
        if '-traditional' in argv:
            return 0, keys.traditional(self.key), b'.....+++\n'
        # OpenSSL 3 without the flag writes PKCS#8.
        return 0, (keys.pkcs8(self.key) if self.version.startswith('OpenSSL 3') else keys.traditional(self.key)), b''


def test_generate_reads_the_key_from_stdout_and_stores_traditional():
    run = FakeRun()
    made = _authd.generate(run, '/usr/bin/openssl', 512)
    assert run.calls[1] == (['/usr/bin/openssl', 'genrsa', '-traditional', '512'], None)
    assert made.traditional_pem == keys.traditional(run.key)


def test_generate_converts_pkcs8_output_of_an_unknown_openssl():
    key = keys.key512()

    def pkcs8_always(argv, encoding='utf-8'):
        if argv[1] == 'version':
            return 0, 'SomeSSL 9\n', ''
        assert '-traditional' not in argv
        return 0, keys.pkcs8(key), b''
    made = _authd.generate(pkcs8_always, 'openssl', 512)
    assert made.traditional_pem == keys.traditional(key)


def test_generate_reports_openssl_failure_and_wrong_size():
    with pytest.raises(_authd.AuthdKeyError, match='rc=1'):
        _authd.generate(FakeRun(genrsa_rc=1), 'openssl', 512)
    with pytest.raises(_authd.AuthdKeyError, match='made a 2048-bit key'):
        _authd.generate(FakeRun(key=keys.key2048()), 'openssl', 512)


def write(path, content, mode):
    path.write_bytes(content)
    path.chmod(mode)


def test_plan_keeps_a_valid_pair(tmp_path):
    key = keys.key512()
    write(tmp_path / 'priv', keys.traditional(key), 0o600)
    write(tmp_path / 'pub', keys.public_pem(key), 0o644)
    plan = _authd.plan(str(tmp_path / 'priv'), str(tmp_path / 'pub'), 512, 'never', None)
    assert not plan.changed and not plan.generate
    assert plan.after.fingerprint == _authd.fingerprint_der(keys.public_der(key))


def test_plan_recreates_a_public_key_of_another_pair(tmp_path):
    write(tmp_path / 'priv', keys.traditional(keys.key512('a')), 0o600)
    write(tmp_path / 'pub', keys.public_pem(keys.key512('b')), 0o644)
    plan = _authd.plan(str(tmp_path / 'priv'), str(tmp_path / 'pub'), 512, 'never', None)
    assert plan.write_public and not plan.write_private and not plan.generate
    assert 'does not match' in plan.actions[0]


def test_plan_refuses_a_key_of_another_size_unless_always(tmp_path):
    write(tmp_path / 'priv', keys.traditional(keys.key2048()), 0o600)
    with pytest.raises(_authd.AuthdKeyError, match='2048-bit RSA key, size is 512'):
        _authd.plan(str(tmp_path / 'priv'), str(tmp_path / 'pub'), 512, 'never', None)
    plan = _authd.plan(str(tmp_path / 'priv'), str(tmp_path / 'pub'), 512, 'always', None)
    assert plan.generate and plan.write_private and plan.write_public
    assert 'replace the unusable private key' in plan.actions[0]


def test_plan_refuses_a_directory_or_missing_parent(tmp_path):
    (tmp_path / 'priv').mkdir()
    with pytest.raises(_authd.AuthdKeyError, match='not a regular file'):
        _authd.plan(str(tmp_path / 'priv'), str(tmp_path / 'pub'), 512, 'never', None)
    with pytest.raises(_authd.AuthdKeyError, match='does not exist'):
        _authd.plan(str(tmp_path / 'nope' / 'priv'), str(tmp_path / 'pub'), 512, 'never', None)
    with pytest.raises(_authd.AuthdKeyError, match='same file'):
        _authd.plan(str(tmp_path / 'k'), str(tmp_path / 'k'), 512, 'never', None)


class RecordingModule:
    """atomic_move like AnsibleModule's: copies the old file's mode, or 0666 & ~umask for a new one.

    Records the mode of the temp file and of the destination right after the move.
    """

    def __init__(self):
        self.moves = []

    def atomic_move(self, src, dest, unsafe_writes=False):
        creating = not os.path.exists(dest)
        src_mode_before = stat.S_IMODE(os.stat(src).st_mode)
        if not creating:
            os.chmod(src, stat.S_IMODE(os.stat(dest).st_mode))
        shutil.move(src, dest)
        if creating:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(dest, 0o666 & ~umask)
        self.moves.append((dest, src_mode_before, stat.S_IMODE(os.stat(dest).st_mode)))


@pytest.mark.parametrize('existing_mode', [None, 0o644])
def test_secret_write_is_never_readable_by_others(tmp_path, existing_mode):
    path = tmp_path / 'auth_priv.pem'
    if existing_mode is not None:
        write(path, b'old key', existing_mode)
    module = RecordingModule()
    old_umask = os.umask(0o022)
    try:
        _authd.write_secret(module, str(path), keys.traditional(keys.key512()), None)
        assert os.umask(0o022) == 0o022, 'the umask must be restored'
    finally:
        os.umask(old_umask)
    [(dest, temp_mode, dest_mode_after_move)] = module.moves
    assert temp_mode == 0o600
    assert dest_mode_after_move == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ['auth_priv.pem']


def test_diff_shows_fingerprints_only(tmp_path):
    key = keys.key512()
    write(tmp_path / 'priv', keys.traditional(key), 0o600)
    plan = _authd.plan(str(tmp_path / 'priv'), str(tmp_path / 'pub'), 512, 'never', None)
    diff = _authd.diff(plan, True, False)
    fingerprint = _authd.fingerprint_der(keys.public_der(key))
    assert fingerprint in diff['before'] and fingerprint in diff['after']
    assert 'missing' in diff['before']
    body = keys.public_pem(key).split(b'\n')[1].decode()
    for text in (diff['before'], diff['after']):
        assert 'PRIVATE' not in text and 'PUBLIC KEY-----' not in text and body not in text


@pytest.mark.skipif(shutil.which('openssl') is None, reason='the openssl command is not installed')
def test_public_pem_is_byte_for_byte_what_openssl_rsa_pubout_writes(tmp_path):
    import subprocess
    key = keys.key512('b')
    (tmp_path / 'priv.pem').write_bytes(keys.traditional(key))
    written = subprocess.run(['openssl', 'rsa', '-in', str(tmp_path / 'priv.pem'), '-pubout'],
                             capture_output=True, check=True).stdout
    assert _authd.load_private(keys.traditional(key), 'k').public_pem == written


@pytest.mark.skipif(shutil.which('openssl') is None, reason='the openssl command is not installed')
def test_a_pair_made_by_hand_with_openssl_is_kept(tmp_path):
    """The seed's commands (with today's size fix): genrsa 512, then rsa -pubout."""
    import subprocess
    version = subprocess.run(['openssl', 'version'], capture_output=True, text=True, check=True).stdout
    subprocess.run(_authd.genrsa_argv('openssl', 512, version)[:-1] + ['-out', str(tmp_path / 'priv'), '512'],
                   capture_output=True, check=True)
    subprocess.run(['openssl', 'rsa', '-in', str(tmp_path / 'priv'), '-pubout', '-out', str(tmp_path / 'pub')],
                   capture_output=True, check=True)
    (tmp_path / 'priv').chmod(0o600)
    (tmp_path / 'pub').chmod(0o644)
    plan = _authd.plan(str(tmp_path / 'priv'), str(tmp_path / 'pub'), 512, 'never', None)
    assert not plan.changed, plan.actions
