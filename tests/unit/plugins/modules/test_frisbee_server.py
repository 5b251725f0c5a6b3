# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import sys

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cluster.netboot.plugins.module_utils import _frisbee_sessions as sessions
from ansible_collections.cluster.netboot.plugins.module_utils import _process as process
from ansible_collections.cluster.netboot.plugins.modules import frisbee_server


class ExitJson(Exception):
    pass


class FailJson(Exception):
    pass


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    def exit_json(self, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(self, **kwargs):
        raise FailJson(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)


def run(args, check_mode=False, diff=False):
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args):
        with pytest.raises((ExitJson, FailJson)) as info:
            frisbee_server.main()
    return info.type is ExitJson, info.value.args[0]


@pytest.fixture
def lab(tmp_path):
    """An image, a state dir and a fake udp-sender that sleeps (or fails when asked to)."""
    image = tmp_path / 'images' / 'orbit-2.0.ndz'
    image.parent.mkdir()
    image.write_bytes(b'\x5a' * 4096)
    program = tmp_path / 'udp-sender'
    program.write_text('#!%s\nimport sys, time\nprint("fake", *sys.argv[1:], flush=True)\n'
                       'sys.exit(1) if "--interface" in sys.argv and sys.argv[sys.argv.index("--interface") + 1] == "bad0" else time.sleep(120)\n'
                       % sys.executable)
    program.chmod(0o755)
    state_dir = tmp_path / 'state'
    base = dict(image=str(image), backend='udpcast', interface='lo', state_dir=str(state_dir),
                udp_sender_path=str(program), confirm_delay=0.2)
    yield base
    registry = state_dir / 'sessions.json'
    if registry.exists():
        for entry in sessions.parse_registry(registry.read_bytes(), str(registry)):
            process.terminate(entry.pid, entry.start_ticks, entry.argv, grace=2)


def test_start_query_reuse_stop(lab):
    ok, result = run(lab, diff=True)
    assert ok and result['changed']
    assert (result['address'], result['port']) == ('239.192.1.0', 7000)
    assert result['pid'] == result['session']['pid'] > 0
    assert result['session']['receiver_args'] == ['--portbase', '7000', '--mcast-rdv-address', '239.192.1.0']
    assert '"pid": %d' % result['pid'] in result['diff']['after']
    registry = json.loads(open(os.path.join(lab['state_dir'], 'sessions.json')).read())
    assert [s['pid'] for s in registry['sessions']] == [result['pid']]

    ok, again = run(lab)
    assert ok and not again['changed'] and again['pid'] == result['pid']

    ok, query = run(dict(state='query', state_dir=lab['state_dir']))
    assert ok and not query['changed']
    assert [(s['pid'], s['alive']) for s in query['sessions']] == [(result['pid'], True)]

    ok, stopped = run(dict(lab, state='stopped'))
    assert ok and stopped['changed'] and stopped['session']['stopped_by'] == 'terminated'
    ok, stopped_again = run(dict(lab, state='stopped'))
    assert ok and not stopped_again['changed']


def test_check_mode_reports_without_starting(lab):
    ok, result = run(lab, check_mode=True)
    assert ok and result['changed'] and result['pid'] is None and result['port'] == 7000
    assert not os.path.exists(lab['state_dir'])


def test_missing_image_fails_and_touches_nothing(lab, tmp_path):
    ok, result = run(dict(lab, image=str(tmp_path / 'nope.ndz')))
    assert not ok and 'does not exist' in result['msg']
    assert not os.path.exists(lab['state_dir'])


def test_directory_as_image_fails(lab, tmp_path):
    ok, result = run(dict(lab, image=str(tmp_path)))
    assert not ok and 'not a regular file' in result['msg']


def test_server_that_dies_at_once_fails_with_code_and_log(lab):
    ok, result = run(dict(lab, interface='bad0'))
    assert not ok
    assert 'exited at once with code 1' in result['msg'] and 'fake --file' in result['msg']
    ok, query = run(dict(state='query', state_dir=lab['state_dir']))
    assert query['sessions'] == []


def test_missing_frisbeed_says_how_to_get_it(lab):
    ok, result = run(dict(lab, backend='frisbee', frisbeed_path='cnb-no-such-frisbeed'))
    assert not ok and 'not packaged in Debian' in result['msg']


def test_udpcast_needs_an_interface(lab):
    args = dict(lab)
    del args['interface']
    ok, result = run(args)
    assert not ok and 'needs interface' in result['msg']


def test_image_required_to_start(lab):
    ok, result = run(dict(state_dir=lab['state_dir']))
    assert not ok and 'image' in result['msg']


def test_bad_pool_fails_before_anything_is_written(lab):
    ok, result = run(dict(lab, address_pool='10.1.0.0/24'))
    assert not ok and 'not inside 224.0.0.0/4' in result['msg']
    assert not os.path.exists(os.path.join(lab['state_dir'], 'sessions.json'))


def test_stop_without_backend_stops_whatever_serves_the_image(lab):
    ok, started = run(lab)
    assert ok and started['changed']
    args = dict(lab, state='stopped')
    del args['backend']
    ok, stopped = run(args, diff=True)
    assert ok and stopped['changed']
    assert [s['pid'] for s in stopped['sessions']] == [started['pid']]
    assert '"pid"' in stopped['diff']['before'] and '"pid"' not in stopped['diff']['after']


def test_check_mode_stop_reports_and_keeps_the_server(lab):
    ok, started = run(lab)
    ok, checked = run(dict(lab, state='stopped'), check_mode=True)
    assert ok and checked['changed'] and checked['session']['alive']
    ok, query = run(dict(state='query', state_dir=lab['state_dir']))
    assert [s['pid'] for s in query['sessions']] == [started['pid']]


def test_stopped_finds_the_session_of_a_deleted_image(lab):
    ok, started = run(lab)
    assert ok and started['changed']
    os.unlink(lab['image'])
    ok, stopped = run(dict(lab, state='stopped'))
    assert ok and stopped['changed'], stopped
    assert stopped['session']['pid'] == started['pid'] and stopped['session']['stopped_by'] == 'terminated'
    # Starting still needs the file.
    ok, refused = run(lab)
    assert not ok and 'does not exist' in refused['msg']


@pytest.mark.parametrize('extra, message', [
    (dict(backend='udpcast', keepalive=10), 'keepalive exists only for the frisbee backend'),
    (dict(backend='frisbee', keepalive=120, idle_timeout=60), 'longer than idle_timeout'),
])
def test_keepalive_that_would_not_work_is_refused(lab, extra, message):
    ok, result = run(dict(lab, **extra))
    assert not ok and message in result['msg']
    assert not os.path.exists(lab['state_dir'])
