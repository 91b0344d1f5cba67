# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service of the deployment_report module: read the ledger, render, write what changed."""

from __future__ import annotations

import re

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger, storage
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ShipyardError
from ansible_collections.shipyard.deploy.plugins.module_utils.report.model import deployment_view
from ansible_collections.shipyard.deploy.plugins.module_utils.report.render import render_html, render_markdown

RENDERERS = {
    "html": (".html", "text/html; charset=utf-8", render_html),
    "markdown": (".md", "text/markdown; charset=utf-8", render_markdown),
}


class ReportError(ShipyardError):
    """The report cannot be produced (the deployment is not in the ledger)."""


def report_key(deployment_id, extension):
    """The file name of a report: the deployment id, made safe for paths and S3 keys."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", deployment_id).lstrip(".") + extension


def run_deployment_report(params, check_mode, diff_mode):
    """Render the report of ``deployment_id`` from the ledger and write each format that changed."""
    records = ledger.open_ledger(params["ledger"], params).read()
    summary = ledger.summarize(records, params["deployment_id"])
    if summary is None:
        raise ReportError(
            "deployment %s is not in the ledger %s; check deployment_id (the deployment_record "
            "module returns it) and that the ledger is the one the deployment wrote to"
            % (params["deployment_id"], params["ledger"])
        )
    view = deployment_view(summary)
    store = storage.open_store(params["dest"], params)
    result = {"changed": False, "report": {}, "written": [], "outcome": summary["outcome"],
              "steps": len(view["steps"]), "analyses": len(view["analyses"])}
    diffs = []
    for name in params["formats"]:
        extension, content_type, render = RENDERERS[name]
        key = report_key(params["deployment_id"], extension)
        text = render(view)
        try:
            before = store.get_small(key).decode("utf-8", errors="replace")
        except storage.StorageNotFound:
            before = ""
        result["report"][name] = store.url(key)
        if before == text:
            continue
        result["changed"] = True
        result["written"].append(name)
        if not check_mode:
            store.put_small(key, text.encode("utf-8"), content_type=content_type)
        if diff_mode and name == "markdown":
            diffs.append({"before": before, "after": text, "before_header": store.url(key),
                          "after_header": store.url(key)})
    if diff_mode:
        result["diff"] = diffs or [{"before": "", "after": ""}]
    return result
