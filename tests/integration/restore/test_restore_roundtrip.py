"""pg_restore round trips on real PostgreSQL servers (both versions present), local disk and S3:
the restored database equals the source, table by table, row by row."""

from __future__ import annotations

import os

import pytest
from restore_helpers import databases, fingerprint, make_backup, restore_params, seed

from ansible_collections.shipyard.deploy.plugins.module_utils.backup.restore import restore_service
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RestoreError


@pytest.fixture
def source(pg_any, pg_any_db):
    seed(pg_any, pg_any_db)
    return pg_any, pg_any_db


def test_round_trip_local_disk(source, tmp_path, cleanup):
    server, db = source
    name = cleanup(server)
    manifest = make_backup(server, db, str(tmp_path))
    before = databases(server)
    target = name("copy")
    result = restore_service(restore_params(server, tmp_path, target, source_database=db), False, False)
    assert result["changed"] and result["verified"] and result["action"] == "create"
    assert result["backup_id"] == manifest["id"] and result["sha256"] == manifest["sha256"]
    assert fingerprint(server, target) == fingerprint(server, db)
    assert result["row_counts"] == manifest["row_counts"] and result["row_count_differences"] == {}
    assert manifest["row_counts"]["public.orders"] == 20000
    assert databases(server) == before | {target}  # no scratch database left behind


def test_round_trip_s3(source, s3, s3_bucket, cleanup):
    server, db = source
    name = cleanup(server)
    location = "s3://%s/nightly" % s3_bucket
    manifest = make_backup(server, db, location, aws_options=s3.module_options())
    target = name("s3copy")
    params = restore_params(server, location, target, source_database=db, **s3.module_options())
    result = restore_service(params, False, False)
    assert result["backup_id"] == manifest["id"] and result["mode"] == "stream"
    assert fingerprint(server, target) == fingerprint(server, db)


def test_parallel_restore_through_verified_local_copy(pg, pg_db, tmp_path, cleanup):
    seed(pg, pg_db)
    name = cleanup(pg)
    backups, work = tmp_path / "backups", tmp_path / "work"
    backups.mkdir()
    work.mkdir()
    make_backup(pg, pg_db, str(backups))
    target = name("par")
    owner = name("owner")
    with pg.connect() as conn:
        conn.execute('CREATE ROLE "%s"' % owner)
    params = restore_params(pg, backups, target, source_database=pg_db, jobs=2, work_dir=str(work), owner=owner)
    result = restore_service(params, False, False)
    assert result["mode"] == "local_copy" and result["jobs"] == 2
    assert database_owner(pg, target) == owner
    assert fingerprint(pg, target) == fingerprint(pg, pg_db)
    assert os.listdir(work) == []  # the decompressed copy is gone

    with pytest.raises(ConfigurationError, match="jobs=2 needs a local copy"):
        restore_service(restore_params(pg, backups, name("x"), source_database=pg_db, jobs=2), False, False)


def test_existing_target_needs_swap_or_force(pg, pg_db, tmp_path, cleanup):
    seed(pg, pg_db)
    name = cleanup(pg)
    make_backup(pg, pg_db, str(tmp_path))
    target = name("live")
    pg.create_database(target)
    owner = name("app")  # a role; left on the throw-away server
    with pg.connect() as conn:
        conn.execute('CREATE ROLE "%s"' % owner)
        conn.execute('ALTER DATABASE "%s" OWNER TO "%s"' % (target, owner))
    with pg.connect(target) as conn:
        conn.execute("CREATE TABLE marker (v text); INSERT INTO marker VALUES ('old live data')")
    old = fingerprint(pg, target)
    before = databases(pg)
    with pytest.raises(ConfigurationError, match="target database '%s' already exists; set swap=true" % target):
        restore_service(restore_params(pg, tmp_path, target, source_database=pg_db), False, False)
    assert databases(pg) == before and fingerprint(pg, target) == old

    # swap: the old database is kept under previous_name; a session on the old target is ended
    session = pg.connect(target)
    previous = name("prev")
    result = restore_service(restore_params(pg, tmp_path, target, source_database=pg_db, swap=True,
                                            previous_name=previous), False, False)
    assert result["action"] == "swap" and result["previous_database"] == previous
    assert result["owner"] == owner and database_owner(pg, target) == owner  # the replacement keeps the owner
    assert fingerprint(pg, target) == fingerprint(pg, pg_db)
    assert fingerprint(pg, previous) == old
    assert session.closed or session.broken or _session_dead(session)
    assert databases(pg) == before | {previous}

    # swap again onto the same previous_name: refused without force
    with pytest.raises(ConfigurationError, match="'%s'.*already exists.*force=true" % previous):
        restore_service(restore_params(pg, tmp_path, target, source_database=pg_db, swap=True,
                                       previous_name=previous), False, False)

    # swap + force onto the same previous_name: the older copy is dropped, the current target kept there
    current = fingerprint(pg, target)
    result = restore_service(restore_params(pg, tmp_path, target, source_database=pg_db, swap=True, force=True,
                                            previous_name=previous), False, False)
    assert result["action"] == "swap" and result["dropped_database"] == previous
    assert fingerprint(pg, previous) == current and fingerprint(pg, target) == fingerprint(pg, pg_db)
    assert databases(pg) == before | {previous}

    # force: the current target is replaced and dropped, nothing else is left; the connection options
    # may name the target itself (one connection dict for a whole play): the task connects to postgres
    with pg.connect(target) as conn:
        conn.execute("INSERT INTO customers VALUES (999999, 'changed after restore')")
    result = restore_service(restore_params(pg, tmp_path, target, source_database=pg_db, force=True,
                                            database=target), False, False)
    assert result["action"] == "replace" and result["dropped_database"]
    assert fingerprint(pg, target) == fingerprint(pg, pg_db)
    assert databases(pg) == before | {previous}


