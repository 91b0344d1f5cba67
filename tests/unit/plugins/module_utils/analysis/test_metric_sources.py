"""Parsing and arithmetic of the metric sources (the network parts run in the integration tests)."""

from __future__ import annotations

import math
import socket

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import haproxy_api
from ansible_collections.shipyard.deploy.plugins.module_utils.analysis import haproxy_stats, prometheus
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    AnalysisError,
    ConfigurationError,
    HAProxyAPIError,
)

SHOW_STAT = """\
# pxname,svname,stot,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,econ,eresp,req_tot,rtime,status,
web,FRONTEND,10,0,10,0,0,0,0,,,10,,OPEN,
app,blue_1,100,0,100,0,0,0,0,0,0,100,2,UP,
app,green_1,100,0,80,0,0,20,0,0,0,100,6,UP,
app,green_2,50,0,50,0,0,0,0,0,0,50,3,UP,
app,BACKEND,250,0,230,0,0,20,0,0,0,250,3,UP,
"""


def rows(text=SHOW_STAT):
    return haproxy_api.parse_show_stat(text)


def bump(row, **deltas):
    row = dict(row)
    for field, delta in deltas.items():
        row[field] = str(int(row[field]) + delta) if isinstance(delta, int) else delta
    return row


class TestHAProxy:
    def test_parse_show_stat(self):
        parsed = rows()
        assert parsed[1]["svname"] == "blue_1" and parsed[1]["hrsp_2xx"] == "100"
        with pytest.raises(HAProxyAPIError, match="instead of CSV"):
            haproxy_api.parse_show_stat("Unknown command\n")

    def test_addresses(self):
        assert haproxy_api.parse_address("/run/haproxy/admin.sock") == (socket.AF_UNIX, "/run/haproxy/admin.sock")
        assert haproxy_api.parse_address("unix:/tmp/a.sock") == (socket.AF_UNIX, "/tmp/a.sock")
        assert haproxy_api.parse_address("127.0.0.1:9999") == (socket.AF_INET, ("127.0.0.1", 9999))
        assert haproxy_api.parse_address("tcp://[::1]:9999") == (socket.AF_INET6, ("::1", 9999))
        with pytest.raises(ConfigurationError):
            haproxy_api.parse_address("lb1")

    def test_servers_by_prefix_and_unknown_servers(self):
        assert haproxy_stats.servers_by_prefix(rows(), "app", "green") == ["green_1", "green_2"]
        with pytest.raises(ConfigurationError, match=r"no server green_9 \(servers: blue_1, green_1, green_2\)"):
            haproxy_stats.select_servers(rows(), "app", ["green_9"])
        with pytest.raises(ConfigurationError, match="no backend 'api'"):
            haproxy_stats.select_servers(rows(), "api", ["x"])

    def test_window_is_the_difference_summed_over_the_slot(self):
        before = haproxy_stats.select_servers(rows(), "app", ["green_1", "green_2"])
        after = {"green_1": bump(before["green_1"], hrsp_2xx=300, hrsp_5xx=90, econ=10, rtime="8"),
                 "green_2": bump(before["green_2"], hrsp_2xx=100, rtime="2")}
        result = haproxy_stats.window_measurement(before, after)
        assert result["requests"] == 500  # 300 + 90 + 10 + 100
        assert result["errors"] == 100  # 90 5xx + 10 connection errors
        assert result["error_rate"] == pytest.approx(0.2)
        assert result["latency_ms"] == pytest.approx((8 * 400 + 2 * 100) / 500)
        assert result["latency_metric"] == "avg"
        assert result["details"]["servers"]["green_1"]["econ"] == 10

    def test_counters_going_backwards_make_the_window_missing(self):
        before = haproxy_stats.select_servers(rows(), "app", ["green_1"])
        after = {"green_1": bump(before["green_1"], hrsp_2xx=-90)}
        result = haproxy_stats.window_measurement(before, after)
        assert result["requests"] is None and result["error_rate"] is None
        assert "went backwards" in result["details"]["note"]

    def test_no_traffic_has_no_latency(self):
        before = haproxy_stats.select_servers(rows(), "app", ["blue_1"])
        result = haproxy_stats.window_measurement(before, before)
        assert result["requests"] == 0 and result["latency_ms"] is None and result["error_rate"] is None


class TestPrometheus:
    def test_render_query(self):
        template = 'sum(increase(x{slot="${slot}"}[${window}]))'
        text = prometheus.render_query(template, {"slot": "green", "window": "60s"})
        assert text == 'sum(increase(x{slot="green"}[60s]))'
        with pytest.raises(ConfigurationError, match=r"\$\{tier\}"):
            prometheus.render_query("x{tier='${tier}'}", {"slot": "g"})

    def test_parse_instant_results(self):
        def vector(*values):
            return {"status": "success", "data": {"resultType": "vector",
                                                  "result": [{"metric": {}, "value": [1.0, v]} for v in values]}}

        assert prometheus.parse_instant_result(vector("12.5"), "q") == 12.5
        assert prometheus.parse_instant_result(vector(), "q") is None
        assert prometheus.parse_instant_result({"status": "success", "data": {"resultType": "scalar",
                                                                              "result": [1.0, "3"]}}, "q") == 3.0
        assert math.isnan(prometheus.parse_instant_result(vector("NaN"), "q"))
        with pytest.raises(AnalysisError, match="2 series"):
            prometheus.parse_instant_result(vector("1", "2"), "q")
        with pytest.raises(AnalysisError, match="parse error"):
            prometheus.parse_instant_result({"status": "error", "error": "parse error at char 3"}, "q")
        with pytest.raises(AnalysisError, match="matrix"):
            prometheus.parse_instant_result({"status": "success", "data": {"resultType": "matrix", "result": []}}, "q")
