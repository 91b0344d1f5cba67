"""Changelog entries (Keep a Changelog, reStructuredText) and the version an artifact declares."""

from __future__ import annotations

import json
import os

import pytest
from harness import evidence as tools

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.changelog import heading_version, parse_changelog
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import MalformedReport
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.versions import (
    compare_versions,
    metadata_version,
    same_version,
)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))


def test_keep_a_changelog():
    summary = parse_changelog("CHANGELOG.md", tools.changelog("1.4.2", "1.4.1").encode())
    assert summary["format"] == "Keep a Changelog"
    assert summary["versions"] == ["1.4.2", "1.4.1"] and summary["entries"]["1.4.2"] == 2


def test_our_own_rst_changelog_is_read():
    # antsibull-changelog's CHANGELOG.rst of this very collection
    with open(os.path.join(REPO, "CHANGELOG.rst"), "rb") as handle:
        summary = parse_changelog("CHANGELOG.rst", handle.read())
    assert summary["format"] == "reStructuredText" and summary["versions"], summary
    assert all(summary["entries"][v] > 0 for v in summary["versions"])


def test_rst_titles():
    text = b"Changes\n=======\n\nv2.0.0\n------\n\n* Breaking: new API.\n\n1.9.0 (2026-01-02)\n------------------\n\n"
    summary = parse_changelog("CHANGES.rst", text)
    assert summary["versions"] == ["2.0.0", "1.9.0"] and summary["entries"] == {"2.0.0": 1, "1.9.0": 0}


def test_a_changelog_without_versions_is_malformed():
    with pytest.raises(MalformedReport, match=r"CHANGELOG.md: no version entry found"):
        parse_changelog("CHANGELOG.md", b"# Changelog\n\n## [Unreleased]\n- things\n")


@pytest.mark.parametrize("title, version", [("[1.4.2] - 2026-11-30", "1.4.2"), ("v1.4.2", "1.4.2"),
                                            ("Version 2.0.0-rc.1", "2.0.0-rc.1"), ("[Unreleased]", None),
                                            ("Added", None), ("1.4.2 (2026-11-30)", "1.4.2")])
def test_heading_version(title, version):
    assert heading_version(title) == version


@pytest.mark.parametrize("name, data, version", [
    ("VERSION", b"1.4.2\n", "1.4.2"),
    ("package.json", json.dumps({"name": "shop", "version": "1.4.2"}).encode(), "1.4.2"),
    ("pyproject.toml", b'[project]\nname = "shop"\nversion = "1.4.2"\n', "1.4.2"),
    ("pyproject.toml", b'[tool.poetry]\nname = "shop"\nversion = "1.4.2"\n', "1.4.2"),
    ("pom.xml", b'<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
                b'<parent><version>9</version></parent><version>1.4.2</version></project>', "1.4.2"),
    ("pyproject.toml", b'[project]\nname = "shop"\ndynamic = ["version"]\n', None),
])
def test_metadata_version(name, data, version):
    assert metadata_version(name, data) == version


@pytest.mark.parametrize("left, right, order", [("1.10.0", "1.9.0", 1), ("1.4.2", "v1.4.2", 0),
                                                ("2.0.0rc1", "2.0.0", -1),
                                                ("2.0.0-rc.1", "2.0.0", -1), ("2026.12.1", "2026.11.30", 1),
                                                ("1.0.0-alpha+build.5", "1.0.0-beta", -1)])
def test_compare_versions(left, right, order):
    assert compare_versions(left, right) == order


def test_same_version():
    assert same_version("v1.4.2", "1.4.2") and not same_version("1.4.2", "1.4.3")


@pytest.mark.parametrize("older, newer", [("1.0.0-rc.1", "1.0.0"), ("1.0.0-alpha", "1.0.0-alpha.1"),
                                          ("1.0.0-alpha.2", "1.0.0-alpha.10"), ("1.9", "1.10"), ("1.0", "1.0.1")])
def test_semver_order_without_packaging(older, newer):
    from ansible_collections.shipyard.deploy.plugins.module_utils.evidence import versions

    assert versions._semver_key(older) < versions._semver_key(newer)
