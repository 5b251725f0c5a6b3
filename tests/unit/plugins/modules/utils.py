# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run a module's ``main()`` in-process and get its result: the one harness for module unit tests.

Also :func:`tree_digest`, the one "nothing was touched" check of the unit and integration tests.
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import Any, Callable
from unittest import mock

import yaml

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """Raised in place of exit_json / fail_json, carrying the module's result."""

    def __init__(self, result: dict[str, Any], failed: bool):
        super().__init__(result)
        self.result = result
        self.failed = failed


def _exit_json(self, **result):
    result.setdefault('changed', False)
    raise ModuleExit(result, failed=False)


def _fail_json(self, msg, **result):
    result['msg'] = msg
    result['failed'] = True
    raise ModuleExit(result, failed=True)


def run_module(main: Callable[[], None], args: dict[str, Any], check_mode: bool = False, diff: bool = False) -> ModuleExit:
    """Call ``main`` with ``args``; return the ModuleExit it ended with (``.failed``, ``.result``)."""
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args), \
            mock.patch.object(basic.AnsibleModule, 'exit_json', _exit_json), \
            mock.patch.object(basic.AnsibleModule, 'fail_json', _fail_json):
        try:
            main()
        except ModuleExit as ended:
            return ended
    raise AssertionError('the module returned without calling exit_json or fail_json')


# Keys ansible-core or the harness adds to every result; a module does not document them.
_COMMON_KEYS = frozenset(('changed', 'failed', 'msg', 'diff', 'invocation', 'warnings', 'deprecations'))
_TYPES: dict[str, tuple[type, ...]] = {'str': (str,), 'int': (int,), 'bool': (bool,), 'list': (list,),
                                       'dict': (dict,), 'float': (float, int), 'path': (str,)}


def _check_value(value: Any, spec: dict[str, Any], where: str, problems: list[str]) -> None:
    if value is None:
        return
    wanted = _TYPES.get(spec.get('type', ''))
    if wanted and (not isinstance(value, wanted) or (bool not in wanted and isinstance(value, bool))):
        problems.append('%s: documented as %s, got %r' % (where, spec['type'], value))
        return
    contains = spec.get('contains')
    if not contains:
        return
    if spec.get('type') == 'list':
        for index, item in enumerate(value):
            _check_keys(item, contains, '%s[%d]' % (where, index), problems, nested=True)
    else:
        _check_keys(value, contains, where, problems, nested=True)


def _check_keys(result: dict[str, Any], documented: dict[str, Any], where: str, problems: list[str],
                nested: bool) -> None:
    if not isinstance(result, dict):
        problems.append('%s: documented as a mapping, got %r' % (where, result))
        return
    extra = sorted(set(result) - set(documented) - (set() if nested else _COMMON_KEYS))
    if extra:
        problems.append('%s: returned but not documented: %s' % (where, ', '.join(extra)))
    for key, spec in documented.items():
        # Inside `contains`, a key without `returned` is always there.
        always = spec.get('returned', 'always' if nested else '') == 'always'
        if key not in result:
            if always:
                problems.append('%s: documented as always returned, missing: %s' % (where, key))
            continue
        _check_value(result[key], spec, '%s.%s' % (where, key) if where else key, problems)


def assert_documented(module: Any, result: dict[str, Any]) -> None:
    """Every key of ``result`` (at every depth) is in the module's RETURN and of its type, and every
    ``returned: always`` key is there: the documentation and the code cannot drift apart."""
    documented = yaml.safe_load(module.RETURN) or {}
    problems: list[str] = []
    _check_keys(result, documented, '', problems, nested=False)
    assert not problems, '%s RETURN and result disagree:\n  %s' % (module.__name__, '\n  '.join(problems))


def tree_digest(root: str) -> str:
    """Every path, type, mode, inode, link target and content under ``root``.

    Equal before and after means nothing was touched: no file rewritten (a
    rename gives a new inode even for the same bytes), none added or removed.
    """
    digest = hashlib.sha256()
    for directory, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(directory, name)
            info = os.lstat(path)
            digest.update(('%s %o %d\n' % (os.path.relpath(path, root), info.st_mode, info.st_ino)).encode())
            if stat.S_ISLNK(info.st_mode):
                digest.update(os.readlink(path).encode())
            elif stat.S_ISREG(info.st_mode):
                with open(path, 'rb') as handle:
                    digest.update(handle.read())
    return digest.hexdigest()
