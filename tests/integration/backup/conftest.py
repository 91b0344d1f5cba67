"""Fixtures of the backup tests: databases with known content on the shared server ``pg``."""

from __future__ import annotations

import uuid

import pytest
from backup_helpers import fill_small

BIG_ROWS = 1_000_000


@pytest.fixture
def small_db(pg, pg_db):
    """A fresh database on ``pg`` with a few tables; returns (name, expected row counts)."""
    return pg_db, fill_small(pg, pg_db)


@pytest.fixture(scope="session")
def big_db(pg):
    """A database whose dump is about 110 MB (1M rows of hex text, which compresses about 2:1),
    so that a backup lasts long enough to be interrupted or watched."""
    name = "big_" + uuid.uuid4().hex[:8]
    pg.create_database(name)
    with pg.connect(name) as conn:
        conn.execute("CREATE TABLE filler (id int PRIMARY KEY, body text NOT NULL)")
        conn.execute("INSERT INTO filler SELECT i, md5(i::text) || md5((i * 7)::text) || md5((i * 13)::text) "
                     "FROM generate_series(1, %d) i" % BIG_ROWS)
        conn.execute("VACUUM ANALYZE filler")
    yield name
    pg.drop_database(name)


@pytest.fixture
def backup_options(pg):
    """Module options of pg_backup for database ``name`` of ``pg`` into ``location``."""

    def options(name, location, **extra):
        opts = dict(pg.conn_options(name), location=str(location))
        opts.update(extra)
        return opts

    return options


@pytest.fixture
def service_params(backup_options):
    """Parameters of the pg_backup service (as the module passes them, defaults included)."""

    def params(name, location, **extra):
        base = {"port": 5432, "connect_timeout": 10, "s3_part_size": 16, "s3_concurrency": 4,
                "compression_level": 1, "compression_threads": 0}
        base.update(backup_options(name, location, **extra))
        return base

    return params
