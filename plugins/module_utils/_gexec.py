# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Running a command on nodes through the GEXEC 0.3.x client, and reading what it says.

What the real client does (gexec.c, gexec_lib.c, gexecd.c of GEXEC 0.3.9,
confirmed against locally built authd/gexecd/gexec):

* It exits 0 whether or not the command ran anywhere. Failures are lines:
  on **stdout**, unprefixed, ``Could not connect to <host> (<ip>)`` for every
  node that could not be reached or whose gexecd rejected the credentials
  (another key); <host> is the reverse-DNS name, empty when there is none.
  On **stderr**: ``Could not obtain signature from authd on localhost`` when
  the console's authd is down or cannot sign (a key that is not 512-bit RSA
  makes it abort), ``Error sending to <host> (<ip>)``, and with ``-p host``
  ``Could not find hostname for <ip>``.
* When any node cannot be reached, the job is started on **no** node: the
  tree of gexecd connections is built first and torn down on the first error.
* ``-p`` picks the prefix of every output line: ``none``, ``vnn`` (default:
  the node's index in ``GEXEC_SVRS``), ``host`` (the reverse-DNS name of its
  address; gexec aborts the whole run when any address, its own included, has
  none) or ``ip``. The module uses ``vnn``: it maps back to the names given,
  also when two names share an address, and needs no reverse DNS.
* The node's stderr comes back on the client's **stdout**, prefixed like
  stdout (gexecd sends both as output messages). Exit codes are not reported.
* gexecd reports ``Could not exec <path>`` and ``Could not chdir to <dir>``
  through that same output. gexec sends its own environment and working
  directory to the nodes and looks the program up in its own PATH.
* The client resolves its own host name (gethostname, gethostbyname) to
  stamp the job, and aborts with ``request.c:36 Assertion failed`` (exit
  255) when it does not resolve.
* gexecd forwards a node's output in messages that end in a newline, except
  the last one of each of the node's two streams (output that does not end
  in a newline) and pieces of 4095 bytes of a longer line. The client prints
  every line of a message with the prefix, and the rest of a message without a
  newline with the prefix too, then flushes (one write per printed piece). So
  a node's last words without a newline and the next node's prefixed line
  share one physical line: ``0 out-of-01 out-of-1``. Read as text, that line
  cannot be split for sure (node 0 may have printed ``out-of-01 out-of-1``).
  :func:`run` therefore hands gexec a Unix SOCK_SEQPACKET socket as stdout, so
  each of its writes arrives as one record and every piece keeps its node
  (:func:`pieces_from_records`); output read as plain text is split by line,
  and a line that may hold several nodes' pieces makes those nodes
  ``ambiguous`` (not ok) instead of being guessed.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.cluster.netboot.plugins.module_utils import _nodeset
from ansible_collections.cluster.netboot.plugins.module_utils import _process
from ansible_collections.cluster.netboot.plugins.module_utils._addresses import parse_ipv4
from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError

DEFAULT_PORT = 2875
# GEXEC_MAX_NPROCS: the node bitmasks are 512 chunks of 32 bits.
MAX_NODES = 512 * 32
# Seconds between the SIGTERM gexec forwards to the remote jobs and SIGKILL.
KILL_GRACE = 5.0

# The exact texts of the real tools.
SIGNATURE_FAILED = 'Could not obtain signature from authd on localhost'
_CONNECT_FAILED = re.compile(r'^Could not connect to (?P<host>.*) \((?P<ip>[0-9.]+)\)$')
_SEND_FAILED = re.compile(r'^Error sending to (?P<host>.*) \((?P<ip>[0-9.]+)\)$')
_NO_HOSTNAME = re.compile(r'^Could not find hostname for (?P<ip>\S+)$')
# The client prints the prefix with "%d ": no sign, no leading zero.
_VNN_PREFIX = re.compile(rb'(?:0|[1-9][0-9]{0,4}) ')
REMOTE_EXEC_FAILED = 'Could not exec '
REMOTE_CHDIR_FAILED = 'Could not chdir to '
# GEXEC_IO_CHUNK less its NUL: the most text one forwarded message carries.
IO_CHUNK_TEXT = 4095


class GexecError(NetbootError):
    """Bad input, or gexec failing before it ran anything."""


def expand_nodes(nodes: object) -> list[str]:
    """The nodes in the given order (NodeSet string or list); at most what gexec's bitmasks hold."""
    names = _nodeset.expand_list(nodes)
    if len(names) > MAX_NODES:
        raise GexecError('gexec handles at most %d nodes in one run, got %d' % (MAX_NODES, len(names)))
    return names


