# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _frisbee as frisbee
from ansible_collections.cluster.netboot.plugins.module_utils import _frisbee_backends as backends
from ansible_collections.cluster.netboot.plugins.module_utils import _frisbee_sessions as sessions
from ansible_collections.cluster.netboot.plugins.module_utils import _process as process
from ansible_collections.cluster.netboot.plugins.module_utils._errors import AddressError


def config(**kwargs):
    values = dict(image='/images/orbit-2.0.ndz', backend='frisbee')
    values.update(kwargs)
    return backends.ServerConfig(**values)


# ---------------------------------------------------------------- argv lists

def test_frisbee_argv_follows_the_frisbeed_option_table():
    argv = backends.FrisbeeBackend().argv(
        '/usr/local/sbin/frisbeed',
        config(interface_address='10.18.0.1', bandwidth=100000000, idle_timeout=1800, keepalive=15),
        '239.192.1.1', 7000)
    assert argv == ['/usr/local/sbin/frisbeed', '-d', '-m', '239.192.1.1', '-p', '7000', '-i', '10.18.0.1',
                    '-W', '100000000', '-T', '1800', '-K', '15', '/images/orbit-2.0.ndz']


def test_frisbee_argv_minimal_and_negative_idle_timeout():
    argv = backends.FrisbeeBackend().argv('frisbeed', config(idle_timeout=-1), '239.192.1.2', 7001)
    assert argv == ['frisbeed', '-d', '-m', '239.192.1.2', '-p', '7001', '-T', '-1', '/images/orbit-2.0.ndz']
    # The image is the single operand, last: frisbeed's getopt stops there.
    assert argv[-1] == '/images/orbit-2.0.ndz'


def test_frisbee_interface_name_is_turned_into_its_address():
    argv = backends.FrisbeeBackend().argv('frisbeed', config(interface='lo'), '239.192.1.1', 7000)
    assert argv[argv.index('-i') + 1] == '127.0.0.1'


def test_frisbee_interface_without_ipv4_is_a_clear_error():
    with pytest.raises(backends.FrisbeeServerError, match='no IPv4 address'):
        backends.interface_ipv4('cnbnosuch0')


def test_udpcast_argv_follows_the_udp_sender_option_table():
    argv = backends.UdpcastBackend().argv(
        '/usr/bin/udp-sender',
        config(backend='udpcast', interface='br0', bandwidth=90000000, idle_timeout=600, min_receivers=4, max_wait=30),
        '239.192.1.3', 7002)
    assert argv == ['/usr/bin/udp-sender', '--file', '/images/orbit-2.0.ndz', '--nokbd', '--interface', 'br0',
                    '--portbase', '7002', '--mcast-data-address', '239.192.1.3', '--mcast-rdv-address', '239.192.1.3',
                    '--min-receivers', '4', '--max-wait', '30', '--start-timeout', '600', '--max-bitrate', '90000000',
                    '--rexmit-hello-interval', '100', '--full-duplex']


def test_udpcast_without_timeout_waits_for_ever_and_refuses_odd_bases():
    backend = backends.UdpcastBackend()
    argv = backend.argv('udp-sender', config(backend='udpcast', interface='br0', idle_timeout=0, hello_interval=None),
                        '239.192.1.3', 7000)
    assert '--start-timeout' not in argv and '--rexmit-hello-interval' not in argv
    with pytest.raises(backends.FrisbeeServerError, match='odd'):
        backend.argv('udp-sender', config(backend='udpcast', interface='br0'), '239.192.1.3', 7001)


def test_receiver_args_reach_the_session():
    assert backends.FrisbeeBackend().receiver_args('239.192.1.1', 7000) == ['-m', '239.192.1.1', '-p', '7000']
    assert backends.UdpcastBackend().receiver_args('239.192.1.1', 7000) == ['--portbase', '7000', '--mcast-rdv-address', '239.192.1.1']


