# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdict of a canary analysis: pass, fail or inconclusive, with every check written down.

Each rule compares a measurement with a threshold and yields one *check* record
(``rule``, ``measured``, ``threshold``, ``result``, ``reason``), so the verdict can be audited.
Missing data (no request count, no latency, a NaN from a query) makes a check *inconclusive*,
never a pass: a canary that cannot be measured is not promoted.

Verdict:

1. too little traffic on either slot (``min_requests``) -> inconclusive, whatever the other rules
   say: a handful of requests proves nothing either way;
2. otherwise any failed check -> fail;
3. otherwise any inconclusive check -> inconclusive;
4. otherwise pass.
"""

from __future__ import annotations

import math

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

PASS = "pass"  # noqa: S105 - a verdict, not a password
FAIL = "fail"
INCONCLUSIVE = "inconclusive"

# Defaults from common practice (Flagger, Argo Rollouts, Kayenta examples).
DEFAULT_RULES = {
    "max_error_rate": 0.05,
    "max_latency_ratio": 2.0,
    "max_latency_ms": None,
    "min_requests": 50,
    "failure_limit": 1,
    # HAProxy reports whole milliseconds: a fast baseline reads 0 ms, and no ratio over 0 means
    # anything.  Latencies below this floor count as the floor in the ratio.
    "latency_floor_ms": 1.0,
}


def measurement(requests=None, errors=None, latency_ms=None, latency_metric=None, details=None):
    """A per-slot measurement in the shape every source returns.

    ``error_rate`` is derived here so that every source computes it the same way, and it is None
    (missing) when there were no requests rather than 0.
    """
    requests = _number(requests)
    errors = _number(errors)
    error_rate = None
    if requests is not None and errors is not None and requests > 0:
        error_rate = errors / requests
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": error_rate,
        "latency_ms": _number(latency_ms),
        "latency_metric": latency_metric,
        "details": details or {},
    }


def _number(value):
    """A finite float/int or None; NaN and infinities are missing data, not numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return int(number) if isinstance(value, int) else number


def rules_with_defaults(rules):
    """The rule settings with defaults filled in for every key left out or None."""
    merged = dict(DEFAULT_RULES)
    for key, value in (rules or {}).items():
        if value is not None:
            merged[key] = value
    problems = []
    if not 0 <= merged["max_error_rate"] <= 1:
        problems.append("max_error_rate is a fraction between 0 and 1 (0.05 is 5%%), not %s" % merged["max_error_rate"])
    if merged["max_latency_ratio"] <= 0:
        problems.append("max_latency_ratio must be above 0, not %s" % merged["max_latency_ratio"])
    if merged["max_latency_ms"] is not None and merged["max_latency_ms"] <= 0:
        problems.append("max_latency_ms must be above 0, not %s" % merged["max_latency_ms"])
    if merged["min_requests"] < 0 or merged["latency_floor_ms"] < 0:
        problems.append("min_requests and latency_floor_ms cannot be negative")
    if merged["failure_limit"] < 1:
        problems.append("failure_limit must be at least 1, not %s" % merged["failure_limit"])
    if problems:
        raise ConfigurationError("invalid rules: " + "; ".join(problems))
    return merged


def _check(rule, slot, measured, threshold, result, reason):
    return {"rule": rule, "slot": slot, "measured": measured, "threshold": threshold, "result": result,
            "reason": reason}


def _pct(value):
    return "%.2f%%" % (value * 100)


def check_min_requests(slot, data, minimum):
    """Enough requests on ``slot`` to judge it."""
    requests = data.get("requests")
    if requests is None:
        return _check("min_requests", slot, None, minimum, INCONCLUSIVE,
                      "no request count for the %s (missing data is never a pass)" % slot)
    if requests < minimum:
        return _check("min_requests", slot, requests, minimum, INCONCLUSIVE,
                      "%s served %d requests, fewer than the %d needed for a verdict" % (slot, requests, minimum))
    return _check("min_requests", slot, requests, minimum, PASS,
                  "%s served %d requests (at least %d)" % (slot, requests, minimum))


def check_error_rate(data, maximum):
    """The canary's error rate is at most ``maximum``."""
    rate = data.get("error_rate")
    if rate is None:
        return _check("max_error_rate", "canary", None, maximum, INCONCLUSIVE,
                      "no error rate for the canary (no requests or no error count)")
    detail = "%s errors out of %s requests" % (_fmt(data.get("errors")), _fmt(data.get("requests")))
    if rate > maximum:
        return _check("max_error_rate", "canary", rate, maximum, FAIL,
                      "canary error rate %s (%s) is above %s" % (_pct(rate), detail, _pct(maximum)))
    return _check("max_error_rate", "canary", rate, maximum, PASS,
                  "canary error rate %s (%s) is at most %s" % (_pct(rate), detail, _pct(maximum)))


