"""The rollout's judgement: every rule, early failure, minimum duration and sample, edges."""

from __future__ import annotations

import random

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout import decision
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.stats import wilson_bounds, z_for

RULES = decision.rules_with_defaults({})


def m(requests, errors=0, latency=10.0):
    return {"requests": requests, "errors": errors, "latency_ms": latency, "latency_metric": "avg"}


def judge(canary, baseline=None, elapsed=60.0, low=60.0, high=120.0, rules=None, **extra):
    return decision.judge(canary, baseline, rules or RULES, elapsed, low, high, **extra)


def test_wilson_bounds_contain_the_rate_and_narrow_with_the_sample():
    z = z_for(0.99)
    low_small, high_small = wilson_bounds(2, 10, z)
    low_big, high_big = wilson_bounds(200, 1000, z)
    assert low_small < 0.2 < high_small and low_big < 0.2 < high_big
    assert high_big - low_big < high_small - low_small
    assert wilson_bounds(0, 0, z) == (0.0, 1.0)
    assert wilson_bounds(0, 50, z)[0] == 0.0


def test_a_canary_failing_20_percent_fails_within_a_few_dozen_requests_before_min_duration():
    # 10 canary requests/s at 5 % of 200 req/s, one in five failing
    verdict = judge(m(30, 6), m(570), elapsed=3.0)
    assert verdict["verdict"] == decision.FAIL
    assert "max_error_rate" in [c["rule"] for c in verdict["checks"] if c["result"] == decision.FAIL]


def test_one_unlucky_error_does_not_fail_a_good_canary():
    verdict = judge(m(3, 1), m(60), elapsed=0.5)
    assert verdict["verdict"] == decision.WAIT


def _false_alarms(rate, runs=300):
    rng = random.Random(7)
    false_alarms = 0
    for _run in range(runs):
        requests = errors = 0
        for _sample in range(120):  # 60 s at 2 samples/s, 10 requests per sample
            for _request in range(10):
                requests += 1
                errors += rng.random() < rate
            if judge(m(requests, errors), m(requests * 19), elapsed=1.0)["verdict"] == decision.FAIL:
                false_alarms += 1
                break
    return false_alarms / runs


def test_a_good_canary_rarely_fails_on_noise_over_120_looks():
    assert _false_alarms(0.01) == 0
    assert _false_alarms(0.03) <= 0.02  # at 60 % of the limit


def test_the_first_request_failing_does_not_fail_the_canary():
    assert judge(m(1, 1), m(20), elapsed=0.5)["verdict"] == decision.WAIT
    assert judge(m(2, 2), m(40), elapsed=0.5)["verdict"] == decision.WAIT


def test_pass_needs_the_minimum_duration_and_the_minimum_sample_on_both_slots():
    assert judge(m(500), m(5000), elapsed=10.0)["verdict"] == decision.WAIT
    assert judge(m(10), m(5000), elapsed=60.0)["verdict"] == decision.WAIT
    assert judge(m(500), m(10), elapsed=60.0)["verdict"] == decision.WAIT
    passed = judge(m(500), m(5000), elapsed=60.0)
    assert passed["verdict"] == decision.PASS, passed["reason"]


def test_too_little_traffic_by_the_maximum_duration_is_inconclusive():
    verdict = judge(m(4), m(40), elapsed=120.0)
    assert verdict["verdict"] == decision.INCONCLUSIVE
    assert "canary served 4 requests" in verdict["reason"]


def test_zero_traffic_is_never_a_pass():
    zero = {"requests": 0, "errors": 0, "latency_ms": None}
    assert judge(zero, zero, elapsed=120.0)["verdict"] == decision.INCONCLUSIVE
    assert judge({"requests": None, "errors": None, "latency_ms": None}, None,
                 elapsed=120.0)["verdict"] == decision.INCONCLUSIVE


def test_an_error_rate_above_the_limit_but_not_proven_is_not_a_pass():
    verdict = judge(m(60, 4), m(2000, 20), elapsed=60.0, high=60.0)  # 6.7 %, bound still below 5 %
    assert verdict["verdict"] == decision.INCONCLUSIVE


