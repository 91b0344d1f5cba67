"""Coverage: Cobertura XML, lcov and coverage.py JSON, all written by coverage.py for the same run."""

from __future__ import annotations

import json

import pytest
from harness import evidence as tools

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.coverage_reports import (
    merge_coverage,
    parse_cobertura,
    parse_coverage_py_json,
    parse_lcov,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import MalformedReport
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.reports import read_report


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    paths = tools.coverage_reports(str(tmp_path_factory.mktemp("coverage")))
    out = {}
    for kind, path in paths.items():
        with open(path, "rb") as handle:
            out[kind] = handle.read()
    return out


def test_three_formats_of_one_run_agree(reports):
    cobertura = parse_cobertura("coverage.xml", reports["xml"])
    lcov = parse_lcov("lcov.info", reports["lcov"])
    py_json = parse_coverage_py_json("coverage.json", json.loads(reports["json"]))
    # shop.py: 9 statements, the ValueError line never runs; 4 branch arcs, one never taken
    for summary in (cobertura, lcov, py_json):
        assert (summary["lines_valid"], summary["lines_covered"]) == (9, 8), summary
        assert (summary["branches_valid"], summary["branches_covered"]) == (4, 3), summary
        assert summary["line_percent"] == 88.89 and summary["branch_percent"] == 75.0


def test_reports_are_recognised_by_content(reports):
    assert read_report("a", reports["xml"])[0] == "coverage"
    assert read_report("b", reports["lcov"])[1]["format"] == "lcov"
    assert read_report("c", reports["json"])[1]["format"] == "coverage.py json"


def test_cobertura_with_a_doctype_is_read():
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">\n'
            b'<coverage line-rate="0.5" branch-rate="0" lines-covered="1" lines-valid="2" version="2.1.1"/>')
    assert parse_cobertura("cobertura.xml", data)["line_percent"] == 50.0


def test_cobertura_without_counts_counts_the_line_elements():
    data = (b'<coverage line-rate="0.5"><packages><package><classes><class><lines>'
            b'<line number="1" hits="3"/><line number="2" hits="0"/><line number="3" hits="1"/>'
            b'</lines></class></classes></package></packages></coverage>')
    summary = parse_cobertura("old.xml", data)
    assert (summary["lines_valid"], summary["lines_covered"], summary["branch_percent"]) == (3, 2, None)


def test_lcov_without_totals_counts_da_and_brda_lines():
    text = b"TN:\nSF:a.js\nDA:1,1\nDA:2,0\nDA:2,4\nBRDA:1,0,0,1\nBRDA:1,0,1,-\nend_of_record\n"
    summary = parse_lcov("lcov.info", text)
    assert (summary["lines_valid"], summary["lines_covered"]) == (2, 2)
    assert (summary["branches_valid"], summary["branches_covered"]) == (2, 1)


def test_merge_adds_counts_not_percentages():
    a = parse_lcov("a", b"SF:a\nLF:100\nLH:100\nend_of_record\n")
    b = parse_lcov("b", b"SF:b\nLF:300\nLH:150\nend_of_record\n")
    assert merge_coverage([a, b])["line_percent"] == 62.5


@pytest.mark.parametrize("data, problem", [
    (b"SF:a\nDA:x,1\nend_of_record\n", "line 2: DA has a value that is not a number"),
    (b"SF:a\nDA:1,1\n", "no complete lcov record"),
    (b"SF:a\njust words\nend_of_record\n", "line 2 is not an lcov KEY:VALUE line"),
])
def test_broken_lcov_names_the_problem(data, problem):
    with pytest.raises(MalformedReport, match=problem):
        parse_lcov("lcov.info", data)


# The shape of JaCoCo's report.dtd (DOCTYPE line as jacoco:report writes it); hand-written, JaCoCo does not run here.
JACOCO = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
<report name="shop"><sessioninfo id="ci-1" start="1764600000000" dump="1764600001000"/>
<package name="com/acme/shop"><class name="com/acme/shop/Cart" sourcefilename="Cart.java">
<counter type="LINE" missed="2" covered="18"/></class>
<counter type="INSTRUCTION" missed="10" covered="90"/><counter type="BRANCH" missed="3" covered="5"/>
<counter type="LINE" missed="2" covered="18"/></package>
<counter type="INSTRUCTION" missed="10" covered="90"/><counter type="BRANCH" missed="3" covered="5"/>
<counter type="LINE" missed="2" covered="18"/><counter type="METHOD" missed="0" covered="4"/></report>"""


def test_jacoco_totals_come_from_the_report_counters():
    kind, summary = read_report("jacoco.xml", JACOCO)
    assert kind == "coverage" and summary["format"] == "jacoco"
    assert (summary["lines_valid"], summary["lines_covered"], summary["branches_valid"], summary["branches_covered"]) \
        == (20, 18, 8, 5)
