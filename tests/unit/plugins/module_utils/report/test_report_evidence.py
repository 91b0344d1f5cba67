"""The "Release evidence" section of the deploy report, from a real judgement recorded in the ledger."""

from __future__ import annotations

import datetime

import defusedxml.ElementTree as ET

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.audit import finding
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.judgement import judge
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.policy import merge_policy, verdict
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.service import summarize
from ansible_collections.shipyard.deploy.plugins.module_utils.report.model import deployment_view
from ansible_collections.shipyard.deploy.plugins.module_utils.report.render import render_html, render_markdown

T0 = datetime.datetime(2026, 12, 1, 21, 0, tzinfo=datetime.timezone.utc)


def _blocked_judgement():
    evidence = {
        "source": "/srv/shop/releases/1.4.2/evidence", "inside_release": True, "manifest": None,
        "reports": {"tests": [{"file": "junit.xml", "producer": "pytest", "tests": 5, "passed": 4, "failures": 1,
                               "errors": 0, "skipped": 0, "skipped_without_reason": 0,
                               "failed_tests": ["test_shop.test_negative_label"], "unexplained_skips": []}],
                    "coverage": [], "lint": [],
                    "audit": [{"file": "audit.json", "tool": "Trivy",
                               "findings": [finding("CVE-2019-14806", "Werkzeug", "0.11", "HIGH")]}]},
        "malformed": [], "ignored": [], "read": ["junit.xml", "audit.json"], "accepted": [], "accepted_file": None,
        "changelog": None, "changelog_problem": "no CHANGELOG.md in the release or the evidence",
        "metadata": {"file": "VERSION", "version": "1.4.2"},
    }
    policy = merge_policy({"coverage": {"enforce": "warn"}, "lint": {"enforce": "off"}}, "block")
    results = judge(evidence, policy, {"version": "1.4.2", "live_version": "1.4.1", "force": False,
                                       "artifact_sha256": None, "today": datetime.date(2026, 12, 1)})
    return {"verdict": verdict(results), "enforce": "block", "location": evidence["source"],
            "rules": summarize(results)}


def _view(with_evidence=True):
    steps = [(0, "started", {"strategy": "bluegreen", "live_slot": "blue", "idle_slot": "green"})]
    if with_evidence:
        steps.append((3, "evidence", _blocked_judgement()))
    steps.append((4, "failed", {"reason": "release evidence blocks 1.4.2", "step": "Refuse a release whose evidence"
                                                                                   " blocks"}))
    records = [ledger.new_record("shop-production-2", "production", "shop", "1.4.2", name, data,
                                 moment=T0 + datetime.timedelta(seconds=offset)) for offset, name, data in steps]
    return deployment_view(ledger.summarize(records, "shop-production-2"))


def test_markdown_section_shows_each_rule_and_why():
    text = render_markdown(_view())
    section = text.split("## Release evidence", 1)[1]
    assert section.startswith("\n\nVerdict: blocked (enforce block; rules not passed: tests, coverage, audit, "
                              "changelog) - evidence from /srv/shop/releases/1.4.2/evidence"), section
    assert ("| Tests | block | 5 tests: 4 passed, 1 failed, 0 errors, 0 skipped (0 without a reason) | at most 0 "
            "failed, at least 1 tests, skips with a reason | 1 failed or errored: test_shop.test_negative_label |"
            ) in section
    assert "| Coverage | warn | no coverage report" in section
    assert "| Lint and type checks | off | - | - | rule turned off by the policy |" in section
    assert "| Dependency audit | block | 1 vulnerabilities (critical 0, high 1" in section
    # the timeline says it too
    assert ("| 2 | Release evidence | +3.0 s | 3.0 s | verdict blocked (enforce block): tests, coverage, audit, "
            "changelog failed |") in text


def test_html_section_is_well_formed_and_coloured():
    page = render_html(_view())
    section = page.split('<h2 id="evidence">Release evidence</h2>', 1)[1].split("</body>")[0]
    assert section.startswith('\n<p class="bad">Verdict: blocked')
    table = ET.fromstring(section[section.index("<table>"):section.index("</table>") + len("</table>")])
    rows = table.findall("tr")
    assert [r.find("td/span").get("class") for r in rows[1:]] == [
        "pass", "pass", "block", "warn", "block", "off", "block", "pass"]
    assert rows[3].findall("td")[4].text == "1 failed or errored: test_shop.test_negative_label"


def test_without_an_evidence_event_the_report_says_so():
    assert "The release evidence was not checked in this deployment." in render_markdown(_view(False))
    assert "The release evidence was not checked in this deployment." in render_html(_view(False))
