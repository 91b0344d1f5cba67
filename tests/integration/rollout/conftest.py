"""A real HAProxy in front of blue (live, version 1.4.1) and green (new, 1.4.2) backends.

Each test gets fresh backends and a fresh HAProxy with all traffic on blue, and the rollout
options that point at them (``rollout_params``).  HAProxy's ``rtime`` averages a server's last
1024 requests, so a shared HAProxy would carry one test's latency into the next.
"""

from __future__ import annotations

import pytest
from harness.backend import BackendServer
from harness.haproxy import HAProxyServer


class Stack:
    def __init__(self, tmp_path):
        self.blue = BackendServer("blue", version="1.4.1").start()
        self.green = BackendServer("green", version="1.4.2").start()
        self.haproxy = HAProxyServer(slots={"blue": [self.blue], "green": [self.green]},
                                     weights={"blue": 100, "green": 0}).start()
        self.ledger = str(tmp_path / "ledger.jsonl")

    def params(self, **extra):
        params = {
            "driver": "haproxy", "haproxy_socket": self.haproxy.admin_socket, "haproxy_backend": "app",
            "haproxy_state_file": self.haproxy.state_file,
            "strategy": "canary", "live_slot": "blue", "idle_slot": "green",
            "steps": [5, 25, 50, 100], "step_min_duration": 2.0, "sample_interval": 0.25,
            "analysis": {"source": "haproxy", "haproxy": {"socket": self.haproxy.admin_socket, "backend": "app"},
                         "rules": {"min_requests": 20}},
            "health_targets": [{"url": self.green.url + "/health", "json": {"version": "1.4.2"}}],
            "health": {"timeout": 10, "success_threshold": 1, "interval": 0.2, "watch_interval": 0.5},
            "record": {"ledger": self.ledger, "deployment_id": "d-1", "environment": "test",
                       "application": "shop", "version": "1.4.2"},
            "slot_urls": {"blue": [self.blue.url], "green": [self.green.url]},
        }
        params.update(extra)
        return params

    def weights(self):
        """Total HAProxy weight per slot (servers are named <slot>_<n>)."""
        totals = {"blue": 0, "green": 0}
        for server, weight in self.haproxy.server_weights().items():
            totals[server.split("_")[0]] += weight
        return totals

    def stop(self):
        self.haproxy.stop()
        self.blue.stop()
        self.green.stop()


@pytest.fixture
def stack(tmp_path):
    running = Stack(tmp_path)
    yield running
    running.stop()
