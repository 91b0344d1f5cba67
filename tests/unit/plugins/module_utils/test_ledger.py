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


def test_unreadable_lines_are_skipped_and_reported_with_line_numbers():
    good = '{"deployment_id": "d1", "event": "started", "time": "2026-11-30T10:00:00Z"}\n'
    data = (good + "garbage\n42\nnull\n" + '{"deployment_id": "d1", "event": "note", "time": "\xff"}\n').encode()
    data += b'{"event": "note", "time": "\xff\xfe"}\n' + b"[" * 5000 + b"]" * 5000 + b"\n"
    data += b'{"deployment_id": "d1", "event": "note", "time": "yesterday"}\n' + good.encode() + b'{"deployment_id": "d'
    skipped = []
    records = ledger.parse_lines(data, "x", skipped)
    assert len(records) == 2
    assert [s["line"] for s in skipped] == [2, 3, 4, 5, 6, 7, 8, 10]
    assert "incomplete last line" in skipped[-1]["reason"]
    assert "not a JSON object" in skipped[1]["reason"] and "RFC 3339" in skipped[6]["reason"]


@pytest.mark.parametrize("text, expected", [
    ("2026-11-30T10:00:00Z", "2026-11-30T10:00:00.000000Z"),
    ("2026-11-30T10:00:00.5Z", "2026-11-30T10:00:00.500000Z"),
    ("2026-11-30T10:00:00.123456789Z", "2026-11-30T10:00:00.123456Z"),
    ("2026-11-30t10:00:00z", "2026-11-30T10:00:00.000000Z"),
    ("2026-11-30 10:00:00+01:00", "2026-11-30T09:00:00.000000Z"),
    ("2026-11-30T10:00:00.25-05:30", "2026-11-30T15:30:00.250000Z"),
    ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59.999999Z"),
])
def test_every_rfc3339_time_is_read(text, expected):
    assert ledger.isoformat(ledger.parse_time(text)) == expected


@pytest.mark.parametrize("text", ["2026-11-30", "2026-11-30T10:00:00", "yesterday", 42, None, "2026-13-01T00:00:00Z"])
def test_times_that_are_not_rfc3339_are_refused(text):
    with pytest.raises(ValueError):
        ledger.parse_time(text)


def test_append_is_idempotent_by_event_id(tmp_path):
    store = ledger.FileLedger(str(tmp_path / "l.jsonl"))
    first = ledger.new_record("d1", "prod", "shop", "1.0", "started")
    again = ledger.new_record("d1", "prod", "shop", "1.0", "started")  # a retry: another time, same event
    assert first["event_id"] == again["event_id"]
    assert store.append(first) is True
    assert store.append(again) is False
    other = ledger.new_record("d1", "prod", "shop", "1.0", "note", {"n": 1})
    assert store.append(other) is True
    assert [r["event"] for r in store.read()] == ["started", "note"]
    explicit = ledger.new_record("d1", "prod", "shop", "1.0", "note", {"n": 1}, event_id_="mine")
    assert store.append(explicit) is True


def test_unknown_event_and_bad_location():
    with pytest.raises(ConfigurationError, match="event"):
        ledger.new_record("d", "e", "a", "1", "deployed")
    with pytest.raises(ConfigurationError, match="only a file path"):
        ledger.open_ledger("https://example.invalid/ledger")
    with pytest.raises(ConfigurationError, match="s3://bucket"):
        ledger.open_ledger("s3://bucket-only/")