@pytest.mark.parametrize('backend, kwargs, message', [
    ('udpcast', {}, 'needs interface'),
    ('udpcast', {'interface': 'br0', 'idle_timeout': -1}, 'only for the frisbee'),
    ('frisbee', {'bandwidth': 0}, 'positive'),
    ('frisbee', {'min_receivers': 0}, 'at least 1'),
    ('udpcast', {'interface': 'br0', 'hello_interval': 0}, 'milliseconds'),
    ('frisbee', {'interface': 'br0 ; rm -rf /'}, 'not a valid interface'),
    ('frisbee', {'interface_address': '10.0.0.300'}, 'invalid IPv4'),
])
def test_validate_rejects_bad_settings(backend, kwargs, message):
    with pytest.raises(Exception, match=message):
        backends.get_backend(backend).validate(config(backend=backend, **kwargs))


def test_unknown_backend():
    with pytest.raises(backends.FrisbeeServerError, match='unknown backend'):
        backends.get_backend('tftp')


# ---------------------------------------------------------------- allocation

def session(ident, address, port, backend='frisbee', image=None, pid=1, start_ticks=1, argv=None, log='/nonexistent.log'):
    ports = list(backends.get_backend(backend).ports(port))
    return sessions.Session(id=ident, image=image or '/images/%s' % ident, backend=backend, address=address, port=port,
                            ports=ports, pid=pid, start_ticks=start_ticks, argv=argv or ['srv'], started=0.0,
                            log=log, pid_file='/nonexistent.pid')


def test_allocate_takes_the_first_free_address_and_port():
    live = [session('a', '239.192.1.0', 7000), session('b', '239.192.1.1', 7001)]
    assert sessions.allocate(live, backends.FrisbeeBackend(), '239.192.1.0/24', (7000, 7999)) == ('239.192.1.2', 7002)


def test_allocate_udpcast_needs_an_even_base_with_both_ports_free():
    live = [session('a', '239.192.1.0', 7001)]  # frisbee on the odd port
    address, port = sessions.allocate(live, backends.UdpcastBackend(), '239.192.1.0/24', (7000, 7999))
    assert (address, port) == ('239.192.1.1', 7002)
    # An odd first port rounds up to the next even base.
    assert sessions.allocate([], backends.UdpcastBackend(), '239.192.1.0/24', (7001, 7999))[1] == 7002


def test_allocate_skips_ports_bound_by_other_programs():
    assert sessions.allocate([], backends.UdpcastBackend(), '239.192.1.0/24', (7000, 7999), busy_ports={7001})[1] == 7002


def test_allocate_skips_switch_flooding_groups():
    # 239.128.0.0/24 maps onto the same MACs as 224.128.0.x: every address floods.
    with pytest.raises(backends.FrisbeeServerError, match='no free multicast address'):
        sessions.allocate([], backends.FrisbeeBackend(), '239.128.0.0/24', (7000, 7999))
    # Across the boundary: 239.128.0.x floods, 239.128.1.x does not.
    assert sessions.allocate([], backends.FrisbeeBackend(), '239.128.0.0/23', (7000, 7999))[0] == '239.128.1.0'
    live = [session('a', '239.127.255.254', 7000), session('b', '239.127.255.255', 7001)]
    with pytest.raises(backends.FrisbeeServerError, match='no free multicast address'):
        sessions.allocate(live, backends.FrisbeeBackend(), '239.127.255.254/31', (7000, 7999))


def test_allocate_reports_exhausted_ports():
    live = [session('a', '239.192.1.0', 7000, backend='udpcast')]
    with pytest.raises(backends.FrisbeeServerError, match='no free udpcast port pair left in 7000-7002'):
        sessions.allocate(live, backends.UdpcastBackend(), '239.192.1.0/24', (7000, 7002))


