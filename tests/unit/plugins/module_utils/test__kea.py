# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _hosts as hostlib
from ansible_collections.cluster.netboot.plugins.module_utils import _kea as kea
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError
from ansible_collections.cluster.netboot.plugins.module_utils._nodes import NodeListError, from_list

REAL_KEA = shutil.which('kea-dhcp4') or ('/usr/sbin/kea-dhcp4' if os.access('/usr/sbin/kea-dhcp4', os.X_OK) else None)


def hosts(*items):
    return from_list(list(items), hostlib.HOST_FIELDS, label='hosts')


def host(name, mac, ip, **extra):
    return dict(name=name, mac=mac, ip=ip, **extra)


def records(*items):
    return [kea.canonical(record) for record in hostlib.plan_hosts([], hosts(*items)).records]


# --- Kea's JSON dialect ---------------------------------------------------------

def test_comments_go_strings_stay_and_lines_are_kept():
    text = ('{ # hash\n  "a": "x // not a comment # nor this /* nor */",  // slashes\n'
            '  /* block\n spanning */ "b": 1 }\n')
    stripped = kea.strip_comments(text)
    assert json.loads(stripped) == {'a': 'x // not a comment # nor this /* nor */', 'b': 1}
    assert stripped.count('\n') == text.count('\n')


# --- the reservations file ---------------------------------------------------------

def test_render_is_sorted_one_line_each_and_reads_back():
    wanted = records(host('node10', '00-0D-B9-0A-12-3A', '10.18.1.100'),
                     host('node2', '000d.b90a.1232', '10.18.1.9', hostname='node2.sb8', filename='efi64/syslinux.efi',
                          next_server='10.18.0.1'),
                     host('node3', '00:0d:b9:0a:12:33', '10.18.1.10', hostname='node3'))
    text = kea.render_reservations(wanted).decode()
    assert text.splitlines()[2:] == [
        '[',
        '{"hw-address": "00:0d:b9:0a:12:32", "ip-address": "10.18.1.9", "hostname": "node2.sb8", '
        '"next-server": "10.18.0.1", "boot-file-name": "efi64/syslinux.efi", "user-context": {"name": "node2"}},',
        '{"hw-address": "00:0d:b9:0a:12:33", "ip-address": "10.18.1.10", "hostname": "node3"},',
        '{"hw-address": "00:0d:b9:0a:12:3a", "ip-address": "10.18.1.100", "hostname": "node10"}',
        ']']
    parsed = kea.parse_reservations(text, 'r.json')
    assert sorted((r.name, r.mac, r.ip, dict(r.extra)) for r in parsed) == sorted((r.name, r.mac, r.ip, dict(r.extra)) for r in wanted)
    assert parsed[0].origin == 'r.json entry 1'
    assert kea.render_reservations(hostlib.plan_hosts(parsed, wanted).records).decode() == text
    assert kea.render_reservations([]) == (kea.HEADER + '[\n]\n').encode()
    assert kea.parse_reservations('[]', 'r.json') == [] and kea.parse_reservations('', 'r.json') == []


@pytest.mark.parametrize('text, message', [
    ('{}', r'r.json: expected a JSON list'),
    ('[1]', r'r.json entry 1: expected a reservation'),
    ('[{"hw-address": "00:0d:b9:0a:12:34", "ip-address": "10.0.0.1", "hostname": "a", "client-classes": ["x"]}]',
     r'entry 1: client-classes not written by this module'),
    ('[{"hw-address": "00:0d:b9:0a:12:34", "ip-address": "10.0.0.1"}]', r'entry 1: needs hostname'),
    ('[{"hw-address": "00:0d:b9:0a:12:34", "ip-address": "10.0.0.1", "hostname": "a", "user-context": {"x": 1}}]',
     r'user-context must be'),
    ('[{"hw-address": "zz", "ip-address": "10.0.0.1", "hostname": "a"}]', r'entry 1: invalid MAC'),
    ('[{"hw-address": "00:0d:b9:0a:12:34", "ip-address": 7, "hostname": "a"}]', r'every value must be a string'),
    ('[{"hw-address": "00:0d:b9:0a:12:34", "ip-address": "10.0.0.1", "hostname": "a;b"}]', r'is not a valid host name'),
    ('[{"hw-address": "00:0d:b9:0a:12:34", "ip-address": "10.0.0.1", "hostname": "a"},\n'
     ' {"hw-address": "00:0d:b9:0a:12:35", "ip-address": "10.0.0.1", "hostname": "b"}]',
     r'duplicate ip 10.0.0.1: a \(r.json entry 1\) and b \(r.json entry 2\)'),
    ('[{"hw-address": "00:0d:b9:0a:12:34",]', r'not valid Kea JSON'),
])
def test_parse_refuses_what_it_did_not_write(text, message):
    with pytest.raises(NetbootError, match=message):
        kea.parse_reservations(text, 'r.json')


