# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""This collection's own migration ledger: one row per version, with its SHA-256 and outcome."""

from __future__ import annotations

import hashlib

from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.files import version_key

try:
    from psycopg import sql
except ImportError:  # pragma: no cover - connect() reports the missing library first
    sql = None

DEFAULT_SCHEMA = "public"
DEFAULT_TABLE = "shipyard_schema_history"
COLUMNS = ("version", "description", "script", "checksum", "applied_at", "duration_ms", "success", "error")


def table_ident(schema, table):
    """The ledger's qualified name as a psycopg ``sql.Composable``."""
    return sql.Identifier(schema, table)


def advisory_key(schema, table):
    """A stable 64-bit advisory lock key per ledger, so runs on different ledgers never wait."""
    digest = hashlib.sha256(("shipyard.deploy.migrations:%s.%s" % (schema, table)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def ledger_exists(conn, schema, table):
    """True when the ledger table exists."""
    name = sql.Identifier(schema, table).as_string(conn)
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row[0])


def ensure_ledger(conn, schema, table):
    """Create the ledger table when missing; return True when it was created."""
    if ledger_exists(conn, schema, table):
        return False
    conn.execute(sql.SQL(
        "CREATE TABLE {} ("
        " version text PRIMARY KEY,"
        " description text NOT NULL,"
        " script text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now(),"
        " duration_ms integer NOT NULL,"
        " success boolean NOT NULL,"
        " error text)"
    ).format(table_ident(schema, table)))
    return True


def read_ledger(conn, schema, table):
    """Rows of the ledger as dicts sorted by version; an empty list when the table is missing."""
    if not ledger_exists(conn, schema, table):
        return []
    cur = conn.execute(sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS), table_ident(schema, table)))
    rows = [dict(zip(COLUMNS, row)) for row in cur.fetchall()]
    for row in rows:
        row["applied_at"] = row["applied_at"].isoformat() if row["applied_at"] else None
    return sorted(rows, key=lambda r: version_key(r["version"]))


def record(conn, schema, table, migration, duration_ms, success, error=None):
    """Insert or replace the ledger row of ``migration`` (a MigrationFile)."""
    conn.execute(sql.SQL(
        "INSERT INTO {} (version, description, script, checksum, duration_ms, success, error)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (version) DO UPDATE SET description = EXCLUDED.description,"
        " script = EXCLUDED.script, checksum = EXCLUDED.checksum, applied_at = now(),"
        " duration_ms = EXCLUDED.duration_ms, success = EXCLUDED.success, error = EXCLUDED.error"
    ).format(table_ident(schema, table)), (
        migration.version, migration.description, migration.name, migration.checksum,
        int(duration_ms), bool(success), error,
    ))


def forget(conn, schema, table, version):
    """Delete the ledger row of ``version`` (after its undo ran, or by repair)."""
    conn.execute(sql.SQL("DELETE FROM {} WHERE version = %s").format(table_ident(schema, table)), (version,))


def set_checksum(conn, schema, table, version, checksum, description, script):
    """Realign a row with its file (repair)."""
    conn.execute(sql.SQL(
        "UPDATE {} SET checksum = %s, description = %s, script = %s WHERE version = %s"
    ).format(table_ident(schema, table)), (checksum, description, script, version))