def test_allocate_refuses_a_pool_outside_multicast():
    with pytest.raises(AddressError):
        sessions.allocate([], backends.FrisbeeBackend(), '10.0.0.0/24', (7000, 7999))


@pytest.mark.parametrize('value', [[7000], [7999, 7000], [80, 90], [7000, 70000], ['a', 'b']])
def test_parse_port_range_rejects(value):
    with pytest.raises(backends.FrisbeeServerError):
        sessions.parse_port_range(value)


def test_udp_ports_in_use_reads_proc_net(tmp_path):
    net = tmp_path / 'net'
    net.mkdir()
    header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
    (net / 'udp').write_text(header + ' 5833: 0101C0EF:1B59 00000000:0000 07 00000000:00000000 00:00000000 00000000     0 0 27921\n')
    (net / 'udp6').write_text(header + '  12: 00000000000000000000000000000000:0044 00000000000000000000000000000000:0000 07 0 0 0 0 0 1\n')
    assert sessions.udp_ports_in_use(str(tmp_path)) == {7001, 68}


# ---------------------------------------------------------------- registry and reaping

def test_registry_round_trip_is_stable():
    recorded = [session('b', '239.192.1.1', 7001), session('a', '239.192.1.0', 7000, backend='udpcast')]
    raw = sessions.render_registry(recorded)
    parsed = sessions.parse_registry(raw, 'x')
    assert [s.id for s in parsed] == ['a', 'b']
    assert sessions.render_registry(parsed) == raw
    assert json.loads(raw)['version'] == 1


@pytest.mark.parametrize('raw, message', [
    (b'{not json', 'not valid JSON'),
    (b'[]', 'no "sessions" list'),
    (b'{"sessions": [{"id": "x"}]}', 'malformed session entry'),
])
def test_registry_corruption_is_a_clear_error(raw, message):
    with pytest.raises(backends.FrisbeeServerError, match=message):
        sessions.parse_registry(raw, '/var/lib/cluster-netboot/sessions.json')


def test_empty_registry():
    assert sessions.parse_registry(None, 'x') == []
    assert sessions.parse_registry(b'\n', 'x') == []


def write_proc(root, pid, start, cmdline, state='S'):
    directory = root / str(pid)
    directory.mkdir(parents=True, exist_ok=True)
    rest = [state, '1', str(pid), str(pid)] + ['0'] * 15 + [str(start)] + ['0'] * 30
    (directory / 'stat').write_text('%d (srv) %s\n' % (pid, ' '.join(rest)))
    (directory / 'cmdline').write_bytes(b''.join(c.encode() + b'\0' for c in cmdline))


def test_reap_drops_dead_zombie_and_recycled_pids(tmp_path):
    write_proc(tmp_path, 100, 10, ['srv', 'a'])
    write_proc(tmp_path, 101, 99, ['srv', 'b'])           # PID reused: other start time
    write_proc(tmp_path, 102, 12, ['srv', 'c'], state='Z')
    recorded = [
        session('a', '239.192.1.0', 7000, pid=100, start_ticks=10, argv=['srv', 'a']),
        session('b', '239.192.1.1', 7001, pid=101, start_ticks=11, argv=['srv', 'b']),
        session('c', '239.192.1.2', 7002, pid=102, start_ticks=12, argv=['srv', 'c']),
        session('d', '239.192.1.3', 7003, pid=103, start_ticks=13, argv=['srv', 'd']),  # no such process
    ]
    live, gone = sessions.reap(recorded, str(tmp_path))
    assert [s.id for s in live] == ['a']
    assert [s.id for s in gone] == ['b', 'c', 'd']


def test_session_id_is_file_name_safe_and_distinguishes_backends():
    a = sessions.session_id('/images/a b/../orbit 2.0.ndz', 'frisbee')
    assert '/' not in a and ' ' not in a and a.startswith('frisbee-orbit_2.0.ndz-')
    assert sessions.session_id('/x/img', 'frisbee') != sessions.session_id('/x/img', 'udpcast')
    assert sessions.session_id('/x/img', 'frisbee') != sessions.session_id('/y/img', 'frisbee')


