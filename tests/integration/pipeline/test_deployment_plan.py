"""shipyard.deploy.deployment_plan through ansible-playbook: app hosts are checked where they are, never loopback.

Four app hosts, each on its own loopback address (127.0.0.2-5), found by the three rules: the
``shipyard_app_address`` host variable, else ``ansible_host``, else the inventory name.  Every host
runs a real HTTP server on each slot's port at that address only, and the router is a real HAProxy
with all traffic on blue: the plan's health checks of the idle slot must reach all four.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml
from harness.backend import BackendServer
from harness.haproxy import HAProxyServer
from harness.net import free_port

# inventory name -> host variables, and the address each must be reached at
APP_HOSTS = {
    "app1.shop.test": ({"ansible_host": "127.0.0.2"}, "127.0.0.2"),
    "app2.shop.test": ({"ansible_host": "127.0.0.3"}, "127.0.0.3"),
    # the address variable wins over ansible_host (a management network beside the service network)
    "app3.shop.test": ({"ansible_host": "127.0.0.9", "shipyard_app_address": "127.0.0.4"}, "127.0.0.4"),
    # neither: the inventory name is the address
    "127.0.0.5": ({}, "127.0.0.5"),
}


@pytest.fixture(scope="module")
def fleet():
    """{slot: port}, with a server on every app host's address for each slot, and a HAProxy (all on blue)."""
    ports = {"blue": free_port(), "green": free_port()}
    servers = [BackendServer(slot, version="2.0.0" if slot == "green" else "1.0.0", port=port, host=address).start()
               for slot, port in ports.items() for _vars, address in APP_HOSTS.values()]
    router_backends = {"blue": [BackendServer("blue").start()], "green": [BackendServer("green").start()]}
    try:
        with HAProxyServer(router_backends, weights={"blue": 100, "green": 0}) as proxy:
            yield ports, proxy
    finally:
        for server in servers + router_backends["blue"] + router_backends["green"]:
            server.stop()


def inventory(tmp_path):
    path = tmp_path / "hosts.yml"
    hosts = {name: variables for name, (variables, _address) in APP_HOSTS.items()}
    path.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "children": {"app": {"hosts": hosts}, "router": {"hosts": {"lb1.shop.test": {}}}}}}, sort_keys=False))
    return str(path)


def plays(ports, proxy, tmp_path, **options):
    plan_options = {
        "router": {"driver": "haproxy", "haproxy_socket": proxy.admin_socket, "haproxy_backend": proxy.backend,
                   "haproxy_state_file": proxy.state_file},
        "slots": {slot: {"port": port} for slot, port in ports.items()},
        "application": "shop", "environment": "test", "version": "2.0.0", "strategy": "canary",
        "ledger": str(tmp_path / "ledger.jsonl"),
    }
    plan_options.update(options)
    return [{"name": "plan", "hosts": "router", "gather_facts": False, "tasks": [
        {"name": "plan", "shipyard.deploy.deployment_plan": plan_options, "register": "planned"},
        {"name": "check the idle slot of every app host",
         "shipyard.deploy.health_check": {"targets": "{{ planned.plan.idle_health_targets }}", "timeout": 10}},
    ]}]


def test_the_plan_checks_each_app_host_at_its_own_address(playbook, fleet, tmp_path):
    ports, proxy = fleet
    run = playbook.run(plays(ports, proxy, tmp_path), inventory=inventory(tmp_path))
    assert run.rc == 0, run.output
    planned = run.task("plan")["plan"]
    assert planned["live_slot"] == "blue" and planned["idle_slot"] == "green" and planned["strategy"] == "canary"
    expected = ["http://%s:%d" % (address, ports["green"]) for _vars, address in APP_HOSTS.values()]
    assert planned["slot_urls"]["green"] == expected
    assert planned["idle_health_targets"] == [{"url": url + "/health", "json": {"version": "2.0.0"}}
                                              for url in expected]
    assert "127.0.0.1" not in json.dumps(planned)
    # the checks ran against the real servers: each answered from its own address
    checked = run.task("check the idle slot of every app host")["targets"]
    assert [t["target"] for t in checked] == [url + "/health" for url in expected]
    assert all(t["healthy"] for t in checked), checked
    assert not os.path.exists(tmp_path / "ledger.jsonl")  # planning writes nothing


