# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse untrusted report files without letting them hurt the host.

XML goes through defusedxml: no entity declarations (so no entity-expansion bomb) and no external
reference is ever resolved (no XXE); a bare DOCTYPE line is allowed, because JaCoCo and the
Cobertura plugins write one.  JSON through the standard library; sizes are bounded before anything is parsed
(:mod:`sources` stops reading at the limit).  Every failure is a :class:`MalformedReport` naming the
file, which the policy turns into a blocking finding, never a crash.
"""

from __future__ import annotations

import json

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import DependencyError, EvidenceError

try:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring as _defused_fromstring
except ImportError:  # reported when an XML report is met, with what to install
    _defused_fromstring = None
    DefusedXmlException = ValueError

# Deeper nesting than this is no report a tool writes; refusing it keeps recursion bounded.
MAX_JSON_DEPTH = 64


class MalformedReport(EvidenceError):
    """A report file cannot be used: unreadable, too large, not what its format says."""

    def __init__(self, name, problem):
        super().__init__("%s: %s" % (name, problem), file=name)
        self.name = name
        self.problem = problem


def parse_xml(name, data):
    """The root element of XML data; DTDs, entities and external references are refused."""
    if _defused_fromstring is None:
        raise DependencyError("the Python library defusedxml is needed to read %s safely; "
                              "install it on the host that runs the task (pip install defusedxml)" % name)
    try:
        return _defused_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise MalformedReport(name, "refused unsafe XML (%s)" % type(exc).__name__) from None
    except Exception as exc:  # ElementTree.ParseError and expat errors
        raise MalformedReport(name, "not well-formed XML (%s)" % exc) from None


def parse_json(name, data):
    """The JSON value of data (bytes); refuses invalid UTF-8, bad syntax and absurd nesting."""
    text = decode_text(name, data)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedReport(name, "not valid JSON (%s)" % str(exc)[:200]) from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise MalformedReport(name, "JSON nested deeper than %d levels" % MAX_JSON_DEPTH)
    return value


def decode_text(name, data):
    """data as text (UTF-8, a BOM allowed)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedReport(name, "not UTF-8 text (byte %d)" % exc.start) from None


def _depth(value):
    depth, level = 0, [value]
    while level:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            return depth
        following = []
        for item in level:
            if isinstance(item, dict):
                following.extend(item.values())
            elif isinstance(item, list):
                following.extend(item)
        level = following
    return depth - 1


def require(name, condition, problem):
    """Raise MalformedReport(name, problem) unless condition: a report's structure checks."""
    if not condition:
        raise MalformedReport(name, problem)


def local_name(element):
    """The tag of an XML element without its namespace (``{ns}testsuite`` -> ``testsuite``)."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1]
