# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Our own runner for plain SQL migration directories (the service of ``migration_apply``).

Safety properties, and why:

* a session advisory lock per ledger, taken before the ledger is read, so two runs started at
  once apply each migration exactly once (the second sees what the first recorded);
* each migration in its own transaction with ``lock_timeout``/``statement_timeout`` set locally,
  so a failure leaves the schema exactly as before; the failure is then recorded in a separate
  transaction and the run stops;
* a lock timeout (SQLSTATE 55P03) is retried with jittered exponential backoff, because a DDL
  waiting behind a long query would otherwise block every query queued behind it;
* a failed entry or a checksum drift in the ledger stops everything until ``repair``; a lock
  timeout that outlasts every retry is not a failed entry, because nothing of the migration ran
  (its transaction rolled back), so the next run simply tries again.
"""

from __future__ import annotations

import random
import re
import time

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    MigrationError,
    PostgresError,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations import ledger
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.files import (
    SqlFileError,
    normalize_version,
    scan_versioned,
    sorted_versions,
    version_key,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.lint import lint_script
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.schema_model import SchemaModel
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.statements import (
    split_statements,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import (
    ConnectionParams,
    _first_line,  # one way to quote errors
)

try:
    import psycopg
    from psycopg import errors as pg_errors
except ImportError:  # pragma: no cover - ConnectionParams.connect() reports it
    psycopg = None
    pg_errors = None

MAX_RETRY_DELAY = 30.0


class _StatementFailed(Exception):
    """A statement of a migration failed; carries the psycopg error and the statement's line."""

    def __init__(self, error, line, index):
        super().__init__(str(error))
        self.error = error
        self.line = line
        self.index = index


def _statements(migration):
    """The statements of a migration file with their lines (ConfigurationError if it does not parse).

    A transactional file must not control the transaction itself: a COMMIT inside it would commit
    half a migration and its ledger entry separately, which is exactly what the runner prevents.
    """
    statements = split_statements(migration.content, migration.name)
    if migration.transactional:
        for statement in statements:
            if statement.kind == "TransactionStmt":
                raise ConfigurationError(
                    "%s line %d: %s; migration_apply already runs each file in a transaction, so remove "
                    "BEGIN/COMMIT/ROLLBACK from it, or put '-- shipyard:no-transaction' in its first lines"
                    % (migration.name, statement.line, statement.text.split()[0].upper()))
    return [(s.text, s.line) for s in statements if s.text]


def _execute(conn, statements, start=0):
    for index in range(start, len(statements)):
        text, line = statements[index]
        try:
            conn.execute(text)
        except psycopg.Error as exc:
            raise _StatementFailed(exc, line, index) from exc


def _set_timeouts(conn, params, local):
    for name in ("lock_timeout", "statement_timeout"):
        if params.get(name) is not None:
            conn.execute("SELECT set_config(%s, %s, %s)", (name, str(params[name]), local))


def _backoff(params, attempt):
    base = float(params.get("retry_delay") or 1.0)
    delay = min(MAX_RETRY_DELAY, base * 2 ** (attempt - 1))
    time.sleep(random.uniform(delay / 2, delay))  # noqa: S311 - jitter, not cryptography


def _nothing_applied(migration, exc):
    """True when a failure left no trace: a lock timeout in a transactional file, or in a
    non-transactional one before its first statement committed.

    Such a migration is not recorded as failed: the file is fine and the schema untouched, so the
    next run simply tries again (no repair, no "fix the file")."""
    lock_timeout = pg_errors is not None and isinstance(exc.error, pg_errors.LockNotAvailable)
    return lock_timeout and (migration.transactional or exc.index == 0)


