"""migration_apply against a real PostgreSQL 18: ledger, lock, retries, atomicity, drift, undo."""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import time

import pytest
from harness.playbook import play

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    MigrationError,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.runner import apply_migrations

BASE = {
    "V1__create_orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\n",
    "U1__create_orders.sql": "DROP TABLE orders;\n",
    "V2__add_note.sql": "ALTER TABLE orders ADD COLUMN note text;\n",
    "U2__add_note.sql": "ALTER TABLE orders DROP COLUMN note;\n",
}


def schema_dump(pg, db):
    """The whole schema as pg_dump prints it, without our ledger (its rows change on purpose)."""
    run = subprocess.run([pg.tool("pg_dump"), "--schema-only", "--exclude-table=shipyard_schema_history"],
                         env=pg.client_env(db), capture_output=True, text=True, check=True)
    return "\n".join(line for line in run.stdout.splitlines() if not line.startswith("\\restrict")
                     and not line.startswith("\\unrestrict"))


def ledger(pg, db):
    with pg.connect(db) as conn:
        return conn.execute(
            "SELECT version, checksum, success, script FROM shipyard_schema_history ORDER BY version"
        ).fetchall()


def tables(pg, db):
    with pg.connect(db) as conn:
        return {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}


def columns(pg, db, table):
    with pg.connect(db) as conn:
        return [r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            (table,))]


def test_applies_in_order_records_sha256_and_is_idempotent(pg, pg_db, migdir, apply_opts):
    migdir(BASE)
    result = apply_migrations(apply_opts(), False, False)
    assert result["changed"] is True
    assert [m["version"] for m in result["applied"]] == ["1", "2"]
    assert result["current_version"] == "2" and result["previous_version"] is None
    rows = ledger(pg, pg_db)
    assert [(r[0], r[2]) for r in rows] == [("1", True), ("2", True)]
    assert rows[0][1] == hashlib.sha256(BASE["V1__create_orders.sql"].encode()).hexdigest()
    assert columns(pg, pg_db, "orders") == ["id", "total", "note"]
    again = apply_migrations(apply_opts(), False, False)
    assert again["changed"] is False and again["applied"] == []


def test_two_runs_started_together_apply_each_migration_once(pg, pg_db, migdir, apply_opts):
    migdir({
        "V1__counter.sql": "CREATE TABLE runs (n int);\n",
        "V2__slow.sql": "SELECT pg_sleep(0.5);\nINSERT INTO runs VALUES (2);\n",
        "V3__more.sql": "INSERT INTO runs VALUES (3);\n",
    })
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        barrier.wait()
        try:
            results.append(apply_migrations(apply_opts(), False, False))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run), threading.Thread(target=run)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    applied = sorted(m["version"] for r in results for m in r["applied"])
    assert applied == ["1", "2", "3"]
    assert sorted(r["changed"] for r in results) == [False, True]
    with pg.connect(pg_db) as conn:
        assert conn.execute("SELECT n FROM runs ORDER BY n").fetchall() == [(2,), (3,)]


def test_failing_migration_leaves_schema_unchanged_and_marks_ledger(pg, pg_db, migdir, apply_opts):
    migdir(BASE)
    apply_migrations(apply_opts(), False, False)
    migdir({"V3__broken.sql": "CREATE TABLE audit (id int);\nALTER TABLE orders ADD COLUMN x int;\n"
                              "SELECT 1/0;\n"})
    before = schema_dump(pg, pg_db)
    assert "CREATE TABLE public.orders" in before
    with pytest.raises(MigrationError) as info:
        apply_migrations(apply_opts(), False, False)
    assert "line 3 of V3__broken.sql" in info.value.message and "22012" in info.value.message
    assert schema_dump(pg, pg_db) == before
    assert "audit" not in tables(pg, pg_db) and "x" not in columns(pg, pg_db, "orders")
    assert ledger(pg, pg_db)[-1][0] == "3" and ledger(pg, pg_db)[-1][2] is False
    # The failed entry blocks every later run until an explicit repair.
    with pytest.raises(MigrationError, match="failed migration"):
        apply_migrations(apply_opts(), False, False)
    migdir({"V3__broken.sql": "CREATE TABLE audit (id int);\n"})
    fixed = apply_migrations(apply_opts(repair=True), False, False)
    assert fixed["repaired"]["removed_failed"] == ["3"]
    assert [m["version"] for m in fixed["applied"]] == ["3"]
    assert "audit" in tables(pg, pg_db)


