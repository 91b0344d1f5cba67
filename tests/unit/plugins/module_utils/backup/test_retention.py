"""Which backups keep_last / max_age delete (pure logic)."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.backup import retention
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError


def backups(*ages, incomplete=()):
    """Entries oldest first, as list_backups returns them; ``ages`` in days, oldest first."""
    entries = []
    for index, age in enumerate(ages):
        entries.append({"id": "b%d" % index, "age_seconds": age * 86400.0, "complete": index not in incomplete})
    return entries


def ids(entries):
    return [e["id"] for e in entries]


@pytest.mark.parametrize("value, seconds", [
    ("3600", 3600), ("90m", 5400), ("36h", 129600), ("14d", 14 * 86400), ("2w", 14 * 86400),
    ("1.5h", 5400), (" 7 D ", 7 * 86400), (None, None), ("", None),
])
def test_parse_max_age(value, seconds):
    assert retention.parse_max_age(value) == seconds


@pytest.mark.parametrize("value", ["soon", "-1d", "7 days", "0", "0d", "1y"])
def test_parse_max_age_refuses(value):
    with pytest.raises(ConfigurationError, match="max_age"):
        retention.parse_max_age(value)


def test_no_limits_delete_nothing():
    assert retention.plan_retention(backups(9, 5, 1)) == []


def test_keep_last():
    assert ids(retention.plan_retention(backups(9, 5, 3, 1), keep_last=2)) == ["b0", "b1"]
    assert ids(retention.plan_retention(backups(9, 5, 3, 1), keep_last=10)) == []


@pytest.mark.parametrize("keep_last", [0, -1])
def test_keep_last_below_one_is_refused(keep_last):
    with pytest.raises(ConfigurationError, match="keep_last must be at least 1"):
        retention.plan_retention(backups(1), keep_last=keep_last)


def test_max_age():
    assert ids(retention.plan_retention(backups(40, 31, 29, 1), max_age_seconds=30 * 86400)) == ["b0", "b1"]


def test_either_limit_deletes():
    # keep_last 3 keeps b1..b3, max_age 10 days lets b1 (20 days) go as well.
    assert ids(retention.plan_retention(backups(30, 20, 5, 1), keep_last=3, max_age_seconds=10 * 86400)) == [
        "b0", "b1"]


def test_newest_complete_is_never_deleted():
    assert ids(retention.plan_retention(backups(100, 90), max_age_seconds=86400)) == ["b0"]
    # Even when the newest entry is incomplete, the newest complete one stays.
    assert ids(retention.plan_retention(backups(100, 90, 0, incomplete=(2,)), keep_last=1,
                                        max_age_seconds=86400)) == ["b0"]


def test_incomplete_are_neither_counted_nor_deleted():
    entries = backups(50, 40, 30, 20, incomplete=(0, 2))
    assert ids(retention.plan_retention(entries, keep_last=1)) == ["b1"]
    assert ids(retention.plan_retention(entries, keep_last=2)) == []


def test_concurrent_runs_never_delete_each_others_backup():
    import datetime

    started_a = datetime.datetime(2026, 12, 1, 3, 0, tzinfo=datetime.timezone.utc)
    started_b = started_a + datetime.timedelta(seconds=5)
    a = {"id": "a", "age_seconds": 60.0, "complete": True, "finished_at": "2026-12-01T03:01:00.000000Z"}
    b = {"id": "b", "age_seconds": 55.0, "complete": True, "finished_at": "2026-12-01T03:01:05.000000Z"}
    old = {"id": "old", "age_seconds": 86400.0, "complete": True, "finished_at": "2026-11-30T03:01:00.000000Z"}
    # run A (keep_last 1) sees b newer than its own a: it keeps a (its own) and b (newest); old goes
    assert ids(retention.plan_retention([old, a, b], keep_last=1, protect={"a"}, protect_since=started_a)) == ["old"]
    # run B: a was finished while B ran, so it stays too
    assert ids(retention.plan_retention([old, a, b], keep_last=1, protect={"b"}, protect_since=started_b)) == ["old"]
    # a later run applies the limit to both
    later = started_b + datetime.timedelta(hours=1)
    assert ids(retention.plan_retention([old, a, b], keep_last=1, protect=set(), protect_since=later)) == ["old", "a"]


def test_partial_cleanup_only_takes_what_is_old_enough():
    entries = [{"id": "p1", "state": "partial", "age_seconds": 90000.0},
               {"id": "p2", "state": "partial", "age_seconds": 60.0},
               {"id": "c", "state": "complete", "age_seconds": 99999.0}]
    leftovers = [{"key": "x/.data.partial-1", "age_seconds": 90000.0}, {"key": "y", "age_seconds": 5.0}]
    partial, old = retention.plan_partial_cleanup(entries, leftovers, 86400)
    assert ids(partial) == ["p1"] and [o["key"] for o in old] == ["x/.data.partial-1"]
    assert retention.plan_partial_cleanup(entries, leftovers, None) == ([], [])


def test_cleanup_partial_after_is_a_duration():
    assert retention.parse_max_age("1d", option="cleanup_partial_after") == 86400
    with pytest.raises(ConfigurationError, match="cleanup_partial_after 'soon' is not a duration"):
        retention.parse_max_age("soon", option="cleanup_partial_after")