def _fail(migration, exc, attempts, done, action="apply"):
    error = exc.error
    sqlstate = getattr(error, "sqlstate", None)
    if _nothing_applied(migration, exc):
        hint = ("another session held a lock longer than lock_timeout on every one of %d attempt(s); "
                "nothing of it was applied or recorded, so retry later (when the blocking query is gone) "
                "or raise lock_timeout or lock_retries" % attempts)
    elif sqlstate == "55P03":
        hint = ("another session held a lock longer than lock_timeout on every attempt; the statements "
                "before it are committed, so complete them by hand or undo them, then run with repair=true")
    else:
        hint = "fix the migration, then run again with repair=true to clear the failed entry"
    if action == "undo":
        hint = "fix the undo file and run again" if sqlstate != "55P03" else \
            "nothing was undone; retry later (when the blocking query is gone) or raise lock_timeout"
    return MigrationError(
        "%s of migration %s failed at line %d of %s (SQLSTATE %s): %s; the schema is unchanged "
        "by this migration%s; %s" % (
            action, migration.version, exc.line, migration.name, sqlstate, _first_line(error),
            "" if migration.transactional or exc.index == 0 else
            " except for statements before line %d (the file is non-transactional)" % exc.line,
            hint),
        failed_version=migration.version, sqlstate=sqlstate, attempts=attempts, **done,
    )


def run_transactional(conn, params, migration, statements, record_in_ledger):
    """Run one migration in a transaction, retrying lock timeouts; return (duration_ms, attempts).

    ``record_in_ledger(conn, duration_ms)`` runs inside the same transaction, so the schema
    change and its ledger entry commit together or not at all.
    """
    retries = int(params.get("lock_retries") or 0)
    attempt = 0
    while True:
        attempt += 1
        started = time.monotonic()
        try:
            with conn.transaction():
                _set_timeouts(conn, params, True)
                _execute(conn, statements)
                duration = (time.monotonic() - started) * 1000
                record_in_ledger(conn, duration)
            return duration, attempt
        except _StatementFailed as exc:
            if isinstance(exc.error, pg_errors.LockNotAvailable) and attempt <= retries:
                _backoff(params, attempt)
                continue
            exc.attempts = attempt
            exc.duration = (time.monotonic() - started) * 1000
            raise


def run_autocommit(conn, params, migration, statements):
    """Run a non-transactional migration statement by statement; resume at a lock-timed-out one."""
    retries = int(params.get("lock_retries") or 0)
    attempt = 0
    start = 0
    started = time.monotonic()
    _set_timeouts(conn, params, False)
    try:
        while True:
            attempt += 1
            try:
                _execute(conn, statements, start)
                return (time.monotonic() - started) * 1000, attempt
            except _StatementFailed as exc:
                if isinstance(exc.error, pg_errors.LockNotAvailable) and attempt <= retries:
                    start = exc.index  # the statements before it are committed
                    _backoff(params, attempt)
                    continue
                exc.attempts = attempt
                exc.duration = (time.monotonic() - started) * 1000
                raise
    finally:
        if not conn.broken:  # a lost connection must not hide the error that matters
            conn.execute("RESET lock_timeout")
            conn.execute("RESET statement_timeout")


def _summary(migration, **extra):
    item = {"version": migration.version, "description": migration.description, "script": migration.name,
            "transactional": migration.transactional}
    item.update(extra)
    return item


def check_ledger(rows, migrations):
    """Return (failed, drifted, missing) ledger problems as lists of dicts."""
    failed, drifted, missing = [], [], []
    for row in rows:
        if not row["success"]:
            failed.append({"version": row["version"], "script": row["script"], "error": row["error"]})
            continue
        migration = migrations.get(row["version"])
        if migration is None:
            missing.append({"version": row["version"], "script": row["script"]})
        elif migration.checksum != row["checksum"]:
            drifted.append({"version": row["version"], "script": migration.name,
                            "ledger_checksum": row["checksum"], "file_checksum": migration.checksum})
    return failed, drifted, missing


