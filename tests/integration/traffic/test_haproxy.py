"""traffic_switch / traffic_info with the haproxy driver against a real HAProxy (runtime API)."""

from __future__ import annotations

import os
import time

from harness.backend import BackendServer
from harness.haproxy import HAProxyServer
from harness.load import LoadGenerator
from harness.playbook import play
from switching import QUICK_STEPS, switch_under_load

TOLERANCE = 3.0  # percentage points; HAProxy's roundrobin is a deterministic smooth weighted rotation


def test_fifty_switches_under_load_lose_no_request_and_shares_follow_weights(haproxy, haproxy_options):
    load, changes, shares = switch_under_load(haproxy.url, haproxy_options)
    assert changes >= 50, changes
    assert load.failed == 0, load.snapshot()
    assert load.total > 2000
    for requested, seen, count in shares:
        assert count > 300
        for slot, percent in requested.items():
            assert abs(seen[slot] - percent) <= TOLERANCE, (requested, seen)
    assert haproxy.server_weights() == {"blue_1": 10, "blue_2": 10, "green_1": 80}  # 20/80 over 2 + 1 servers


def test_playbook_canary_step_check_diff_idempotence_and_info(haproxy, haproxy_options, playbook):
    step = dict(haproxy_options, weights={"blue": 90, "green": 10})
    run = playbook.run(play([{"name": "canary", "shipyard.deploy.traffic_switch": step}]), check=True, diff=True)
    assert run.rc == 0, run.output
    predicted = run.task("canary")
    assert predicted["changed"] and predicted["after"]["weights"] == {"blue": 90, "green": 10}
    assert "green: 10%" in run.output  # the diff is shown
    assert haproxy.server_weights() == {"blue_1": 100, "blue_2": 100, "green_1": 0}  # check mode wrote nothing

    run = playbook.run(play([
        {"name": "canary", "shipyard.deploy.traffic_switch": step},
        {"name": "again", "shipyard.deploy.traffic_switch": step},
        {"name": "where",  # the TCP admin socket this time
         "shipyard.deploy.traffic_info": dict(haproxy_options, haproxy_socket=haproxy.admin_tcp_address)},
    ]))
    assert run.rc == 0, run.output
    result = run.task("canary")
    assert result["changed"] and result["before"]["active"] == "blue"
    assert result["after"]["weights"] == {"blue": 90, "green": 10} and result["duration_ms"] > 0
    assert run.task("again")["changed"] is False
    info = run.task("where")
    assert info["weights"] == {"blue": 90, "green": 10} and info["active"] is None
    assert [m["name"] for m in info["slots"]["blue"]["members"]] == ["blue_1", "blue_2"]
    assert haproxy.server_weights() == {"blue_1": 45, "blue_2": 45, "green_1": 10}

    load = LoadGenerator(haproxy.url, concurrency=2, max_requests=1000, duration=20).start().wait()
    assert load.failed == 0 and abs(100.0 * load.slots["green"] / load.total - 10) <= TOLERANCE


def test_reload_keeps_canary_weights_only_with_the_state_file(haproxy, haproxy_options, playbook):
    without = dict(haproxy_options)
    del without["haproxy_state_file"]
    canary = {"blue": 80, "green": 20}
    run = playbook.run(play([{"name": "canary", "shipyard.deploy.traffic_switch": dict(without, weights=canary)}]))
    assert run.rc == 0, run.output
    assert "a reload of HAProxy will reset these weights" in run.output  # warned
    haproxy.reload()
    assert haproxy.server_weights()["green_1"] == 0  # reset to haproxy.cfg: what the state file prevents

    run = playbook.run(play([{"name": "canary",
                              "shipyard.deploy.traffic_switch": dict(haproxy_options, weights=canary)}]))
    assert run.rc == 0, run.output
    assert run.task("canary")["state_file"] == haproxy.state_file
    haproxy.reload()
    assert haproxy.server_weights() == {"blue_1": 40, "blue_2": 40, "green_1": 20}
    run = playbook.run(play([{"name": "where", "shipyard.deploy.traffic_info": haproxy_options}]))
    assert run.task("where")["weights"] == {"blue": 80, "green": 20}
    load = LoadGenerator(haproxy.url, concurrency=2, max_requests=1000, duration=20).start().wait()
    assert load.failed == 0 and abs(100.0 * load.slots["green"] / load.total - 20) <= TOLERANCE