@pytest.mark.parametrize('field, value', [
    ('name', 'a"b'), ('name', 'a\\b'), ('name', 'a<?include'), ('hostname', 'x"}, {"y'), ('filename', 'a"b'),
    ('filename', 'a\\u0022'), ('filename', 'a\nb'), ('filename', 'é'),
])
def test_values_that_could_break_the_json_are_refused(field, value):
    item = host('a', '00:0d:b9:0a:12:34', '10.0.0.1')
    item[field] = value
    with pytest.raises((hostlib.HostsError, NodeListError)):
        hostlib.plan_hosts([], hosts(item))


# --- the main configuration --------------------------------------------------------

MAIN = '''{
  # the operator's configuration
  "Dhcp4": {
    "control-socket": {"socket-type": "unix", "socket-name": "%(dir)s/kea.sock"},
    "reservations-global": true,
    "reservations": <?include "%(dir)s/reservations.json"?>,
    "subnet4": [
      {"id": 1, "subnet": "10.18.0.0/16",
       "reservations": [{"hw-address": "02:00:00:00:00:99", "ip-address": "10.18.9.9", "hostname": "byhand"}]},
      {"id": 2, "subnet": "10.19.0.0/24", "reservations-global": false}
    ],
    "shared-networks": [{"name": "lab", "subnet4": [{"id": 3, "subnet": "192.168.7.0/25"}]}]
  }
}
'''


@pytest.fixture
def etc(tmp_path):
    (tmp_path / 'kea-dhcp4.conf').write_text(MAIN % {'dir': tmp_path})
    (tmp_path / 'reservations.json').write_text('[]\n')
    return tmp_path


def test_read_config_finds_scope_networks_socket_and_other_reservations(etc):
    config = kea.read_config(str(etc / 'kea-dhcp4.conf'), str(etc / 'reservations.json'))
    assert config.scope == 'Dhcp4'
    # reservations-global false in 10.19.0.0/24: Kea would not use a global reservation there.
    assert config.networks == ['10.18.0.0/16', '192.168.7.0/25']
    assert config.socket == str(etc / 'kea.sock')
    (other,) = config.others
    assert (other.name, other.mac, other.ip, other.origin) == (
        'byhand', '02:00:00:00:00:99', '10.18.9.9', 'subnet 10.18.0.0/16 reservations[0]')
    with pytest.raises(NodeListError, match=r'duplicate ip 10.18.9.9: byhand \(subnet 10.18.0.0/16 reservations\[0\]\) and n'):
        kea.check_others(config, records(host('n', '02:00:00:00:00:01', '10.18.9.9')))


def test_include_in_a_subnet_scopes_the_reservations_to_it(etc):
    text = MAIN % {'dir': etc}
    text = text.replace('"reservations": <?include "%s/reservations.json"?>,' % etc, '"reservations": [],')
    text = text.replace('"reservations-global": false', '"reservations": <?include "%s/reservations.json"?>' % etc)
    (etc / 'kea-dhcp4.conf').write_text(text)
    config = kea.read_config(str(etc / 'kea-dhcp4.conf'), str(etc / 'reservations.json'))
    assert (config.scope, config.networks, len(config.others)) == ('10.19.0.0/24', ['10.19.0.0/24'], 1)


