"""The rollout's smoke option against a real HAProxy and real backends: before traffic on the new slot,
through the load balancer after the switch, a failure there rolled back inside the task, no secret anywhere."""

from __future__ import annotations

import json

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RolloutError
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.controller import run_rollout


def smoke(stack, **more):
    config = {
        "url": stack.haproxy.url.rstrip("/"),
        "secret_variables": {"password": stack.green.password},
        "steps": [
            {"name": "log in", "url": "/login", "method": "POST",
             "body": {"user": "smoke", "password": "${password}"},
             "capture": {"token": {"json": "token", "secret": True}}},
            {"name": "me", "url": "/api/me", "secret_headers": {"Authorization": "Bearer ${token}"},
             "expect": {"json": {"user": "smoke", "version": "1.4.2"}}},
            {"name": "landing page", "url": "/", "expect": {"status": 200, "max_latency": 3}},
        ],
    }
    config.update(more)
    return config


def recorded(stack):
    with open(stack.ledger) as handle:
        return handle.read()


def smoke_events(stack):
    return [json.loads(line)["data"] for line in recorded(stack).splitlines() if '"event": "smoke"' in line]


def assert_no_secret(stack, *texts):
    secrets = [stack.green.password, *stack.green.tokens_issued()]
    for text in (*texts, recorded(stack)):
        assert not [s for s in secrets if s in text]


def test_smoke_on_the_new_slot_then_through_the_load_balancer(stack):
    result = run_rollout(stack.params(strategy="bluegreen", smoke=smoke(stack)))
    assert result["outcome"] == "succeeded" and stack.weights()["green"] > 0 and stack.weights()["blue"] == 0
    events = smoke_events(stack)
    assert [(e["phase"], e["base_url"], e["passed"]) for e in events] == [
        ("before_traffic", stack.green.url, True), ("after_switch", stack.haproxy.url.rstrip("/"), True)]
    assert [s["status"] for s in events[1]["steps"]] == ["passed", "passed", "passed"]
    assert result["smoke"] == events
    assert len(stack.green.tokens_issued()) == 2
    assert_no_secret(stack, repr(result))


def test_a_smoke_failure_on_the_new_slot_moves_no_traffic(stack):
    stack.green.control(version="1.4.3")  # healthy, but the API answers the wrong version
    params = stack.params(strategy="bluegreen", smoke=smoke(stack),
                          health_targets=[{"url": stack.green.url + "/health"}])
    with pytest.raises(RolloutError, match=r"smoke test of the new slot green at .* no traffic moved") as caught:
        run_rollout(params)
    assert stack.weights() == {"blue": stack.weights()["blue"], "green": 0}
    assert caught.value.details["traffic_moved"] is False
    events = smoke_events(stack)
    assert len(events) == 1 and events[0]["passed"] is False and events[0]["steps"][1]["status"] == "failed"
    assert '"event": "traffic_step"' not in recorded(stack)
    assert_no_secret(stack, caught.value.message, repr(caught.value.details))


def test_a_smoke_failure_through_the_load_balancer_rolls_back(stack):
    stack.green.control(error_rate=1.0)  # /health still answers, every other request is a 500
    with pytest.raises(RolloutError, match="rolled back to blue: smoke test through the load balancer") as caught:
        run_rollout(stack.params(strategy="bluegreen", smoke=smoke(stack, before_traffic=False)))
    assert stack.weights()["green"] == 0 and stack.weights()["blue"] > 0
    events = smoke_events(stack)
    assert [(e["phase"], e["passed"]) for e in events] == [("after_switch", False)]
    assert [s["status_code"] for s in events[0]["steps"]] == [200, 200, 500]
    assert '"event": "rolled_back"' in recorded(stack)
    assert_no_secret(stack, caught.value.message, repr(caught.value.details))


@pytest.mark.parametrize("config, message", [
    ({"steps": [{"name": "x"}], "url": "http://lb"}, "step 1 (x) has no url"),
    ({"steps": [{"url": "/"}]}, "shipyard_smoke has no url"),
    ({"steps": [{"url": "/${nope}"}], "url": "http://lb"}, "nope"),
    ({"steps": [{"url": "/"}], "url": "http://lb", "colour": "red"}, "unknown key(s) colour"),
])
def test_bad_smoke_config_is_refused_before_anything_moves(stack, config, message):
    with pytest.raises(ConfigurationError) as caught:
        run_rollout(stack.params(strategy="bluegreen", smoke=config))
    assert message in caught.value.message
    assert stack.weights()["green"] == 0
