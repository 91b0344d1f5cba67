"""SARIF 2.1.0 logs written by ruff here, and the level rules of the standard."""

from __future__ import annotations

import json

import pytest
from harness import evidence as tools

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import MalformedReport
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.reports import read_report
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.sarif import merge_sarif, parse_sarif


def _ruff(tmp_path, source):
    with open(tools.ruff_sarif(str(tmp_path), source), "rb") as handle:
        return handle.read()


def test_ruff_errors_are_counted_with_their_place(tmp_path):
    kind, summary = read_report("ruff.sarif", _ruff(tmp_path, "import os\nx = undefined_name\n"))
    assert kind == "lint" and summary["tools"] == ["ruff"]
    assert summary["errors"] == 2
    assert any(e.endswith("module.py:1 F401 (ruff)") for e in summary["first_errors"]), summary["first_errors"]


def test_clean_ruff_run_has_no_error(tmp_path):
    summary = parse_sarif("ruff.sarif", json.loads(_ruff(tmp_path, "X = 1\n")))
    assert (summary["errors"], summary["warnings"]) == (0, 0)


def _log(results, rules=()):
    return {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "eslint", "rules": list(rules)}},
                                          "results": results}]}


def test_level_comes_from_the_rule_default_then_warning():
    rules = [{"id": "no-eval", "defaultConfiguration": {"level": "error"}}, {"id": "semi"}]
    summary = parse_sarif("eslint.sarif", _log([
        {"ruleId": "no-eval", "ruleIndex": 0, "message": {"text": "eval"}},
        {"ruleId": "semi", "message": {"text": "semi"}},
        {"ruleId": "semi", "level": "note", "message": {"text": "semi"}},
        {"ruleId": "no-eval", "kind": "pass", "message": {"text": "ok"}},
        {"ruleId": "no-eval", "level": "error", "suppressions": [{"kind": "inSource"}], "message": {"text": "x"}},
        {"ruleId": "no-eval", "level": "error", "suppressions": [{"kind": "external", "status": "rejected"}],
         "message": {"text": "y"}},
    ], rules))
    assert (summary["errors"], summary["warnings"], summary["notes"], summary["suppressed"]) == (2, 1, 1, 1)


def test_merge_of_two_tools():
    one = parse_sarif("a", _log([{"level": "error", "message": {"text": "a"}}]))
    two = parse_sarif("b", {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "semgrep"}}, "results": []}]})
    total = merge_sarif([one, two])
    assert total["tools"] == ["eslint", "semgrep"] and total["errors"] == 1


def test_other_sarif_versions_are_refused():
    with pytest.raises(MalformedReport, match=r"only 2.1.0"):
        parse_sarif("old.sarif", {"version": "2.0.0", "runs": []})


def test_a_results_list_that_is_no_list_is_malformed():
    with pytest.raises(MalformedReport, match="unexpected structure"):
        parse_sarif("x.sarif", {"version": "2.1.0", "runs": [{"tool": {}, "results": [1]}]})
