"""How history rows and files combine into per-migration states (pure logic, no database)."""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.sources import SourceMigration
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.status import _derive_history, compare


def row(key, success=True, checksum=None, **extra):
    return dict({"key": key, "description": key, "script": None, "checksum": checksum, "success": success,
                 "applied_at": None}, **extra)


def states(entries):
    return {e["version"]: e["state"] for e in entries}


def test_generic_states_including_out_of_order_and_drift():
    found = [SourceMigration("1", "a", "V1", 10), SourceMigration("2", "b", "V2", 20),
             SourceMigration("3", "c", "V3", 30), SourceMigration("4", "d", "V4", 40)]
    rows = [row("1", checksum=10), row("3", checksum=31), row("4", success=False), row("9", checksum=90),
            row("3.5", checksum=35)]
    assert states(compare("flyway", rows, found, True)) == {
        "1": "applied", "2": "out_of_order", "3": "drift", "4": "failed", "9": "ahead", "3.5": "missing"}
    # Without checksum support (Rails), a differing checksum is not drift; order still counts.
    assert states(compare("rails", rows, found, True))["3"] == "applied"
    # Liquibase runs any unrun changeset: never out of order.
    assert states(compare("liquibase", rows, found, True))["2"] == "pending"


def test_without_files_history_only_and_nothing_missing():
    assert states(compare("flyway", [row("1"), row("2", success=False)], [], False)) == {
        "1": "applied", "2": "failed"}


def test_flyway_baseline_row_is_not_missing():
    assert states(compare("flyway", [row("5", baseline=True)], [], True)) == {"5": "applied"}


def test_alembic_heads_expand_to_their_ancestors_and_unknown_heads_are_ahead():
    found = [SourceMigration("a", "a", "a.py"), SourceMigration("b", "b", "b.py"), SourceMigration("c", "c", "c.py")]
    parents = {"a": (), "b": ("a",), "c": ("b",)}
    derived = _derive_history("alembic", [row("b")], found, {"parents": parents})
    assert states(compare("alembic", derived, found, True)) == {"a": "applied", "b": "applied", "c": "pending"}
    # The database's head is newer than this release: what the release has is applied.
    derived = _derive_history("alembic", [row("zz")], found, {"parents": parents})
    assert states(compare("alembic", derived, found, True)) == {
        "a": "applied", "b": "applied", "c": "applied", "zz": "ahead"}
    # Two branch heads, one known: the known one's ancestry counts, the other is ahead.
    derived = _derive_history("alembic", [row("a"), row("zz")], found, {"parents": parents})
    assert states(compare("alembic", derived, found, True)) == {
        "a": "applied", "b": "pending", "c": "pending", "zz": "ahead"}


def test_golang_migrate_current_version_and_dirty():
    found = [SourceMigration(v, v, v + ".up.sql") for v in ("1", "2", "10")]
    derived = _derive_history("golang_migrate", [row("2", success=False, dirty=True)], found, {})
    assert states(compare("golang_migrate", derived, found, True)) == {"1": "applied", "2": "failed", "10": "pending"}
