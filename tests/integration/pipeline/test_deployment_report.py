"""deployment_report through real ansible-playbook runs, with the ledger and the reports in S3 (moto).

This is the AWX set-up: the job's container is gone after the job, so ledger and reports live in S3.
"""

from __future__ import annotations

from harness.playbook import play


def record(name, **args):
    return {"name": name, "shipyard.deploy.deployment_record": args}


def report(name, **args):
    return {"name": name, "shipyard.deploy.deployment_report": args}


def test_report_in_s3_written_once_then_unchanged_check_mode_writes_nothing(playbook, s3, s3_bucket):
    aws = s3.module_options()
    ledger = "s3://%s/shop/ledger.jsonl" % s3_bucket
    base = dict(aws, ledger=ledger, deployment_id="shop-production-1", environment="production",
                application="shop", version="3.0.0")
    dest = "s3://%s/shop/reports" % s3_bucket
    run = playbook.run(play([
        record("start", event="started", **base,
               data={"strategy": "bluegreen", "live_slot": "blue", "idle_slot": "green", "live_version": "2.0.0"}),
        record("backup", event="backup", **base,
               data={"backup_id": "b-1", "size": 2048, "sha256": "ab" * 32, "location": "s3://%s/backups" % s3_bucket}),
        record("switch", event="traffic_step", data={"weights": {"blue": 0, "green": 100}, "verdict": "healthy"},
               **base),
        record("done", event="succeeded", data={"slot": "green"}, **base),
        report("write", ledger=ledger, deployment_id="shop-production-1", dest=dest, **aws),
        report("again", ledger=ledger, deployment_id="shop-production-1", dest=dest, **aws),
    ]))
    assert run.rc == 0, run.output
    written = run.task("write")
    assert written["changed"] is True and written["written"] == ["html", "markdown"]
    assert written["report"] == {"html": dest + "/shop-production-1.html", "markdown": dest + "/shop-production-1.md"}
    assert run.task("again")["changed"] is False
    client = s3.client()
    html = client.get_object(Bucket=s3_bucket, Key="shop/reports/shop-production-1.html")
    # a browser opening the object from S3 shows it instead of downloading it
    assert html["ContentType"] == "text/html; charset=utf-8"
    page = html["Body"].read().decode()
    assert page.startswith("<!DOCTYPE html>") and "b-1" in page and 'data-chart="traffic"' in page
    markdown = client.get_object(Bucket=s3_bucket, Key="shop/reports/shop-production-1.md")
    assert markdown["ContentType"] == "text/markdown; charset=utf-8"
    assert markdown["Body"].read().decode().startswith("# shop 3.0.0 to production: succeeded")
    etag = html["ETag"]

    # a rollback recorded days later changes the report; check mode predicts it and writes nothing
    run = playbook.run(play([
        record("roll back", event="rolled_back", data={"reason": "manual: latency", "to_slot": "blue"}, **base),
    ]))
    assert run.rc == 0, run.output
    run = playbook.run(play([
        report("predict", ledger=ledger, deployment_id="shop-production-1", dest=dest, **aws),
    ]), check=True, diff=True)
    predicted = run.task("predict")
    assert predicted["changed"] is True and predicted["written"] == ["html", "markdown"]
    assert client.get_object(Bucket=s3_bucket, Key="shop/reports/shop-production-1.html")["ETag"] == etag
    assert "rolled back" in predicted["diff"][0]["after"] and "succeeded" in predicted["diff"][0]["before"]
    assert aws["secret_key"] not in run.output
