"""Per-second charts from the rollout's sample points, blue-green included."""

from __future__ import annotations

import datetime

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger
from ansible_collections.shipyard.deploy.plugins.module_utils.report.model import deployment_view, samples
from ansible_collections.shipyard.deploy.plugins.module_utils.report.render import render_html

START = "2026-12-01T10:00:00.000000Z"
T0 = ledger.parse_time(START).timestamp()


def event(name, offset, data):
    moment = datetime.datetime.fromtimestamp(T0 + offset, datetime.timezone.utc)
    return {"event": name, "time": ledger.isoformat(moment), "offset_seconds": offset, "data": data}


def point(offset, canary, baseline, percent=100):
    return {"t": T0 + offset, "percent": percent,
            "canary": {"requests": canary[0], "errors": canary[1], "latency_ms": canary[2]},
            "baseline": {"requests": baseline[0], "errors": baseline[1], "latency_ms": baseline[2]}}


def test_points_are_summed_per_second_with_request_weighted_latency():
    events = [event("analysis", 2.0, {"points": [point(1.2, (10, 1, 10.0), (0, 0, None)),
                                                 point(1.7, (30, 0, 20.0), (0, 0, None)),
                                                 point(2.2, (20, 10, 5.0), (0, 0, None))]})]
    rows = samples(events, START)
    assert [r["offset_seconds"] for r in rows] == [1.7, 2.2]
    assert rows[0]["canary"]["requests"] == 40 and rows[0]["canary"]["error_rate"] == 1 / 40
    assert rows[0]["canary"]["latency_ms"] == (10 * 10 + 30 * 20) / 40
    assert rows[0]["baseline"]["error_rate"] is None and rows[1]["canary"]["error_rate"] == 0.5


def test_a_blue_green_report_charts_the_switch_and_the_bake_per_second():
    events = [
        event("started", 0.0, {"strategy": "bluegreen", "live_slot": "blue", "idle_slot": "green"}),
        event("health", 1.0, {"slot": "green", "healthy": True, "targets": 1, "healthy_targets": 1}),
        event("traffic_step", 1.1, {"percent": 100, "weights": {"blue": 0, "green": 100}}),
        event("bake", 1.1, {"phase": "start", "duration": 3}),
        event("analysis", 4.2, {"phase": "bake", "percent": 100, "verdict": "pass", "reason": "ok", "checks": [],
                                "points": [point(1.5 + i, (50, 0, 4.0), (0, 0, None)) for i in range(3)]}),
        event("bake", 4.2, {"phase": "end", "verdict": "pass", "seconds": 3}),
        event("succeeded", 4.3, {"slot": "green"}),
    ]
    summary = {"deployment_id": "d", "application": "shop", "environment": "prod", "version": "2",
               "events": events, "outcome": "succeeded", "started_at": START, "finished_at": events[-1]["time"],
               "duration_seconds": 4.3, "reason": None}
    view = deployment_view(summary)
    assert view["traffic"][:2] == [(1.0, 0.0), (1.1, 100.0)]
    assert len(view["samples"]) == 3
    html = render_html(view)
    assert "Requests per second per slot" in html and "Error rate per slot, per second" in html
    assert "Bake (watch after 100%)" in html
