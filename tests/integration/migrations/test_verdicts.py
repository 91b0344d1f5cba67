"""Every blue-green verdict checked on a real PostgreSQL: run the migration, then the old
application version's SQL, and compare "did the old version's SQL fail" with the lint's verdict
and with the row of verdicts.py.

The old version is one fixed workload written against the schema before the migration (BEFORE);
each case is one migration (V2).  A case's own extra SQL is what that old version also relies on
(for TRUNCATE: that its row is still there).
"""

from __future__ import annotations

import os

import psycopg
import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import MigrationError
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.lint import lint_service
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.runner import apply_migrations
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.verdicts import BLUE_GREEN, VERDICTS

BEFORE = """\
CREATE TYPE order_status AS ENUM ('new', 'paid');
CREATE TABLE orders (
    id int PRIMARY KEY,
    note varchar(50),
    amount numeric(10,2),
    qty int NOT NULL DEFAULT 1,
    memo text DEFAULT 'x',
    status order_status NOT NULL DEFAULT 'new'
);
CREATE VIEW order_memos AS SELECT id, memo FROM orders;
CREATE FUNCTION order_total(int) RETURNS numeric LANGUAGE sql AS 'SELECT amount FROM orders WHERE id = $1';
CREATE SEQUENCE invoice_no;
CREATE INDEX orders_note ON orders (note);
INSERT INTO orders (id, note, amount) VALUES (1, 'a', 5);
"""

OLD_APP = [
    "INSERT INTO orders (id, note, amount, status) VALUES (100, 'hello', 12.5, 'paid')",
    "INSERT INTO orders (id, note, amount) VALUES (101, NULL, 1)",
    "SELECT id, note, amount, qty, memo, status FROM orders WHERE note = 'hello'",
    "SELECT id FROM orders WHERE qty > 0",
    "UPDATE orders SET status = 'paid' WHERE id = 1",
    "SELECT id, memo FROM order_memos",
    "SELECT order_total(1)",
    "SELECT nextval('invoice_no')",
]

# case id -> (verdict row, migration SQL, extra old-app SQL, lint options)
CASES = {
    "create_table": ("create_table", "CREATE TABLE audit (id int);", [], {}),
    "add_column_nullable": ("add_column_nullable", "ALTER TABLE orders ADD COLUMN extra int;", [], {}),
    "add_column_default": ("add_column_default",
                           "ALTER TABLE orders ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid();", [], {}),
    "add_column_not_null_no_default": (
        "add_column_not_null_no_default", "DELETE FROM orders;\nALTER TABLE orders ADD COLUMN c int NOT NULL;", [], {}),
    "drop_column": ("drop_column", "ALTER TABLE orders DROP COLUMN note;", [], {}),
    "drop_table": ("drop_table", "DROP TABLE orders CASCADE;", [], {}),
    "drop_view": ("drop_object", "DROP VIEW order_memos;", [], {}),
    "drop_function": ("drop_object", "DROP FUNCTION order_total(int);", [], {}),
    "drop_sequence": ("drop_object", "DROP SEQUENCE invoice_no;", [], {}),
    "drop_and_recreate_view": ("drop_and_recreate", "DROP VIEW order_memos;\n"
                               "CREATE VIEW order_memos AS SELECT id, memo, amount FROM orders;", [], {}),
    "drop_and_recreate_function": (
        "drop_and_recreate", "DROP FUNCTION order_total(int);\nCREATE FUNCTION order_total(int) RETURNS numeric "
        "LANGUAGE sql AS 'SELECT amount * qty FROM orders WHERE id = $1';", [], {}),
    "rename_column": ("rename_column", "ALTER TABLE orders RENAME COLUMN note TO notes;", [], {}),
    "rename_table": ("rename_table", "ALTER TABLE orders RENAME TO purchases;", [], {}),
    "rename_view": ("rename_object", "ALTER VIEW order_memos RENAME TO memos_of_orders;", [], {}),
    "rename_function": ("rename_object", "ALTER FUNCTION order_total(int) RENAME TO total_of;", [], {}),
    "rename_sequence": ("rename_object", "ALTER SEQUENCE invoice_no RENAME TO invoice_seq;", [], {}),
    "rename_index": ("rename_index_or_constraint", "ALTER INDEX orders_note RENAME TO orders_note_idx;", [], {}),
    "rename_constraint": ("rename_index_or_constraint",
                          "ALTER TABLE orders RENAME CONSTRAINT orders_pkey TO orders_id_pkey;", [], {}),
    "set_schema": ("set_schema", "CREATE SCHEMA archive;\nALTER TABLE orders SET SCHEMA archive;", [], {}),
    "widen_varchar": ("widen_column_type", "ALTER TABLE orders ALTER COLUMN note TYPE varchar(200);", [], {}),
    "varchar_to_text": ("widen_column_type", "ALTER TABLE orders ALTER COLUMN note TYPE text;", [], {}),
    "widen_numeric": ("widen_column_type", "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2);", [], {}),
    "narrow_varchar": ("change_column_type", "ALTER TABLE orders ALTER COLUMN note TYPE varchar(3);", [], {}),
    "int_to_text": ("change_column_type", "ALTER TABLE orders ALTER COLUMN qty TYPE text;", [], {}),
    "set_not_null": ("set_not_null", "UPDATE orders SET note = '' WHERE note IS NULL;\n"
                     "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;", [], {}),
    "drop_not_null": ("drop_not_null", "ALTER TABLE orders ALTER COLUMN qty DROP NOT NULL;", [], {}),
    "set_default": ("set_default", "ALTER TABLE orders ALTER COLUMN qty SET DEFAULT 2;", [], {}),
    "drop_default_not_null": ("drop_default_not_null", "ALTER TABLE orders ALTER COLUMN qty DROP DEFAULT;", [], {}),
    "drop_default_nullable": ("drop_default_nullable", "ALTER TABLE orders ALTER COLUMN memo DROP DEFAULT;", [], {}),
    "enum_add_value": ("enum_add_value", "ALTER TYPE order_status ADD VALUE 'shipped';", [], {}),
    "enum_rename_value": ("enum_rename_value", "ALTER TYPE order_status RENAME VALUE 'paid' TO 'settled';", [], {}),
    "add_check": ("add_constraint",
                  "ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0) NOT VALID;", [], {}),
    "add_check_and_validate": ("add_constraint", "ALTER TABLE orders ADD CONSTRAINT amount_positive "
                               "CHECK (amount > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT "
                               "amount_positive;", [], {}),
    "add_foreign_key": ("add_constraint", "CREATE TABLE customers (id int PRIMARY KEY);\n"
                        "ALTER TABLE orders ADD COLUMN customer_id int REFERENCES customers (id);", [], {}),
    "add_unique": ("add_unique", "ALTER TABLE orders ADD CONSTRAINT orders_note_key UNIQUE (note);", [], {}),
    "create_index": ("create_index", "CREATE INDEX orders_amount ON orders (amount);", [], {}),
    "drop_index": ("drop_index", "DROP INDEX orders_note;", [], {}),
    "truncate_cascade": ("truncate_cascade", "TRUNCATE orders CASCADE;",
                         ["SELECT 1 / count(*) FROM orders WHERE id = 1"], {}),
    "char_column": ("char_column", "ALTER TABLE orders ADD COLUMN code char(3);", [], {}),
    "concurrently_in_transaction": ("concurrently_in_transaction",
                                    "CREATE INDEX CONCURRENTLY orders_qty ON orders (qty);", [], {}),
    "lock_without_timeout": ("lock_without_timeout", "ALTER TABLE orders ADD COLUMN extra int;", [],
                             {"runner_sets_lock_timeout": False}),
}
# Rows that no SQL run can show, and where they are tested instead.
NOT_RUNNABLE = {"invalid_file": "a file that does not parse cannot run; see the unit tests of invalid_file"}