def plan(rows, migrations, undos, target, out_of_order):
    """Decide what to run: ``("up", [MigrationFile...])`` or ``("down", [undo MigrationFile...])``."""
    applied = sorted_versions(r["version"] for r in rows if r["success"])
    current = applied[-1] if applied else None
    pending = [v for v in sorted_versions(migrations) if v not in set(applied)]
    if target is not None and target != "0" and target not in migrations and target not in applied:
        raise ConfigurationError(
            "target version %s is neither a migration file nor in the ledger; use one of %s or 0"
            % (target, ", ".join(sorted_versions(set(migrations) | set(applied))) or "(none)")
        )
    if target is not None and current is not None and version_key(target) < version_key(current):
        down = [v for v in reversed(applied) if version_key(v) > version_key(target)]
        lacking = [v for v in down if v not in undos]
        if lacking:
            raise ConfigurationError(
                "cannot migrate down to %s: no undo file for version(s) %s; add U<version>__<description>.sql "
                "files or restore from a backup" % (target, ", ".join(lacking))
            )
        return "down", [undos[v] for v in down], current
    if target is not None:
        pending = [v for v in pending if version_key(v) <= version_key(target)]
    if current is not None and not out_of_order:
        late = [v for v in pending if version_key(v) < version_key(current)]
        if late:
            raise MigrationError(
                "migration(s) %s are older than the applied version %s (out of order); renumber them "
                "above %s or set out_of_order=true" % (", ".join(late), current, current),
                out_of_order=late,
            )
    return "up", [migrations[v] for v in pending], current


def lint_pending(params, to_run, applied=()):
    """Lint the migrations about to run; raise MigrationError when findings block them.

    ``applied`` (MigrationFiles, in order) are read first, only to learn the columns they made,
    so that for instance widening a varchar they created is known to be safe.
    """
    mode = params.get("lint") or "breaking"
    if mode == "off":
        return []
    model = SchemaModel()
    for migration in applied:
        try:
            lint_script(migration.content, migration.name, runner_sets_lock_timeout=True,
                        transactional=migration.transactional, model=model)
        except SqlFileError:
            continue  # already applied; the model just learns nothing from it
    findings = []
    for migration in to_run:
        findings.extend(lint_script(migration.content, migration.name, runner_sets_lock_timeout=True,
                                    transactional=migration.transactional, model=model))
    blocking = [f for f in findings if not f["suppressed"] and (mode == "all" or f["breaks_running_version"])]
    if blocking:
        raise MigrationError(
            "lint blocks %d finding(s), first: %s line %d [%s] %s; change the migration, suppress the "
            "finding with '-- shipyard:ignore %s reason: <why>', or set lint=%s" % (
                len(blocking), blocking[0]["file"], blocking[0]["line"], blocking[0]["rule"],
                blocking[0]["why"], blocking[0]["rule"], "breaking" if mode == "all" else "off"),
            lint_findings=findings,
        )
    return findings


TIMEOUT_RE = re.compile(r"^\s*\d+(\.\d+)?\s*(us|ms|s|min|h|d)?\s*$")
TARGET_RE = re.compile(r"^\d+(?:[._]\d+)*$")


def validate_options(params):
    """Refuse malformed timeouts and targets before anything connects."""
    for name in ("lock_timeout", "statement_timeout"):
        value = params.get(name)
        if value is not None and not TIMEOUT_RE.match(str(value)):
            raise ConfigurationError(
                "%s=%r is not a PostgreSQL duration; use a number with an optional unit, e.g. 5s, 500ms, 2min"
                % (name, value))
    target = params.get("target")
    if target not in (None, "") and not TARGET_RE.match(str(target).strip()):
        raise ConfigurationError(
            "target=%r is not a migration version; use digits separated by dots or underscores, e.g. 41 "
            "or 1.2, or 0 to undo everything" % target)
    if int(params.get("lock_retries") or 0) < 0:
        raise ConfigurationError("lock_retries must be 0 or more")


