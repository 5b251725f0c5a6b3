# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The capture receiver's command line; a real capture runs in tests/integration/test_capture_receiver.py."""

from __future__ import annotations

import json

import pytest

from ansible_collections.cluster.netboot.plugins.module_utils import _capture_receiver as receiver


def test_stop_without_a_recorded_receiver_stops_nothing(tmp_path, capsys):
    assert receiver.main(['stop', '--record', str(tmp_path / 'node.receiver.json')]) == 0
    assert json.loads(capsys.readouterr().out) == {
        'stopped': False, 'reason': 'no process recorded in %s' % (tmp_path / 'node.receiver.json')}


def test_receive_needs_its_arguments_and_names_the_program(capsys):
    with pytest.raises(SystemExit):
        receiver.main(['receive', '--catalog', '/c.json'], program='/state/capture_receiver.py')
    assert capsys.readouterr().err.startswith('usage: capture_receiver.py receive')
