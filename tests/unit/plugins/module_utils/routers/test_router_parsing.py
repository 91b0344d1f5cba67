"""Parsing and rendering of the HAProxy and nginx drivers (pure logic)."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RouterError
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.alb import forward_groups
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.haproxy import (
    admin_state_name,
    parse_servers_state,
    slots_by_prefix,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.nginx import (
    NginxRouter,
    parse_upstream,
    render_upstream,
)

STATE = """1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight (...)
3 app 1 blue_1 127.0.0.1 2 0 95 100 0 1 0 2 0 0 0 0 - 55307 - 0 0 - - 0
3 app 3 green_1 127.0.0.1 2 8 0 0 0 1 0 2 0 0 0 0 - 36181 - 0 0 - - 0
4 other 1 x_1 127.0.0.1 2 0 1 1 0 1 0 2 0 0 0 0 - 1 - 0 0 - - 0
"""


def test_show_servers_state_rows_of_one_backend():
    rows = parse_servers_state(STATE, "app")
    assert [(r["name"], r["weight"], r["admin_state"], r["port"]) for r in rows] == [
        ("blue_1", 95, 0, "55307"), ("green_1", 0, 8, "36181")]
    assert admin_state_name(8) == "drain" and admin_state_name(0) == "ready" and admin_state_name(1) == "maint"


def test_servers_grouped_by_name_prefix():
    assert slots_by_prefix(["blue_1", "blue-2", "green_1"]) == {"blue": ["blue_1", "blue-2"], "green": ["green_1"]}


def test_rendered_upstream_parses_back_to_the_same_weights():
    slots = {"blue": ["10.0.0.1:80", "10.0.0.2:80"], "green": ["10.0.1.1:80"]}
    text = render_upstream("app", slots, {"blue": 0, "green": 100}, "max_fails=3", ["keepalive 16;"])
    servers, directives = parse_upstream(text, "app")
    assert servers == [("10.0.0.1:80", 1, True, "max_fails=3"), ("10.0.0.2:80", 1, True, "max_fails=3"),
                       ("10.0.1.1:80", 100, False, "max_fails=3")]
    assert directives == ["keepalive 16"]


def test_hand_written_upstream_with_comments_and_default_weight():
    text = ("upstream other { server a:1; }\n# upstream app { server z:9; }\n"
            "upstream app {\n server b:2;  # blue\n server c:3 weight=3 backup;\n}\n")
    assert parse_upstream(text, "app") == ([("b:2", 1, False, ""), ("c:3", 3, False, "backup")], [])
    with pytest.raises(RouterError, match="no 'upstream missing"):
        parse_upstream(text, "missing")


def test_nginx_reads_missing_include_as_no_traffic_and_rejects_strangers(tmp_path):
    include = tmp_path / "up.conf"
    router = NginxRouter(str(include), {"blue": ["b:1"], "green": ["g:1"]})
    split = router.read()
    assert split.percent == {"blue": 0, "green": 0} and split.members["blue"][0]["state"] == "absent"
    include.write_text("upstream app { server b:1 weight=2; server x:1; }")
    with pytest.raises(ConfigurationError, match="server x:1, which is in no slot"):
        router.read()


def test_alb_forward_groups():
    assert forward_groups([{"Type": "forward", "TargetGroupArn": "a"}]) == {"a": 1}
    actions = [{"Type": "authenticate-oidc"}, {"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": "a", "Weight": 90}, {"TargetGroupArn": "b", "Weight": 10}]}}]
    assert forward_groups(actions) == {"a": 90, "b": 10}
    assert forward_groups([{"Type": "fixed-response"}]) == {}


class FakeRuntimeApi:
    """Answers 'show servers state' from a table and records every batch of commands."""

    def __init__(self, rows):
        self.rows = rows  # name -> (admin_state, weight)
        self.batches = []

    def execute(self, *commands):
        if commands[0].startswith("show servers state"):
            lines = ["1", "# header"]
            for i, (name, (admin, weight)) in enumerate(self.rows.items(), 1):
                lines.append("3 app %d %s 127.0.0.1 2 %d %d %d 0 1 0 2 0 0 0 0 - 80%02d - 0 0 - - 0"
                             % (i, name, admin, weight, weight, i))
            return "\n".join(lines) + "\n\n"
        self.batches.append(list(commands))
        return "\n"


def test_haproxy_orders_commands_so_total_weight_never_drops_to_zero():
    from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import switch
    from ansible_collections.shipyard.deploy.plugins.module_utils.routers.haproxy import HAProxyRouter

    router = HAProxyRouter("/nonexistent.sock", "app")
    # green is drained but kept a large configured weight; blue serves everything
    router.api = FakeRuntimeApi({"blue_1": (0, 100), "green_1": (8, 200)})
    router.read = _read_then_pretend_applied(router)
    switch(router, {"blue": 0, "green": 100})
    assert router.api.batches == [["set server app/green_1 weight 100", "set server app/green_1 state ready",
                                   "set server app/blue_1 weight 0", "set server app/blue_1 state drain"]]


def _read_then_pretend_applied(router):
    """read() as usual the first time; afterwards the table reflects the batch (as HAProxy would)."""
    original = router.read

    def read():
        for batch in router.api.batches:
            for command in batch:
                _set, _server, ref, what, value = command.split()
                name = ref.split("/")[1]
                admin, weight = router.api.rows[name]
                if what == "weight":
                    weight = int(value)
                else:
                    admin = 8 if value == "drain" else 0
                router.api.rows[name] = (admin, weight)
        return original()

    return read


def test_haproxy_socket_address_is_checked_up_front():
    from ansible_collections.shipyard.deploy.plugins.module_utils.routers.haproxy import HAProxyRouter

    with pytest.raises(ConfigurationError, match="haproxy_socket 'localhost' is neither"):
        HAProxyRouter("localhost", "app")
    with pytest.raises(ConfigurationError, match="needs haproxy_backend"):
        HAProxyRouter("/run/haproxy/admin.sock", "")
    assert HAProxyRouter("127.0.0.1:9999", "app").api.sockaddr == ("127.0.0.1", 9999)
