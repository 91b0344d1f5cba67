# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Coverage reports: Cobertura XML, JaCoCo XML, lcov tracefiles and coverage.py JSON, as line and branch counts.

Each parser returns the same summary (``lines_valid``, ``lines_covered``, ``branches_valid``,
``branches_covered`` and the percentages), computed from counts rather than from a producer's
rounded rate wherever the counts are there, so several reports of one build add up exactly.
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import (
    MalformedReport,
    decode_text,
    local_name,
    parse_xml,
    require,
)


def is_cobertura(root):
    """Whether an XML root element is a Cobertura report."""
    return local_name(root) == "coverage" and root.get("line-rate") is not None


def is_jacoco(root):
    """Whether an XML root element is a JaCoCo report (``<report>`` with ``<counter>`` totals)."""
    return local_name(root) == "report" and any(local_name(e) == "counter" for e in root.iter())


def parse_jacoco(name, data):
    """Summary of a JaCoCo XML report (``jacoco:report``, ``jacocoTestReport``, ``jacococli report --xml``)."""
    return summarize_jacoco(name, parse_xml(name, data))


def summarize_jacoco(name, root):
    """Summary from the report's own LINE and BRANCH counters (the packages' when the report has none)."""
    require(name, is_jacoco(root), "root element is not a JaCoCo <report> with counters")
    counters = [e for e in root if local_name(e) == "counter"]
    if not counters:
        counters = [c for package in root if local_name(package) == "package"
                    for c in package if local_name(c) == "counter"]
    totals = {}
    for counter in counters:
        kind = counter.get("type")
        missed, covered = _int(name, counter, "missed") or 0, _int(name, counter, "covered") or 0
        seen = totals.setdefault(kind, [0, 0])
        seen[0] += missed + covered
        seen[1] += covered
    lines = totals.get("LINE", [0, 0])
    branches = totals.get("BRANCH")
    return summary(name, "jacoco", lines[0], lines[1], branches[0] if branches and branches[0] else None,
                   branches[1] if branches and branches[0] else None)


def is_coverage_py_json(value):
    """Whether a JSON document is coverage.py's ``coverage json`` report."""
    return isinstance(value, dict) and isinstance(value.get("totals"), dict) and isinstance(value.get("meta"), dict) \
        and "num_statements" in value["totals"]


def is_lcov(text):
    """Whether text looks like an lcov tracefile (records of ``SF:`` ... ``end_of_record``)."""
    lines = [line.strip() for line in text.splitlines()[:50] if line.strip()]
    return bool(lines) and any(line.startswith("SF:") for line in lines) and \
        all(":" in line or line == "end_of_record" for line in lines)


def summary(name, fmt, lines_valid, lines_covered, branches_valid=None, branches_covered=None):
    """The common summary; a percentage is None when there is nothing to measure."""
    return {"file": name, "format": fmt, "lines_valid": lines_valid, "lines_covered": lines_covered,
            "line_percent": _percent(lines_covered, lines_valid),
            "branches_valid": branches_valid, "branches_covered": branches_covered,
            "branch_percent": _percent(branches_covered, branches_valid)}


def parse_cobertura(name, data):
    """Summary of a Cobertura XML report (coverage.py, JaCoCo converters, Istanbul, gocover-cobertura)."""
    return summarize_cobertura(name, parse_xml(name, data))


def summarize_cobertura(name, root):
    """Summary of an already parsed Cobertura root element."""
    require(name, is_cobertura(root), "root element is not a Cobertura <coverage line-rate=...>")
    lines_valid = _int(name, root, "lines-valid")
    lines_covered = _int(name, root, "lines-covered")
    if lines_valid is None or lines_covered is None:
        # old writers give rates only: count the <line> elements instead
        lines = [e for e in root.iter() if local_name(e) == "line"]
        lines_valid = len(lines)
        lines_covered = sum(1 for e in lines if _hits(name, e) > 0)
    branches_valid = _int(name, root, "branches-valid")
    branches_covered = _int(name, root, "branches-covered")
    if not branches_valid:
        branches_valid = branches_covered = None
    return summary(name, "cobertura", lines_valid, lines_covered, branches_valid, branches_covered)


