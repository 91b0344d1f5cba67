# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recognise a report file by its content and hand it to its parser.

CI tools name their files as they like (``junit.xml``, ``TEST-com.acme.ShopTest.xml``,
``results.sarif``, ``lcov.info``), so the kind comes from what is inside: the XML root element,
the JSON structure, or lcov's ``SF:`` records.
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence import audit, coverage_reports, junit, sarif
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import (
    decode_text,
    local_name,
    parse_json,
    parse_xml,
)

# The kinds a file can be, each judged by one rule of the policy.
KINDS = ("tests", "coverage", "audit", "lint")


def read_report(name, data):
    """``(kind, summary)`` of a report file, or ``(None, what it is)`` when it is no report we judge.

    Raises MalformedReport when the file is of a known syntax but broken (bad XML or JSON, a
    JUnit report whose counts are not numbers...).
    """
    head = (data[3:] if data.startswith(b"\xef\xbb\xbf") else data).lstrip()[:1]
    if head == b"<":
        root = parse_xml(name, data)
        if junit.is_junit(root):
            return "tests", junit.summarize_junit(name, root)
        if coverage_reports.is_cobertura(root):
            return "coverage", coverage_reports.summarize_cobertura(name, root)
        if coverage_reports.is_jacoco(root):
            return "coverage", coverage_reports.summarize_jacoco(name, root)
        return None, "XML with root <%s>" % local_name(root)
    if head in (b"{", b"["):
        value = parse_json(name, data)
        if sarif.is_sarif(value):
            return "lint", sarif.parse_sarif(name, value)
        if coverage_reports.is_coverage_py_json(value):
            return "coverage", coverage_reports.parse_coverage_py_json(name, value)
        if audit.audit_format(value):
            return "audit", audit.parse_audit(name, value)
        return None, "JSON of no known report format"
    text = decode_text(name, data)
    if coverage_reports.is_lcov(text):
        return "coverage", coverage_reports.summarize_lcov(name, text)
    return None, "text of no known report format"
