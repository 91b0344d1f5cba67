# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release_evidence module's service: read what CI published for an artifact, then judge it.

Nothing here writes anything, so check mode runs the very same code and ``changed`` is always
false.  A blocked verdict is a result, not a crash: the module fails with every rule's record
(or returns it, with ``fail_on_block=false``, so that a role can record it before stopping).
"""

from __future__ import annotations

import datetime
import os

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, EvidenceError
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence import judgement, policy, versions
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.accepted_risks import (
    check_entry,
    parse_accepted_risks,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.changelog import parse_changelog
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import MalformedReport, parse_json
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.reports import KINDS, read_report
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.sources import (
    MANIFEST,
    MAX_FILES,
    check_name,
    open_evidence,
    release_files,
)

CHANGELOG_NAMES = ("CHANGELOG.md", "CHANGELOG.rst", "CHANGES.md", "CHANGES.rst", "HISTORY.md", "HISTORY.rst")


def collect_evidence(source, release_dir, max_bytes, changelog=None, accepted_risks_file=None, accepted_risks=()):
    """Everything the rules look at, read from ``source`` and the release; malformed files are noted."""
    evidence = {"source": source.description, "inside_release": source.inside_release, "manifest": None,
                "reports": {kind: [] for kind in KINDS}, "malformed": [], "ignored": [], "read": [],
                "changelog": None, "changelog_problem": None, "metadata": None, "accepted": [],
                "accepted_file": None}
    names = _evidence_names(source, evidence, max_bytes)
    for name in names:
        try:
            data = source.read(name, max_bytes)
            if data is None:
                raise MalformedReport(name, "listed in %s but missing" % MANIFEST)
            kind, summary = read_report(name, data)
        except MalformedReport as exc:
            evidence["malformed"].append({"file": exc.name, "problem": exc.problem})
            continue
        evidence["read"].append(name)
        if kind is None:
            evidence["ignored"].append({"file": name, "what": summary})
        else:
            evidence["reports"][kind].append(summary)
    own = release_files(release_dir) if release_dir and os.path.isdir(release_dir) else None
    _read_changelog(evidence, own, source, max_bytes, changelog)
    _read_metadata(evidence, own, max_bytes)
    _read_accepted(evidence, own, max_bytes, accepted_risks_file, accepted_risks)
    return evidence


def _evidence_names(source, evidence, max_bytes):
    try:
        data = source.read(MANIFEST, max_bytes)
        manifest = parse_json(MANIFEST, data) if data is not None else None
        if manifest is not None and not isinstance(manifest, dict):
            raise MalformedReport(MANIFEST, "must be a JSON object (artifact_sha256, version, files)")
        listed = manifest.get("files") if manifest else None
        if listed is not None and not isinstance(listed, list):
            raise MalformedReport(MANIFEST, "files must be a list of file names")
        if listed is not None and len(listed) > MAX_FILES:
            raise MalformedReport(MANIFEST, "lists %d files, more than the %d read" % (len(listed), MAX_FILES))
        names = [check_name(name) for name in listed] if listed is not None else None
    except MalformedReport as exc:
        evidence["malformed"].append({"file": exc.name, "problem": exc.problem})
        return []
    evidence["manifest"] = manifest
    if names is not None:
        return names
    if not source.listable:
        evidence["malformed"].append({"file": MANIFEST, "problem": "a URL cannot be listed: publish evidence.json "
                                                                   "with the files it holds (files: [...])"})
        return []
    names = [name for name, _size in source.list() if name != MANIFEST]
    if len(names) > MAX_FILES:
        # a gate that judged only some of the reports could pass a red build
        evidence["malformed"].append({"file": source.description, "problem": "%d files, more than the %d read; "
                                      "publish only the reports (or list them in %s)" % (len(names), MAX_FILES,
                                                                                         MANIFEST)})
        return []
    return names


def _read_changelog(evidence, own, source, max_bytes, changelog):
    places = [own, source] if own is not None else [source]
    names = [changelog] if changelog else list(CHANGELOG_NAMES)
    for place in places:
        for name in names:
            try:
                data = place.read(name, max_bytes)
                if data is None:
                    continue
                evidence["changelog"] = parse_changelog(name, data)
            except MalformedReport as exc:
                evidence["malformed"].append({"file": exc.name, "problem": exc.problem})
                evidence["changelog_problem"] = "%s is unusable: %s" % (exc.name, exc.problem)
            return
    evidence["changelog_problem"] = "no %s in the release or the evidence" % " or ".join(names)


def _read_metadata(evidence, own, max_bytes):
    if own is None:
        return
    for name in versions.METADATA_FILES:
        try:
            data = own.read(name, max_bytes)
            found = versions.metadata_version(name, data) if data is not None else None
        except MalformedReport as exc:
            evidence["malformed"].append({"file": exc.name, "problem": exc.problem})
            continue
        if found:
            evidence["metadata"] = {"file": name, "version": found}
            return


def _read_accepted(evidence, own, max_bytes, name, inline):
    evidence["accepted"] = [check_entry(entry) for entry in inline or []]
    if not name or own is None:
        return
    try:
        data = own.read(name, max_bytes)
        if data is None:
            return
        evidence["accepted"] += parse_accepted_risks(name, data)
        evidence["accepted_file"] = name
    except MalformedReport as exc:
        evidence["malformed"].append({"file": exc.name, "problem": exc.problem})


def run_release_evidence(params, check_mode, diff_mode, today=None):
    """Service of the release_evidence module (read-only: check mode is the same run)."""
    enforce = policy.resolve_enforcement(params.get("enforce"), params.get("environment"))
    version = str(params.get("version") or "")
    base = {"changed": False, "enforce": enforce, "version": version, "environment": params.get("environment")}
    if enforce == "off":
        return dict(base, verdict="off", blocked=False, rules=[], warnings=[],
                    msg="release evidence not checked (enforce off in %s)" % (params.get("environment") or "-"))
    if not version:
        raise ConfigurationError("version is required to judge release evidence (the version being deployed)")
    rules_policy = policy.merge_policy(params.get("policy"), enforce)
    checksum = str(params.get("artifact_sha256") or "").strip().lower()
    checksum = checksum[len("sha256:"):] if checksum.startswith("sha256:") else checksum
    source = open_evidence(params.get("location") or "evidence", params.get("release_dir"), params)
    max_bytes = int(params.get("max_file_size") or 32 * 1024 * 1024)
    evidence = collect_evidence(source, params.get("release_dir"), max_bytes, params.get("changelog"),
                                params.get("accepted_risks_file"), params.get("accepted_risks"))
    expected = {"version": version, "live_version": params.get("live_version") or "",
                "force": bool(params.get("force")), "artifact_sha256": checksum or None,
                "today": today or datetime.datetime.now(datetime.timezone.utc).date()}
    results = judgement.judge(evidence, rules_policy, expected)
    outcome = policy.verdict(results)
    failed = [r for r in results if r["result"] in ("block", "warn")]
    result = dict(base, verdict=outcome, blocked=outcome == "blocked", rules=results, location=source.description,
                  warnings=["%s: %s" % (r["rule"], r["reason"]) for r in results if r["result"] == "warn"],
                  summary=summarize(results), msg=message(outcome, version, failed))
    if outcome == "blocked" and params.get("fail_on_block", True):
        raise EvidenceError(result["msg"], **{k: v for k, v in result.items() if k != "msg"})
    return result


def summarize(results):
    """A compact record of the judgement for the ledger: per rule, its result, measure and reason."""
    return [{k: r[k] for k in ("rule", "title", "result", "measured", "threshold", "reason", "files")}
            for r in results]


def message(outcome, version, failed):
    """One sentence for the task's ``msg``: the verdict and every failed rule's reason."""
    if outcome == "pass":
        return "release evidence of %s passes every rule" % version
    said = "; ".join("%s (%s): %s" % (r["rule"], r["result"], r["reason"]) for r in failed)
    if outcome == "blocked":
        return "release evidence blocks %s - %s" % (version, said)
    return "release evidence of %s has warnings - %s" % (version, said)


def argument_spec():
    """The module's options (importable, so that tools can read them without AnsibleModule)."""
    from ansible_collections.shipyard.deploy.plugins.module_utils.aws import aws_argument_spec

    spec = dict(
        location=dict(type="str", default="evidence"),
        release_dir=dict(type="path"),
        version=dict(type="str", required=True),
        live_version=dict(type="str", default=""),
        force=dict(type="bool", default=False),
        artifact_sha256=dict(type="str"),
        environment=dict(type="str"),
        enforce=dict(type="str", default="auto", choices=["auto", *policy.ENFORCE_CHOICES]),
        policy=dict(type="dict", default={}),
        changelog=dict(type="str"),
        accepted_risks_file=dict(type="str", default="accepted-risks.yml"),
        accepted_risks=dict(type="list", elements="dict", default=[]),
        max_file_size=dict(type="int", default=32 * 1024 * 1024),
        fail_on_block=dict(type="bool", default=True),
    )
    spec.update(aws_argument_spec())
    return spec