def resolve(names: Sequence[str], lookup: Callable[[str], str] = socket.gethostbyname) -> list[str]:
    """The IPv4 address gexec will connect to for each name (it uses gethostbyname too)."""
    addresses = []
    unresolved = []
    for name in names:
        try:
            addresses.append(parse_ipv4(lookup(name)))
        except (OSError, UnicodeError, NetbootError):
            unresolved.append(name)
    if unresolved:
        raise GexecError('cannot resolve %s on this host; gexec would stop with "Bad host"' % ', '.join(unresolved))
    return addresses


def check_own_name(lookup: Callable[[str], str] = socket.gethostbyname,
                   hostname: Callable[[], str] = socket.gethostname) -> str:
    """gexec stamps each job with its own host's address and aborts (``request.c:36 Assertion failed``,
    exit 255, before contacting any node) when its host name does not resolve."""
    name = hostname()
    try:
        return parse_ipv4(lookup(name))
    except (OSError, UnicodeError, NetbootError):
        raise GexecError('the host name of this host, %s, does not resolve to an IPv4 address; gexec needs it '
                         '(it aborts with "Assertion failed" otherwise): add it to /etc/hosts' % name) from None


def command_argv(command: object) -> list[str]:
    """A list is argv as is; a string is split like a shell would split words, never run by a shell."""
    if isinstance(command, str):
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise GexecError('cannot split command %r: %s' % (command, exc)) from None
    elif isinstance(command, (list, tuple)):
        argv = [str(part) for part in command]
    else:
        raise GexecError('command must be a string or a list, got %r' % (command,))
    if not argv or not argv[0]:
        raise GexecError('command is empty')
    if argv[0].startswith('-'):
        raise GexecError('command %r starts with "-": gexec would read it as one of its own options' % argv[0])
    return argv


def find_program(program: str, path: str) -> str:
    """Where gexec will find ``program``: it resolves it on the console, and the nodes run that path."""
    if '/' in program:
        if not os.path.isabs(program):
            raise GexecError('command %s: give an absolute path or a bare name (gexec sends the path it finds '
                             'on this host to the nodes)' % program)
        if not os.path.exists(program):
            raise GexecError('command %s does not exist on this host; gexec looks it up here and would stop with '
                             '"Bad filename"' % program)
        return program
    for directory in path.split(':'):
        candidate = os.path.join(directory or '.', program)
        if os.path.isfile(candidate) and os.stat(candidate).st_mode & 0o111:
            return candidate
    raise GexecError('command %s is not in PATH (%s) on this host; gexec looks it up here and would stop with '
                     '"Bad filename"' % (program, path))


def gexec_argv(gexec: str, argv: Sequence[str], port: int = DEFAULT_PORT) -> list[str]:
    """``gexec -n 0 -p vnn -P PORT prog args``. Every option and its value are separate words: gexec
    counts argv words to find where the program starts, so ``-n0`` would make it run ``0``."""
    if not 1 <= port <= 65535:
        raise GexecError('port must be between 1 and 65535, got %d' % port)
    return [gexec, '-n', '0', '-p', 'vnn', '-P', str(port)] + list(argv)


def gexec_environment(names: Sequence[str], path: str, extra: Mapping[str, Any] | None) -> dict[str, str]:
    """gexec forwards its whole environment to every node: start it with only what the job needs."""
    env = {'PATH': path}
    for key, value in (extra or {}).items():
        if not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', str(key)):
            raise GexecError('environment variable name %r is not valid' % (key,))
        if key == 'GEXEC_SVRS':
            raise GexecError('GEXEC_SVRS is set from nodes; do not give it in environment')
        env[str(key)] = str(value)
    env['GEXEC_SVRS'] = ' '.join(names)
    return env


@dataclass
class RawRun:
    rc: int | None
    stdout: str
    stderr: str
    timed_out: bool = False
    # stdout as gexec's separate writes, and the stdio buffer size of that descriptor (see pieces_from_records).
    records: list[bytes] | None = None
    record_size: int = 0


def run(argv: Sequence[str], env: Mapping[str, str], cwd: str, timeout: float | None) -> RawRun:
    """Run gexec with no stdin (it forwards stdin to the jobs: EOF at once), its writes to stdout kept apart.

    On timeout gexec's process group gets SIGTERM, which gexec forwards to the remote jobs, and
    KILL_GRACE seconds later SIGKILL.
    """
    try:
        completed = _process.run(argv, timeout=timeout, env=env, cwd=cwd, records=True, term_grace=KILL_GRACE)
    except _process.ProcessError as exc:
        raise GexecError('cannot start %s: %s' % (argv[0], exc)) from None
    return RawRun(rc=completed.rc, stdout=completed.text('stdout'), stderr=completed.text('stderr'),
                  timed_out=completed.timed_out, records=completed.records, record_size=completed.record_size)


