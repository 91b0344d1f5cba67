"""Audit reports copied from the tools' own test suites and docs (fixtures/README.md), and accepted risks."""

from __future__ import annotations

import datetime
import json
import os

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.accepted_risks import (
    match_acceptance,
    parse_accepted_risks,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.audit import (
    audit_format,
    normalize_severity,
    parse_audit,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import MalformedReport

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
TODAY = datetime.date(2026, 12, 1)


def _load(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return json.load(handle)


def _severities(findings):
    out = {}
    for found in findings:
        out[found["severity"]] = out.get(found["severity"], 0) + 1
    return out


def test_npm_audit_v2_severities_per_advisory():
    report = parse_audit("npm.json", _load("npm-audit-all-severity-levels.json"))
    assert report["tool"] == "npm audit"
    handlebars = [f for f in report["findings"] if f["package"] == "handlebars"]
    # handlebars is critical through advisory 755, and also has high and moderate advisories
    assert {f["id"]: f["severity"] for f in handlebars}["755"] == "critical"
    assert {"critical", "high", "medium"} <= {f["severity"] for f in handlebars}
    # "via": ["optimist"] is a dependency path, not an advisory of its own
    assert all(f["id"] != "optimist" for f in report["findings"])


def test_npm_audit_single_low():
    report = parse_audit("npm.json", _load("npm-audit-one-vuln.json"))
    assert [(f["package"], f["id"], f["severity"]) for f in report["findings"]] == [("minimist", "1179", "low")]


def test_pip_audit_has_no_severity():
    report = parse_audit("pip.json", _load("pip-audit.json"))
    assert report["tool"] == "pip-audit"
    assert [(f["package"], f["id"], f["severity"], f["aliases"]) for f in report["findings"]] == [
        ("foo", "VULN-0", "unknown", ["CVE-0000-00000"]), ("foo", "VULN-1", "unknown", ["CVE-0000-00001"]),
        ("bar", "VULN-2", "unknown", ["CVE-0000-00002"])]


def test_pip_audit_before_2_0_was_a_list():
    report = parse_audit("pip.json", _load("pip-audit-legacy-readme.json"))
    assert [f["id"] for f in report["findings"]] == ["PYSEC-2019-179", "PYSEC-2018-66"]


def test_osv_scanner_groups_aliases_and_takes_the_worst_rating():
    report = parse_audit("osv.json", _load("osv-scanner-results.json"))
    assert report["tool"] == "OSV-Scanner"
    by_package = {f["package"]: f for f in report["findings"]}
    # GHSA-m5pq-gvj9-9vr8 (GitHub: HIGH) and RUSTSEC-2022-0013 are one group
    assert by_package["regex"]["id"] == "GHSA-m5pq-gvj9-9vr8" and by_package["regex"]["severity"] == "high"
    assert "RUSTSEC-2022-0013" in by_package["regex"]["aliases"] and "CVE-2022-24713" in by_package["regex"]["aliases"]
    # the Go vulnerability database gives no rating
    assert by_package["github.com/gogo/protobuf"]["severity"] == "unknown"
    assert len(report["findings"]) == 2


def test_trivy_pip_project():
    report = parse_audit("trivy.json", _load("trivy-pip.json"))
    assert report["tool"] == "Trivy"
    assert {(f["id"], f["severity"]) for f in report["findings"]} >= {("CVE-2019-14806", "high"),
                                                                      ("CVE-2020-28724", "medium")}


@pytest.mark.parametrize("value, expected", [("MODERATE", "medium"), ("moderate", "medium"), ("CRITICAL", "critical"),
                                             ("9.8", "critical"), ("7.5", "high"), ("5", "medium"), ("0.1", "low"),
                                             ("", "unknown"), (None, "unknown"), ("UNKNOWN", "unknown")])
def test_severity_scale(value, expected):
    assert normalize_severity(value) == expected


def test_unknown_json_is_no_audit():
    assert audit_format({"hello": 1}) is None
    with pytest.raises(MalformedReport, match=r"x.json: not an npm audit"):
        parse_audit("x.json", {"hello": 1})


def test_trivy_with_a_wrong_structure_is_malformed():
    with pytest.raises(MalformedReport, match="Trivy report has an unexpected structure"):
        parse_audit("trivy.json", {"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"PkgName": "x"}]}]})


ACCEPTED = b"""\
accepted:
  - id: CVE-2020-28724
    package: werkzeug
    justification: redirects are never built from user input (SHOP-812)
    expires: 2027-01-31
  - id: CVE-2019-14806
    justification: fixed by the upgrade planned for November
    expires: 2026-11-30
  - id: GHSA-562c-5r94-xh97
    expires: 2027-01-31
  - id: PYSEC-2019-179
    justification: no date
"""


def _finding(identifier, package="werkzeug", aliases=()):
    return {"id": identifier, "aliases": list(aliases), "package": package, "version": "0.1", "severity": "high"}


def test_accepted_risks_valid_expired_invalid():
    entries = parse_accepted_risks("accepted-risks.yml", ACCEPTED)
    assert match_acceptance(_finding("CVE-2020-28724"), entries, TODAY)[1] == "accepted"
    assert match_acceptance(_finding("CVE-2020-28724", package="flask"), entries, TODAY)[1] == "none"
    entry, status = match_acceptance(_finding("CVE-2019-14806"), entries, TODAY)
    assert status == "expired" and entry["expires"] == "2026-11-30"
    # the last day of an acceptance still counts
    assert match_acceptance(_finding("CVE-2019-14806"), entries, datetime.date(2026, 11, 30))[1] == "accepted"
    entry, status = match_acceptance(_finding("PYSEC-2018-66", aliases=["GHSA-562c-5r94-xh97"]), entries, TODAY)
    assert status == "invalid" and "no justification" in entry["problem"]
    entry, status = match_acceptance(_finding("PYSEC-2019-179"), entries, TODAY)
    assert status == "invalid" and "no expires date" in entry["problem"]


def test_accepted_risk_file_that_is_no_list_is_malformed():
    with pytest.raises(MalformedReport, match=r"accepted-risks.yml: an accepted-risk file is a list"):
        parse_accepted_risks("accepted-risks.yml", b"accepted: yes\n")
    with pytest.raises(MalformedReport, match="not valid YAML"):
        parse_accepted_risks("accepted-risks.yml", b"accepted: [\n")


def test_without_pyyaml_json_still_works_and_yaml_says_what_to_do(monkeypatch):
    from ansible_collections.shipyard.deploy.plugins.module_utils.errors import DependencyError

    monkeypatch.setitem(__import__("sys").modules, "yaml", None)  # a managed node without PyYAML
    entries = parse_accepted_risks("accepted-risks.json", json.dumps(
        [{"id": "CVE-1", "justification": "not reachable", "expires": "2027-01-01"}]).encode())
    assert entries[0]["expires"] == "2027-01-01" and entries[0]["problem"] is None
    with pytest.raises(DependencyError, match="install PyYAML there or write the file as JSON"):
        parse_accepted_risks("accepted-risks.yml", ACCEPTED)
