"""Member operations: input checks, the plan/refuse/read-back flow, nginx's maintenance list, ALB names."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RouterError
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.alb import parse_target, target_state
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import Router
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.members import (
    change_members,
    validate_members,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.nginx import (
    NginxRouter,
    parse_maintenance,
    parse_upstream,
    render_upstream,
)


class TableRouter(Router):
    """A router whose members live in a dict: enough to drive routers/members.py's flow."""

    driver = "table"

    def __init__(self, table, sticky=()):
        self.table = table
        self.sticky = set(sticky)  # members whose writes do not take (a router changed concurrently)
        self.applied = []

    def read_members(self, slot=None):
        return {name: dict(row, name=name) for name, row in self.table.items() if slot in (None, row["slot"])}

    def member_target(self, row, operation):
        return "up" if operation == "enabled" else "out"

    def member_serving(self, row):
        return row["state"] == "up"

    def apply_members(self, changes, operation, drain_timeout):
        self.applied.append((sorted(changes), operation, drain_timeout))
        for name, (_row, target) in changes.items():
            if name not in self.sticky:
                self.table[name]["state"] = target
        return {"warnings": ["note"]}


def table():
    return {"a": {"slot": "blue", "state": "up"}, "b": {"slot": "blue", "state": "up"},
            "c": {"slot": "green", "state": "out"}}


@pytest.mark.parametrize("names, state, timeout, message", [
    ([], "drained", 1, "members is empty"),
    (["a", ""], "drained", 1, "members is empty"),
    (["a", "a"], "drained", 1, "lists a more than once"),
    (["a"], "stopped", 1, "state 'stopped' is not one of"),
    (["a"], "drained", -1, "drain_timeout must be zero or more"),
])
def test_bad_input_is_refused_before_the_router_is_asked(names, state, timeout, message):
    with pytest.raises(ConfigurationError, match=message):
        validate_members(names, state, timeout)


def test_change_predict_apply_and_idempotence():
    router = TableRouter(table())
    predicted = change_members(router, ["a"], "drained", check_mode=True, diff_mode=True)
    assert predicted["changed"] and predicted["members"][0]["after"] == "out" and router.applied == []
    assert predicted["diff"]["before"] == "a: up\n" and predicted["diff"]["after"] == "a: out\n"
    done = change_members(router, ["a"], "drained", drain_timeout=7)
    assert done["members"] == [{"name": "a", "slot": "blue", "before": "up", "after": "out", "changed": True}]
    assert router.applied == [(["a"], "drained", 7)] and done["warnings"] == ["note"]
    again = change_members(router, ["a"], "maintenance")
    assert again["changed"] is False and len(router.applied) == 1


def test_unknown_member_and_last_serving_member_change_nothing():
    router = TableRouter(table())
    with pytest.raises(ConfigurationError, match="z is not a member"):
        change_members(router, ["a", "z"], "drained")
    with pytest.raises(RouterError, match="no member receiving traffic"):
        change_members(router, ["a", "b"], "maintenance")
    assert router.applied == []
    assert change_members(router, ["a", "b"], "maintenance", force=True)["changed"]


def test_a_write_that_does_not_take_fails_the_read_back():
    router = TableRouter(table(), sticky=["c"])
    with pytest.raises(RouterError, match="did not take the member change"):
        change_members(router, ["c"], "enabled")


def test_nginx_maintenance_list_keeps_the_weight_on_the_line():
    slots = {"blue": ["10.0.0.1:80", "10.0.0.2:80"], "green": ["10.0.1.1:80"]}
    text = render_upstream("app", slots, {"blue": 50, "green": 0}, maintenance=["10.0.0.2:80", "10.9.9.9:80"])
    assert parse_maintenance(text) == ["10.0.0.2:80"]  # only members of a slot
    servers = {a: (w, d) for a, w, d, _o in parse_upstream(text, "app")[0]}
    assert servers == {"10.0.0.1:80": (50, False), "10.0.0.2:80": (50, True), "10.0.1.1:80": (1, True)}
    assert "members in maintenance" not in render_upstream("app", slots, {"blue": 50, "green": 0})


def test_nginx_reads_maint_and_a_switch_keeps_it(tmp_path):
    include = tmp_path / "upstream.conf"
    slots = {"blue": ["10.0.0.1:80", "10.0.0.2:80"], "green": ["10.0.1.1:80"]}
    include.write_text(render_upstream("app", slots, {"blue": 50, "green": 0}, maintenance=["10.0.0.2:80"]))
    router = NginxRouter(str(include), slots)
    before = router.read()
    assert [m["state"] for m in before.members["blue"]] == ["up", "maint"]
    assert before.percent == {"blue": 100, "green": 0}
    target = router.plan({"blue": 50, "green": 50}, before)
    assert [m["state"] for m in target.members["blue"]] == ["up", "maint"]
    assert "10.0.0.2:80 weight=25 down" in router._candidate
    rows = router.read_members()
    assert router.member_target(rows["10.0.0.2:80"], "enabled") == "up"
    assert router.member_target(rows["10.0.1.1:80"], "enabled") == "down"  # green is at 0 %
    with pytest.raises(ConfigurationError, match="slot 'red'"):
        router.read_members("red")


def test_damaged_maintenance_line_is_reported():
    with pytest.raises(RouterError, match="damaged line"):
        parse_maintenance("# members in maintenance: [oops\n")


def test_alb_target_names_and_states():
    assert parse_target("i-0abc") == ("i-0abc", None)
    assert parse_target("i-0abc:8080") == ("i-0abc", 8080)
    assert parse_target("10.0.1.5:80") == ("10.0.1.5", 80)
    assert target_state("healthy") == "registered" and target_state("draining") == "draining"
    assert target_state("unhealthy") == "registered"
