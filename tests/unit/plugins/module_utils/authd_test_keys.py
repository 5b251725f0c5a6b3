# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""512-bit RSA keys for the authd tests, built from fixed primes.

cryptography will not generate keys under 1024 bits, and the tests must not
need the openssl command, so the keys are assembled from two published
256-bit primes each. They protect nothing.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

_PRIMES = {
    'a': (0xEC87E89408F6FEA1E5FF22A6976E7C9FB9AC18484A60497BD815D6E07D9ABAAB,
          0xC170DB06EA31EEBFBB29E2E60F41FB9A0A87AC2BE2F332B8D9B4FA2B84C3DC2B),
    'b': (0xE2C6A3AF50A94A6D1D49DFF5E6900AB9EA68E50914F673A18E6A9983E48B0AC1,
          0xD5C943450D797A6F27DD4F126CF2FEB9B46DEB86B77651D07D053DA996487905),
}


def key512(which: str = 'a') -> rsa.RSAPrivateKey:
    p, q = _PRIMES[which]
    e = 65537
    d = rsa.rsa_recover_private_exponent(e, p, q)
    numbers = rsa.RSAPrivateNumbers(p=p, q=q, d=d, dmp1=rsa.rsa_crt_dmp1(d, p), dmq1=rsa.rsa_crt_dmq1(d, q),
                                    iqmp=rsa.rsa_crt_iqmp(p, q), public_numbers=rsa.RSAPublicNumbers(e, p * q))
    return numbers.private_key()


def traditional(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def pkcs8(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def encrypted(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.BestAvailableEncryption(b'secret'))


def public_pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_der(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def pkcs1_public_pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)


def key2048() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())
