# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy report as one self-contained HTML page and as a Markdown summary.

Both are drawn from :func:`model.deployment_view`; the output depends only on the ledger (no
"generated at" stamp), so writing the report again for the same deployment changes nothing.
"""

from __future__ import annotations

from html import escape

from ansible_collections.shipyard.deploy.plugins.module_utils.report import charts
from ansible_collections.shipyard.deploy.plugins.module_utils.report.model import (
    format_duration,
    format_threshold,
    format_time,
    human_bytes,
    number,
    topology_text,
)

STYLE = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:960px;color:#222;
padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f5f5f5}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;color:#fff;font-weight:bold}
.succeeded,.ok,.pass,.healthy{color:#1a7f37}.failed,.rolled_back,.bad,.fail{color:#c62828}.inconclusive{color:#b26a00}
.badge.succeeded{background:#1a7f37;color:#fff}.badge.failed,.badge.rolled_back{background:#c62828;color:#fff}
.badge.in_progress{background:#7f7f7f;color:#fff}.reason{font-size:14px;margin:8px 0}
.chart{display:block;margin:12px 0;max-width:100%;height:auto}code{font-size:12px}
"""


def _e(value):
    return escape("" if value is None else str(value))


def _rate(value):
    value = number(value)
    return "-" if value is None else "%.2f%%" % (value * 100)


def _ms(value):
    value = number(value)
    return "-" if value is None else "%.1f ms" % value


def _count(value):
    value = number(value)
    return "-" if value is None else "%d" % value


def _measured(rule, value):
    if rule == "min_requests":
        return _count(value)
    return format_threshold(rule, value)


def _series_of(view, slot):
    """``[(offset, measurement)]`` of ``slot``: per second when the rollout sampled, else per window."""
    if view["samples"]:
        return [(row["offset_seconds"], row[slot]) for row in view["samples"]]
    return [(a["offset_seconds"], a[slot]) for a in view["analyses"]]


def canary_charts(view):
    """The SVG charts of a view: traffic share, and error rate and latency per slot when analysed."""
    names = {"canary": "canary (%s)" % (view["idle_slot"] or "new"),
             "baseline": "baseline (%s)" % (view["live_slot"] or "old")}
    out = []
    # one time axis for the three charts: from the first traffic step to the end of the deployment
    starts = [t for t, _share in view["traffic"][:1]] + [a["offset_seconds"] for a in view["analyses"][:1]] + \
        [row["offset_seconds"] for row in view["samples"][:1]]
    x_range = (min(starts), max(view["duration_seconds"], min(starts) + 1)) if starts else None
    if view["traffic"]:
        out.append(charts.line_chart(
            "traffic", "Traffic on the new version (%s)" % (view["idle_slot"] or "new slot"),
            [{"name": "traffic share", "color": charts.COLORS["traffic"], "points": view["traffic"]}],
            "%", step=True, x_range=x_range))
    if view["analyses"] or view["samples"]:
        limit = view["thresholds"].get("max_error_rate")
        out.append(charts.line_chart(
            "error-rate", "Error rate per slot" + (", per second" if view["samples"] else ""),
            [{"name": names[slot], "color": charts.COLORS[slot],
              "points": [(x, None if m["error_rate"] is None else m["error_rate"] * 100)
                         for x, m in _series_of(view, slot)]} for slot in ("baseline", "canary")],
            "%", thresholds=[("max error rate %s" % format_threshold("max_error_rate", limit), limit * 100)]
            if limit is not None else (), x_range=x_range))
        latency_limit = view["thresholds"].get("max_latency_ms")
        out.append(charts.line_chart(
            "latency", "Latency per slot" + (", per second" if view["samples"] else ""),
            [{"name": names[slot], "color": charts.COLORS[slot],
              "points": [(x, m["latency_ms"]) for x, m in _series_of(view, slot)]}
             for slot in ("baseline", "canary")],
            " ms", thresholds=[("max latency %s" % format_threshold("max_latency_ms", latency_limit), latency_limit)]
            if latency_limit is not None else (), x_range=x_range))
        if view["samples"]:
            out.append(charts.line_chart(
                "requests", "Requests per second per slot",
                [{"name": names[slot], "color": charts.COLORS[slot],
                  "points": [(x, m["requests"]) for x, m in _series_of(view, slot)]}
                 for slot in ("baseline", "canary")], "/s", x_range=x_range))
    return out


