# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The blue-green verdict: does an operation break the application version still running?

During a blue-green switch the old version keeps serving while the migration has already run,
so every operation gets a verdict with the reason the old version's SQL fails (or does not).
This is the one table the lint takes its ``breaks_running_version`` from; docs/migrations.md
shows the same table (a unit test compares them) and tests/integration/migrations runs, for
every row, the old version's SQL against a real PostgreSQL after the migration.

``rules`` are the lint rules that report the operation; none when the operation is safe in
every respect and yields no finding at all.
"""

from __future__ import annotations

from collections import namedtuple

Verdict = namedtuple("Verdict", "operation example breaks rules reason")

BLUE_GREEN = (
    Verdict("create_table", "CREATE TABLE n (...)", False, (),
            "nothing the old version uses changes"),
    Verdict("add_column_nullable", "ADD COLUMN c int", False, (),
            "the old version never names the column; its INSERTs leave it NULL"),
    Verdict("add_column_default", "ADD COLUMN c int NOT NULL DEFAULT 0", False, ("volatile_default",),
            "the old version's INSERTs, which do not name the column, get the default (a volatile "
            "default is reported for its table rewrite, not as breaking)"),
    Verdict("add_column_not_null_no_default", "ADD COLUMN c int NOT NULL", True, ("not_null_without_default",),
            "the old version's INSERTs do not name the column, so they violate NOT NULL"),
    Verdict("drop_column", "DROP COLUMN c", True, ("drop_column",),
            "the old version's SELECT and INSERT naming the column fail: column does not exist"),
    Verdict("drop_table", "DROP TABLE t", True, ("drop_table",),
            "the old version's queries fail: relation does not exist (and its data is gone)"),
    Verdict("drop_object", "DROP VIEW v / DROP FUNCTION f() (not recreated by the script)", True,
            ("drop_object",),
            "the old version's queries and calls fail: the view, function, sequence or type does not exist"),
    Verdict("drop_and_recreate", "DROP VIEW v; CREATE VIEW v ... (same script)", False, (),
            "the same name exists again when the transaction commits; the old version resolves it anew"),
    Verdict("rename_column", "RENAME COLUMN a TO b", True, ("rename_column",),
            "the old version still names the old column: column does not exist"),
    Verdict("rename_table", "ALTER TABLE t RENAME TO u", True, ("rename_table",),
            "the old version still names the old table: relation does not exist"),
    Verdict("rename_object", "ALTER VIEW/FUNCTION/SEQUENCE/TYPE/SCHEMA ... RENAME TO", True, ("rename_object",),
            "the old version still uses the old name of the view, function, sequence, type or schema"),
    Verdict("rename_index_or_constraint", "ALTER INDEX i RENAME TO j, RENAME CONSTRAINT", False, (),
            "queries do not name indexes, constraints or triggers (except ON CONFLICT ON CONSTRAINT)"),
    Verdict("set_schema", "ALTER TABLE t SET SCHEMA s", True, ("set_schema",),
            "the old version's names no longer resolve (search_path or its schema qualification)"),
    Verdict("widen_column_type", "varchar(n) -> varchar(m >= n), varchar -> text, numeric(p,s) -> numeric(q >= p,s)",
            False, (),
            "the old version reads and writes the same values; PostgreSQL changes only the catalog (no rewrite)"),
    Verdict("change_column_type", "ALTER COLUMN c TYPE ... (narrowing, another type, USING, or the old "
            "type unknown to the lint)", True, ("change_column_type",),
            "the old version may write values the new type refuses or compare with operators it lacks; "
            "the table is rewritten"),
    Verdict("set_not_null", "ALTER COLUMN c SET NOT NULL", True, ("set_not_null",),
            "the old version may still write NULL there: not-null violation"),
    Verdict("drop_not_null", "ALTER COLUMN c DROP NOT NULL", False, (),
            "the old version writes values as before; it may read NULLs written by the new version"),
    Verdict("set_default", "ALTER COLUMN c SET DEFAULT 1", False, (),
            "the old version's INSERTs get another default, nothing fails"),
    Verdict("drop_default_not_null", "ALTER COLUMN c DROP DEFAULT (c NOT NULL, or nullability unknown)", True,
            ("drop_default",),
            "the old version's INSERTs that leave the column to its default now write NULL: not-null violation"),
    Verdict("drop_default_nullable", "ALTER COLUMN c DROP DEFAULT (c known nullable)", False, (),
            "the old version's INSERTs write NULL instead of the default; nothing fails"),
    Verdict("enum_add_value", "ALTER TYPE e ADD VALUE 'x'", False, (),
            "the old version never writes the new label, and reading it is reading a string"),
    Verdict("enum_rename_value", "ALTER TYPE e RENAME VALUE 'a' TO 'b'", True, ("rename_enum_value",),
            "the old version still writes the old label: invalid input value for enum"),
    Verdict("add_constraint", "ADD FOREIGN KEY / CHECK (NOT VALID or not)", False,
            ("constraint_without_not_valid", "validate_in_same_transaction"),
            "rows the old version writes obey the rule as long as both versions follow it"),
    Verdict("add_unique", "ADD UNIQUE / PRIMARY KEY", False, ("unique_constraint",),
            "the old version's writes obey it as long as both versions follow the rule"),
    Verdict("create_index", "CREATE INDEX", False, ("create_index_without_concurrently",),
            "queries do not name indexes; writes wait while it builds but do not fail"),
    Verdict("drop_index", "DROP INDEX", False, ("drop_index_without_concurrently",),
            "queries still run (perhaps slower)"),
    Verdict("truncate_cascade", "TRUNCATE t CASCADE", True, ("truncate_cascade",),
            "the rows the old version reads, also of the tables referencing t, are gone"),
    Verdict("char_column", "a char(n) column", False, ("char_column",),
            "a new column's type; the old version does not use it"),
    Verdict("concurrently_in_transaction", "CREATE INDEX CONCURRENTLY in a transaction", False,
            ("concurrently_in_transaction",), "the migration fails before it changes anything"),
    Verdict("lock_without_timeout", "DDL before any SET lock_timeout", False, ("missing_lock_timeout",),
            "the old version's queries wait behind the lock; they do not fail"),
    Verdict("invalid_file", "a file that is not UTF-8, holds a NUL byte or does not parse", True, ("invalid_file",),
            "what it would do cannot be checked, so it is assumed to break"),
)

VERDICTS = {v.operation: v for v in BLUE_GREEN}


def markdown_table():
    """The verdict table as docs/migrations.md shows it (a unit test keeps the two equal)."""
    lines = ["| operation | example | breaks the old version | why | lint rule |", "|---|---|---|---|---|"]
    for verdict in BLUE_GREEN:
        lines.append("| `%s` | %s | %s | %s | %s |" % (
            verdict.operation, verdict.example.replace("|", "\\|"), "yes" if verdict.breaks else "no",
            verdict.reason, ", ".join("`%s`" % r for r in verdict.rules) or "none"))
    return "\n".join(lines)
