"""pg_restore through a real ansible-playbook run: check mode, a restore, and a refused damaged backup."""

from __future__ import annotations

import shutil

from harness.playbook import play
from restore_helpers import databases, fingerprint, make_backup, restore_params, seed


def test_restore_through_playbook(pg, pg_db, tmp_path, playbook, cleanup):
    seed(pg, pg_db)
    name = cleanup(pg)
    good, damaged = tmp_path / "good", tmp_path / "damaged"
    good.mkdir()
    manifest = make_backup(pg, pg_db, str(good))
    shutil.copytree(good, damaged)
    data = damaged / manifest["id"] / "data.dump.zst"
    body = bytearray(data.read_bytes())
    body[len(body) // 2] ^= 0x04
    data.write_bytes(bytes(body))
    target, other = name("pb"), name("pb_bad")
    before = databases(pg)

    connection = {k: v for k, v in restore_params(pg, good, target).items()
                  if k in ("host", "port", "user", "password")}
    common = dict(connection, source_database=pg_db, password="{{ pg_password }}")
    tasks = [
        {"name": "verify only", "check_mode": True,
         "shipyard.deploy.pg_restore": dict(common, location=str(good), target=target)},
        {"name": "restore", "shipyard.deploy.pg_restore": dict(common, location=str(good), target=target)},
        {"name": "restore damaged", "ignore_errors": True,
         "shipyard.deploy.pg_restore": dict(common, location=str(damaged), target=other)},
        {"name": "bad option", "ignore_errors": True,
         "shipyard.deploy.pg_restore": dict(common, location="ftp://nowhere/x", target=other)},
    ]
    run = playbook.run(play(tasks), extra_vars={"pg_password": pg.password}, verbosity=3)
    assert run.rc == 0, run.output

    checked = run.task("verify only")
    assert checked["changed"] and checked["verified"] and checked["backup_id"] == manifest["id"]
    assert checked["action"] == "create"

    restored = run.task("restore")
    assert restored["changed"] and restored["row_count_differences"] == {}
    assert restored["row_counts"] == manifest["row_counts"] and restored["mode"] == "stream"
    assert fingerprint(pg, target) == fingerprint(pg, pg_db)

    refused = run.task("restore damaged")
    assert run.status("restore damaged") == "failed"
    assert "SHA-256 of data.dump.zst is" in refused["msg"] and manifest["id"] in refused["msg"]
    assert run.status("bad option") == "failed"
    assert "s3://" in run.task("bad option")["msg"]

    assert databases(pg) == before | {target}  # nothing of the damaged restore is left
    assert "Traceback" not in run.output
    assert pg.password not in run.output
