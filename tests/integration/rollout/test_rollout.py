"""shipyard.deploy.rollout against a real HAProxy and real backends under load from the harness.

What a user checks: the traffic ends where it should, requests failed (counted by the load
generator) stay within the target, a bad canary is stopped long before its step would have
ended, and the ledger holds every step, sample window and the rollback.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from harness.load import LoadGenerator
from harness.playbook import play

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RolloutError
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.controller import run_rollout


def ledger_events(stack):
    with open(stack.ledger) as handle:
        return [json.loads(line) for line in handle]


def weights(stack):
    """Total HAProxy weight per slot (servers are named <slot>_<n>)."""
    totals = {"blue": 0, "green": 0}
    for server, weight in stack.haproxy.server_weights().items():
        totals[server.split("_")[0]] += weight
    return totals


def first_and_last_error(load):
    times = [t for t, _slot, outcome in load.timeline if not (isinstance(outcome, int) and outcome < 400)]
    return (min(times), max(times)) if times else (None, None)


def test_a_good_canary_goes_through_every_step_with_no_failed_request(stack):
    with LoadGenerator(stack.haproxy.url, concurrency=4, duration=60) as load:
        started = time.monotonic()
        result = run_rollout(stack.params(bake={"duration": 2}))
        took = time.monotonic() - started
    assert result["outcome"] == "succeeded", result
    assert [s["percent"] for s in result["steps"]] == [5, 25, 50, 100]
    assert [s["verdict"] for s in result["steps"]] == ["pass", "pass", "pass", "switched"]
    assert result["bake"]["verdict"] == "pass"
    assert weights(stack)["green"] > 0 and weights(stack)["blue"] == 0
    assert load.failed == 0 and load.total > 200
    # 3 watched steps of 2 s and a 2 s bake, with the health check and switches on top
    assert took < 8 + 6
    events = ledger_events(stack)
    kinds = [e["event"] for e in events]
    assert kinds.count("traffic_step") == 4 and "bake" in kinds and "rolled_back" not in kinds
    windows = [e["data"] for e in events if e["event"] == "analysis"]
    assert {w["percent"] for w in windows} == {5, 25, 50, 100}
    points = [p for w in windows for p in w["points"]]
    assert len(points) >= 20 and all("canary" in p and "baseline" in p for p in points)


def test_a_bad_canary_is_stopped_within_seconds_and_recorded(stack):
    stack.green.control(error_rate=0.2)
    with LoadGenerator(stack.haproxy.url, concurrency=8, duration=60) as load:
        with pytest.raises(RolloutError) as caught:
            run_rollout(stack.params(step_min_duration=30.0))
        time.sleep(0.5)
    details = caught.value.details
    assert details["outcome"] == "rolled_back"
    assert "max_error_rate" not in caught.value.message or "error rate" in caught.value.message
    assert weights(stack)["green"] == 0 and weights(stack)["blue"] > 0
    first, last = first_and_last_error(load)
    assert first is not None
    # errors were served for a few seconds, not the 30 s of the step
    assert last - first < 5.0, (last - first)
    assert details["steps"][0]["seconds"] < 10
    events = ledger_events(stack)
    rolled = [e for e in events if e["event"] == "rolled_back"]
    assert len(rolled) == 1 and rolled[0]["data"]["to_slot"] == "blue"
    assert [e["data"]["verdict"] for e in events if e["event"] == "analysis"][-1] == "fail"


def test_an_unhealthy_new_slot_gets_no_traffic(stack):
    stack.green.control(healthy=False)
    with pytest.raises(RolloutError, match="not healthy, no traffic moved"):
        run_rollout(stack.params(health={"timeout": 2, "interval": 0.2}))
    assert weights(stack)["green"] == 0


def test_a_preview_stops_a_broken_release_before_any_user_request(stack):
    stack.green.control(error_rate=0.3)
    with LoadGenerator(stack.haproxy.url, concurrency=4, duration=30) as load:
        with pytest.raises(RolloutError, match="preview of the new slot green failed"):
            run_rollout(stack.params(preview={"requests": 100}))
        time.sleep(0.3)
    assert load.failed == 0 and load.total > 0
    assert weights(stack)["green"] == 0


@pytest.mark.parametrize("choice", ["rollback", "hold", "promote"])
def test_low_traffic_inconclusive_does_what_the_user_chose(stack, choice):
    params = stack.params(steps=[10, 100], step_min_duration=1.0, step_max_duration=2.0, on_inconclusive=choice)
    params["analysis"]["rules"]["min_requests"] = 50
    # no load: about two health probes a second is all the traffic there is
    if choice == "promote":
        result = run_rollout(params)
        assert result["outcome"] == "succeeded"
        assert weights(stack)["blue"] == 0
        return
    with pytest.raises(RolloutError) as caught:
        run_rollout(params)
    assert caught.value.details["outcome"] == ("rolled_back" if choice == "rollback" else "held")
    assert "inconclusive" in caught.value.message
    expected_green = 0 if choice == "rollback" else 10
    assert weights(stack)["green"] == expected_green


def test_the_probe_source_gives_a_quiet_service_the_traffic_for_a_verdict(stack):
    params = stack.params(steps=[10, 100], step_min_duration=2.0, step_max_duration=4.0)
    params["analysis"] = {"source": "probe", "probe": {"concurrency": 2, "interval": 0.02},
                          "rules": {"min_requests": 30}}
    result = run_rollout(params)
    assert result["outcome"] == "succeeded", result
    assert result["steps"][0]["canary"]["requests"] >= 30


def test_a_failure_during_the_bake_rolls_back(stack):
    params = stack.params(steps=[50, 100], step_min_duration=1.0, bake={"duration": 20})

    def break_green():
        time.sleep(4.0)
        stack.green.control(error_rate=0.5)

    breaker = threading.Thread(target=break_green)
    with LoadGenerator(stack.haproxy.url, concurrency=4, duration=60):
        breaker.start()
        with pytest.raises(RolloutError) as caught:
            run_rollout(params)
    breaker.join()
    assert "bake failed" in caught.value.message
    assert weights(stack)["green"] == 0
    assert caught.value.details["rollback"]["to_slot"] == "blue"


def test_a_bad_bluegreen_release_is_rolled_back_during_the_bake(stack):
    stack.green.control(delay=0.05)  # ten times slower than blue: the health check still passes
    params = stack.params(strategy="bluegreen", bake={"duration": 20, "baseline_seconds": 2})
    params["analysis"]["rules"].update(max_latency_ratio=3.0, latency_min_requests=20)
    with LoadGenerator(stack.haproxy.url, concurrency=4, duration=60) as load:
        with pytest.raises(RolloutError) as caught:
            run_rollout(params)
    assert "bake failed" in caught.value.message and "latency" in caught.value.message
    assert caught.value.details["reference_latency_ms"] is not None
    assert weights(stack)["green"] == 0
    assert load.failed == 0


def test_a_haproxy_reload_during_a_step_loses_one_interval_not_the_step(stack):
    params = stack.params(steps=[25, 100], step_min_duration=3.0)

    def reload():
        time.sleep(1.5)
        stack.haproxy.save_state()
        stack.haproxy.reload()

    thread = threading.Thread(target=reload)
    with LoadGenerator(stack.haproxy.url, concurrency=4, duration=60, new_connection_every=20):
        thread.start()
        result = run_rollout(params)
    thread.join()
    assert result["outcome"] == "succeeded", result


def test_bad_input_moves_no_traffic(stack):
    for bad, message in [({"steps": [5, 50]}, "must end with 100"),
                         ({"idle_slot": "purple"}, "not one of the router's slots"),
                         ({"live_slot": "green"}, "both 'green'"),
                         ({"sample_interval": 0}, "sample_interval"),
                         ({"analysis": {"source": "haproxy", "haproxy": {"socket": "x"},
                                        "rules": {"max_error_rate": 2}}}, "max_error_rate")]:
        with pytest.raises(ConfigurationError, match=message):
            run_rollout(stack.params(**bad))
    assert weights(stack)["green"] == 0


def test_check_mode_through_a_playbook_predicts_the_steps_and_moves_nothing(playbook, stack):
    params = stack.params()
    run = playbook.run(play([{"name": "rollout", "shipyard.deploy.rollout": params, "register": "r"}]),
                       check=True)
    assert run.rc == 0, run.output
    result = run.task("rollout")
    assert result["changed"] is True and result["outcome"] == "predicted"
    assert [s["weights"]["green"] for s in result["steps"]] == [5, 25, 50, 100]
    assert weights(stack)["green"] == 0
    with open(stack.ledger, "a"):
        pass
    assert ledger_events(stack) == []


def traffic_role_vars(stack, **extra):
    """Variables of the traffic role for the stack, as deploy.yml passes them."""
    params = stack.params()
    role_vars = {
        "traffic_strategy": "canary", "traffic_router": {k: params[k] for k in (
            "driver", "haproxy_socket", "haproxy_backend", "haproxy_state_file")},
        "traffic_live_slot": "blue", "traffic_idle_slot": "green",
        "traffic_health_targets": params["health_targets"],
        "traffic_analysis": dict(params["analysis"], window=1.5),
        "traffic_canary_steps": [20, 100], "traffic_sample_interval": 0.25,
        "traffic_bake": {"duration": 1}, "traffic_record": params["record"],
    }
    role_vars.update(extra)
    return role_vars


def test_the_traffic_role_runs_a_canary_through_a_playbook(playbook, stack):
    role_vars = traffic_role_vars(stack)
    with LoadGenerator(stack.haproxy.url, concurrency=4, duration=60) as load:
        run = playbook.run(play([{"name": "traffic", "vars": role_vars,
                                  "ansible.builtin.include_role": {"name": "shipyard.deploy.traffic"}}]))
    assert run.rc == 0, run.output
    assert weights(stack)["blue"] == 0 and load.failed == 0
    assert "rolled_back" not in [e["event"] for e in ledger_events(stack)]


def test_an_approval_before_full_splits_the_rollout_around_the_pause(playbook, stack):
    role_vars = traffic_role_vars(stack, traffic_canary_steps=[20, 50, 100], traffic_approval_before_full=True)
    with LoadGenerator(stack.haproxy.url, concurrency=4, duration=60) as load:
        # no terminal: ansible's pause does not wait, as an operator pressing Enter at once
        run = playbook.run(play([{"name": "traffic", "vars": role_vars,
                                  "ansible.builtin.include_role": {"name": "shipyard.deploy.traffic"}}]))
    assert run.rc == 0, run.output
    first = run.task("Move traffic, watch and roll back when a rule fails (canary)")
    assert first["outcome"] == "awaiting_approval" and first["weights"]["green"] == 50
    second = run.task("After the approval, send all traffic to green")
    assert second["outcome"] == "succeeded" and [s["percent"] for s in second["steps"]] == [100]
    assert second["bake"]["verdict"] == "pass"
    assert weights(stack)["blue"] == 0 and load.failed == 0


def test_the_deadline_rolls_back_a_rollout_that_takes_too_long(playbook, stack):
    params = stack.params(step_min_duration=60.0, deadline=4)
    with LoadGenerator(stack.haproxy.url, concurrency=4, duration=60) as load:
        run = playbook.run(play([{"name": "rollout", "shipyard.deploy.rollout": params}]))
    assert run.rc != 0
    assert "did not finish within its deadline of 4 seconds" in run.output
    assert weights(stack)["green"] == 0 and weights(stack)["blue"] > 0
    rolled = [e for e in ledger_events(stack) if e["event"] == "rolled_back"]
    assert len(rolled) == 1 and "stopped before it finished" in rolled[0]["data"]["reason"]
    assert load.failed == 0


def test_router_options_come_from_the_traffic_action_group(playbook, stack):
    params = stack.params()
    router = {k: params[k] for k in ("driver", "haproxy_socket", "haproxy_backend", "haproxy_state_file")}
    task = {"name": "rollout", "shipyard.deploy.rollout": {"live_slot": "blue", "idle_slot": "green",
                                                           "steps": [10, 100]}}
    run = playbook.run(play([task], module_defaults={"group/shipyard.deploy.traffic": router}), check=True)
    assert run.rc == 0, run.output
    assert [s["weights"]["green"] for s in run.task("rollout")["steps"]] == [10, 100]


def test_a_zero_ms_reference_from_haproxy_is_accepted(playbook, stack):
    # HAProxy's rtime is in whole milliseconds: the last canary step of a fast service hands 0 on
    params = stack.params(steps=[100], strategy="bluegreen", baseline_latency_ms=0.0, bake={"duration": 1})
    run = playbook.run(play([{"name": "rollout", "shipyard.deploy.rollout": params, "register": "r"}]))
    assert run.rc == 0, run.output
    assert run.task("rollout")["reference_latency_ms"] == 0.0