def parse_lcov(name, data):
    """Summary of an lcov tracefile (genhtml's input: c8, Istanbul, coverage lcov, geninfo)."""
    return summarize_lcov(name, decode_text(name, data))


def summarize_lcov(name, text):
    """Summary of lcov text: LF/LH and BRF/BRH per record, or the DA/BRDA lines when they are absent."""
    lines_valid = lines_covered = branches_valid = branches_covered = 0
    records = 0
    record = _new_record()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line == "end_of_record":
            found = _close_record(record)
            lines_valid += found[0]
            lines_covered += found[1]
            branches_valid += found[2]
            branches_covered += found[3]
            records += 1
            record = _new_record()
            continue
        key, sep, value = line.partition(":")
        require(name, sep, "line %d is not an lcov KEY:VALUE line" % number)
        try:
            _read_lcov_line(record, key, value)
        except ValueError:
            raise MalformedReport(name, "line %d: %s has a value that is not a number" % (number, key)) from None
    require(name, records > 0, "no complete lcov record (SF: ... end_of_record)")
    return summary(name, "lcov", lines_valid, lines_covered, branches_valid or None,
                   branches_covered if branches_valid else None)


def parse_coverage_py_json(name, value):
    """Summary of coverage.py's JSON report (``coverage json``), from its totals."""
    totals = value["totals"]
    try:
        lines_valid, lines_covered = int(totals["num_statements"]), int(totals["covered_lines"])
        branches_valid = int(totals["num_branches"]) if "num_branches" in totals else None
        branches_covered = int(totals["covered_branches"]) if "covered_branches" in totals else None
    except (KeyError, TypeError, ValueError):
        raise MalformedReport(name, "coverage.py totals lack num_statements/covered_lines as numbers") from None
    if not branches_valid:
        branches_valid = branches_covered = None
    return summary(name, "coverage.py json", lines_valid, lines_covered, branches_valid, branches_covered)


def merge_coverage(summaries):
    """One summary of several reports of the same build (e.g. one per package)."""
    lines_valid = sum(s["lines_valid"] for s in summaries)
    lines_covered = sum(s["lines_covered"] for s in summaries)
    with_branches = [s for s in summaries if s["branches_valid"]]
    merged = summary(", ".join(s["file"] for s in summaries), "+".join(sorted({s["format"] for s in summaries})),
                     lines_valid, lines_covered,
                     sum(s["branches_valid"] for s in with_branches) if with_branches else None,
                     sum(s["branches_covered"] for s in with_branches) if with_branches else None)
    merged["files"] = [s["file"] for s in summaries]
    return merged


def _new_record():
    return {"LF": None, "LH": None, "BRF": None, "BRH": None, "DA": {}, "BRDA": [0, 0]}


def _read_lcov_line(record, key, value):
    if key in ("LF", "LH", "BRF", "BRH"):
        record[key] = int(value)
    elif key == "DA":
        parts = value.split(",")
        line, hits = int(parts[0]), int(parts[1])
        record["DA"][line] = max(record["DA"].get(line, 0), hits)
    elif key == "BRDA":
        parts = value.split(",")
        record["BRDA"][0] += 1
        if len(parts) >= 4 and parts[3] not in ("-", "0"):
            int(parts[3])
            record["BRDA"][1] += 1


def _close_record(record):
    """(lines valid, lines covered, branches valid, branches covered) of one lcov record."""
    if record["LF"] is not None and record["LH"] is not None:
        lines = (record["LF"], record["LH"])
    else:
        lines = (len(record["DA"]), sum(1 for hits in record["DA"].values() if hits > 0))
    if record["BRF"] is not None and record["BRH"] is not None:
        branches = (record["BRF"], record["BRH"])
    else:
        branches = tuple(record["BRDA"])
    return lines + branches


def _percent(covered, valid):
    if not valid:
        return None
    return round(100.0 * covered / valid, 2)


def _int(name, element, attribute):
    value = element.get(attribute)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        raise MalformedReport(name, "%s=%r is not a number" % (attribute, value)) from None


def _hits(name, element):
    try:
        return int(element.get("hits") or 0)
    except ValueError:
        raise MalformedReport(name, "<line hits=%r> is not a number" % element.get("hits")) from None
