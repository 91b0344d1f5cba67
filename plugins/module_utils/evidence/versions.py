# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The version an artifact says it is, and how two versions compare.

The artifact's own metadata is the first of these files found at the release's root:
``VERSION``, ``package.json`` (``version``), ``pyproject.toml`` (``[project]`` or
``[tool.poetry]`` ``version``), ``pom.xml`` (``<project><version>``).
"""

from __future__ import annotations

import json
import re

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import (
    MalformedReport,
    decode_text,
    local_name,
    parse_xml,
)

METADATA_FILES = ("VERSION", "package.json", "pyproject.toml", "pom.xml")


def metadata_version(name, data):
    """The version a metadata file (one of METADATA_FILES) declares, or None when it declares none."""
    base = name.rsplit("/", 1)[-1]
    if base == "VERSION":
        text = decode_text(name, data).strip()
        return text.splitlines()[0].strip() if text else None
    if base == "package.json":
        try:
            value = json.loads(decode_text(name, data))
        except ValueError as exc:
            raise MalformedReport(name, "not valid JSON (%s)" % exc) from None
        return str(value["version"]) if isinstance(value, dict) and value.get("version") else None
    if base == "pyproject.toml":
        return _pyproject_version(name, decode_text(name, data))
    if base == "pom.xml":
        root = parse_xml(name, data)
        for child in root:
            if local_name(child) == "version" and (child.text or "").strip():
                return child.text.strip()
        return None
    raise MalformedReport(name, "is not one of %s" % ", ".join(METADATA_FILES))


def _pyproject_version(name, text):
    """``[project]`` or ``[tool.poetry]`` version; tomllib (Python 3.11+), else the line itself."""
    try:
        import tomllib
    except ImportError:  # Python 3.9/3.10 on the managed node: read the simple, common form
        section = None
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("["):
                section = stripped.strip("[] ")
            match = re.match(r'^version\s*=\s*["\']([^"\']+)["\']', stripped)
            if match and section in ("project", "tool.poetry"):
                return match.group(1)
        return None
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MalformedReport(name, "not valid TOML (%s)" % exc) from None
    for table in (value.get("project") or {}, (value.get("tool") or {}).get("poetry") or {}):
        if table.get("version"):
            return str(table["version"])
    return None


def same_version(left, right):
    """Whether two spellings name one version (``v1.4.2`` and ``1.4.2``)."""
    return _strip(left) == _strip(right)


def compare_versions(left, right):
    """-1, 0 or 1 as ``left`` is older, equal or newer than ``right``.

    PEP 440 when both parse as such (packaging), otherwise SemVer-like: numeric parts compared as
    numbers, a pre-release (``1.4.2-rc.1``) older than its release.
    """
    left, right = _strip(left), _strip(right)
    try:
        from packaging.version import InvalidVersion, Version

        try:
            a, b = Version(left), Version(right)
            return (a > b) - (a < b)
        except InvalidVersion:
            pass
    except ImportError:
        pass
    a, b = _semver_key(left), _semver_key(right)
    return (a > b) - (a < b)


def _strip(version):
    text = str(version or "").strip()
    return text[1:] if text[:1] in ("v", "V") and text[1:2].isdigit() else text


def _semver_key(version):
    core, _sep, pre = version.partition("+")[0].partition("-")
    numbers = tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.]", core))
    pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    # a release sorts after all its pre-releases
    return numbers + (0,) * (8 - len(numbers)), (1,) if not pre else (0, *pre_key)
