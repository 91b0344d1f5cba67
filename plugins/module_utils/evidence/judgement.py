# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each rule of the policy applied to the evidence of one build: what it measured, and why it passed.

Every rule returns one record (``rule``, ``result``, ``measured``, ``threshold``, ``reason``,
``files``, ``details``).  ``result`` is ``pass``, or for a failed rule its enforcement (``block``
or ``warn``); a rule set to ``off`` says so and measures nothing.  Missing evidence fails its
rule: a gate that passes when CI published nothing would be no gate.
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence import accepted_risks, versions
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.audit import SEVERITIES, severity_rank
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.coverage_reports import merge_coverage
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.junit import merge_junit
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.policy import RULES
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.sarif import merge_sarif

TITLES = {"provenance": "Evidence is of this artifact", "files": "Every report is readable",
          "tests": "Tests", "coverage": "Coverage", "audit": "Dependency audit", "lint": "Lint and type checks",
          "changelog": "Changelog", "version": "Version"}
# Vulnerabilities listed by name in a result; the counts are always complete.
MAX_LISTED = 20


def judge(evidence, policy, expected):
    """The record of every rule, in RULES order.

    ``evidence`` is what :func:`service.collect_evidence` read; ``expected`` holds ``version``,
    ``live_version``, ``force``, ``artifact_sha256`` and ``today`` (a date).
    """
    checks = {"provenance": _provenance, "files": _files, "tests": _tests, "coverage": _coverage,
              "audit": _audit, "lint": _lint, "changelog": _changelog, "version": _version}
    results = []
    for rule in RULES:
        settings = policy[rule]
        if settings["enforce"] == "off":
            results.append(record(rule, "off", "-", "-", "rule turned off by the policy"))
            continue
        passed, measured, threshold, reason, files, details = checks[rule](evidence, settings, expected)
        results.append(record(rule, "pass" if passed else settings["enforce"], measured, threshold, reason,
                              files, details))
    return results


def record(rule, result, measured, threshold, reason, files=(), details=None):
    """One rule's result."""
    return {"rule": rule, "title": TITLES[rule], "result": result, "measured": measured, "threshold": threshold,
            "reason": reason, "files": list(files), "details": details or {}}


def _missing(evidence, what):
    return (False, "no %s" % what, "at least one %s" % what,
            "no %s found in %s" % (what, evidence["source"]), [], {})


def _provenance(evidence, settings, expected):
    manifest, wanted = evidence["manifest"], expected.get("artifact_sha256")
    named_version = (manifest or {}).get("version")
    if named_version and not versions.same_version(named_version, expected["version"]):
        return (False, "evidence.json names version %s" % named_version, "version %s" % expected["version"],
                "the evidence is of version %s, not of %s being deployed" % (named_version, expected["version"]),
                ["evidence.json"], {"manifest_version": named_version})
    if evidence["inside_release"]:
        shown = "sha256 %s" % wanted if wanted else "the artifact"
        return (True, "evidence shipped inside the artifact", "inside %s" % shown,
                "the evidence is part of the artifact whose checksum was verified when it was fetched", [],
                {"inside_release": True, "artifact_sha256": wanted})
    if manifest is None:
        return (False, "no evidence.json", "evidence.json naming the artifact's sha256",
                "%s has no evidence.json, so nothing ties this evidence to the artifact" % evidence["source"], [], {})
    named = str(manifest.get("artifact_sha256") or "").strip().lower()
    named = named[len("sha256:"):] if named.startswith("sha256:") else named
    if not wanted:
        return (False, "evidence.json names sha256 %s" % (named or "nothing"), "the artifact's sha256",
                "artifact_sha256 is not set, so the evidence cannot be tied to the artifact", ["evidence.json"], {})
    if named != wanted:
        return (False, "evidence.json names sha256 %s" % (named or "nothing"), "sha256 %s" % wanted,
                "the evidence is of another build (its sha256 differs from the artifact's)", ["evidence.json"],
                {"named_sha256": named, "artifact_sha256": wanted})
    return (True, "evidence.json names sha256 %s" % named, "sha256 %s" % wanted,
            "the evidence names this very artifact", ["evidence.json"], {"artifact_sha256": wanted})


def _files(evidence, settings, expected):
    bad, ignored = evidence["malformed"], evidence["ignored"]
    measured = "%d read, %d unusable, %d not a report" % (len(evidence["read"]), len(bad), len(ignored))
    if bad:
        return (False, measured, "every report readable",
                "; ".join("%s: %s" % (b["file"], b["problem"]) for b in bad[:MAX_LISTED]),
                [b["file"] for b in bad], {"malformed": bad[:MAX_LISTED], "ignored": ignored[:MAX_LISTED]})
    reason = "every file was read" + ("; not reports: %s" % ", ".join(i["file"] for i in ignored[:MAX_LISTED])
                                      if ignored else "")
    return True, measured, "every report readable", reason, evidence["read"][:MAX_LISTED], {"ignored": ignored}


