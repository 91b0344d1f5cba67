"""The rolling strategy as users run it: playbooks/deploy.yml against four app hosts reached over SSH.

Four real sshd servers on 127.0.0.12-15 (one inventory host each, ``ansible_connection: ssh``),
each host with its own app root and its own supervisord running the demo shop's one slot, bound
to the host's address on the same port; HAProxy in front with one server per host
(``option idle-close-on-response``, keep-alive clients); PostgreSQL from the harness.  The tests
run in order and build on each other: 1.0.0 then 2.0.0 rolled under load; a ``--check`` run of the
next roll that changes nothing; a roll whose third host
fails its health check (its artifact needs a table that does not exist) stopped and reverted; a
failure tolerated by ``max_fail_percentage``; a batch of 0 refused before anything changes.
"""

from __future__ import annotations

import collections
import contextlib
import getpass
import importlib.util
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
from harness import sshd as sshd_harness
from harness.haproxy import HAProxyServer
from harness.load import LoadGenerator
from harness.net import free_port_everywhere
from harness.playbook import REPO_ROOT
from harness.stack import load_infra

from ansible_collections.shipyard.deploy.plugins.module_utils.routers.haproxy import HAProxyRouter

HOSTS = ["web_1", "web_2", "web_3", "web_4"]
ADDRESSES = sshd_harness.loopback_addresses(4, first=12)
DEPLOY = os.path.join(REPO_ROOT, "playbooks", "deploy.yml")
ROLLBACK = os.path.join(REPO_ROOT, "playbooks", "rollback.yml")
Backend = collections.namedtuple("Backend", "host port")


