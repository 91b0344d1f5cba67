# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Changelogs: which versions have an entry, in Keep a Changelog Markdown or reStructuredText.

Markdown: a heading (``## [1.4.2] - 2026-11-30``, ``## 1.4.2``, ``# v1.4.2``) whose first word is a
version opens the entry of that version (``[Unreleased]`` is no version).  reStructuredText: a
section title (``v1.4.2``, ``1.4.2 (2026-11-30)``) over a line of ``=``, ``-``, ``~``..., as
antsibull-changelog and towncrier write them.  An entry counts when it has some text before the
next version's title.
"""

from __future__ import annotations

import re

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import decode_text, require

_VERSION_WORD = re.compile(r"^\[?v?(\d+(?:\.\d+)*(?:[-+.]?[0-9A-Za-z.+-]*)?)\]?$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+.:_])\1{2,}\s*$")


def heading_version(title):
    """The version a heading names (``[1.4.2] - 2026-11-30`` -> ``1.4.2``), or None."""
    words = title.replace("Version ", "").replace("version ", "").split()
    if not words:
        return None
    match = _VERSION_WORD.match(words[0].rstrip(":"))
    return match.group(1) if match else None


def parse_changelog(name, data):
    """``{"file", "format", "versions": [...], "entries": {version: lines of text}}``, newest first."""
    text = decode_text(name, data)
    fmt = "rst" if name.lower().endswith((".rst", ".txt")) or _looks_rst(text) else "markdown"
    sections = _rst_sections(text) if fmt == "rst" else _markdown_sections(text)
    entries = {}
    for version, body in sections:
        lines = [line for line in body if line.strip() and not _RST_UNDERLINE.match(line.strip())]
        entries.setdefault(version, len(lines))
    require(name, entries, "no version entry found (expected headings like '## [1.4.2] - 2026-11-30' "
                           "or a reStructuredText title 'v1.4.2')")
    return {"file": name, "format": "Keep a Changelog" if fmt == "markdown" else "reStructuredText",
            "versions": [v for v, _body in sections if v in entries][:50], "entries": entries}


def _looks_rst(text):
    lines = text.splitlines()
    return any(_RST_UNDERLINE.match(lines[i + 1].strip()) and heading_version(lines[i].strip())
               for i in range(len(lines) - 1) if lines[i].strip())


def _markdown_sections(text):
    sections, current = [], None
    for line in text.splitlines():
        match = _MD_HEADING.match(line)
        if match:
            version = heading_version(match.group(2))
            level = len(match.group(1))
            if version:
                current = (version, [], level)
                sections.append(current)
                continue
            if current is not None and level <= current[2]:
                current = None
                continue
        if current is not None:
            current[1].append(line)
    return [(version, body) for version, body, _level in sections]


def _rst_sections(text):
    lines = text.splitlines()
    sections, current = [], None
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and _RST_UNDERLINE.match(following.strip()) and len(following.strip()) >= len(line.strip()):
            version = heading_version(line.strip())
            if version:
                current = (version, [])
                sections.append(current)
                index += 2
                continue
        if current is not None:
            current[1].append(line)
        index += 1
    return sections
