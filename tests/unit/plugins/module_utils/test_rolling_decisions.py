"""The rolling strategy's decisions: batches, members, the gate after each batch, how the roll ends."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger, rolling
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

NOW = datetime.datetime(2026, 12, 1, 23, 0, 0, tzinfo=datetime.timezone.utc)
HOSTS = [("web1", {"shipyard_app_address": "10.0.0.11"}), ("web2", {"ansible_host": "10.0.0.12"}),
         ("web3", {"ansible_host": "10.0.0.13"}), ("web4", {"ansible_host": "10.0.0.14"})]
NAMES = [name for name, _variables in HOSTS]


def params(**more):
    base = {"purpose": "deploy", "router": {"driver": "haproxy"}, "slots": {"app": {"port": 8000}},
            "app_group": "app", "address_variable": "shipyard_app_address", "application": "shop",
            "environment": "production", "version": "2.0.0", "strategy": "rolling", "health_path": "/health",
            "health_json": None, "ledger": "/srv/ledger.jsonl", "ledger_aws": {}, "report_dest": "",
            "rolling": {}}
    base.update(more)
    return base


def router_members(*names):
    return {"member_states": {"web": {name: "ready" for name in names}}}


def plan(hosts=None, records=(), traffic=None, **more):
    return rolling.plan_rolling(params(**more), traffic if traffic is not None else router_members(*NAMES),
                                list(records), hosts or HOSTS, NOW)


# --- batches ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, sizes", [
    (1, [1, 1, 1, 1]), ("2", [2, 2]), (3, [3, 1]), ("25%", [1, 1, 1, 1]), ("50%", [2, 2]),
    ("10%", [1, 1, 1, 1]),  # rounded down, at least one host
    ("75%", [3, 1]), ([1, "50%"], [1, 2, 1]), ([1, 2], [1, 2, 1]),
])
def test_batches_from_a_count_a_percentage_or_a_list(spec, sizes):
    assert [len(b) for b in rolling.batches(spec, NAMES)] == sizes
    assert [h for b in rolling.batches(spec, NAMES) for h in b] == NAMES  # inventory order, every host once


@pytest.mark.parametrize("spec, words", [
    (0, "a batch of 0 hosts would never upgrade anything"), ("0", "at least 1"), (-1, "at least 1"),
    ("0%", "between 1% and 100%"), ("101%", "between 1% and 100%"), ("abc%", "between 1% and 100%"),
    ("1.5", "at least 1"), ("two", "at least 1"), (True, "at least 1"), (None, "at least 1"),
    (4, "takes all 4 app hosts out of the router at once"), (9, "an outage"), ("100%", "an outage"),
    ([], "empty list"), ([1, 0], "at least 1"),
])
def test_bad_batches_are_refused(spec, words):
    with pytest.raises(ConfigurationError) as error:
        rolling.batches(spec, NAMES)
    assert words in error.value.message


def test_options_defaults_and_bad_values():
    assert rolling.rolling_options({}) == {"batch": 1, "max_fail_percentage": 0, "drain_timeout": 30,
                                           "health_timeout": 60}
    assert rolling.rolling_options({"drain_timeout": None})["drain_timeout"] == 30
    for options, words in [({"bacth": 1}, "unknown option(s) bacth"),
                           ({"max_fail_percentage": 101}, "max_fail_percentage must be a number between 0 and 100"),
                           ({"max_fail_percentage": -1}, "between 0 and 100"),
                           ({"max_fail_percentage": "lots"}, "between 0 and 100"),
                           ({"max_fail_percentage": True}, "between 0 and 100"),
                           ({"drain_timeout": -5}, "drain_timeout must be a number of at least 0"),
                           ({"health_timeout": 0}, "health_timeout must be a number of at least 1")]:
        with pytest.raises(ConfigurationError) as error:
            rolling.rolling_options(options)
        assert words in error.value.message, options


# --- the plan ---------------------------------------------------------------------------------------
def test_plan_has_batches_members_urls_and_health_checks_per_host():
    planned = plan(rolling={"batch": "50%", "max_fail_percentage": 25})
    roll = planned["rolling"]
    assert planned["strategy"] == "rolling" and planned["live_slot"] == planned["idle_slot"] == "app"
    assert roll["batches"] == [["web1", "web2"], ["web3", "web4"]] and roll["serial"] == [2, 2]
    assert roll["members"] == {name: name for name in NAMES}  # HAProxy: server name = inventory name
    assert roll["urls"]["web1"] == "http://10.0.0.11:8000" and roll["urls"]["web4"] == "http://10.0.0.14:8000"
    assert roll["health_targets"]["web2"] == [{"url": "http://10.0.0.12:8000/health", "json": {"version": "2.0.0"}}]
    assert roll["max_failures"] == 1 and roll["drain_timeout"] == 30
    assert planned["record"]["deployment_id"] == "shop-production-20261201T230000Z"
    assert planned["app_hosts"] == planned["release_hosts"] == planned["slots"]["app"]["hosts"] == NAMES
    assert len(planned["idle_health_targets"]) == 4


@pytest.mark.parametrize("percent, tolerated", [(0, 0), (24, 0), (25, 1), (49, 1), (50, 2), (74, 2), (100, 4)])
def test_max_fail_percentage_is_a_share_of_all_hosts_rounded_down(percent, tolerated):
    assert plan(rolling={"max_fail_percentage": percent})["rolling"]["max_failures"] == tolerated


def test_members_of_nginx_and_alb_are_address_port_and_a_host_variable_overrides_them():
    hosts = [*HOSTS[:3], ("web4", {"ansible_host": "fd00::14", "shipyard_router_member": "i-0abc:8000"})]
    members = ["10.0.0.11:8000", "10.0.0.12:8000", "10.0.0.13:8000", "i-0abc:8000"]
    for driver in ("nginx", "aws_alb"):
        planned = plan(hosts=hosts, router={"driver": driver}, traffic=router_members(*members))
        assert list(planned["rolling"]["members"].values()) == members
    assert rolling.router_member("nginx", "web5", "fd00::15", 8000, {}) == "[fd00::15]:8000"


def test_unknown_or_shared_members_are_refused():
    with pytest.raises(ConfigurationError) as error:
        plan(traffic=router_members("web1", "web2", "web3"))
    assert "no member for app host(s) web4 (web4); its members are web1, web2, web3" in error.value.message
    assert "shipyard_router_member" in error.value.message
    shared = [*HOSTS[:3], ("web4", {"shipyard_router_member": "web1"})]
    with pytest.raises(ConfigurationError) as error:
        plan(hosts=shared)
    assert "app hosts web1 and web4 are both router member web1" in error.value.message
    # a router that lists no members (nothing to check against) is not a reason to refuse
    assert plan(traffic={})["rolling"]["members"]["web4"] == "web4"


@pytest.mark.parametrize("slots, words", [
    ({"blue": {"port": 8001}, "green": {"port": 8002}}, "exactly one slot"),
    ({}, "exactly one slot"), (["app"], "exactly one slot"),
    ({"app": {}}, "needs a port between 1 and 65535"), ({"app": {"port": 70000}}, "between 1 and 65535"),
    ({"app": {"port": True}}, "between 1 and 65535"), ({"app": {"port": "http"}}, "between 1 and 65535"),
])
def test_one_slot_with_a_port(slots, words):
    with pytest.raises(ConfigurationError) as error:
        plan(slots=slots)
    assert words in error.value.message


def test_needs_two_hosts_and_the_deployment_names():
    with pytest.raises(ConfigurationError) as error:
        plan(hosts=HOSTS[:1])
    assert "at least two app hosts" in error.value.message and "web1" in error.value.message
    for name in ("version", "environment", "application"):
        with pytest.raises(ConfigurationError) as error:
            plan(**{name: ""})
        assert "%s (shipyard_%s) is required" % (name, name) in error.value.message


def test_previous_versions_and_live_version_come_from_the_ledger():
    moment = NOW - datetime.timedelta(hours=1)
    records = [
        ledger.new_record("d1", "production", "shop", "1.0.0", "started", {}, moment=moment),
        ledger.new_record("d1", "production", "shop", "1.0.0", "rolling",
                          {"host_versions": dict.fromkeys(NAMES, "1.0.0")}, moment=moment),
        ledger.new_record("d1", "production", "shop", "1.0.0", "succeeded", {}, moment=moment),
        ledger.new_record("d2", "production", "shop", "1.1.0", "started", {}, moment=moment),
        ledger.new_record("d2", "production", "shop", "1.1.0", "rolling",
                          {"host_versions": {"web1": "1.1.0", "web2": ""}}, moment=moment),
        ledger.new_record("d2", "production", "shop", "1.1.0", "failed", {}, moment=moment),
        ledger.new_record("d3", "staging", "shop", "9.0.0", "rolling", {"host_versions": {"web3": "9.0.0"}},
                          moment=moment),
    ]
    planned = plan(records=records)
    assert planned["rolling"]["previous_versions"] == {"web1": "1.1.0", "web2": "1.0.0", "web3": "1.0.0",
                                                       "web4": "1.0.0"}
    assert planned["live_version"] == "1.0.0"  # the last version whose deployment succeeded
    assert plan()["live_version"] == "" and plan()["rolling"]["previous_versions"] == {}


# --- the gate ---------------------------------------------------------------------------------------
def passed(host, before="1.0.0"):
    return {"host": host, "ok": True, "before": before}


def failed(host, before="1.0.0", reason="Check the upgraded host's health: unhealthy"):
    return {"host": host, "ok": False, "before": before, "reason": reason}


def roll(outcomes_per_batch, **options):
    """Run the gate over the batches; the states after each one."""
    roll_plan = plan(rolling=dict({"batch": 1}, **options))["rolling"]
    states, state = [], {}
    for outcomes in outcomes_per_batch:
        state = rolling.gate_batch(roll_plan, state, outcomes)
        states.append(state)
    return roll_plan, states


def test_gate_enables_the_hosts_that_passed_and_goes_on():
    _plan, states = roll([[passed("web1")], [passed("web2")]])
    assert states[0]["enable"] == ["web1"] and states[0]["passed"] == ["web1"] and not states[0]["stopped"]
    assert states[1]["upgraded"] == ["web1", "web2"] and states[1]["batches_done"] == 2
    assert states[1]["revert"] == {} and states[1]["before"] == {"web1": "1.0.0", "web2": "1.0.0"}


def test_a_failure_stops_the_roll_and_every_upgraded_host_goes_back():
    roll_plan, states = roll([[passed("web1")], [passed("web2")], [failed("web3")]])
    last = states[-1]
    assert last["stopped"] and last["enable"] == [] and last["failures"]["web3"].endswith("unhealthy")
    assert sorted(last["revert"]) == ["web1", "web2", "web3"]
    assert last["revert"]["web2"] == {"version": "1.0.0", "member": "web2", "health_targets": [
        {"url": "http://10.0.0.12:8000/health", "json": {"version": "1.0.0"}}]}
    with pytest.raises(ConfigurationError) as error:
        rolling.gate_batch(roll_plan, last, [passed("web4")])
    assert "already stopped after batch 3" in error.value.message


def test_max_fail_percentage_tolerates_failures_up_to_its_share_then_stops():
    _plan, states = roll([[passed("web1")], [failed("web2")], [passed("web3")], [failed("web4")]],
                         max_fail_percentage=25)
    assert not states[1]["stopped"] and list(states[1]["revert"]) == ["web2"]  # tolerated, goes back at the end
    assert states[2]["enable"] == ["web3"] and not states[2]["stopped"]
    assert states[3]["stopped"] and sorted(states[3]["revert"]) == NAMES  # the second failure is one too many


def test_batch_of_several_hosts_and_a_host_without_outcome_counts_as_failed():
    roll_plan = plan(rolling={"batch": 2, "max_fail_percentage": 50})["rolling"]
    state = rolling.gate_batch(roll_plan, {}, [passed("web1")])  # web2 left the play (unreachable)
    assert state["failed"] == ["web2"] and "no outcome" in state["failures"]["web2"] and not state["stopped"]
    assert state["enable"] == ["web1"]
    with pytest.raises(ConfigurationError) as error:
        rolling.gate_batch(roll_plan, state, [passed("web1")])
    assert "host 'web1' is not in batch 2 of the plan (web3, web4)" in error.value.message
    state = rolling.gate_batch(roll_plan, state, [passed("web3"), passed("web4")])
    with pytest.raises(ConfigurationError) as error:
        rolling.gate_batch(roll_plan, state, [])
    assert "the plan has 2 batches and all of them ran" in error.value.message


def test_the_previous_version_is_the_link_read_before_else_the_ledgers_else_none():
    roll_plan = plan(rolling={"batch": 1})["rolling"]
    roll_plan["previous_versions"] = {"web2": "0.9.0"}
    state = rolling.gate_batch(roll_plan, {}, [passed("web1", before="1.0.0")])
    state = rolling.gate_batch(roll_plan, state, [passed("web2", before="")])
    state = rolling.gate_batch(roll_plan, state, [failed("web3", before="")])  # a first deployment there
    assert state["before"] == {"web1": "1.0.0", "web2": "0.9.0", "web3": ""}
    assert {h: e["version"] for h, e in state["revert"].items()} == {"web1": "1.0.0", "web2": "0.9.0"}
    assert state["cannot_revert"] == ["web3"]


# --- the end ----------------------------------------------------------------------------------------
def found(versions, back=()):
    return [{"host": h, "version": v, "back": {"ok": True} if h in back else {}} for h, v in versions.items()]


def test_finish_of_a_stopped_roll_says_who_failed_went_back_and_was_not_upgraded():
    roll_plan, states = roll([[passed("web1")], [passed("web2")], [failed("web3")]])
    ended = rolling.finish(roll_plan, states[-1], "2.0.0",
                           found(dict.fromkeys(NAMES, "1.0.0"), back=("web1", "web2", "web3")))
    assert ended["outcome"] == "failed" and ended["record"]["reverted"] == ["web1", "web2", "web3"]
    assert ended["message"] == (
        "rolling deployment of 2.0.0 stopped after batch 3 of 4: 1 host(s) failed, max_fail_percentage 0 tolerates "
        "0. web3 failed: Check the upgraded host's health: unhealthy. back on the previous release and enabled: "
        "web1 (1.0.0), web2 (1.0.0), web3 (1.0.0). not upgraded: web4")
    assert ended["record"]["host_versions"] == dict.fromkeys(NAMES, "1.0.0")
    assert ended["record"]["upgraded"] == [] and ended["record"]["untouched"] == ["web4"]


def test_finish_of_a_completed_roll_with_a_tolerated_failure_succeeds():
    roll_plan, states = roll([[passed("web1")], [failed("web2")], [passed("web3")], [passed("web4")]],
                             max_fail_percentage=25)
    versions = {"web1": "2.0.0", "web2": "1.0.0", "web3": "2.0.0", "web4": "2.0.0"}
    ended = rolling.finish(roll_plan, states[-1], "2.0.0", found(versions, back=("web2",)))
    assert ended["outcome"] == "succeeded"
    assert ended["message"].startswith("rolled 2.0.0 onto 3 of 4 hosts (1 failure(s) tolerated by "
                                       "max_fail_percentage 25). web2 failed")
    assert ended["record"]["reverted"] == ["web2"] and ended["record"]["upgraded"] == ["web1", "web3", "web4"]
    assert ended["host_versions"] == versions


def test_finish_reports_a_host_that_could_not_go_back_and_keeps_it_out():
    roll_plan, states = roll([[passed("web1")], [failed("web2")]])
    outcomes = found({"web1": "1.0.0", "web2": "2.0.0", "web3": "1.0.0", "web4": "1.0.0"}, back=("web1",))
    outcomes[1]["back"] = {"ok": False, "reason": "Check the host's health on the previous release: timeout"}
    ended = rolling.finish(roll_plan, states[-1], "2.0.0", outcomes)
    assert ended["record"]["reverted"] == ["web1"] and ended["record"]["not_reverted"] == ["web2"]
    assert "could not go back, left out of the router: web2: Check the host's health" in ended["message"]


def test_finish_of_a_clean_roll_and_the_service():
    roll_plan, states = roll([[passed(h)] for h in NAMES])
    ended = rolling.finish(roll_plan, states[-1], "2.0.0", found(dict.fromkeys(NAMES, "2.0.0")))
    assert ended["outcome"] == "succeeded" and ended["message"] == "rolled 2.0.0 onto 4 of 4 hosts"
    assert ended["record"]["reverted"] == [] and ended["record"]["upgraded"] == NAMES
    full = plan()
    answer = rolling.gate_service({"phase": "batch", "plan": full, "state": {}, "outcomes": [passed("web1")]},
                                  False, False)
    assert answer["changed"] is False and answer["record"] == {"batch": 1, "stopped": False, "failed": [],
                                                               "host_versions": {"web1": "2.0.0"}}
    with pytest.raises(ConfigurationError) as error:
        rolling.gate_service({"phase": "finish", "plan": {"strategy": "bluegreen"}}, False, False)
    assert "plan has no rolling section" in error.value.message