# ---------------------------------------------------------------- log progress

def test_udpcast_progress_from_the_sender_log():
    lines = ['Udp-sender 20120424', 'UDP sender for img at 127.0.0.1 on lo', 'Broadcasting control to 239.192.1.1',
             'New connection from 10.1.0.2  (#0) 00000009', 'New connection from 10.1.0.3  (#1) 00000009',
             'Starting transfer: 00000009', 'bytes=  5 055 232  re-xmits=0000000 (  0.0%) slice=0112 -   0',
             'bytes= 30 000 000  re-xmits=0000012 (  0.1%) slice=0112 -   0']
    progress = backends.UdpcastBackend().progress(lines)
    assert progress == {'phase': 'transferring', 'receivers_joined': 2, 'receivers_active': 2,
                        'image_bytes': None, 'bytes_sent': 30000000}
    progress = backends.UdpcastBackend().progress(lines + ['Transfer complete.', 'Disconnecting #0 (10.1.0.2)'])
    assert progress['phase'] == 'complete' and progress['receivers_active'] == 1


def test_udpcast_progress_survives_a_status_line_without_a_byte_count():
    # udp-sender prints an empty count when a receiver is dropped before any data went out.
    lines = ['Starting transfer: 00000009', 'Dropping client #0 because of timeout', 'Disconnecting #0 (10.66.250.1)',
             'bytes=                re-xmits=0000000 (  0.0%) slice=0112 -   0', 'Transfer complete.']
    progress = backends.UdpcastBackend().progress(lines)
    assert progress['phase'] == 'complete' and progress['bytes_sent'] is None


def test_frisbee_progress_from_the_server_log():
    lines = ['Opened /images/orbit.ndz: 2048 blocks (2097152 bytes)',
             '10.18.1.18 (id 1234, image /images/orbit.ndz) joins (v2) at Mon Jan  1 00:00:00 2026!  1 active clients.',
             '10.18.1.19 (id 1235, image /images/orbit.ndz) joins (v2) at Mon Jan  1 00:00:01 2026!  2 active clients.']
    backend = backends.FrisbeeBackend()
    assert backend.progress(lines) == {'phase': 'serving', 'receivers_joined': 2, 'receivers_active': 2,
                                       'image_bytes': 2097152, 'bytes_sent': None}
    lines += ['10.18.1.18 (id 1234, image /images/orbit.ndz): leaves at Mon, ran for 40 seconds.  1 active clients',
              '10.18.1.19 (id 1235, image /images/orbit.ndz): leaves at Mon, ran for 41 seconds.  0 active clients']
    assert backend.progress(lines)['phase'] == 'idle'
    assert backend.progress(lines + ['No requests for 1800 seconds!', 'Exiting!'])['phase'] == 'finished'
    assert backend.progress([])['phase'] == 'waiting'


# ---------------------------------------------------------------- images

def test_resolve_image_checks_the_file(tmp_path):
    image = tmp_path / 'orbit.ndz'
    image.write_bytes(b'x' * 10)
    link = tmp_path / 'current.ndz'
    link.symlink_to('orbit.ndz')
    assert sessions.resolve_image(str(link)) == str(image)
    with pytest.raises(backends.FrisbeeServerError, match='does not exist'):
        sessions.resolve_image(str(tmp_path / 'missing.ndz'))
    with pytest.raises(backends.FrisbeeServerError, match='not a regular file'):
        sessions.resolve_image(str(tmp_path))
    with pytest.raises(backends.FrisbeeServerError, match='not absolute'):
        sessions.resolve_image('orbit.ndz')


# ---------------------------------------------------------------- the manager, with a fake server program

