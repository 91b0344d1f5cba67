# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout's judgement at one sample: fail now, pass the step, keep watching, or give up.

:func:`judge` is a pure function of what has been measured since the step (or the bake) began.
The controller calls it after every sample (about twice a second), so a verdict never waits for
the end of a window:

- **fail** the moment the evidence shows the canary is worse than a rule:
  the one-sided Wilson lower bound of its error rate is above ``max_error_rate`` (and at least
  ``min_errors`` requests failed); its latency is
  above ``max_latency_ratio`` times the reference (the baseline slot's latency, or the old
  version's latency measured before the switch when the baseline serves nothing) or above
  ``max_latency_ms``, for ``latency_sustain`` samples in a row once it served
  ``latency_min_requests`` requests (and, for the ratio, at least ``latency_min_increase_ms``
  slower); or one of its health checks failed more than
  ``max_health_failures`` times in a row;
- **pass** (a canary step) only after ``min_duration`` seconds AND ``min_requests`` requests on the
  canary (and on the baseline, while it still gets traffic), with every rule within its limit;
- **inconclusive** when ``max_duration`` is reached without a pass (too little traffic, or an error
  rate above the limit that the sample cannot prove): the caller applies ``on_inconclusive``;
- **wait** otherwise.

A bake (the watch after 100 %) has no minimum sample: it passes when its duration is over and
nothing failed; a quiet service is then judged by its health checks alone.

Missing data is never a pass: a rule without data stays pending, and a pending rule never lets a
step pass.
"""

from __future__ import annotations

import math

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.stats import wilson_bounds, z_for

FAIL = "fail"
PASS = "pass"  # noqa: S105 - a verdict, not a password
WAIT = "wait"
INCONCLUSIVE = "inconclusive"
PENDING = "pending"
SKIPPED = "skipped"

STEP = "step"
BAKE = "bake"

DEFAULT_RULES = {
    "max_error_rate": 0.05,
    "max_latency_ratio": 2.0,
    "max_latency_ms": None,
    "min_requests": 50,
    "latency_floor_ms": 1.0,
    "confidence": 0.99,
    # a failure needs at least this many failed requests: one error among the first few requests
    # has a wide interval that can still clear a low limit
    "min_errors": 3,
    "latency_min_requests": 50,
    "latency_sustain": 6,
    # a canary must also be this much slower in absolute terms: 2 ms against 1 ms is a ratio of 2
    # and nothing a user notices, and at that scale a busy host is noisier than any release
    "latency_min_increase_ms": 5.0,
    "max_health_failures": 3,
    # canary_analysis' rule, accepted so that existing traffic_analysis settings keep working: the
    # rollout fails on the evidence itself, not on a count of failed windows.
    "failure_limit": 1,
}


def rules_with_defaults(rules):
    """The rule settings with defaults for every key left out or None; ConfigurationError naming a bad one."""
    unknown = sorted(set(rules or {}) - set(DEFAULT_RULES))
    if unknown:
        raise ConfigurationError("unknown rule %s; the rules are %s"
                                 % (", ".join(unknown), ", ".join(DEFAULT_RULES)))
    merged = dict(DEFAULT_RULES)
    for key, value in (rules or {}).items():
        if isinstance(value, str):
            # extra variables (-e, AWX surveys) arrive as text
            try:
                value = float(value)
            except ValueError:
                pass
        if value is not None:
            merged[key] = value
    problems = []
    for key, value in merged.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            problems.append("%s must be a finite number, not %r" % (key, value))
    if problems:
        raise ConfigurationError("invalid rules: " + "; ".join(problems))
    if not 0 <= merged["max_error_rate"] <= 1:
        problems.append("max_error_rate is a fraction between 0 and 1 (0.05 is 5%%), not %s" % merged["max_error_rate"])
    if merged["max_latency_ratio"] is not None and merged["max_latency_ratio"] <= 0:
        problems.append("max_latency_ratio must be above 0, not %s" % merged["max_latency_ratio"])
    if merged["max_latency_ms"] is not None and merged["max_latency_ms"] <= 0:
        problems.append("max_latency_ms must be above 0, not %s" % merged["max_latency_ms"])
    if not 0.5 < merged["confidence"] < 1:
        problems.append("confidence must be between 0.5 and 1 (0.99 is 99%%), not %s" % merged["confidence"])
    for key in ("min_requests", "latency_floor_ms", "latency_min_requests", "max_health_failures", "min_errors",
                "latency_min_increase_ms"):
        if merged[key] < 0:
            problems.append("%s cannot be negative, not %s" % (key, merged[key]))
    for key in ("latency_sustain", "failure_limit"):
        if merged[key] < 1:
            problems.append("%s must be at least 1, not %s" % (key, merged[key]))
    if problems:
        raise ConfigurationError("invalid rules: " + "; ".join(problems))
    return merged


def _check(rule, measured, threshold, result, reason, slot="canary"):
    return {"rule": rule, "slot": slot, "measured": measured, "threshold": threshold, "result": result,
            "reason": reason}


def _pct(value):
    return "%.2f%%" % (value * 100)


def check_error_rate(canary, rules):
    """Fail when the lower confidence bound is above the limit; pass while the estimate is within it."""
    limit = rules["max_error_rate"]
    requests, errors = int(canary.get("requests") or 0), int(canary.get("errors") or 0)
    if requests <= 0:
        return _check("max_error_rate", None, limit, PENDING, "no request on the canary yet")
    lower, upper = wilson_bounds(errors, requests, z_for(rules["confidence"]))
    rate = errors / requests
    text = "canary error rate %s (%d of %d requests, %d%% bounds %s-%s)" % (
        _pct(rate), errors, requests, round(rules["confidence"] * 100), _pct(lower), _pct(upper))
    if lower > limit and errors >= rules["min_errors"]:
        return _check("max_error_rate", rate, limit, FAIL, "%s: above %s with that confidence" % (text, _pct(limit)))
    if rate > limit:
        return _check("max_error_rate", rate, limit, PENDING,
                      "%s: above %s but not proven yet" % (text, _pct(limit)))
    return _check("max_error_rate", rate, limit, PASS, "%s: within %s" % (text, _pct(limit)))


def _latency_ready(canary, rules):
    return canary.get("latency_ms") is not None and (canary.get("requests") or 0) >= rules["latency_min_requests"]


def check_latency_ratio(canary, baseline, reference_ms, rules, breaches):
    """Latency against the baseline's (or the old version's before the switch) for ``latency_sustain`` samples."""
    limit = rules["max_latency_ratio"]
    metric = canary.get("latency_metric") or "latency"
    base_ms, source = None, None
    if baseline is not None and baseline.get("latency_ms") is not None and \
            (baseline.get("requests") or 0) >= rules["latency_min_requests"]:
        base_ms, source = baseline["latency_ms"], "the baseline's"
    elif reference_ms is not None:
        base_ms, source = reference_ms, "the old version's before the switch"
    if base_ms is None:
        if baseline is None:
            # the old slot serves nothing and was never measured: nothing to compare with
            return _check("max_latency_ratio", None, limit, SKIPPED, "no baseline latency to compare with"), 0
        return _check("max_latency_ratio", None, limit, PENDING, "no baseline latency to compare with yet"), 0
    if not _latency_ready(canary, rules):
        return _check("max_latency_ratio", None, limit, PENDING,
                      "canary latency not judged before %d requests" % rules["latency_min_requests"]), 0
    floor = rules["latency_floor_ms"] or 0.0
    ratio = max(canary["latency_ms"], floor) / max(base_ms, floor) if max(base_ms, floor) > 0 else math.inf
    text = "canary %s latency %.1f ms is %.2fx %s %.1f ms" % (metric, canary["latency_ms"], ratio, source, base_ms)
    if ratio > limit and canary["latency_ms"] - base_ms >= rules["latency_min_increase_ms"]:
        breaches += 1
        result = FAIL if breaches >= rules["latency_sustain"] else PENDING
        return _check("max_latency_ratio", round(ratio, 4), limit, result,
                      "%s, above %.2fx (%d sample%s in a row)"
                      % (text, limit, breaches, "" if breaches == 1 else "s")), breaches
    return _check("max_latency_ratio", round(ratio, 4), limit, PASS, "%s, within %.2fx" % (text, limit)), 0


def check_latency_ceiling(canary, rules, breaches):
    """Latency against an absolute ceiling for ``latency_sustain`` samples."""
    limit = rules["max_latency_ms"]
    metric = canary.get("latency_metric") or "latency"
    if not _latency_ready(canary, rules):
        return _check("max_latency_ms", None, limit, PENDING,
                      "canary latency not judged before %d requests" % rules["latency_min_requests"]), 0
    value = canary["latency_ms"]
    if value > limit:
        breaches += 1
        result = FAIL if breaches >= rules["latency_sustain"] else PENDING
        return _check("max_latency_ms", value, limit, result,
                      "canary %s latency %.1f ms is above the ceiling of %.1f ms (%d sample%s in a row)"
                      % (metric, value, limit, breaches, "" if breaches == 1 else "s")), breaches
    return _check("max_latency_ms", value, limit, PASS,
                  "canary %s latency %.1f ms is within the ceiling of %.1f ms" % (metric, value, limit)), 0


def check_health(health_failures, rules):
    """The new slot's health checks: fail after more than ``max_health_failures`` failures in a row."""
    limit = rules["max_health_failures"]
    worst = max(health_failures.values()) if health_failures else 0
    if worst > limit:
        failing = ", ".join(sorted(t for t, n in health_failures.items() if n > limit))
        return _check("max_health_failures", worst, limit, FAIL,
                      "health check of %s failed %d times in a row (limit %d)" % (failing, worst, limit))
    return _check("max_health_failures", worst, limit, PASS,
                  "health checks failing at most %d times in a row (limit %d)" % (worst, limit))