def _tests(evidence, settings, expected):
    reports = evidence["reports"]["tests"]
    if not reports:
        return _missing(evidence, "JUnit XML test report")
    total = merge_junit(reports)
    failed = total["failures"] + total["errors"]
    measured = "%d tests: %d passed, %d failed, %d errors, %d skipped (%d without a reason)" % (
        total["tests"], total["passed"], total["failures"], total["errors"], total["skipped"],
        total["skipped_without_reason"])
    threshold = "at most %d failed, at least %d tests%s" % (
        settings["max_failures"], settings["min_tests"],
        ", skips with a reason" if settings["skipped_need_reason"] else "")
    problems = []
    if failed > settings["max_failures"]:
        problems.append("%d failed or errored: %s" % (failed, ", ".join(total["failed_tests"])))
    if total["tests"] < settings["min_tests"]:
        problems.append("only %d tests ran (an empty or partial report)" % total["tests"])
    if settings["skipped_need_reason"] and total["skipped_without_reason"]:
        unexplained = ", ".join(total["unexplained_skips"])
        problems.append("%d skipped without a reason: %s" % (total["skipped_without_reason"], unexplained))
    reason = "; ".join(problems) or "every test passed; every skip gives a reason"
    return not problems, measured, threshold, reason, total["files"], {
        k: total[k] for k in ("tests", "passed", "failures", "errors", "skipped", "skipped_without_reason")}


def _coverage(evidence, settings, expected):
    reports = evidence["reports"]["coverage"]
    if not reports:
        return _missing(evidence, "coverage report (Cobertura or JaCoCo XML, lcov or coverage.py JSON)")
    total = merge_coverage(reports)
    measured = "line %s (%d of %d)" % (_pct(total["line_percent"]), total["lines_covered"], total["lines_valid"])
    if total["branch_percent"] is not None:
        measured += ", branch %s (%d of %d)" % (
            _pct(total["branch_percent"]), total["branches_covered"], total["branches_valid"])
    threshold = "line >= %g%%" % settings["min_line"]
    if settings["min_branch"] is not None:
        threshold += ", branch >= %g%%" % settings["min_branch"]
    problems = []
    # compared on the counts, not on a rounded percentage: 79.996% is under 80%
    if not total["lines_valid"]:
        problems.append("the reports measure no line at all")
    elif total["lines_covered"] * 100.0 < settings["min_line"] * total["lines_valid"]:
        problems.append("line coverage %s is under %g%%" % (_pct(total["line_percent"]), settings["min_line"]))
    if settings["min_branch"] is not None:
        if not total["branches_valid"]:
            problems.append("min_branch is set but no report measures branches (run coverage with --branch)")
        elif total["branches_covered"] * 100.0 < settings["min_branch"] * total["branches_valid"]:
            problems.append("branch coverage %s is under %g%%" % (
                _pct(total["branch_percent"]), settings["min_branch"]))
    reason = "; ".join(problems) or "coverage meets the threshold"
    return not problems, measured, threshold, reason, total["files"], {
        k: total[k] for k in ("lines_valid", "lines_covered", "line_percent", "branches_valid", "branches_covered",
                              "branch_percent")}


