"""pg_restore through a real ansible-playbook run: check mode, a restore, and a refused damaged backup."""

from __future__ import annotations

from harness.playbook import play
from restore_helpers import databases, fingerprint, make_backup, seed


def test_backup_then_restore_through_playbook(pg, pg_db, tmp_path, playbook, cleanup):
    """pg_backup then pg_restore (check mode, then for real) in one play, as an ops team runs them."""
    seed(pg, pg_db)
    name = cleanup(pg)
    target = name("pb")
    connection = {"host": pg.host, "port": pg.port, "user": pg.user, "password": "{{ pg_password }}"}
    restore = dict(connection, location=str(tmp_path), source_database=pg_db, target=target)
    tasks = [
        {"name": "back up", "register": "backup",
         "shipyard.deploy.pg_backup": dict(connection, database=pg_db, location=str(tmp_path))},
        {"name": "verify only", "check_mode": True,
         "shipyard.deploy.pg_restore": dict(restore, backup_id="{{ backup.backup_id }}")},
        {"name": "restore", "shipyard.deploy.pg_restore": restore},
        {"name": "restore again", "ignore_errors": True, "shipyard.deploy.pg_restore": restore},
    ]
    run = playbook.run(play(tasks), extra_vars={"pg_password": pg.password})
    assert run.rc == 0, run.output
    backup_id = run.task("back up")["backup_id"]
    checked = run.task("verify only")
    assert checked["changed"] and checked["verified"] and checked["backup_id"] == backup_id
    restored = run.task("restore")
    assert restored["backup_id"] == backup_id and restored["row_count_differences"] == {}
    assert restored["row_counts"] == run.task("back up")["row_counts"]
    assert fingerprint(pg, target) == fingerprint(pg, pg_db)
    # safe by default: a second run does not overwrite what the first restored
    assert run.status("restore again") == "failed"
    assert "already exists; set swap=true" in run.task("restore again")["msg"]


def test_damaged_backup_refused_through_playbook(pg, pg_db, tmp_path, playbook, cleanup):
    """A damaged backup fails the task with the reason, no traceback, no password even at -vvv."""
    seed(pg, pg_db)
    name = cleanup(pg)
    manifest = make_backup(pg, pg_db, str(tmp_path))
    data = tmp_path / manifest["id"] / "data.dump.zst"
    body = bytearray(data.read_bytes())
    body[len(body) // 2] ^= 0x04
    data.write_bytes(bytes(body))
    target = name("pb_bad")
    before = databases(pg)
    common = {"host": pg.host, "port": pg.port, "user": pg.user, "password": "{{ pg_password }}",
              "source_database": pg_db, "target": target}
    tasks = [
        {"name": "restore damaged", "ignore_errors": True,
         "shipyard.deploy.pg_restore": dict(common, location=str(tmp_path))},
        {"name": "bad location", "ignore_errors": True,
         "shipyard.deploy.pg_restore": dict(common, location="ftp://nowhere/x")},
        {"name": "latest without source", "ignore_errors": True,
         "shipyard.deploy.pg_restore": {"location": str(tmp_path), "target": target}},
    ]
    run = playbook.run(play(tasks), extra_vars={"pg_password": pg.password}, verbosity=3)
    assert run.rc == 0, run.output

    assert run.status("restore damaged") == "failed"
    refused = run.task("restore damaged")
    assert "SHA-256 of data.dump.zst is" in refused["msg"] and manifest["id"] in refused["msg"]
    assert run.status("bad location") == "failed"
    assert "unknown storage scheme" in run.task("bad location")["msg"]
    assert run.status("latest without source") == "failed"
    assert "source_database" in run.task("latest without source")["msg"]

    assert databases(pg) == before  # nothing of the damaged restore is left
    assert "Traceback" not in run.output
    assert pg.password not in run.output
