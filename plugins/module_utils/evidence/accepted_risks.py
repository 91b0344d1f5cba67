# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accepted risks: vulnerabilities a team decided to live with, each with a reason and an end date.

The file (YAML or JSON) is a list, or a mapping with the list under ``accepted``::

    accepted:
      - id: CVE-2020-28724            # or any alias the audit report gives (GHSA-..., PYSEC-...)
        package: werkzeug             # optional: only this package
        justification: the redirect is never built from user input; upgrade planned in SHOP-812
        expires: 2027-01-31

An entry without a justification or an expiry accepts nothing, and an entry past its expiry
accepts nothing any more: the vulnerability blocks again until someone looks at it.
"""

from __future__ import annotations

import datetime
import json

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import DependencyError
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import (
    MalformedReport,
    decode_text,
    require,
)


def parse_accepted_risks(name, data):
    """The entries of an accepted-risk file, each checked: ``{"id", "package", "justification", "expires",
    "problem"}`` where ``problem`` says why an entry cannot count (None when it is well formed)."""
    value = _load_yaml_or_json(name, decode_text(name, data))
    if isinstance(value, dict):
        value = value.get("accepted")
    if value is None:
        return []
    require(name, isinstance(value, list), "an accepted-risk file is a list of entries (or accepted: [...])")
    return [check_entry(entry) for entry in value]


def _load_yaml_or_json(name, text):
    """YAML through PyYAML (on the controller with ansible-core; not always on a managed node), else JSON."""
    try:
        import yaml
    except ImportError:
        try:
            return json.loads(text)
        except ValueError:
            raise DependencyError("%s is YAML, and PyYAML is not installed on the host that runs the task; "
                                  "install PyYAML there or write the file as JSON" % name) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MalformedReport(name, "not valid YAML/JSON (%s)" % str(exc).splitlines()[0]) from None


def check_entry(entry):
    """One accepted-risk entry in canonical form, with the reason it cannot count when it cannot."""
    if not isinstance(entry, dict):
        return {"id": str(entry), "package": None, "justification": "", "expires": None,
                "problem": "entry is not a mapping with id, justification and expires"}
    expires, problem = _expiry(entry.get("expires"))
    justification = str(entry.get("justification") or "").strip()
    if not entry.get("id"):
        problem = "entry has no id"
    elif not justification:
        problem = "entry for %s has no justification" % entry["id"]
    elif problem:
        problem = "entry for %s: %s" % (entry["id"], problem)
    return {"id": str(entry.get("id") or ""), "package": str(entry["package"]) if entry.get("package") else None,
            "justification": justification, "expires": expires, "problem": problem}


def match_acceptance(found, entries, today):
    """``(entry, status)`` for a finding: status ``accepted``, ``expired``, ``invalid`` or ``none``.

    A valid, unexpired entry wins over an expired or invalid one for the same vulnerability.
    """
    names = {found["id"].lower()} | {alias.lower() for alias in found["aliases"]}
    best = (None, "none")
    for entry in entries:
        if entry["id"].lower() not in names:
            continue
        if entry["package"] and entry["package"].lower() != str(found["package"]).lower():
            continue
        if entry["problem"]:
            status = "invalid"
        elif entry["expires"] < today.isoformat():
            status = "expired"
        else:
            return entry, "accepted"
        if best[1] == "none" or status == "expired":
            best = (entry, status)
    return best


def _expiry(value):
    """(ISO date, problem) of an expiry given as a YAML date or text."""
    if value is None or value == "":
        return None, "no expires date (an acceptance must end; give expires: YYYY-MM-DD)"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat(), None
    if isinstance(value, datetime.date):
        return value.isoformat(), None
    try:
        return datetime.date.fromisoformat(str(value).strip()).isoformat(), None
    except ValueError:
        return None, "expires %r is not a date (YYYY-MM-DD)" % value
