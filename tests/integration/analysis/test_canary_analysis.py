"""canary_analysis against a real HAProxy with two real backends under generated load,
a real Prometheus scraping HAProxy's exporter, and synthetic probes to the backends."""

from __future__ import annotations

import threading

import pytest
from harness.load import LoadGenerator
from harness.playbook import play

from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.canary import analyze_canary
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

WINDOW = 3.0


def haproxy_params(slots, tcp=False, **extra):
    params = {
        "source": "haproxy",
        "window": WINDOW,
        "haproxy": {"socket": slots.haproxy.admin_tcp_address if tcp else slots.haproxy.admin_socket,
                    "backend": "app"},
        "canary": {"name": "green"},
        "baseline": {"name": "blue"},
        "rules": {},
    }
    params.update(extra)
    return params


def analyze_under_load(slots, params, concurrency=4, max_requests=200000):
    """Run the analysis while load flows through HAProxy for the whole window."""
    load = LoadGenerator(slots.haproxy.url, concurrency=concurrency, duration=WINDOW + 30,
                         max_requests=max_requests).start()
    try:
        return analyze_canary(params), load
    finally:
        load.stop()


def check(result, rule, slot="canary"):
    (found,) = [c for c in result["checks"] if c["rule"] == rule and c["slot"] == slot]
    return found


def test_canary_returning_500_on_20_percent_fails_through_a_playbook(playbook, slots):
    slots.green.control(error_rate=0.2)
    load = LoadGenerator(slots.haproxy.url, concurrency=4, duration=60).start()
    try:
        run = playbook.run(play([{
            "name": "analysis",
            "shipyard.deploy.canary_analysis": haproxy_params(slots),
            "register": "analysis",
        }]))
    finally:
        load.stop()
    assert run.rc == 0, run.output  # a verdict is a result, not a task failure
    result = run.task("analysis")
    assert result["verdict"] == "fail"
    assert result["failure_limit_reached"] is True and result["consecutive_failures"] == 1
    errors = check(result, "max_error_rate")
    assert errors["result"] == "fail" and 0.12 < errors["measured"] < 0.28
    assert "canary error rate" in result["reason"] and "above 5.00%" in result["reason"]
    canary, baseline = result["measurements"]["canary"], result["measurements"]["baseline"]
    assert canary["slot"] == "green" and baseline["slot"] == "blue"
    assert baseline["errors"] == 0 and baseline["requests"] >= 50
    assert canary["details"]["servers"]["green_1"]["hrsp_5xx"] == canary["errors"]
    # what HAProxy counted agrees with what the clients saw during the window (give or take the edges)
    assert canary["requests"] <= load.slots["green"]
    assert result["window"]["seconds"] == WINDOW and result["changed"] is False


def test_canary_three_times_slower_fails_the_latency_rule(slots):
    slots.blue.control(delay=0.01)
    slots.green.control(delay=0.03)
    result, _load = analyze_under_load(slots, haproxy_params(slots, tcp=True))
    assert result["verdict"] == "fail", result["reason"]
    latency = check(result, "max_latency_ratio")
    assert latency["result"] == "fail" and 2.2 < latency["measured"] < 4.0
    assert check(result, "max_error_rate")["result"] == "pass"
    assert "canary avg latency" in result["reason"] and "above the limit of 2.00x" in result["reason"]


def test_good_canary_passes(slots):
    result, load = analyze_under_load(slots, haproxy_params(slots))
    assert result["verdict"] == "pass", result["reason"]
    assert all(c["result"] == "pass" for c in result["checks"])
    assert load.failed == 0
    assert result["measurements"]["canary"]["requests"] >= 50
    assert result["measurements"]["canary"]["error_rate"] == 0


def test_too_little_traffic_is_inconclusive_not_fail(slots):
    slots.green.control(error_rate=0.5)
    result, load = analyze_under_load(slots, haproxy_params(slots, consecutive_failures=2), concurrency=1,
                                      max_requests=30)
    assert load.total == 30
    assert result["verdict"] == "inconclusive"
    assert check(result, "min_requests")["result"] == "inconclusive"
    assert "fewer than the 50 needed" in result["reason"]
    assert result["consecutive_failures"] == 2  # an inconclusive window neither adds nor resets


def test_reload_during_the_window_is_inconclusive(slots):
    params = haproxy_params(slots)
    reloader = threading.Timer(1.0, slots.haproxy.reload)
    reloader.start()
    try:
        result, _load = analyze_under_load(slots, params)
    finally:
        reloader.join()
    assert result["verdict"] == "inconclusive", result["reason"]
    assert "HAProxy reloaded during the window" in result["measurements"]["canary"]["details"]["note"]
    assert result["measurements"]["canary"]["requests"] is None


