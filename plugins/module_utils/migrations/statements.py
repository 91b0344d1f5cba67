# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Split an SQL script into statements with a real PostgreSQL parser (pglast).

The lint needs each statement's parse tree, line and preceding comments; the runner needs the
statements one by one because a multi-statement simple query is an implicit transaction, in
which ``CREATE INDEX CONCURRENTLY`` is refused.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import DependencyError
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.files import SqlFileError

try:
    from pglast import parser as pg_parser
except ImportError:  # pragma: no cover - reported by require_pglast()
    pg_parser = None
    PGLAST_IMPORT_ERROR = traceback.format_exc()
else:
    PGLAST_IMPORT_ERROR = None


@dataclass
class Statement:
    """One statement of a script: its text, 1-based line, parse tree and the text before it."""

    text: str
    line: int
    node: object
    leading: str  # comments and blank space between the previous statement and this one


def require_pglast():
    """Raise DependencyError when pglast is not importable on the host that runs the task."""
    if pg_parser is None:
        raise DependencyError(
            "the Python library pglast is required to parse SQL; install it with "
            "'pip install pglast==8.7' into the interpreter Ansible uses",
            import_error=PGLAST_IMPORT_ERROR,
        )


def line_of(text, offset):
    """1-based line number of character ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1


def split_statements(sql, source="<sql>"):
    """Parse ``sql`` and return its :class:`Statement` list, in order.

    Raises SqlFileError naming ``source`` and the line when the SQL does not parse or holds a NUL.
    """
    require_pglast()
    nul = sql.find("\0")
    if nul >= 0:  # the parser reads a C string: everything after a NUL would vanish unseen
        raise SqlFileError(
            "%s holds a NUL character (offset %d, line %d); remove it" % (source, nul, line_of(sql, nul)),
            file=source, line=line_of(sql, nul), offset=nul)
    try:
        raw = pg_parser.parse_sql(sql)
    except pg_parser.ParseError as exc:
        location = exc.args[1] if len(exc.args) > 1 else None
        line = line_of(sql, location) if isinstance(location, int) else None
        raise SqlFileError(
            "cannot parse %s%s: %s; fix the SQL (it must be valid PostgreSQL) and run again"
            % (source, " at line %d" % line if line else "", exc.args[0] if exc.args else exc),
            file=source, line=line) from None
    statements = []
    previous_end = 0
    line = 1  # counted on from the previous statement: counting from 0 each time is quadratic
    for item in raw:
        start = item.stmt_location or 0
        length = item.stmt_len or (len(sql) - start)
        leading = sql[previous_end:start]
        line += leading.count("\n")
        text = sql[start:start + length]
        stripped = text.lstrip()
        statement_line = line + text.count("\n", 0, len(text) - len(stripped))
        statements.append(Statement(text=stripped.rstrip(), line=statement_line, node=item.stmt, leading=leading))
        line += text.count("\n")
        previous_end = start + length
    return statements
