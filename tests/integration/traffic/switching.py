"""Shared by the HAProxy and nginx load tests: drive many switches under load and measure shares."""

from __future__ import annotations

import time

from harness.load import LoadGenerator

from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import switch_service

# 50+ quick weight changes across the whole range, blue<->green flips among them
QUICK_STEPS = [{"blue": 100 - p, "green": p} for p in (5, 10, 25, 50, 75, 90, 100, 0)] * 6 + [
    {"blue": 0, "green": 100}, {"blue": 100, "green": 0}] * 3
# held long enough to count the share of each slot
MEASURED_STEPS = [{"blue": 90, "green": 10}, {"blue": 50, "green": 50}, {"blue": 20, "green": 80}]


def switch_under_load(url, options, hold=1.2, settle=0.15, concurrency=4):
    """Run QUICK_STEPS then MEASURED_STEPS through ``switch_service`` under load.

    Returns (load, changes, shares) where shares is [(requested weights, {slot: percent seen})]
    counted over each measured step's hold, after ``settle`` seconds.
    """
    load = LoadGenerator(url, concurrency=concurrency, duration=120, max_requests=10 ** 7).start()
    changes = 0
    windows = []
    try:
        time.sleep(0.3)
        for weights in QUICK_STEPS:
            changes += switch_service(dict(options, weights=weights), False, False)["changed"]
            time.sleep(0.02)
        for weights in MEASURED_STEPS:
            changes += switch_service(dict(options, weights=weights), False, False)["changed"]
            start = time.monotonic() + settle
            time.sleep(hold)
            windows.append((weights, start, time.monotonic()))
        time.sleep(0.2)
    finally:
        load.stop()
    shares = []
    with load.lock:
        timeline = list(load.timeline)
    for weights, start, end in windows:
        seen = [slot for started, slot, _outcome in timeline if start <= started <= end and slot]
        shares.append((weights, {s: 100.0 * seen.count(s) / max(1, len(seen)) for s in weights}, len(seen)))
    return load, changes, shares
