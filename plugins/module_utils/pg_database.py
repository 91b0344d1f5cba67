# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create or drop a database: what backup verification needs for its scratch database."""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, PostgresError
from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import ConnectionParams, quote_ident


def database_exists(conn, name):
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def run_pg_database(params, check_mode, diff_mode):
    """Service of the pg_database module: make ``name`` present or absent."""
    name, state = params["name"], params["state"]
    maintenance = params["maintenance_database"]
    if name == maintenance:
        raise ConfigurationError(
            "name %r is the maintenance database this module connects to; set maintenance_database to "
            "another one" % name
        )
    conn = ConnectionParams.from_options(params, database=maintenance).connect()
    try:
        exists = database_exists(conn, name)
        wanted = state == "present"
        result = {"changed": exists != wanted, "name": name, "state": state, "existed": exists}
        if diff_mode:
            result["diff"] = {"before": {"exists": exists}, "after": {"exists": wanted}}
        if check_mode or exists == wanted:
            return result
        try:
            if wanted:
                statement = "CREATE DATABASE %s" % quote_ident(name)
                if params["template"]:
                    statement += " TEMPLATE %s" % quote_ident(params["template"])
                if params["owner"]:
                    statement += " OWNER %s" % quote_ident(params["owner"])
                conn.execute(statement)
            else:
                # FORCE ends sessions still connected (PostgreSQL 13+): a scratch database must go
                force = " WITH (FORCE)" if conn.info.server_version >= 130000 and params["force"] else ""
                conn.execute("DROP DATABASE %s%s" % (quote_ident(name), force))
        except Exception as exc:
            raise PostgresError(
                "cannot %s database %s: %s" % ("create" if wanted else "drop", name, str(exc).strip().splitlines()[0])
            ) from None
        return result
    finally:
        conn.close()
