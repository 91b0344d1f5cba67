"""The rolling strategy with nginx in front: playbooks/deploy.yml against four app hosts over SSH.

The fleet of test_rolling.py (four real sshd servers, one inventory host each, each host with its
own app root and supervisord, the app bound to the host's address) on 127.0.0.22-25, behind a real
nginx (tests/harness/nginx.py) whose upstream has one ``server <address>:<port>`` per host - the
include file the nginx driver owns. Each drain and each enable is a rewrite of that file and a
graceful reload, under load from keep-alive clients.

nginx's old workers close their idle keep-alive connections at a reload (nginx before 1.27.4 has no
setting against it), so the clients here do what urllib3/requests and browsers do: before reusing a
kept-alive connection they look whether the server closed it, and reconnect; and a request on a reused
connection that is closed without any answer is sent once more on a new one (RFC 9112 9.3.1, browsers
for idempotent requests). Measured with 4 clients at 60 requests/s over the roll's 8 reloads: checking
clients without the retry 0 failed of ~3000-3400 in 5 of 8 runs, 1 (where counted) in the other
three (the race between the check and nginx's close); plain ``http.client`` clients that send on the closed connection
32 failed of 5116 (``RemoteDisconnected``: 4 connections x 8 reloads); nginx with
``keepalive_timeout 0`` 0 of 2988. See docs/rolling.md.
"""

from __future__ import annotations

import pytest
from harness import sshd as sshd_harness
from harness.load import LoadGenerator
from harness.nginx import NGINX, NginxServer
from test_rolling import HOSTS, Fleet, running_fleet

from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import info_service

ADDRESSES = sshd_harness.loopback_addresses(4, first=22)


class NginxFleet(Fleet):
    """The four hosts behind nginx: the router options are the nginx driver's."""

    def router_options(self):
        return {"driver": "nginx", "nginx_include": self.proxy.include_path, "nginx_config": self.proxy.config_path,
                "nginx_pid_file": self.proxy.pid_path, "nginx_binary": NGINX, "nginx_upstream": "app",
                "slots": self.proxy.addresses()}

    def member_states(self):
        """{address:port: up/down/maint/absent} as traffic_info reads them back."""
        return info_service(self.router_options(), False, False)["member_states"]["app"]


@pytest.fixture(scope="module")
def nginx_fleet(playbook, pg):
    def nginx(backends):
        # keep-alive to clients (nginx's defaults), one upstream server per host
        return NginxServer({"app": backends}, weights={"app": 100}, keepalive=True).start()

    with running_fleet(playbook, pg, ADDRESSES, nginx, NginxFleet, name="rollnginx") as started:
        yield started


def test_rolls_across_four_hosts_behind_nginx_under_keepalive_load(nginx_fleet):
    fleet = nginx_fleet
    members = ["%s:%d" % (address, fleet.port) for address in ADDRESSES]
    run = fleet.run("1.0.0", shipyard_rolling={"batch": "50%", "drain_timeout": 5})
    assert run.rc == 0, run.output
    assert fleet.versions() == dict.fromkeys(HOSTS, "1.0.0")

    load = LoadGenerator(fleet.proxy.url, concurrency=4, duration=300, max_requests=10**7, rate=60,
                         check_dropped=True, retry_reused=True).start()
    try:
        run = fleet.run("2.0.0", shipyard_rolling={"batch": 1, "drain_timeout": 5, "health_timeout": 15})
    finally:
        load.stop()
    assert run.rc == 0, run.output
    counts = load.snapshot()
    assert counts["total"] > 200, counts
    assert counts["failed"] == 0, counts
    # the reloads did close kept-alive connections (every idle one, at each of the 8 reloads); the clients saw
    # it before reusing them and reconnected - a client that sends on such a connection fails instead;
    # counts["retried"]: requests that hit the race and were sent again (0 or 1 in most runs)
    assert counts["reconnects"] > 0, counts
    assert fleet.versions() == dict.fromkeys(HOSTS, "2.0.0")
    assert fleet.links() == dict.fromkeys(HOSTS, "2.0.0")
    # one host at a time: its upstream server marked down (graceful reload), upgraded, enabled again
    drains = [r["result"]["members"][0] for r in run.results if r["task"] == "Drain the batch's members at the router"]
    assert [(d["name"], d["before"], d["after"]) for d in drains] == [(m, "up", "maint") for m in members], drains
    assert fleet.member_states() == dict.fromkeys(members, "up")
    with open(fleet.proxy.include_path) as handle:
        assert "members in maintenance" not in handle.read()
    final = fleet.last_rolling_record()
    assert final["outcome"] == "succeeded" and final["host_versions"] == dict.fromkeys(HOSTS, "2.0.0"), final