FAKE_SERVER = '''#!%s
import sys, time
print("fake server", " ".join(sys.argv[1:]), flush=True)
if "--fail" in open(%r).read():
    print("bind socket to 127.0.0.1:7001 (Address already in use)", flush=True)
    sys.exit(98)
time.sleep(120)
'''


@pytest.fixture
def fake_server(tmp_path):
    control = tmp_path / 'control'
    control.write_text('')
    program = tmp_path / 'fake-udp-sender'
    program.write_text(FAKE_SERVER % (sys.executable, str(control)))
    program.chmod(0o755)
    return program, control


def writer(path, content):
    temp = path + '.tmp'
    with open(temp, 'wb') as handle:
        handle.write(content)
    os.replace(temp, path)


@pytest.fixture
def manager_factory(tmp_path):
    managers = []

    def make(check_mode=False):
        manager = frisbee.SessionManager(str(tmp_path / 'state'), writer, check_mode=check_mode, lock_timeout=30)
        managers.append(manager)
        return manager

    yield make
    # Stop whatever the test left running (only our own fake servers, by recorded identity).
    registry = tmp_path / 'state' / 'sessions.json'
    if registry.exists():
        for entry in sessions.parse_registry(registry.read_bytes(), str(registry)):
            process.terminate(entry.pid, entry.start_ticks, entry.argv, grace=2)


def image(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(name.encode() * 100)
    return str(path)


def udpcast(img):
    return backends.ServerConfig(image=img, backend='udpcast', interface='lo', idle_timeout=60)


def test_start_reuses_a_live_session_and_stop_removes_it(tmp_path, fake_server, manager_factory):
    program, _control = fake_server
    manager = manager_factory()
    img = image(tmp_path, 'a.img')
    first = manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2)
    assert first.changed and first.session['alive']
    assert (first.session['address'], first.session['port']) == ('239.192.1.0', 7000)
    assert os.path.exists(first.session['pid_file'])
    again = manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2)
    assert not again.changed
    assert again.session['pid'] == first.session['pid']
    assert again.registry_before == again.registry_after

    other = manager.start(udpcast(image(tmp_path, 'b.img')), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2)
    assert (other.session['address'], other.session['port']) == ('239.192.1.1', 7002)

    stopped = manager.stop(img, 'udpcast', grace=5)
    assert stopped.changed and stopped.session['stopped_by'] == 'terminated'
    assert not os.path.exists(first.session['pid_file'])
    assert [s['image'] for s in manager.query().sessions] == [other.session['image']]
    assert not manager.stop(img, 'udpcast').changed


def test_a_session_two_runs_share_stops_only_when_the_last_user_leaves(tmp_path, fake_server, manager_factory):
    program, _control = fake_server
    manager = manager_factory()
    img = image(tmp_path, 'a.img')
    first = manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2, user='run-1')
    assert first.changed and first.session['users'] == ['run-1']
    joined = manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2, user='run-2')
    assert joined.changed and joined.session['users'] == ['run-1', 'run-2']
    assert joined.session['pid'] == first.session['pid']
    # Joining again changes nothing (idempotent).
    again = manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2, user='run-2')
    assert not again.changed and again.registry_before == again.registry_after
    # A run that does not use the session does not stop it.
    assert not manager.stop(img, 'udpcast', user='run-3').changed
    # The first run leaves: the session goes on for the second.
    left = manager.stop(img, 'udpcast', grace=5, user='run-1')
    assert left.changed and left.session['alive'] and left.session['users'] == ['run-2']
    assert process.is_running(first.session['pid'], process.read_stat(first.session['pid']).start_ticks,
                              first.session['argv'])
    assert [s['users'] for s in manager.query(img).sessions] == [['run-2']]
    # The last user leaves: it stops.
    last = manager.stop(img, 'udpcast', grace=5, user='run-2')
    assert last.changed and last.session['stopped_by'] == 'terminated'
    assert manager.query(img).sessions == [] or not manager.query(img).sessions[0]['alive']


