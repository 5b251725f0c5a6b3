# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The RSA keypair that GEXEC's authd signs with and gexecd verifies with.

Facts from GEXEC 0.3.x / authd 0.2.x that shape this file:

* authd reads the private key with ``PEM_read_RSAPrivateKey`` from
  ``/etc/auth_priv.pem`` and signs ``{uid, gid, valid_from, valid_to}`` with
  ``RSA_sign(NID_sha1, ...)`` into a fixed buffer of ``AUTH_RSA_SIGLEN`` = 64
  bytes, then asserts that the signature is exactly 64 bytes long. An RSA
  signature is as long as the modulus, so only a 512-bit key works: a
  2048-bit key overruns the buffer, authd aborts ("Assertion failed") and
  gexec prints "Could not obtain signature from authd on localhost".
* gexecd reads the public key with ``PEM_read_RSA_PUBKEY``, i.e. the
  SubjectPublicKeyInfo PEM (``BEGIN PUBLIC KEY``) that ``openssl rsa -pubout``
  writes, not the PKCS#1 ``BEGIN RSA PUBLIC KEY`` form.
* The ``cryptography`` library refuses to generate RSA keys under 1024 bits,
  so keys are generated with ``openssl genrsa`` and only loaded and checked
  with ``cryptography`` (which loads and serialises 512-bit keys fine).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.cluster.netboot.plugins.module_utils import _files
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError

try:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

# authd's signature buffer (AUTH_RSA_SIGLEN in auth.h): the modulus must be exactly this long.
AUTHD_SIGNATURE_BYTES = 64
AUTHD_KEY_BITS = AUTHD_SIGNATURE_BYTES * 8
# openssl genrsa refuses anything smaller.
MIN_KEY_BITS = 512

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644

TRADITIONAL_HEADER = b'-----BEGIN RSA PRIVATE KEY-----'
_PUBLIC_PEM = re.compile(rb'-----BEGIN PUBLIC KEY-----\s*(.*?)\s*-----END PUBLIC KEY-----', re.DOTALL)
_OPENSSL_VERSION = re.compile(r'^\s*OpenSSL\s+(\d+)\.(\d+)')

RunCommand = Callable[..., 'tuple[int, Any, Any]']


class AuthdKeyError(NetbootError):
    """A key file authd cannot use, or a key that cannot be made."""


def fingerprint_der(der: bytes) -> str:
    """SHA-256 of a DER blob as lower-case colon-separated hex (``ab:cd:...``, 32 bytes)."""
    return ':'.join('%02x' % byte for byte in hashlib.sha256(der).digest())


