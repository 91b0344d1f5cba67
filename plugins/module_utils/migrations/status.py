# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service of ``migration_status``: compare a tool's history table with its files.

States per migration: ``applied``, ``pending``, ``out_of_order`` (pending, but older than
something applied), ``failed``, ``missing`` (applied, file gone), ``ahead`` (applied by a newer
release: the database is ahead of this one) and ``drift`` (applied, but the file's checksum,
recomputed the tool's way, differs from the recorded one).  Read only.
"""

from __future__ import annotations

import re

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    MigrationError,
    PostgresError,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations import history, sources
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.files import (
    require_directory,
    version_key,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import (
    ConnectionParams,
    _first_line,  # one way to quote errors
)

try:
    import psycopg
except ImportError:  # pragma: no cover - ConnectionParams.connect() reports it
    psycopg = None

TOOLS = sorted(history.READERS)
# Tools whose stored checksum we recompute from the file.
CHECKSUM_TOOLS = {"shipyard": "SHA-256 of the file", "flyway": "CRC32 over lines (Flyway)",
                  "sqitch": "SHA-1 of the deploy script and the change id from sqitch.plan",
                  "prisma": "SHA-256 of migration.sql",
                  "liquibase": "MD5 of each changeset (Liquibase's checksum version 9)"}
# Tools for which "older than an applied migration and not applied" means out of order.
ORDERED_TOOLS = {"shipyard", "flyway", "sqitch", "prisma", "rails"}
FAIL_ON = ["pending", "out_of_order", "failed", "drift", "missing", "ahead", "dirty"]
STATES = ("applied", "pending", "out_of_order", "failed", "drift", "missing", "ahead")
# Tools whose versions compare as numbers: a recorded version above every file's is "ahead".
NUMERIC_VERSION_TOOLS = {"shipyard", "flyway", "golang_migrate", "rails"}


def scan_sources(tool, path, params):
    """``(sources, extra)`` for ``tool`` from ``path``; extra holds tool specifics (alembic parents…)."""
    if tool == "shipyard":
        return sources.scan_ours(path), {}
    if tool == "flyway":
        return sources.scan_flyway(path), {}
    if tool == "golang_migrate":
        return sources.scan_golang_migrate(path), {}
    if tool == "rails":
        return sources.scan_rails(path), {}
    if tool == "prisma":
        return sources.scan_prisma(path), {}
    if tool == "liquibase":
        return sources.scan_liquibase(path), {}
    if tool == "sqitch":
        found, project = sources.scan_sqitch(path)
        return found, {"project": params.get("sqitch_project") or project}
    found, parents = sources.scan_alembic(path)
    return found, {"parents": parents}


def _ancestors(heads, parents):
    seen, stack = set(), list(heads)
    while stack:
        rev = stack.pop()
        if rev in seen:
            continue
        seen.add(rev)
        stack.extend(parents.get(rev, ()))
    return seen


def _derive_history(tool, rows, found, extra):
    """Alembic and golang-migrate record only the current version: expand it to every applied one."""
    if tool == "alembic" and found:
        parents = extra["parents"]
        heads = [r["key"] for r in rows]
        known = [h for h in heads if h in parents]
        if heads and not known:
            # Every head of the database is a revision this release does not know: a newer release
            # migrated it and the application was rolled back (Alembic itself then says "Can't
            # locate revision").  The release's revisions are what the database went through.
            applied = set(parents)
        else:
            applied = _ancestors(known, parents)
        derived = [{"key": s.key, "description": s.description, "script": s.script, "checksum": None,
                    "success": True, "applied_at": None} for s in found if s.key in applied]
        derived += [dict(r, script=None, ahead=True) for r in rows if r["key"] not in parents]
        return derived
    if tool == "golang_migrate" and found and rows:
        current = rows[0]
        derived = [{"key": s.key, "description": s.description, "script": s.script, "checksum": None,
                    "success": True, "applied_at": None} for s in found if int(s.key) < int(current["key"])]
        return [*derived, current]
    return rows


def align_sqitch(rows, found):
    """Give each sqitch history row the key of the plan entry it is: by change id, sqitch's own
    identity (a reworked change has one per instance under one name), else - the plan line was
    edited after deploy, which changes the id - by name to the first unmatched entry of that
    name (then ``drift``).  A row matching nothing keeps a key of its own (``missing``)."""
    by_id = {s.change_id: s.key for s in found if s.change_id}
    taken, aligned, pending = set(), [], []
    for row in rows:
        key = by_id.get(row.get("change_id"))
        if key and key not in taken:
            taken.add(key)
            aligned.append(dict(row, key=key))
        else:
            aligned.append(None)
            pending.append(len(aligned) - 1)
    for index in pending:
        row = rows[index]
        same_name = [s.key for s in found if s.description == row["key"] and s.key not in taken]
        if same_name:
            taken.add(same_name[0])
            aligned[index] = dict(row, key=same_name[0])
        else:
            aligned[index] = dict(row, key="%s (change id %s)" % (row["key"], (row.get("change_id") or "?")[:12]))
    return aligned


def _numeric(key):
    return bool(re.match(r"^\d+(?:[._]\d+)*$", str(key)))


def _checksums_differ(tool, recorded, computed):
    """True when both checksums are known, comparable and different.  Liquibase prefixes its
    MD5SUM with the algorithm version (``9:``); one of another version is not comparable (and
    Liquibase itself rewrites it on its next run)."""
    if tool not in CHECKSUM_TOOLS or recorded is None or computed is None:
        return False
    if tool == "liquibase" and str(recorded).split(":", 1)[0] != str(computed).split(":", 1)[0]:
        return False
    return str(recorded) != str(computed)


def compare(tool, rows, found, have_files):
    """Per-migration states: a list of dicts in file order, then history-only entries."""
    by_key = {r["key"]: r for r in rows}
    position = {s.key: i for i, s in enumerate(found)}
    # Repeatable migrations run after the versioned ones whenever they change: no order to keep.
    applied_positions = [position[r["key"]] for r in rows if r["success"] and r["key"] in position
                         and not found[position[r["key"]]].repeatable]
    last_applied = max(applied_positions) if applied_positions else -1
    entries = []
    for index, source in enumerate(found):
        row = by_key.get(source.key)
        entry = {"version": source.key, "description": source.description, "script": source.script,
                 "applied_at": None, "checksum_recorded": None, "checksum_file": source.checksum,
                 "drift_reason": None, "repeatable": source.repeatable}
        if row is None:
            late = tool in ORDERED_TOOLS and index < last_applied and not source.repeatable
            entry["state"] = "out_of_order" if late else "pending"
        else:
            entry["applied_at"] = row["applied_at"]
            entry["checksum_recorded"] = row["checksum"]
            if not row["success"]:
                entry["state"] = "failed"
            elif _checksums_differ(tool, row["checksum"], source.checksum):
                # A repeatable migration that changed is run again by its tool: pending, not drift.
                entry["state"] = "pending" if source.repeatable else "drift"
                if not source.repeatable:
                    entry["drift_reason"] = "the file's checksum differs from the recorded one"
            elif row.get("change_id") and source.change_id and row["change_id"] != source.change_id:
                entry["state"] = "drift"
                entry["drift_reason"] = ("the plan entry changed after deploy (change id %s recorded, %s from "
                                         "sqitch.plan)" % (row["change_id"], source.change_id))
            else:
                entry["state"] = "applied"
        entries.append(entry)
    newest_file = max((version_key(s.key) for s in found if _numeric(s.key)), default=None) \
        if tool in NUMERIC_VERSION_TOOLS else None
    for row in rows:
        if row["key"] in position:
            continue
        if not row["success"]:
            state = "failed"
        elif not have_files or row.get("baseline"):
            state = "applied"
        elif row.get("ahead") or (newest_file is not None and _numeric(row["key"])
                                  and version_key(row["key"]) > newest_file):
            state = "ahead"  # applied by a newer release than this one
        else:
            state = "missing"
        entries.append({"version": row["key"], "description": row["description"], "script": row["script"],
                        "applied_at": row["applied_at"], "checksum_recorded": row["checksum"],
                        "checksum_file": None, "drift_reason": None, "state": state,
                        "repeatable": bool(row.get("repeatable"))})
    return entries


def migration_status(params, check_mode, diff_mode):
    """Service of ``migration_status``; it only reads, so check mode changes nothing either."""
    tool = params.get("tool") or "auto"
    if tool != "auto" and tool not in history.READERS:
        raise ConfigurationError("unknown migration tool %r; use auto or one of %s" % (tool, ", ".join(TOOLS)))
    fail_on = params.get("fail_on") or []
    unknown = [f for f in fail_on if f not in FAIL_ON]
    if unknown:
        raise ConfigurationError("unknown fail_on value(s) %s; use %s" % (", ".join(unknown), ", ".join(FAIL_ON)))
    path = params.get("path")
    if path:
        require_directory(path)
    conn = ConnectionParams.from_options(params).connect(autocommit=True)
    try:
        # Every statement of this session is its own read-only transaction: the gate cannot write.
        conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        if tool == "auto":
            detected = history.detect_tools(conn)
            if not detected:
                raise ConfigurationError(
                    "no migration history table found in database %s (looked for %s); set tool "
                    "explicitly if nothing was ever applied" % (
                        ConnectionParams.from_options(params).dbname,
                        ", ".join(".".join(p for p in history.DEFAULT_TABLES[t] if p) for t in history.DETECT_ORDER)))
            if len(detected) > 1:
                raise ConfigurationError("several migration history tables found (%s); set tool to the one "
                                         "to check" % ", ".join(detected))
            tool = detected[0]
        default_schema, default_table = history.DEFAULT_TABLES[tool]
        schema = params.get("history_schema") or default_schema
        table = params.get("history_table") or default_table
        found, extra = scan_sources(tool, path, params) if path else ([], {})
        exists = bool(history.table_columns(conn, schema, table))
        rows = []
        if exists:
            if tool == "sqitch":
                rows = history.read_sqitch(conn, schema, table, extra.get("project") or params.get("sqitch_project"))
            else:
                rows = history.READERS[tool](conn, schema, table)
        dirty = any(r.get("dirty") for r in rows)
        if tool == "sqitch" and found:
            rows = align_sqitch(rows, found)
        rows = _derive_history(tool, rows, found, extra)
    except psycopg.Error as exc:
        raise PostgresError(
            "cannot read the %s history table (SQLSTATE %s): %s; check that it has the tool's columns, set "
            "history_schema/history_table if it lives elsewhere, and that the user may read it"
            % (tool, getattr(exc, "sqlstate", None), _first_line(exc))
        ) from None
    finally:
        conn.close()
    entries = compare(tool, rows, found, bool(path))
    summary = {state: [e["version"] for e in entries if e["state"] == state] for state in STATES}
    applied = [e["version"] for e in entries if e["state"] in ("applied", "drift", "ahead") and not e["repeatable"]]
    result = {
        "changed": False, "tool": tool, "history_table": ".".join(p for p in (schema, table) if p),
        "history_table_exists": exists, "migrations": entries, "summary": summary, "dirty": dirty,
        "current_version": applied[-1] if applied else None,
        "database_ahead": bool(summary["ahead"]),
        "checksum_verified": CHECKSUM_TOOLS.get(tool) if path else None,
    }
    hits = {f: (summary[f] if f != "dirty" else ([r["key"] for r in rows if r.get("dirty")] if dirty else []))
            for f in fail_on}
    hits = {k: v for k, v in hits.items() if v}
    if hits:
        raise MigrationError(
            "migration gate (%s, %s): %s; the database is not in the state this release expects — %s" % (
                tool, result["history_table"], "; ".join("%s: %s" % (k, ", ".join(v)) for k, v in hits.items()),
                _advice(hits)),
            **{k: v for k, v in result.items() if k != "changed"})
    return result


def _advice(hits):
    if "failed" in hits or "dirty" in hits:
        return "fix the failed migration with its tool, then rerun the deployment"
    if "drift" in hits:
        return "an applied migration file was edited; restore it from the released version"
    if "ahead" in hits:
        return ("the database is ahead of this release (a newer release migrated it; was the application "
                "rolled back?): deploy the newer release again, or migrate the database down with its tool")
    if "missing" in hits:
        return "the release lacks files of migrations the database has; deploy the right release"
    return "apply the pending migrations first"
