"""Fixtures of the traffic-switching tests: real backends in two slots, behind HAProxy or nginx."""

from __future__ import annotations

import pytest
from harness.backend import BackendServer


@pytest.fixture(scope="module")
def backends():
    """{"blue": [two servers], "green": [one server]}: slots of unequal size on purpose."""
    servers = {"blue": [BackendServer("blue").start(), BackendServer("blue").start()],
               "green": [BackendServer("green").start()]}
    yield servers
    for slot in servers.values():
        for server in slot:
            server.stop()