def public_pem_der(pem: bytes) -> bytes:
    """The DER (SubjectPublicKeyInfo) inside a ``BEGIN PUBLIC KEY`` PEM; stdlib only.

    Lets anything compare keys by fingerprint without the cryptography library:
    ``openssl pkey -pubin -in auth_pub.pem -outform DER | sha256sum`` gives the same hex.
    """
    match = _PUBLIC_PEM.search(pem)
    if match is None:
        raise AuthdKeyError('not a SubjectPublicKeyInfo PEM (no BEGIN PUBLIC KEY block)')
    try:
        return base64.b64decode(b''.join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        raise AuthdKeyError('the BEGIN PUBLIC KEY block is not valid base64') from None


def public_pem_fingerprint(pem: bytes) -> str:
    return fingerprint_der(public_pem_der(pem))


def _require_cryptography() -> None:
    if not HAS_CRYPTOGRAPHY:
        raise AuthdKeyError('the cryptography Python library is required on the host that holds the keypair')


@dataclass(frozen=True)
class PrivateKey:
    """A loaded RSA private key and the files authd and gexecd want for it."""

    bits: int
    # The key in the traditional PEM form (BEGIN RSA PRIVATE KEY) authd reads.
    traditional_pem: bytes = field(repr=False)
    public_pem: bytes
    fingerprint: str


def load_private(data: bytes, path: str) -> PrivateKey:
    """Parse a private key file; AuthdKeyError names the file and says what is wrong with it."""
    _require_cryptography()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise AuthdKeyError('%s is an encrypted private key; authd cannot read a passphrase' % path) from None
    except (ValueError, UnsupportedAlgorithm):
        # Never echo the file or the library's message: either may quote key material.
        raise AuthdKeyError('%s is not a PEM private key that can be read' % path) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise AuthdKeyError('%s holds a non-RSA private key; authd needs RSA' % path)
    traditional = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    public_der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return PrivateKey(bits=key.key_size, traditional_pem=traditional, public_pem=public_pem,
                      fingerprint=fingerprint_der(public_der))


def check_size(bits: int) -> None:
    if bits < MIN_KEY_BITS or bits % 8:
        raise AuthdKeyError('size must be a multiple of 8 and at least %d bits, got %d' % (MIN_KEY_BITS, bits))


def genrsa_needs_traditional_flag(version_output: str) -> bool:
    """OpenSSL 3 writes PKCS#8 (BEGIN PRIVATE KEY) unless told ``-traditional``; 1.x and LibreSSL
    write the traditional form by default and do not know the flag."""
    match = _OPENSSL_VERSION.match(version_output)
    return match is not None and int(match.group(1)) >= 3


def genrsa_argv(openssl: str, bits: int, version_output: str) -> list[str]:
    """The command that prints a new key on stdout: nothing of it ever touches the disk unprotected."""
    argv = [openssl, 'genrsa']
    if genrsa_needs_traditional_flag(version_output):
        argv.append('-traditional')
    argv.append(str(bits))
    return argv


def generate(run_command: RunCommand, openssl: str, bits: int) -> PrivateKey:
    """A new key from ``openssl genrsa`` (stdout, never a file), checked and in traditional form."""
    check_size(bits)
    rc, out, err = run_command([openssl, 'version'])
    if rc != 0:
        raise AuthdKeyError('%s version failed (rc=%d): %s' % (openssl, rc, _text(err).strip()))
    version = _text(out).strip()
    argv = genrsa_argv(openssl, bits, version)
    rc, out, err = run_command(argv, encoding=None)
    if rc != 0:
        raise AuthdKeyError('%s failed (rc=%d): %s' % (' '.join(argv), rc, _text(err).strip()[-500:]))
    key = load_private(out if isinstance(out, bytes) else out.encode('ascii'), 'the output of %s' % ' '.join(argv))
    if key.bits != bits:
        raise AuthdKeyError('%s made a %d-bit key, asked for %d' % (' '.join(argv), key.bits, bits))
    return key


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode('utf-8', errors='replace')
    return value or ''


@dataclass(frozen=True)
class FileInfo:
    exists: bool
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None


def file_info(path: str) -> FileInfo:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return FileInfo(exists=False)
    except OSError as exc:
        raise AuthdKeyError('cannot inspect %s: %s' % (path, exc)) from None
    if not stat.S_ISREG(info.st_mode):
        raise AuthdKeyError('%s exists and is not a regular file' % path)
    return FileInfo(exists=True, mode=stat.S_IMODE(info.st_mode), uid=info.st_uid, gid=info.st_gid)


@dataclass
class Plan:
    """What one run does to the pair; ``actions`` are human-readable and say nothing secret."""

    private_path: str
    public_path: str
    bits: int
    before_private: PrivateKey | None
    before_public_fingerprint: str | None
    # The key that will be on disk: None in check mode when a new one would be generated.
    after: PrivateKey | None
    generate: bool
    write_private: bool
    write_public: bool
    fix_private_attrs: bool
    fix_public_attrs: bool
    actions: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


def _wants_attrs(info: FileInfo, mode: int, owner: tuple[int, int] | None) -> bool:
    if not info.exists:
        return False
    if info.mode != mode:
        return True
    return owner is not None and (info.uid, info.gid) != owner


def plan(private_path: str, public_path: str, bits: int, regenerate: str,
         owner: tuple[int, int] | None) -> Plan:
    """Read both files and decide; raises AuthdKeyError for a private key authd cannot use."""
    check_size(bits)
    for path in (private_path, public_path):
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise AuthdKeyError('directory %s (for %s) does not exist' % (directory, path))
    if os.path.abspath(private_path) == os.path.abspath(public_path):
        raise AuthdKeyError('private_key and public_key are the same file %s' % private_path)

    private_info = file_info(private_path)
    public_info = file_info(public_path)
    before: PrivateKey | None = None
    broken: str | None = None
    data = b''
    if private_info.exists:
        try:
            data = _files.read_bytes(private_path) or b''
            before = load_private(data, private_path)
            if before.bits != bits:
                raise AuthdKeyError('%s is a %d-bit RSA key, size is %d (authd signs into a %d-byte buffer: '
                                    'use regenerate=always to replace it)'
                                    % (private_path, before.bits, bits, AUTHD_SIGNATURE_BYTES))
        except NetbootError as exc:
            if regenerate != 'always':
                raise AuthdKeyError(str(exc)) from None
            broken = str(exc)
            before = None
    public_data = _files.read_bytes(public_path) if public_info.exists else None
    before_public_fp = None
    if public_data is not None:
        try:
            before_public_fp = public_pem_fingerprint(public_data)
        except AuthdKeyError:
            before_public_fp = None

    actions: list[str] = []
    generate_new = regenerate == 'always' or before is None
    if generate_new or before is None:
        if not private_info.exists:
            actions.append('generate a %d-bit key: %s is missing' % (bits, private_path))
        elif broken is not None:
            actions.append('replace the unusable private key (%s)' % broken)
        else:
            actions.append('generate a new %d-bit key (regenerate=always)' % bits)
        after = None
        write_private = write_public = True
    else:
        after = before
        write_private = data != before.traditional_pem
        if write_private:
            actions.append('rewrite %s in the traditional form authd reads (BEGIN RSA PRIVATE KEY); same key' % private_path)
        write_public = public_data != before.public_pem
        if write_public:
            if public_data is None:
                actions.append('create %s from the private key' % public_path)
            elif before_public_fp != before.fingerprint:
                actions.append('recreate %s from the private key: it does not match it' % public_path)
            else:
                actions.append('rewrite %s as the SubjectPublicKeyInfo PEM openssl rsa -pubout writes' % public_path)
    fix_private = not write_private and _wants_attrs(private_info, PRIVATE_MODE, owner)
    fix_public = not write_public and _wants_attrs(public_info, PUBLIC_MODE, owner)
    if fix_private:
        actions.append('set mode 0600%s on %s' % (' and owner root' if owner else '', private_path))
    if fix_public:
        actions.append('set mode 0644%s on %s' % (' and owner root' if owner else '', public_path))
    return Plan(private_path=private_path, public_path=public_path, bits=bits, before_private=before,
                before_public_fingerprint=before_public_fp, after=after, generate=generate_new,
                write_private=write_private, write_public=write_public, fix_private_attrs=fix_private,
                fix_public_attrs=fix_public, actions=actions)


def _set_attrs(path: str, mode: int, owner: tuple[int, int] | None) -> None:
    if owner is not None:
        os.chown(path, owner[0], owner[1])
    os.chmod(path, mode)


def write_secret(module: Any, path: str, content: bytes, owner: tuple[int, int] | None) -> None:
    """Replace a private key file so that no one but its owner can read the key at any moment.

    The shared atomic write makes its temp file with mkstemp (0600) before any
    byte is written. module.atomic_move then gives the temp file the mode of
    the file it replaces, or, for a new file, 0666 & ~umask after the rename:
    the old file is tightened first and the umask is 077 while the move runs.
    """
    if os.path.lexists(path):
        _set_attrs(path, PRIVATE_MODE, owner)
    previous_umask = os.umask(0o077)
    try:
        _files.atomic_write(module, path, content, mode=PRIVATE_MODE)
    finally:
        os.umask(previous_umask)
    _set_attrs(path, PRIVATE_MODE, owner)


def apply(module: Any, the_plan: Plan, run_command: RunCommand, openssl: str | None,
          owner: tuple[int, int] | None) -> PrivateKey:
    """Carry the plan out: private key first, so that a crash leaves a pair the next run repairs."""
    key = the_plan.after
    if the_plan.generate:
        if not openssl or not os.access(openssl, os.X_OK):
            raise AuthdKeyError('the openssl command (%s) is needed to generate the key and was not found or is '
                                'not executable' % (openssl or 'openssl'))
        key = generate(run_command, openssl, the_plan.bits)
    if key is None:
        raise AuthdKeyError('no key to write for %s' % the_plan.private_path)
    if the_plan.write_private:
        write_secret(module, the_plan.private_path, key.traditional_pem, owner)
    elif the_plan.fix_private_attrs:
        _set_attrs(the_plan.private_path, PRIVATE_MODE, owner)
    if the_plan.write_public:
        _files.atomic_write(module, the_plan.public_path, key.public_pem, mode=PUBLIC_MODE)
        _set_attrs(the_plan.public_path, PUBLIC_MODE, owner)
    elif the_plan.fix_public_attrs:
        _set_attrs(the_plan.public_path, PUBLIC_MODE, owner)
    the_plan.after = key
    return key


def _describe(private_path: str, public_path: str, private: PrivateKey | None, private_exists: bool,
              public_fingerprint: str | None, public_exists: bool, pending: bool = False) -> str:
    if pending:
        return 'private_key: %s\n  a new key (fingerprint known after the run)\npublic_key: %s\n  from the new key\n' % (
            private_path, public_path)
    lines = ['private_key: %s' % private_path]
    if private is not None:
        lines.append('  RSA %d bit, fingerprint %s' % (private.bits, private.fingerprint))
    else:
        lines.append('  unusable' if private_exists else '  missing')
    lines.append('public_key: %s' % public_path)
    if public_fingerprint is not None:
        lines.append('  fingerprint %s' % public_fingerprint)
    else:
        lines.append('  unreadable' if public_exists else '  missing')
    return '\n'.join(lines) + '\n'


def diff(the_plan: Plan, private_existed: bool, public_existed: bool) -> dict[str, str]:
    """Fingerprints before and after; key material never appears."""
    before = _describe(the_plan.private_path, the_plan.public_path, the_plan.before_private, private_existed,
                       the_plan.before_public_fingerprint, public_existed)
    if the_plan.after is None:
        after = _describe(the_plan.private_path, the_plan.public_path, None, True, None, True, pending=True)
    else:
        after = _describe(the_plan.private_path, the_plan.public_path, the_plan.after, True,
                          the_plan.after.fingerprint, True)
    return _files.text_diff(before, after, 'authd keypair (before)', 'authd keypair (after)')


def actions_text(actions: Sequence[str]) -> str:
    return '; '.join(actions)
