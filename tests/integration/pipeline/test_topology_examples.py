"""The router configuration and inventories shipped in docs/examples/<topology>/, as a newcomer copies them.

- haproxy.cfg passes ``haproxy -c`` and its servers are the ``<slot>_<n>`` the HAProxy driver expects,
  at the addresses and ports the inventory's plan gives each slot;
- nginx/shop.conf + nginx/shop-upstream.conf pass ``nginx -t`` (under a temporary prefix) and the
  upstream's servers are the same addresses, by slot, as the nginx driver reads them;
- the inventory plans correctly: shipyard.deploy.deployment_plan through ansible-playbook against an
  HAProxy started from the shipped haproxy.cfg (ports and paths substituted).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from harness.haproxy import HAPROXY, runtime_command
from harness.net import free_port, wait_for_port
from harness.playbook import REPO_ROOT, play

from ansible_collections.shipyard.deploy.plugins.module_utils import topology
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.nginx import parse_upstream

EXAMPLES = os.path.join(REPO_ROOT, "docs", "examples")
TOPOLOGIES = ["ports", "host_groups"]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def example(name, *parts):
    return os.path.join(EXAMPLES, name, *parts)


def inventory_groups(name):
    """({group: [hosts]} incl. parents, {host: ansible_host}, group_vars) of the shipped inventory."""
    with open(example(name, "inventory", "hosts.yml")) as handle:
        tree = yaml.safe_load(handle)
    groups, addresses = {}, {}

    def walk(group, node):
        members = []
        for host, variables in (node.get("hosts") or {}).items():
            addresses[host] = (variables or {}).get("ansible_host", host)
            members.append(host)
        for child, child_node in (node.get("children") or {}).items():
            members += walk(child, child_node or {})
        groups[group] = members
        return members

    walk("all", tree["all"])
    with open(example(name, "inventory", "group_vars", "all.yml")) as handle:
        return groups, addresses, yaml.safe_load(handle)


def expected_members(name):
    """{slot: [address:port]} in server order, from the inventory's slots and hosts (what the plan uses)."""
    groups, addresses, variables = inventory_groups(name)
    slots = variables["shipyard_slots"]
    _layout, hosts = topology.slot_hosts(slots, groups["app"], groups)
    return {slot: ["%s:%d" % (addresses[h], slots[slot]["port"]) for h in hosts[slot]] for slot in slots}


