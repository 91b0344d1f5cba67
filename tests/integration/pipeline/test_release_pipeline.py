"""The release pipeline as users run it: the collection's playbooks against real local servers.

One stack for the whole module (PostgreSQL, HAProxy, supervisord running the demo shop's slots,
on free loopback ports), driven through inventory/local with its ports overridden.  The tests run
in order and build on each other: deploy from nothing, blue-green under load, idempotent re-run,
check mode, rollback, a bad canary rolled back automatically, backup verification, staging gate.
"""

from __future__ import annotations

import glob
import json
import os
import time

import pytest
from harness import browser
from harness.load import LoadGenerator
from harness.stack import running_stack
from harness.webhook import WebhookReceiver

from ansible_collections.shipyard.deploy.plugins.module_utils.report.charts import COLORS


@pytest.fixture(scope="module")
def stack(playbook):
    with running_stack(playbook) as running:
        yield running


def test_deploy_from_nothing_then_blue_green_under_load(stack):
    run = stack.run("deploy", shipyard_version="1.0.0")
    assert run.rc == 0, run.output
    assert stack.serving() == {"slot": "blue", "version": "1.0.0", "path": "/"}

    load = LoadGenerator(stack.url, concurrency=2, duration=300, max_requests=10**7).start()
    try:
        run = stack.run("deploy", shipyard_version="2.0.0")
    finally:
        load.stop()
    assert run.rc == 0, run.output
    assert stack.serving()["version"] == "2.0.0"
    counts = load.snapshot()
    assert counts["failed"] == 0, counts
    assert counts["slots"].get("blue", 0) > 0 and counts["slots"].get("green", 0) > 0, counts
    assert run.stats["custom"]["_run"]["shipyard_deployment"]["outcome"] == "succeeded"
    outcomes = [r["event"] for r in stack.ledger() if r["version"] == "2.0.0"]
    assert outcomes == ["started", "preflight", "backup", "migration", "release", "health", "traffic_step",
                        "succeeded"], outcomes
    # the deploy report is written next to the ledger and its place is exported for AWX
    report = run.stats["custom"]["_run"]["shipyard_deployment"]["report"]
    assert os.path.dirname(report["html"]) == os.path.join(stack.root, "reports")
    with open(report["markdown"], encoding="utf-8") as handle:
        summary = handle.read()
    assert summary.startswith("# shop 2.0.0 to local: succeeded"), summary[:200]
    assert "| Database backup |" in summary and "No rollback." in summary
    with open(report["html"], encoding="utf-8") as handle:
        page = handle.read()
    assert 'data-chart="traffic"' in page and 'data-chart="error-rate"' not in page  # blue-green: no analysis


def test_redeploying_the_live_version_changes_nothing(stack):
    before = stack.snapshot()
    run = stack.run("deploy", shipyard_version="2.0.0")
    assert run.rc == 0, run.output
    assert all(not r["result"].get("changed") for r in run.results), [
        r["task"] for r in run.results if r["result"].get("changed")]
    assert stack.snapshot() == before


def test_check_mode_changes_nothing(stack):
    before = stack.snapshot()
    run = stack.run("deploy", check=True, shipyard_version="3.0.0", shipyard_strategy="canary")
    assert run.rc == 0, run.output
    assert stack.snapshot() == before


def test_rollback_flips_back_in_seconds(stack):
    started = time.monotonic()
    run = stack.run("rollback", rollback_reason="test: back to 1.0.0")
    elapsed = time.monotonic() - started
    assert run.rc == 0, run.output
    assert stack.serving()["version"] == "1.0.0"
    assert elapsed < 60, elapsed  # playbook start-up included; the switch itself is milliseconds
    last = stack.ledger()[-1]
    assert last["event"] == "rolled_back" and last["version"] == "2.0.0"
    assert last["data"]["reason"] == "test: back to 1.0.0"
    # the report of the deployment that was rolled back now says so, and the job exports it
    exported = run.stats["custom"]["_run"]["shipyard_deployment"]
    assert exported["outcome"] == "rolled_back" and exported["version"] == "2.0.0"
    with open(exported["report"]["markdown"], encoding="utf-8") as handle:
        assert "to slot blue: test: back to 1.0.0" in handle.read()
    # 2.0.0 is no longer a good version: deploying it again is allowed and moves traffic back
    run = stack.run("deploy", shipyard_version="2.0.0")
    assert run.rc == 0, run.output
    assert stack.serving()["version"] == "2.0.0"