def test_unknown_server_is_a_configuration_error(slots):
    with pytest.raises(ConfigurationError, match=r"no server green_7 \(servers: blue_1, green_1\)"):
        analyze_canary(haproxy_params(slots, canary={"name": "green", "servers": ["green_7"]}))


PROMQL = {
    "requests": 'sum(increase(haproxy_server_http_responses_total{proxy="app",server=~"${slot}_.*"}[${window}]))',
    "errors": 'sum(increase(haproxy_server_http_responses_total{proxy="app",server=~"${slot}_.*",code="5xx"}'
              '[${window}]))',
    "latency": 'max(haproxy_server_response_time_average_seconds{proxy="app",server=~"${slot}_.*"})',
}


def prometheus_params(prometheus, window):
    return {"source": "prometheus", "window": window, "canary": {"name": "green"}, "baseline": {"name": "blue"},
            "prometheus": {"url": prometheus.url, "queries": PROMQL, "latency_unit": "seconds"}, "rules": {}}


def test_prometheus_source_with_real_prometheus(prometheus, slots):
    prometheus.wait_for_scrapes("haproxy")
    slots.green.control(error_rate=0.2)
    load = LoadGenerator(slots.haproxy.url, concurrency=4, duration=60).start()
    try:
        bad = analyze_canary(prometheus_params(prometheus, 4))
        slots.green.control(error_rate=0.0)
        # a fresh window that holds only good traffic
        good = analyze_canary(prometheus_params(prometheus, 4))
    finally:
        load.stop()
    assert bad["verdict"] == "fail", bad["reason"]
    assert 0.1 < check(bad, "max_error_rate")["measured"] < 0.3
    assert bad["measurements"]["canary"]["details"]["queries"]["errors"].startswith(
        'sum(increase(haproxy_server_http_responses_total{proxy="app",server=~"green_.*",code="5xx"}[4s]))')
    assert good["verdict"] == "pass", good["reason"]
    assert good["measurements"]["baseline"]["requests"] > 50


def test_prometheus_empty_result_is_inconclusive(prometheus, slots):
    params = prometheus_params(prometheus, 0)
    params["prometheus"]["queries"] = dict(PROMQL, latency='max(no_such_metric{slot="${slot}"})')
    load = LoadGenerator(slots.haproxy.url, concurrency=2, duration=30).start()
    try:
        prometheus.wait_for_scrapes("haproxy", samples=3)
        params["window"] = 3
        result = analyze_canary(params)
    finally:
        load.stop()
    assert result["verdict"] == "inconclusive", result["reason"]
    assert "no query latency for the canary and baseline" in result["reason"]


def probe_params(slots, **extra):
    params = {"source": "probe", "window": 2.0,
              "canary": {"name": "green", "urls": [slots.green.url + "/"]},
              "baseline": {"name": "blue", "urls": [slots.blue.url + "/"]},
              "probe": {"concurrency": 2, "interval": 0.01, "latency_metric": "p95"}, "rules": {}}
    params.update(extra)
    return params


def test_probe_source_fails_a_bad_canary_and_passes_a_good_one(slots):
    slots.green.control(error_rate=0.2)
    bad = analyze_canary(probe_params(slots))
    assert bad["verdict"] == "fail"
    canary = bad["measurements"]["canary"]
    assert 0.1 < canary["error_rate"] < 0.3
    assert "status 500" in canary["details"]["error_samples"][0]
    assert set(canary["details"]["latency"]) >= {"p50", "p95", "p99"}
    slots.green.control(error_rate=0.0)
    good = analyze_canary(probe_params(slots))
    assert good["verdict"] == "pass", good["reason"]
    assert check(good, "max_latency_ratio")["reason"].startswith("canary p95 latency")


def test_probe_analysis_runs_in_check_mode_and_keeps_the_token_secret(playbook, slots):
    token = "probe-" + "7d1e9a3c5b"
    params = probe_params(slots, window=1.0)
    params["probe"] = dict(params["probe"], bearer_token=token)
    params["rules"] = {"min_requests": 10}
    run = playbook.run(play([{"name": "analysis", "shipyard.deploy.canary_analysis": params}]), check=True,
                       verbosity=3)
    assert run.rc == 0, run.output
    result = run.task("analysis")
    assert result["verdict"] == "pass", result["reason"]
    assert result["changed"] is False
    assert result["measurements"]["canary"]["requests"] >= 10
    assert token not in run.output
