# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL statements of a restore: existence, sessions, DROP, row counts, the atomic rename.

Each takes an open autocommit psycopg connection to the admin database (never the target) and
raises psycopg's own errors; the restore turns those into messages.
"""

from __future__ import annotations

import time

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import RestoreError

try:
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError:  # pragma: no cover - reported by postgres.require_psycopg()
    pg_errors = None
    sql = None

SWAP_ATTEMPTS = 5

# Every ordinary table of a database as pg_dump sees it: not temporary, not a member of an
# extension (pg_dump leaves those to CREATE EXTENSION), not in a system schema. The backup counts
# these tables' rows into the manifest and the restore counts the same set back.
TABLES_SQL = """
SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND c.relpersistence <> 't'
  AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                    AND d.deptype = 'e')
ORDER BY 1, 2
"""


def database_exists(conn, name):
    """True when a database called ``name`` exists on the server."""
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def terminate_sessions(conn, names):
    """Terminate every other session connected to the databases ``names``."""
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = ANY(%s) AND pid <> pg_backend_pid()",
        (list(names),),
    )


def drop_database(conn, name, server_major):
    """Drop ``name`` (its sessions are terminated first); no error when it does not exist."""
    terminate_sessions(conn, [name])
    force = " WITH (FORCE)" if server_major >= 13 else ""
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}" + force).format(sql.Identifier(name)))


def cluster_identifier(conn_params):
    """``(system identifier, warning)`` of the server: pg_control_system() tells clusters apart.

    Reading it needs superuser or EXECUTE on pg_control_system(); without that the identifier is
    None and the warning says how to grant it.
    """
    try:
        with conn_params.connect() as conn:
            row = conn.execute("SELECT system_identifier::text FROM pg_catalog.pg_control_system()").fetchone()
    except Exception as exc:
        if pg_errors is None or not isinstance(exc, pg_errors.Error):
            raise
        # a refusal only costs the identifier, never the backup
        if isinstance(exc, pg_errors.InsufficientPrivilege):
            return None, ("the backup does not record its cluster's system identifier: the role may not call "
                          "pg_control_system(); GRANT EXECUTE ON FUNCTION pg_control_system() TO the backup role "
                          "so that latest can tell clusters sharing this location apart")
        return None, "the backup does not record its cluster's system identifier: %s" % str(exc).strip()
    return (row[0] if row else None), None


def count_rows(conn, tables):
    """Row counts of ``tables`` (``schema.table`` names) and of every table a backup would count.

    Names are matched against the catalog rather than split on ".", so schemas or tables with a
    dot in their name are counted correctly. A table of ``tables`` that does not exist is left
    out; a table that exists but is not in ``tables`` is counted too (the comparison with the
    manifest goes both ways). ``ONLY``: the manifest counts each table without its inheritance
    children, so we do too.
    """
    rows = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_toast%%'"
    ).fetchall()
    catalog = {"%s.%s" % (nsp, rel): (nsp, rel) for nsp, rel in rows}
    wanted = list(tables) + ["%s.%s" % row for row in conn.execute(TABLES_SQL).fetchall()]
    counts = {}
    for table in wanted:
        if table in catalog and table not in counts:
            nsp, rel = catalog[table]
            query = sql.SQL("SELECT count(*) FROM ONLY {}.{}").format(sql.Identifier(nsp), sql.Identifier(rel))
            counts[table] = conn.execute(query).fetchone()[0]
    return counts


def rename_into_place(conn, target, scratch, previous):
    """Give ``scratch`` the name ``target`` (and the current target the name ``previous``).

    One transaction does both renames, so they happen together or not at all; a session that
    connects in between makes it fail with 55006 and the whole transaction is retried.
    """
    last_error = None
    for attempt in range(SWAP_ATTEMPTS):
        terminate_sessions(conn, [target, scratch] if previous else [scratch])
        try:
            with conn.transaction():
                if previous:
                    conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        sql.Identifier(target), sql.Identifier(previous)))
                conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(scratch), sql.Identifier(target)))
            return attempt + 1
        except pg_errors.ObjectInUse as exc:
            last_error = exc
            time.sleep(0.2 * (attempt + 1))
    raise RestoreError(
        "could not rename %r to %r: sessions keep connecting to %r (%s); nothing was renamed, the "
        "scratch database is dropped; stop the clients of %r and retry"
        % (scratch, target, target, str(last_error).splitlines()[0], target),
    )
