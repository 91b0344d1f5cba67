"""Slots as host groups: blue hosts and green hosts behind one HAProxy, reached over real SSH.

Four app hosts, each a real sshd on its own loopback address (127.0.0.2-5) and its own supervisord
running the demo shop on that address (``shipyard_app_listen_address``), with its own app root.
``app_blue`` is app1 + app2, ``app_green`` is app3 + app4; HAProxy's backend ``app`` has the servers
``blue_1``, ``blue_2``, ``green_1``, ``green_2`` at those hosts' addresses.  playbooks/deploy.yml and
playbooks/rollback.yml run through ansible-playbook: a release goes onto the idle group only, traffic
moves between the groups with no failed request (keep-alive clients, ``option idle-close-on-response``),
and a rollback goes back to the other group.
"""

from __future__ import annotations

import collections
import getpass
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest
import requests
import yaml
from harness.haproxy import HAProxyServer
from harness.load import LoadGenerator
from harness.net import free_port_everywhere
from harness.playbook import REPO_ROOT
from harness.stack import PLAYBOOKS, load_infra

Backend = collections.namedtuple("Backend", "address port")
GROUPS = {"app_blue": ["app1", "app2"], "app_green": ["app3", "app4"]}
SLOT_OF = {"app1": "blue", "app2": "blue", "app3": "green", "app4": "green"}


class Fleet:
    """The running layout: app hosts (sshd + supervisord each), HAProxy, the database, the files."""

    def __init__(self, root, hosts, haproxy, port, runner, inventory):
        self.root, self.hosts, self.haproxy, self.port = root, hosts, haproxy, port
        self.runner, self.inventory = runner, inventory

    def run(self, name, **extra):
        # pipelining: one SSH round trip per task instead of three, as a fleet's ansible.cfg would set it
        started = time.monotonic()
        run = self.runner.run(os.path.join(PLAYBOOKS, name + ".yml"), inventory=self.inventory,
                              extra_vars=extra or None, timeout=600, env={"ANSIBLE_PIPELINING": "True"})
        print("%s %s: %.1f s" % (name, extra, time.monotonic() - started))
        return run

    def app_root(self, name):
        return os.path.join(self.root, name, "app")

    def releases(self, name):
        path = os.path.join(self.app_root(name), "releases")
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    def answer(self, name):
        """What app host ``name``'s slot answers on its own address."""
        return requests.get("http://%s:%d/health" % (self.hosts[name].address, self.port), timeout=5).json()

    def serving(self):
        return requests.get(self.haproxy.url, timeout=5).json()

    def ledger(self):
        with open(os.path.join(self.root, "ledger.jsonl")) as handle:
            return [json.loads(line) for line in handle]


def inventory_of(root, hosts, port, haproxy, pg, database):
    """The inventory a team would write for two host groups (plus the test's own paths and ports)."""
    python = sys.executable
    url = "postgresql://%s:%s@%s:%d/%s" % (pg.user, pg.password, pg.host, pg.port, database)
    app_hosts = {}
    for name, server in hosts.items():
        workdir = os.path.join(root, name)
        app_hosts[name] = dict(
            server.inventory_vars(python),
            shipyard_app_listen_address=server.address,
            shipyard_app_root=os.path.join(workdir, "app"),
            shipyard_supervisord_conf_dir=os.path.join(workdir, "supervisor", "conf.d"),
            shipyard_supervisord_config=os.path.join(workdir, "supervisor", "supervisord.conf"))
    return {"all": {
        "children": {
            "app": {"children": {group: {"hosts": {name: app_hosts[name] for name in names}}
                                 for group, names in GROUPS.items()}},
            "router": {"hosts": {"localhost": {"ansible_connection": "local",
                                               "ansible_python_interpreter": python}}},
        },
        "vars": {
            "shipyard_environment": "fleet",
            "shipyard_application": "shop",
            "shipyard_artifact": os.path.join(root, "artifacts", "shop-{{ shipyard_version }}.tar.gz"),
            "shipyard_artifact_checksum": "{{ lookup('ansible.builtin.file', shipyard_artifact ~ '.sha256')"
                                          ".split()[0] }}",
            "shipyard_slots": {"blue": {"group": "app_blue", "port": port},
                               "green": {"group": "app_green", "port": port}},
            "shipyard_service_manager": "supervisord",
            "shipyard_supervisorctl": os.path.join(os.path.dirname(python), "supervisorctl"),
            "shipyard_app_command": "%s app.py" % python,
            "shipyard_app_user": getpass.getuser(),
            "shipyard_app_create_user": False,
            "shipyard_db": {"host": pg.host, "port": pg.port, "user": pg.user, "password": pg.password,
                            "database": database},
            "shipyard_app_env": {"DATABASE_URL": url, "LOG_LEVEL": "warn"},
            "shipyard_router": {"driver": "haproxy", "haproxy_socket": haproxy.admin_socket,
                                "haproxy_backend": "app", "haproxy_state_file": haproxy.state_file},
            "shipyard_strategy": "bluegreen",
            # synthetic requests straight to each slot, as the demo measures (HAProxy's stats would need the
            # analysis to be told the runtime API too)
            "shipyard_analysis": {"source": "probe", "window": 3, "probe": {"concurrency": 2, "interval": 0.01},
                                  "rules": {"max_error_rate": 0.05, "min_requests": 20}},
            "shipyard_backup_location": os.path.join(root, "backups"),
            "shipyard_ledger": os.path.join(root, "ledger.jsonl"),
        },
    }}


