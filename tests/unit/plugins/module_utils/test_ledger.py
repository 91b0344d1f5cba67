"""Ledger queries: outcomes, last good version, staging gate, torn lines."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

T0 = datetime.datetime(2026, 11, 22, 4, 0, tzinfo=datetime.timezone.utc)


def events(deployment_id, version, *names, env="production", start=0):
    return [
        ledger.new_record(deployment_id, env, "shop", version, name, {"reason": "errors"} if name == "rolled_back"
                          else {}, moment=T0 + datetime.timedelta(minutes=start, seconds=10 * i))
        for i, name in enumerate(names)
    ]


def test_last_good_skips_rolled_back_and_failed():
    records = (events("d1", "1.0", "started", "succeeded", start=0)
               + events("d2", "1.1", "started", "succeeded", start=10)
               + events("d3", "1.2", "started", "traffic_step", "rolled_back", start=20)
               + events("d4", "1.3", "started", "failed", start=30))
    assert ledger.good_versions(records, "production", "shop") == ["1.1", "1.0"]
    summary = ledger.summarize(records, "d3")
    assert summary["outcome"] == "rolled_back" and summary["reason"] == "errors"
    assert summary["duration_seconds"] == 20.0
    assert [e["duration_seconds"] for e in summary["events"]] == [10.0, 10.0, 0.0]


def test_a_later_rollback_of_a_succeeded_deployment_counts():
    records = events("d1", "1.0", "started", "succeeded") + events("d2", "1.1", "started", "succeeded", start=5)
    records += events("d2", "1.1", "rolled_back", start=9)
    assert ledger.good_versions(records, "production", "shop") == ["1.0"]


def test_staging_gate_is_per_environment():
    records = events("s1", "2.0", "started", "succeeded", env="staging")
    records += events("s2", "2.1", "started", "failed", env="staging")
    assert ledger.succeeded_in(records, "staging", "shop", "2.0")
    assert not ledger.succeeded_in(records, "staging", "shop", "2.1")
    assert not ledger.succeeded_in(records, "production", "shop", "2.0")


def test_in_progress_deployment():
    summary = ledger.summarize(events("d1", "1.0", "started", "backup"), "d1")
    assert summary["outcome"] == "in_progress" and summary["finished_at"] is None


def test_torn_last_line_is_ignored_but_corruption_elsewhere_is_not():
    good = '{"deployment_id": "d1", "event": "started"}\n'
    assert len(ledger.parse_lines(good + '{"deployment_id": "d', "x")) == 1
    with pytest.raises(ledger.LedgerError, match="line 1"):
        ledger.parse_lines("garbage\n" + good, "x")


def test_unknown_event_and_bad_location():
    with pytest.raises(ConfigurationError, match="event"):
        ledger.new_record("d", "e", "a", "1", "deployed")
    with pytest.raises(ConfigurationError, match="only a file path"):
        ledger.open_ledger("https://example.invalid/ledger")
    with pytest.raises(ConfigurationError, match="s3://bucket"):
        ledger.open_ledger("s3://bucket-only/")
