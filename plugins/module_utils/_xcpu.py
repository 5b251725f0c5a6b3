# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Users and groups on xcpu2 nodes, pushed with xgroupset and xuserset.

xcpufs reads no /etc/passwd or /etc/group: it starts with no users, and the
console tells it about groups, then users (with their public keys), signing
with the admin key (/etc/xcpu/admin_key; xcpufs holds admin_key.pub). The
database lives in xcpufs's memory only, so it has to be pushed again after
xcpufs restarts.

Two command syntaxes exist (both take a comma-separated node list):

* the early xcpu2 utilities (the seed's):
  ``xgroupset NODES GROUP GID`` and ``xuserset NODES USER UID GROUP KEYFILE``;
* later xcpu2 releases: ``xgroupset add [-A ADMINKEY] NODES GROUP GID`` and
  ``xuserset add [-A ADMINKEY] NODES USER UID GROUP KEYFILE``.

libxcpu reports a failing node on stderr as ``<function>: <node>: Error
<code>: <message>`` (``xp_group_add: n8: Error 111: Connection refused``),
and the program's own failure as ``Error: <message>``; it exits non-zero
when any node failed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.cluster.netboot.plugins.module_utils import _process
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError

STYLES = ('classic', 'subcommand')
# The kernel refuses a single argument longer than 128 KiB: long node lists go in batches.
MAX_NODELIST_CHARS = 64 * 1024
_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_.-]*$')
_NODE_ERROR = re.compile(r'^(?P<function>xp_\w+): (?P<node>.+?): Error (?P<code>-?\d+): (?P<message>.*)$')


class XcpuError(NetbootError):
    """Bad user or group definitions, or xcpu tools that cannot be run."""


@dataclass(frozen=True)
class Group:
    name: str
    gid: int


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    group: str
    public_key: str


def _check_name(kind: str, value: object) -> str:
    text = str(value) if value is not None else ''
    if not _NAME.match(text):
        raise XcpuError('%s name %r is not a valid name (letters, digits, _ . -, not starting with a digit or -)'
                        % (kind, value))
    return text


def _check_id(kind: str, name: str, value: object) -> int:
    if isinstance(value, bool):
        raise XcpuError('%s %s: id must be a number, got %r' % (kind, name, value))
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise XcpuError('%s %s: id must be a number, got %r' % (kind, name, value)) from None
    if not 0 <= number <= 0xFFFFFFFE:
        raise XcpuError('%s %s: id %d is out of range' % (kind, name, number))
    return number


def parse_groups(items: Iterable[dict[str, Any]]) -> list[Group]:
    groups: list[Group] = []
    seen: dict[str, Group] = {}
    for item in items:
        name = _check_name('group', item.get('name'))
        group = Group(name=name, gid=_check_id('group', name, item.get('gid')))
        if name in seen:
            raise XcpuError('group %s is listed twice' % name)
        seen[name] = group
        groups.append(group)
    return groups


def parse_users(items: Iterable[dict[str, Any]]) -> list[User]:
    users: list[User] = []
    seen: set[str] = set()
    for item in items:
        name = _check_name('user', item.get('name'))
        if name in seen:
            raise XcpuError('user %s is listed twice' % name)
        seen.add(name)
        group = _check_name('group of user %s' % name, item.get('group'))
        key = item.get('public_key')
        if not key or not os.path.isfile(str(key)) or not os.access(str(key), os.R_OK):
            raise XcpuError('user %s: public key file %r does not exist or cannot be read on this host' % (name, key))
        with open(str(key), 'rb') as handle:
            first_line = handle.readline().strip()
        # xuserset sends the first line of the file; make sure there is one.
        if not first_line:
            raise XcpuError('user %s: public key file %s is empty' % (name, key))
        users.append(User(name=name, uid=_check_id('user', name, item.get('uid')), group=group, public_key=str(key)))
    return users


def node_batches(names: Sequence[str], limit: int = MAX_NODELIST_CHARS) -> list[list[str]]:
    """Split the node list so that each comma-joined batch stays a valid single argument."""
    batches: list[list[str]] = []
    current: list[str] = []
    length = 0
    for name in names:
        if ',' in name or any(char.isspace() for char in name):
            raise XcpuError('node name %r cannot be passed to the xcpu tools' % name)
        if not name or name.startswith('-'):
            # The node list is one argument: a leading "-" would make xuserset/xgroupset read it as an option.
            raise XcpuError('node name %r starts with "-" or is empty: the xcpu tools would read it as an option'
                            % name)
        added = len(name) + (1 if current else 0)
        if current and length + added > limit:
            batches.append(current)
            current, length = [], 0
            added = len(name)
        current.append(name)
        length += added
    if current:
        batches.append(current)
    return batches


