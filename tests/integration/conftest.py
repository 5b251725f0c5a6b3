# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared fixtures for the integration tests (real daemons, network namespaces).

These tests run as root (``make integration``). Without root every test here
is skipped, and the run says so loudly at the end.

Fixtures:
  netns_factory      makes namespaces/veths/bridges with a unique prefix; deletes them
  processes          starts daemons (optionally in a namespace); stops those PIDs
  collections_path   a directory where cluster.netboot is the working tree
  receiver_program   a receiver program (report, capture) as cluster.netboot.receiver_program installs it
  run_playbook       runs ansible-playbook against localhost; parsed per-task results
  tree_digest        the unit tests' "nothing was touched" digest of a directory tree
Helpers (import from ``netns``): ns_exec, ns_popen, wait_for, namespace_exists.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

import netns

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tests' / 'utils'))
# A NOT TESTED skip fails the test in a strict run (make test STRICT=1).
from strict_skips import pytest_runtest_makereport  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
VENV_BIN = Path(sys.executable).parent
IS_ROOT = os.geteuid() == 0
ROOT_REASON = ('NOT TESTED: integration tests need root (network namespaces, real daemons, packages): '
               'run them as root, e.g. `make integration`')


def _load(name: str, path: Path) -> t.Any:
    """A helper module of the unit tests, by path (they import it as part of the collection)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def tree_digest() -> t.Callable[[t.Any], str]:
    """``tree_digest(root)``: every path, mode, inode, link target and content under root, as one digest."""
    utils = _load('cluster_netboot_unit_utils', REPO / 'tests' / 'unit' / 'plugins' / 'modules' / 'utils.py')
    return lambda root: utils.tree_digest(str(root))


def pytest_configure(config: pytest.Config) -> None:
    """Install the last-resort cleanup of namespaces."""
    del config
    netns.install_safety_net()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every test of the run (integration tests or labs), with the reason, when not root."""
    del config
    if IS_ROOT:
        return
    marker = pytest.mark.skip(reason=ROOT_REASON)
    for item in items:
        item.add_marker(marker)


def pytest_terminal_summary(terminalreporter: t.Any) -> None:
    """Say loudly that nothing was tested when not root."""
    if not IS_ROOT:
        terminalreporter.write_sep('!', 'INTEGRATION TESTS SKIPPED: ' + ROOT_REASON, red=True, bold=True)


@pytest.fixture
def netns_factory() -> t.Iterator[netns.NetnsFactory]:
    """Namespaces for one test, all deleted at teardown (also when the test fails)."""
    factory = netns.NetnsFactory()
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture
def processes(netns_factory: netns.NetnsFactory, tmp_path: Path) -> t.Iterator[netns.ProcessManager]:
    """Start daemons with ``processes.start(argv, ns=...)``; exactly those PIDs are stopped at teardown.

    Depends on netns_factory so that the daemons stop before their namespaces go.
    """
    del netns_factory
    log_dir = tmp_path / 'process-logs'
    log_dir.mkdir()
    manager = netns.ProcessManager(log_dir)
    try:
        yield manager
    finally:
        manager.stop_all()


@pytest.fixture(scope='session')
def collections_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A collections directory whose cluster/netboot is this working tree (a link)."""
    with open(REPO / 'galaxy.yml', encoding='utf-8') as galaxy_file:
        galaxy = yaml.safe_load(galaxy_file)
    base = tmp_path_factory.mktemp('collections')
    link = base / 'ansible_collections' / galaxy['namespace'] / galaxy['name']
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO)
    return str(base)


@pytest.fixture(scope='session')
def receiver_program(collections_path: str, tmp_path_factory: pytest.TempPathFactory) -> t.Callable[[str], Path]:
    """``receiver_program('report')``: the launcher's path, installed once per session by the module itself
    (through ansible, so from its AnsiballZ payload, as on a console)."""
    base = tmp_path_factory.mktemp('receivers')
    installed: dict[str, Path] = {}

    def install(program: str) -> Path:
        if program not in installed:
            env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
            env.update(ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_HOME=str(base / 'ansible-home'),
                       ANSIBLE_LOCAL_TEMP=str(base / 'tmp'), ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
                       ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json')
            completed = subprocess.run(
                [str(VENV_BIN / 'ansible'), 'localhost', '-i', 'localhost,', '-c', 'local',
                 '-e', f'ansible_python_interpreter={sys.executable}', '-m', 'cluster.netboot.receiver_program',
                 '-a', json.dumps({'path': str(base / 'programs'), 'program': program})],
                env=env, capture_output=True, text=True, timeout=120, check=False)
            assert completed.returncode == 0, completed.stdout + completed.stderr
            result = json.loads(completed.stdout)['plays'][0]['tasks'][0]['hosts']['localhost']
            installed[program] = Path(result['program'])
        return installed[program]
    return install


@dataclass
class TaskResult:
    """One task's result on one host, from the JSON callback."""

    name: str
    host: str
    result: dict[str, t.Any]
    action: str = ''

    @property
    def changed(self) -> bool:
        """Whether the task reported a change."""
        return bool(self.result.get('changed'))

    @property
    def failed(self) -> bool:
        """Whether the task failed (ignored failures included)."""
        return bool(self.result.get('failed'))

    @property
    def skipped(self) -> bool:
        """Whether the task was skipped."""
        return bool(self.result.get('skipped'))

    def __getitem__(self, key: str) -> t.Any:
        return self.result[key]

    def get(self, key: str, default: t.Any = None) -> t.Any:
        """A value from the task's result."""
        return self.result.get(key, default)


