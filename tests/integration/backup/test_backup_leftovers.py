"""What crashes and concurrency leave behind: kill -9 leftovers listed and cleaned, open multipart
uploads aborted, concurrent retention never deleting the other run's backup, the cluster identity in
the manifest, a new location created 0700."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time

from test_backup_failures import SERVICE_SCRIPT, dumping_pg_dumps, partial_bytes, wait_until

from ansible_collections.shipyard.deploy.plugins.module_utils.backup import backup_service
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.manifest import new_backup_id


def info(location, **extra):
    return backup_service.pg_backup_info(dict({"location": str(location)}, **extra), False, False)


def test_kill_9_leftovers_are_listed_then_removed_by_retention(big_db, small_db, service_params, tmp_path):
    location = tmp_path / "b"
    proc = subprocess.Popen([sys.executable, "-c", SERVICE_SCRIPT, json.dumps(sys.path)], stdin=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    proc.stdin.write(json.dumps(service_params(big_db, location)))
    proc.stdin.close()
    try:
        pg_dump_pid = wait_until(lambda: dumping_pg_dumps(proc.pid), 30, "pg_dump to start")[0]
        wait_until(lambda: partial_bytes(location) > 1 << 20, 60, "a MiB in the partial file")
        proc.send_signal(signal.SIGKILL)  # no cleanup can run
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        try:
            os.kill(pg_dump_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    listed = info(location, database=big_db)
    assert listed["complete_count"] == 0 and listed["latest_id"] is None
    assert len(listed["leftovers"]) == 1 and listed["leftovers"][0]["kind"] == "partial file"
    assert listed["leftovers"][0]["size"] == partial_bytes(location) > 0
    # a backup of ANOTHER database never touches them, whatever their age
    time.sleep(1.1)
    other, _counts = small_db
    params = service_params(other, location, cleanup_partial_after="1s")
    assert backup_service.pg_backup(params, False, False)["removed_leftovers"] == []
    assert partial_bytes(location) > 0
    # one of the same database: younger than cleanup_partial_after stays, older goes
    params = service_params(big_db, location, cleanup_partial_after="1h")
    predicted = backup_service.pg_backup(params, True, False)
    assert predicted["removed_leftovers"] == []
    params["cleanup_partial_after"] = "1s"
    predicted = backup_service.pg_backup(params, True, False)
    assert [item["kind"] for item in predicted["removed_leftovers"]] == ["partial file"]
    assert partial_bytes(location) > 0  # check mode removed nothing
    done = backup_service.pg_backup(params, False, False)
    assert [item["kind"] for item in done["removed_leftovers"]] == ["partial file"]
    assert partial_bytes(location) == 0
    assert info(location, database=big_db)["complete_ids"] == [done["backup_id"]]


def test_open_multipart_uploads_are_listed_and_aborted(small_db, service_params, s3, s3_bucket):
    name, _counts = small_db
    client = s3.client()
    stale = "p/%s/data.dump.zst" % new_backup_id(name)
    upload = client.create_multipart_upload(Bucket=s3_bucket, Key=stale)["UploadId"]
    client.upload_part(Bucket=s3_bucket, Key=stale, UploadId=upload, PartNumber=1, Body=b"x" * 1024)
    location = "s3://%s/p" % s3_bucket
    listed = backup_service.pg_backup_info(dict(s3.module_options(), location=location, database=name), False, False)
    assert [item["kind"] for item in listed["leftovers"]] == ["open multipart upload"]
    time.sleep(1.1)
    params = service_params(name, location, cleanup_partial_after="1s", **s3.module_options())
    done = backup_service.pg_backup(params, False, False)
    assert [item["key"] for item in done["removed_leftovers"]] == [stale[len("p/"):]]
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert done["backup_id"]


def test_concurrent_backups_with_keep_last_1_keep_both(small_db, service_params, tmp_path):
    name, _counts = small_db
    location = tmp_path / "b"
    results, errors = [], []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            results.append(backup_service.pg_backup(service_params(name, location, keep_last=1), False, False))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _count in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    made = sorted(r["backup_id"] for r in results)
    assert sorted(info(location, database=name)["complete_ids"]) == made  # neither deleted the other's
    later = backup_service.pg_backup(service_params(name, location, keep_last=1), False, False)
    assert sorted(later["deleted"]) == made  # the next run applies the limit
    assert info(location, database=name)["complete_ids"] == [later["backup_id"]]


def test_manifest_records_the_cluster_and_a_new_location_is_0700(pg, small_db, service_params, tmp_path):
    name, _counts = small_db
    location = tmp_path / "new" / "backups"
    os.umask(0o022)
    done = backup_service.pg_backup(service_params(name, location), False, False)
    assert stat.S_IMODE(os.stat(location).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(location / done["backup_id"]).st_mode) == 0o700
    with pg.connect() as conn:
        expected = conn.execute("SELECT system_identifier::text FROM pg_control_system()").fetchone()[0]
    manifest = json.loads((location / done["backup_id"] / "manifest.json").read_text())
    assert manifest["system_identifier"] == expected == done["system_identifier"]
    assert info(location, system_identifier=expected)["complete_ids"] == [done["backup_id"]]
    assert info(location, system_identifier="1")["complete_ids"] == []


def test_deadline_stops_a_backup_and_removes_its_partial_file(playbook, big_db, backup_options, tmp_path):
    """Through ansible-playbook: a backup that outlives its deadline stops, leaves nothing, and its
    pg_dump does not run on."""
    from harness.playbook import play

    location = tmp_path / "b"
    # level 19 makes the dump take far longer than the deadline (level 1 can finish in 2 s)
    args = dict(backup_options(big_db, location), deadline=2, compression_level=19)
    started = time.monotonic()
    run = playbook.run(play([{"name": "backup", "shipyard.deploy.pg_backup": args, "ignore_errors": True}]))
    elapsed = time.monotonic() - started
    result = run.task("backup")
    assert run.status("backup") == "failed"
    assert "pg_backup did not finish within its deadline of 2 seconds" in result["msg"], result["msg"]
    assert result.get("deadline_exceeded") is True
    assert partial_bytes(location) == 0 and not any(files for _d, _s, files in os.walk(location))
    assert elapsed < 60
    # the module's pg_dump did not run on (it is told apart from other tests' by its PGDATABASE)
    time.sleep(1)
    assert pg_dumps_of(big_db) == []


def pg_dumps_of(database):
    """PIDs of dumping pg_dump processes whose environment names ``database``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmdline = handle.read()
            if b"pg_dump" not in cmdline or b"--snapshot=" not in cmdline:
                continue
            with open("/proc/%s/environ" % entry, "rb") as handle:
                environ = handle.read().split(b"\0")
        except OSError:
            continue
        if ("PGDATABASE=" + database).encode() in environ:
            found.append(int(entry))
    return found


