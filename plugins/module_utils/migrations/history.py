# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readers of each migration tool's history table, normalized to one shape.

Every reader returns a list of dicts ``{key, description, script, checksum, success,
applied_at}`` in the order the tool applied them; ``success`` is False for what the tool
records as failed.  Tables are read only; nothing here writes.
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.migrations import ledger
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.files import version_key

try:
    from psycopg import sql
except ImportError:  # pragma: no cover - connect() reports the missing library first
    sql = None

# tool -> (default schema, default table); None schema means the connection's search_path.
DEFAULT_TABLES = {
    "shipyard": (ledger.DEFAULT_SCHEMA, ledger.DEFAULT_TABLE),
    "flyway": (None, "flyway_schema_history"),
    "liquibase": (None, "databasechangelog"),
    "sqitch": ("sqitch", "changes"),
    "alembic": (None, "alembic_version"),
    "golang_migrate": (None, "schema_migrations"),
    "prisma": (None, "_prisma_migrations"),
    "rails": (None, "schema_migrations"),
}
# Detection order for tool=auto.
DETECT_ORDER = ["shipyard", "flyway", "liquibase", "sqitch", "alembic", "prisma", "golang_migrate", "rails"]


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def relation(schema, table):
    """A psycopg identifier for ``schema.table`` (just ``table`` when schema is None)."""
    return sql.Identifier(schema, table) if schema else sql.Identifier(table)


def table_columns(conn, schema, table):
    """Column names of a table visible as ``schema.table`` (or on the search_path), [] when absent."""
    name = relation(schema, table).as_string(conn)
    row = conn.execute("SELECT to_regclass(%s)::oid", (name,)).fetchone()
    if not row or row[0] is None:
        return []
    cur = conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
                       "AND NOT attisdropped ORDER BY attnum", (row[0],))
    return [r[0] for r in cur.fetchall()]


def detect_tools(conn):
    """Tools whose history table exists, in detection order (golang-migrate vs Rails by ``dirty``)."""
    found = []
    for tool in DETECT_ORDER:
        schema, table = DEFAULT_TABLES[tool]
        cols = table_columns(conn, schema, table)
        if not cols:
            continue
        if tool == "golang_migrate" and "dirty" not in cols:
            continue
        if tool == "rails" and "dirty" in cols:
            continue
        found.append(tool)
    return found


