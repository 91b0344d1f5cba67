"""Hostile report files are refused cleanly, each naming the file: XML bombs, XXE, deep JSON, big files."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import (
    MalformedReport,
    parse_json,
    parse_xml,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.reports import read_report
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.sources import open_evidence

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<testsuites><testsuite name="&lol3;"/></testsuites>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE testsuites [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuites><testsuite name="&secret;"/></testsuites>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entities_are_refused(data):
    with pytest.raises(MalformedReport, match=r"junit.xml: refused unsafe XML \(EntitiesForbidden\)"):
        parse_xml("junit.xml", data)


def test_broken_xml_names_the_file():
    with pytest.raises(MalformedReport, match=r"junit.xml: not well-formed XML"):
        read_report("junit.xml", b"<testsuites><testsuite>")


def test_deep_json_is_refused():
    with pytest.raises(MalformedReport, match="nested deeper"):
        parse_json("audit.json", b"[" * 100 + b"]" * 100)
    with pytest.raises(MalformedReport, match="not valid JSON"):
        parse_json("audit.json", b"[" * 100000 + b"]" * 100000)


def test_binary_is_not_text():
    with pytest.raises(MalformedReport, match=r"lcov.info: not UTF-8"):
        read_report("lcov.info", b"\xff\xfe\x00binary")


def test_a_file_over_the_limit_is_refused_unread(tmp_path):
    (tmp_path / "big.xml").write_bytes(b"<a>" + b"x" * 5000 + b"</a>")
    source = open_evidence(str(tmp_path))
    with pytest.raises(MalformedReport, match=r"big.xml: larger than 4096 bytes"):
        source.read("big.xml", 4096)
    assert source.read("big.xml", 10000).startswith(b"<a>")
    assert source.read("missing.xml", 10) is None


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "a\\\\b", ""])
def test_manifest_names_must_stay_inside(tmp_path, name):
    with pytest.raises(MalformedReport, match="must be a relative path"):
        open_evidence(str(tmp_path)).read(name, 10)