@pytest.fixture
def fleet(ssh_hosts, playbook, pg):
    infra = load_infra()
    root = tempfile.mkdtemp(prefix="shipyard-fleet-")
    os.chmod(root, 0o755)  # noqa: S103 - the app processes read their releases from here
    names = [name for group in GROUPS.values() for name in group]
    servers = dict(zip(names, ssh_hosts(len(names))))
    supervisors = {}
    haproxy = None
    database = "fleet_%s" % os.getpid()
    try:
        for name in names:
            state = {}
            workdir = os.path.join(root, name, "supervisor")
            infra.start_supervisord(root, state, workdir=workdir)
            supervisors[name] = (workdir, state["supervisord_pid"])
        port = free_port_everywhere([s.address for s in servers.values()])
        haproxy = HAProxyServer(
            {slot: [Backend(servers[n].address, port) for n in group]
             for slot, group in (("blue", GROUPS["app_blue"]), ("green", GROUPS["app_green"]))},
            workdir=os.path.join(root, "haproxy"), weights={"blue": 0, "green": 0},
            extra_defaults="    option idle-close-on-response")
        os.makedirs(haproxy.workdir)
        haproxy.start()
        pg.create_database(database)
        subprocess.run([sys.executable, os.path.join(REPO_ROOT, "demo", "build_artifacts.py"),
                        os.path.join(root, "artifacts")], check=True, capture_output=True)
        inventory = os.path.join(root, "inventory.yml")
        with open(inventory, "w") as handle:
            yaml.safe_dump(inventory_of(root, servers, port, haproxy, pg, database), handle)
        yield Fleet(root, servers, haproxy, port, playbook, inventory)
    finally:
        for workdir, pid in supervisors.values():
            infra.stop_supervisord(workdir, pid)
        if haproxy is not None:
            haproxy.stop()
        shutil.rmtree(root, ignore_errors=True)
        pg.drop_database(database)


def test_host_groups_release_onto_the_idle_group_and_roll_back(fleet):
    """deploy 1.0.0 (direct, onto blue), 2.0.0 blue-green under load (onto green), the same again (nothing
    to do), then rollback.yml back to blue."""
    first_release_goes_onto_the_first_group_only(fleet)
    blue_green_between_groups_under_keep_alive_load(fleet)
    redeploying_the_live_version_reads_the_live_group(fleet)
    rollback_returns_to_the_blue_group(fleet)