def _rows(conn, query, schema, table, params=()):
    cur = conn.execute(sql.SQL(query).format(tbl=relation(schema, table)), params)
    names = [d.name for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def read_shipyard(conn, schema, table):
    """Our own ledger."""
    return [{"key": r["version"], "description": r["description"], "script": r["script"],
             "checksum": r["checksum"], "success": r["success"], "applied_at": r["applied_at"]}
            for r in ledger.read_ledger(conn, schema or ledger.DEFAULT_SCHEMA, table)]


FLYWAY_MARKER_TYPES = ("SCHEMA", "TABLE", "BASELINE")


def read_flyway(conn, schema, table):
    """``flyway_schema_history``: the latest row of each version, then of each repeatable
    migration (``version`` NULL, keyed ``R__<description>`` with ``repeatable`` set; Flyway adds a
    row each time it runs one again).  Schema-creation markers are left out.

    ``success = false`` is a failure; a ``BASELINE`` row marks the versions below it as applied
    without files, which callers see through the ``baseline`` flag.
    """
    rows = _rows(conn, "SELECT installed_rank, version, description, type, script, checksum, "
                       "installed_on, success FROM {tbl} ORDER BY installed_rank", schema, table)
    latest, repeatable = {}, {}
    for row in rows:
        if row["version"] is None:
            if row["type"] not in FLYWAY_MARKER_TYPES:
                repeatable["R__" + (row["description"] or "").replace(" ", "_")] = row
            continue
        if row["type"] in ("UNDO_SQL", "UNDO_JDBC", "UNDO_SCRIPT", "DELETE"):
            latest.pop(row["version"], None)
            continue
        latest[row["version"]] = row
    entries = [{"key": r["version"], "description": r["description"], "script": r["script"],
                "checksum": r["checksum"], "success": bool(r["success"]), "applied_at": _iso(r["installed_on"]),
                "baseline": r["type"] == "BASELINE"} for r in latest.values()]
    return entries + [{"key": key, "description": r["description"], "script": r["script"], "checksum": r["checksum"],
                       "success": bool(r["success"]), "applied_at": _iso(r["installed_on"]), "repeatable": True}
                      for key, r in repeatable.items()]


def read_liquibase(conn, schema, table):
    """``databasechangelog``: one row per changeset run; ``exectype = 'FAILED'`` is a failure."""
    rows = _rows(conn, "SELECT id, author, filename, dateexecuted, orderexecuted, exectype, md5sum, "
                       "description FROM {tbl} ORDER BY orderexecuted", schema, table)
    return [{"key": "%s::%s" % (r["id"], r["author"]), "description": r["description"] or r["id"],
             "script": r["filename"], "checksum": r["md5sum"], "success": r["exectype"] != "FAILED",
             "applied_at": _iso(r["dateexecuted"])} for r in rows]


def read_sqitch(conn, schema, table, project=None):
    """``sqitch.changes`` (deployed changes) plus ``sqitch.events``: a change id whose last event
    is ``fail`` and that is not deployed is a failure.  Rows carry ``change_id``, the identity
    sqitch itself uses (a reworked change has one per instance, under one name)."""
    schema = schema or "sqitch"
    where = sql.SQL(" WHERE project = %s") if project else sql.SQL("")
    params = (project,) if project else ()
    cur = conn.execute(sql.SQL("SELECT change, change_id, script_hash, committed_at FROM {}{} "
                               "ORDER BY committed_at").format(sql.Identifier(schema, table), where), params)
    entries = [{"key": r[0], "description": r[0], "script": "deploy/%s.sql" % r[0], "checksum": r[2],
                "success": True, "applied_at": _iso(r[3]), "change_id": r[1]} for r in cur.fetchall()]
    deployed = {e["change_id"] for e in entries}
    if table_columns(conn, schema, "events"):
        cur = conn.execute(sql.SQL("SELECT change_id, change, event, committed_at FROM {}{} "
                                   "ORDER BY committed_at").format(sql.Identifier(schema, "events"), where), params)
        last = {}
        for change_id, change, event, committed_at in cur.fetchall():
            last[change_id] = (change, event, committed_at)
        for change_id, (change, event, committed_at) in last.items():
            if event == "fail" and change_id not in deployed:
                entries.append({"key": change, "description": change, "script": "deploy/%s.sql" % change,
                                "checksum": None, "success": False, "applied_at": _iso(committed_at),
                                "change_id": change_id})
    return entries


def read_alembic(conn, schema, table):
    """``alembic_version``: the current head revision(s) only; ancestry comes from the files."""
    rows = _rows(conn, "SELECT version_num FROM {tbl}", schema, table)
    return [{"key": r["version_num"], "description": r["version_num"], "script": None, "checksum": None,
             "success": True, "applied_at": None} for r in rows]


def read_golang_migrate(conn, schema, table):
    """``schema_migrations (version bigint, dirty boolean)``: one row, the current version."""
    rows = _rows(conn, "SELECT version, dirty FROM {tbl}", schema, table)
    return [{"key": str(r["version"]), "description": str(r["version"]), "script": None, "checksum": None,
             "success": not r["dirty"], "applied_at": None, "dirty": bool(r["dirty"])} for r in rows]


def read_prisma(conn, schema, table):
    """``_prisma_migrations``: rolled-back rows are ignored; a row with neither ``finished_at`` nor
    ``rolled_back_at`` is a failure (Prisma's own rule)."""
    rows = _rows(conn, "SELECT migration_name, checksum, started_at, finished_at, rolled_back_at, logs "
                       "FROM {tbl} ORDER BY started_at", schema, table)
    latest = {}
    for row in rows:
        if row["rolled_back_at"] is not None:
            continue
        latest[row["migration_name"]] = row
    return [{"key": r["migration_name"], "description": r["migration_name"],
             "script": r["migration_name"] + "/migration.sql", "checksum": r["checksum"],
             "success": r["finished_at"] is not None, "applied_at": _iso(r["finished_at"] or r["started_at"]),
             "error": r["logs"]} for r in latest.values()]


def read_rails(conn, schema, table):
    """Rails' ``schema_migrations (version varchar)``: one row per applied migration."""
    rows = _rows(conn, "SELECT version FROM {tbl}", schema, table)
    return sorted([{"key": r["version"], "description": r["version"], "script": None, "checksum": None,
                    "success": True, "applied_at": None} for r in rows], key=lambda e: version_key(e["key"]))


READERS = {
    "shipyard": read_shipyard, "flyway": read_flyway, "liquibase": read_liquibase, "sqitch": read_sqitch,
    "alembic": read_alembic, "golang_migrate": read_golang_migrate, "prisma": read_prisma, "rails": read_rails,
}