def check_latency_ratio(canary, baseline, maximum, floor_ms):
    """The canary's latency is at most ``maximum`` times the baseline's."""
    metric = canary.get("latency_metric") or baseline.get("latency_metric") or "latency"
    canary_ms, baseline_ms = canary.get("latency_ms"), baseline.get("latency_ms")
    if canary_ms is None or baseline_ms is None:
        missing = " and ".join(s for s, v in (("canary", canary_ms), ("baseline", baseline_ms)) if v is None)
        return _check("max_latency_ratio", "canary", None, maximum, INCONCLUSIVE,
                      "no %s latency for the %s" % (metric, missing))
    ratio = max(canary_ms, floor_ms) / max(baseline_ms, floor_ms)
    text = "canary %s latency %.1f ms is %.2fx the baseline's %.1f ms" % (metric, canary_ms, ratio, baseline_ms)
    if ratio > maximum:
        return _check("max_latency_ratio", "canary", round(ratio, 4), maximum, FAIL,
                      "%s, above the limit of %.2fx" % (text, maximum))
    return _check("max_latency_ratio", "canary", round(ratio, 4), maximum, PASS,
                  "%s, within %.2fx" % (text, maximum))


def check_latency_ceiling(canary, maximum_ms):
    """The canary's latency is at most ``maximum_ms`` milliseconds."""
    metric = canary.get("latency_metric") or "latency"
    value = canary.get("latency_ms")
    if value is None:
        return _check("max_latency_ms", "canary", None, maximum_ms, INCONCLUSIVE,
                      "no %s latency for the canary" % metric)
    if value > maximum_ms:
        return _check("max_latency_ms", "canary", value, maximum_ms, FAIL,
                      "canary %s latency %.1f ms is above the ceiling of %.1f ms" % (metric, value, maximum_ms))
    return _check("max_latency_ms", "canary", value, maximum_ms, PASS,
                  "canary %s latency %.1f ms is within the ceiling of %.1f ms" % (metric, value, maximum_ms))


def _fmt(value):
    if value is None:
        return "?"
    return "%d" % value if float(value).is_integer() else "%.2f" % value


def evaluate(canary, baseline, rules=None, consecutive_failures=0):
    """Judge ``canary`` against ``baseline`` (measurement dicts) with ``rules``.

    Returns ``{verdict, reason, checks, rules, consecutive_failures, failure_limit_reached}``.
    ``consecutive_failures`` is the count carried over from earlier steps of the same rollout:
    a fail adds one, a pass resets it, an inconclusive window leaves it as it was.
    """
    settings = rules_with_defaults(rules)
    checks = []
    if settings["min_requests"] is not None:
        checks.append(check_min_requests("canary", canary, settings["min_requests"]))
        checks.append(check_min_requests("baseline", baseline, settings["min_requests"]))
    if settings["max_error_rate"] is not None:
        checks.append(check_error_rate(canary, settings["max_error_rate"]))
    if settings["max_latency_ratio"] is not None:
        checks.append(check_latency_ratio(canary, baseline, settings["max_latency_ratio"],
                                          settings["latency_floor_ms"] or 0.0))
    if settings["max_latency_ms"] is not None:
        checks.append(check_latency_ceiling(canary, settings["max_latency_ms"]))

    too_little = [c for c in checks if c["rule"] == "min_requests" and c["result"] != PASS]
    failed = [c for c in checks if c["result"] == FAIL]
    unknown = [c for c in checks if c["result"] == INCONCLUSIVE]
    if not checks:
        verdict, reasons = INCONCLUSIVE, ["no rule is enabled, so nothing was judged"]
    elif too_little:
        verdict, reasons = INCONCLUSIVE, [c["reason"] for c in too_little]
        if failed:
            reasons.append("not judged yet although: " + "; ".join(c["reason"] for c in failed))
    elif failed:
        verdict, reasons = FAIL, [c["reason"] for c in failed]
    elif unknown:
        verdict, reasons = INCONCLUSIVE, [c["reason"] for c in unknown]
    else:
        verdict, reasons = PASS, ["every rule passed"]

    previous = int(consecutive_failures or 0)
    if verdict == FAIL:
        count = previous + 1
    elif verdict == PASS:
        count = 0
    else:
        count = previous
    limit = settings["failure_limit"]
    return {
        "verdict": verdict,
        "reason": "; ".join(reasons),
        "checks": checks,
        "rules": settings,
        "consecutive_failures": count,
        "failure_limit_reached": count >= limit,
    }