def test_nested_includes_are_followed(etc):
    (etc / 'subnets.json').write_text('[{"id": 1, "subnet": "10.30.0.0/16"}] // more\n')
    text = MAIN % {'dir': etc}
    start = text.index('"subnet4": [')
    end = text.index('"shared-networks"')
    (etc / 'kea-dhcp4.conf').write_text(text[:start] + '"subnet4": <?include "%s/subnets.json"?>,\n' % etc + text[end:])
    config = kea.read_config(str(etc / 'kea-dhcp4.conf'), str(etc / 'reservations.json'))
    assert config.networks == ['10.30.0.0/16', '192.168.7.0/25']


@pytest.mark.parametrize('change, message', [
    (lambda t, d: t.replace('<?include "%s/reservations.json"?>' % d, '[]'), r'has no <\?include ".*reservations.json"\?>'),
    (lambda t, d: t.replace('"reservations-global": true,', '"x": <?include "%s/reservations.json"?>,' % d),
     r'has more than one'),
    (lambda t, d: t.replace('"reservations-global": true,', ''), r'Kea ignores global reservations'),
    (lambda t, d: t.replace('"reservations-global": true,', '"reservation-mode": "global",'), None),
    (lambda t, d: t.replace('"reservations": <?include', '"x": <?include'), r'must be the value of "reservations"'),
    (lambda t, d: t.replace('"Dhcp4"', '"Dhcp6"'), r'has no Dhcp4 section'),
    (lambda t, d: t.replace('10.19.0.0/24', '10.19.0.1/24'), r'subnet4: invalid IPv4 network'),
    (lambda t, d: t.replace('"Dhcp4": {', '"Dhcp4": {,'), r'not valid Kea JSON'),
])
def test_read_config_refuses_what_would_not_work(etc, change, message):
    (etc / 'kea-dhcp4.conf').write_text(change(MAIN % {'dir': etc}, etc))
    if message is None:
        assert kea.read_config(str(etc / 'kea-dhcp4.conf'), str(etc / 'reservations.json')).networks
        return
    with pytest.raises(kea.KeaError, match=message):
        kea.read_config(str(etc / 'kea-dhcp4.conf'), str(etc / 'reservations.json'))


def test_point_include_rewrites_only_the_directive():
    text = '{"a": "<?include \\"/etc/kea/r.json\\"?>", # <?include "/etc/kea/r.json"?>\n "r": <?include "/etc/kea/./r.json"?>}'
    assert kea.point_include(text, 'k.conf', '/etc/kea/r.json', '/etc/kea/.tmp') == text.replace(
        '<?include "/etc/kea/./r.json"?>', '<?include "/etc/kea/.tmp"?>')
    with pytest.raises(kea.KeaError, match=r'k.conf has no <\?include "/etc/kea/x.json"\?>'):
        kea.point_include(text, 'k.conf', '/etc/kea/x.json', '/etc/kea/.tmp')


# --- kea-dhcp4 -t ---------------------------------------------------------------------

class FakeKea:
    def __init__(self, rc=0, out=''):
        self.rc, self.out, self.seen = rc, out, []

    def __call__(self, argv, cwd=None):
        assert argv[1] == '-t' and cwd == '/'
        with open(argv[2]) as handle:
            config = handle.read()
        candidate = config.split('<?include "')[1].split('"')[0]
        with open(candidate) as handle:
            self.seen.append(handle.read())
        return self.rc, self.out.replace('CONFIG', argv[2]).replace('CANDIDATE', candidate), ''


