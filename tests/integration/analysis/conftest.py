"""A real HAProxy in front of a baseline slot (blue) and a canary slot (green) of real backends.

HAProxy also serves its built-in Prometheus exporter on a second loopback port, which a real
Prometheus scrapes every second (session-scoped: it keeps scraping whichever HAProxy is current).
Each test gets fresh backends and a fresh HAProxy, because HAProxy's ``rtime`` is an average over
a server's last 1024 requests: traffic of a previous test would leak into the next one's latency.
"""

from __future__ import annotations

import pytest
from harness import prometheus as prom_harness
from harness.backend import BackendServer
from harness.haproxy import HAProxyServer
from harness.net import free_port

EXPORTER_PORT = free_port()
EXPORTER = """
frontend metrics
    bind 127.0.0.1:%d
    http-request use-service prometheus-exporter if { path /metrics }
""" % EXPORTER_PORT


class Slots:
    """blue (baseline) and green (canary) backends behind one HAProxy, 50/50."""

    def __init__(self):
        self.blue = BackendServer("blue", version="1.4.1").start()
        self.green = BackendServer("green", version="1.4.2").start()
        # the exporter frontend goes into the config after the defaults section
        self.haproxy = HAProxyServer(slots={"blue": [self.blue], "green": [self.green]},
                                     weights={"blue": 50, "green": 50}, extra_defaults=EXPORTER).start()

    def stop(self):
        self.haproxy.stop()
        self.blue.stop()
        self.green.stop()


@pytest.fixture
def slots():
    running = Slots()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def prometheus():
    if not prom_harness.available():
        pytest.fail("the prometheus Debian package is not installed (make system-deps installs it)")
    server = prom_harness.PrometheusServer({"haproxy": ["127.0.0.1:%d" % EXPORTER_PORT]}).start()
    yield server
    server.stop()