def render_html(view):
    """The report as one HTML document with inline CSS and SVG, no script, no external asset."""
    title = "%s %s to %s: %s" % (view["application"], view["version"], view["environment"], view["outcome_label"])
    out = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<title>%s</title><style>%s</style></head><body>' % (_e(title), STYLE),
           '<h1>%s %s &rarr; %s</h1>' % (_e(view["application"]), _e(view["version"]), _e(view["environment"])),
           '<p><span class="badge %s" id="outcome">%s</span> <code>%s</code></p>'
           % (_e(view["outcome"]), _e(view["outcome_label"]), _e(view["deployment_id"]))]
    if view["reason"]:
        out.append('<p class="reason"><b>Reason:</b> %s</p>' % _e(view["reason"]))
    out.append(_html_table(["", ""], [
        ("Previous version", view["previous_version"] or "none (first deployment)"),
        ("Strategy", view["strategy"] or "-"),
        ("Slots", "%s → %s" % (view["live_slot"] or "none", view["idle_slot"] or "?")),
        ("Topology", topology_text(view)),
        ("Started", format_time(view["started_at"])), ("Finished", format_time(view["finished_at"])),
        ("Duration", format_duration(view["duration_seconds"])),
        ("Backup", (view["backup"] or {}).get("backup_id") or "none"),
    ], header=False))

    out.append('<h2 id="timeline">Timeline</h2>')
    out.append(charts.timeline_chart(view["steps"]))
    out.append(_html_table(
        ["#", "Step", "Ended at", "Took", "What happened"],
        [(str(i), '<span class="%s">%s</span>' % (_e(s["status"]), _e(s["label"])), "+%s" % format_duration(
            s["offset_seconds"]), format_duration(s["took_seconds"]), _e(s["detail"]))
         for i, s in enumerate(view["steps"], 1)], raw_columns=(1, 4), classes={2: "num", 3: "num"}, row_class="step"))

    out.append('<h2 id="canary">Traffic and canary analysis</h2>')
    out.extend(canary_charts(view))
    if not view["analyses"]:
        out.append("<p>No canary analysis in this deployment (strategy %s).</p>" % _e(view["strategy"] or "-"))
    for index, analysis in enumerate(view["analyses"], 1):
        out.append('<h3>Analysis %d at %s%% of traffic: <span class="%s">%s</span></h3>' % (
            index, _e("%g" % analysis["percent"]) if analysis["percent"] is not None else "?",
            _e(analysis["verdict"]), _e(analysis["verdict"])))
        window = analysis["window"]
        out.append("<p>%s<br>Window: %s s, %s to %s</p>" % (
            _e(analysis["reason"]), _e(window.get("seconds", "?")), _e(format_time(window.get("started"))),
            _e(format_time(window.get("ended")))))
        out.append(_html_table(
            ["Slot", "Requests", "Errors", "Error rate", "Latency"],
            [(_e(analysis[slot]["slot"] or slot), _count(analysis[slot]["requests"]),
              _count(analysis[slot]["errors"]), _rate(analysis[slot]["error_rate"]),
              "%s %s" % (_ms(analysis[slot]["latency_ms"]), _e(analysis[slot]["latency_metric"] or "")))
             for slot in ("canary", "baseline")], raw_columns=(0,), classes={1: "num", 2: "num", 3: "num", 4: "num"}))
        out.append(_html_table(
            ["Rule", "Slot", "Measured", "Threshold", "Result"],
            [(_e(c["rule"]), _e(c["slot"]), _measured(c["rule"], c["measured"]),
              format_threshold(c["rule"], c["threshold"]),
              '<span class="%s">%s</span>' % (_e(c["result"]), _e(c["result"])))
             for c in analysis["checks"]], raw_columns=(0, 1, 4), classes={2: "num", 3: "num"}, row_class="check"))

    out.append('<h2 id="rollback">Rollback</h2>')
    rollback = view["rollback"]
    if rollback:
        out.append(_html_table(["", ""], [
            ("Reason", rollback.get("reason") or "-"), ("Traffic back on", rollback.get("to_slot") or "-"),
            ("At", "+%s" % format_duration(rollback["offset_seconds"])),
            ("Switch took", _ms(rollback.get("switch_ms"))),
        ], header=False))
    else:
        out.append("<p>No rollback.</p>")

    out.append('<h2 id="backup">Backup</h2>')
    backup = view["backup"]
    if backup:
        size = number(backup.get("size"))
        out.append(_html_table(["", ""], [
            ("Backup id", backup.get("backup_id") or "-"), ("Location", backup.get("location") or "-"),
            ("Size", human_bytes(size) if size is not None else "-"), ("SHA-256", backup.get("sha256") or "-"),
            ("Took", format_duration(backup.get("duration_seconds"))),
        ], header=False))
    else:
        out.append("<p>No backup was taken in this deployment.</p>")
    out.extend(smoke_html(view["smoke"]))
    out.extend(evidence_html(view["evidence"]))
    out.append("</body></html>\n")
    return "\n".join(out)