def test_check_candidate_shows_kea_its_own_message_with_real_names(etc):
    fake = FakeKea(rc=1, out='2026-01-01 10:00:00.000 INFO  [kea-dhcp4.dhcpsrv/1.2] DHCPSRV_CFGMGR_ADD_IFACE x\n'
                             'Syntax check failed with: CANDIDATE:3.2-9: got unexpected keyword\n')
    kea_bin = etc / 'kea-dhcp4'
    kea_bin.write_text('#!/bin/sh\n')
    kea_bin.chmod(0o755)
    with pytest.raises(kea.KeaError) as caught:
        kea.check_candidate(fake, str(etc / 'reservations.json'), b'[x]', str(etc / 'kea-dhcp4.conf'), str(kea_bin))
    assert str(caught.value) == ('kea-dhcp4 -t rejected the candidate configuration, nothing was changed:\n'
                                 'Syntax check failed with: %s/reservations.json (candidate):3.2-9: got unexpected keyword' % etc)
    assert fake.seen == ['[x]']
    assert sorted(os.listdir(etc)) == ['kea-dhcp4', 'kea-dhcp4.conf', 'reservations.json']
    with pytest.raises(kea.KeaError, match='is not an executable kea-dhcp4'):
        kea.check_candidate(fake, str(etc / 'reservations.json'), b'[]', str(etc / 'kea-dhcp4.conf'), str(etc / 'none'))


@pytest.mark.skipif(REAL_KEA is None, reason='NOT TESTED: kea-dhcp4 (kea-dhcp4-server) is not installed; the real kea-dhcp4 -t check did not run')
def test_real_kea_accepts_rendered_reservations_and_rejects_a_duplicate(etc):
    def run(argv, cwd=None):
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr
    good = kea.render_reservations(records(
        host('n1', '02:00:00:00:00:0a', '10.18.1.9', hostname='n1.sb8', filename='pxelinux.0', next_server='10.18.0.1'),
        host('n_2', '02:00:00:00:00:0b', '10.18.1.10')))
    kea.check_candidate(run, str(etc / 'reservations.json'), good, str(etc / 'kea-dhcp4.conf'), REAL_KEA)
    # What only Kea sees: a duplicate written behind the module's back.
    bad = good.replace(b'02:00:00:00:00:0b', b'02:00:00:00:00:0a')
    with pytest.raises(kea.KeaError, match=r"HW address '02:00:00:00:00:0a'.*already been added"):
        kea.check_candidate(run, str(etc / 'reservations.json'), bad, str(etc / 'kea-dhcp4.conf'), REAL_KEA)
    assert sorted(os.listdir(etc)) == ['kea-dhcp4.conf', 'reservations.json']


# --- the control socket -----------------------------------------------------------------

class FakeKeaSocket:
    """A UNIX socket answering Kea commands with canned replies; records what it was sent."""

    def __init__(self, path, replies):
        self.path, self.replies, self.received = str(path), list(replies), []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(4)
        self.server.settimeout(0.05)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.replies and not self.stopping.is_set():
            try:
                connection, _address = self.server.accept()
            except socket.timeout:
                continue
            connection.settimeout(5)
            with connection:
                data = b''
                while True:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.received.append(json.loads(data))
                connection.sendall(json.dumps(self.replies.pop(0)).encode())

    def close(self):
        self.stopping.set()
        self.thread.join(timeout=5)
        self.server.close()


def test_reload_sends_config_reload_and_reports_the_answer(tmp_path):
    fake = FakeKeaSocket(tmp_path / 's', [{'result': 0, 'text': 'Configuration successful.'},
                                          [{'result': 1, 'text': 'failed to reload: no such file'}]])
    try:
        assert kea.reload(str(tmp_path / 's')) is True
        with pytest.raises(kea.KeaError, match=r'Kea refused the new configuration \(config-reload\): failed to reload'):
            kea.reload(str(tmp_path / 's'))
    finally:
        fake.close()
    assert fake.received == [{'command': 'config-reload'}] * 2


def test_no_server_on_the_socket_is_not_an_error(tmp_path):
    assert kea.reload(str(tmp_path / 'missing')) is False
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(tmp_path / 'stale'))
    stale.close()  # the file stays, nobody listens: a stopped server
    assert kea.reload(str(tmp_path / 'stale')) is False
