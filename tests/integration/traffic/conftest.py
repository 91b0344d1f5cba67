"""Fixtures of the traffic-switching tests: real backends in two slots, behind HAProxy or nginx.

``backends`` has two blue servers and one green server (slots of unequal size on purpose: the
percent -> weight mapping must still give the requested shares).  ``haproxy`` and ``nginx`` are a
fresh proxy per test in front of them, all traffic on blue.
"""

from __future__ import annotations

import pytest
from harness.backend import BackendServer
from harness.haproxy import HAProxyServer
from harness.nginx import NginxServer


@pytest.fixture(scope="module")
def backends():
    """{"blue": [two servers], "green": [one server]}."""
    servers = {"blue": [BackendServer("blue").start(), BackendServer("blue").start()],
               "green": [BackendServer("green").start()]}
    yield servers
    for slot in servers.values():
        for server in slot:
            server.stop()


@pytest.fixture
def haproxy(backends):
    with HAProxyServer(backends) as proxy:
        yield proxy


@pytest.fixture
def haproxy_options(haproxy):
    """Module options of the haproxy driver for the ``haproxy`` fixture (unix socket, state file)."""
    return {"driver": "haproxy", "haproxy_socket": haproxy.admin_socket, "haproxy_backend": haproxy.backend,
            "haproxy_state_file": haproxy.state_file}


@pytest.fixture
def nginx(backends):
    # keepalive_timeout 0: every client request on a new connection; see docs/traffic.md for why
    # keep-alive clients need retries across nginx reloads
    with NginxServer(backends, keepalive=False, upstream_keepalive=8) as proxy:
        yield proxy


@pytest.fixture
def nginx_options(nginx):
    """Module options of the nginx driver for the ``nginx`` fixture."""
    return {"driver": "nginx", "nginx_include": nginx.include_path, "nginx_config": nginx.config_path,
            "nginx_pid_file": nginx.pid_path, "nginx_binary": "/usr/sbin/nginx", "slots": nginx.addresses(),
            "nginx_upstream_options": ["keepalive 8"]}
