# Copyright (c) 2026, cluster.netboot contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Templates over named fields (``node{x}-{y}.grid``, ``https://{bmc}``): checked once, filled in safely.

A template is a Python format string whose fields are plain names: no
positional ``{}``/``{0}``, no attribute or index (``{x.real}``, ``{a[0]}``),
which would reach into Python objects, and no nested fields in a format spec.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Collection, Mapping

from ansible_collections.cluster.netboot.plugins.module_utils._errors import NetbootError

_FORMATTER = string.Formatter()
_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


class TemplateError(NetbootError):
    """A template that is malformed, uses a field it may not use, or cannot be filled in."""


def fields(template: object, what: str, allowed: Collection[str] | None = None) -> list[str]:
    """The field names of ``template``, in order; a TemplateError names ``what`` when it is not usable.

    With ``allowed`` only those names may appear.
    """
    if not isinstance(template, str) or not template.strip():
        raise TemplateError('%s must be a non-empty string, got %r' % (what, template))
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise TemplateError('%s: invalid template %r: %s' % (what, template, exc)) from None
    names = []
    for _literal, name, spec, _conversion in parsed:
        if name is None:
            continue
        if not _NAME.match(name) or (spec and '{' in spec):
            if allowed is None:
                raise TemplateError('%s %r: only named fields such as {name} may be used, not {%s}'
                                    % (what, template, name))
        if allowed is not None and (name not in allowed or (spec and '{' in spec)):
            raise TemplateError('%s: invalid template %r: unknown field {%s}; the fields are %s'
                                % (what, template, name, _listing(allowed)))
        names.append(name)
    return names


def render(template: str, values: Mapping[str, object], what: str, subject: str = '',
           escape: Callable[[str], str] | None = None) -> str:
    """Fill in ``template`` from ``values``; a missing or empty value is an error naming ``subject``.

    ``escape`` is applied to every value first (for example percent-encoding
    for a URL, so that a value cannot add a query parameter).
    """
    names = fields(template, what)
    for name in names:
        if values.get(name) in (None, ''):
            raise TemplateError('%s %r needs {%s}, which %s does not have' % (what, template, name, subject or 'it'))
    filled = {name: values[name] for name in names}
    if escape is not None:
        filled = {name: escape(str(value)) for name, value in filled.items()}
    try:
        return template.format(**filled)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise TemplateError('%s %r cannot be filled in for %s: %s' % (what, template, subject or 'it', exc)) from None


def _listing(names: Collection[str]) -> str:
    quoted = ['{%s}' % name for name in names]
    return quoted[0] if len(quoted) == 1 else '%s and %s' % (', '.join(quoted[:-1]), quoted[-1])