def test_every_verdict_row_has_a_case_run_on_postgres():
    covered = {row for row, *_rest in CASES.values()}
    assert covered | set(NOT_RUNNABLE) == {v.operation for v in BLUE_GREEN}


def old_app_failures(pg, db, extra):
    """The old version's statements that fail; each runs in a transaction rolled back afterwards,
    so the check can run before and after the migration alike."""
    failures = []
    with pg.connect(db) as conn:
        conn.autocommit = True
        for sql in OLD_APP + extra:
            try:
                with conn.transaction(force_rollback=True):
                    conn.execute(sql)
            except psycopg.Error as exc:  # any error is the old version breaking
                failures.append("%s -> %s" % (sql, str(exc).splitlines()[0]))
    return failures


@pytest.mark.parametrize("case", sorted(CASES))
def test_verdict_agrees_with_what_postgres_does_to_the_old_version(case, pg, pg_db, migdir, apply_opts):
    row, migration, extra, lint_options = CASES[case]
    path = migdir({"V1__before.sql": BEFORE, "V2__change.sql": migration + "\n"})
    lint = lint_service(dict(paths=[path], sql=None, block_on="none", block_on_rules=[], disable=[],
                             runner_sets_lock_timeout=lint_options.get("runner_sets_lock_timeout", True),
                             transactional="auto", fail_on_blocking=True), False, False)
    findings = [f for f in lint["findings"] if os.path.basename(f["file"]) == "V2__change.sql"]
    lint_says_breaks = any(f["breaks_running_version"] for f in findings)
    # Every finding is about this case's operation; a row safe in every respect reports nothing.
    assert {f["operation"] for f in findings} <= {row}, findings
    if not VERDICTS[row].rules:
        assert findings == [], findings

    apply_migrations(apply_opts(target="1"), False, False)
    assert old_app_failures(pg, pg_db, extra) == []  # the old version works before the migration
    try:
        apply_migrations(apply_opts(), False, False)
    except MigrationError:
        assert row == "concurrently_in_transaction"  # it fails inside the runner's transaction
    failures = old_app_failures(pg, pg_db, extra)
    assert bool(failures) is VERDICTS[row].breaks, failures
    assert lint_says_breaks is VERDICTS[row].breaks, findings
