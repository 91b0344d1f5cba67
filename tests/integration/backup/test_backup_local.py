"""pg_backup and pg_backup_info through real ansible-playbook runs, to a local directory."""

from __future__ import annotations

import hashlib
import json
import os
import shutil

import zstandard
from backup_helpers import fill_small
from harness.playbook import play

DEBIAN_PG_DUMP_15 = "/usr/lib/postgresql/15/bin/pg_dump"


def task(name, module, args, **extra):
    body = {"name": name, "shipyard.deploy." + module: args}
    body.update(extra)
    return body


def all_files(root):
    """Every file below ``root`` (hidden ones included), relative paths."""
    found = []
    for dirpath, _dirs, files in os.walk(root):
        found += [os.path.relpath(os.path.join(dirpath, f), root) for f in files]
    return sorted(found)


def test_backup_to_directory_check_mode_then_real_then_listed(playbook, pg, small_db, backup_options, tmp_path):
    name, expected_counts = small_db
    location = tmp_path / "backups"
    opts = backup_options(name, location)
    run = playbook.run(play([
        task("predict", "pg_backup", opts, check_mode=True),
        task("nothing yet", "pg_backup_info", {"location": str(location)}),
        task("backup", "pg_backup", opts),
        task("list", "pg_backup_info", {"location": str(location), "database": name}),
    ]), diff=True)
    assert run.rc == 0, run.output

    predicted = run.task("predict")
    assert predicted["changed"] is True and predicted["backup_id"] is None
    assert predicted["pg_dump_version"].split(".")[0] == str(pg.major)
    assert predicted["deleted"] == []
    assert run.task("nothing yet")["count"] == 0
    assert run.task("nothing yet")["latest"] is None

    result = run.task("backup")
    assert result["changed"] is True
    backup_id = result["backup_id"]
    assert backup_id.startswith(name + "-")
    assert result["row_counts"] == expected_counts
    assert result["diff"]["before"]["backups"] == [] and result["diff"]["after"]["backups"] == [backup_id]
    # Exactly the data and the manifest, nothing partial beside them.
    assert all_files(location) == [f"{backup_id}/data.dump.zst", f"{backup_id}/manifest.json"]
    data = (location / backup_id / "data.dump.zst").read_bytes()
    assert len(data) == result["size"]
    assert hashlib.sha256(data).hexdigest() == result["sha256"]
    dump = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    assert dump[:5] == b"PGDMP" and len(dump) == result["uncompressed_size"]
    manifest = json.loads((location / backup_id / "manifest.json").read_text())
    assert manifest["id"] == backup_id and manifest["database"] == name
    assert manifest["sha256"] == result["sha256"] and manifest["size"] == len(data)
    assert manifest["row_counts"] == expected_counts
    assert manifest["format"] == "custom" and manifest["compression"] == "zstd"
    assert manifest["server_version"] == result["server_version"]
    # A backup holds every row of the database: only its owner may read it.
    assert (location / backup_id / "data.dump.zst").stat().st_mode & 0o077 == 0

    listing = run.task("list")
    assert listing["changed"] is False
    assert listing["count"] == 1 and listing["complete_count"] == 1
    assert listing["latest_id"] == backup_id
    assert listing["backups"][0]["size"] == len(data)
    assert 0 <= listing["latest_age_seconds"] < 300


def test_retention_keep_last_and_max_age(playbook, small_db, backup_options, tmp_path):
    name, _counts = small_db
    location = tmp_path / "backups"
    opts = backup_options(name, location)
    run = playbook.run(play([task("backup %d" % i, "pg_backup", opts) for i in range(3)]))
    assert run.rc == 0, run.output
    made = [run.task("backup %d" % i)["backup_id"] for i in range(3)]

    # An old complete backup (a copy with an old date) and a leftover without manifest.
    old_id = name + "-20200101T000000Z-0a0b0c"
    shutil.copytree(location / made[0], location / old_id)
    manifest = json.loads((location / old_id / "manifest.json").read_text())
    manifest.update(id=old_id, created_at="2020-01-01T00:00:00.000000Z")
    (location / old_id / "manifest.json").write_text(json.dumps(manifest))
    leftover = name + "-20210101T000000Z-dddddd"
    (location / leftover).mkdir()
    (location / leftover / "data.dump.zst").write_bytes(b"partial")

    run = playbook.run(play([
        task("age check", "pg_backup", dict(opts, max_age="30d"), check_mode=True),
        task("count check", "pg_backup", dict(opts, keep_last=2), check_mode=True),
        task("listing", "pg_backup_info", {"location": str(location), "database": name}),
    ]))
    assert run.rc == 0, run.output
    assert run.task("age check")["deleted"] == [old_id]
    # The new backup counts: keep_last 2 keeps it and made[2].
    assert run.task("count check")["deleted"] == [old_id, made[0], made[1]]
    listing = run.task("listing")
    assert listing["complete_count"] == 4, "check mode deleted something"
    incomplete = [b for b in listing["backups"] if not b["complete"]]
    assert [b["id"] for b in incomplete] == [leftover]

    run = playbook.run(play([
        # the leftover is from 2021: a cleanup_partial_after below that would remove it (see
        # test_backup_leftovers.py); here keep_last and max_age alone must not touch it
        task("prune by age", "pg_backup", dict(opts, max_age="30d", cleanup_partial_after="100000d")),
        task("prune by count", "pg_backup", dict(opts, keep_last=2, cleanup_partial_after="100000d")),
        task("listing", "pg_backup_info", {"location": str(location), "database": name}),
    ]))
    assert run.rc == 0, run.output
    assert run.task("prune by age")["deleted"] == [old_id]
    new_by_age = run.task("prune by age")["backup_id"]
    assert run.task("prune by count")["deleted"] == made
    listing = run.task("listing")
    kept = [b["id"] for b in listing["backups"] if b["complete"]]
    assert kept == [run.task("prune by count")["backup_id"], new_by_age]
    assert not (location / old_id).exists() and not (location / made[0]).exists()
    assert (location / leftover / "data.dump.zst").exists(), "keep_last/max_age must not touch incomplete backups"


