# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Danger in SQL migrations, found on pglast parse trees (never regular expressions on SQL).

Every finding says whether it breaks the application version that is still running during a
blue-green window (``breaks_running_version``): dropping, renaming or retyping something it uses
does; an added nullable column does not.  A playbook can therefore allow "expand" migrations and
block "contract" ones.

Suppression: a comment right before the statement,
``-- shipyard:ignore <rule>[,<rule>...] reason: <why>``; without a reason it does not suppress.
"""

from __future__ import annotations

import os
import re

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    MigrationError,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.files import (
    SqlFileError,
    read_sql,
    require_directory,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.markers import (
    no_transaction_marker,
    up_section,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.statements import (
    split_statements,
)

try:
    from pglast import ast
    from pglast.enums import AlterTableType, ConstrType, DropBehavior, ObjectType, TransactionStmtKind
except ImportError:  # pragma: no cover - split_statements() reports the missing library
    ast = None

# (why, safe alternative, breaks the running version)
RULES = {
    "not_null_without_default": (
        "adding a NOT NULL column without a default fails on a non-empty table, and the running "
        "version's INSERTs, which do not name the column, fail once it exists",
        "add the column nullable (or with a constant DEFAULT), backfill, then enforce NOT NULL",
        True),
    "volatile_default": (
        "a volatile DEFAULT (random(), clock_timestamp(), gen_random_uuid(), nextval/serial…) "
        "rewrites the whole table under an ACCESS EXCLUSIVE lock",
        "add the column without a default, set the default separately, backfill in batches",
        False),
    "drop_column": (
        "the running version still reads or writes the column; its queries fail once it is gone",
        "stop using the column in a release first, drop it in a later (contract) migration",
        True),
    "drop_table": (
        "the running version still uses the table; data is lost with it",
        "stop using the table in a release first, drop it in a later (contract) migration after a backup",
        True),
    "rename_column": (
        "the running version still uses the old column name; its queries fail at once",
        "add the new column, write both, backfill, switch reads, drop the old one later",
        True),
    "rename_table": (
        "the running version still uses the old table name; its queries fail at once",
        "create the new table (or a view under the old name), migrate, drop the old name later",
        True),
    "change_column_type": (
        "changing a column's type usually rewrites the table under an ACCESS EXCLUSIVE lock, and "
        "the running version may not handle the new type",
        "add a column of the new type, backfill, switch the application, drop the old column later",
        True),
    "create_index_without_concurrently": (
        "CREATE INDEX without CONCURRENTLY blocks every write to the table while it builds",
        "CREATE INDEX CONCURRENTLY in a non-transactional migration (-- shipyard:no-transaction)",
        False),
    "drop_index_without_concurrently": (
        "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
        "DROP INDEX CONCURRENTLY in a non-transactional migration (-- shipyard:no-transaction)",
        False),
    "concurrently_in_transaction": (
        "CONCURRENTLY cannot run inside a transaction block; the migration fails",
        "put the statement alone in a file marked '-- shipyard:no-transaction' (no BEGIN/COMMIT)",
        False),
    "constraint_without_not_valid": (
        "adding a FOREIGN KEY or CHECK constraint validates every row while holding a lock that "
        "blocks writes",
        "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later statement",
        False),
    "unique_constraint": (
        "adding a UNIQUE or PRIMARY KEY constraint builds its index while blocking writes",
        "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX",
        False),
    "set_not_null": (
        "SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock, and the running version may "
        "still write NULLs there",
        "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL once "
        "no running version writes NULL",
        True),
    "truncate_cascade": (
        "TRUNCATE ... CASCADE also empties every table that references it, which the running "
        "version still reads",
        "delete exactly the rows you mean to, table by table, after a backup",
        True),
    "char_column": (
        "char(n) pads with spaces and compares surprisingly; it is never faster than text",
        "use text or varchar (with a CHECK on length if a limit is needed)",
        False),
    "invalid_file": (
        "the file cannot be read or parsed as PostgreSQL SQL (not UTF-8, a NUL byte, or a syntax "
        "error), so nothing in it can be checked and no runner can apply it as written",
        "fix the file at the line given; it must be UTF-8 text that PostgreSQL parses",
        True),
    "missing_lock_timeout": (
        "without lock_timeout a DDL statement waiting for its lock blocks every query queued "
        "behind it, which can stop the application",
        "SET lock_timeout = '5s' at the top of the migration (migration_apply sets one for you)",
        False),
}

VOLATILE_FUNCTIONS = {
    "random", "clock_timestamp", "timeofday", "gen_random_uuid", "uuid_generate_v1",
    "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4", "uuidv7", "nextval", "txid_current",
    "setseed", "random_normal",
}
SERIAL_TYPES = {"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"}
SUPPRESS_RE = re.compile(
    r"--\s*shipyard:\s*ignore\s+(?P<rules>[a-z_]+(?:\s*,\s*[a-z_]+)*)(?:\s+reason:\s*(?P<reason>\S.*))?",
    re.IGNORECASE,
)


def _walk(node):
    """Every pglast node below ``node`` (itself included)."""
    if isinstance(node, (list, tuple)):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, ast.Node):
        yield node
        for name in type(node).__slots__:
            yield from _walk(getattr(node, name, None))


def _type_name(type_node):
    return type_node.names[-1].sval if type_node is not None and type_node.names else ""


def _relname(rangevar):
    return rangevar.relname if rangevar is not None else None


def _created_relation(node):
    """The name of the table or view a statement creates (then new and empty, or not a table
    the running version uses), else None: CREATE TABLE, CREATE TABLE ... AS, SELECT ... INTO,
    CREATE [MATERIALIZED] VIEW."""
    if isinstance(node, ast.CreateStmt):
        return _relname(node.relation)
    if isinstance(node, ast.CreateTableAsStmt) and node.into is not None:
        return _relname(node.into.rel)
    if isinstance(node, ast.SelectStmt) and node.intoClause is not None:
        return _relname(node.intoClause.rel)
    if isinstance(node, ast.ViewStmt):
        return _relname(node.view)
    return None


class _Context:
    """What the lint has seen so far in a script: tables it created, lock_timeout, BEGIN."""

    def __init__(self, transactional):
        self.created = set()
        self.lock_timeout_set = False
        self.in_transaction_block = transactional
        self.explicit_block = False


def _column_findings(coldef, new_table):
    rules = []
    type_name = _type_name(coldef.typeName)
    if type_name == "bpchar":
        rules.append("char_column")
    if new_table:
        return rules
    constraints = coldef.constraints or ()
    contypes = {c.contype for c in constraints}
    has_default = ConstrType.CONSTR_DEFAULT in contypes or ConstrType.CONSTR_IDENTITY in contypes \
        or type_name in SERIAL_TYPES
    if (ConstrType.CONSTR_NOTNULL in contypes or ConstrType.CONSTR_PRIMARY in contypes) and not has_default:
        rules.append("not_null_without_default")
    # serial and identity columns fill existing rows from a sequence: a rewrite, like random().
    volatile = type_name in SERIAL_TYPES or ConstrType.CONSTR_IDENTITY in contypes
    for constraint in constraints:
        if constraint.contype == ConstrType.CONSTR_DEFAULT:
            for sub in _walk(constraint.raw_expr):
                if isinstance(sub, ast.FuncCall) and sub.funcname[-1].sval.lower() in VOLATILE_FUNCTIONS:
                    volatile = True
        if constraint.contype in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK) \
                and not constraint.skip_validation:
            rules.append("constraint_without_not_valid")
        if constraint.contype in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY):
            rules.append("unique_constraint")
    if volatile:
        rules.append("volatile_default")
    return rules


def _alter_table_findings(stmt, ctx):
    rules = []
    new_table = _relname(stmt.relation) in ctx.created
    for cmd in stmt.cmds or ():
        subtype = cmd.subtype
        if subtype == AlterTableType.AT_AddColumn:
            rules.extend(_column_findings(cmd.def_, new_table))
        elif subtype == AlterTableType.AT_DropColumn:
            rules.append("drop_column")
        elif subtype == AlterTableType.AT_AlterColumnType:
            rules.append("change_column_type")
            if _type_name(cmd.def_.typeName) == "bpchar":
                rules.append("char_column")
        elif subtype == AlterTableType.AT_SetNotNull and not new_table:
            rules.append("set_not_null")
        elif subtype == AlterTableType.AT_AddConstraint and not new_table:
            constraint = cmd.def_
            if constraint.contype in (ConstrType.CONSTR_FOREIGN, ConstrType.CONSTR_CHECK) \
                    and not constraint.skip_validation:
                rules.append("constraint_without_not_valid")
            if constraint.contype in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY) \
                    and not constraint.indexname:
                rules.append("unique_constraint")
    return rules


def _is_ddl_needing_lock(node):
    return isinstance(node, (ast.AlterTableStmt, ast.RenameStmt, ast.DropStmt, ast.TruncateStmt)) or (
        isinstance(node, ast.IndexStmt) and not node.concurrent)


def _only_new_relations(node, ctx):
    """True when a statement only touches tables the script made (no other session waits on them)."""
    if isinstance(node, (ast.AlterTableStmt, ast.IndexStmt)):
        return _relname(node.relation) in ctx.created
    if isinstance(node, ast.DropStmt) and node.objects:
        return all(isinstance(obj, (list, tuple)) and obj[-1].sval in ctx.created for obj in node.objects)
    return False


def _statement_rules(node, ctx):
    """The rule names a statement triggers, given what the script did before it."""
    rules = []
    if isinstance(node, ast.TransactionStmt):
        if node.kind in (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START):
            ctx.explicit_block = True
        elif node.kind in (TransactionStmtKind.TRANS_STMT_COMMIT, TransactionStmtKind.TRANS_STMT_ROLLBACK):
            ctx.explicit_block = False
        return rules
    if isinstance(node, ast.VariableSetStmt) and (node.name or "").lower() == "lock_timeout":
        ctx.lock_timeout_set = True
        return rules
    created = _created_relation(node)
    if created:
        ctx.created.add(created)
    if isinstance(node, ast.CreateStmt):
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef) and _type_name(element.typeName) == "bpchar":
                rules.append("char_column")
        return rules
    if isinstance(node, ast.AlterTableStmt) and node.objtype == ObjectType.OBJECT_TABLE:
        rules.extend(_alter_table_findings(node, ctx))
    elif isinstance(node, ast.RenameStmt):
        if node.renameType == ObjectType.OBJECT_COLUMN:
            rules.append("rename_column")
        elif node.renameType == ObjectType.OBJECT_TABLE:
            rules.append("rename_table")
    elif isinstance(node, ast.DropStmt):
        if node.removeType == ObjectType.OBJECT_TABLE:
            if not _only_new_relations(node, ctx):
                rules.append("drop_table")
        elif node.removeType == ObjectType.OBJECT_INDEX and not node.concurrent:
            rules.append("drop_index_without_concurrently")
    elif isinstance(node, ast.IndexStmt):
        if not node.concurrent and _relname(node.relation) not in ctx.created:
            rules.append("create_index_without_concurrently")
    elif isinstance(node, ast.TruncateStmt) and node.behavior == DropBehavior.DROP_CASCADE:
        rules.append("truncate_cascade")
    concurrent = (isinstance(node, (ast.IndexStmt, ast.DropStmt)) and node.concurrent) or (
        isinstance(node, ast.ReindexStmt)
        and any((p.defname or "").lower() == "concurrently" for p in node.params or ()))
    if concurrent and (ctx.in_transaction_block or ctx.explicit_block):
        rules.append("concurrently_in_transaction")
    return rules


def _suppressions(leading):
    """{rule: reason or None} from the comments right before a statement."""
    found = {}
    for match in SUPPRESS_RE.finditer(leading or ""):
        reason = (match.group("reason") or "").strip() or None
        for rule in re.split(r"\s*,\s*", match.group("rules").strip()):
            found[rule.lower()] = reason
    return found


def _finding(rule, source, line, statement):
    why, alternative, breaking = RULES[rule]
    return {"rule": rule, "file": source, "line": line, "statement": statement, "why": why,
            "safe_alternative": alternative, "breaks_running_version": breaking,
            "suppressed": False, "suppression_reason": None}


def invalid_file_finding(error):
    """The finding of a file the lint cannot read or parse (an SqlFileError): it always blocks
    unless ``block_on: none``, and names the file and line."""
    finding = _finding("invalid_file", error.details.get("file"), error.details.get("line") or 1, "")
    finding["why"] = "%s; %s" % (error.message, finding["why"])
    if error.details.get("offset") is not None:
        finding["offset"] = error.details["offset"]
    return finding


def lint_script(sql, source, runner_sets_lock_timeout=False, transactional=None, disabled=(), path=None):
    """Lint one SQL script; return a list of finding dicts (suppressed ones are marked so).

    ``transactional``: whether the runner wraps the script in a transaction; None means "unless
    a runner's no-transaction marker says otherwise" (see markers.py; ``path`` lets Flyway's
    ``.sql.conf`` be read).  ``disabled``: rule names not to report.  Only the up part of a dbmate
    file is linted.  Raises SqlFileError when the script does not parse.
    """
    if transactional is None:
        transactional = no_transaction_marker(sql, path) is None
    sql = up_section(sql)
    ctx = _Context(transactional)
    ctx.lock_timeout_set = bool(runner_sets_lock_timeout)
    findings = []
    lock_reported = False
    for statement in split_statements(sql, source):
        rules = _statement_rules(statement.node, ctx)
        if not ctx.lock_timeout_set and not lock_reported and _is_ddl_needing_lock(statement.node) \
                and not _only_new_relations(statement.node, ctx):
            rules.append("missing_lock_timeout")
            lock_reported = True
        suppressions = _suppressions(statement.leading)
        seen = set()
        for rule in rules:
            if rule in seen or rule in disabled:
                continue
            seen.add(rule)
            finding = _finding(rule, source, statement.line, statement.text)
            if rule in suppressions:
                if suppressions[rule]:
                    finding["suppressed"] = True
                    finding["suppression_reason"] = suppressions[rule]
                else:
                    finding["why"] += " (a shipyard:ignore comment names this rule but gives no " \
                        "'reason:', so it does not suppress it)"
            findings.append(finding)
    return findings


def collect_sql_files(paths):
    """Expand files and directories (recursively, *.sql, sorted) into a list of file paths."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                files.extend(os.path.join(root, n) for n in sorted(names) if n.endswith(".sql"))
        elif os.path.isfile(path):
            files.append(path)
        else:
            require_directory(path, "paths")
    return files


