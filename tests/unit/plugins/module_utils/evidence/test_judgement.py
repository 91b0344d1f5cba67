"""The rules and the policy: what each measures, when it passes, blocks or warns."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.accepted_risks import check_entry
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.audit import finding
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.changelog import parse_changelog
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.coverage_reports import summary as coverage
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.judgement import judge
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.policy import (
    merge_policy,
    resolve_enforcement,
    verdict,
)

SHA = "a" * 64


def _tests(**counts):
    base = {"file": "junit.xml", "producer": "pytest", "tests": 10, "passed": 10, "failures": 0, "errors": 0,
            "skipped": 0, "skipped_without_reason": 0, "failed_tests": [], "unexplained_skips": []}
    base.update(counts)
    return base


def _evidence(**overrides):
    evidence = {
        "source": "/rel/evidence", "inside_release": True, "manifest": {"version": "1.4.2"},
        "reports": {"tests": [_tests()], "coverage": [coverage("coverage.xml", "cobertura", 100, 90)],
                    "audit": [{"file": "audit.json", "tool": "Trivy", "findings": []}],
                    "lint": [{"file": "ruff.sarif", "tools": ["ruff"], "errors": 0, "warnings": 2, "notes": 0,
                              "suppressed": 0, "first_errors": []}]},
        "malformed": [], "ignored": [], "read": ["junit.xml"], "accepted": [], "accepted_file": None,
        "changelog": parse_changelog("CHANGELOG.md", b"## [1.4.2] - 2026-11-30\n- fix\n## [1.4.1]\n- x\n"),
        "changelog_problem": None, "metadata": {"file": "VERSION", "version": "1.4.2"},
    }
    for key, value in overrides.items():
        if key in evidence["reports"]:
            evidence["reports"][key] = value
        else:
            evidence[key] = value
    return evidence


def _judge(evidence, overrides=None, enforce="block", **expected):
    wanted = {"version": "1.4.2", "live_version": "1.4.1", "force": False, "artifact_sha256": SHA,
              "today": datetime.date(2026, 12, 1)}
    wanted.update(expected)
    return {r["rule"]: r for r in judge(evidence, merge_policy(overrides, enforce), wanted)}


def test_good_evidence_passes_every_rule():
    results = _judge(_evidence())
    assert {r["result"] for r in results.values()} == {"pass"}, results
    assert results["coverage"]["measured"] == "line 90.00% (90 of 100)"
    assert results["lint"]["measured"] == "0 errors, 2 warnings, 0 notes (ruff)"
    assert verdict(list(results.values())) == "pass"


def test_failed_tests_block_and_name_the_tests():
    results = _judge(_evidence(tests=[_tests(passed=8, failures=1, errors=1, failed_tests=["t.a", "t.b"])]))
    assert results["tests"]["result"] == "block"
    assert results["tests"]["reason"] == "2 failed or errored: t.a, t.b"
    assert results["tests"]["details"]["failures"] == 1


def test_empty_report_and_unexplained_skips_block():
    assert "only 0 tests ran" in _judge(_evidence(tests=[_tests(tests=0, passed=0)]))["tests"]["reason"]
    result = _judge(_evidence(tests=[_tests(skipped=1, skipped_without_reason=1, unexplained_skips=["t.c"])]))["tests"]
    assert result["result"] == "block" and "1 skipped without a reason: t.c" in result["reason"]
    relaxed = _judge(_evidence(tests=[_tests(skipped=1, skipped_without_reason=1)]),
                     {"tests": {"skipped_need_reason": False}})["tests"]
    assert relaxed["result"] == "pass"


def test_missing_evidence_fails_its_rule():
    results = _judge(_evidence(tests=[], coverage=[], audit=[], lint=[]))
    for rule in ("tests", "coverage", "audit", "lint"):
        assert results[rule]["result"] == "block" and results[rule]["reason"].startswith("no "), results[rule]


def test_coverage_is_compared_on_counts():
    # 7999 of 10000 is 79.99%, shown rounded as 79.99%; 79.996% would round to 80.00% and still fail
    assert _judge(_evidence(coverage=[coverage("c", "lcov", 100000, 79996)]))["coverage"]["result"] == "block"
    assert _judge(_evidence(coverage=[coverage("c", "lcov", 100000, 80000)]))["coverage"]["result"] == "pass"
    result = _judge(_evidence(), {"coverage": {"min_branch": 70}})["coverage"]
    assert result["result"] == "block" and "no report measures branches" in result["reason"]
    result = _judge(_evidence(coverage=[coverage("c", "cobertura", 100, 90, 10, 6)]),
                    {"coverage": {"min_branch": 70}})["coverage"]
    assert result["result"] == "block" and result["reason"] == "branch coverage 60.00% is under 70%"


def _audit(*findings):
    return [{"file": "audit.json", "tool": "Trivy", "findings": list(findings)}]


def test_audit_blocks_at_the_severity_and_counts_below():
    results = _judge(_evidence(audit=_audit(finding("CVE-1", "a", "1", "HIGH"), finding("CVE-2", "b", "1", "MEDIUM"))))
    assert results["audit"]["result"] == "block"
    assert results["audit"]["reason"] == "1 at or above high: CVE-1 in a 1 (high)"
    assert results["audit"]["details"]["counts"]["medium"] == 1
    lower = _judge(_evidence(audit=_audit(finding("CVE-2", "b", "1", "MEDIUM"))),
                   {"audit": {"block_severity": "medium"}})
    assert lower["audit"]["result"] == "block"


def test_audit_unknown_severity_counts_as_configured():
    unrated = _evidence(audit=_audit(finding("PYSEC-1", "flask", "0.5", None)))
    assert _judge(unrated)["audit"]["result"] == "block"
    assert _judge(unrated, {"audit": {"unknown_severity": "ignore"}})["audit"]["result"] == "pass"
    assert _judge(unrated, {"audit": {"unknown_severity": "low"}})["audit"]["result"] == "pass"


def test_accepted_risk_passes_until_it_expires():
    entry = check_entry({"id": "CVE-1", "justification": "not reachable", "expires": "2026-12-31"})
    evidence = _evidence(audit=_audit(finding("CVE-1", "a", "1", "critical")), accepted=[entry])
    result = _judge(evidence)["audit"]
    assert result["result"] == "pass" and "CVE-1 in a accepted until 2026-12-31 (not reachable)" in result["reason"]
    expired = _judge(evidence, today=datetime.date(2027, 1, 1))["audit"]
    assert expired["result"] == "block" and expired["reason"].endswith("accepted until 2026-12-31, expired")


def test_lint_errors_block_warnings_only_when_limited():
    lint = [{"file": "x.sarif", "tools": ["eslint"], "errors": 1, "warnings": 5, "notes": 0, "suppressed": 0,
             "first_errors": ["src/a.js:3 no-eval (eslint)"]}]
    result = _judge(_evidence(lint=lint))["lint"]
    assert result["result"] == "block" and result["reason"] == "1 errors: src/a.js:3 no-eval (eslint)"
    lint[0]["errors"] = 0
    assert _judge(_evidence(lint=lint))["lint"]["result"] == "pass"
    assert _judge(_evidence(lint=lint), {"lint": {"max_warnings": 4}})["lint"]["reason"] == "5 warnings"


def test_changelog_needs_an_entry_for_the_version():
    result = _judge(_evidence(), version="1.4.3", live_version="")["changelog"]
    assert result["result"] == "block" and result["reason"] == "CHANGELOG.md has no entry for 1.4.3"
    missing = _judge(_evidence(changelog=None, changelog_problem="no CHANGELOG.md in the release"))["changelog"]
    assert missing["result"] == "block" and missing["reason"] == "no CHANGELOG.md in the release"


def test_version_must_match_metadata_and_be_newer_unless_forced():
    assert _judge(_evidence(metadata={"file": "VERSION", "version": "1.4.1"}))["version"]["reason"] == (
        "deploying 1.4.2 but the artifact's VERSION says 1.4.1")
    older = _judge(_evidence(), live_version="1.10.0")["version"]
    assert older["result"] == "block" and "not newer than the live 1.10.0" in older["reason"]
    assert _judge(_evidence(), live_version="1.10.0", force=True)["version"]["result"] == "pass"
    assert _judge(_evidence(metadata=None))["version"]["result"] == "block"


def test_provenance_outside_the_release_needs_the_artifact_sha():
    outside = {"inside_release": False, "source": "s3://b/evidence"}
    assert _judge(_evidence(manifest={"artifact_sha256": "sha256:" + SHA}, **outside))["provenance"]["result"] == "pass"
    other = _judge(_evidence(manifest={"artifact_sha256": "b" * 64}, **outside))["provenance"]
    assert other["result"] == "block" and "another build" in other["reason"]
    assert "no evidence.json" in _judge(_evidence(manifest=None, **outside))["provenance"]["reason"]
    unset = _judge(_evidence(manifest={"artifact_sha256": SHA}, **outside), artifact_sha256=None)["provenance"]
    assert unset["result"] == "block" and "artifact_sha256 is not set" in unset["reason"]
    wrong_version = _judge(_evidence(manifest={"version": "1.4.1"}))["provenance"]
    assert wrong_version["result"] == "block" and "of version 1.4.1" in wrong_version["reason"]


def test_malformed_files_block_with_their_names():
    result = _judge(_evidence(malformed=[{"file": "junit.xml", "problem": "not well-formed XML"}]))["files"]
    assert result["result"] == "block" and result["reason"] == "junit.xml: not well-formed XML"
    assert result["files"] == ["junit.xml"]


def test_per_rule_enforcement_and_off():
    evidence = _evidence(coverage=[coverage("c", "lcov", 100, 50)], lint=[])
    results = _judge(evidence, {"coverage": {"enforce": "warn"}, "lint": {"enforce": "off"}})
    assert results["coverage"]["result"] == "warn" and results["lint"]["result"] == "off"
    assert verdict(list(results.values())) == "warn"
    assert verdict(list(_judge(evidence, enforce="warn").values())) == "warn"


@pytest.mark.parametrize("enforce, environment, expected", [
    ("auto", "production", "block"), ("auto", "Production", "block"), ("auto", "staging", "warn"),
    ("auto", "local", "off"), (None, None, "off"), ("warn", "production", "warn"), ("block", "local", "block")])
def test_enforcement_per_environment(enforce, environment, expected):
    assert resolve_enforcement(enforce, environment) == expected


@pytest.mark.parametrize("overrides, message", [
    ({"test": {}}, "unknown rule 'test'"), ({"coverage": {"min_lines": 80}}, "unknown setting 'min_lines'"),
    ({"coverage": {"min_line": 120}}, "out of range"), ({"audit": {"block_severity": "severe"}}, "not one of"),
    ({"tests": {"enforce": "never"}}, "not one of block, warn, off"), ({"lint": {"max_errors": "x"}}, "a number"),
    ({"tests": "strict"}, "must be a mapping")])
def test_policy_typos_are_errors(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        merge_policy(overrides, "block")