def test_slow_canary_fails_after_the_latency_is_sustained():
    state = {}
    outcomes = []
    for _sample in range(6):
        verdict = judge(m(100, latency=50.0), m(1000, latency=10.0), elapsed=5.0, state=state)
        state = verdict["state"]
        outcomes.append(verdict["verdict"])
    assert outcomes == [decision.WAIT] * 5 + [decision.FAIL]


def test_a_ratio_of_milliseconds_is_not_a_slow_canary():
    rules = decision.rules_with_defaults({"latency_sustain": 1})
    verdict = judge(m(100, latency=2.3), m(1000, latency=1.1), rules=rules, elapsed=60.0)
    assert verdict["verdict"] == decision.PASS, verdict["reason"]


def test_a_latency_spike_between_good_samples_resets_the_count():
    state = judge(m(100, latency=50.0), m(1000), elapsed=5.0)["state"]
    state = judge(m(100, latency=10.0), m(1000), elapsed=5.0, state=state)["state"]
    assert state["ratio_breaches"] == 0


def test_latency_is_not_judged_before_enough_canary_requests():
    verdict = judge(m(5, latency=500.0), m(1000), elapsed=5.0, state={"ratio_breaches": 50})
    assert verdict["verdict"] == decision.WAIT


def test_latency_ceiling():
    rules = decision.rules_with_defaults({"max_latency_ms": 100, "latency_sustain": 1})
    assert judge(m(100, latency=150.0), m(1000, latency=140.0), rules=rules, elapsed=1)["verdict"] == decision.FAIL


def test_no_baseline_traffic_uses_the_reference_latency_and_skips_without_one():
    slow = m(100, latency=50.0)
    rules = decision.rules_with_defaults({"latency_sustain": 1})
    bake = judge(slow, None, rules=rules, phase=decision.BAKE, elapsed=1.0, low=10.0, high=10.0,
                 reference_latency_ms=10.0)
    assert bake["verdict"] == decision.FAIL and "before the switch" in bake["reason"]
    skipped = judge(slow, None, rules=rules, phase=decision.BAKE, elapsed=10.0, low=10.0, high=10.0)
    assert skipped["verdict"] == decision.PASS
    assert [c["result"] for c in skipped["checks"] if c["rule"] == "max_latency_ratio"] == [decision.SKIPPED]


def test_health_failures_in_a_row_fail_the_rollout():
    assert judge(m(500), m(5000), elapsed=1.0, health_failures={"a": 3})["verdict"] == decision.WAIT
    verdict = judge(m(500), m(5000), elapsed=1.0, health_failures={"a": 4, "b": 0})
    assert verdict["verdict"] == decision.FAIL and "health check of a failed 4 times" in verdict["reason"]


def test_bake_passes_at_its_end_without_a_minimum_sample():
    quiet = {"requests": 0, "errors": 0, "latency_ms": None}
    assert judge(quiet, None, phase=decision.BAKE, elapsed=5.0, low=10.0, high=10.0)["verdict"] == decision.WAIT
    assert judge(quiet, None, phase=decision.BAKE, elapsed=10.0, low=10.0, high=10.0)["verdict"] == decision.PASS
    bad = judge(m(100, 40), None, phase=decision.BAKE, elapsed=2.0, low=10.0, high=10.0)
    assert bad["verdict"] == decision.FAIL


def test_a_fast_baseline_reading_zero_ms_is_floored():
    verdict = judge(m(100, latency=1.0), m(1000, latency=0.0), elapsed=60.0)
    assert verdict["verdict"] == decision.PASS


@pytest.mark.parametrize("rules, message", [
    ({"max_error_rate": 1.5}, "max_error_rate is a fraction"),
    ({"confidence": 1}, "confidence must be between"),
    ({"max_error_rate": float("nan")}, "finite number"),
    ({"latency_sustain": 0}, "latency_sustain must be at least 1"),
    ({"min_requests": -1}, "min_requests cannot be negative"),
    ({"typo_rule": 1}, "unknown rule typo_rule"),
    ({"max_latency_ratio": "fast"}, "finite number"),
])
def test_bad_rules_are_refused_naming_the_rule(rules, message):
    with pytest.raises(ConfigurationError, match=message):
        decision.rules_with_defaults(rules)


def test_numeric_text_from_extra_vars_is_accepted():
    assert decision.rules_with_defaults({"max_error_rate": "0.02"})["max_error_rate"] == 0.02