def lint_service(params, check_mode, diff_mode):
    """Service of ``migration_lint``; reads files only, so check mode needs nothing special."""
    paths = params.get("paths") or []
    if not paths and not params.get("sql"):
        raise ConfigurationError("give paths (SQL files or directories) or sql to lint")
    unknown = [r for r in (params.get("disable") or []) + (params.get("block_on_rules") or [])
               if r not in RULES]
    if unknown:
        raise ConfigurationError("unknown lint rule(s) %s; known rules: %s"
                                 % (", ".join(unknown), ", ".join(sorted(RULES))))
    if "invalid_file" in (params.get("disable") or []):
        raise ConfigurationError("the invalid_file rule cannot be disabled: a file that does not parse "
                                 "cannot be checked (or applied); fix it or leave it out of paths")
    files = collect_sql_files(paths)
    if paths and not files and not params.get("sql"):
        raise ConfigurationError("no .sql files under %s; check paths" % ", ".join(paths))
    transactional = None if params.get("transactional") in (None, "auto") else params["transactional"] == "yes"
    sets_lock_timeout = params.get("runner_sets_lock_timeout", False)
    disabled = params.get("disable") or ()
    findings, linted = [], []
    sources = [(f, None) for f in files] + ([("<sql>", params["sql"])] if params.get("sql") else [])
    for source, text in sources:
        linted.append(source)
        try:
            # Each file on its own: one that cannot be read or parsed is a finding, not the end.
            text = read_sql(source) if text is None else text
            findings.extend(lint_script(text, source, sets_lock_timeout, transactional, disabled,
                                        path=None if source == "<sql>" else source))
        except SqlFileError as exc:
            findings.append(invalid_file_finding(exc))
    active = [f for f in findings if not f["suppressed"]]
    block_on = params.get("block_on") or "breaking"
    rule_filter = set(params.get("block_on_rules") or ())
    blocking = [f for f in active if (block_on == "all" or (block_on == "breaking" and f["breaks_running_version"])
                                      or f["rule"] in rule_filter)]
    result = {
        "changed": False,
        "files": linted,
        "findings": active,
        "suppressed": [f for f in findings if f["suppressed"]],
        "breaking": [f for f in active if f["breaks_running_version"]],
        "blocking": blocking,
        "passed": not blocking,
    }
    if blocking:
        first = blocking[0]
        if params.get("fail_on_blocking", True):
            raise MigrationError(
                "migration lint blocks %d finding(s); first: %s line %d [%s] %s; safe alternative: %s "
                "(suppress with '-- shipyard:ignore %s reason: <why>' before the statement)" % (
                    len(blocking), first["file"], first["line"], first["rule"], first["why"],
                    first["safe_alternative"], first["rule"]),
                **{k: v for k, v in result.items() if k != "changed"})
    return result
