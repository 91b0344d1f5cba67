# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JUnit XML test reports, as pytest, Maven Surefire, jest-junit and go-junit-report write them.

The producers agree on the elements (``testsuites`` > ``testsuite`` > ``testcase`` with a
``failure``, ``error`` or ``skipped`` child) but not on the counters of the suites (jest-junit
and go-junit-report omit some, Surefire's can disagree with its cases after reruns), so every count
here comes from the test cases themselves.  A skip's reason is its ``message`` attribute or its
text (go-junit-report puts the ``t.Skip`` output there).
"""

from __future__ import annotations

import re

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import (
    local_name,
    parse_xml,
    require,
)

# Names listed in a summary; the counts are always complete.
MAX_NAMES = 10
# What the tools write when nobody gave a reason (pytest's bare skip mark, go-junit-report's message).
GENERIC_SKIP_MESSAGES = ("", "skip", "skipped", "unconditional skip")
_LOCATION_PREFIX = re.compile(r"^\S+:\d+:\s*")


def is_junit(root):
    """Whether an XML root element is a JUnit report."""
    return local_name(root) in ("testsuites", "testsuite")


def parse_junit(name, data):
    """Summary of one JUnit XML file: counts, and the first failing and unexplained skipped tests."""
    root = parse_xml(name, data)
    require(name, is_junit(root), "root element <%s> is not <testsuites> or <testsuite>" % local_name(root))
    return summarize_junit(name, root)


def summarize_junit(name, root):
    """The summary of an already parsed JUnit root element (see :func:`parse_junit`)."""
    summary = {"file": name, "producer": _producer(root), "tests": 0, "passed": 0, "failures": 0, "errors": 0,
               "skipped": 0, "skipped_without_reason": 0, "failed_tests": [], "unexplained_skips": []}
    for case in root.iter():
        if local_name(case) != "testcase":
            continue
        summary["tests"] += 1
        outcome, reason = _outcome(case)
        label = _label(case)
        if outcome == "failure" or outcome == "error":
            summary["failures" if outcome == "failure" else "errors"] += 1
            _note(summary["failed_tests"], label)
        elif outcome == "skipped":
            summary["skipped"] += 1
            if not reason:
                summary["skipped_without_reason"] += 1
                _note(summary["unexplained_skips"], label)
        else:
            summary["passed"] += 1
    return summary


def merge_junit(summaries):
    """One summary of several JUnit files (CI often writes one per module or package)."""
    total = {"files": [s["file"] for s in summaries], "tests": 0, "passed": 0, "failures": 0, "errors": 0,
             "skipped": 0, "skipped_without_reason": 0, "failed_tests": [], "unexplained_skips": []}
    for summary in summaries:
        for key in ("tests", "passed", "failures", "errors", "skipped", "skipped_without_reason"):
            total[key] += summary[key]
        for key in ("failed_tests", "unexplained_skips"):
            for label in summary[key]:
                _note(total[key], label)
    return total


def _outcome(case):
    """(``failure``/``error``/``skipped``/``passed``, reason) of a test case."""
    found = {}
    for child in case:
        tag = local_name(child)
        if tag in ("failure", "error", "skipped") and tag not in found:
            found[tag] = child
    for tag in ("error", "failure"):
        if tag in found:
            return tag, None
    if "skipped" in found:
        return "skipped", skip_reason(found["skipped"])
    return "passed", None


def skip_reason(element):
    """The reason a ``<skipped>`` element gives, or "" when it gives only a tool's default wording.

    The message counts first; go-junit-report always says "Skipped" there and puts the
    ``t.Skip`` output (``file.go:6: reason``) in the text, pytest repeats its reason there.
    """
    message = (element.get("message") or "").strip()
    if message.lower() not in GENERIC_SKIP_MESSAGES:
        return message
    lines = (element.text or "").strip().splitlines()
    text = _LOCATION_PREFIX.sub("", lines[0].strip()) if lines else ""
    return "" if text.lower() in GENERIC_SKIP_MESSAGES else text


def _label(case):
    classname, test = case.get("classname") or "", case.get("name") or "?"
    return "%s.%s" % (classname, test) if classname else test


def _note(names, label):
    if len(names) < MAX_NAMES:
        names.append(label)


def _producer(root):
    """The tool that most likely wrote the report, for the report's reader (never for a decision)."""
    suites = [root] if local_name(root) == "testsuite" else [e for e in root if local_name(e) == "testsuite"]
    names = [root.get("name") or ""] + [suite.get("name") or "" for suite in suites]
    properties = {p.get("name") for p in root.iter() if local_name(p) == "property"}
    if "pytest" in names or any(n.startswith("pytest") for n in names):
        return "pytest"
    if root.get("name") == "jest tests":
        return "jest-junit"
    if "go.version" in properties:
        return "go-junit-report"
    if any(str(p).startswith(("java.", "surefire.", "maven.")) for p in properties):
        return "Maven Surefire"
    return "JUnit XML"