def test_rollback_with_database_restore_emergency_and_redeploy(stack):
    import psycopg

    db = dict(stack.extra_vars()["shipyard_db"])
    dbname = db.pop("database")
    with psycopg.connect(dbname=dbname, autocommit=True, **db) as conn:
        conn.execute("insert into items (name, price_cents) values ('written after the backup', 1)")

    run = stack.run("rollback", rollback_restore_database=True, rollback_reason="test: restore")
    assert run.rc == 0, run.output
    assert stack.serving()["version"] == "1.0.0"
    with psycopg.connect(dbname=dbname, autocommit=True, **db) as conn:
        assert conn.execute("select count(*) from items where name = 'written after the backup'").fetchone() == (0,)
        kept = [r[0] for r in conn.execute("select datname from pg_database where datname like 'shop_before_%'")]
    assert kept, "the database before the restore is kept under another name"
    last = stack.ledger()[-1]
    assert last["event"] == "rolled_back" and last["data"]["database_restored"] is True

    # redeploy a named version through rollback.yml (no migrations: the schema stays)
    run = stack.run("rollback", shipyard_version="2.0.0")
    assert run.rc == 0, run.output
    assert stack.serving()["version"] == "2.0.0"

    # emergency: no checks at all, traffic moves at once
    run = stack.run("rollback", rollback_emergency=True, rollback_reason="test: emergency")
    assert run.rc == 0, run.output
    assert stack.serving()["version"] == "1.0.0"
    assert run.status("Check the previous slot still answers") == "skipped"

    run = stack.run("rollback", shipyard_version="2.0.0")
    assert run.rc == 0, run.output
    assert stack.serving() == {"slot": "green", "version": "2.0.0", "path": "/"}


def test_bad_canary_is_rolled_back_automatically(stack, record_property):
    webhook = WebhookReceiver().start()
    load = LoadGenerator(stack.url, concurrency=2, duration=300, max_requests=10**7).start()
    try:
        run = stack.run("deploy", shipyard_version="3.0.0", shipyard_strategy="canary",
                        shipyard_webhook_url=webhook.url)
    finally:
        load.stop()
        webhook.stop()
    assert run.rc != 0
    assert "rolled back to green" in run.output
    assert stack.serving() == {"slot": "green", "version": "2.0.0", "path": "/"}
    rollback = stack.ledger()[-1]
    assert rollback["event"] == "rolled_back" and "error rate" in rollback["data"]["reason"]
    assert [m["text"].split(" Deployment")[0] for m in webhook.received] == [":rocket:", ":rewind:"]
    assert "error rate" in webhook.received[1]["text"] and webhook.token not in run.output
    exported = run.stats["custom"]["_run"]["shipyard_deployment"]
    assert exported["outcome"] == "rolled_back" and exported["version"] == "3.0.0"
    # every analysis window is in the ledger with per-slot figures, and in the report
    windows = [r["data"] for r in stack.ledger() if r["event"] == "analysis" and r["version"] == "3.0.0"]
    assert windows and windows[-1]["verdict"] == "fail" and windows[-1]["percent"] == 5
    assert windows[-1]["measurements"]["canary"]["error_rate"] > 0.05
    assert "details" not in windows[-1]["measurements"]["canary"]
    with open(exported["report"]["markdown"], encoding="utf-8") as handle:
        summary = handle.read()
    assert summary.startswith("# shop 3.0.0 to local: rolled back") and "| 5% | fail |" in summary, summary
    stack.canary_report = exported["report"]["html"]
    # what users saw: failed requests, and time from the first bad answer to the last answer from the canary
    bad = [t for t, slot, outcome in load.timeline if outcome == 500]
    canary = [t for t, slot, outcome in load.timeline if slot == "blue" or outcome == 500]
    counts = load.snapshot()
    exposure = (max(canary) - min(bad)) if bad else 0.0
    record_property("canary_failed_requests", counts["failed"])
    record_property("canary_total_requests", counts["total"])
    record_property("canary_exposure_seconds", round(exposure, 2))
    print("bad canary: %d of %d requests failed; %.1f s from the first bad answer to all traffic back"
          % (counts["failed"], counts["total"], exposure))
    assert counts["failed"] < 0.05 * counts["total"]  # 5% of traffic at most, 30% of it failing


