"""JUnit XML: reports written by pytest here, and by Surefire, jest-junit and go-junit-report (fixtures)."""

from __future__ import annotations

import os

import pytest
from harness import evidence as tools

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import MalformedReport
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.junit import merge_junit, parse_junit

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def _pytest_report(tmp_path, tests):
    with open(tools.pytest_junit(str(tmp_path / "project"), tests), "rb") as handle:
        return handle.read()


def test_green_pytest_run_with_an_explained_skip(tmp_path):
    summary = parse_junit("junit.xml", _pytest_report(tmp_path, tools.GREEN_TESTS))
    assert summary["producer"] == "pytest"
    assert (summary["tests"], summary["passed"], summary["failures"], summary["errors"], summary["skipped"]) == (
        4, 3, 0, 0, 1)
    assert summary["skipped_without_reason"] == 0


def test_red_pytest_run_names_the_failing_test(tmp_path):
    summary = parse_junit("junit.xml", _pytest_report(tmp_path, tools.RED_TESTS))
    assert summary["failures"] == 1 and summary["failed_tests"] == ["test_shop.test_negative_label"]


def test_pytest_skip_without_reason_is_counted(tmp_path):
    summary = parse_junit("junit.xml", _pytest_report(tmp_path, tools.UNEXPLAINED_SKIP_TESTS))
    # pytest writes "unconditional skip" for a bare @pytest.mark.skip: that is no reason a person gave
    assert summary["skipped"] == 2
    assert summary["skipped_without_reason"] == 1 and summary["unexplained_skips"] == ["test_shop.test_refund"]


def test_surefire_report_counts_its_failures():
    summary = parse_junit("TEST-FailingTest.xml", _fixture("surefire-TEST-FailingTest.xml"))
    assert summary["producer"] == "Maven Surefire"
    assert (summary["tests"], summary["failures"]) == (2, 2)


def test_surefire_flaky_failure_that_passed_on_rerun_is_a_pass():
    summary = parse_junit("TEST-FlakyTest.xml", _fixture("surefire-TEST-FlakyTest.xml"))
    # testFlaky failed twice then passed (<flakyFailure>), testStable passed
    assert (summary["tests"], summary["passed"], summary["failures"], summary["errors"]) == (2, 2, 0, 0)


def test_go_junit_report_skip_reason_and_failure():
    summary = parse_junit("go.xml", _fixture("go-junit-report-001.xml"))
    assert summary["producer"] == "go-junit-report"
    assert (summary["tests"], summary["passed"], summary["failures"], summary["skipped"]) == (5, 2, 1, 2)
    assert summary["skipped_without_reason"] == 0 and summary["failed_tests"] == ["package/fail.TestOne"]


def test_jest_junit_report():
    summary = parse_junit("jest.xml", _fixture("jest-junit-readme-example1.xml"))
    assert summary["producer"] == "jest-junit" and summary["tests"] == summary["passed"] == 1


def test_go_skip_now_without_message_has_no_reason():
    data = b'<testsuites><testsuite name="p"><testcase name="TestX" classname="p">' \
           b'<skipped message="Skipped"></skipped></testcase></testsuite></testsuites>'
    assert parse_junit("go.xml", data)["skipped_without_reason"] == 1


def test_jest_skip_has_no_reason():
    data = b'<testsuites name="jest tests"><testsuite name="cart"><testcase classname="cart" name="adds">' \
           b'<skipped/></testcase></testsuite></testsuites>'
    assert parse_junit("jest.xml", data)["skipped_without_reason"] == 1


def test_merge_adds_files_up(tmp_path):
    one = parse_junit("a.xml", _fixture("go-junit-report-001.xml"))
    two = parse_junit("b.xml", _fixture("surefire-TEST-FailingTest.xml"))
    total = merge_junit([one, two])
    assert (total["tests"], total["failures"], total["files"]) == (7, 3, ["a.xml", "b.xml"])


def test_other_xml_is_refused_with_the_file_name():
    with pytest.raises(MalformedReport, match=r"coverage.xml: root element <coverage>"):
        parse_junit("coverage.xml", b'<coverage line-rate="1"/>')