@dataclass
class Piece:
    """What the client printed for one node in one go: its prefix's node and the text after it."""

    vnn: int | None
    text: bytes
    prefix_length: int = 0
    # The nodes whose output may not be told apart here, and what was printed (see the callers).
    ambiguous: tuple[int, ...] = ()
    context: bytes = b''


def _prefix(data: bytes, count: int) -> tuple[int, int] | None:
    """(vnn, prefix length) when ``data`` starts with the prefix of one of ``count`` nodes."""
    match = _VNN_PREFIX.match(data)
    if match and int(match.group()[:-1]) < count:
        return int(match.group()[:-1]), match.end()
    return None


def pieces_from_records(records: Sequence[bytes], record_size: int, count: int) -> list[Piece] | None:
    """The client's printed pieces from its separate writes; None when the writes do not look like them.

    Each piece is printed with one fprintf and one fflush, so it starts a new
    write. A piece longer than the stdio buffer (``record_size`` bytes, at most
    6 + 4095 bytes) is split into a full buffer and the rest: a record of
    exactly ``record_size`` bytes without a newline may go on in the next one.
    Lines the client prints for itself (``Could not connect``) have no prefix
    and become pieces with ``vnn`` None. A piece holds a newline only at its
    end; a record that breaks that came through something that merged the
    writes (a wrapper piping gexec's output), and then None is returned.
    """
    pieces: list[Piece] = []
    size = record_size if record_size > 0 else 4096
    for record in records:
        last = pieces[-1] if pieces else None
        prefix = _prefix(record, count)
        if last is not None and _may_continue(last, size):
            if last.vnn is None and prefix is None:
                last.text += record
                continue
            if last.vnn is not None:
                fits = last.prefix_length + len(last.text) + len(record) <= last.prefix_length + IO_CHUNK_TEXT
                if fits and prefix is None:
                    last.text += record
                    if b'\n' in last.text[:-1]:
                        return None
                    continue
                if fits:
                    # The rest of a long piece that looks like a new one: both readings are possible.
                    pieces.append(Piece(prefix[0], record[prefix[1]:], prefix[1], ambiguous=(last.vnn, prefix[0]),
                                        context=b'%d %s' % (last.vnn, last.text) + record))
                    continue
        if prefix is None:
            pieces.append(Piece(None, record))
            continue
        piece = Piece(prefix[0], record[prefix[1]:], prefix[1])
        if b'\n' in piece.text[:-1]:
            return None
        pieces.append(piece)
    return pieces


def _may_continue(piece: Piece, size: int) -> bool:
    length = piece.prefix_length + len(piece.text)
    return length > 0 and length % size == 0 and not piece.text.endswith(b'\n')


def pieces_from_text(stdout: bytes, count: int) -> list[Piece]:
    """The pieces of output read as plain text, one physical line at a time.

    A piece without a newline is followed on the same line by the next piece,
    prefix and all, and nothing marks where one ends. A line whose rest holds
    something shaped like another node's prefix is therefore ambiguous: its
    first node and every node whose prefix may start inside it are marked.
    """
    pieces: list[Piece] = []
    for line in stdout.splitlines(keepends=True):
        prefix = _prefix(line, count)
        if prefix is None:
            pieces.append(Piece(None, line))
            continue
        vnn, length = prefix
        rest = line[length:]
        others = sorted({found[0] for found in (_prefix(rest[index:], count) for index in range(1, len(rest)))
                         if found is not None})
        if others:
            pieces.append(Piece(vnn, rest, length, ambiguous=tuple([vnn] + others), context=line))
        else:
            pieces.append(Piece(vnn, rest, length))
    return pieces


@dataclass
class NodeResult:
    name: str
    address: str
    vnn: int
    status: str = 'ok'
    msg: str = ''
    chunks: list[bytes] = field(default_factory=list)
    # The raw lines that may hold this node's output mixed with another node's (text parsing only).
    ambiguous: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return b''.join(self.chunks).decode('utf-8', errors='replace')

    def as_dict(self) -> dict[str, Any]:
        output = self.output
        return dict(name=self.name, address=self.address, vnn=self.vnn, status=self.status, msg=self.msg,
                    output=output, output_lines=output.splitlines())


