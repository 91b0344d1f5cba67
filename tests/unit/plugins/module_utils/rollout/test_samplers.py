"""The HAProxy sampler's arithmetic on ``show stat`` rows: intervals, totals, reloads."""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.samplers import (
    HAProxySampler,
    with_router_defaults,
)


def row(server, ok, errors, rtime):
    return {"pxname": "app", "svname": server, "hrsp_2xx": str(ok), "hrsp_5xx": str(errors), "econ": "0",
            "eresp": "0", "rtime": str(rtime)}


class FakeAPI:
    """Hands out prepared ``show stat`` reads in order."""

    def __init__(self, reads):
        self.reads = list(reads)

    def show_stat(self):
        return self.reads.pop(0)


def sampler(reads, slots=None):
    return HAProxySampler({"backend": "app"}, slots or {"canary": "green", "baseline": "blue"}, api=FakeAPI(reads))


def test_intervals_are_differences_and_totals_add_up_from_the_reset():
    s = sampler([
        [row("blue_1", 100, 0, 2), row("green_1", 10, 0, 3)],
        [row("blue_1", 190, 0, 2), row("green_1", 20, 2, 5)],
        [row("blue_1", 280, 1, 4), row("green_1", 28, 4, 5)],
    ])
    first = s.sample()
    assert first["canary"]["interval"]["requests"] == 12 and first["canary"]["interval"]["errors"] == 2
    second = s.sample()
    assert second["canary"]["total"]["requests"] == 22 and second["canary"]["total"]["errors"] == 4
    assert second["baseline"]["total"]["requests"] == 181 and second["baseline"]["total"]["errors"] == 1
    assert second["baseline"]["interval"]["latency_ms"] == 4


def test_a_reload_loses_one_interval_not_the_totals():
    s = sampler([
        [row("green_1", 500, 5, 3)],
        [row("green_1", 600, 5, 3)],
        [row("green_1", 7, 0, 3)],   # new worker, counting from zero
        [row("green_1", 57, 1, 3)],
    ], slots={"canary": "green"})
    totals = [s.sample()["canary"]["total"]["requests"] for _read in range(3)]
    assert totals == [100, 100, 151]
    assert s.resets == 1


def test_reset_starts_the_totals_again():
    s = sampler([
        [row("blue_1", 0, 0, 1), row("green_1", 0, 0, 1)],
        [row("blue_1", 50, 0, 1), row("green_1", 50, 0, 1)],
        [row("blue_1", 60, 0, 1), row("green_1", 70, 0, 1)],
    ])
    s.sample()
    s.reset()
    assert s.sample()["canary"]["total"]["requests"] == 20


def test_haproxy_source_reads_the_routers_runtime_api_when_it_names_none():
    router = {"driver": "haproxy", "haproxy_socket": "/run/haproxy/admin.sock", "haproxy_backend": "shop"}
    assert with_router_defaults({"source": "haproxy", "window": 60}, router)["haproxy"] == {
        "socket": "/run/haproxy/admin.sock", "backend": "shop"}
    assert with_router_defaults({}, router)["haproxy"]["socket"] == "/run/haproxy/admin.sock"  # haproxy is the default
    given = {"source": "haproxy", "haproxy": {"socket": "127.0.0.1:9999", "backend": "app"}}
    assert with_router_defaults(given, router) == given  # what the user gave wins
    assert "haproxy" not in with_router_defaults({"source": "probe"}, router)
    # nginx or ALB routers have no HAProxy counters: the sampler's own error says what to set
    assert not with_router_defaults({"source": "haproxy"}, {"driver": "nginx"}).get("haproxy")