@pytest.mark.parametrize("name", TOPOLOGIES)
def test_haproxy_cfg_is_valid_and_names_the_servers_of_each_slot(name):
    check = subprocess.run([HAPROXY, "-c", "-f", example(name, "haproxy.cfg")], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    with open(example(name, "haproxy.cfg")) as handle:
        text = handle.read()
    assert "option idle-close-on-response" in text and "load-server-state-from-file global" in text
    servers = re.findall(r"^\s+server (\S+) (\S+)", text, re.M)
    found = {}
    for server, address in servers:
        found.setdefault(server.split("_", 1)[0], []).append((server, address))
    expected = expected_members(name)
    assert {slot: [a for _s, a in rows] for slot, rows in found.items()} == expected
    assert [s for rows in found.values() for s, _a in rows] == [
        "%s_%d" % (slot, n) for slot, members in expected.items() for n in range(1, len(members) + 1)]


@pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason="nginx not installed")
@pytest.mark.parametrize("name", TOPOLOGIES)
def test_nginx_conf_is_valid_and_its_upstream_has_the_slots_servers(name, tmp_path):
    include = example(name, "nginx", "shop-upstream.conf")
    with open(example(name, "nginx", "shop.conf")) as handle:
        server_block = handle.read()
    assert "include /etc/nginx/shipyard/shop-upstream.conf;" in server_block
    site = tmp_path / "shop.conf"
    site.write_text(server_block.replace("/etc/nginx/shipyard/shop-upstream.conf", include))
    temp = "".join("    %s_temp_path %s/%s;\n" % (kind, tmp_path, kind)
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp_path / "nginx.conf"
    conf.write_text("pid %s/nginx.pid;\nerror_log %s/error.log;\nevents { }\nhttp {\n    access_log off;\n%s"
                    "    include %s;\n}\n" % (tmp_path, tmp_path, temp, site))
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stderr
    with open(include) as handle:
        text = handle.read()
    servers, _directives = parse_upstream(text, "shop")
    by_slot = {}
    for line in text.splitlines():
        match = re.match(r"\s+server (\S+) .*# slot=(\w+)", line)
        if match:
            by_slot.setdefault(match.group(2), []).append(match.group(1))
    assert by_slot == expected_members(name)
    assert [address for address, *_rest in servers] == [a for members in by_slot.values() for a in members]


@pytest.fixture
def shipped_haproxy(request, tmp_path):
    """HAProxy from the shipped haproxy.cfg: loopback port, socket and state file in tmp, no user switch."""
    name = request.param
    with open(example(name, "haproxy.cfg")) as handle:
        text = handle.read()
    port = free_port()
    socket_path = str(tmp_path / "admin.sock")
    text = (text.replace("/run/haproxy/admin.sock", socket_path)
            .replace("/var/lib/haproxy/server-state", str(tmp_path / "server-state"))
            .replace("    bind :80\n", "    bind 127.0.0.1:%d\n" % port)
            .replace("    log /dev/log local0\n", "")
            .replace("    user haproxy\n", "").replace("    group haproxy\n", "")
            # the example's app hosts do not exist here: health checks go to loopback addresses nobody serves
            .replace(" 10.10.", " 127.10."))
    config = tmp_path / "haproxy.cfg"
    config.write_text(text)
    proc = subprocess.Popen([HAPROXY, "-W", "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(port, proc=proc, timeout=30)
        yield name, socket_path
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def plan_with_inventory(playbook, name, socket_path, version, fails=False, **extra):
    """deployment_plan with the shipped inventory, as deploy.yml calls it, on the router host run locally."""
    task = {"name": "plan", "shipyard.deploy.deployment_plan": {
        "router": "{{ shipyard_router }}", "slots": "{{ shipyard_slots }}", "app_group": "app",
        "application": "{{ shipyard_application }}", "environment": "{{ shipyard_environment }}",
        "version": "{{ shipyard_version }}", "strategy": "{{ shipyard_strategy }}", "ledger": ""}}
    plays = play([task])
    plays[0]["hosts"] = "router"
    router = {"driver": "haproxy", "haproxy_socket": socket_path, "haproxy_backend": "shop"}
    run = playbook.run(plays, inventory=example(name, "inventory"), extra_vars=dict({
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable, "shipyard_version": version,
        "shipyard_router": router}, **extra))
    if fails:
        assert run.rc != 0, run.output
        return run.task("plan")["msg"]
    assert run.rc == 0, run.output
    return run.task("plan")["plan"]


@pytest.mark.parametrize("shipped_haproxy", TOPOLOGIES, indirect=True)
def test_the_shipped_inventory_plans_against_the_shipped_haproxy(shipped_haproxy, playbook):
    name, socket_path = shipped_haproxy
    expected = expected_members(name)
    planned = plan_with_inventory(playbook, name, socket_path, "1.0.0")
    # nothing has weight yet: a first deployment, onto blue
    assert planned["live_slot"] == "" and planned["idle_slot"] == "blue" and planned["strategy"] == "direct"
    assert planned["slot_urls"] == {slot: ["http://" + m for m in members] for slot, members in expected.items()}
    # blue is live (as the first deployment leaves it): the next release goes onto green
    runtime_command(socket_path, "set server shop/blue_1 weight 100; set server shop/blue_2 weight 100")
    planned = plan_with_inventory(playbook, name, socket_path, "2.0.0")
    assert (planned["live_slot"], planned["idle_slot"], planned["strategy"]) == ("blue", "green", "bluegreen")
    assert planned["idle_health_targets"] == [{"url": "http://%s/health" % m, "json": {"version": "2.0.0"}}
                                              for m in expected["green"]]
    if name == "host_groups":
        assert planned["topology"] == "host_groups" and planned["release_hosts"] == ["app3", "app4"]
        assert planned["slots"]["blue"]["hosts"] == ["app1", "app2"]
    else:
        assert planned["topology"] == "ports" and planned["release_hosts"] == ["app1", "app2"]


@pytest.mark.parametrize("shipped_haproxy", ["host_groups"], indirect=True)
def test_a_layout_the_inventory_cannot_have_fails_the_plan(shipped_haproxy, playbook):
    name, socket_path = shipped_haproxy
    typo = {"blue": {"group": "app_bleu", "port": 8000}, "green": {"group": "app_green", "port": 8000}}
    message = plan_with_inventory(playbook, name, socket_path, "1.0.0", fails=True, shipyard_slots=typo)
    assert "slot blue's group 'app_bleu' (shipyard_slots) is not a group of the inventory" in message, message
    assert "app_blue, app_green" in message
    mixed = {"blue": {"group": "app_blue", "port": 8000}, "green": {"port": 8001}}
    message = plan_with_inventory(playbook, name, socket_path, "1.0.0", fails=True, shipyard_slots=mixed)
    assert "blue name a host group but green does not" in message, message
    overlap = {"blue": {"group": "app_blue", "port": 8000}, "green": {"group": "app", "port": 8000}}
    message = plan_with_inventory(playbook, name, socket_path, "1.0.0", fails=True, shipyard_slots=overlap)
    assert "host app1 is in group app_blue (slot blue) and in group app (slot green)" in message, message