def test_a_server_that_dies_at_once_is_an_error_and_nothing_is_recorded(tmp_path, fake_server, manager_factory):
    program, control = fake_server
    control.write_text('--fail')
    manager = manager_factory()
    with pytest.raises(backends.FrisbeeServerError) as info:
        manager.start(udpcast(image(tmp_path, 'a.img')), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=2)
    message = str(info.value)
    assert 'exited at once with code 98' in message and 'Address already in use' in message
    assert sessions.parse_registry((tmp_path / 'state' / 'sessions.json').read_bytes() if (tmp_path / 'state' / 'sessions.json').exists() else None, 'x') == []
    assert not [name for name in os.listdir(tmp_path / 'state') if name.endswith('.pid')]


def test_a_killed_server_is_reaped_by_the_next_call(tmp_path, fake_server, manager_factory):
    program, _control = fake_server
    manager = manager_factory()
    img = image(tmp_path, 'a.img')
    started = manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2)
    stat = process.read_stat(started.session['pid'])
    assert process.terminate(started.session['pid'], stat.start_ticks, started.session['argv'], grace=5) == 'terminated'
    query = manager.query(img)
    assert [r['id'] for r in query.reaped] == [started.session['id']]
    assert query.session['alive'] is False
    assert 'fake server' in query.session['log_tail'][0]
    assert manager.query().reaped == []
    restarted = manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2)
    assert restarted.changed and restarted.session['pid'] != started.session['pid']


def test_check_mode_changes_nothing(tmp_path, fake_server, manager_factory):
    program, _control = fake_server
    img = image(tmp_path, 'a.img')
    checked = manager_factory(check_mode=True).start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999))
    assert checked.changed and checked.session['pid'] is None and checked.session['port'] == 7000
    assert not (tmp_path / 'state').exists()
    manager = manager_factory()
    manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2)
    before = (tmp_path / 'state' / 'sessions.json').read_bytes()
    would_stop = manager_factory(check_mode=True).stop(img, 'udpcast')
    assert would_stop.changed and would_stop.session['alive']
    assert (tmp_path / 'state' / 'sessions.json').read_bytes() == before
    assert manager.query(img).session['alive']


def test_concurrent_starts_get_distinct_pairs_and_none_is_lost(tmp_path, fake_server, manager_factory):
    program, _control = fake_server
    images = [image(tmp_path, 'img%d' % n) for n in range(8)]
    results = {}
    errors = []

    def start(img):
        try:
            manager = frisbee.SessionManager(str(tmp_path / 'state'), writer, lock_timeout=60)
            results[img] = manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.1).session
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(img,)) for img in images]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    pairs = {(s['address'], s['port']) for s in results.values()}
    assert len(pairs) == 8
    assert len({s['address'] for s in results.values()}) == 8
    recorded = manager_factory().query().sessions
    assert sorted(s['image'] for s in recorded) == sorted(images)


def test_reuse_warns_about_other_settings(tmp_path, fake_server, manager_factory):
    program, _control = fake_server
    manager = manager_factory()
    img = image(tmp_path, 'a.img')
    manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2)
    wanted = backends.ServerConfig(image=img, backend='udpcast', interface='lo', idle_timeout=60, min_receivers=4)
    result = manager.start(wanted, str(program), '239.192.1.0/24', (7000, 7999))
    assert not result.changed
    assert any('min_receivers=1' in w for w in result.warnings)