def test_keep_last_one_keeps_the_newest(playbook, small_db, backup_options, tmp_path):
    name, _counts = small_db
    location = tmp_path / "b"
    opts = backup_options(name, location, keep_last=1, max_age="1s")
    run = playbook.run(play([task("first", "pg_backup", opts), task("second", "pg_backup", opts)]))
    assert run.rc == 0, run.output
    assert run.task("second")["deleted"] == [run.task("first")["backup_id"]]
    assert sorted(os.listdir(location)) == [run.task("second")["backup_id"]]


def test_old_pg_dump_gives_the_version_error(playbook, pg, small_db, backup_options, tmp_path):
    assert os.access(DEBIAN_PG_DUMP_15, os.X_OK), "Debian's PostgreSQL 15 client is part of the test setup"
    name, _counts = small_db
    location = tmp_path / "b"
    opts = backup_options(name, location, pg_dump_path=DEBIAN_PG_DUMP_15)
    run = playbook.run(play([
        task("predict", "pg_backup", opts, check_mode=True, ignore_errors=True),
        task("backup", "pg_backup", opts, ignore_errors=True),
    ]))
    for name_ in ("predict", "backup"):
        assert run.status(name_) == "failed"
        msg = run.task(name_)["msg"]
        assert msg.startswith("pg_dump 15.")
        assert DEBIAN_PG_DUMP_15 in msg
        assert "cannot dump server %d." % pg.major in msg
        assert "install PostgreSQL %d client tools" % pg.major in msg
    assert "Traceback" not in run.output
    assert not location.exists()


def test_bad_parameters_fail_cleanly(playbook, s3, small_db, backup_options, tmp_path):
    name, _counts = small_db
    base = backup_options(name, tmp_path / "b")
    cases = {
        "unknown scheme": (dict(base, location="ftp://backups.example.com/pg"), "unknown storage scheme 'ftp://'"),
        "keep_last zero": (dict(base, keep_last=0), "option keep_last: 0 is out of range; give at least 1"),
        "relative directory": (dict(base, location="backups/pg"), "is a relative path"),
        "missing bucket": (dict(base, location="s3:///pg", **s3.module_options()), "names no bucket"),
        "empty s3 url": (dict(base, location="s3://", **s3.module_options()), "names no bucket"),
        "bad max_age": (dict(base, max_age="soon"), "max_age 'soon' is not a duration"),
        "kms without aws:kms": (dict(base, location="s3://bucket-x/p", s3_kms_key_id="alias/k",
                                     **s3.module_options()), "needs server-side encryption aws:kms"),
        "no such bucket": (dict(base, location="s3://no-such-bucket-here/p", **s3.module_options()),
                           "bucket 'no-such-bucket-here' does not exist"),
    }
    tasks = [task(label, "pg_backup", args, ignore_errors=True) for label, (args, _m) in cases.items()]
    tasks.append(task("info unknown scheme", "pg_backup_info", {"location": "gs://x/y"}, ignore_errors=True))
    run = playbook.run(play(tasks))
    for label, (_args, expected) in cases.items():
        assert run.status(label) == "failed", label
        assert expected in run.task(label)["msg"], (label, run.task(label)["msg"])
    assert "unknown storage scheme 'gs://'" in run.task("info unknown scheme")["msg"]
    assert "Traceback" not in run.output
    assert "unexpected" not in run.output  # runner's wording for a bug of ours
    assert not (tmp_path / "b").exists()


def test_backup_of_every_server_version_picks_a_fitting_pg_dump(playbook, pg_any, tmp_path):
    name = "v_" + os.urandom(4).hex()
    pg_any.create_database(name)
    try:
        counts = fill_small(pg_any, name)
        opts = dict(pg_any.conn_options(name), location=str(tmp_path / "b"))
        run = playbook.run(play([task("backup", "pg_backup", opts)]))
        assert run.rc == 0, run.output
        result = run.task("backup")
        assert result["row_counts"] == counts
        assert int(result["pg_dump_version"].split(".")[0]) >= pg_any.major
        assert result["server_version"].startswith("%d." % pg_any.major)
    finally:
        pg_any.drop_database(name)


def test_row_counts_of_many_tables_with_odd_names(pg, pg_db, service_params, tmp_path):
    """Counts are batched per statement; every table keeps its own count, whatever its name."""
    from ansible_collections.shipyard.deploy.plugins.module_utils.backup import backup_service

    with pg.connect(pg_db) as conn:
        conn.execute('CREATE SCHEMA "Odd ""schema"""')
        for i in range(450):
            conn.execute('CREATE TABLE "Odd ""schema"""."t %d" (x int)' % i)
            conn.execute('INSERT INTO "Odd ""schema"""."t %d" SELECT generate_series(1, %d)' % (i, i))
    result = backup_service.pg_backup(service_params(pg_db, tmp_path / "b"), False, False)
    assert result["row_counts"] == {'Odd "schema".t %d' % i: i for i in range(450)}
