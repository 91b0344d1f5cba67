"""The deployment plan: addresses, live/idle slot from the router and the ledger, first deployment, rollback."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger, plan
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

NOW = datetime.datetime(2026, 12, 1, 21, 30, 5, tzinfo=datetime.timezone.utc)
SLOTS = {"blue": {"port": 8001}, "green": {"port": 8002}}
HOSTS = [("app1.prod.example.internal", {"ansible_host": "10.0.0.11"}),
         ("app2.prod.example.internal", {})]


def params(**more):
    base = {"purpose": "deploy", "router": {"driver": "haproxy"}, "slots": SLOTS, "app_group": "app",
            "address_variable": "shipyard_app_address", "application": "shop", "environment": "production",
            "version": "2.0.0", "strategy": "canary", "health_path": "/health", "health_json": None,
            "ledger": "/srv/ledger.jsonl", "ledger_aws": {}, "report_dest": "", "to_slot": "", "emergency": False}
    base.update(more)
    return base


def traffic(blue, green):
    weights = {"blue": blue, "green": green}
    return {"weights": weights, "active": next((s for s, w in weights.items() if w == 100), None)}


def deployment(identifier, version, slot, outcome="succeeded", env="production", start=0):
    """Ledger records of one deployment that released ``version`` onto ``slot`` and ended with ``outcome``."""
    moment = NOW - datetime.timedelta(hours=10 - start)
    names = [("started", {"idle_slot": slot}), ("release", {"slot": slot, "version": version}),
             (outcome, {"slot": slot} if outcome == "succeeded" else {"reason": "bad"})]
    return [ledger.new_record(identifier, env, "shop", version, name, data,
                              moment=moment + datetime.timedelta(seconds=i)) for i, (name, data) in enumerate(names)]


class TestAddresses:
    def test_address_variable_then_ansible_host_then_inventory_name(self):
        assert plan.app_address("app1", {"shipyard_app_address": "10.0.0.5", "ansible_host": "10.9.9.9"}) == "10.0.0.5"
        assert plan.app_address("app1", {"ansible_host": "10.9.9.9"}) == "10.9.9.9"
        assert plan.app_address("app1.example.internal", {}) == "app1.example.internal"
        # an empty value is not an address
        assert plan.app_address("app1", {"shipyard_app_address": "", "ansible_host": "10.9.9.9"}) == "10.9.9.9"

    def test_never_loopback_by_default(self):
        planned = plan.plan_deployment(params(), traffic(100, 0), [], HOSTS, NOW)
        urls = [u for slot in planned["slots"].values() for u in slot["urls"]]
        assert not [u for u in urls if "127.0.0.1" in u or "localhost" in u], urls
        assert planned["slot_urls"] == {"blue": ["http://10.0.0.11:8001", "http://app2.prod.example.internal:8001"],
                                        "green": ["http://10.0.0.11:8002", "http://app2.prod.example.internal:8002"]}

    def test_ipv6_addresses_are_bracketed(self):
        assert plan.base_url("fd00::11", 8001) == "http://[fd00::11]:8001"

    def test_health_targets_expect_the_new_version_by_default(self):
        planned = plan.plan_deployment(params(), traffic(100, 0), [], HOSTS, NOW)
        assert planned["idle_health_targets"] == [
            {"url": "http://10.0.0.11:8002/health", "json": {"version": "2.0.0"}},
            {"url": "http://app2.prod.example.internal:8002/health", "json": {"version": "2.0.0"}}]
        custom = plan.plan_deployment(params(health_json={"status": "ok"}, health_path="ready"),
                                      traffic(100, 0), [], HOSTS[:1], NOW)
        assert custom["idle_health_targets"] == [{"url": "http://10.0.0.11:8002/ready", "json": {"status": "ok"}}]
        # an empty dict asks for no JSON check at all
        bare = plan.plan_deployment(params(health_json={}), traffic(100, 0), [], HOSTS[:1], NOW)
        assert bare["idle_health_targets"] == [{"url": "http://10.0.0.11:8002/health"}]


class TestDeployment:
    def test_first_deployment_is_direct_with_no_live_slot(self):
        planned = plan.plan_deployment(params(strategy="canary"), traffic(0, 0), [], HOSTS, NOW)
        assert planned["live_slot"] == "" and planned["idle_slot"] == "blue"
        assert planned["strategy"] == "direct" and planned["requested_strategy"] == "canary"
        assert planned["live_version"] == ""
        assert planned["deployment_id"] == "shop-production-20261201T213005Z"
        assert planned["started"] == NOW.timestamp()
        assert planned["record"] == {"ledger": "/srv/ledger.jsonl", "deployment_id": planned["deployment_id"],
                                     "environment": "production", "application": "shop", "version": "2.0.0"}

    def test_live_slot_and_version_from_router_and_ledger(self):
        records = deployment("d1", "1.0.0", "blue") + deployment("d2", "1.5.0", "green", start=1)
        planned = plan.plan_deployment(params(), traffic(0, 100), records, HOSTS, NOW)
        assert (planned["live_slot"], planned["idle_slot"], planned["live_version"]) == ("green", "blue", "1.5.0")
        assert planned["strategy"] == "canary" and planned["weights_before"] == {"blue": 0, "green": 100}
        assert planned["warnings"] == []

    def test_router_wins_when_the_ledger_disagrees(self):
        # the ledger's last good deployment ended on green, but someone switched to blue by hand
        records = deployment("d1", "1.0.0", "blue") + deployment("d2", "1.5.0", "green", start=1)
        planned = plan.plan_deployment(params(), traffic(100, 0), records, HOSTS, NOW)
        assert planned["live_slot"] == "blue" and planned["idle_slot"] == "green"
        assert planned["live_version"] == "1.0.0"  # what the ledger last released onto blue
        assert "router sends traffic to blue but the ledger" in planned["warnings"][0]

    def test_largest_share_is_live_while_split(self):
        planned = plan.plan_deployment(params(), traffic(75, 25), [], HOSTS, NOW)
        assert planned["live_slot"] == "blue" and planned["idle_slot"] == "green"

    def test_a_tie_is_broken_by_the_ledger(self):
        records = deployment("d1", "1.0.0", "green")
        planned = plan.plan_deployment(params(), traffic(50, 50), records, HOSTS, NOW)
        assert planned["live_slot"] == "green" and planned["idle_slot"] == "blue"
        assert "split evenly" in planned["warnings"][0]

    def test_a_tie_the_ledger_cannot_break_stops(self):
        with pytest.raises(ConfigurationError, match=r"split evenly between blue and green.*traffic_switch"):
            plan.plan_deployment(params(), traffic(50, 50), [], HOSTS, NOW)

    def test_no_traffic_keeps_the_ledgers_last_slot_warm(self):
        # nothing serves (e.g. an nginx include not written yet) but the ledger knows blue ran 1.0.0
        records = deployment("d1", "1.0.0", "blue")
        planned = plan.plan_deployment(params(), traffic(0, 0), records, HOSTS, NOW)
        assert planned["live_slot"] == "" and planned["idle_slot"] == "green" and planned["strategy"] == "direct"

    def test_other_environments_do_not_count(self):
        records = deployment("s1", "9.9.9", "blue", env="staging")
        planned = plan.plan_deployment(params(), traffic(100, 0), records, HOSTS, NOW)
        assert planned["live_version"] == "" and planned["slot_versions"] == {}

    def test_paths_are_normalised_and_credentials_stay_out(self):
        planned = plan.plan_deployment(
            params(ledger="inventory/local/../../.demo/ledger.jsonl",
                   ledger_aws={"region": "eu-west-1", "secret_key": "s3cr3t", "access_key": "AK"}),
            traffic(100, 0), [], HOSTS, NOW)
        assert planned["record"]["ledger"] == ".demo/ledger.jsonl"
        assert planned["record"]["region"] == "eu-west-1"
        assert "s3cr3t" not in repr(planned) and "AK" not in repr(planned)
        assert planned["report_dest"] == ".demo/reports"
        s3 = plan.plan_deployment(params(ledger="s3://bucket/shop/ledger.jsonl"), traffic(100, 0), [], HOSTS, NOW)
        assert s3["report_dest"] == "s3://bucket/shop/reports" and s3["record"]["ledger"] == "s3://bucket/shop/ledger.jsonl"
        chosen = plan.plan_deployment(params(report_dest="/srv/./reports/"), traffic(100, 0), [], HOSTS, NOW)
        assert chosen["report_dest"] == "/srv/reports"


class TestBadInput:
    @pytest.mark.parametrize("slots, pattern", [
        ({"blue": {"port": 8001}}, "at least two slots"),
        ({"blue": {"port": 8001}, "green": {}}, "slot green of slots .shipyard_slots. needs a port"),
        ({"blue": {"port": 8001}, "green": {"port": "http"}}, "needs a port"),
        ({"blue": {"port": 8001}, "green": {"port": 70000}}, "needs a port"),
        ("blue,green", "at least two slots"),
    ])
    def test_slots(self, slots, pattern):
        with pytest.raises(ConfigurationError, match=pattern):
            plan.plan_deployment(params(slots=slots), traffic(100, 0), [], HOSTS, NOW)

    def test_slot_names_the_router_does_not_know(self):
        slots = {"a": {"port": 8001}, "b": {"port": 8002}}
        known = r"shipyard_slots. names a, b but the router knows only blue, green"
        with pytest.raises(ConfigurationError, match=known):
            plan.plan_deployment(params(slots=slots), traffic(100, 0), [], HOSTS, NOW)

    def test_router_traffic_to_a_slot_missing_from_shipyard_slots(self):
        answer = {"weights": {"blue": 50, "green": 0, "red": 50}, "active": None}
        stray = r"sends traffic to red, which slots .shipyard_slots. does not name"
        with pytest.raises(ConfigurationError, match=stray):
            plan.plan_deployment(params(), answer, [], HOSTS, NOW)

    def test_unknown_and_empty_app_groups(self):
        with pytest.raises(ConfigurationError, match=r"shipyard_app_group. 'web' is not a group.*groups: app, router"):
            plan.app_hosts("web", {"all": ["a"], "ungrouped": [], "app": ["a"], "router": ["r"]})
        with pytest.raises(ConfigurationError, match="'app' has no hosts"):
            plan.app_hosts("app", {"app": []})
        assert plan.app_hosts("", {}) == []

    @pytest.mark.parametrize("name", ["version", "environment", "application"])
    def test_required_names(self, name):
        with pytest.raises(ConfigurationError, match=r"%s .shipyard_%s. is required" % (name, name)):
            plan.plan_deployment(params(**{name: ""}), traffic(100, 0), [], HOSTS, NOW)

    def test_unknown_strategy(self):
        with pytest.raises(ConfigurationError, match=r"shipyard_strategy. must be one of direct, bluegreen, canary"):
            plan.plan_deployment(params(strategy="yolo"), traffic(100, 0), [], HOSTS, NOW)


class TestRollback:
    def test_back_to_the_slot_running_the_previous_good_version(self):
        records = deployment("d1", "1.0.0", "blue") + deployment("d2", "2.0.0", "green", start=1)
        planned = plan.plan_rollback(params(purpose="rollback", version=""), traffic(0, 100), records, HOSTS, NOW)
        assert (planned["live_slot"], planned["idle_slot"]) == ("green", "blue")
        assert planned["deployment_id"] == "d2" and planned["version"] == "2.0.0"
        assert planned["target_version"] == "1.0.0" and planned["live_version"] == "2.0.0"
        assert planned["health_targets"]["blue"][0] == {"url": "http://10.0.0.11:8001/health",
                                                        "json": {"version": "1.0.0"}}
        assert planned["record"]["deployment_id"] == "d2" and planned["record"]["version"] == "2.0.0"

    def test_refused_when_the_other_slot_runs_a_rolled_back_canary(self):
        records = (deployment("d1", "1.0.0", "blue") + deployment("d2", "2.0.0", "green", start=1)
                   + deployment("d3", "3.0.0", "blue", outcome="rolled_back", start=2))
        with pytest.raises(ConfigurationError) as refused:
            plan.plan_rollback(params(purpose="rollback"), traffic(0, 100), records, HOSTS, NOW)
        message = refused.value.message
        assert "slot blue runs 3.0.0" in message and "not 1.0.0, the previous good version" in message
        assert "ansible-playbook shipyard.deploy.deploy -e shipyard_version=1.0.0" in message
        # an emergency moves the traffic anyway
        planned = plan.plan_rollback(params(purpose="rollback", emergency=True), traffic(0, 100), records, HOSTS, NOW)
        assert planned["idle_slot"] == "blue"

    def test_refused_when_the_other_slot_never_succeeded(self):
        records = deployment("d1", "1.0.0", "blue") + deployment("d2", "2.0.0", "green", outcome="failed", start=1)
        with pytest.raises(ConfigurationError, match=r"slot green runs 2.0.0.*no succeeded deployment in production"):
            plan.plan_rollback(params(purpose="rollback"), traffic(100, 0), records, HOSTS, NOW)

    def test_without_a_ledger_it_only_flips(self):
        planned = plan.plan_rollback(params(purpose="rollback", ledger="", slots=["blue", "green"]),
                                     traffic(100, 0), [], [], NOW)
        assert (planned["live_slot"], planned["idle_slot"]) == ("blue", "green")
        assert planned["record"] == {} and planned["deployment_id"] == "" and planned["health_targets"]["green"] == []

    def test_a_rolling_deployment_is_refused_with_the_command_that_rolls_the_previous_version(self):
        records = deployment("d1", "1.0.0", "app") + deployment("d2", "2.0.0", "app", start=1)
        rolling = params(purpose="rollback", strategy="rolling", slots={"app": {"port": 8000}})
        with pytest.raises(ConfigurationError) as refused:
            plan.plan_rollback(rolling, {"weights": {"app": 100}, "active": "app"}, records, HOSTS, NOW)
        message = refused.value.message
        assert "no other slot to send the traffic back to" in message, message
        assert "ansible-playbook shipyard.deploy.deploy -e shipyard_version=1.0.0" in message, message
        # without an earlier good version the command has a placeholder, and says why
        with pytest.raises(ConfigurationError, match=r"shipyard_version=<previous version> .*names no earlier "
                                                     r"succeeded version in production"):
            plan.plan_rollback(rolling, {"weights": {"app": 100}}, deployment("d1", "1.0.0", "app"), HOSTS, NOW)

    def test_nothing_live_is_nothing_to_roll_back(self):
        with pytest.raises(ConfigurationError, match="nothing to roll back"):
            plan.plan_rollback(params(purpose="rollback"), traffic(0, 0), [], HOSTS, NOW)

    def test_to_slot_is_checked(self):
        with pytest.raises(ConfigurationError, match=r"rollback_to_slot. 'red' is not one of"):
            plan.plan_rollback(params(purpose="rollback", to_slot="red"), traffic(100, 0), [], HOSTS, NOW)
        with pytest.raises(ConfigurationError, match="already receives the traffic"):
            plan.plan_rollback(params(purpose="rollback", to_slot="blue"), traffic(100, 0), [], HOSTS, NOW)


GROUP_SLOTS = {"blue": {"group": "app_blue", "port": 8000}, "green": {"group": "app_green", "port": 8000}}
GROUP_INVENTORY = {"all": ["b1", "b2", "g1", "g2", "lb"], "ungrouped": [], "app": ["b1", "b2", "g1", "g2"],
                   "app_blue": ["b1", "b2"], "app_green": ["g1", "g2"], "router": ["lb"]}
GROUP_HOSTS = [("b1", {"ansible_host": "10.0.1.1"}), ("b2", {"ansible_host": "10.0.1.2"}),
               ("g1", {"ansible_host": "10.0.2.1"}), ("g2", {"shipyard_app_address": "10.0.2.2"})]


def group_params(**more):
    return params(**dict({"slots": GROUP_SLOTS, "strategy": "bluegreen", "ledger": ""}, **more))


class TestHostGroupPlans:
    def test_a_bad_layout_is_refused_before_anything_changes(self):
        # every case is in test_topology.py; the plan (so the action plugin) raises them before any play runs
        with pytest.raises(ConfigurationError, match=r"slot green's group app_green .shipyard_slots. has no hosts"):
            plan.plan_deployment(group_params(), traffic(100, 0), [], GROUP_HOSTS, NOW,
                                 groups=dict(GROUP_INVENTORY, app_green=[]))
        with pytest.raises(ConfigurationError, match=r"not a group of the inventory .its groups: none"):
            plan.plan_deployment(group_params(), traffic(100, 0), [], GROUP_HOSTS, NOW)

    def test_release_goes_onto_the_idle_group_only(self):
        planned = plan.plan_deployment(group_params(), traffic(100, 0), [], GROUP_HOSTS, NOW, groups=GROUP_INVENTORY)
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
        planned = plan.plan_deployment(group_params(), traffic(0, 0), [], GROUP_HOSTS, NOW, groups=GROUP_INVENTORY)
        assert planned["strategy"] == "direct" and planned["release_hosts"] == ["b1", "b2"]

    def test_ports_release_onto_every_app_host(self):
        slots = {"blue": {"port": 8001}, "green": {"port": 8002}}
        planned = plan.plan_deployment(group_params(slots=slots), traffic(0, 100), [], GROUP_HOSTS, NOW,
                                       groups=GROUP_INVENTORY)
        assert planned["topology"] == "ports" and planned["release_hosts"] == ["b1", "b2", "g1", "g2"]
        assert planned["slots"]["blue"]["hosts"] == ["b1", "b2", "g1", "g2"]
        assert planned["idle_health_targets"][0] == {"url": "http://10.0.1.1:8001/health",
                                                     "json": {"version": "2.0.0"}}

    def test_rollback_returns_to_the_other_group(self):
        records = deployment("d1", "1.0.0", "blue") + deployment("d2", "2.0.0", "green", start=1)
        planned = plan.plan_rollback(group_params(purpose="rollback", version="", ledger="/srv/l.jsonl"),
                                     traffic(0, 100), records, GROUP_HOSTS, NOW, groups=GROUP_INVENTORY)
        assert planned["topology"] == "host_groups" and planned["release_hosts"] == []
        assert (planned["live_slot"], planned["idle_slot"]) == ("green", "blue")
        assert planned["health_targets"]["blue"] == [
            {"url": "http://10.0.1.1:8000/health", "json": {"version": "1.0.0"}},
            {"url": "http://10.0.1.2:8000/health", "json": {"version": "1.0.0"}}]
        assert planned["slots"]["blue"]["hosts"] == ["b1", "b2"]


def test_display_location():
    assert plan.display_location("inventory/local/../../.demo/reports") == ".demo/reports"
    assert plan.display_location("s3://bucket/a/../b") == "s3://bucket/a/../b"
    assert plan.display_location("") == ""
