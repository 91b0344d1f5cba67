# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dependency audits: npm audit, pip-audit, OSV-Scanner and Trivy JSON, as one list of findings.

Every parser returns findings of one shape (``id``, ``aliases``, ``package``, ``version``,
``severity``) with the severity on one scale: ``low`` < ``medium`` < ``high`` < ``critical``, or
``unknown`` when the report does not say (pip-audit never does; OSV records without a rating).
npm's ``moderate`` and GitHub's ``MODERATE`` are ``medium``; a CVSS score maps by the NVD bands.
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import MalformedReport, require

SEVERITIES = ("low", "medium", "high", "critical")
_ALIASES = {"info": "low", "informational": "low", "negligible": "low", "low": "low", "moderate": "medium",
            "medium": "medium", "high": "high", "important": "high", "critical": "critical"}


def normalize_severity(value):
    """One of SEVERITIES or ``unknown``, from a word (any case) or a CVSS base score."""
    if value is None or value == "":
        return "unknown"
    text = str(value).strip().lower()
    if text in _ALIASES:
        return _ALIASES[text]
    try:
        score = float(text)
    except ValueError:
        return "unknown"
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low" if score > 0 else "unknown"


def severity_rank(severity):
    """Order of a severity; ``unknown`` ranks below ``low`` (the policy decides what it counts as)."""
    return SEVERITIES.index(severity) + 1 if severity in SEVERITIES else 0


def audit_format(value):
    """The audit tool that wrote a JSON document, or None when it is no audit report we know."""
    if isinstance(value, dict):
        if value.get("auditReportVersion") is not None and isinstance(value.get("vulnerabilities"), dict):
            return "npm audit"
        if isinstance(value.get("advisories"), dict) and isinstance(value.get("metadata"), dict):
            return "npm audit"
        if isinstance(value.get("dependencies"), list) and all(
                isinstance(d, dict) and "vulns" in d for d in value["dependencies"]):
            return "pip-audit"
        if isinstance(value.get("results"), list) and all(
                isinstance(r, dict) and "packages" in r for r in value["results"]):
            return "OSV-Scanner"
        if "SchemaVersion" in value and ("Results" in value or "ArtifactName" in value):
            return "Trivy"
    if isinstance(value, list) and value and all(isinstance(d, dict) and "vulns" in d and "name" in d for d in value):
        return "pip-audit"  # before pip-audit 2.0 the report was the list of dependencies alone
    return None


def parse_audit(name, value):
    """``{"file", "tool", "findings"}`` of an audit report already parsed from JSON."""
    tool = audit_format(value)
    require(name, tool is not None, "not an npm audit, pip-audit, OSV-Scanner or Trivy JSON report")
    reader = {"npm audit": _npm, "pip-audit": _pip_audit, "OSV-Scanner": _osv, "Trivy": _trivy}[tool]
    try:
        findings = reader(value)
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedReport(name, "%s report has an unexpected structure (%s: %s)"
                              % (tool, type(exc).__name__, exc)) from None
    return {"file": name, "tool": tool, "findings": findings}


def finding(identifier, package, version, severity, aliases=()):
    """One vulnerability of one package."""
    return {"id": str(identifier), "aliases": sorted({str(a) for a in aliases if a} - {str(identifier)}),
            "package": package or "?", "version": version or "", "severity": normalize_severity(severity)}


def _npm(value):
    found = []
    if "advisories" in value and "auditReportVersion" not in value:  # npm 6
        for key, advisory in sorted(value["advisories"].items()):
            aliases = [*list(advisory.get("cves") or []), advisory.get("github_advisory_id")]
            versions = sorted({f.get("version") for f in advisory.get("findings") or [] if f.get("version")})
            found.append(finding(advisory.get("github_advisory_id") or key, advisory.get("module_name"),
                                 ", ".join(versions), advisory.get("severity"), [*aliases, str(key)]))
        return found
    for package, entry in sorted(value["vulnerabilities"].items()):
        # a string in "via" names the dependency the problem comes through; that one has its own entry
        for via in entry.get("via") or []:
            if isinstance(via, dict):
                url = via.get("url") or ""
                identifier = url.rstrip("/").rsplit("/", 1)[-1] if url else via.get("source") or via.get("id")
                found.append(finding(identifier, entry.get("name") or package, entry.get("range"),
                                     via.get("severity") or entry.get("severity"),
                                     [via.get("source"), via.get("id")]))
    return found


def _pip_audit(value):
    dependencies = value if isinstance(value, list) else value["dependencies"]
    found = []
    for dependency in dependencies:
        for vuln in dependency.get("vulns") or []:
            found.append(finding(vuln["id"], dependency.get("name"), dependency.get("version"), None,
                                 vuln.get("aliases") or []))
    return found


def _osv(value):
    found = []
    for result in value["results"]:
        for package in result.get("packages") or []:
            info = package.get("package") or {}
            vulns = {v["id"]: v for v in package.get("vulnerabilities") or []}
            groups = package.get("groups") or [{"ids": [key]} for key in vulns]
            for group in groups:
                ids = list(group.get("ids") or [])
                members = [vulns[i] for i in ids if i in vulns]
                severities = [normalize_severity(group.get("max_severity"))] + [_osv_severity(v) for v in members]
                worst = max(severities, key=severity_rank)
                aliases = set(ids[1:]) | {a for v in members for a in v.get("aliases") or []}
                found.append(finding(ids[0] if ids else "?", info.get("name"), info.get("version"), worst, aliases))
    return found


def _osv_severity(vuln):
    """GitHub's and others' rating in database_specific; the ecosystem's own record otherwise."""
    rating = (vuln.get("database_specific") or {}).get("severity")
    if rating:
        return normalize_severity(rating)
    for affected in vuln.get("affected") or []:
        rating = (affected.get("ecosystem_specific") or {}).get("severity") or \
            (affected.get("database_specific") or {}).get("severity")
        if rating:
            return normalize_severity(rating)
    return "unknown"


def _trivy(value):
    found = []
    for result in value.get("Results") or []:
        for vuln in result.get("Vulnerabilities") or []:
            found.append(finding(vuln["VulnerabilityID"], vuln.get("PkgName"), vuln.get("InstalledVersion"),
                                 vuln.get("Severity"), vuln.get("VendorIDs") or []))
    return found
