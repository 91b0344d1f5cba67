# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lint rules: what each one finds dangerous and the safe alternative.

A rule is what a user disables or suppresses; whether a finding breaks the running version is
the verdict of the operation it found (verdicts.py).
"""

from __future__ import annotations

# rule -> (why it is dangerous, safe alternative); whether it breaks the running version is the
# verdict of the operation (verdicts.py), not of the rule.
RULES = {
    "not_null_without_default": (
        "adding a NOT NULL column without a default fails on a non-empty table, and the running "
        "version's INSERTs, which do not name the column, fail once it exists",
        "add the column nullable (or with a constant DEFAULT), backfill, then enforce NOT NULL"),
    "volatile_default": (
        "a volatile DEFAULT (random(), clock_timestamp(), gen_random_uuid(), nextval/serial…, or a "
        "function not known to be immutable or stable, such as a user-defined one) or a STORED "
        "generated column rewrites the whole table under an ACCESS EXCLUSIVE lock",
        "add the column without a default, set the default separately, backfill in batches (for a "
        "generated column: a plain column filled by a trigger and a batched backfill)"),
    "drop_column": (
        "the running version still reads or writes the column; its queries fail once it is gone",
        "stop using the column in a release first, drop it in a later (contract) migration"),
    "drop_table": (
        "the running version still uses the table; data is lost with it",
        "stop using the table in a release first, drop it in a later (contract) migration after a backup"),
    "rename_column": (
        "the running version still uses the old column name; its queries fail at once",
        "add the new column, write both, backfill, switch reads, drop the old one later"),
    "rename_table": (
        "the running version still uses the old table name; its queries fail at once",
        "create the new table (or a view under the old name), migrate, drop the old name later"),
    "change_column_type": (
        "changing a column's type usually rewrites the table under an ACCESS EXCLUSIVE lock, and "
        "the running version may not handle the new type",
        "add a column of the new type, backfill, switch the application, drop the old column later"),
    "create_index_without_concurrently": (
        "CREATE INDEX without CONCURRENTLY blocks every write to the table while it builds",
        "CREATE INDEX CONCURRENTLY in a non-transactional migration (-- shipyard:no-transaction)"),
    "drop_index_without_concurrently": (
        "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
        "DROP INDEX CONCURRENTLY in a non-transactional migration (-- shipyard:no-transaction)"),
    "concurrently_in_transaction": (
        "CONCURRENTLY cannot run inside a transaction block; the migration fails",
        "put the statement alone in a file marked '-- shipyard:no-transaction' (no BEGIN/COMMIT)"),
    "constraint_without_not_valid": (
        "adding a FOREIGN KEY or CHECK constraint validates every row while holding a lock that "
        "blocks writes",
        "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later statement"),
    "unique_constraint": (
        "adding a UNIQUE or PRIMARY KEY constraint builds its index while blocking writes",
        "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX"),
    "set_not_null": (
        "SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock, and the running version may "
        "still write NULLs there",
        "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT NULL once "
        "no running version writes NULL"),
    "truncate_cascade": (
        "TRUNCATE ... CASCADE also empties every table that references it, which the running "
        "version still reads",
        "delete exactly the rows you mean to, table by table, after a backup"),
    "char_column": (
        "char(n) pads with spaces and compares surprisingly; it is never faster than text",
        "use text or varchar (with a CHECK on length if a limit is needed)"),
    "drop_object": (
        "the running version still uses the view, function, sequence or type, and the script does "
        "not create it again",
        "stop using it in a release first, or recreate it in the same migration (CREATE OR REPLACE)"),
    "rename_object": (
        "the running version still uses the old name of the view, function, sequence, type or schema",
        "create the new object next to the old one (a view or wrapper function under the old name), "
        "drop the old name in a later release"),
    "set_schema": (
        "moving an object to another schema changes the name the running version resolves",
        "create it in the new schema, keep a view or wrapper under the old name until no release uses it"),
    "rename_enum_value": (
        "the running version still writes the old label, which the enum no longer accepts",
        "ADD VALUE the new label, migrate rows and code to it, and leave the old label in place"),
    "drop_default": (
        "the running version's INSERTs that leave the column to its default write NULL, which a NOT "
        "NULL column refuses",
        "drop the default only after no running version relies on it (or drop NOT NULL first)"),
    "validate_in_same_transaction": (
        "VALIDATE CONSTRAINT in the transaction that added it NOT VALID holds the ADD's ACCESS "
        "EXCLUSIVE lock through the whole validation scan, so NOT VALID gains nothing",
        "VALIDATE CONSTRAINT in a separate migration (or a separate transaction)"),
    "invalid_file": (
        "the file cannot be read or parsed as PostgreSQL SQL (not UTF-8, a NUL byte, or a syntax "
        "error), so nothing in it can be checked and no runner can apply it as written",
        "fix the file at the line given; it must be UTF-8 text that PostgreSQL parses"),
    "missing_lock_timeout": (
        "without lock_timeout a DDL statement waiting for its lock blocks every query queued "
        "behind it, which can stop the application",
        "SET lock_timeout = '5s' at the top of the migration (migration_apply sets one for you)"),
}