def test_lock_timeout_is_retried_until_the_lock_is_released(pg, pg_db, migdir, apply_opts):
    migdir({"V1__create_orders.sql": BASE["V1__create_orders.sql"]})
    apply_migrations(apply_opts(), False, False)
    migdir({"V2__add_note.sql": BASE["V2__add_note.sql"]})
    blocker = pg.connect(pg_db, autocommit=False)
    blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
    results = []
    worker = threading.Thread(target=lambda: results.append(apply_migrations(
        apply_opts(lock_timeout="100ms", lock_retries=20, retry_delay=0.1), False, False)))
    worker.start()
    time.sleep(1.5)
    assert worker.is_alive()  # still waiting: nothing applied behind the held lock
    blocker.rollback()
    blocker.close()
    worker.join(30)
    assert results, "migration_apply did not finish after the lock was released"
    applied = results[0]["applied"]
    assert applied[0]["version"] == "2" and applied[0]["attempts"] > 1
    assert "note" in columns(pg, pg_db, "orders")


def test_lock_timeout_without_retries_fails_cleanly(pg, pg_db, migdir, apply_opts):
    migdir({"V1__create_orders.sql": BASE["V1__create_orders.sql"]})
    apply_migrations(apply_opts(), False, False)
    migdir({"V2__add_note.sql": BASE["V2__add_note.sql"]})
    with pg.connect(pg_db, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(MigrationError) as info:
            apply_migrations(apply_opts(lock_timeout="100ms", lock_retries=1), False, False)
        blocker.rollback()
    assert info.value.details["sqlstate"] == "55P03" and info.value.details["attempts"] == 2
    assert "note" not in columns(pg, pg_db, "orders")
    # Nothing was applied, so nothing is recorded: no failed entry, no repair, no "fix the file".
    assert "retry later" in info.value.message and "raise lock_timeout" in info.value.message
    assert "repair" not in info.value.message
    assert [r[0] for r in ledger(pg, pg_db)] == ["1"]
    again = apply_migrations(apply_opts(lock_timeout="100ms", lock_retries=1), False, False)
    assert [m["version"] for m in again["applied"]] == ["2"] and again["repaired"] is None
    assert [(r[0], r[2]) for r in ledger(pg, pg_db)] == [("1", True), ("2", True)]


def test_lock_timeout_in_non_transactional_file(pg, pg_db, migdir, apply_opts):
    """Timed out at its first statement: nothing recorded, the next run retries. Timed out after
    a committed statement: recorded as failed, since part of the file did run."""
    migdir({"V1__create_orders.sql": BASE["V1__create_orders.sql"]})
    apply_migrations(apply_opts(), False, False)
    migdir({"V2__index.sql": "-- shipyard:no-transaction\n"
                             "CREATE INDEX CONCURRENTLY orders_total ON orders (total);\n"})
    with pg.connect(pg_db, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(MigrationError, match="retry later") as info:
            apply_migrations(apply_opts(lock_timeout="100ms", lock_retries=0), False, False)
        blocker.rollback()
    assert info.value.details["sqlstate"] == "55P03"
    assert [r[0] for r in ledger(pg, pg_db)] == ["1"]
    assert [m["version"] for m in apply_migrations(apply_opts(), False, False)["applied"]] == ["2"]
    migdir({"V3__two.sql": "-- shipyard:no-transaction\nCREATE TABLE side (id int);\n"
                           "ALTER TABLE orders ADD COLUMN note text;\n"})
    with pg.connect(pg_db, autocommit=False) as blocker:
        blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(MigrationError, match="repair=true"):
            apply_migrations(apply_opts(lock_timeout="100ms", lock_retries=0), False, False)
        blocker.rollback()
    assert "side" in tables(pg, pg_db)
    assert ledger(pg, pg_db)[-1][0] == "3" and ledger(pg, pg_db)[-1][2] is False


def test_drift_is_refused_until_repair(pg, pg_db, migdir, apply_opts):
    migdir(BASE)
    apply_migrations(apply_opts(), False, False)
    migdir({"V1__create_orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
            "V3__later.sql": "CREATE TABLE later (id int);\n"})
    with pytest.raises(MigrationError, match="checksum drift") as info:
        apply_migrations(apply_opts(), False, False)
    assert info.value.details["drift"][0]["version"] == "1"
    assert "later" not in tables(pg, pg_db)
    repaired = apply_migrations(apply_opts(repair=True), False, False)
    assert repaired["repaired"]["realigned"] == ["1"]
    assert ledger(pg, pg_db)[0][1] == hashlib.sha256(b"CREATE TABLE orders (id bigint PRIMARY KEY);\n").hexdigest()


def test_check_mode_predicts_and_changes_nothing(pg, pg_db, migdir, apply_opts):
    migdir({"V1__create_orders.sql": BASE["V1__create_orders.sql"]})
    apply_migrations(apply_opts(), False, False)
    migdir({"V2__add_note.sql": BASE["V2__add_note.sql"], "V3__items.sql": "CREATE TABLE items (id int);\n"})
    result = apply_migrations(apply_opts(), True, False)
    assert result["changed"] is True and [m["version"] for m in result["applied"]] == ["2", "3"]
    assert result["current_version"] == "3" and result["check_error"] is None
    assert "items" not in tables(pg, pg_db) and "note" not in columns(pg, pg_db, "orders")
    assert [r[0] for r in ledger(pg, pg_db)] == ["1"]
    migdir({"V4__bad.sql": "ALTER TABLE missing_table ADD COLUMN a int;\n"})
    with pytest.raises(MigrationError, match="would fail") as info:
        apply_migrations(apply_opts(), True, False)
    assert info.value.details["check_error"]["version"] == "4"
    assert info.value.details["check_error"]["sqlstate"] == "42P01"
    assert [r[0] for r in ledger(pg, pg_db)] == ["1"]


def test_check_mode_on_a_fresh_database_creates_no_ledger(pg, pg_db, migdir, apply_opts):
    migdir(BASE)
    result = apply_migrations(apply_opts(), True, False)
    assert [m["version"] for m in result["applied"]] == ["1", "2"]
    assert tables(pg, pg_db) == set()


def test_target_down_runs_undo_files_newest_first(pg, pg_db, migdir, apply_opts):
    migdir(dict(BASE, **{"V3__items.sql": "CREATE TABLE items (id int);\n",
                         "U3__items.sql": "DROP TABLE items;\n"}))
    apply_migrations(apply_opts(), False, False)
    result = apply_migrations(apply_opts(target="1"), False, False)
    assert result["direction"] == "down" and [m["version"] for m in result["undone"]] == ["3", "2"]
    assert result["current_version"] == "1"
    assert tables(pg, pg_db) == {"orders", "shipyard_schema_history"}
    assert columns(pg, pg_db, "orders") == ["id", "total"]
    assert [r[0] for r in ledger(pg, pg_db)] == ["1"]
    again = apply_migrations(apply_opts(target="3"), False, False)
    assert [m["version"] for m in again["applied"]] == ["2", "3"]


def test_target_down_without_undo_file_changes_nothing(pg, pg_db, migdir, apply_opts):
    migdir(dict(BASE, **{"V3__items.sql": "CREATE TABLE items (id int);\n"}))
    apply_migrations(apply_opts(), False, False)
    with pytest.raises(ConfigurationError, match="no undo file for version"):
        apply_migrations(apply_opts(target="0"), False, False)
    assert [r[0] for r in ledger(pg, pg_db)] == ["1", "2", "3"]


def test_non_transactional_file_runs_create_index_concurrently(pg, pg_db, migdir, apply_opts):
    migdir({"V1__create_orders.sql": BASE["V1__create_orders.sql"],
            "V2__index.sql": "-- shipyard:no-transaction\nCREATE INDEX CONCURRENTLY orders_total ON orders (total);\n"})
    result = apply_migrations(apply_opts(), False, False)
    assert result["applied"][1]["transactional"] is False
    with pg.connect(pg_db) as conn:
        valid = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_total'::regclass")
        assert valid.fetchone() == (True,)


def test_out_of_order_is_refused(pg, pg_db, migdir, apply_opts):
    migdir({"V2__add.sql": "CREATE TABLE b (id int);\n"})
    apply_migrations(apply_opts(), False, False)
    migdir({"V1__early.sql": "CREATE TABLE a (id int);\n"})
    with pytest.raises(MigrationError, match="out of order"):
        apply_migrations(apply_opts(), False, False)
    assert "a" not in tables(pg, pg_db)
    assert [m["version"] for m in apply_migrations(apply_opts(out_of_order=True), False, False)["applied"]] == ["1"]


def test_lint_breaking_blocks_a_contract_migration(pg, pg_db, migdir, apply_opts):
    migdir(BASE)
    apply_migrations(apply_opts(), False, False)
    migdir({"V3__drop_note.sql": "ALTER TABLE orders DROP COLUMN note;\n"})
    with pytest.raises(MigrationError, match="drop_column"):
        apply_migrations(apply_opts(lint="breaking"), False, False)
    assert "note" in columns(pg, pg_db, "orders")
    migdir({"V3__drop_note.sql": "-- shipyard:ignore drop_column reason: unused since release 41\n"
                                 "ALTER TABLE orders DROP COLUMN note;\n"})
    result = apply_migrations(apply_opts(lint="breaking"), False, False)
    assert result["lint_findings"][0]["suppressed"] is True
    assert "note" not in columns(pg, pg_db, "orders")


@pytest.mark.parametrize("bad, pattern", [
    ({}, "does not exist or is not a directory"),
    ({"V1__bad.sql": "CREATE TABEL x (id int);\n"}, "cannot parse V1__bad.sql at line 1"),
    ({"V1__own_tx.sql": "BEGIN;\nCREATE TABLE x (id int);\nCOMMIT;\n"}, "V1__own_tx.sql line 1: BEGIN"),
])
def test_bad_input_gives_clear_error_and_changes_nothing(pg, pg_db, migdir, apply_opts, bad, pattern):
    path = migdir(bad) if bad else migdir.path + "/missing"
    with pytest.raises(ConfigurationError, match=pattern):
        apply_migrations(apply_opts(path=path), False, False)
    assert tables(pg, pg_db) == set()


def test_playbook_applies_with_check_mode_first(pg, pg_db, migdir, playbook):
    path = migdir(BASE)
    task = {"name": "migrate", "shipyard.deploy.migration_apply": dict(
        pg.conn_options(pg_db), path=path, lint="breaking")}
    checked = playbook.run(play([task]), check=True)
    assert checked.rc == 0, checked.output
    assert checked.task("migrate")["changed"] is True
    assert [m["version"] for m in checked.task("migrate")["applied"]] == ["1", "2"]
    assert tables(pg, pg_db) == set()
    run = playbook.run(play([task, dict(task, name="again")]), verbosity=3)
    assert run.rc == 0, run.output
    assert run.task("migrate")["current_version"] == "2" and run.task("again")["changed"] is False
    assert pg.password not in run.output


@pytest.mark.parametrize("option, value, pattern", [
    ("lock_timeout", "soon", "not a PostgreSQL duration"),
    ("target", "v2", "not a migration version"),
])
def test_malformed_options_are_refused_before_connecting(pg, pg_db, migdir, apply_opts, option, value, pattern):
    migdir(BASE)
    with pytest.raises(ConfigurationError, match=pattern):
        apply_migrations(apply_opts(**{option: value, "port": 1}), False, False)
    assert tables(pg, pg_db) == set()


def test_ledger_errors_are_reported_not_crashed(pg, pg_db, migdir, apply_opts):
    from ansible_collections.shipyard.deploy.plugins.module_utils.errors import PostgresError

    migdir(BASE)
    with pytest.raises(PostgresError, match=r"could not read or write the ledger no_such_schema\.ledger"):
        apply_migrations(apply_opts(ledger_schema="no_such_schema", ledger_table="ledger"), False, False)
    assert tables(pg, pg_db) == set()


def test_two_playbooks_started_together_apply_each_migration_once(pg, pg_db, migdir, tmp_path):
    from harness.playbook import PlaybookRunner

    path = migdir({
        "V1__counter.sql": "CREATE TABLE runs (n int);\n",
        "V2__slow.sql": "SELECT pg_sleep(1);\nINSERT INTO runs VALUES (2);\n",
        "V3__more.sql": "INSERT INTO runs VALUES (3);\n",
    })
    task = {"name": "migrate", "shipyard.deploy.migration_apply": dict(pg.conn_options(pg_db), path=path)}
    runners = [PlaybookRunner(str(tmp_path / name)) for name in ("a", "b")]
    for runner in runners:
        os.makedirs(runner.workdir, exist_ok=True)
    barrier = threading.Barrier(2)
    runs = []

    def run(runner):
        barrier.wait()
        runs.append(runner.run(play([task])))

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert [r.rc for r in runs] == [0, 0], [r.output for r in runs]
    applied = sorted(m["version"] for r in runs for m in r.task("migrate")["applied"])
    assert applied == ["1", "2", "3"]
    with pg.connect(pg_db) as conn:
        assert conn.execute("SELECT n FROM runs ORDER BY n").fetchall() == [(2,), (3,)]


def test_apply_check_and_status_on_every_server_version(pg_any, pg_any_db, migdir, apply_opts):
    from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.status import migration_status

    migdir(dict(BASE, **{"V3__index.sql": "-- shipyard:no-transaction\n"
                                          "CREATE INDEX CONCURRENTLY orders_total ON orders (total);\n"}))
    opts = apply_opts(**pg_any.conn_options(pg_any_db))
    checked = apply_migrations(opts, True, False)
    assert checked["not_verified"] == ["3"] and tables(pg_any, pg_any_db) == set()
    assert [m["version"] for m in apply_migrations(opts, False, False)["applied"]] == ["1", "2", "3"]
    status = migration_status(dict(opts, tool="auto", history_schema=None, history_table=None, sqitch_project=None,
                                   fail_on=["pending", "failed", "drift", "missing"]), False, False)
    assert status["summary"]["applied"] == ["1", "2", "3"] and status["tool"] == "shipyard"


def test_check_mode_after_a_non_transactional_file_warns_instead_of_failing(pg, pg_db, migdir, apply_opts):
    migdir({"V1__create_orders.sql": BASE["V1__create_orders.sql"],
            "V2__index.sql": "-- shipyard:no-transaction\nCREATE INDEX CONCURRENTLY orders_total ON orders (total);\n",
            "V3__uses_index.sql": "ALTER INDEX orders_total RENAME TO orders_by_total;\n",
            "V4__items.sql": "CREATE TABLE items (id int);\n"})
    result = apply_migrations(apply_opts(), True, False)
    assert [(m["version"], m["verified"]) for m in result["applied"]] == [
        ("1", True), ("2", False), ("3", False), ("4", False)]
    assert result["check_error"]["version"] == "3" and result["check_error"]["after_unverified"] == ["2"]
    assert "could not verify 3, 4" in result["warnings"][0]
    assert tables(pg, pg_db) == set()
    # The real run shows the prediction was right not to fail.
    assert [m["version"] for m in apply_migrations(apply_opts(), False, False)["applied"]] == ["1", "2", "3", "4"]


def test_check_mode_down_predicts_the_undo_and_changes_nothing(pg, pg_db, migdir, apply_opts):
    migdir(BASE)
    apply_migrations(apply_opts(), False, False)
    result = apply_migrations(apply_opts(target="0"), True, False)
    assert result["direction"] == "down" and [m["version"] for m in result["undone"]] == ["2", "1"]
    assert result["current_version"] is None and result["changed"] is True
    assert columns(pg, pg_db, "orders") == ["id", "total", "note"]
    assert [r[0] for r in ledger(pg, pg_db)] == ["1", "2"]


def test_statements_with_percent_unicode_and_dollar_quotes_run_verbatim(pg, pg_db, migdir, apply_opts):
    migdir({"V1__f.sql": "CREATE TABLE t (s text);\nINSERT INTO t VALUES ('100% sûr; oui');\n"
                         "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;\n"
                         "SELECT f();\n"})
    apply_migrations(apply_opts(), False, False)
    with pg.connect(pg_db) as conn:
        assert conn.execute("SELECT s, f() FROM t").fetchone() == ("100% sûr; oui", 1)
