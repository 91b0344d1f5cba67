"""release_evidence on evidence the real tools produced, from a release folder, S3 (moto) and HTTP."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import shutil
import threading

import pytest
from harness import evidence as tools
from harness.net import free_port
from harness.playbook import play

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import EvidenceError
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.service import run_release_evidence

SHA = hashlib.sha256(b"the artifact").hexdigest()


@pytest.fixture(scope="module")
def green_evidence(tmp_path_factory):
    """An evidence folder of a green build: pytest, coverage.py, ruff, a clean Trivy-free audit."""
    return tools.evidence_folder(str(tmp_path_factory.mktemp("green") / "evidence"), "1.4.2",
                                 audit="npm-audit-one-vuln.json", artifact_sha256=SHA)


def _release(tmp_path, evidence, version="1.4.2", accepted=None):
    release = tmp_path / "release"
    release.mkdir()
    (release / "VERSION").write_text(version + "\n")
    (release / "CHANGELOG.md").write_text(tools.changelog(version))
    if accepted:
        (release / "accepted-risks.yml").write_text(accepted)
    shutil.copytree(evidence, str(release / "evidence"))
    return str(release)


def _params(release_dir, **more):
    params = {"location": "evidence", "release_dir": release_dir, "version": "1.4.2", "live_version": "1.4.1",
              "environment": "production", "enforce": "auto", "artifact_sha256": SHA, "policy": {},
              "accepted_risks_file": "accepted-risks.yml", "accepted_risks": [], "max_file_size": 1 << 20,
              "fail_on_block": True}
    params.update(more)
    return params


def test_green_build_passes_and_check_mode_says_the_same(tmp_path, green_evidence):
    release = _release(tmp_path, green_evidence)
    result = run_release_evidence(_params(release), False, False)
    assert result["verdict"] == "pass" and result["changed"] is False, result["msg"]
    rules = {r["rule"]: r for r in result["rules"]}
    assert rules["tests"]["measured"] == "4 tests: 3 passed, 0 failed, 0 errors, 1 skipped (0 without a reason)"
    assert rules["coverage"]["measured"].startswith("line 88.89% (8 of 9), branch 75.00% (3 of 4)")
    assert rules["audit"]["measured"].startswith("1 vulnerabilities (critical 0, high 0, medium 0, low 1")
    assert rules["lint"]["measured"] == "0 errors, 0 warnings, 0 notes (ruff)"
    assert rules["changelog"]["result"] == rules["version"]["result"] == rules["provenance"]["result"] == "pass"
    checked = run_release_evidence(_params(release), True, False)
    assert checked["rules"] == result["rules"]


def test_red_build_is_blocked_with_every_reason(tmp_path):
    evidence = tools.evidence_folder(str(tmp_path / "red" / "evidence"), "1.4.2", tests=tools.RED_TESTS,
                                     audit="trivy-pip.json", lint_source="import os\n")
    release = _release(tmp_path, evidence)
    with pytest.raises(EvidenceError) as caught:
        run_release_evidence(_params(release), False, False)
    message = caught.value.message
    assert message.startswith("release evidence blocks 1.4.2 - tests (block): 1 failed or errored: "
                              "test_shop.test_negative_label"), message
    assert "audit (block): 1 at or above high: CVE-2019-14806 in Werkzeug" in message
    assert "lint (block): 1 errors:" in message and "F401" in message
    assert caught.value.details["blocked"] is True and caught.value.details["changed"] is False
    # a role records the verdict before stopping
    result = run_release_evidence(_params(release, fail_on_block=False), False, False)
    assert result["blocked"] is True and [r["rule"] for r in result["rules"] if r["result"] == "block"] == [
        "tests", "audit", "lint"]
    # staging only warns on the same evidence
    staged = run_release_evidence(_params(release, environment="staging"), False, False)
    assert staged["verdict"] == "warn" and len(staged["warnings"]) == 3


def test_expired_acceptance_blocks_again(tmp_path):
    evidence = tools.evidence_folder(str(tmp_path / "e" / "evidence"), "1.4.2", audit="trivy-pip.json")
    accepted = ("- id: CVE-2019-14806\n  package: werkzeug\n  justification: only talks to our own hosts\n"
                "  expires: %s\n")
    release = _release(tmp_path, evidence, accepted=accepted % "2099-01-01")
    assert run_release_evidence(_params(release), False, False)["verdict"] == "pass"
    os.unlink(os.path.join(release, "accepted-risks.yml"))
    with open(os.path.join(release, "accepted-risks.yml"), "w") as handle:
        handle.write(accepted % "2020-01-01")
    with pytest.raises(EvidenceError, match=r"CVE-2019-14806 in Werkzeug .*accepted until 2020-01-01, expired"):
        run_release_evidence(_params(release), False, False)


def test_malformed_report_blocks_naming_the_file(tmp_path, green_evidence):
    release = _release(tmp_path, green_evidence)
    with open(os.path.join(release, "evidence", "junit.xml"), "r+b") as handle:
        handle.truncate(200)
    result = run_release_evidence(_params(release, fail_on_block=False), False, False)
    rules = {r["rule"]: r for r in result["rules"]}
    assert rules["files"]["result"] == "block" and rules["files"]["reason"].startswith("junit.xml: not well-formed XML")
    assert rules["tests"]["reason"].startswith("no JUnit XML test report found")


def test_evidence_in_s3_must_name_the_artifact(tmp_path, green_evidence, s3, s3_bucket):
    client = s3.client()
    for name in sorted(os.listdir(green_evidence)):
        with open(os.path.join(green_evidence, name), "rb") as handle:
            client.put_object(Bucket=s3_bucket, Key="shop/1.4.2/evidence/" + name, Body=handle.read())
    release = _release(tmp_path, green_evidence)
    params = _params(release, location="s3://%s/shop/1.4.2/evidence" % s3_bucket, **s3.module_options())
    result = run_release_evidence(params, False, False)
    assert result["verdict"] == "pass", result["msg"]
    assert result["location"] == "s3://%s/shop/1.4.2/evidence" % s3_bucket
    with pytest.raises(EvidenceError, match=r"provenance .block.: the evidence is of another build"):
        run_release_evidence(dict(params, artifact_sha256="b" * 64), False, False)


@contextlib.contextmanager
def _serving(directory):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_evidence_at_a_url_is_read_through_its_manifest(tmp_path, green_evidence):
    import json

    served = tmp_path / "www"
    shutil.copytree(green_evidence, str(served / "evidence"))
    release = _release(tmp_path, green_evidence)
    with _serving(str(served)) as url:
        params = _params(release, location=url + "/evidence", fail_on_block=False)
        result = run_release_evidence(params, False, False)
        rules = {r["rule"]: r for r in result["rules"]}
        assert rules["files"]["reason"].startswith("evidence.json: a URL cannot be listed"), rules["files"]
        with open(served / "evidence" / "evidence.json", "w") as handle:
            json.dump({"artifact_sha256": SHA, "version": "1.4.2",
                       "files": ["junit.xml", "coverage.xml", "ruff.sarif", "audit.json"]}, handle)
        result = run_release_evidence(params, False, False)
    assert result["verdict"] == "pass", result["msg"]


def test_module_in_a_playbook_fails_on_block_and_never_changes(playbook, tmp_path):
    evidence = tools.evidence_folder(str(tmp_path / "red" / "evidence"), "1.4.2", tests=tools.RED_TESTS,
                                     audit="npm-audit-one-vuln.json")
    release = _release(tmp_path, evidence)
    task = {"shipyard.deploy.release_evidence": {"release_dir": release, "version": "1.4.2", "enforce": "block"}}
    run = playbook.run(play([
        dict(task, name="judge and report", register="judged",
             **{"shipyard.deploy.release_evidence": dict(task["shipyard.deploy.release_evidence"],
                                                         fail_on_block=False)}),
        dict(task, name="judge and stop"),
    ]), check=True)
    assert run.rc != 0
    reported = run.task("judge and report")
    assert reported["blocked"] is True and reported["changed"] is False and reported["verdict"] == "blocked"
    assert run.status("judge and stop") == "failed"
    stopped = run.task("judge and stop")
    assert stopped["changed"] is False
    assert stopped["msg"].startswith("release evidence blocks 1.4.2 - tests (block)")
    assert [r["rule"] for r in stopped["rules"] if r["result"] == "block"] == ["tests"]


def test_a_folder_of_too_many_files_is_not_judged_in_part(tmp_path, green_evidence):
    release = _release(tmp_path, green_evidence)
    os.unlink(os.path.join(release, "evidence", "evidence.json"))
    for index in range(201):
        (tmp_path / "release" / "evidence" / ("log-%03d.txt" % index)).write_text("x\n")
    result = run_release_evidence(_params(release, fail_on_block=False), False, False)
    files = next(r for r in result["rules"] if r["rule"] == "files")
    assert files["result"] == "block" and "205 files, more than the 200 read" in files["reason"], files
