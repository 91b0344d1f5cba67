"""Deploy report: the view of a ledger, the SVG charts, the HTML and Markdown, the written files."""

from __future__ import annotations

import datetime
import os
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger
from ansible_collections.shipyard.deploy.plugins.module_utils.report import charts
from ansible_collections.shipyard.deploy.plugins.module_utils.report.model import (
    deployment_view,
    format_duration,
    format_threshold,
    format_time,
    human_bytes,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.report.publish import (
    ReportError,
    report_key,
    run_deployment_report,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.report.render import render_html, render_markdown

T0 = datetime.datetime(2026, 11, 22, 4, 0, tzinfo=datetime.timezone.utc)
SVG = "{http://www.w3.org/2000/svg}"


def analysis(percent, attempt, canary_rate, baseline_rate, canary_ms, baseline_ms, verdict):
    checks = [
        {"rule": "min_requests", "slot": "canary", "measured": 400, "threshold": 50, "result": "pass",
         "reason": "enough requests"},
        {"rule": "max_error_rate", "slot": "canary", "measured": canary_rate, "threshold": 0.05,
         "result": "fail" if canary_rate > 0.05 else "pass", "reason": "canary error rate"},
        {"rule": "max_latency_ratio", "slot": "canary", "measured": canary_ms / baseline_ms, "threshold": 2.0,
         "result": "pass", "reason": "latency ratio"},
    ]
    return {
        "percent": percent, "attempt": attempt, "verdict": verdict,
        "reason": "every rule passed" if verdict == "pass" else "canary error rate %.2f%% is above 5.00%%" % (
            canary_rate * 100),
        "checks": checks,
        "measurements": {
            "canary": {"slot": "green", "requests": 400, "errors": int(400 * canary_rate), "error_rate": canary_rate,
                       "latency_ms": canary_ms, "latency_metric": "avg"},
            "baseline": {"slot": "blue", "requests": 7600, "errors": int(7600 * baseline_rate),
                         "error_rate": baseline_rate, "latency_ms": baseline_ms, "latency_metric": "avg"},
        },
        "window": {"seconds": 8, "started": "2026-11-22T04:00:30Z", "ended": "2026-11-22T04:00:38Z"},
    }


def canary_rollback_ledger():
    """A canary of 3.0.0 that passes at 5 %, fails at 25 % and is rolled back."""
    steps = [
        (0, "started", {"strategy": "canary", "live_slot": "blue", "idle_slot": "green", "live_version": "2.0.0"}),
        (4, "preflight", {"release_dir": "/srv/shop/releases/3.0.0"}),
        (9, "backup", {"backup_id": "shop-20261122T040009Z", "location": "/var/backups/shop", "size": 1536000,
                       "sha256": "ab" * 32, "duration_seconds": 4.2}),
        (11, "migration", {"applied": [{"version": "3"}], "previous_version": "2", "current_version": "3"}),
        (15, "release", {"version": "3.0.0", "slot": "green"}),
        (16, "health", {"targets": 1, "healthy_targets": 1}),
        # as the traffic role records it: the step when the weights change, then each analysis window
        (17, "traffic_step", {"percent": 5, "weights": {"weights": {"blue": 95, "green": 5}}, "switch_ms": 2.1}),
        (26, "analysis", analysis(5, 1, 0.01, 0.0, 3.0, 2.5, "pass")),
        (27, "traffic_step", {"percent": 25, "weights": {"weights": {"blue": 75, "green": 25}}, "switch_ms": 2.0}),
        (36, "analysis", analysis(25, 1, 0.3, 0.002, 4.0, 2.6, "fail")),
        (37, "rolled_back", {"reason": "canary analysis at 25% fail: error rate <above> 5%", "to_slot": "blue",
                             "switch_ms": 2.4}),
    ]
    return [ledger.new_record("shop-production-1", "production", "shop", "3.0.0", name, data,
                              moment=T0 + datetime.timedelta(seconds=offset)) for offset, name, data in steps]


@pytest.fixture()
def view():
    return deployment_view(ledger.summarize(canary_rollback_ledger(), "shop-production-1"))


def test_view_has_steps_with_durations_analyses_rollback_and_backup(view):
    assert view["outcome"] == "rolled_back" and view["previous_version"] == "2.0.0"
    assert [s["event"] for s in view["steps"]][:6] == ["started", "preflight", "backup", "migration", "release",
                                                       "health"]
    backup_step = view["steps"][2]
    assert backup_step["took_seconds"] == 5.0 and backup_step["offset_seconds"] == 9.0
    assert [a["percent"] for a in view["analyses"]] == [5.0, 25.0]
    assert view["analyses"][1]["canary"]["error_rate"] == 0.3 and view["analyses"][1]["verdict"] == "fail"
    assert view["thresholds"] == {"min_requests": 50.0, "max_error_rate": 0.05, "max_latency_ratio": 2.0}
    # traffic share of green over time, back to 0 at the rollback
    # (0 % from the health check of the new slot, so a single switch draws as a step)
    assert view["traffic"][:2] == [(16.0, 0.0), (17.0, 5.0)] and view["traffic"][-1] == (37.0, 0.0)
    assert 25.0 in [share for _t, share in view["traffic"]]
    assert view["rollback"]["to_slot"] == "blue" and view["backup"]["backup_id"] == "shop-20261122T040009Z"
    assert view["steps"][-1]["status"] == "bad"


def test_old_ledgers_without_analysis_events_use_the_traffic_steps():
    # before 1.0.0 the step was recorded after its analysis, with the last window inside
    records = [r for r in canary_rollback_ledger() if r["event"] != "analysis"]
    for record, verdict in zip([r for r in records if r["event"] == "traffic_step"], ("pass", "fail")):
        record["data"]["verdict"] = verdict
        record["data"]["analysis"] = analysis(record["data"]["percent"], 1, 0.01, 0.0, 3.0, 2.5, verdict)
    view = deployment_view(ledger.summarize(records, "shop-production-1"))
    assert [a["verdict"] for a in view["analyses"]] == ["pass", "fail"]


def svg_elements(html_text):
    # our own renderer's output, not untrusted input
    return [ET.fromstring(block) for block in re.findall(r"<svg.*?</svg>", html_text, re.S)]  # noqa: S314


def test_html_is_self_contained_and_escapes_ledger_text(view):
    page = render_html(view)
    # the three canary charts share one time axis: first traffic step to the end
    for svg in svg_elements(page)[1:]:
        labels = [t.text for t in svg.iter(SVG + "text") if (t.text or "").startswith("+")]
        assert labels == ["+20s", "+25s", "+30s", "+35s"], labels
    assert "<script" not in page and not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "&lt;above&gt;" in page and "<above>" not in page
    names = [svg.get("data-chart") for svg in svg_elements(page)]
    assert names == ["timeline", "traffic", "error-rate", "latency"]
    error_chart = svg_elements(page)[2]
    series = {p.get("data-series") for p in error_chart.iter(SVG + "polyline")}
    assert series == {"canary (green)", "baseline (blue)"}
    assert len(list(error_chart.iter(SVG + "circle"))) == 4
    assert [t.findtext(SVG + "title") for t in error_chart.iter(SVG + "line") if t.get("class") == "threshold"] \
        == ["max error rate 5.00%"]
    timeline = svg_elements(page)[0]
    assert len([r for r in timeline.iter(SVG + "rect") if r.get("class") == "step"]) == len(view["steps"])
    assert page.count('<tr class="step">') == len(view["steps"])
    assert "30.00%" in page and "max_error_rate" in page and "5.00%" in page
    assert "shop-20261122T040009Z" in page and "1.5 MiB" in page


def test_error_rate_points_sit_where_the_values_say(view):
    chart = ET.fromstring(charts.line_chart("t", "t", [  # noqa: S314
        {"name": "a", "color": "#000000", "points": [(0, 0.0), (10, 50.0)]}], "%"))
    circles = list(chart.iter(SVG + "circle"))
    bottom = charts.HEIGHT - charts.MARGIN_BOTTOM
    assert float(circles[0].get("cy")) == pytest.approx(bottom)
    assert float(circles[1].get("cy")) < float(circles[0].get("cy"))
    assert float(circles[0].get("cx")) == pytest.approx(charts.MARGIN_LEFT)
    assert float(circles[1].get("cx")) == pytest.approx(charts.WIDTH - charts.MARGIN_RIGHT)


def test_markdown_summary(view):
    text = render_markdown(view)
    assert text.startswith("# shop 3.0.0 to production: rolled back")
    assert "| 25% | fail | 30.00% | 0.20% |" in text
    assert "Rolled back at +37.0 s to slot blue" in text
    assert "max_error_rate 5.00%" in text
    assert text.count("\n| ") >= len(view["steps"]) + 2


def test_every_markdown_table_renders_as_a_table(view):
    from markdown_it import MarkdownIt

    text = render_markdown(view)
    separators = [line for line in text.splitlines() if re.fullmatch(r"\|(---\|)+", line)]
    assert len(separators) == 3, text  # summary, timeline, canary analysis
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert html.count("<table>") == len(separators), html
    # no row of a table fell out as a paragraph of pipes
    assert not re.search(r"<p>\|", html), html
    assert "<td>Database backup</td>" in html and "<td>fail</td>" in html


def test_a_first_deployment_is_direct_and_paths_are_normalised():
    steps = [(0, "started", {"strategy": "canary", "live_slot": "", "idle_slot": "blue", "live_version": ""}),
             (2, "preflight", {"release_dir": "/repo/inventory/local/../../.demo/app/releases/1.0.0"}),
             (3, "backup", {"backup_id": "b1", "location": "/repo/inventory/local/../../.demo/backups"}),
             (4, "succeeded", {"slot": "blue"})]
    records = [ledger.new_record("d", "local", "shop", "1.0.0", name, data,
                                 moment=T0 + datetime.timedelta(seconds=offset)) for offset, name, data in steps]
    view = deployment_view(ledger.summarize(records, "d"))
    assert view["strategy"] == "direct"
    markdown, page = render_markdown(view), render_html(view)
    assert "| Strategy | direct |" in markdown and "strategy direct, to slot blue" in markdown
    assert "canary" not in markdown.lower().replace("canary analysis", ""), markdown
    assert "<th>Strategy</th><td>direct</td>" in page and "strategy direct, to slot blue" in page
    for text in (markdown, page):
        assert "../" not in text and "/repo/.demo/app/releases/1.0.0" in text and "/repo/.demo/backups" in text


def test_bluegreen_report_has_no_analysis_but_a_traffic_chart():
    steps = [(0, "started", {"strategy": "bluegreen", "live_slot": "blue", "idle_slot": "green"}),
             # as the roles record it: the router's read-back, weights inside
             (3, "traffic_step", {"weights": {"weights": {"blue": 0, "green": 100}, "active": "green",
                                              "slots": {}}, "verdict": "healthy"}),
             (4, "succeeded", {"slot": "green"})]
    records = [ledger.new_record("d", "staging", "shop", "2.0.0", name, data,
                                 moment=T0 + datetime.timedelta(seconds=offset)) for offset, name, data in steps]
    view = deployment_view(ledger.summarize(records, "d"))
    page = render_html(view)
    assert [svg.get("data-chart") for svg in svg_elements(page)] == ["timeline", "traffic"]
    assert view["traffic"] == [(3.0, 100.0)] and view["idle_slot"] == "green"
    assert "weights blue 0, green 100; verdict healthy" in page
    assert "No canary analysis" in page and "No rollback." in page and "No backup" in page


def test_formatting():
    assert format_threshold("max_error_rate", 0.05) == "5.00%"
    assert format_threshold("max_latency_ms", 250) == "250.0 ms"
    assert format_threshold("max_latency_ratio", 2) == "2.00x"
    assert format_duration(185) == "3 min 05 s" and format_duration(4.24) == "4.2 s"
    assert human_bytes(512) == "512 B" and human_bytes(1536000) == "1.5 MiB"
    assert charts.nice_ticks(27) == [0, 10, 20, 30]
    assert report_key("shop/prod 1", ".md") == "shop_prod_1.md"
    assert charts.time_ticks(17.3, 37) == [20, 25, 30, 35]
    assert format_time("2026-11-22T04:00:09.123456Z") == "2026-11-22 04:00:09Z"


def test_written_once_then_unchanged_check_mode_writes_nothing(tmp_path):
    ledger_path = tmp_path / "ledger.jsonl"
    store = ledger.FileLedger(str(ledger_path))
    for record in canary_rollback_ledger():
        store.append(record)
    params = {"ledger": str(ledger_path), "deployment_id": "shop-production-1", "dest": str(tmp_path / "reports"),
              "formats": ["html", "markdown"]}
    predicted = run_deployment_report(params, check_mode=True, diff_mode=False)
    assert predicted["changed"] and predicted["written"] == ["html", "markdown"]
    assert not os.path.exists(tmp_path / "reports")
    first = run_deployment_report(params, check_mode=False, diff_mode=True)
    assert first["changed"] and first["outcome"] == "rolled_back" and first["analyses"] == 2
    assert open(first["report"]["html"], encoding="utf-8").read().startswith("<!DOCTYPE html>")
    assert first["diff"][0]["after"].startswith("# shop 3.0.0")
    again = run_deployment_report(params, check_mode=False, diff_mode=False)
    assert not again["changed"] and again["written"] == []
    store.append(ledger.new_record("shop-production-1", "production", "shop", "3.0.0", "note", {"by": "ops"},
                                   moment=T0 + datetime.timedelta(seconds=60)))
    assert run_deployment_report(params, check_mode=False, diff_mode=False)["written"] == ["html", "markdown"]


def test_unknown_deployment_says_what_to_check(tmp_path):
    params = {"ledger": str(tmp_path / "ledger.jsonl"), "deployment_id": "nope", "dest": str(tmp_path),
              "formats": ["html"]}
    with pytest.raises(ReportError, match="deployment nope is not in the ledger"):
        run_deployment_report(params, check_mode=False, diff_mode=False)


def test_markdown_escapes_raw_html_from_names(view):
    hostile = dict(view, application="<img src=x onerror=alert(1)>", reason="<script>x</script> & more",
                   steps=[dict(view["steps"][0], detail="<b>bold</b> | piped")])
    text = render_markdown(hostile)
    assert "<img" not in text and "<script>" not in text and "<b>" not in text
    assert "# &lt;img src=x onerror=alert(1)&gt;" in text
    assert "**Reason:** &lt;script&gt;x&lt;/script&gt; &amp; more" in text
    assert "&lt;b&gt;bold&lt;/b&gt; \\| piped" in text


def test_host_group_report_names_the_topology_and_the_hosts_released():
    steps = [(0, "started", {"strategy": "bluegreen", "live_slot": "blue", "idle_slot": "green",
                             "topology": "host_groups"}),
             (2, "release", {"slot": "green", "version": "2.0.0", "hosts": ["app3", "app4"]}),
             (4, "succeeded", {"slot": "green"})]
    records = [ledger.new_record("d", "staging", "shop", "2.0.0", name, data,
                                 moment=T0 + datetime.timedelta(seconds=offset)) for offset, name, data in steps]
    view = deployment_view(ledger.summarize(records, "d"))
    assert view["topology"] == "host_groups" and view["release_hosts"] == ["app3", "app4"]
    for text in (render_html(view), render_markdown(view)):
        assert "host groups, release on app3, app4" in text
        assert "version 2.0.0 on slot green of app3, app4" in text
    # a ledger from before host groups: every slot was a port on every host
    older = deployment_view(ledger.summarize([ledger.new_record("d", "staging", "shop", "2.0.0", "started", {
        "strategy": "bluegreen", "live_slot": "blue", "idle_slot": "green"}, moment=T0)], "d"))
    assert older["topology"] == "ports" and "| Topology | ports |" in render_markdown(older)