def database_owner(server, name):
    with server.connect() as conn:
        return conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                            (name,)).fetchone()[0]


def _session_dead(conn):
    import psycopg

    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False


def test_check_mode_verifies_and_changes_nothing(pg, pg_db, tmp_path, cleanup):
    seed(pg, pg_db)
    name = cleanup(pg)
    manifest = make_backup(pg, pg_db, str(tmp_path))
    before = databases(pg)
    target = name("would")
    result = restore_service(restore_params(pg, tmp_path, target, source_database=pg_db), True, False)
    assert result["changed"] and result["verified"] and result["action"] == "create"
    assert result["backup_id"] == manifest["id"]
    assert result["uncompressed_size"] == manifest["uncompressed_size"]
    assert databases(pg) == before


def test_latest_picks_newest_backup_of_the_source_database(pg, pg_db, tmp_path, cleanup):
    seed(pg, pg_db)
    name = cleanup(pg)
    make_backup(pg, pg_db, str(tmp_path))
    with pg.connect(pg_db) as conn:
        conn.execute("DELETE FROM orders WHERE id > 15000")
    newest = make_backup(pg, pg_db, str(tmp_path))
    target = name("latest")
    result = restore_service(restore_params(pg, tmp_path, target, source_database=pg_db), False, False)
    assert result["backup_id"] == newest["id"]
    assert fingerprint(pg, target)["public.orders"][0] == 15000

    with pytest.raises(ConfigurationError, match="backup_id=latest needs source_database"):
        restore_service(restore_params(pg, tmp_path, name("x")), False, False)


def test_sql_error_stops_restore_and_no_owner_avoids_it(pg, pg_db, tmp_path, cleanup):
    """pg_restore runs with --exit-on-error: an owner missing on the target stops it; no_owner helps."""
    role = "owner_" + pg_db
    seed(pg, pg_db, [f'CREATE ROLE "{role}"', 'CREATE TABLE owned (v int)', f'ALTER TABLE owned OWNER TO "{role}"'])
    name = cleanup(pg)
    make_backup(pg, pg_db, str(tmp_path))
    with pg.connect(pg_db) as conn:
        conn.execute(f'REASSIGN OWNED BY "{role}" TO postgres')
        conn.execute(f'DROP ROLE "{role}"')
    before = databases(pg)
    target = name("owned")
    with pytest.raises(RestoreError, match=r'pg_restore of backup .* failed \(exit 1\): .*role "%s" does not exist'
                       % role) as failure:
        restore_service(restore_params(pg, tmp_path, target, source_database=pg_db), False, False)
    assert "no_owner=true" in str(failure.value)
    assert databases(pg) == before  # scratch dropped, target never created

    result = restore_service(restore_params(pg, tmp_path, target, source_database=pg_db, no_owner=True),
                             False, False)
    assert result["row_count_differences"] == {}
    assert fingerprint(pg, target) == fingerprint(pg, pg_db)


def test_role_without_createdb_is_refused_before_reading_the_backup(pg, pg_db, tmp_path, cleanup):
    seed(pg, pg_db)
    name = cleanup(pg)
    make_backup(pg, pg_db, str(tmp_path))
    role, password = name("nocreate"), "pw-" + name("x")
    with pg.connect() as conn:
        conn.execute("CREATE ROLE \"%s\" LOGIN PASSWORD '%s'" % (role, password))
    before = databases(pg)
    for check_mode in (True, False):
        params = restore_params(pg, tmp_path, name("t"), source_database=pg_db, user=role, password=password)
        with pytest.raises(ConfigurationError, match="role %s may not create databases" % role):
            restore_service(params, check_mode, False)
    assert databases(pg) == before