def test_report_of_the_rolled_back_canary_renders_in_a_browser(stack, tmp_path):
    """What a person opening the report sees: the steps, the charts drawn, the verdict."""
    dom, png = browser.render(stack.canary_report, str(tmp_path))
    # timeline, traffic share, and per second: error rate, latency, requests
    assert dom.count('<svg class="chart"') == 5, dom[:2000]
    for text in ("rolled back", "Database backup", "Canary analysis", "max_error_rate", "Rolled back"):
        assert text in dom, text
    colours = browser.colour_counts(png, [COLORS["canary"], COLORS["baseline"], COLORS["traffic"],
                                          COLORS["threshold"]])
    assert colours["non_white"] > 0.02 * colours["total"], colours
    for name in ("canary", "baseline", "traffic", "threshold"):
        # the points and lines of every series are on screen, not just in the markup: the legend
        # swatches alone are about 36 pixels per chart (72 for a slot, in two charts), one
        # analysis window adds a point of about 50 pixels to each
        assert colours[COLORS[name]] > 120, (name, colours)


def test_backup_verification_passes_then_catches_corruption_and_staleness(stack):
    run = stack.run("backup_verify")
    assert run.rc == 0, run.output
    report = run.task("Show the verification")["backup_verify_report"]
    assert report["verified"] is True and report["rows"] >= 1000

    run = stack.run("backup_verify", shipyard_backup_max_age=0)
    assert run.rc != 0 and "h old" in run.output

    newest = sorted(glob.glob(os.path.join(stack.root, "backups", "*", "data.dump.zst")), key=os.path.getmtime)[-1]
    with open(newest, "r+b") as handle:
        handle.seek(os.path.getsize(newest) // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))
    run = stack.run("backup_verify")
    assert run.rc != 0 and "sha" in run.output.lower()


def test_production_refuses_a_version_never_deployed_to_staging(stack):
    before = len(stack.ledger())
    run = stack.run("production", shipyard_version="2.0.0", shipyard_environment="production")
    assert run.rc != 0
    assert "no succeeded deployment in staging" in run.output
    assert len(stack.ledger()) == before
    assert stack.serving()["version"] == "2.0.0"


def test_deploy_with_the_ledger_and_reports_in_s3(stack, s3, s3_bucket):
    """The AWX set-up: the job's container does not outlive the job, so ledger and reports live in S3."""
    ledger = "s3://%s/shop/ledger.jsonl" % s3_bucket
    # 1.0.0 lacks the schema's second migration: redeploy it without migrations, as rollback.yml does
    run = stack.run("deploy", shipyard_version="1.0.0", shipyard_migrate=False, shipyard_ledger=ledger,
                    shipyard_ledger_aws=s3.module_options())
    assert run.rc == 0, run.output
    assert stack.serving()["version"] == "1.0.0"
    client = s3.client()
    lines = client.get_object(Bucket=s3_bucket, Key="shop/ledger.jsonl")["Body"].read().decode().splitlines()
    events = [json.loads(line)["event"] for line in lines]
    assert events[0] == "started" and events[-1] == "succeeded" and "backup" in events, events
    exported = run.stats["custom"]["_run"]["shipyard_deployment"]
    assert exported["report"]["html"].startswith("s3://%s/shop/reports/" % s3_bucket)
    key = exported["report"]["html"].split("/", 3)[3]
    page = client.get_object(Bucket=s3_bucket, Key=key)
    assert page["ContentType"] == "text/html; charset=utf-8"
    assert "shop 1.0.0" in page["Body"].read().decode()
    assert s3.module_options()["secret_key"] not in run.output
