"""The evidence gate in the real pipeline: deploy.yml refuses a red build before anything changes.

Its own demo stack (PostgreSQL, HAProxy, supervisord on free ports) with nothing deployed yet, so
"nothing changed" is plain to check: no backup, no schema history, no slot, no traffic.  Two
playbook runs, in production (where the evidence blocks by default): a build whose tests failed,
and a green build whose only high vulnerability was accepted until a date that has passed.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import os
import tarfile

import pytest
from harness import evidence as tools
from harness.stack import running_stack

TRIVY_ACCEPTED_EXPIRED = """\
accepted:
  - id: CVE-2019-14806
    package: werkzeug
    justification: the debugger is never enabled in production
    expires: 2020-01-01
"""


@pytest.fixture(scope="module")
def stack(playbook):
    with running_stack(playbook) as running:
        yield running


def _artifact(stack, version, evidence_dir, extra=None):
    """The demo's 2.0.0 release as version ``version``, with a changelog and CI's evidence/ folder."""
    source = os.path.join(stack.root, "artifacts", "shop-2.0.0.tar.gz")
    files = {}
    with tarfile.open(source, "r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile():
                files[member.name] = (tar.extractfile(member).read(), member.mode)
    files["VERSION"] = ((version + "\n").encode(), 0o644)
    files["CHANGELOG.md"] = (tools.changelog(version, "2.0.0").encode(), 0o644)
    for name in sorted(os.listdir(evidence_dir)):
        with open(os.path.join(evidence_dir, name), "rb") as handle:
            files["evidence/" + name] = (handle.read(), 0o644)
    for name, text in (extra or {}).items():
        files[name] = (text.encode(), 0o644)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name in sorted(files):
            data, mode = files[name]
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    path = os.path.join(stack.root, "artifacts", "shop-%s.tar.gz" % version)
    with open(path, "wb") as handle:
        handle.write(buffer.getvalue())
    return path, hashlib.sha256(buffer.getvalue()).hexdigest()


def _nothing_changed(stack):
    """No backup, no migration, no slot link, no traffic: what a refused deployment must leave."""
    import psycopg

    db = dict(stack.extra_vars()["shipyard_db"])
    with psycopg.connect(dbname=db.pop("database"), **db) as conn:
        history = conn.execute("select to_regclass('shipyard_schema_history')").fetchone()[0]
        tables = conn.execute("select count(*) from pg_tables where schemaname = 'public'").fetchone()[0]
    app = os.path.join(stack.root, "app")
    links = [s for s in ("blue", "green") if os.path.islink(os.path.join(app, s))]
    return {"backups": glob.glob(os.path.join(stack.root, "backups", "*")), "history": history, "tables": tables,
            "links": links}


def _deploy(stack, version, artifact, checksum):
    return stack.run("deploy", shipyard_version=version, shipyard_environment="production",
                     shipyard_artifact=artifact, shipyard_artifact_checksum=checksum)


def test_red_build_is_refused_before_backup_migration_or_traffic(stack, tmp_path):
    before = _nothing_changed(stack)
    evidence = tools.evidence_folder(str(tmp_path / "evidence"), "2.1.0", tests=tools.RED_TESTS,
                                     audit="npm-audit-one-vuln.json")
    artifact, checksum = _artifact(stack, "2.1.0", evidence)
    run = _deploy(stack, "2.1.0", artifact, checksum)
    assert run.rc != 0
    assert "release evidence blocks 2.1.0 - tests (block): 1 failed or errored: test_shop.test_negative_label" in (
        run.output), run.output[-3000:]
    assert before == _nothing_changed(stack) == {"backups": [], "history": None, "tables": 0, "links": []}
    events = [(r["event"], r["data"]) for r in stack.ledger() if r["version"] == "2.1.0"]
    assert [name for name, _data in events] == ["started", "evidence", "failed"], events
    recorded = events[1][1]
    assert recorded["verdict"] == "blocked" and recorded["enforce"] == "block"
    assert {r["rule"]: r["result"] for r in recorded["rules"]} == {
        "provenance": "pass", "files": "pass", "tests": "block", "coverage": "pass", "audit": "pass",
        "lint": "pass", "changelog": "pass", "version": "pass"}
    assert events[2][1]["step"] == "Refuse a release whose evidence blocks"
    report = run.stats["custom"]["_run"]["shipyard_deployment"]["report"]
    with open(report["markdown"], encoding="utf-8") as handle:
        summary = handle.read()
    assert summary.startswith("# shop 2.1.0 to production: failed")
    assert "## Release evidence" in summary and "| Tests | block | 5 tests: 3 passed, 1 failed" in summary


def test_accepted_risk_past_its_expiry_blocks(stack, tmp_path):
    evidence = tools.evidence_folder(str(tmp_path / "evidence"), "2.1.1", audit="trivy-pip.json")
    artifact, checksum = _artifact(stack, "2.1.1", evidence, {"accepted-risks.yml": TRIVY_ACCEPTED_EXPIRED})
    run = _deploy(stack, "2.1.1", artifact, checksum)
    assert run.rc != 0
    assert ("audit (block): 1 at or above high: CVE-2019-14806 in Werkzeug 0.11 (high): accepted until 2020-01-01, "
            "expired") in run.output, run.output[-3000:]
    assert _nothing_changed(stack) == {"backups": [], "history": None, "tables": 0, "links": []}
    rules = next(r["data"]["rules"] for r in stack.ledger() if r["version"] == "2.1.1" and r["event"] == "evidence")
    assert [r["rule"] for r in rules if r["result"] != "pass"] == ["audit"]