def test_deadline_aborts_the_multipart_upload_of_an_s3_backup(playbook, big_db, backup_options, s3, s3_bucket):
    """Part 2 goes to an endpoint that never answers (read timeout 60 s): the deadline stops the backup,
    the upload is aborted without waiting for the hung part, nothing is left in the bucket."""
    from harness.playbook import play
    from harness.s3_faults import FailingUploadProxy

    proxy = FailingUploadProxy(s3.endpoint, fail_from_part=2, hang=120).start()
    try:
        args = dict(backup_options(big_db, "s3://%s/p" % s3_bucket), deadline=3, s3_part_size=5,
                    **dict(s3.module_options(), endpoint_url=proxy.endpoint))
        started = time.monotonic()
        run = playbook.run(play([{"name": "backup", "shipyard.deploy.pg_backup": args, "ignore_errors": True}]))
        elapsed = time.monotonic() - started
    finally:
        proxy.stop()
    result = run.task("backup")
    assert "pg_backup did not finish within its deadline of 3 seconds" in result["msg"], result["msg"]
    assert 2 in proxy.failed  # a part really hung
    assert elapsed < 3 + 5 + 10 + 15  # deadline + bounded wait for the hung part + abort + Ansible
    client = s3.client()
    assert client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []
    assert client.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0
    time.sleep(1)
    assert pg_dumps_of(big_db) == []
