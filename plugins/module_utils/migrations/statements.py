# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Split an SQL script into statements with a real PostgreSQL parser (pglast).

The lint needs each statement's parse tree, line and preceding comments; the runner needs the
statements one by one because a multi-statement simple query is an implicit transaction, in
which ``CREATE INDEX CONCURRENTLY`` is refused.

The parse tree is libpg_query's JSON (``pglast.parser.parse_sql_json``) read into plain dicts,
not pglast's Python AST objects: building those took about half the lint's time, the JSON about
a fifth of that.  In the JSON a node is ``{"TypeName": {fields}}`` wherever the C field is a
generic ``Node *`` (list items, ``def``, expressions), and just ``{fields}`` where the C field
has a fixed type (``relation`` is always a RangeVar); fields at their default (false, 0, NULL,
empty list) are left out, enums are their C names (``"AT_AddColumn"``), and ``stmt_location``
and ``stmt_len`` count UTF-8 bytes.
"""

from __future__ import annotations

import json
import sys

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import DependencyError
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.sql_text import SqlFileError

# pglast's parser binds pglast.ast (a class per node type) and pglast.enums when it is imported,
# but only parse_sql, which builds AST objects, uses them; parse_sql_json needs neither.  Loading
# them took about 20 ms of every lint run, so they are loaded lazily: importlib.util.LazyLoader
# gives a module object whose code runs on its first attribute access.  Whoever uses them later
# gets them as usual; if they are already imported nothing changes.  (Until CPython gh-114763 was
# fixed in 2024, a lazy module's first use was not thread-safe; the lint runs in one thread.)
LAZY_PGLAST_MODULES = ("pglast.ast", "pglast.enums")


class _LazyPglastFinder:
    """A meta path finder, installed only while pglast.parser is imported, that hands out the
    modules of LAZY_PGLAST_MODULES with a LazyLoader around their usual loader."""

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name not in self.names:
            return None
        import importlib.machinery
        import importlib.util

        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec


def import_pglast_parser():
    """``pglast.parser``, with pglast's AST classes and enums loaded only when first used."""
    finder = _LazyPglastFinder(name for name in LAZY_PGLAST_MODULES if name not in sys.modules)
    sys.meta_path.insert(0, finder)
    try:
        from pglast import parser
    finally:
        sys.meta_path.remove(finder)
    return parser


try:
    pg_parser = import_pglast_parser()
except ImportError:  # pragma: no cover - reported by require_pglast()
    import traceback  # only here: importing it costs a run of the lint about 2.5 ms

    pg_parser = None
    PGLAST_IMPORT_ERROR = traceback.format_exc()
else:
    PGLAST_IMPORT_ERROR = None


class Statement:
    """One statement of a script: its text, 1-based line, parse tree and the text before it.

    ``kind`` is the node type (``"AlterTableStmt"``), ``node`` its fields (a dict, see above);
    ``leading`` the comments and blank space between the previous statement and this one.
    """

    __slots__ = ("kind", "leading", "line", "node", "text")

    def __init__(self, text, line, kind, node, leading):
        self.text, self.line, self.kind, self.node, self.leading = text, line, kind, node, leading

    def __repr__(self):
        return "Statement(%s, line %d: %.40r)" % (self.kind, self.line, self.text)


def node_of(wrapped):
    """``(type, fields)`` of a node written ``{"Type": {fields}}`` (a list item, ``def``...)."""
    ((kind, fields),) = wrapped.items()
    return kind, fields


def last_name(names):
    """The last part of a qualified name (a list of String nodes): ``public.t`` -> ``"t"``."""
    return names[-1]["String"].get("sval", "")


def relname(rangevar):
    """The table name of a RangeVar's fields, None without one."""
    return rangevar.get("relname") if rangevar is not None else None


# Nesting the JSON decoder may reach: libpg_query refuses SQL nested deeper than about 33,000
# JSON levels ("stack depth limit exceeded"), and the C decoder overflows an 8 MB stack only
# past about 100,000, so this turns what is left into an error instead of a crash.
JSON_NESTING_LIMIT = 60000


def _load_tree(text, source):
    """The parse tree from libpg_query's JSON; a long chain of operators (``'a' || 'b' || ...``
    500 times) nests deeper than Python's default recursion limit, so that case is decoded again
    under a higher one."""
    try:
        return json.loads(text)
    except RecursionError:
        pass
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, JSON_NESTING_LIMIT))
    try:
        return json.loads(text)
    except RecursionError:
        raise SqlFileError(
            "cannot read the parse tree of %s: its expressions nest more than %d levels deep; split "
            "the statement" % (source, JSON_NESTING_LIMIT), file=source) from None
    finally:
        sys.setrecursionlimit(limit)


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
        tree = pg_parser.parse_sql_json(sql)
    except pg_parser.ParseError as exc:
        location = exc.args[1] if len(exc.args) > 1 else None
        line = line_of(sql, location) if isinstance(location, int) else None
        raise SqlFileError(
            "cannot parse %s%s: %s; fix the SQL (it must be valid PostgreSQL) and run again"
            % (source, " at line %d" % line if line else "", exc.args[0] if exc.args else exc),
            file=source, line=line) from None
    raw = _load_tree(tree, source).get("stmts", ())
    # The locations count UTF-8 bytes: slice the bytes (and decode the pieces) unless all is ASCII.
    is_ascii = sql.isascii()
    data = sql if is_ascii else sql.encode("utf-8")
    statements = []
    previous_end = 0
    line = 1  # counted on from the previous statement: counting from 0 each time is quadratic
    for item in raw:
        start = item.get("stmt_location", 0)
        end = start + (item.get("stmt_len") or (len(data) - start))
        leading, text = data[previous_end:start], data[start:end]
        if not is_ascii:
            leading, text = leading.decode("utf-8"), text.decode("utf-8")
        stripped = text.lstrip()
        line += leading.count("\n") + text.count("\n", 0, len(text) - len(stripped))
        ((kind, node),) = item["stmt"].items()
        statements.append(Statement(stripped.rstrip(), line, kind, node, leading))
        line += stripped.count("\n")
        previous_end = end
    return statements