def check_sample(slot, data, minimum):
    """Enough requests on ``slot`` for a step to pass."""
    requests = int(data.get("requests") or 0) if data is not None else 0
    result = PASS if requests >= minimum else PENDING
    return _check("min_requests", requests, minimum, result,
                  "%s served %d requests (%s %d)"
                  % (slot, requests, "at least" if result == PASS else "needs", minimum), slot=slot)


def judge(canary, baseline, rules, elapsed, min_duration, max_duration, phase=STEP, state=None,
          reference_latency_ms=None, health_failures=None):
    """Judge one sample; return ``{verdict, reason, checks, state}``.

    ``canary``/``baseline`` are measurements since the step began (``requests``, ``errors``,
    ``latency_ms``, ``latency_metric``); ``baseline`` is None when the old slot serves nothing.
    ``rules`` come from :func:`rules_with_defaults`.  ``state`` carries the latency breach
    counters from the previous sample of the same step (pass back the returned ``state``).
    ``health_failures`` is ``{target: consecutive failures}`` of the new slot's health checks.
    """
    state = dict(state or {})
    checks = [check_health(health_failures or {}, rules), check_error_rate(canary, rules)]
    if rules["max_latency_ratio"] is not None:
        check, state["ratio_breaches"] = check_latency_ratio(canary, baseline, reference_latency_ms, rules,
                                                             state.get("ratio_breaches", 0))
        checks.append(check)
    if rules["max_latency_ms"] is not None:
        check, state["ceiling_breaches"] = check_latency_ceiling(canary, rules, state.get("ceiling_breaches", 0))
        checks.append(check)
    if phase == STEP:
        checks.append(check_sample("canary", canary, rules["min_requests"]))
        if baseline is not None:
            checks.append(check_sample("baseline", baseline, rules["min_requests"]))

    failed = [c for c in checks if c["result"] == FAIL]
    if failed:
        return {"verdict": FAIL, "reason": "; ".join(c["reason"] for c in failed), "checks": checks, "state": state}
    if elapsed < min_duration:
        return {"verdict": WAIT, "reason": "%.1f of at least %.1f s" % (elapsed, min_duration), "checks": checks,
                "state": state}
    if phase == BAKE:
        return {"verdict": PASS, "reason": "no rule failed in %.1f s (%d requests on the new slot)"
                % (elapsed, int(canary.get("requests") or 0)), "checks": checks, "state": state}
    pending = [c for c in checks if c["result"] == PENDING]
    if not pending:
        return {"verdict": PASS, "reason": "every rule passed after %.1f s" % elapsed, "checks": checks,
                "state": state}
    if elapsed >= max_duration:
        return {"verdict": INCONCLUSIVE,
                "reason": "no verdict after %.1f s: %s" % (elapsed, "; ".join(c["reason"] for c in pending)),
                "checks": checks, "state": state}
    return {"verdict": WAIT, "reason": "; ".join(c["reason"] for c in pending), "checks": checks, "state": state}