def _audit(evidence, settings, expected):
    reports = evidence["reports"]["audit"]
    if not reports:
        return _missing(evidence, "dependency audit report (npm audit, pip-audit, OSV-Scanner or Trivy JSON)")
    counts = {name: 0 for name in (*SEVERITIES, "unknown")}
    blocking, accepted, seen = [], [], set()
    limit = severity_rank(settings["block_severity"])
    for report in reports:
        for found in report["findings"]:
            key = (found["package"], found["id"])
            if key in seen:
                continue
            seen.add(key)
            counts[found["severity"]] += 1
            effective = found["severity"]
            if effective == "unknown":
                effective = settings["unknown_severity"]
            if effective == "ignore" or severity_rank(effective) < limit:
                continue
            entry, status = accepted_risks.match_acceptance(found, evidence["accepted"], expected["today"])
            described = "%s in %s %s (%s)" % (found["id"], found["package"], found["version"], found["severity"])
            if status == "accepted":
                accepted.append({"id": found["id"], "package": found["package"], "severity": found["severity"],
                                 "expires": entry["expires"], "justification": entry["justification"]})
            elif status == "expired":
                blocking.append("%s: accepted until %s, expired" % (described, entry["expires"]))
            elif status == "invalid":
                blocking.append("%s: acceptance not valid (%s)" % (described, entry["problem"]))
            else:
                blocking.append(described)
    total = sum(counts.values())
    measured = "%d vulnerabilities (%s)" % (total, ", ".join("%s %d" % (k, counts[k])
                                                             for k in ("critical", "high", "medium", "low", "unknown")))
    if accepted:
        measured += "; %d accepted" % len(accepted)
    threshold = "none at or above %s unless accepted (unknown counts as %s)" % (
        settings["block_severity"], settings["unknown_severity"])
    if blocking:
        reason = "%d at or above %s: %s" % (len(blocking), settings["block_severity"], "; ".join(blocking[:MAX_LISTED]))
    else:
        reason = "nothing at or above %s%s" % (settings["block_severity"], (" that is not accepted: " + "; ".join(
            "%s in %s accepted until %s (%s)" % (a["id"], a["package"], a["expires"], a["justification"])
            for a in accepted[:MAX_LISTED])) if accepted else "")
    files = [r["file"] for r in reports] + ([evidence["accepted_file"]] if evidence.get("accepted_file") else [])
    return not blocking, measured, threshold, reason, files, {
        "counts": counts, "blocking": blocking[:MAX_LISTED], "accepted": accepted[:MAX_LISTED],
        "tools": sorted({r["tool"] for r in reports})}


def _lint(evidence, settings, expected):
    reports = evidence["reports"]["lint"]
    if not reports:
        return _missing(evidence, "SARIF 2.1.0 lint or type-check log")
    total = merge_sarif(reports)
    measured = "%d errors, %d warnings, %d notes (%s)" % (total["errors"], total["warnings"], total["notes"],
                                                          ", ".join(total["tools"]) or "no tool named")
    threshold = "at most %d errors%s" % (settings["max_errors"], "" if settings["max_warnings"] is None
                                         else ", at most %d warnings" % settings["max_warnings"])
    problems = []
    if total["errors"] > settings["max_errors"]:
        problems.append("%d errors: %s" % (total["errors"], "; ".join(total["first_errors"])))
    if settings["max_warnings"] is not None and total["warnings"] > settings["max_warnings"]:
        problems.append("%d warnings" % total["warnings"])
    return not problems, measured, threshold, "; ".join(problems) or "no error", total["files"], {
        k: total[k] for k in ("errors", "warnings", "notes", "suppressed", "tools")}


def _changelog(evidence, settings, expected):
    changelog, version = evidence["changelog"], expected["version"]
    if changelog is None:
        return (False, "no changelog", "an entry for %s" % version, evidence["changelog_problem"], [], {})
    entry = next((v for v in changelog["versions"] if versions.same_version(v, version)), None)
    newest = ", ".join(changelog["versions"][:3]) or "none"
    if entry is None:
        return (False, "entries for %s" % newest, "an entry for %s" % version,
                "%s has no entry for %s" % (changelog["file"], version), [changelog["file"]],
                {"versions": changelog["versions"][:10]})
    if not changelog["entries"][entry]:
        return (False, "an empty entry for %s" % entry, "an entry for %s" % version,
                "the entry for %s in %s is empty" % (entry, changelog["file"]), [changelog["file"]], {})
    return (True, "an entry for %s (%d lines)" % (entry, changelog["entries"][entry]), "an entry for %s" % version,
            "%s (%s) describes %s" % (changelog["file"], changelog["format"], version), [changelog["file"]], {})


def _version(evidence, settings, expected):
    metadata, version, live = evidence["metadata"], expected["version"], expected.get("live_version") or ""
    threshold = "the artifact's metadata says %s%s" % (version, ", newer than live %s%s" % (
        live, " (forced: may be older)" if expected.get("force") else "") if live else "")
    if metadata is None:
        return (False, "no version in the artifact", threshold,
                "the release declares no version (looked for %s)" % ", ".join(versions.METADATA_FILES), [], {})
    measured = "%s says %s" % (metadata["file"], metadata["version"]) + (", live is %s" % live if live else "")
    details = {"metadata_version": metadata["version"], "live_version": live or None}
    if not versions.same_version(metadata["version"], version):
        return (False, measured, threshold, "deploying %s but the artifact's %s says %s" % (
            version, metadata["file"], metadata["version"]), [metadata["file"]], details)
    if live and versions.compare_versions(version, live) <= 0 and not expected.get("force"):
        return (False, measured, threshold, "%s is not newer than the live %s; set force to deploy it anyway"
                % (version, live), [metadata["file"]], details)
    return True, measured, threshold, "the artifact is version %s" % version, [metadata["file"]], details


def _pct(value):
    return "-" if value is None else "%.2f%%" % value
