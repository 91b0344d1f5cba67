# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service of the ``canary_analysis`` module: measure both slots over the window, then judge."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.haproxy_stats import measure_haproxy
from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.probe import measure_probe
from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.prometheus import measure_prometheus
from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.rules import evaluate
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

SOURCES = ("haproxy", "prometheus", "probe")
ROLES = ("canary", "baseline")


def source_argument_spec(extra_rules=None):
    """Argument spec of the metric sources and the rules (canary_analysis; rollout adds ``extra_rules``)."""
    return dict(
        haproxy=dict(type="dict", options=dict(
            socket=dict(type="str", required=True),
            backend=dict(type="str", default="app"),
            timeout=dict(type="float", default=5),
        )),
        prometheus=dict(type="dict", options=dict(
            url=dict(type="str", required=True),
            queries=dict(type="dict", required=True, options=dict(
                requests=dict(type="str"),
                errors=dict(type="str"),
                latency=dict(type="str"),
            )),
            latency_unit=dict(type="str", choices=["seconds", "milliseconds"], default="seconds"),
            headers=dict(type="dict"),
            bearer_token=dict(type="str", no_log=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            timeout=dict(type="float", default=10),
        )),
        probe=dict(type="dict", options=dict(
            concurrency=dict(type="int", default=2),
            interval=dict(type="float", default=0.05),
            timeout=dict(type="float", default=5),
            status_codes=dict(type="list", elements="int", default=[200]),
            headers=dict(type="dict"),
            bearer_token=dict(type="str", no_log=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            latency_metric=dict(type="str", choices=["p50", "p95", "p99", "avg", "max"], default="p95"),
        )),
        rules=dict(type="dict", options=dict(
            max_error_rate=dict(type="float"),
            max_latency_ratio=dict(type="float"),
            max_latency_ms=dict(type="float"),
            min_requests=dict(type="int"),
            latency_floor_ms=dict(type="float"),
            failure_limit=dict(type="int"),
            **(extra_rules or {}),
        )),
    )


def _utc(timestamp):
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def measure(source, slots, window, settings):
    """``{role: measurement}`` of ``slots`` from ``source`` over ``window`` seconds."""
    if source == "haproxy":
        return measure_haproxy(slots, window, settings)
    if source == "prometheus":
        return measure_prometheus(slots, window, settings)
    if source == "probe":
        missing = [role for role in ROLES if not slots[role].get("urls")]
        if missing:
            raise ConfigurationError("source=probe needs urls for %s; set %s.urls to the slot's own addresses"
                                     % (" and ".join(missing), missing[0]))
        return measure_probe({role: slots[role]["urls"] for role in ROLES}, window, settings)
    raise ConfigurationError("source %r is not one of %s" % (source, ", ".join(SOURCES)))


def analyze_canary(params, check_mode=False, diff_mode=False):
    """Measure the canary and the baseline, apply the rules, return the auditable record.

    The analysis only reads (the probe source sends GET requests), so it runs in check mode too;
    ``changed`` is always False.  A verdict of fail is a result, not an error: the playbook
    decides what to do with it (see ``failure_limit_reached``).
    """
    source = params.get("source")
    window = params.get("window")
    window = 60.0 if window is None else float(window)
    if window < 0:
        raise ConfigurationError("window must be zero or more seconds, not %s" % window)
    slots = {}
    for role in ROLES:
        spec = dict(params.get(role) or {})
        spec["name"] = spec.get("name") or role
        slots[role] = spec
    if slots["canary"]["name"] == slots["baseline"]["name"] and source != "probe":
        raise ConfigurationError("canary and baseline are both named %r; name the two slots differently"
                                 % slots["canary"]["name"])
    settings = dict(params.get(source) or {})
    started = time.time()
    measurements = measure(source, slots, window, settings)
    ended = time.time()
    judged = evaluate(measurements["canary"], measurements["baseline"], params.get("rules"),
                      params.get("consecutive_failures") or 0)
    result = {
        "changed": False,
        "verdict": judged["verdict"],
        "reason": judged["reason"],
        "checks": judged["checks"],
        "rules": judged["rules"],
        "consecutive_failures": judged["consecutive_failures"],
        "failure_limit_reached": judged["failure_limit_reached"],
        "measurements": {role: dict(measurements[role], slot=slots[role]["name"]) for role in ROLES},
        "source": source,
        "window": {"seconds": window, "started": _utc(started), "ended": _utc(ended)},
    }
    result["msg"] = "canary %s: %s" % (judged["verdict"], judged["reason"])
    return result
