"""Slots as ports on every host or as host groups: which hosts run which slot, and the layouts refused."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger, plan, topology
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

NOW = datetime.datetime(2026, 12, 1, 21, 30, 5, tzinfo=datetime.timezone.utc)
GROUP_SLOTS = {"blue": {"group": "app_blue", "port": 8000}, "green": {"group": "app_green", "port": 8000}}
GROUPS = {"all": ["b1", "b2", "g1", "g2", "lb"], "ungrouped": [], "app": ["b1", "b2", "g1", "g2"],
          "app_blue": ["b1", "b2"], "app_green": ["g1", "g2"], "router": ["lb"]}
HOSTS = [("b1", {"ansible_host": "10.0.1.1"}), ("b2", {"ansible_host": "10.0.1.2"}),
         ("g1", {"ansible_host": "10.0.2.1"}), ("g2", {"shipyard_app_address": "10.0.2.2"})]


def params(**more):
    base = {"purpose": "deploy", "router": {"driver": "haproxy"}, "slots": GROUP_SLOTS, "app_group": "app",
            "address_variable": "shipyard_app_address", "application": "shop", "environment": "production",
            "version": "2.0.0", "strategy": "bluegreen", "health_path": "/health", "health_json": None,
            "ledger": "", "ledger_aws": {}, "report_dest": "", "to_slot": "", "emergency": False}
    base.update(more)
    return base


def traffic(blue, green):
    weights = {"blue": blue, "green": green}
    return {"weights": weights, "active": next((s for s, w in weights.items() if w == 100), None)}


def groups(**changes):
    found = dict(GROUPS)
    found.update(changes)
    return found


class TestSlotHosts:
    def test_ports_every_app_host_runs_every_slot(self):
        layout, hosts = topology.slot_hosts({"blue": {"port": 8001}, "green": {"port": 8002}}, ["a", "b"], {})
        assert layout == "ports" and hosts == {"blue": ["a", "b"], "green": ["a", "b"]}
        assert topology.slot_hosts(["blue", "green"], [], {}) == ("ports", {"blue": [], "green": []})

    def test_host_groups_each_slot_its_group_in_group_order(self):
        layout, hosts = topology.slot_hosts(GROUP_SLOTS, ["g2", "g1", "b1", "b2"], GROUPS)
        assert layout == "host_groups" and hosts == {"blue": ["b1", "b2"], "green": ["g1", "g2"]}


class TestBadLayouts:
    @pytest.mark.parametrize("slots, inventory, pattern", [
        ({"blue": {"group": "app_blue", "port": 8000}, "green": {"port": 8002}}, GROUPS,
         r"shipyard_slots. blue name a host group but green does not; give every slot a group"),
        ({"blue": {"group": "app_bleu", "port": 8000}, "green": {"group": "app_green", "port": 8000}}, GROUPS,
         r"slot blue's group 'app_bleu' .shipyard_slots. is not a group of the inventory .its groups: app, "
         r"app_blue, app_green, router."),
        (GROUP_SLOTS, groups(app_green=[]), r"slot green's group app_green .shipyard_slots. has no hosts"),
        (GROUP_SLOTS, groups(app_green=["g1", "g2", "b2"]),
         r"host b2 is in group app_blue .slot blue. and in group app_green .slot green.; the slots' groups must "
         r"not overlap"),
        ({"blue": {"group": "app", "port": 8000}, "green": {"group": "app", "port": 8001}}, GROUPS,
         r"slots blue and green .shipyard_slots. both use group app"),
        (GROUP_SLOTS, groups(app_green=["g1", "g2", "lb"]),
         r"host lb of group app_green .slot green. is not in the app group app .shipyard_app_group."),
        (GROUP_SLOTS, groups(app_green=["g1"]),
         r"app hosts g2 .group app. are in none of the slots' groups .app_blue, app_green."),
        ({"blue": {"group": ["app_blue"], "port": 8000}, "green": {"group": "app_green", "port": 8000}}, GROUPS,
         r"slot blue of slots .shipyard_slots. has group \['app_blue'\]; a group is the name of an inventory group"),
    ])
    def test_refused_before_anything_changes(self, slots, inventory, pattern):
        with pytest.raises(ConfigurationError, match=pattern):
            topology.slot_hosts(slots, ["b1", "b2", "g1", "g2"], inventory)
        # the plan refuses it the same way (the action plugin fails before any play changes a host)
        with pytest.raises(ConfigurationError, match=pattern):
            plan.plan_deployment(params(slots=slots), traffic(100, 0), [], HOSTS, NOW, groups=inventory)

    def test_groups_without_the_inventory_groups_is_an_error(self):
        with pytest.raises(ConfigurationError, match=r"not a group of the inventory .its groups: none"):
            plan.plan_deployment(params(), traffic(100, 0), [], HOSTS, NOW)


class TestHostGroupPlans:
    def test_release_goes_onto_the_idle_group_only(self):
        planned = plan.plan_deployment(params(), traffic(100, 0), [], HOSTS, NOW, groups=GROUPS)
        assert planned["topology"] == "host_groups"
        assert (planned["live_slot"], planned["idle_slot"]) == ("blue", "green")
        assert planned["release_hosts"] == ["g1", "g2"]
        assert planned["slots"]["blue"]["hosts"] == ["b1", "b2"]
        assert planned["slot_urls"] == {"blue": ["http://10.0.1.1:8000", "http://10.0.1.2:8000"],
                                        "green": ["http://10.0.2.1:8000", "http://10.0.2.2:8000"]}
        assert planned["idle_health_targets"] == [
            {"url": "http://10.0.2.1:8000/health", "json": {"version": "2.0.0"}},
            {"url": "http://10.0.2.2:8000/health", "json": {"version": "2.0.0"}}]
        assert planned["app_hosts"] == ["b1", "b2", "g1", "g2"]

    def test_first_deployment_goes_onto_the_first_group(self):
        planned = plan.plan_deployment(params(), traffic(0, 0), [], HOSTS, NOW, groups=GROUPS)
        assert planned["strategy"] == "direct" and planned["release_hosts"] == ["b1", "b2"]

    def test_ports_release_onto_every_app_host(self):
        slots = {"blue": {"port": 8001}, "green": {"port": 8002}}
        planned = plan.plan_deployment(params(slots=slots), traffic(0, 100), [], HOSTS, NOW, groups=GROUPS)
        assert planned["topology"] == "ports" and planned["release_hosts"] == ["b1", "b2", "g1", "g2"]
        assert planned["slots"]["blue"]["hosts"] == ["b1", "b2", "g1", "g2"]
        assert planned["idle_health_targets"][0] == {"url": "http://10.0.1.1:8001/health",
                                                     "json": {"version": "2.0.0"}}

    def test_rollback_returns_to_the_other_group(self):
        def deployment(identifier, version, slot, start):
            moment = NOW - datetime.timedelta(hours=10 - start)
            return [ledger.new_record(identifier, "production", "shop", version, name, data,
                                      moment=moment + datetime.timedelta(seconds=i))
                    for i, (name, data) in enumerate([("release", {"slot": slot, "version": version}),
                                                      ("succeeded", {"slot": slot})])]
        records = deployment("d1", "1.0.0", "blue", 0) + deployment("d2", "2.0.0", "green", 1)
        planned = plan.plan_rollback(params(purpose="rollback", version="", ledger="/srv/l.jsonl"), traffic(0, 100),
                                     records, HOSTS, NOW, groups=GROUPS)
        assert planned["topology"] == "host_groups" and planned["release_hosts"] == []
        assert (planned["live_slot"], planned["idle_slot"]) == ("green", "blue")
        assert planned["health_targets"]["blue"] == [
            {"url": "http://10.0.1.1:8000/health", "json": {"version": "1.0.0"}},
            {"url": "http://10.0.1.2:8000/health", "json": {"version": "1.0.0"}}]
        assert planned["slots"]["blue"]["hosts"] == ["b1", "b2"]
