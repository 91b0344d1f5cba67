"""shipyard.deploy.rollout with the Prometheus source: a real Prometheus scraping HAProxy's exporter
every second, queried at every sample over the time since the step began."""

from __future__ import annotations

import pytest
from harness.load import LoadGenerator
from test_canary_analysis import PROMQL

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import RolloutError
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.controller import run_rollout


def rollout_params(slots, prometheus, **extra):
    params = {
        "driver": "haproxy", "haproxy_socket": slots.haproxy.admin_socket, "haproxy_backend": "app",
        "strategy": "canary", "live_slot": "blue", "idle_slot": "green", "steps": [25, 100],
        "step_min_duration": 4.0, "step_max_duration": 10.0, "sample_interval": 1.0,
        "analysis": {"source": "prometheus", "rules": {"min_requests": 20},
                     "prometheus": {"url": prometheus.url, "queries": PROMQL, "latency_unit": "seconds"}},
    }
    params.update(extra)
    return params


def test_a_good_canary_passes_on_prometheus_figures(prometheus, slots):
    prometheus.wait_for_scrapes("haproxy")
    with LoadGenerator(slots.haproxy.url, concurrency=4, duration=60) as load:
        result = run_rollout(rollout_params(slots, prometheus))
    assert result["outcome"] == "succeeded", result
    step = result["steps"][0]
    assert step["verdict"] == "pass" and step["canary"]["requests"] >= 20 and step["baseline"]["requests"] >= 20
    assert load.failed == 0


def test_a_bad_canary_is_rolled_back_on_prometheus_figures(prometheus, slots):
    prometheus.wait_for_scrapes("haproxy")
    slots.green.control(error_rate=0.3)
    with LoadGenerator(slots.haproxy.url, concurrency=4, duration=60):
        with pytest.raises(RolloutError) as caught:
            run_rollout(rollout_params(slots, prometheus, step_min_duration=30.0, step_max_duration=60.0))
    assert caught.value.details["outcome"] == "rolled_back"
    assert "error rate" in caught.value.message
    # judged within a few scrapes, long before the 30 s step
    assert caught.value.details["steps"][0]["seconds"] < 15
