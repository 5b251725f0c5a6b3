#!/usr/bin/python
# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r'''
module: authd_keypair
short_description: Create or rotate the RSA keypair that GEXEC's authd and gexecd share
version_added: 0.1.0
description:
  - Makes the keypair every node of a GEXEC cluster shares (C(/etc/auth_priv.pem) and C(/etc/auth_pub.pem) on
    the nodes), in the form authd reads, on the host that holds the master copy (the console).
  - A missing pair is generated; an existing valid pair is kept (RV(ignore:changed=false)); O(regenerate=always)
    rotates it. A public key that is missing or does not match the private key is recreated from the private key.
  - "The key size matters: authd signs C({uid, gid, validity}) with RSA-SHA1 into a fixed 64-byte buffer
    (C(AUTH_RSA_SIGLEN)) and then asserts that the signature is 64 bytes long. An RSA signature is as long as
    the modulus, so only a 512-bit key works with authd from GEXEC 0.3.x; with a 2048-bit key authd aborts and
    C(gexec) prints C(Could not obtain signature from authd on localhost). Other sizes get a warning."
  - The C(cryptography) library refuses to generate RSA keys under 1024 bits, so the key is generated with
    C(openssl genrsa), read from its standard output (it never lands in a file the module did not protect),
    and loaded and checked with C(cryptography). OpenSSL 3 writes PKCS#8 unless given C(-traditional), which
    OpenSSL 1.x and LibreSSL do not know; the module asks C(openssl version) and passes the flag only to OpenSSL
    3 and later. Whatever comes out is stored in the traditional C(BEGIN RSA PRIVATE KEY) form.
  - An existing private key file that cannot be read, is encrypted, is not RSA or has another size than O(size)
    is an error and nothing is changed, unless O(regenerate=always), which replaces it. A valid key of the right
    size in another PEM form (PKCS#8) is rewritten in the traditional form; it stays the same key.
  - The private key gets mode C(0600), the public key C(0644); both are owned by root when the module runs as
    root. The private key is written to a temporary file that is C(0600) before any byte is written and renamed
    over the old file; the old file is tightened to C(0600) first.
  - Key material never appears in the module's output, its diff or its error messages; the private key is
    never returned. The public key PEM is returned (it is not secret).
  - Concurrent runs on the same directory are serialised with a lock on the directory.
author:
  - cluster.netboot contributors (!UNKNOWN)
extends_documentation_fragment:
  - cluster.netboot.attributes
  - cluster.netboot.attributes.platform
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
requirements:
  - cryptography (Python library) on the host that holds the keypair
  - the C(openssl) command there, when a key has to be generated
options:
  private_key:
    description:
      - Path of the private key file. Its directory must exist.
    type: path
    required: true
  public_key:
    description:
      - Path of the public key file (SubjectPublicKeyInfo PEM, C(BEGIN PUBLIC KEY), as C(openssl rsa -pubout)
        writes it). Its directory must exist.
    type: path
    required: true
  size:
    description:
      - RSA modulus size in bits. Keep V(512) for authd from GEXEC 0.3.x (see the description); a different size
        only makes sense for an authd rebuilt with another C(AUTH_RSA_SIGLEN).
    type: int
    default: 512
  regenerate:
    description:
      - V(never) keeps a valid existing pair (and fails on an unusable private key); V(always) makes a new key on
        every run (rotation), replacing whatever is there.
    type: str
    choices: [never, always]
    default: never
  openssl_path:
    description:
      - The C(openssl) command used to generate keys. By default it is looked up in C(PATH).
    type: path
notes:
  - In check mode a key that would be generated is not generated, so RV(fingerprint) and RV(public_key) are
    V(null) then.
  - The fingerprint is the SHA-256 of the public key's DER (SubjectPublicKeyInfo) in lower-case colon hex. On a
    node, C(openssl pkey -pubin -in /etc/auth_pub.pem -outform DER | sha256sum) prints the same hex without colons.
seealso:
  - module: cluster.netboot.gexec
'''

EXAMPLES = r'''
- name: Make the cluster's authd keypair on the console
  cluster.netboot.authd_keypair:
    private_key: /etc/cluster-netboot/auth_priv.pem
    public_key: /etc/cluster-netboot/auth_pub.pem
  register: gexec_pair

- name: Show the fingerprint the nodes must have
  ansible.builtin.debug:
    msg: "{{ gexec_pair.fingerprint }}"

- name: Rotate the keypair (then distribute it again, see playbooks/rotate_gexec_keys.yml)
  cluster.netboot.authd_keypair:
    private_key: /etc/cluster-netboot/auth_priv.pem
    public_key: /etc/cluster-netboot/auth_pub.pem
    regenerate: always
'''

RETURN = r'''
fingerprint:
  description:
    - SHA-256 of the public key's DER (SubjectPublicKeyInfo), lower-case colon-separated hex.
    - V(null) in check mode when a new key would be generated.
  returned: always
  type: str
  sample: "3f:1c:9a:...:e0"
public_key:
  description:
    - The public key PEM (C(BEGIN PUBLIC KEY)) now in O(public_key).
    - V(null) in check mode when a new key would be generated.
  returned: always
  type: str
  sample: "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAL...\n-----END PUBLIC KEY-----\n"
size:
  description: The key size in bits.
  returned: always
  type: int
  sample: 512
generated:
  description: Whether a new private key was (or in check mode, would be) generated.
  returned: always
  type: bool
  sample: false
actions:
  description: What was (or in check mode, would be) done, in words; empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample: ["generate a 512-bit key: /etc/cluster-netboot/auth_priv.pem is missing"]
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cluster.netboot.plugins.module_utils import _authd, _files
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            private_key=dict(type='path', required=True),
            public_key=dict(type='path', required=True),
            size=dict(type='int', default=_authd.AUTHD_KEY_BITS),
            regenerate=dict(type='str', choices=['never', 'always'], default='never'),
            openssl_path=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not _authd.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=_authd.CRYPTOGRAPHY_IMPORT_ERROR)
    if params['size'] != _authd.AUTHD_KEY_BITS:
        module.warn('authd from GEXEC 0.3.x only works with %d-bit keys (it signs into a %d-byte buffer); '
                    'size=%d is for a rebuilt authd' % (_authd.AUTHD_KEY_BITS, _authd.AUTHD_SIGNATURE_BYTES, params['size']))
    owner = (0, 0) if os.geteuid() == 0 else None
    private_path, public_path = params['private_key'], params['public_key']
    try:
        private_existed = os.path.lexists(private_path)
        public_existed = os.path.lexists(public_path)
        with _files.locked_directory(os.path.dirname(os.path.abspath(private_path))):
            plan = _authd.plan(private_path, public_path, params['size'], params['regenerate'], owner)
            if plan.changed and not module.check_mode:
                openssl = params['openssl_path'] or module.get_bin_path('openssl')
                _authd.apply(module, plan, module.run_command, openssl, owner)
    except NetbootError as exc:
        module.fail_json(msg=str(exc))
    after = plan.after
    result = dict(
        changed=plan.changed,
        fingerprint=after.fingerprint if after else None,
        public_key=after.public_pem.decode('ascii') if after else None,
        size=params['size'],
        generated=plan.generate,
        actions=plan.actions,
    )
    if module._diff:
        result['diff'] = _authd.diff(plan, private_existed, public_existed)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