def _load_builder():
    spec = importlib.util.spec_from_file_location("shipyard_build_artifacts",
                                                  os.path.join(REPO_ROOT, "demo", "build_artifacts.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_artifacts(root):
    """Good releases in <root>/artifacts (2.1.0 and 2.2.0 are 2.0.0 again), broken ones in <root>/broken:
    the same versions, but their health needs a table no migration creates - a real failure of the real check."""
    builder = _load_builder()
    good = builder.RELEASES["2.0.0"]
    for version in ("2.1.0", "2.2.0"):
        builder.RELEASES[version] = good
    os.makedirs(os.path.join(root, "artifacts"))
    for version in ("1.0.0", "2.0.0", "2.1.0", "2.2.0"):
        builder.build(version, os.path.join(root, "artifacts"))
    os.makedirs(os.path.join(root, "broken"))
    for version in ("2.1.0", "2.2.0"):
        builder.RELEASES[version] = {"migrations": good["migrations"],
                                     "release": {"requires_table": "no_such_table", "bug_rate": 0}}
        builder.build(version, os.path.join(root, "broken"))


class Fleet:
    """Four app hosts behind HAProxy; ``run`` deploys through ansible-playbook with an inventory of them.

    ``addresses`` are the hosts' loopback addresses; :meth:`router_options` is ``shipyard_router``
    (a subclass puts another router in front)."""

    def __init__(self, root, runner, servers, proxy, pg, database, port, addresses=ADDRESSES):
        self.root, self.runner, self.servers, self.proxy = root, runner, servers, proxy
        self.pg, self.database, self.port = pg, database, port
        self.addresses = addresses
        self.broken = set()

    def router_options(self):
        return {"driver": "haproxy", "haproxy_socket": self.proxy.admin_socket,
                "haproxy_backend": "app", "haproxy_state_file": self.proxy.state_file}

    def host_root(self, host):
        return os.path.join(self.root, host)

    def inventory(self, **group_vars):
        hosts = {}
        for host, address, server in zip(HOSTS, self.addresses, self.servers):
            here = self.host_root(host)
            variables = dict(server.inventory_vars(), shipyard_app_address=address,
                             shipyard_app_listen_address=address, shipyard_app_root=os.path.join(here, "app"),
                             shipyard_supervisord_conf_dir=os.path.join(here, "supervisor", "conf.d"),
                             shipyard_supervisord_config=os.path.join(here, "supervisor", "supervisord.conf"))
            if host in self.broken:
                variables["shipyard_artifact"] = os.path.join(self.root, "broken", "shop-{{ shipyard_version }}.tar.gz")
            hosts[host] = variables
        url = "postgresql://%s:%s@127.0.0.1:%d/%s" % (self.pg.user, self.pg.password, self.pg.port, self.database)
        checksum = "{{ lookup('ansible.builtin.file', shipyard_artifact ~ '.sha256').split()[0] }}"
        common = {
            "shipyard_environment": "fleet", "shipyard_application": "shop",
            "shipyard_artifact": os.path.join(self.root, "artifacts", "shop-{{ shipyard_version }}.tar.gz"),
            "shipyard_artifact_checksum": checksum,
            "shipyard_slots": {"app": {"port": self.port}},
            "shipyard_service_manager": "supervisord",
            "shipyard_supervisorctl": os.path.join(os.path.dirname(sys.executable), "supervisorctl"),
            "shipyard_app_command": "%s app.py" % sys.executable,
            "shipyard_app_user": getpass.getuser(), "shipyard_app_create_user": False,
            "shipyard_db": self.pg.conn_options(self.database),
            "shipyard_app_env": {"DATABASE_URL": url, "LOG_LEVEL": "warn"},
            "shipyard_router": self.router_options(),
            "shipyard_strategy": "rolling",
            "shipyard_rolling": {"batch": 1, "drain_timeout": 5, "health_timeout": 15},
            "shipyard_backup": False,
            "shipyard_ledger": os.path.join(self.root, "ledger.jsonl"),
        }
        common.update(group_vars)
        return {"all": {"children": {
            "app": {"hosts": hosts},
            "router": {"hosts": {"localhost": {"ansible_connection": "local",
                                               "ansible_python_interpreter": sys.executable}}},
        }, "vars": common}}

    def run(self, version, check=False, playbook=DEPLOY, **group_vars):
        """``playbook`` (deploy.yml) for ``version`` (None: no shipyard_version) with this fleet's inventory."""
        path = os.path.join(self.root, "inventory.yml")
        with open(path, "w") as handle:
            yaml.safe_dump(self.inventory(**group_vars), handle)
        extra_vars = {"shipyard_version": version} if version else {}
        return self.runner.run(playbook, extra_vars=extra_vars, inventory=path, timeout=600, check=check,
                               env={"ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_PIPELINING": "True"})

    # --- what a user checks -------------------------------------------------------------------
    def versions(self):
        """{host: version its app answers with}, asked at the host's own address."""
        found = {}
        for host, address in zip(HOSTS, self.addresses):
            try:
                found[host] = requests.get("http://%s:%d/health" % (address, self.port), timeout=5).json()["version"]
            except (requests.RequestException, ValueError):
                found[host] = None
        return found

    def links(self):
        return {host: os.path.basename(os.readlink(os.path.join(self.host_root(host), "app", "app")))
                if os.path.islink(os.path.join(self.host_root(host), "app", "app")) else None for host in HOSTS}

    def router_states(self):
        """{server: ready/drain/maint}, read back from HAProxy's runtime API as traffic_member reads it."""
        router = HAProxyRouter(self.proxy.admin_socket, "app")
        return {name: row["state"] for name, row in router.read_members().items()}

    def app_pid(self, host):
        """The pid supervisord runs the host's slot under (a restart changes it)."""
        conf = os.path.join(self.host_root(host), "supervisor", "supervisord.conf")
        supervisorctl = os.path.join(os.path.dirname(sys.executable), "supervisorctl")
        answer = subprocess.run([supervisorctl, "-c", conf, "pid", "shop-app"], capture_output=True, text=True,
                                check=False)
        return answer.stdout.strip()

    def ledger(self):
        path = os.path.join(self.root, "ledger.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [json.loads(line) for line in handle]

    def last_rolling_record(self):
        return [r for r in self.ledger() if r["event"] == "rolling"][-1]["data"]

    def snapshot(self):
        return {"links": self.links(), "ledger": len(self.ledger()), "router": self.router_states(),
                "versions": self.versions()}


def wait_for_exit(pid, timeout=20):
    """Until process ``pid`` is gone (supervisord shuts its programs down first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.1)
    raise AssertionError("supervisord %d still runs %d s after its shutdown" % (pid, timeout))


@contextlib.contextmanager
def running_fleet(playbook, pg, addresses, start_proxy, fleet_class=Fleet, name="rolling"):
    """Four app hosts on ``addresses`` (sshd + supervisord each), artifacts, a database, and the router
    ``start_proxy([Backend, ...])`` returns (started) in front; yields ``fleet_class``, stops it all after."""
    if not sshd_harness.available():
        pytest.skip("openssh-server / openssh-client not installed (make system-deps)")
    infra = load_infra()
    root = tempfile.mkdtemp(prefix="shipyard-%s-" % name)
    os.chmod(root, 0o755)  # noqa: S103 - PostgreSQL's service user reads nothing here, supervisord's children do
    database = name + "_" + os.path.basename(root).split("-")[-1].lower().replace("_", "")
    pg.create_database(database)
    servers, supervisors, proxy = [], [], None
    try:
        build_artifacts(root)
        port = free_port_everywhere(addresses)
        for host, address in zip(HOSTS, addresses):
            servers.append(sshd_harness.SshServer(address).start())
            os.makedirs(os.path.join(root, host))
            state = {}
            infra.start_supervisord(os.path.join(root, host), state, workdir=os.path.join(root, host, "supervisor"))
            supervisors.append((os.path.join(root, host, "supervisor"), state["supervisord_pid"]))
        proxy = start_proxy([Backend(address, port) for address in addresses])
        yield fleet_class(root, playbook, servers, proxy, pg, database, port, addresses=addresses)
    finally:
        for workdir, pid in supervisors:
            infra.stop_supervisord(workdir, pid)
        for _workdir, pid in supervisors:
            wait_for_exit(pid)
        if proxy is not None:
            proxy.stop()
        for server in servers:
            server.stop()
        pg.drop_database(database)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def fleet(playbook, pg):
    def haproxy(backends):
        return HAProxyServer({"web": backends}, backend="app", weights={"web": 100},
                             extra_defaults="    option idle-close-on-response").start()

    with running_fleet(playbook, pg, ADDRESSES, haproxy) as started:
        yield started


def test_rolls_two_versions_across_four_hosts_under_load(fleet):
    run = fleet.run("1.0.0", shipyard_rolling={"batch": "50%", "drain_timeout": 5})
    assert run.rc == 0, run.output
    assert fleet.versions() == dict.fromkeys(HOSTS, "1.0.0")

    load = LoadGenerator(fleet.proxy.url, concurrency=4, duration=300, max_requests=10**7, rate=60).start()
    try:
        run = fleet.run("2.0.0")
    finally:
        load.stop()
    assert run.rc == 0, run.output
    counts = load.snapshot()
    assert counts["failed"] == 0, counts
    assert counts["total"] > 200, counts
    assert fleet.versions() == dict.fromkeys(HOSTS, "2.0.0")
    assert fleet.links() == dict.fromkeys(HOSTS, "2.0.0")
    # one batch per host, each drained, upgraded and enabled again; read back at the router
    assert run.task("Decide after the batch (members to enable, stop or go on, hosts to put back)")[
        "state"]["upgraded"] == HOSTS
    drains = [r for r in run.results if r["task"] == "Drain the batch's members at the router"]
    assert [d["result"]["members"][0]["name"] for d in drains] == HOSTS
    assert all(d["result"]["members"][0]["after"] == "maint" for d in drains), drains
    assert fleet.router_states() == dict.fromkeys(HOSTS, "ready")
    # the ledger says who runs what
    final = fleet.last_rolling_record()
    assert final["outcome"] == "succeeded" and final["host_versions"] == dict.fromkeys(HOSTS, "2.0.0"), final
    events = [r["event"] for r in fleet.ledger() if r["version"] == "2.0.0"]
    assert events[0] == "started" and events[-1] == "succeeded" and events.count("rolling") == 5, events


def test_check_mode_of_a_roll_changes_nothing(fleet):
    before = fleet.snapshot()
    pids = {host: fleet.app_pid(host) for host in HOSTS}
    run = fleet.run("2.1.0", check=True)
    assert run.rc == 0, run.output
    assert fleet.snapshot() == before  # links, ledger, router states, versions served
    assert {host: fleet.app_pid(host) for host in HOSTS} == pids  # no host restarted
    releases = {host: sorted(os.listdir(os.path.join(fleet.host_root(host), "app", "releases"))) for host in HOSTS}
    assert releases == {host: ["1.0.0", "2.0.0"] for host in HOSTS}, releases
    # the roll is predicted batch by batch: each host's member would be drained, then enabled again
    drains = [r for r in run.results if r["task"] == "Drain the batch's members at the router"]
    assert [d["result"]["members"][0]["name"] for d in drains] == HOSTS, drains
    assert all(d["result"]["changed"] and d["result"]["members"][0]["before"] == "ready" for d in drains), drains


def test_a_failing_third_host_stops_the_roll_and_the_upgraded_hosts_go_back(fleet):
    fleet.broken = {"web_3"}
    untouched_pid = fleet.app_pid("web_4")
    assert untouched_pid.isdigit(), untouched_pid
    load = LoadGenerator(fleet.proxy.url, concurrency=4, duration=300, max_requests=10**7, rate=60).start()
    try:
        run = fleet.run("2.1.0")
    finally:
        load.stop()
        fleet.broken = set()
    assert run.rc != 0
    counts = load.snapshot()
    assert counts["failed"] == 0, counts
    message = run.task("Stop the deployment when the roll stopped")["msg"]
    assert "stopped after batch 3 of 4" in message and "web_3 failed: Check the upgraded host's health" in message
    assert "back on the previous release and enabled: web_1 (2.0.0), web_2 (2.0.0), web_3 (2.0.0)" in message
    assert "not upgraded: web_4" in message, message
    assert fleet.versions() == dict.fromkeys(HOSTS, "2.0.0")
    assert fleet.router_states() == dict.fromkeys(HOSTS, "ready")
    # web_4 was never touched: no drain, no restart
    drains = [r["result"] for r in run.results if r["task"] == "Drain the batch's members at the router"]
    drained = [m["name"] for result in drains for m in result["members"]]
    assert drained == ["web_1", "web_2", "web_3"]
    assert fleet.app_pid("web_4") == untouched_pid
    # the hosts serving 2.1.0 were drained before they restarted; web_3 was out of the router already
    revert_drain = "Drain the host's member before it restarts (a failed host is out already)"
    redrains = {r["host"]: r["result"]["members"][0] for r in run.results
                if r["task"] == revert_drain and r["status"] != "skipped"}
    assert {host: (m["before"], m["after"]) for host, m in redrains.items()} == {
        "web_1": ("ready", "maint"), "web_2": ("ready", "maint"), "web_3": ("maint", "maint")}, redrains
    final = fleet.last_rolling_record()
    assert final["outcome"] == "failed" and final["host_versions"] == dict.fromkeys(HOSTS, "2.0.0")
    assert final["reverted"] == ["web_1", "web_2", "web_3"] and final["untouched"] == ["web_4"], final
    assert fleet.ledger()[-1]["event"] == "failed"


def test_max_fail_percentage_lets_one_failure_pass_and_the_roll_completes(fleet):
    fleet.broken = {"web_2"}
    options = {"batch": 2, "max_fail_percentage": 25, "drain_timeout": 5, "health_timeout": 15}
    try:
        run = fleet.run("2.2.0", shipyard_rolling=options)
    finally:
        fleet.broken = set()
    assert run.rc == 0, run.output
    assert fleet.versions() == {"web_1": "2.2.0", "web_2": "2.0.0", "web_3": "2.2.0", "web_4": "2.2.0"}
    assert fleet.router_states() == dict.fromkeys(HOSTS, "ready")
    final = fleet.last_rolling_record()
    assert final["outcome"] == "succeeded" and final["failed"] == ["web_2"] and final["reverted"] == ["web_2"]
    message = run.task("Say how the roll ended")["msg"]
    assert message.startswith("rolled 2.2.0 onto 3 of 4 hosts (1 failure(s) tolerated by max_fail_percentage 25)")


def test_a_batch_of_zero_is_refused_before_anything_changes(fleet):
    before = fleet.snapshot()
    run = fleet.run("2.1.0", shipyard_rolling={"batch": 0})
    assert run.rc != 0
    message = run.task("Plan the deployment (live and idle slot, URLs and health checks of every app host, "
                       "ledger options)")["msg"]
    assert "shipyard_rolling.batch 0 is not a number of hosts of at least 1" in message, message
    assert fleet.snapshot() == before


def test_rollback_playbook_refuses_a_rolling_deployment_and_names_the_way_back(fleet):
    before = fleet.snapshot()
    run = fleet.run(None, playbook=ROLLBACK)
    assert run.rc != 0
    message = run.task("Plan the rollback (the slot to go back to, the version it must answer with, the "
                       "deployment it ends)")["msg"]
    assert "shipyard_strategy is rolling" in message and "no other slot" in message, message
    # 2.2.0 is live (the roll above succeeded); 2.0.0 is the good version before it
    assert "ansible-playbook shipyard.deploy.deploy -e shipyard_version=2.0.0" in message, message
    assert fleet.snapshot() == before