def group_argv(xgroupset: str, style: str, nodelist: str, group: Group, admin_key: str | None) -> list[str]:
    if style == 'classic':
        return [xgroupset, nodelist, group.name, str(group.gid)]
    return [xgroupset, 'add'] + (['-A', admin_key] if admin_key else []) + [nodelist, group.name, str(group.gid)]


def user_argv(xuserset: str, style: str, nodelist: str, user: User, admin_key: str | None) -> list[str]:
    if style == 'classic':
        return [xuserset, nodelist, user.name, str(user.uid), user.group, user.public_key]
    return ([xuserset, 'add'] + (['-A', admin_key] if admin_key else [])
            + [nodelist, user.name, str(user.uid), user.group, user.public_key])


def check_style(style: str, admin_key: str | None) -> None:
    if style not in STYLES:
        raise XcpuError('command_style must be one of %s' % ', '.join(STYLES))
    if admin_key and style == 'classic':
        raise XcpuError('admin_key needs command_style=subcommand: the early xuserset/xgroupset always use '
                        '/etc/xcpu/admin_key')


@dataclass
class Step:
    """One run of xgroupset or xuserset on one batch of nodes."""

    what: str
    argv: list[str]
    nodes: list[str]
    rc: int | None = None
    stdout: str = ''
    stderr: str = ''
    node_errors: dict[str, list[str]] = field(default_factory=dict)
    general_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(what=self.what, cmd=self.argv, rc=self.rc, stdout=self.stdout, stderr=self.stderr)


def plan_steps(names: Sequence[str], groups: Sequence[Group], users: Sequence[User], xgroupset: str,
               xuserset: str, style: str, admin_key: str | None) -> list[Step]:
    """Groups first: xcpufs refuses a user whose group it does not know."""
    steps = []
    for batch in node_batches(names):
        nodelist = ','.join(batch)
        for group in groups:
            steps.append(Step('group %s' % group.name, group_argv(xgroupset, style, nodelist, group, admin_key), batch))
    for batch in node_batches(names):
        nodelist = ','.join(batch)
        for user in users:
            steps.append(Step('user %s' % user.name, user_argv(xuserset, style, nodelist, user, admin_key), batch))
    return steps


def parse_step_output(step: Step) -> None:
    """Per-node errors from libxcpu's lines; anything else non-empty on stderr is a general error."""
    batch = set(step.nodes)
    for line in step.stderr.splitlines():
        match = _NODE_ERROR.match(line.strip())
        if match and match.group('node') in batch:
            step.node_errors.setdefault(match.group('node'), []).append(
                '%s: Error %s: %s' % (step.what, match.group('code'), match.group('message')))
        elif line.strip():
            step.general_errors.append(line.strip())


Runner = Callable[[Sequence[str], float], 'tuple[int, str, str]']


def default_runner(argv: Sequence[str], timeout: float) -> tuple[int, str, str]:
    try:
        completed = _process.run(argv, timeout=timeout)
    except _process.ProcessError as exc:
        raise XcpuError('cannot run %s: %s' % (argv[0], exc)) from None
    if completed.timed_out:
        return -1, completed.text('stdout'), '%s did not finish within %s s; it and its children were killed' % (
            argv[0], timeout)
    return completed.rc if completed.rc is not None else -1, completed.text('stdout'), completed.text('stderr')


def run_steps(steps: Sequence[Step], runner: Runner, timeout: float) -> None:
    for step in steps:
        step.rc, step.stdout, step.stderr = runner(step.argv, timeout)
        parse_step_output(step)


@dataclass
class NodeOutcome:
    name: str
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return 'failed' if self.errors else 'ok'

    def as_dict(self) -> dict[str, Any]:
        return dict(name=self.name, status=self.status, errors=self.errors)


def node_outcomes(names: Sequence[str], steps: Sequence[Step]) -> list[NodeOutcome]:
    """Which node failed which step. A failed run without per-node lines fails its whole batch."""
    outcomes = {name: NodeOutcome(name) for name in names}
    for step in steps:
        for node, errors in step.node_errors.items():
            outcomes[node].errors.extend(errors)
        if step.rc != 0 and not step.node_errors:
            reason = '; '.join(step.general_errors) or 'exit code %s' % step.rc
            for node in step.nodes:
                outcomes[node].errors.append('%s: %s' % (step.what, reason))
    return [outcomes[name] for name in names]
