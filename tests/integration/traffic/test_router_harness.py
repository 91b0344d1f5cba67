"""The HAProxy and nginx harnesses themselves: they start, route by weight, and reload."""

from __future__ import annotations

from harness.haproxy import HAProxyServer
from harness.load import LoadGenerator
from harness.nginx import NginxServer


def test_haproxy_harness_routes_by_runtime_weight_and_restores_state_on_reload(backends):
    with HAProxyServer(backends) as proxy:
        assert proxy.server_names() == {"blue": ["blue_1", "blue_2"], "green": ["green_1"]}
        load = LoadGenerator(proxy.url, concurrency=2, max_requests=200, duration=10).start().wait()
        assert load.failed == 0 and set(load.slots) == {"blue"}
        # the unix and the TCP admin socket are the same runtime API
        assert proxy.command("set server app/green_1 weight 200", tcp=False).strip() == ""
        assert proxy.server_weights()["green_1"] == 200
        proxy.save_state()
        proxy.reload()
        assert proxy.server_weights() == {"blue_1": 100, "blue_2": 100, "green_1": 200}
        load = LoadGenerator(proxy.url, concurrency=2, max_requests=400, duration=10).start().wait()
        assert load.failed == 0 and load.slots["green"] > 100


def test_nginx_harness_serves_the_include_and_reloads(backends):
    with NginxServer(backends, weights={"blue": 0, "green": 1}) as proxy:
        assert "# slot=green" in open(proxy.include_path).read()
        load = LoadGenerator(proxy.url, concurrency=2, max_requests=100, duration=10).start().wait()
        assert load.failed == 0 and set(load.slots) == {"green"}
        proxy.weights = {"blue": 1, "green": 0}
        with open(proxy.include_path, "w") as handle:
            handle.write(proxy.render_upstream())
        proxy.reload()
        load = LoadGenerator(proxy.url, concurrency=2, max_requests=100, duration=10).start().wait()
        assert load.failed == 0 and set(load.slots) == {"blue"}
