# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SARIF 2.1.0 logs of linters and type checkers (ruff, ESLint, Semgrep, mypy through a converter...).

A result's level is its own ``level``, else its rule's ``defaultConfiguration.level``, else
``warning`` (SARIF 2.1.0, 3.27.10).  Results whose ``kind`` is not ``fail`` (a passing check,
``notApplicable``...) and results suppressed in the source (a suppression not ``rejected`` nor
``underReview``) count for nothing.
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import MalformedReport, require

MAX_LOCATIONS = 10


def is_sarif(value):
    """Whether a JSON document is a SARIF log."""
    return isinstance(value, dict) and isinstance(value.get("runs"), list) and \
        (str(value.get("version", "")).startswith("2.") or "sarif" in str(value.get("$schema", "")).lower())


def parse_sarif(name, value):
    """Counts of errors, warnings and notes of a SARIF log, per tool, with the first error locations."""
    require(name, is_sarif(value), "not a SARIF log (no runs)")
    require(name, str(value.get("version")) == "2.1.0", "SARIF version %r; only 2.1.0 is read" % value.get("version"))
    summary = {"file": name, "tools": [], "errors": 0, "warnings": 0, "notes": 0, "suppressed": 0, "first_errors": []}
    try:
        for run in value["runs"]:
            _read_run(run, summary)
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedReport(name, "SARIF log has an unexpected structure (%s: %s)"
                              % (type(exc).__name__, exc)) from None
    return summary


def merge_sarif(summaries):
    """One summary of several SARIF logs."""
    total = {"files": [s["file"] for s in summaries], "tools": [], "errors": 0, "warnings": 0, "notes": 0,
             "suppressed": 0, "first_errors": []}
    for summary in summaries:
        for key in ("errors", "warnings", "notes", "suppressed"):
            total[key] += summary[key]
        total["tools"].extend(t for t in summary["tools"] if t not in total["tools"])
        total["first_errors"].extend(summary["first_errors"][:MAX_LOCATIONS - len(total["first_errors"])])
    return total


def _read_run(run, summary):
    driver = (run.get("tool") or {}).get("driver") or {}
    tool = driver.get("name") or "unknown tool"
    if tool not in summary["tools"]:
        summary["tools"].append(tool)
    rules = driver.get("rules") or []
    defaults_by_id = {r.get("id"): _default_level(r) for r in rules if isinstance(r, dict)}
    for result in run.get("results") or []:
        if result.get("kind", "fail") != "fail":
            continue
        if _suppressed(result):
            summary["suppressed"] += 1
            continue
        level = result.get("level") or _rule_level(result, rules, defaults_by_id) or "warning"
        if level == "error":
            summary["errors"] += 1
            if len(summary["first_errors"]) < MAX_LOCATIONS:
                summary["first_errors"].append(_where(result, tool))
        elif level == "warning":
            summary["warnings"] += 1
        elif level == "note":
            summary["notes"] += 1


def _default_level(rule):
    return (rule.get("defaultConfiguration") or {}).get("level")


def _rule_level(result, rules, defaults_by_id):
    index = result.get("ruleIndex")
    if isinstance(index, int) and 0 <= index < len(rules) and isinstance(rules[index], dict):
        return _default_level(rules[index])
    return defaults_by_id.get(result.get("ruleId"))


def _suppressed(result):
    return any(s.get("status") not in ("rejected", "underReview") for s in result.get("suppressions") or [])


def _where(result, tool):
    """``path:line rule`` of a result, for the reader of the report."""
    location = ((result.get("locations") or [{}])[0].get("physicalLocation") or {})
    path = (location.get("artifactLocation") or {}).get("uri") or "?"
    line = (location.get("region") or {}).get("startLine")
    return "%s%s %s (%s)" % (path, ":%s" % line if line else "", result.get("ruleId") or "", tool)