def test_a_server_whose_registry_write_fails_is_not_left_running(tmp_path, fake_server):
    program, _control = fake_server
    writes = []

    def failing_writer(path, content):
        writes.append(path)
        if path.endswith('sessions.json'):
            raise OSError('disk full')
        writer(path, content)

    manager = frisbee.SessionManager(str(tmp_path / 'state'), failing_writer, lock_timeout=30)
    with pytest.raises(OSError, match='disk full'):
        manager.start(udpcast(image(tmp_path, 'a.img')), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2)
    pid_file = [path for path in writes if path.endswith('.pid')][0]
    assert not os.path.exists(pid_file)
    # The fake server's own log names the session; no process runs that command line any more.
    log = pid_file[:-4] + '.log'
    assert 'fake server' in open(log).read()
    assert not [pid for pid in os.listdir('/proc') if pid.isdigit() and str(program) in _cmdline(pid)]


def _cmdline(pid):
    try:
        with open('/proc/%s/cmdline' % pid, 'rb') as handle:
            return handle.read().decode(errors='replace')
    except OSError:
        return ''


# ---------------------------------------------------------------- issue 20/21: keepalive, deleted images, orphans

def test_keepalive_longer_than_the_idle_timeout_is_refused():
    config = backends.ServerConfig(image='/x', backend='frisbee', idle_timeout=60, keepalive=120)
    with pytest.raises(backends.FrisbeeServerError, match='keepalive .120 s. is longer than idle_timeout .60 s.'):
        backends.FrisbeeBackend().validate(config)
    # Equal, or a server that never idles out, is fine.
    backends.FrisbeeBackend().validate(backends.ServerConfig(image='/x', backend='frisbee', idle_timeout=60, keepalive=60))
    backends.FrisbeeBackend().validate(backends.ServerConfig(image='/x', backend='frisbee', idle_timeout=0, keepalive=600))


def test_keepalive_is_refused_for_udpcast():
    config = backends.ServerConfig(image='/x', backend='udpcast', interface='lo', keepalive=10)
    with pytest.raises(backends.FrisbeeServerError, match='keepalive exists only for the frisbee backend'):
        backends.UdpcastBackend().validate(config)


def test_a_session_whose_image_was_deleted_is_still_stopped(tmp_path, fake_server, manager_factory):
    program, _control = fake_server
    manager = manager_factory()
    img = image(tmp_path, 'gone.img')
    started = manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2)
    os.unlink(img)
    with pytest.raises(backends.FrisbeeServerError, match='does not exist'):
        sessions.resolve_image(img)
    stopped = manager.stop(sessions.lookup_image(img), None, grace=5)
    assert stopped.changed and stopped.session['pid'] == started.session['pid']
    assert manager.query().sessions == []


def test_a_server_started_but_never_recorded_is_stopped_by_the_next_run(tmp_path, fake_server, manager_factory):
    program, _control = fake_server
    manager = manager_factory()
    img = image(tmp_path, 'a.img')
    # What a run killed between starting the server and writing the registry leaves behind.
    os.makedirs(manager.state_dir)
    ident = sessions.session_id(img, 'udpcast')
    argv = [str(program), '--file', img]
    child = process.start_detached(argv, os.path.join(manager.state_dir, ident + '.log'), cwd=manager.state_dir)
    pid_file = os.path.join(manager.state_dir, ident + '.pid')
    with open(pid_file, 'w') as handle:
        handle.write('%d\n' % child.pid)
    # A pid file whose PID is now another program is left alone (and so is that program).
    other = subprocess.Popen(['sleep', '30'])
    with open(os.path.join(manager.state_dir, 'udpcast-b.img-0123456789.pid'), 'w') as handle:
        handle.write('%d\n' % other.pid)
    try:
        checked = manager_factory(check_mode=True).query()
        assert any('no session records' in warning for warning in checked.warnings)
        assert child.poll() is None

        started = manager.start(udpcast(img), str(program), '239.192.1.0/24', (7000, 7999), confirm_delay=0.2)
        assert child.wait(timeout=10) is not None
        assert any('never recorded' in warning for warning in started.warnings)
        assert started.session['pid'] != child.pid
        assert [s['pid'] for s in manager.query().sessions] == [started.session['pid']]
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
        if child.poll() is None:
            child.kill()
            child.wait()