@dataclass
class PlaybookResult:
    """What ansible-playbook did: exit code, raw output, parsed per-task results, stats."""

    rc: int
    stdout: str
    stderr: str
    tasks: list[TaskResult] = field(default_factory=list)
    stats: dict[str, t.Any] = field(default_factory=dict)

    def task(self, name: str, host: str | None = None) -> TaskResult:
        """The (last) result of the task with this name (a role's prefix may precede it); KeyError if it did not run."""
        for result in reversed(self.tasks):
            if (result.name == name or result.name.endswith(' : ' + name)) and (host is None or result.host == host):
                return result
        raise KeyError(f'no task {name!r} in: {[result.name for result in self.tasks]}\n{self.stderr}')

    @property
    def changed(self) -> bool:
        """Whether any task reported a change."""
        return any(result.changed for result in self.tasks)

    @property
    def failed(self) -> bool:
        """Whether the run failed (non-zero exit or a failed host)."""
        return self.rc != 0 or any(host.get('failures') or host.get('unreachable') for host in self.stats.values())

    def changed_tasks(self) -> list[str]:
        """Names of the tasks that changed something."""
        return [result.name for result in self.tasks if result.changed]

    def __str__(self) -> str:
        return f'rc={self.rc}\nstdout:\n{self.stdout[-4000:]}\nstderr:\n{self.stderr[-4000:]}'


def _parse_json_callback(stdout: str) -> tuple[list[TaskResult], dict[str, t.Any]]:
    """Per-task results and stats from the ansible.posix.json callback's output."""
    start = stdout.find('{')
    if start < 0:
        return [], {}
    try:
        document = json.loads(stdout[start:])
    except json.JSONDecodeError:
        return [], {}
    results = []
    for play in document.get('plays', []):
        for task in play.get('tasks', []):
            name = task.get('task', {}).get('name', '')
            for host, result in task.get('hosts', {}).items():
                results.append(TaskResult(name, host, result, result.get('action', '')))
    return results, document.get('stats', {})


PlaybookSource = t.Union[str, Path, list, dict]


@pytest.fixture
def run_playbook(collections_path: str, tmp_path: Path) -> t.Callable[..., PlaybookResult]:
    """Run a playbook against localhost (connection local, this venv's Python).

    ``run_playbook(playbook, extravars=None, check=False, diff=False,
    extra_args=(), env=None, timeout=600)``: ``playbook`` is a path, YAML text,
    or a list of plays (Python data). Extra variables go through a JSON file,
    so any size and type works. Returns a PlaybookResult; it never raises on a
    failed play: assert on ``rc``, ``failed``, ``task(name).changed`` etc.
    """
    counter = iter(range(1, 1000))

    def run(playbook: PlaybookSource, extravars: dict[str, t.Any] | None = None, check: bool = False,
            diff: bool = False, extra_args: t.Sequence[str] = (), env: dict[str, str] | None = None,
            timeout: float = 600) -> PlaybookResult:
        index = next(counter)
        workdir = tmp_path / f'playbook-{index}'
        workdir.mkdir()
        if isinstance(playbook, Path) or (isinstance(playbook, str) and '\n' not in playbook
                                          and Path(playbook).is_file()):
            playbook_path = Path(playbook).resolve()
        else:
            playbook_path = workdir / 'playbook.yml'
            text = playbook if isinstance(playbook, str) else yaml.safe_dump(playbook, sort_keys=False)
            playbook_path.write_text(text, encoding='utf-8')
        argv = [str(VENV_BIN / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                '-e', f'ansible_python_interpreter={sys.executable}', str(playbook_path)]
        if extravars:
            vars_path = workdir / 'extravars.json'
            vars_path.write_text(json.dumps(extravars), encoding='utf-8')
            argv += ['-e', f'@{vars_path}']
        if check:
            argv.append('--check')
        if diff:
            argv.append('--diff')
        argv += list(extra_args)

        # A clean Ansible environment: no user config, no stray ANSIBLE_* settings.
        run_env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
        run_env.update(
            ANSIBLE_COLLECTIONS_PATH=collections_path,
            ANSIBLE_HOME=str(workdir / 'ansible-home'),
            ANSIBLE_LOCAL_TEMP=str(workdir / 'tmp'),
            ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
            ANSIBLE_NOCOLOR='1',
            ANSIBLE_RETRY_FILES_ENABLED='0',
            ANSIBLE_DEPRECATION_WARNINGS='0',
            PATH=f'{VENV_BIN}{os.pathsep}{os.environ.get("PATH", "")}',
        )
        run_env.update(env or {})
        completed = subprocess.run(argv, cwd=workdir, env=run_env, capture_output=True, text=True,
                                   timeout=timeout, check=False)
        tasks, stats = _parse_json_callback(completed.stdout)
        return PlaybookResult(completed.returncode, completed.stdout, completed.stderr, tasks, stats)

    return run


@pytest.fixture(scope='session')
def require_programs() -> t.Callable[..., None]:
    """``require_programs('dhcpd', ...)``: skip loudly when a program is not installed."""
    def check(*programs: str) -> None:
        missing = [program for program in programs
                   if not shutil.which(program, path=os.environ.get('PATH', '') + ':/usr/sbin:/sbin')]
        if missing:
            pytest.skip(f'NOT TESTED: programs missing: {", ".join(missing)} (run `make deps`)')
    return check


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete any namespace a test left behind (a fixture that was never torn down)."""
    del session, exitstatus
    netns.cleanup_all()
