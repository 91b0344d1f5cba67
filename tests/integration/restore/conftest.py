"""Fixtures of the restore tests (helpers are in restore_helpers.py)."""

from __future__ import annotations

import pytest
from restore_helpers import databases, new_name


@pytest.fixture
def cleanup():
    """``cleanup(server)`` returns a fresh name factory; every database created on that server
    during the test (targets, kept previous databases, any leftover) is dropped afterwards."""
    watched = []

    def watch(server):
        watched.append((server, databases(server)))
        return new_name

    yield watch
    for server, before in watched:
        for name in databases(server) - before:
            server.drop_database(name)