def first_release_goes_onto_the_first_group_only(fleet):
    run = fleet.run("deploy", shipyard_version="1.0.0")
    assert run.rc == 0, run.output
    plan = run.task("Plan the deployment (live and idle slot, URLs and health checks of every app host, "
                    "ledger options)")["plan"]
    assert plan["topology"] == "host_groups" and plan["release_hosts"] == ["app1", "app2"]
    assert plan["idle_health_targets"] == [
        {"url": "http://%s:%d/health" % (fleet.hosts[n].address, fleet.port), "json": {"version": "1.0.0"}}
        for n in ("app1", "app2")]
    assert {n: fleet.releases(n) for n in SLOT_OF} == {"app1": ["1.0.0"], "app2": ["1.0.0"], "app3": [], "app4": []}
    assert fleet.serving() == {"slot": "blue", "version": "1.0.0", "path": "/"}
    # each app host's program binds its own address
    assert [fleet.answer(n)["version"] for n in ("app1", "app2")] == ["1.0.0", "1.0.0"]
    with pytest.raises(requests.ConnectionError):
        requests.get("http://%s:%d/health" % (fleet.hosts["app3"].address, fleet.port), timeout=5)
    # the release play ran on the blue hosts only, over their own sshd
    released = {r["host"] for r in run.results if r["task"] == "Point the slot at the release"}
    assert released == {"app1", "app2"}
    assert all(fleet.hosts[n].accepted_logins() >= 1 for n in ("app1", "app2"))


def blue_green_between_groups_under_keep_alive_load(fleet):
    load = LoadGenerator(fleet.haproxy.url, concurrency=4, duration=300, max_requests=10**7).start()
    try:
        run = fleet.run("deploy", shipyard_version="2.0.0")
    finally:
        load.stop()
    assert run.rc == 0, run.output
    counts = load.snapshot()
    assert counts["failed"] == 0, counts
    assert counts["slots"].get("blue", 0) > 0 and counts["slots"].get("green", 0) > 0, counts
    assert fleet.serving() == {"slot": "green", "version": "2.0.0", "path": "/"}
    # only the green hosts got 2.0.0; the blue hosts still run 1.0.0, warm for a rollback
    assert {n: fleet.releases(n) for n in SLOT_OF} == {
        "app1": ["1.0.0"], "app2": ["1.0.0"], "app3": ["2.0.0"], "app4": ["2.0.0"]}
    assert {n: fleet.answer(n)["version"] for n in SLOT_OF} == {
        "app1": "1.0.0", "app2": "1.0.0", "app3": "2.0.0", "app4": "2.0.0"}
    assert os.readlink(os.path.join(fleet.app_root("app3"), "green")).endswith("/releases/2.0.0")
    assert not os.path.lexists(os.path.join(fleet.app_root("app3"), "blue"))
    records = [r for r in fleet.ledger() if r["version"] == "2.0.0"]
    release = next(r for r in records if r["event"] == "release")
    assert release["data"]["hosts"] == ["app3", "app4"] and release["data"]["slot"] == "green"
    assert records[0]["event"] == "started" and records[0]["data"]["topology"] == "host_groups"
    assert records[-1]["event"] == "succeeded"
    # HAProxy: green's servers carry the traffic, blue's drain
    weights = fleet.haproxy.server_weights()
    assert weights["green_1"] > 0 and weights["green_2"] > 0 and weights["blue_1"] == weights["blue_2"] == 0
    report = run.stats["custom"]["_run"]["shipyard_deployment"]["report"]
    with open(report["markdown"], encoding="utf-8") as handle:
        summary = handle.read()
    assert "| Topology | host groups, release on app3, app4 |" in summary, summary


def redeploying_the_live_version_reads_the_live_group(fleet):
    run = fleet.run("deploy", shipyard_version="2.0.0")
    assert run.rc == 0, run.output
    assert run.status("Nothing to do, this version is already live: 2.0.0") == "ok"
    assert not [r["task"] for r in run.results if r["result"].get("changed")]
    links = {r["host"] for r in run.results if r["task"] == "Read the release on the live slot"
             and r["status"] != "skipped"}
    assert links == {"app3", "app4"}
    assert {n: fleet.releases(n) for n in ("app1", "app2")} == {"app1": ["1.0.0"], "app2": ["1.0.0"]}


def rollback_returns_to_the_blue_group(fleet):
    run = fleet.run("rollback", rollback_reason="test: back to blue")
    assert run.rc == 0, run.output
    assert fleet.serving() == {"slot": "blue", "version": "1.0.0", "path": "/"}
    checked = run.task("Check the previous slot still answers")
    assert sorted(checked["healthy"]) == ["http://%s:%d/health" % (fleet.hosts[n].address, fleet.port)
                                          for n in ("app1", "app2")], checked
    last = fleet.ledger()[-1]
    assert last["event"] == "rolled_back" and last["data"]["to_slot"] == "blue"
