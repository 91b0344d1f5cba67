"""Fixtures of the migration gate tests: a migration directory writer and service options."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def migdir(tmp_path):
    """A function that writes ``{filename: sql}`` into a fresh directory and returns its path."""
    path = tmp_path / "migrations"
    path.mkdir()

    def write(files):
        for name, text in files.items():
            target = path / name
            os.makedirs(target.parent, exist_ok=True)
            target.write_text(text)
        return str(path)

    write.path = str(path)
    return write


@pytest.fixture
def apply_opts(pg, pg_db, migdir):
    """A function building migration_apply options for ``pg_db`` (the module's defaults applied)."""

    def build(**extra):
        opts = dict(pg.conn_options(pg_db), conninfo=None, sslmode=None, service=None, connect_timeout=10,
                    path=migdir.path, target=None, lock_timeout="5s", statement_timeout="0", lock_retries=5,
                    retry_delay=0.2, out_of_order=False, repair=False, lint="off",
                    ledger_schema="public", ledger_table="shipyard_schema_history")
        opts.update(extra)
        return opts

    return build


@pytest.fixture
def status_opts(pg, pg_db):
    """A function building migration_status options for ``pg_db`` (the module's defaults applied)."""

    def build(**extra):
        opts = dict(pg.conn_options(pg_db), conninfo=None, sslmode=None, service=None, connect_timeout=10,
                    tool="auto", path=None, history_schema=None, history_table=None, sqitch_project=None,
                    fail_on=[])
        opts.update(extra)
        return opts

    return build