def test_check_mode_plans_the_same(playbook, fleet, tmp_path):
    ports, proxy = fleet
    real = playbook.run(plays(ports, proxy, tmp_path), inventory=inventory(tmp_path))
    check = playbook.run(plays(ports, proxy, tmp_path), inventory=inventory(tmp_path), check=True)
    assert real.rc == 0 and check.rc == 0, check.output
    volatile = ("deployment_id", "started", "record")
    same = [{k: v for k, v in run.task("plan")["plan"].items() if k not in volatile} for run in (real, check)]
    assert same[0] == same[1]
    assert check.task("plan")["changed"] is False


def test_a_host_that_does_not_answer_fails_the_check(playbook, fleet, tmp_path):
    """The address is not cosmetic: a host whose server is elsewhere fails, it is not quietly skipped."""
    ports, proxy = fleet
    path = tmp_path / "hosts.yml"
    inventory(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["all"]["children"]["app"]["hosts"]["app1.shop.test"] = {"ansible_host": "127.0.0.8"}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    run = playbook.run(plays(ports, proxy, tmp_path), inventory=str(path))
    assert run.rc != 0
    assert "127.0.0.8:%d" % ports["green"] in run.output


@pytest.mark.parametrize("options, message", [
    ({"app_group": "web"}, "app_group (shipyard_app_group) 'web' is not a group of the inventory"),
    ({"slots": {"blue": {"port": 1}, "red": {"port": 2}}}, "names red but the router knows only blue, green"),
    ({"version": ""}, "version (shipyard_version) is required"),
])
def test_bad_input_names_the_variable(playbook, fleet, tmp_path, options, message):
    ports, proxy = fleet
    run = playbook.run(plays(ports, proxy, tmp_path, **options), inventory=inventory(tmp_path))
    assert run.rc != 0
    assert message in run.task("plan")["msg"], run.task("plan")


def test_the_rollback_role_on_its_own_reads_the_router_through_the_plan(playbook, fleet, tmp_path):
    """Without rollback_from_slot/rollback_to_slot (no playbook plan), the role plans the way back itself."""
    _ports, proxy = fleet
    router = {"driver": "haproxy", "haproxy_socket": proxy.admin_socket, "haproxy_backend": proxy.backend,
              "haproxy_state_file": proxy.state_file}
    play = [{"name": "roll back", "hosts": "router", "gather_facts": False, "tasks": [
        {"name": "roll back", "ansible.builtin.include_role": {"name": "shipyard.deploy.rollback"},
         "vars": {"rollback_router": router, "rollback_reason": "test"}}]}]
    check = playbook.run(play, inventory=inventory(tmp_path), check=True)
    assert check.rc == 0, check.output
    assert check.task("Work out the slot to go back to")["plan"]["idle_slot"] == "green"
    assert proxy_weights(playbook, router, tmp_path) == {"blue": 100, "green": 0}  # check mode moved nothing
    run = playbook.run(play, inventory=inventory(tmp_path))
    assert run.rc == 0, run.output
    assert run.task("Send all traffic to green")["changed"] is True
    assert proxy_weights(playbook, router, tmp_path) == {"blue": 0, "green": 100}
    back = playbook.run(play, inventory=inventory(tmp_path))  # and back again: now blue is the other slot
    assert back.rc == 0 and proxy_weights(playbook, router, tmp_path) == {"blue": 100, "green": 0}, back.output


def proxy_weights(playbook, router, tmp_path):
    run = playbook.run([{"hosts": "router", "gather_facts": False, "tasks": [
        {"name": "read", "shipyard.deploy.traffic_info": router}]}], inventory=inventory(tmp_path))
    return run.task("read")["weights"]
