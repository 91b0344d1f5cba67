"""Verdict logic: thresholds, inconclusive on missing data or too little traffic, failure streaks."""

from __future__ import annotations

import math

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.analysis import rules
from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.rules import evaluate, measurement
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError


def slot(requests=1000, errors=0, latency_ms=10.0, metric="p95"):
    return measurement(requests=requests, errors=errors, latency_ms=latency_ms, latency_metric=metric)


def by_rule(result, rule, slot_name="canary"):
    (check,) = [c for c in result["checks"] if c["rule"] == rule and c["slot"] == slot_name]
    return check


def test_good_canary_passes_with_every_check_recorded():
    result = evaluate(slot(errors=10), slot(errors=8))
    assert result["verdict"] == "pass"
    assert result["reason"] == "every rule passed"
    assert [c["rule"] for c in result["checks"]] == ["min_requests", "min_requests", "max_error_rate",
                                                     "max_latency_ratio"]
    assert all(c["result"] == "pass" for c in result["checks"])
    assert by_rule(result, "max_error_rate")["measured"] == pytest.approx(0.01)
    assert result["rules"]["max_error_rate"] == 0.05 and result["rules"]["max_latency_ratio"] == 2.0


def test_error_rate_above_threshold_fails_with_numbers_in_the_reason():
    result = evaluate(slot(requests=500, errors=100), slot())
    assert result["verdict"] == "fail"
    assert "canary error rate 20.00% (100 errors out of 500 requests) is above 5.00%" in result["reason"]
    check = by_rule(result, "max_error_rate")
    assert (check["measured"], check["threshold"], check["result"]) == (0.2, 0.05, "fail")


def test_error_rate_exactly_at_threshold_passes():
    assert evaluate(slot(requests=100, errors=5), slot())["verdict"] == "pass"


def test_latency_ratio():
    result = evaluate(slot(latency_ms=31.0), slot(latency_ms=10.0))
    assert result["verdict"] == "fail"
    check = by_rule(result, "max_latency_ratio")
    assert check["measured"] == pytest.approx(3.1) and "3.10x the baseline's 10.0 ms" in check["reason"]
    assert evaluate(slot(latency_ms=19.0), slot(latency_ms=10.0))["verdict"] == "pass"


def test_zero_ms_baseline_uses_the_floor_not_infinity():
    result = evaluate(slot(latency_ms=1.0, metric="avg"), slot(latency_ms=0.0, metric="avg"))
    assert by_rule(result, "max_latency_ratio")["measured"] == 1.0
    assert result["verdict"] == "pass"
    result = evaluate(slot(latency_ms=3.0), slot(latency_ms=0.0))
    assert by_rule(result, "max_latency_ratio")["measured"] == 3.0 and result["verdict"] == "fail"


def test_latency_ceiling_is_off_by_default_and_applies_when_set():
    assert "max_latency_ms" not in [c["rule"] for c in evaluate(slot(), slot())["checks"]]
    result = evaluate(slot(latency_ms=300.0), slot(latency_ms=290.0), {"max_latency_ms": 250})
    assert result["verdict"] == "fail"
    assert "above the ceiling of 250.0 ms" in by_rule(result, "max_latency_ms")["reason"]


def test_too_little_traffic_is_inconclusive_even_when_other_rules_fail():
    result = evaluate(slot(requests=10, errors=5), slot(requests=1000))
    assert result["verdict"] == "inconclusive"
    assert "canary served 10 requests, fewer than the 50 needed" in result["reason"]
    assert "not judged yet although" in result["reason"]
    assert result["consecutive_failures"] == 0


def test_little_traffic_on_the_baseline_is_inconclusive_too():
    assert evaluate(slot(), slot(requests=3))["verdict"] == "inconclusive"


@pytest.mark.parametrize("canary", [
    measurement(requests=None, errors=None, latency_ms=5),
    measurement(requests=1000, errors=None, latency_ms=5),
    measurement(requests=1000, errors=0, latency_ms=None),
    measurement(requests=1000, errors=0, latency_ms=math.nan),
    measurement(requests=math.nan, errors=0, latency_ms=5),
    measurement(requests=1000, errors=math.inf, latency_ms=5),
])
def test_missing_data_is_never_a_pass(canary):
    result = evaluate(canary, slot(latency_ms=5))
    assert result["verdict"] == "inconclusive", result


def test_no_requests_has_no_error_rate_rather_than_zero():
    assert measurement(requests=0, errors=0)["error_rate"] is None


def test_custom_thresholds_and_defaults_for_the_rest():
    result = evaluate(slot(requests=20, errors=1), slot(requests=20), {"min_requests": 10, "max_error_rate": 0.1})
    assert result["verdict"] == "pass"
    assert result["rules"]["min_requests"] == 10 and result["rules"]["max_latency_ratio"] == 2.0


def test_consecutive_failures_across_steps():
    bad, good, thin = slot(errors=500), slot(), slot(requests=1)
    first = evaluate(bad, good, {"failure_limit": 2})
    assert (first["consecutive_failures"], first["failure_limit_reached"]) == (1, False)
    second = evaluate(thin, good, {"failure_limit": 2}, consecutive_failures=1)
    assert (second["verdict"], second["consecutive_failures"]) == ("inconclusive", 1)
    third = evaluate(bad, good, {"failure_limit": 2}, consecutive_failures=1)
    assert (third["consecutive_failures"], third["failure_limit_reached"]) == (2, True)
    assert evaluate(good, good, {"failure_limit": 2}, consecutive_failures=1)["consecutive_failures"] == 0


def test_default_failure_limit_is_one():
    assert evaluate(slot(errors=500), slot())["failure_limit_reached"] is True
    assert rules.DEFAULT_RULES["failure_limit"] == 1


@pytest.mark.parametrize("bad", [{"max_error_rate": 5}, {"max_error_rate": -0.1}, {"max_latency_ratio": 0},
                                 {"failure_limit": 0}, {"min_requests": -1}, {"max_latency_ms": 0}])
def test_nonsense_thresholds_are_refused(bad):
    with pytest.raises(ConfigurationError, match="invalid rules"):
        evaluate(slot(), slot(), bad)
