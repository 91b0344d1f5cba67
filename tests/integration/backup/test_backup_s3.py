"""pg_backup to S3 (moto_server speaking the real protocol): multipart upload, encryption and
storage class on the objects, and an upload failing midway that must leave nothing behind."""

from __future__ import annotations

import hashlib

from harness.playbook import play
from harness.s3_faults import FailingUploadProxy


def task(name, module, args, **extra):
    body = {"name": name, "shipyard.deploy." + module: args}
    body.update(extra)
    return body


def test_multipart_backup_with_sse_and_storage_class(playbook, s3, s3_bucket, big_db, backup_options):
    location = "s3://%s/nightly/pg" % s3_bucket
    opts = backup_options(big_db, location, s3_sse="AES256", s3_storage_class="STANDARD_IA",
                          s3_part_size=5, s3_concurrency=3, **s3.module_options())
    info = dict(location=location, **s3.module_options())
    run = playbook.run(play([
        task("predict", "pg_backup", opts, check_mode=True),
        task("backup", "pg_backup", opts),
        task("list", "pg_backup_info", info),
    ]))
    assert run.rc == 0, run.output
    assert run.task("predict")["storage_check"] == "S3 bucket %s is reachable" % s3_bucket
    result = run.task("backup")
    backup_id = result["backup_id"]
    assert result["data_url"] == "%s/%s/data.dump.zst" % (location, backup_id)
    assert result["row_counts"] == {"public.filler": 1_000_000}
    assert result["size"] > 3 * 5 * 1024 * 1024, "the test needs several parts"

    client = s3.client()
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert keys == ["nightly/pg/%s/data.dump.zst" % backup_id, "nightly/pg/%s/manifest.json" % backup_id]
    for key in keys:
        head = client.head_object(Bucket=s3_bucket, Key=key)
        assert head["ServerSideEncryption"] == "AES256", key
        assert head["StorageClass"] == "STANDARD_IA", key
    body = client.get_object(Bucket=s3_bucket, Key=keys[0])["Body"].read()
    assert len(body) == result["size"]
    assert hashlib.sha256(body).hexdigest() == result["sha256"]
    assert not client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads")

    listing = run.task("list")
    assert listing["count"] == 1 and listing["latest_id"] == backup_id
    assert listing["latest"]["size"] == result["size"]


def test_upload_failing_midway_leaves_no_backup(playbook, s3, s3_bucket, big_db, backup_options):
    proxy = FailingUploadProxy(s3.endpoint, fail_from_part=3).start()
    try:
        location = "s3://%s/pg" % s3_bucket
        failing = dict(s3.module_options(), endpoint_url=proxy.endpoint)
        opts = backup_options(big_db, location, s3_part_size=5, s3_concurrency=2, **failing)
        run = playbook.run(play([
            task("backup", "pg_backup", opts, ignore_errors=True),
            task("list", "pg_backup_info", dict(location=location, **s3.module_options())),
        ]))
    finally:
        proxy.stop()
    assert run.status("backup") == "failed"
    msg = run.task("backup")["msg"]
    assert "AccessDenied" in msg and "upload part 3" in msg, msg
    assert proxy.failed, "the proxy never failed a part: the test proved nothing"
    assert "Traceback" not in run.output

    client = s3.client()
    assert client.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0
    assert not client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads"), "multipart upload not aborted"
    listing = run.task("list")
    assert listing["count"] == 0 and listing["latest"] is None


def test_transient_part_failures_are_retried(playbook, s3, s3_bucket, big_db, backup_options):
    proxy = FailingUploadProxy(s3.endpoint, fail_from_part=2, status=503, code="SlowDown", times=3).start()
    try:
        location = "s3://%s/pg" % s3_bucket
        opts = backup_options(big_db, location, s3_part_size=5, s3_concurrency=2,
                              **dict(s3.module_options(), endpoint_url=proxy.endpoint))
        run = playbook.run(play([task("backup", "pg_backup", opts)]))
    finally:
        proxy.stop()
    assert run.rc == 0, run.output
    assert len(proxy.failed) == 3, "the proxy did not inject the transient failures"
    result = run.task("backup")
    body = s3.client().get_object(Bucket=s3_bucket, Key="pg/%s/data.dump.zst" % result["backup_id"])["Body"].read()
    assert hashlib.sha256(body).hexdigest() == result["sha256"] and len(body) == result["size"]