def _html_table(headers, rows, header=True, raw_columns=(), classes=None, row_class=None):
    """Rows of cells; cells are escaped unless their column is in ``raw_columns`` (already HTML)."""
    classes = classes or {}
    out = ["<table>"]
    if header:
        out.append("<tr>%s</tr>" % "".join("<th>%s</th>" % _e(h) for h in headers))
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            text = cell if index in raw_columns else _e(cell)
            tag = "th" if not header and index == 0 else "td"
            css = ' class="%s"' % classes[index] if index in classes else ""
            cells.append("<%s%s>%s</%s>" % (tag, css, text, tag))
        out.append("<tr%s>%s</tr>" % (' class="%s"' % row_class if row_class else "", "".join(cells)))
    out.append("</table>")
    return "\n".join(out)


def _md_text(value):
    """Text for Markdown outside code spans: raw HTML in names (``<img onerror=...>``) is shown, never run.

    Markdown renderers pass inline HTML through, so ``&``, ``<`` and ``>`` become entities, as
    the HTML report escapes them.
    """
    return escape("" if value is None else str(value), quote=False)


def _md(value):
    return _md_text("-" if value is None or value == "" else value).replace("|", "\\|").replace("\n", " ")


def _md_table(headers, rows):
    out = ["| %s |" % " | ".join(headers), "|" + "---|" * len(headers)]
    out.extend("| %s |" % " | ".join(_md(cell) for cell in row) for row in rows)
    return "\n".join(out)


def render_markdown(view):
    """The report as a Markdown summary (tables, no charts) for chat, tickets and pull requests."""
    title = tuple(_md_text(view[key]) for key in ("application", "version", "environment", "outcome_label"))
    out = ["# %s %s to %s: %s" % title,
           "", "Deployment `%s`" % view["deployment_id"], ""]
    if view["reason"]:
        out += ["**Reason:** %s" % _md_text(view["reason"]), ""]
    out += [_md_table(["", ""], [
        ("Previous version", view["previous_version"] or "none (first deployment)"),
        ("Strategy", view["strategy"]), ("Slots", "%s → %s" % (view["live_slot"] or "none", view["idle_slot"] or "?")),
        ("Topology", topology_text(view)),
        ("Started", format_time(view["started_at"])), ("Finished", format_time(view["finished_at"])),
        ("Duration", format_duration(view["duration_seconds"])),
        ("Backup", (view["backup"] or {}).get("backup_id") or "none"),
    ]), "", "## Timeline", "", _md_table(
        ["#", "Step", "Ended at", "Took", "What happened"],
        [(i, s["label"], "+" + format_duration(s["offset_seconds"]), format_duration(s["took_seconds"]), s["detail"])
         for i, s in enumerate(view["steps"], 1)]), ""]
    out += ["## Canary analysis", ""]
    if view["analyses"]:
        rows = []
        for a in view["analyses"]:
            failed = [c["rule"] for c in a["checks"] if c["result"] != "pass"]
            rows.append(("%g%%" % a["percent"] if a["percent"] is not None else "?", a["verdict"],
                         _rate(a["canary"]["error_rate"]), _rate(a["baseline"]["error_rate"]),
                         _ms(a["canary"]["latency_ms"]), _ms(a["baseline"]["latency_ms"]),
                         ", ".join(failed) or "all rules passed"))
        out += [_md_table(["Step", "Verdict", "Canary errors", "Baseline errors", "Canary latency",
                           "Baseline latency", "Rules not passed"], rows), ""]
        if view["thresholds"]:
            limits = ["%s %s" % (rule, format_threshold(rule, value))
                      for rule, value in sorted(view["thresholds"].items())]
            out += ["Thresholds: %s" % ", ".join(limits), ""]
    else:
        out += ["No canary analysis in this deployment (strategy %s)." % (view["strategy"] or "-"), ""]
    rollback = view["rollback"]
    out += ["## Rollback", ""]
    out += ["Rolled back at +%s to slot %s: %s" % (format_duration(rollback["offset_seconds"]),
                                                   _md_text(rollback.get("to_slot") or "-"),
                                                   _md_text(rollback.get("reason") or "-"))
            if rollback else "No rollback.", ""]
    backup = view["backup"]
    out += ["## Backup", ""]
    if backup:
        size = number(backup.get("size"))
        out += ["`%s` at %s (%s, sha256 `%s`)" % (backup.get("backup_id"), _md_text(backup.get("location")),
                                                  human_bytes(size) if size is not None else "size unknown",
                                                  backup.get("sha256") or "-"), ""]
    else:
        out += ["No backup was taken in this deployment.", ""]
    out += smoke_markdown(view["smoke"])
    out += evidence_markdown(view["evidence"])
    return "\n".join(out)