@dataclass
class Outcome:
    nodes: list[NodeResult]
    unparsed: list[str]
    errors: list[str]

    @property
    def failed_nodes(self) -> list[str]:
        return [node.name for node in self.nodes if node.status != 'ok']

    def summary(self) -> str:
        failed = [node for node in self.nodes if node.status != 'ok']
        if not failed:
            return 'ran on %d node(s)' % len(self.nodes)
        by_status: dict[str, list[str]] = {}
        for node in failed:
            by_status.setdefault(node.status, []).append(node.name)
        parts = ['%s: %s' % (status, _nodeset_fold(names)) for status, names in sorted(by_status.items())]
        reason = '; '.join(self.errors) if self.errors else failed[0].msg
        return '%d of %d node(s) failed (%s): %s' % (len(failed), len(self.nodes), ', '.join(parts), reason)


def _nodeset_fold(names: Iterable[str]) -> str:
    names = list(names)
    try:
        return _nodeset.fold(names)
    except NetbootError:
        return ','.join(names)


def parse(raw: RawRun, names: Sequence[str], addresses: Sequence[str], timeout: float | None = None) -> Outcome:
    """Turn gexec's output into per-node results (see the module docstring for the formats)."""
    nodes = [NodeResult(name=name, address=address, vnn=index)
             for index, (name, address) in enumerate(zip(names, addresses))]
    by_address: dict[str, list[NodeResult]] = {}
    for node in nodes:
        by_address.setdefault(node.address, []).append(node)

    pieces = None
    if raw.records is not None:
        pieces = pieces_from_records(raw.records, raw.record_size, len(nodes))
    if pieces is None:
        pieces = pieces_from_text(raw.stdout.encode('utf-8', errors='surrogateescape'), len(nodes))

    unparsed: list[str] = []
    unreachable: list[NodeResult] = []
    client_text = b''.join(piece.text for piece in pieces if piece.vnn is None)
    for piece in pieces:
        if piece.vnn is None:
            continue
        for vnn in piece.ambiguous:
            nodes[vnn].ambiguous.append(piece.context.rstrip(b'\n').decode('utf-8', errors='replace'))
        nodes[piece.vnn].chunks.append(piece.text)
    for line in client_text.decode('utf-8', errors='replace').splitlines():
        failed = _CONNECT_FAILED.match(line)
        if failed:
            for node in by_address.get(failed.group('ip'), []):
                if node not in unreachable:
                    unreachable.append(node)
            continue
        unparsed.append(line)

    errors: list[str] = []
    client_failed = False
    for line in raw.stderr.splitlines():
        if line == SIGNATURE_FAILED:
            errors.append(SIGNATURE_FAILED + ': the authd on this host is not running or cannot sign with its key '
                          '(/etc/auth_priv.pem must be the 512-bit RSA key in the traditional PEM form)')
            client_failed = True
        elif _SEND_FAILED.match(line) or _NO_HOSTNAME.match(line):
            errors.append(line)
            client_failed = True
        elif line.strip():
            errors.append(line)

    if raw.timed_out:
        for node in nodes:
            node.status = 'timeout'
            node.msg = 'gexec did not finish within %s s; it was stopped (the remote jobs got SIGTERM)' % (timeout,)
    elif unreachable:
        # gexec builds its whole tree of connections before it starts the job: one failed node and the
        # job runs nowhere.
        failed_names = _nodeset_fold(node.name for node in unreachable)
        for node in nodes:
            if node in unreachable:
                node.status = 'unreachable'
                node.msg = ('Could not connect to %s: the node is down, gexecd is not listening, or gexecd '
                            'rejected the credentials (its /etc/auth_pub.pem is not the console\'s key)' % node.address)
            else:
                node.status = 'not_run'
                node.msg = 'gexec ran the command on no node because %s could not be reached' % failed_names
    elif client_failed:
        for node in nodes:
            node.status = 'not_run'
            node.msg = errors[0]
    else:
        for node in nodes:
            first = node.output.split('\n', 1)[0]
            if first.startswith(REMOTE_EXEC_FAILED) or first.startswith(REMOTE_CHDIR_FAILED):
                node.status = 'failed'
                node.msg = first
            elif node.ambiguous:
                node.status = 'ambiguous'
                node.msg = ('gexec printed output of several nodes on one line (output that does not end in a '
                            'newline), so which part is this node\'s cannot be told; it may also hide a "Could not '
                            'exec" or "Could not chdir" message: %s' % '; '.join(repr(line) for line in node.ambiguous))
    return Outcome(nodes=nodes, unparsed=unparsed, errors=errors)
