"""Pure logic of health checks: percentiles, JSON assertions, thresholds and the polling schedule."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import health
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError


class TestPercentile:
    def test_matches_linear_interpolation_between_ranks(self):
        values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        assert health.percentile(values, 50) == pytest.approx(5.5)
        assert health.percentile(values, 95) == pytest.approx(9.55)
        assert health.percentile(values, 0) == 1
        assert health.percentile(values, 100) == 10

    def test_order_of_samples_does_not_matter(self):
        assert health.percentile([10, 1, 5], 50) == 5

    def test_single_value_and_empty(self):
        assert health.percentile([0.2], 99) == 0.2
        assert health.percentile([], 50) is None

    def test_out_of_range_is_refused(self):
        with pytest.raises(ValueError):
            health.percentile([1], 101)

    def test_summary_in_milliseconds(self):
        summary = health.latency_summary([0.001, 0.002, 0.003, 0.004])
        assert summary == {"count": 4, "min": 1.0, "p50": 2.5, "p95": pytest.approx(3.85), "p99": pytest.approx(3.97),
                           "max": 4.0, "avg": 2.5}

    def test_summary_without_samples_is_none_not_zero(self):
        summary = health.latency_summary([])
        assert summary["count"] == 0
        assert all(summary[k] is None for k in ("min", "p50", "p95", "p99", "max", "avg"))


class TestJsonAssertions:
    def test_all_hold(self):
        body = '{"status": "healthy", "version": "1.4.2", "db": {"ok": true}, "nodes": [{"id": 7}]}'
        expected = {"status": "healthy", "version": "1.4.2", "db.ok": True, "nodes.0.id": 7}
        assert health.check_json(body, expected) == []

    def test_wrong_value_names_field_actual_and_expected(self):
        failures = health.check_json('{"version": "1.4.1"}', {"version": "1.4.2"})
        assert failures == ['JSON field version is "1.4.1", expected "1.4.2"']

    def test_missing_field(self):
        assert health.check_json('{"a": {}}', {"a.b": 1}) == ["JSON field a.b is missing (expected 1)"]

    def test_yaml_typed_scalars_compare_by_text(self):
        # YAML gives a float for `version: 1.4` and a bool for `ready: true`
        assert health.check_json('{"version": "1.4", "ready": "true"}', {"version": 1.4, "ready": True}) == []
        assert health.check_json('{"n": 3}', {"n": "3"}) == []
        assert health.check_json('{"n": 3}', {"n": "4"}) != []

    def test_structures_are_not_compared_as_text(self):
        assert health.check_json('{"a": [1]}', {"a": "[1]"}) != []

    def test_body_that_is_not_json(self):
        (failure,) = health.check_json("<html>502</html>", {"status": "healthy"})
        assert "not JSON" in failure and "status" in failure

    def test_list_index_out_of_range_is_missing(self):
        assert health.check_json('{"a": [1]}', {"a.3": 1}) == ["JSON field a.3 is missing (expected 1)"]


class TestTargets:
    def test_type_is_inferred(self):
        assert health.Target({"url": "http://127.0.0.1:1/"}, {}).type == "http"
        assert health.Target({"host": "h", "port": 1}, {}).type == "tcp"
        assert health.Target({"host": "h", "database": "d"}, {}).type == "postgres"

    def test_defaults_merge_and_token_becomes_header(self):
        target = health.Target({"url": "https://lb/health", "headers": {"X-A": "1"}},
                               {"headers": {"Host": "shop.example.com"}, "bearer_token": "s3cret",
                                "validate_certs": True, "ca_path": "/etc/ca.pem"})
        assert target.headers == {"Host": "shop.example.com", "X-A": "1", "Authorization": "Bearer s3cret"}
        assert target.verify == "/etc/ca.pem"

    def test_tls_verification_is_on_by_default(self):
        assert health.Target({"url": "https://lb/health"}, {}).verify is True
        assert health.Target({"url": "https://lb/", "validate_certs": False}, {"validate_certs": True}).verify is False

    def test_name_hides_url_password(self):
        target = health.Target({"url": "http://user:pw@host:8080/health"}, {})
        assert "pw" not in target.name and target.name == "http://user:***@host:8080/health"

    def test_bad_inputs_are_configuration_errors(self):
        with pytest.raises(ConfigurationError, match="absolute http"):
            health.Target({"type": "http", "url": "/health"}, {})
        with pytest.raises(ConfigurationError, match="host and port"):
            health.Target({"type": "tcp", "host": "h"}, {})
        with pytest.raises(ConfigurationError, match="regular expression"):
            health.Target({"url": "http://h/", "body_pattern": "("}, {})

    def test_duplicate_names_are_refused(self):
        with pytest.raises(ConfigurationError, match="unique"):
            health.check_health({"targets": [{"url": "http://h/"}, {"url": "http://h/"}]})


def ok(latency=0.001):
    return health.ProbeResult(True, latency)


def bad(error="boom"):
    return health.ProbeResult(False, 0.001, error=error)


def feed(state, results, success=1, failure=3, times=None):
    for index, result in enumerate(results):
        state.record(result, (times or range(len(results)))[index], success, failure)
    return state.state


class TestThresholds:
    def target(self):
        return health.Target({"host": "h", "port": 1}, {})

    def test_failures_before_first_success_do_not_count_by_default(self):
        state = health.TargetState(self.target(), None)
        assert feed(state, [bad()] * 10) == "pending"
        assert state.consecutive_failures == 0 and state.last_error == "boom"
        assert feed(state, [ok()]) == "passed"

    def test_flapping_after_first_success_fails_at_the_threshold(self):
        state = health.TargetState(self.target(), None)
        assert feed(state, [ok(), ok(), bad(), bad()], success=3, failure=3) == "pending"
        assert feed(state, [bad()], success=3, failure=3) == "failed"
        assert state.consecutive_failures == 3 and state.attempts == 5

    def test_success_threshold_needs_consecutive_successes(self):
        state = health.TargetState(self.target(), None)
        assert feed(state, [ok(), ok(), bad(), ok(), ok()], success=3, failure=3) == "pending"
        assert feed(state, [ok()], success=3, failure=3) == "passed"

    def test_start_period_zero_counts_every_failure(self):
        state = health.TargetState(self.target(), 0.0)
        assert feed(state, [bad(), bad(), bad()]) == "failed"

    def test_start_period_ignores_early_failures_only(self):
        state = health.TargetState(self.target(), 10.0)
        assert feed(state, [bad(), bad(), bad()], times=[1, 2, 9]) == "pending"
        assert feed(state, [bad(), bad()], times=[10, 11]) == "pending"
        assert feed(state, [bad()], times=[12]) == "failed"


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class TestSchedule:
    def test_times_out_with_last_error(self, monkeypatch):
        clock = FakeClock()

        def never(target, session):
            clock.now += 0.01
            return bad("Connection refused")

        monkeypatch.setattr(health, "probe", never)
        target = health.Target({"host": "127.0.0.1", "port": 1}, {})
        (state,), _elapsed = health.wait_for_targets([target], timeout=3, interval=1, clock=clock, sleep=clock.sleep)
        assert state.state == "timed_out"
        assert state.attempts == 3  # at 0, 1 and 2 s; none after the deadline
        assert state.as_result()["error"] == "Connection refused"

    def test_thresholds_below_one_are_refused(self):
        with pytest.raises(ConfigurationError):
            health.wait_for_targets([], success_threshold=0)


def test_zero_thresholds_are_refused_not_replaced_by_defaults():
    with pytest.raises(ConfigurationError, match="at least 1"):
        health.check_health({"targets": [{"host": "127.0.0.1", "port": 1}], "failure_threshold": 0})


def test_host_and_port_alone_make_a_tcp_target():
    assert health.Target({"host": "127.0.0.1", "port": 6379}, {}).type == "tcp"
    assert health.Target({"host": "127.0.0.1", "port": 5432, "query": "SELECT 1"}, {}).type == "postgres"