EVIDENCE_HEADERS = ["Rule", "Result", "Measured", "Threshold", "Why"]


def _evidence_rows(evidence):
    return [(r["title"] or r["rule"], r["result"], r["measured"], r["threshold"], r["reason"])
            for r in evidence["rules"]]


def _evidence_verdict(evidence):
    failed = ", ".join(evidence["failed"]) or "none"
    return "Verdict: %s (enforce %s; rules not passed: %s) - evidence from %s" % (
        evidence["verdict"], evidence["enforce"], failed, evidence["location"] or "-")


def evidence_html(evidence):
    """The "Release evidence" section: the verdict, then one row per rule (what it measured, and why)."""
    out = ['<h2 id="evidence">Release evidence</h2>']
    if not evidence:
        return [*out, "<p>The release evidence was not checked in this deployment.</p>"]
    out.append('<p class="%s">%s</p>' % (_e("bad" if evidence["verdict"] == "blocked" else "ok"),
                                         _e(_evidence_verdict(evidence))))
    rows = [('<span class="%s">%s</span>' % (_e(row[1]), _e(row[0])), *row[1:]) for row in _evidence_rows(evidence)]
    out.append(_html_table(EVIDENCE_HEADERS, rows, raw_columns=(0,), row_class="evidence"))
    return out


def evidence_markdown(evidence):
    """The "Release evidence" section of the Markdown summary."""
    out = ["## Release evidence", ""]
    if not evidence:
        return [*out, "The release evidence was not checked in this deployment.", ""]
    return [*out, _evidence_verdict(evidence), "", _md_table(EVIDENCE_HEADERS, _evidence_rows(evidence)), ""]


SMOKE_HEADERS = ["Step", "Result", "HTTP", "Latency", "URL", "Why"]
SMOKE_CLASSES = {"passed": "ok", "failed": "bad"}


def _smoke_title(run):
    return "%s, %s: %s" % (run["phase_label"], run["target"] or "-", "passed" if run["passed"] else "failed")


def _smoke_rows(run):
    return [(s["name"], s["status"], s["status_code"] if s["status_code"] is not None else "-", _ms(s["latency_ms"]),
             s["url"], s["error"] or "") for s in run["steps"]]


def smoke_html(runs):
    """The "Smoke tests" section: one table per run (before traffic, after the switch, after a rollback)."""
    out = ['<h2 id="smoke">Smoke tests</h2>']
    if not runs:
        return [*out, "<p>No smoke test in this deployment.</p>"]
    for run in runs:
        out.append('<h3 class="%s">%s</h3>' % ("ok" if run["passed"] else "bad", _e(_smoke_title(run))))
        if not run["passed"] and run["message"]:
            out.append('<p class="reason">%s</p>' % _e(run["message"]))
        rows = [('<span class="%s">%s</span>' % (SMOKE_CLASSES.get(row[1], "info"), _e(row[0])), *row[1:])
                for row in _smoke_rows(run)]
        out.append(_html_table(SMOKE_HEADERS, rows, raw_columns=(0,), classes={2: "num", 3: "num"},
                               row_class="smoke-step"))
    return out


def smoke_markdown(runs):
    """The "Smoke tests" section of the Markdown summary."""
    out = ["## Smoke tests", ""]
    if not runs:
        return [*out, "No smoke test in this deployment.", ""]
    for run in runs:
        out += ["**%s**" % _md_text(_smoke_title(run)), ""]
        if not run["passed"] and run["message"]:
            out += [_md_text(run["message"]), ""]
        out += [_md_table(SMOKE_HEADERS, _smoke_rows(run)), ""]
    return out
