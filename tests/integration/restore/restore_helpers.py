"""Helpers of the restore tests: a source database with awkward data, backups made by the
backup stream of pg_backup itself, and a fingerprint of every table to compare databases."""

from __future__ import annotations

import uuid

from ansible_collections.shipyard.deploy.plugins.module_utils import storage
from ansible_collections.shipyard.deploy.plugins.module_utils.aws import aws_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.backup import backup_service
from ansible_collections.shipyard.deploy.plugins.module_utils.backup import manifest as manifests

SEED_SQL = [
    "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text, created timestamptz)",
    "INSERT INTO customers SELECT g, 'customer ' || g, md5(g::text) || '@example.com', "
    "'2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 3000) g",
    "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int REFERENCES customers, "
    "amount numeric(12,2), payload jsonb, blob bytea)",
    # random bytes and text: the dump does not compress to nothing, so a flipped byte hits data
    "INSERT INTO orders (customer_id, amount, payload, blob) SELECT 1 + g % 3000, (g * 7.31)::numeric(12,2), "
    "jsonb_build_object('n', g, 'note', md5(random()::text)), "
    "decode(md5(random()::text) || md5(random()::text), 'hex') "
    "FROM generate_series(1, 20000) g",
    'CREATE SCHEMA "odd.schema"',
    'CREATE TABLE "odd.schema"."Mixed Case" (k text PRIMARY KEY, v int[])',
    """INSERT INTO "odd.schema"."Mixed Case" SELECT 'key ' || g, ARRAY[g, g * 2] FROM generate_series(1, 500) g""",
    "CREATE TABLE empty_table (id int)",
    "CREATE TABLE no_pk (x int, y text)",
    "INSERT INTO no_pk SELECT 1, 'same' FROM generate_series(1, 50)",
    "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 1000",
]

TABLES_SQL = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1, 2
"""


def seed(server, db, extra_sql=()):
    """Fill ``db`` with the test data set (and ``extra_sql``)."""
    with server.connect(db) as conn:
        for statement in list(SEED_SQL) + list(extra_sql):
            conn.execute(statement)


def fingerprint(server, db):
    """{table: (row count, md5 of every row in a stable order)} plus the orders sequence."""
    from psycopg import sql

    result = {}
    with server.connect(db) as conn:
        for nsp, rel in conn.execute(TABLES_SQL).fetchall():
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM ONLY {}.{} t"
            ).format(sql.Identifier(nsp), sql.Identifier(rel))
            result["%s.%s" % (nsp, rel)] = tuple(conn.execute(query).fetchone())
        seq = conn.execute("SELECT to_regclass('public.orders_id_seq')").fetchone()[0]
        if seq:
            result["sequence orders_id_seq"] = conn.execute("SELECT last_value FROM orders_id_seq").fetchone()[0]
    return result


def databases(server):
    """Names of all databases on the server."""
    with server.connect() as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def backup_params(server, db, location, aws_options=None):
    """pg_backup module parameters with the module's defaults."""
    params = {
        "location": str(location), "pg_dump_path": None, "compression_level": 1, "compression_threads": 0,
        "keep_last": None, "max_age": None, "s3_sse": None, "s3_kms_key_id": None, "s3_storage_class": None,
        "s3_part_size": 16, "s3_concurrency": 4, "sslmode": None, "conninfo": None, "service": None,
        "connect_timeout": 10,
    }
    params.update(dict.fromkeys(aws_argument_spec()))
    params.update(aws_options or {})
    params.update(server.conn_options(db))
    return params


def make_backup(server, db, location, aws_options=None):
    """A backup of ``db`` made by the pg_backup module's own service; returns its manifest."""
    result = backup_service.pg_backup(backup_params(server, db, location, aws_options), False, False)
    store = storage.open_store(str(location), aws_options=aws_options)
    return manifests.load_manifest(store, result["backup_id"])


def restore_params(server, location, target, **options):
    """pg_restore module parameters (every option, defaults as in the module)."""
    params = {
        "location": str(location), "backup_id": "latest", "source_database": None, "target": target,
        "swap": False, "previous_name": None, "force": False, "owner": None, "no_owner": False, "jobs": 1,
        "allow_local_copy": False, "work_dir": None, "pg_restore_path": None,
        "endpoint_url": None, "region": None, "profile": None, "access_key": None, "secret_key": None,
        "session_token": None, "sslmode": None, "conninfo": None, "service": None, "connect_timeout": 10,
    }
    params.update(server.conn_options("postgres"))
    params.update(options)
    return params


def new_name(prefix="r"):
    return "%s_%s" % (prefix, uuid.uuid4().hex[:10])