def test_flip_drains_the_old_slot_and_a_reload_keeps_it_drained(haproxy, haproxy_options, backends):
    from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import switch_service

    result = switch_service(dict(haproxy_options, active="green", drain_timeout=5), False, False)
    assert result["after"]["active"] == "green"
    assert result["drain"]["complete"] is True
    states = {m["name"]: m["state"] for s in result["after"]["slots"].values() for m in s["members"]}
    assert states == {"blue_1": "drain", "blue_2": "drain", "green_1": "ready"}
    haproxy.reload()
    load = LoadGenerator(haproxy.url, concurrency=2, max_requests=300, duration=20).start().wait()
    assert load.failed == 0 and set(load.slots) == {"green"}
    back = switch_service(dict(haproxy_options, active="blue"), False, False)
    assert back["commands"][:2] == ["set server app/blue_1 weight 50", "set server app/blue_1 state ready"]
    assert back["commands"][-2:] == ["set server app/green_1 weight 0", "set server app/green_1 state drain"]


def test_bad_input_fails_clearly_and_leaves_the_split_alone(haproxy, haproxy_options, playbook):
    before = haproxy.server_weights()
    cases = {
        "sum": (dict(haproxy_options, weights={"blue": 90, "green": 5}), "sum to 95, not 100"),
        "slot": (dict(haproxy_options, weights={"blue": 90, "red": 10}), "unknown slot 'red'"),
        "socket": (dict(haproxy_options, haproxy_socket=os.path.join(haproxy.workdir, "nope.sock"),
                        weights={"blue": 50, "green": 50}), "cannot run"),
        "backend": (dict(haproxy_options, haproxy_backend="nope", weights={"blue": 50, "green": 50}),
                    "backend 'nope' has no servers"),
        "member": (dict(haproxy_options, slots={"blue": ["blue_1"], "green": ["green_9"]}, active="green"),
                   "green_9"),
    }
    tasks = [{"name": name, "shipyard.deploy.traffic_switch": args, "ignore_errors": True}
             for name, (args, _message) in cases.items()]
    run = playbook.run(play(tasks))
    for name, (_args, message) in cases.items():
        result = run.task(name)
        assert run.status(name) == "failed", (name, result)
        assert message in result["msg"], (name, result["msg"])
    assert haproxy.server_weights() == before


def test_no_shift_to_a_slot_that_health_checks_mark_down(haproxy_options, backends):
    from ansible_collections.shipyard.deploy.plugins.module_utils.errors import RouterError
    from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import info_service, switch_service

    sick = BackendServer("green", healthy=False).start()
    proxy = HAProxyServer({"blue": backends["blue"], "green": [sick]}, health_check=True, check_interval_ms=100).start()
    try:
        options = dict(haproxy_options, haproxy_socket=proxy.admin_socket, haproxy_state_file=proxy.state_file)
        deadline = time.monotonic() + 10
        while proxy.server_states()["green_1"]["status"] != "DOWN" and time.monotonic() < deadline:
            time.sleep(0.1)
        try:
            switch_service(dict(options, weights={"blue": 50, "green": 50}), False, False)
            raise AssertionError("shifting to a DOWN slot was accepted")
        except RouterError as exc:
            assert "no healthy member" in str(exc)
        assert info_service(options, False, False)["weights"] == {"blue": 100, "green": 0}
        forced = switch_service(dict(options, weights={"blue": 50, "green": 50}, require_healthy=False), False, False)
        assert forced["changed"]
    finally:
        proxy.stop()
        sick.stop()


def test_quick_steps_cover_fifty_changes_and_flips():
    changes = sum(1 for a, b in zip(QUICK_STEPS, QUICK_STEPS[1:]) if a != b)
    assert changes >= 50 and {"blue": 0, "green": 100} in QUICK_STEPS and {"blue": 100, "green": 0} in QUICK_STEPS


def test_drain_waits_for_requests_in_flight_on_the_old_slot(haproxy, haproxy_options, backends):
    from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import switch_service

    for server in backends["blue"]:
        server.control(delay=0.6)
    try:
        with LoadGenerator(haproxy.url, concurrency=4, duration=30) as load:
            time.sleep(0.8)  # every client is now waiting on a slow blue request
            result = switch_service(dict(haproxy_options, active="green", drain_timeout=10), False, False)
            time.sleep(0.3)
        assert result["drain"]["complete"] is True
        assert result["drain"]["waited_s"] > 0.1  # it really waited for the requests in flight
        assert load.failed == 0 and load.slots["green"] > 0
    finally:
        for server in backends["blue"]:
            server.control(delay=0.0)
