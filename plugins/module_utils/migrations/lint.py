# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Danger in SQL migrations, found on PostgreSQL's parse trees (never regular expressions on SQL).

The trees are libpg_query's JSON read into dicts (statements.py says how they look); each
function here takes a statement's ``kind`` (``"AlterTableStmt"``) and ``node`` (its fields).

Every finding says whether it breaks the application version that is still running during a
blue-green window (``breaks_running_version``): dropping, renaming or retyping something it uses
does; an added nullable column does not.  A playbook can therefore allow "expand" migrations and
block "contract" ones.

Suppression: a comment right before the statement,
``-- shipyard:ignore <rule>[,<rule>...] reason: <why>``; without a reason it does not suppress.
"""

from __future__ import annotations

import gc
import os
import re

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    MigrationError,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations import schema_model
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.markers import (
    no_transaction_marker,
    up_section,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.rules import RULES
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.sql_text import (
    SqlFileError,
    read_sql,
    require_directory,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.statements import (
    last_name,
    node_of,
    relname,
    split_statements,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.verdicts import VERDICTS

VOLATILE_FUNCTIONS = {
    "random", "clock_timestamp", "timeofday", "gen_random_uuid", "uuid_generate_v1",
    "uuid_generate_v1mc", "uuid_generate_v4", "uuidv4", "uuidv7", "nextval", "txid_current",
    "setseed", "random_normal",
}
# Built-in functions seen in defaults that are immutable or stable: PostgreSQL evaluates such a
# default once and stores it in the catalog (no rewrite).  Any other function - a user-defined
# one is volatile unless declared otherwise - is treated as volatile.
NON_VOLATILE_FUNCTIONS = {
    "now", "statement_timestamp", "transaction_timestamp", "current_setting", "lower", "upper",
    "btrim", "ltrim", "rtrim", "trim", "length", "concat", "concat_ws", "replace", "substr",
    "substring", "left", "right", "lpad", "rpad", "to_char", "to_date", "to_timestamp", "to_number",
    "date_trunc", "timezone", "make_date", "make_time", "make_timestamp", "make_timestamptz",
    "make_interval", "abs", "round", "floor", "ceil", "ceiling", "power", "sqrt", "md5",
    "jsonb_build_object", "json_build_object", "jsonb_build_array", "json_build_array", "to_jsonb",
    "to_json", "array_fill", "format",
}
SERIAL_TYPES = {"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"}
DIGIT_RUNS_RE = re.compile(r"(\d+)")
SUPPRESS_RE = re.compile(
    r"--\s*shipyard:\s*ignore\s+(?P<rules>[a-z_]+(?:\s*,\s*[a-z_]+)*)(?:\s+reason:\s*(?P<reason>\S.*))?",
    re.IGNORECASE,
)


def _function_names(value):
    """The name of every function called anywhere in the expression tree ``value``."""
    if isinstance(value, list):
        for item in value:
            yield from _function_names(item)
    elif isinstance(value, dict):
        call = value.get("FuncCall")
        if call is not None:
            yield last_name(call["funcname"])
        for sub in value.values():
            if isinstance(sub, (dict, list)):
                yield from _function_names(sub)


def _type_name(type_node):
    """The unqualified name of a TypeName (``"varchar"``), "" without one."""
    names = type_node.get("names") if type_node is not None else None
    return last_name(names) if names else ""


def _created_relation(kind, node):
    """The name of the table or view a statement creates (then new and empty, or not a table
    the running version uses), else None: CREATE TABLE, CREATE TABLE ... AS, SELECT ... INTO,
    CREATE [MATERIALIZED] VIEW."""
    if kind == "CreateStmt":
        return relname(node.get("relation"))
    if kind == "CreateTableAsStmt" and node.get("into") is not None:
        return relname(node["into"].get("rel"))
    if kind == "SelectStmt" and node.get("intoClause") is not None:
        return relname(node["intoClause"].get("rel"))
    if kind == "ViewStmt":
        return relname(node.get("view"))
    return None


# DROP ... object kinds whose absence breaks the running version, by the namespace they live in.
DROPPED_KINDS = {
    "OBJECT_VIEW": "relation", "OBJECT_MATVIEW": "relation", "OBJECT_SEQUENCE": "relation",
    "OBJECT_FOREIGN_TABLE": "relation", "OBJECT_FUNCTION": "function", "OBJECT_PROCEDURE": "function",
    "OBJECT_ROUTINE": "function", "OBJECT_AGGREGATE": "function", "OBJECT_TYPE": "type",
    "OBJECT_DOMAIN": "type", "OBJECT_SCHEMA": "schema",
}
RENAMED_OBJECTS = {
    "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE", "OBJECT_FUNCTION",
    "OBJECT_PROCEDURE", "OBJECT_ROUTINE", "OBJECT_AGGREGATE", "OBJECT_TYPE", "OBJECT_DOMAIN",
    "OBJECT_SCHEMA", "OBJECT_ATTRIBUTE",
}
# Statements that lock something other sessions queue behind (unless it is new).
LOCKING_KINDS = {"AlterTableStmt", "RenameStmt", "DropStmt", "TruncateStmt", "IndexStmt", "AlterObjectSchemaStmt"}


def _defined_object(kind, node):
    """``(kind, name)`` of the view, function, sequence, type or schema a statement (re)creates."""
    if kind == "ViewStmt":
        return "relation", relname(node.get("view"))
    if kind == "CreateTableAsStmt" and node.get("into") is not None:
        return "relation", relname(node["into"].get("rel"))
    if kind == "CreateSeqStmt":
        return "relation", relname(node.get("sequence"))
    if kind == "CreateFunctionStmt":
        return "function", last_name(node["funcname"])
    if kind in ("CreateEnumStmt", "CreateRangeStmt"):
        return "type", last_name(node["typeName"])
    if kind == "CompositeTypeStmt":
        return "type", relname(node.get("typevar"))
    if kind == "CreateDomainStmt":
        return "type", last_name(node["domainname"])
    if kind == "CreateSchemaStmt":
        return "schema", node.get("schemaname")
    return None


def _object_name(obj):
    """The unqualified name of one object of a DROP statement (a wrapped node)."""
    kind, fields = node_of(obj)
    if kind == "ObjectWithArgs":
        return last_name(fields["objname"])
    if kind == "TypeName":
        return last_name(fields["names"])
    if kind == "String":
        return fields.get("sval", "")
    if kind == "List" and fields.get("items"):
        return _object_name(fields["items"][-1])
    return None


class _Context:
    """What the lint has seen so far in a script: what it created, lock_timeout, BEGIN."""

    def __init__(self, transactional, model, definitions):
        self.created = set()
        self.lock_timeout_set = False
        self.in_transaction_block = transactional
        self.explicit_block = False
        self.model = model
        self.definitions = definitions  # [(statement index, kind, name)] of the whole script
        self.defined = set()  # (kind, name) created so far
        self.not_valid = set()  # (table, constraint) added NOT VALID in the current transaction
        self.index = 0

    @property
    def in_transaction(self):
        """True while statements run inside a transaction (the runner's or an explicit BEGIN)."""
        return self.in_transaction_block or self.explicit_block

    def recreated_later(self, kind, name):
        """True when a later statement of the script creates ``kind`` ``name`` again."""
        return any(i > self.index and k == kind and n == name for i, k, n in self.definitions)


def _constraints(coldef):
    """The fields of each constraint of a ColumnDef."""
    return [c["Constraint"] for c in coldef.get("constraints", ())]


def _rewriting_default(coldef, type_name, contypes):
    """True when adding this column rewrites the table: serial/identity (filled from a sequence),
    a STORED generated column, or a default calling a volatile (or unknown) function."""
    if type_name in SERIAL_TYPES or "CONSTR_IDENTITY" in contypes or "CONSTR_GENERATED" in contypes:
        return True
    for constraint in _constraints(coldef):
        if constraint["contype"] != "CONSTR_DEFAULT":
            continue
        for name in _function_names(constraint.get("raw_expr")):
            name = name.lower()
            if name in VOLATILE_FUNCTIONS or name not in NON_VOLATILE_FUNCTIONS:
                return True
    return False


def _add_column_findings(coldef, new_table):
    type_name = _type_name(coldef.get("typeName"))
    found = [("char_column", "char_column")] if type_name == "bpchar" else []
    if new_table:
        return found
    constraints = _constraints(coldef)
    contypes = {c["contype"] for c in constraints}
    has_default = bool(contypes & {"CONSTR_DEFAULT", "CONSTR_IDENTITY", "CONSTR_GENERATED"}) \
        or type_name in SERIAL_TYPES
    if ("CONSTR_NOTNULL" in contypes or "CONSTR_PRIMARY" in contypes) and not has_default:
        found.append(("not_null_without_default", "add_column_not_null_no_default"))
    for constraint in constraints:
        if constraint["contype"] in ("CONSTR_FOREIGN", "CONSTR_CHECK") and not constraint.get("skip_validation"):
            found.append(("constraint_without_not_valid", "add_constraint"))
        if constraint["contype"] in ("CONSTR_UNIQUE", "CONSTR_PRIMARY"):
            found.append(("unique_constraint", "add_unique"))
    if _rewriting_default(coldef, type_name, contypes):
        found.append(("volatile_default", "add_column_default"))
    return found


def _type_change_findings(table, cmd, ctx):
    found = []
    coldef = cmd["def"]["ColumnDef"]
    new_type = schema_model.type_signature(coldef.get("typeName"))
    column = ctx.model.column(table, cmd.get("name"))
    if coldef.get("raw_default") is not None or column is None \
            or not schema_model.widens(column["type"], new_type):
        found.append(("change_column_type", "change_column_type"))
    if _type_name(coldef.get("typeName")) == "bpchar":
        found.append(("char_column", "char_column"))
    return found


def _add_constraint_findings(table, constraint, ctx):
    found = []
    if constraint["contype"] in ("CONSTR_FOREIGN", "CONSTR_CHECK"):
        if constraint.get("skip_validation"):
            ctx.not_valid.add((table, constraint.get("conname")))
        else:
            found.append(("constraint_without_not_valid", "add_constraint"))
    if constraint["contype"] in ("CONSTR_UNIQUE", "CONSTR_PRIMARY") and not constraint.get("indexname"):
        found.append(("unique_constraint", "add_unique"))
    return found


def _alter_table_findings(stmt, ctx):
    found = []
    table = relname(stmt.get("relation"))
    new_table = table in ctx.created
    for item in stmt.get("cmds", ()):
        cmd = item["AlterTableCmd"]
        subtype = cmd["subtype"]
        if subtype == "AT_AddColumn":
            found.extend(_add_column_findings(cmd["def"]["ColumnDef"], new_table))
        elif new_table:
            continue  # a table the script made: no running version uses it yet
        elif subtype == "AT_DropColumn":
            found.append(("drop_column", "drop_column"))
        elif subtype == "AT_AlterColumnType":
            found.extend(_type_change_findings(table, cmd, ctx))
        elif subtype == "AT_SetNotNull":
            found.append(("set_not_null", "set_not_null"))
        elif subtype == "AT_ColumnDefault" and "def" not in cmd:
            column = ctx.model.column(table, cmd.get("name"))
            if column is None or column["not_null"]:
                found.append(("drop_default", "drop_default_not_null"))
        elif subtype == "AT_AddConstraint":
            found.extend(_add_constraint_findings(table, cmd["def"]["Constraint"], ctx))
        elif subtype == "AT_ValidateConstraint" and ctx.in_transaction \
                and (table, cmd.get("name")) in ctx.not_valid:
            found.append(("validate_in_same_transaction", "add_constraint"))
    return found


def _drop_findings(node, ctx):
    remove_type = node["removeType"]
    if remove_type == "OBJECT_TABLE":
        return [] if _only_new_relations("DropStmt", node, ctx) else [("drop_table", "drop_table")]
    if remove_type == "OBJECT_INDEX":
        return [] if node.get("concurrent") else [("drop_index_without_concurrently", "drop_index")]
    kind = DROPPED_KINDS.get(remove_type)
    if kind is None:
        return []
    for obj in node.get("objects", ()):
        name = _object_name(obj)
        new = (kind, name) in ctx.defined or (kind == "relation" and name in ctx.created)
        if not new and not ctx.recreated_later(kind, name):
            return [("drop_object", "drop_object")]
    return []


def _rename_findings(node):
    rename_type = node["renameType"]
    if rename_type == "OBJECT_COLUMN":
        return [("rename_column", "rename_column")]
    if rename_type == "OBJECT_TABLE":
        return [("rename_table", "rename_table")]
    if rename_type in RENAMED_OBJECTS:
        return [("rename_object", "rename_object")]
    return []  # indexes, constraints, triggers, policies: queries do not name them


def _references_existing(node, ctx):
    """Existing tables a CREATE TABLE (``node``) locks: referenced by a foreign key (SHARE ROW
    EXCLUSIVE) or its parent (PARTITION OF: ACCESS EXCLUSIVE; INHERITS), unless the script
    created them."""
    targets = [relname(parent["RangeVar"]) for parent in node.get("inhRelations", ())]
    for element in node.get("tableElts", ()):  # {"ColumnDef": ...}, {"Constraint": ...}, {"TableLikeClause": ...}
        coldef = element.get("ColumnDef")
        for constraint in coldef.get("constraints", ()) if coldef is not None else (element,):
            fields = constraint.get("Constraint")
            if fields is not None and fields["contype"] == "CONSTR_FOREIGN":
                targets.append(relname(fields.get("pktable")))
    return [t for t in targets if t not in ctx.created]


def _only_new_relations(kind, node, ctx):
    """True when a statement only touches tables the script made (no other session waits on them)."""
    if kind in ("AlterTableStmt", "IndexStmt"):
        return relname(node.get("relation")) in ctx.created
    if kind == "DropStmt" and node.get("objects"):
        return all("List" in obj and last_name(obj["List"]["items"]) in ctx.created for obj in node["objects"])
    return False


def _is_ddl_needing_lock(kind, node, ctx):
    """Statements that take a lock other sessions queue behind, on something not new."""
    if kind == "CreateStmt":
        return bool(_references_existing(node, ctx))
    if kind == "CreateTrigStmt":
        return relname(node.get("relation")) not in ctx.created
    if kind == "IndexStmt" and node.get("concurrent"):
        return False
    return kind in LOCKING_KINDS and not _only_new_relations(kind, node, ctx)


def _transaction_control(node, ctx):
    if node["kind"] in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
        ctx.explicit_block = True
    elif node["kind"] in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"):
        ctx.explicit_block = False
        if not ctx.in_transaction_block:
            ctx.not_valid.clear()  # committed: a VALIDATE after it runs in its own transaction


def _statement_findings(kind, node, ctx):
    """``[(rule, operation)]`` a statement triggers, given what the script did before it."""
    if kind == "TransactionStmt":
        _transaction_control(node, ctx)
        return []
    if kind == "VariableSetStmt" and (node.get("name") or "").lower() == "lock_timeout":
        ctx.lock_timeout_set = True
        return []
    found = []
    if kind == "CreateStmt":
        found = [("char_column", "char_column") for element in node.get("tableElts", ())
                 if "ColumnDef" in element and _type_name(element["ColumnDef"].get("typeName")) == "bpchar"]
    elif kind == "AlterTableStmt" and node["objtype"] == "OBJECT_TABLE":
        found = _alter_table_findings(node, ctx)
    elif kind == "RenameStmt":
        found = _rename_findings(node)
    elif kind == "AlterObjectSchemaStmt":
        found = [("set_schema", "set_schema")]
    elif kind == "AlterEnumStmt" and node.get("oldVal"):
        found = [("rename_enum_value", "enum_rename_value")]
    elif kind == "DropStmt":
        found = _drop_findings(node, ctx)
    elif kind == "IndexStmt":
        if not node.get("concurrent") and relname(node.get("relation")) not in ctx.created:
            found = [("create_index_without_concurrently", "create_index")]
    elif kind == "TruncateStmt" and node.get("behavior") == "DROP_CASCADE":
        found = [("truncate_cascade", "truncate_cascade")]
    concurrent = (kind in ("IndexStmt", "DropStmt") and node.get("concurrent")) or (
        kind == "ReindexStmt"
        and any((p["DefElem"].get("defname") or "").lower() == "concurrently" for p in node.get("params", ())))
    if concurrent and ctx.in_transaction:
        found.append(("concurrently_in_transaction", "concurrently_in_transaction"))
    return found


def _record_effects(kind, node, ctx, defined):
    """After a statement: what it created (new relations, ``defined``: the object from
    _defined_object) and the schema model."""
    created = _created_relation(kind, node)
    if created:
        ctx.created.add(created)
    if defined:
        ctx.defined.add(defined)
    ctx.model.apply(kind, node)


def _suppressions(leading):
    """{rule: reason or None} from the comments right before a statement."""
    found = {}
    if not leading or (leading.isascii() and "shipyard" not in leading.lower()):
        return found  # most statements: no comment can match (re's case folding is wider outside ASCII)
    for match in SUPPRESS_RE.finditer(leading):
        reason = (match.group("reason") or "").strip() or None
        for rule in re.split(r"\s*,\s*", match.group("rules").strip()):
            found[rule.lower()] = reason
    return found


def _finding(rule, operation, source, line, statement):
    why, alternative = RULES[rule]
    verdict = VERDICTS[operation]
    return {"rule": rule, "file": source, "line": line, "statement": statement, "why": why,
            "safe_alternative": alternative, "operation": operation,
            "breaks_running_version": verdict.breaks, "verdict_reason": verdict.reason,
            "suppressed": False, "suppression_reason": None}


def invalid_file_finding(error):
    """The finding of a file the lint cannot read or parse (an SqlFileError): it always blocks
    unless ``block_on: none``, and names the file and line."""
    finding = _finding("invalid_file", "invalid_file", error.details.get("file"),
                       error.details.get("line") or 1, "")
    finding["why"] = "%s; %s" % (error.message, finding["why"])
    if error.details.get("offset") is not None:
        finding["offset"] = error.details["offset"]
    return finding


def lint_script(sql, source, runner_sets_lock_timeout=False, transactional=None, disabled=(), path=None,
                model=None):
    """Lint one SQL script; return a list of finding dicts (suppressed ones are marked so).

    ``transactional``: whether the runner wraps the script in a transaction; None means "unless
    a runner's no-transaction marker says otherwise" (see markers.py; ``path`` lets Flyway's
    ``.sql.conf`` be read).  ``disabled``: rule names not to report.  ``model``: the
    :class:`SchemaModel` of the files before this one (updated with this one).  Only the up part
    of a dbmate file is linted.  Raises SqlFileError when the script does not parse.
    """
    if transactional is None:
        transactional = no_transaction_marker(sql, path) is None
    statements = split_statements(up_section(sql), source)
    defined = [_defined_object(statement.kind, statement.node) for statement in statements]
    definitions = [(index, *d) for index, d in enumerate(defined) if d]
    ctx = _Context(transactional, model if model is not None else schema_model.SchemaModel(), definitions)
    ctx.lock_timeout_set = bool(runner_sets_lock_timeout)
    findings = []
    lock_reported = False
    for index, statement in enumerate(statements):
        ctx.index = index
        kind, node = statement.kind, statement.node
        found = _statement_findings(kind, node, ctx)
        if not ctx.lock_timeout_set and not lock_reported and _is_ddl_needing_lock(kind, node, ctx):
            found.append(("missing_lock_timeout", "lock_without_timeout"))
            lock_reported = True
        _record_effects(kind, node, ctx, defined[index])
        if not found:
            continue
        suppressions = _suppressions(statement.leading)
        seen = set()
        for rule, operation in found:
            if rule in seen or rule in disabled:
                continue
            seen.add(rule)
            finding = _finding(rule, operation, source, statement.line, statement.text)
            if rule in suppressions:
                if suppressions[rule]:
                    finding["suppressed"] = True
                    finding["suppression_reason"] = suppressions[rule]
                else:
                    finding["why"] += " (a shipyard:ignore comment names this rule but gives no " \
                        "'reason:', so it does not suppress it)"
            findings.append(finding)
    return findings


def natural_key(name):
    """Sort key putting ``V2__x.sql`` before ``V10__x.sql`` (digit runs compare as numbers)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in DIGIT_RUNS_RE.split(name) if part]


def collect_sql_files(paths):
    """Expand files and directories (recursively, *.sql) into a list of file paths, each directory
    in natural order (V2 before V10), which is the order migration runners apply them in."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort(key=natural_key)
                sql_names = [n for n in names if n.endswith(".sql")]
                files.extend(os.path.join(root, n) for n in sorted(sql_names, key=natural_key))
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
    model = schema_model.SchemaModel()  # what the files so far say about each column
    sources = [(f, None) for f in files] + ([("<sql>", params["sql"])] if params.get("sql") else [])
    # The parse trees are acyclic and freed by reference counting as each file is done; the cyclic
    # collector would only scan them again and again while they live (a few ms per run).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for source, text in sources:
            linted.append(source)
            try:
                # Each file on its own: one that cannot be read or parsed is a finding, not the end.
                text = read_sql(source) if text is None else text
                findings.extend(lint_script(text, source, sets_lock_timeout, transactional, disabled,
                                            path=None if source == "<sql>" else source, model=model))
            except SqlFileError as exc:
                findings.append(invalid_file_finding(exc))
    finally:
        if collecting:
            gc.enable()
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