def apply_migrations(params, check_mode, diff_mode):
    """Service of ``migration_apply``; see the module's documentation for the options."""
    validate_options(params)
    migrations, undos = scan_versioned(params["path"])
    target = normalize_version(params["target"]) if params.get("target") not in (None, "") else None
    schema = params.get("ledger_schema") or ledger.DEFAULT_SCHEMA
    table = params.get("ledger_table") or ledger.DEFAULT_TABLE
    conn = ConnectionParams.from_options(params).connect(autocommit=True)
    try:
        key = ledger.advisory_key(schema, table)
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            return _locked_run(conn, params, check_mode, diff_mode, migrations, undos, target, schema, table)
        finally:
            if not conn.closed and not conn.broken:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    except psycopg.Error as exc:
        # Outside a migration's statements: the ledger, the lock or the connection itself.
        raise PostgresError(
            "migration_apply could not read or write the ledger %s.%s (SQLSTATE %s): %s; check that the "
            "user may create and write it and that the server is reachable"
            % (schema, table, getattr(exc, "sqlstate", None), _first_line(exc))) from None
    finally:
        conn.close()


def _repair(conn, params, check_mode, rows, migrations, schema, table):
    failed, drifted, missing = check_ledger(rows, migrations)
    if missing:
        raise MigrationError(
            "the ledger records version(s) %s but their files are gone from %s; restore the files "
            "from version control (repair does not forget applied migrations)"
            % (", ".join(m["version"] for m in missing), params["path"]),
            missing=missing,
        )
    if not check_mode:
        with conn.transaction():
            for item in failed:
                ledger.forget(conn, schema, table, item["version"])
            for item in drifted:
                migration = migrations[item["version"]]
                ledger.set_checksum(conn, schema, table, migration.version, migration.checksum,
                                    migration.description, migration.name)
    return {"removed_failed": [f["version"] for f in failed], "realigned": [d["version"] for d in drifted]}


def _refuse_on_ledger_problems(params, rows, migrations):
    failed, drifted, missing = check_ledger(rows, migrations)
    if failed:
        raise MigrationError(
            "the ledger shows failed migration(s) %s (%s); fix the file, make sure the schema is as "
            "before, then run with repair=true" % (
                ", ".join(f["version"] for f in failed), _first_line(failed[0]["error"] or "no error text")),
            failed=failed,
        )
    if drifted:
        raise MigrationError(
            "checksum drift: applied migration(s) %s were edited after they ran (the ledger's SHA-256 "
            "differs from the file's); restore the original files, or accept the edit with repair=true"
            % ", ".join("%s (%s)" % (d["version"], d["script"]) for d in drifted),
            drift=drifted,
        )
    if missing:
        raise MigrationError(
            "the ledger records version(s) %s but their files are not in %s; restore the files"
            % (", ".join(m["version"] for m in missing), params["path"]),
            missing=missing,
        )


