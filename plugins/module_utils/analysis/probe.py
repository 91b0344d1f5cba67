# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metric source ``probe``: synthetic requests sent straight to each slot during the window.

Needs nothing but the slots' URLs.  Each slot gets ``concurrency`` workers that go round its URLs,
pausing ``interval`` seconds between two requests, until the window ends; a request succeeds when
it gets one of the expected status codes within the timeout (the checks of ``health_check``).
"""

from __future__ import annotations

import threading
import time

from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.rules import measurement
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.health import (
    Target,
    latency_summary,
    probe_http,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.http_client import new_session as new_http_session

LATENCY_METRICS = ("p50", "p95", "p99", "avg", "max")
# Distinct error messages kept per slot in the result: enough to see what went wrong.
ERROR_SAMPLES = 5


class SlotProbe:
    """Sends requests to one slot's URLs from worker threads and collects the outcomes."""

    def __init__(self, slot, urls, settings):
        if not urls:
            raise ConfigurationError("the probe source needs urls for the %s slot; set %s.urls" % (slot, slot))
        defaults = {"request_timeout": settings.get("timeout") or 5.0, "headers": settings.get("headers"),
                    "bearer_token": settings.get("bearer_token"),
                    "validate_certs": settings.get("validate_certs") is not False, "ca_path": settings.get("ca_path")}
        status_codes = settings.get("status_codes") or [200]
        self.slot = slot
        self.targets = [Target({"url": url, "status_codes": status_codes}, defaults) for url in urls]
        self.lock = threading.Lock()
        self.latencies = []
        self.requests = 0
        self.errors = 0
        self.error_samples = []
        self.next_target = 0

    def _take_target(self):
        with self.lock:
            target = self.targets[self.next_target % len(self.targets)]
            self.next_target += 1
            return target

    def record(self, result):
        """Count one request's outcome."""
        with self.lock:
            self.requests += 1
            self.latencies.append(result.latency)
            if not result.ok:
                self.errors += 1
                if result.error not in self.error_samples and len(self.error_samples) < ERROR_SAMPLES:
                    self.error_samples.append(result.error)

    def work(self, session, deadline, interval, stop):
        """One worker: request, wait ``interval``, repeat until the deadline."""
        while not stop.is_set() and time.monotonic() < deadline:
            self.record(probe_http(self._take_target(), session))
            if interval and stop.wait(min(interval, max(0.0, deadline - time.monotonic()))):
                return

    def result(self, metric):
        """This slot's measurement, latency being the ``metric`` of the latency summary."""
        summary = latency_summary(self.latencies)
        return measurement(
            requests=self.requests,
            errors=self.errors,
            latency_ms=summary.get(metric),
            latency_metric=metric,
            details={"latency": summary, "error_samples": list(self.error_samples),
                     "urls": [t.describe() for t in self.targets]},
        )


def measure_probe(slots, window, settings):
    """Probe every slot for ``window`` seconds; return ``{slot: measurement}``.

    ``slots`` is ``{slot: [urls]}``; ``settings`` holds ``concurrency``, ``interval``, ``timeout``,
    ``status_codes``, ``headers``, ``bearer_token``, ``validate_certs``, ``ca_path`` and
    ``latency_metric`` (one of p50, p95, p99, avg, max).
    """
    metric = settings.get("latency_metric") or "p95"
    if metric not in LATENCY_METRICS:
        raise ConfigurationError("latency_metric %r is not available from the probe source; use one of %s"
                                 % (metric, ", ".join(LATENCY_METRICS)))
    concurrency = settings.get("concurrency") or 2
    interval = settings.get("interval")
    interval = 0.05 if interval is None else interval
    probes = {slot: SlotProbe(slot, urls, settings) for slot, urls in slots.items()}
    session = new_http_session(concurrency * len(probes))
    stop = threading.Event()
    deadline = time.monotonic() + window
    threads = [threading.Thread(target=p.work, args=(session, deadline, interval, stop), daemon=True)
               for p in probes.values() for _worker in range(concurrency)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
        session.close()
    return {slot: p.result(metric) for slot, p in probes.items()}