def _locked_run(conn, params, check_mode, diff_mode, migrations, undos, target, schema, table):
    rows = ledger.read_ledger(conn, schema, table)
    result = {"changed": False, "applied": [], "undone": [], "lint_findings": [], "repaired": None,
              "ledger": "%s.%s" % (schema, table)}
    if params.get("repair"):
        repaired = _repair(conn, params, check_mode, rows, migrations, schema, table)
        result["repaired"] = repaired
        if repaired["removed_failed"] or repaired["realigned"]:
            result["changed"] = True
            failed_versions = set(repaired["removed_failed"])
            rows = [r for r in rows if r["version"] not in failed_versions]
            for row in rows:
                if row["version"] in repaired["realigned"]:
                    row["checksum"] = migrations[row["version"]].checksum
    _refuse_on_ledger_problems(params, rows, migrations)
    direction, to_run, current = plan(rows, migrations, undos, target, params.get("out_of_order"))
    result["previous_version"] = current
    result["direction"] = direction
    if direction == "up":
        applied = [migrations[v] for v in sorted_versions(r["version"] for r in rows if r["success"])
                   if v in migrations]
        result["lint_findings"] = lint_pending(params, to_run, applied)
    if not to_run:
        result["current_version"] = current
        return result
    if check_mode:
        return _check_run(conn, params, direction, to_run, result, target)
    # Parse everything before changing anything: unparsable SQL is refused up front.
    parsed = [_statements(m) for m in to_run]
    ledger.ensure_ledger(conn, schema, table)
    done = {"applied": result["applied"], "undone": result["undone"]}
    for migration, statements in zip(to_run, parsed):
        try:
            if direction == "down":
                duration, attempts = run_transactional(
                    conn, params, migration, statements,
                    lambda c, d, v=migration.version: ledger.forget(c, schema, table, v))
                result["undone"].append(_summary(migration, duration_ms=int(duration), attempts=attempts))
            elif migration.transactional:
                duration, attempts = run_transactional(
                    conn, params, migration, statements,
                    lambda c, d, m=migration: ledger.record(c, schema, table, m, d, True))
                result["applied"].append(_summary(migration, duration_ms=int(duration), attempts=attempts))
            else:
                duration, attempts = run_autocommit(conn, params, migration, statements)
                ledger.record(conn, schema, table, migration, duration, True)
                result["applied"].append(_summary(migration, duration_ms=int(duration), attempts=attempts))
        except _StatementFailed as exc:
            if direction == "up" and not _nothing_applied(migration, exc):
                ledger.record(conn, schema, table, migration, exc.duration, False,
                              "line %d: %s" % (exc.line, _first_line(exc.error)))
            raise _fail(migration, exc, exc.attempts, done, "undo" if direction == "down" else "apply") from None
        result["changed"] = True
    remaining = [r["version"] for r in ledger.read_ledger(conn, schema, table) if r["success"]]
    result["current_version"] = sorted_versions(remaining)[-1] if remaining else None
    return result


def _check_run(conn, params, direction, to_run, result, target):
    """Run everything in one transaction and roll back: what would apply, and what would fail."""
    would, skipped = [], []
    result["check_error"] = None
    parsed = {m.version: _statements(m) for m in to_run}
    try:
        with conn.transaction(force_rollback=True):
            _set_timeouts(conn, params, True)
            for migration in to_run:
                if direction == "up" and not migration.transactional:
                    # It cannot run in a transaction; later files that depend on it may then fail.
                    skipped.append(migration.version)
                    would.append(_summary(migration, verified=False))
                    continue
                with conn.transaction():  # a savepoint, so an error names its migration
                    _execute(conn, parsed[migration.version])
                would.append(_summary(migration, verified=True))
    except _StatementFailed as exc:
        failing = to_run[len(would)]
        result["check_error"] = {
            "version": failing.version, "script": failing.name, "line": exc.line,
            "sqlstate": getattr(exc.error, "sqlstate", None), "message": _first_line(exc.error),
        }
    error = result["check_error"]
    if error and skipped:
        # An unverified non-transactional migration ran before it, so this error may only be the
        # absence of its effect: report it, do not fail, and list the rest as unverified.
        error["after_unverified"] = list(skipped)
        for migration in to_run[len(would):]:
            skipped.append(migration.version)
            would.append(_summary(migration, verified=False))
        result["warnings"] = [
            "check mode could not verify %s: migration %s failed (%s) after non-transactional migration(s) %s, "
            "which cannot be tried in a transaction and may be what it needs" % (
                ", ".join(skipped[len(error["after_unverified"]):]), error["version"], error["message"],
                ", ".join(error["after_unverified"]))]
        error = None
    key = "applied" if direction == "up" else "undone"
    result[key] = would
    result["changed"] = bool(would)
    result["not_verified"] = skipped
    if direction == "down":
        result["current_version"] = target if target != "0" else None
    else:
        result["current_version"] = would[-1]["version"] if would else result["previous_version"]
    if error:
        details = {k: v for k, v in result.items() if k != "changed"}
        raise MigrationError(
            "check mode: migration %s would fail at line %d of %s (SQLSTATE %s): %s; nothing was "
            "changed; fix the migration before running for real" % (
                error["version"], error["line"], error["script"], error["sqlstate"], error["message"]),
            **details)
    return result
