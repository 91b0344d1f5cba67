"""Backup ids, manifest validation, listing and 'latest' (on a real temporary directory)."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.backup import manifest as m
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, IntegrityError
from ansible_collections.shipyard.deploy.plugins.module_utils.storage import open_store

T0 = datetime.datetime(2026, 11, 22, 3, 15, 0, tzinfo=datetime.timezone.utc)


def make(store, database, moment, data=b"dump", counts=None):
    backup_id = m.new_backup_id(database, moment)
    store.put_small(m.data_key(backup_id), data)
    doc = m.build_manifest(backup_id, database, moment, "18.1", "18.1", len(data), "a" * 64, 100,
                           counts or {"public.t": 3}, 1.5)
    m.publish_manifest(store, doc)
    return backup_id


def test_backup_id_format():
    backup_id = m.new_backup_id("shop", T0)
    assert m.ID_RE.match(backup_id)
    assert backup_id.startswith("shop-20261122T031500Z-")
    assert m.new_backup_id("we/ird name", T0).startswith("we_ird_name-")
    assert m.new_backup_id("shop", T0) != backup_id


def test_build_manifest_has_every_contract_field():
    doc = m.build_manifest("db-20261122T031500Z-abcdef", "db", T0, "18.1", "18.2", 10, "b" * 64, 30,
                           {"s.b": 2, "s.a": 1}, 0.1234)
    assert set(doc) == set(m.MANIFEST_FIELDS) | set(m.OPTIONAL_FIELDS)
    assert doc["created_at"] == "2026-11-22T03:15:00.000000Z"
    assert doc["format_version"] == 1 and doc["data_key"] == "data.dump.zst"
    assert list(doc["row_counts"]) == ["s.a", "s.b"]
    assert m.parse_time(doc["created_at"]) == T0


@pytest.mark.parametrize("change, message", [
    ({"size": "10"}, "field size has the wrong type"),
    ({"size": True}, "field size has the wrong type"),
    ({"sha256": "XYZ"}, "sha256 is not 64"),
    ({"format_version": 2}, "format_version 2"),
    ({"id": "other-20261122T031500Z-abcdef"}, "names another backup"),
    ({"created_at": "yesterday"}, "not an ISO-8601 time"),
    ({"row_counts": {"t": "3"}}, "row_counts must map"),
    ({"data_key": "../x"}, "is not a file name"),
    ({"compression": "gzip"}, "are not custom / zstd"),
])
def test_validate_manifest_names_the_problem(change, message):
    doc = m.build_manifest("db-20261122T031500Z-abcdef", "db", T0, "18", "18", 1, "c" * 64, 1, {}, 1)
    doc.update(change)
    with pytest.raises(IntegrityError, match=message):
        m.validate_manifest(doc, "db-20261122T031500Z-abcdef")


def test_validate_manifest_missing_fields():
    with pytest.raises(IntegrityError, match=r"lacks the field.*sha256"):
        m.validate_manifest({k: 1 for k in m.MANIFEST_FIELDS if k != "sha256"})
    with pytest.raises(IntegrityError, match="not a JSON object"):
        m.validate_manifest([])


def test_load_manifest_missing_and_unparsable(tmp_path):
    store = open_store(str(tmp_path))
    with pytest.raises(IntegrityError, match="manifest missing for backup x-1"):
        m.load_manifest(store, "x-1")
    store.put_small(m.manifest_key("x-1"), b"{not json")
    with pytest.raises(IntegrityError, match="not valid JSON"):
        m.load_manifest(store, "x-1")


def test_list_backups_complete_and_incomplete(tmp_path):
    store = open_store(str(tmp_path))
    old = make(store, "shop", T0)
    new = make(store, "shop", T0 + datetime.timedelta(hours=1))
    other = make(store, "crm", T0 + datetime.timedelta(hours=2))
    # Interrupted: data without manifest.  Broken: manifest that does not parse.
    interrupted = "shop-20261122T053000Z-0000aa"
    store.put_small(m.data_key(interrupted), b"part")
    broken = "shop-20261122T060000Z-0000bb"
    store.put_small(m.data_key(broken), b"d")
    store.put_small(m.manifest_key(broken), b"[]")
    # Data deleted under a manifest.
    gone = make(store, "shop", T0 + datetime.timedelta(hours=3))
    store.delete(m.data_key(gone))

    now = T0 + datetime.timedelta(hours=10)
    entries = m.list_backups(store, now=now)
    assert [e["id"] for e in entries] == [old, new, other, interrupted, broken, gone]
    by_id = {e["id"]: e for e in entries}
    assert by_id[old]["complete"] and by_id[old]["age_seconds"] == 36000 and by_id[old]["size"] == 4
    assert by_id[interrupted]["complete"] is False and "no manifest" in by_id[interrupted]["problem"]
    assert by_id[interrupted]["database"] == "shop" and by_id[interrupted]["size"] == 4
    assert by_id[broken]["complete"] is False and "not a JSON object" in by_id[broken]["problem"]
    assert by_id[gone]["complete"] is False and by_id[gone]["problem"] == "data object data.dump.zst missing"
    assert by_id[gone]["state"] == "damaged" and by_id[interrupted]["state"] == "partial"
    assert [e["id"] for e in m.list_backups(store, database="crm")] == [other]
    assert m.resolve_backup_id(store, "latest") == other
    assert m.resolve_backup_id(store, "latest", database="shop") == new
    assert m.resolve_backup_id(store, old) == old
    # Someone else's files in the same location are not backups.
    store.put_small("README", b"x")
    store.put_small("notes/a.txt", b"x")
    assert len(m.list_backups(store)) == len(entries)


def test_resolve_latest_without_backups(tmp_path):
    with pytest.raises(ConfigurationError, match="no complete backup of database shop"):
        m.resolve_backup_id(open_store(str(tmp_path)), "latest", database="shop")
    with pytest.raises(ConfigurationError, match="not valid"):
        m.resolve_backup_id(open_store(str(tmp_path)), "../x")


def test_manifest_written_as_json(tmp_path):
    store = open_store(str(tmp_path))
    backup_id = make(store, "shop", T0)
    doc = json.loads((tmp_path / backup_id / "manifest.json").read_text())
    assert doc == m.load_manifest(store, backup_id)


def test_a_truncated_data_object_is_damaged_never_latest(tmp_path):
    store = open_store(str(tmp_path))
    good = m.new_backup_id("shop", T0)
    later = m.new_backup_id("shop", T0 + datetime.timedelta(hours=1))
    for backup_id, moment in ((good, T0), (later, T0 + datetime.timedelta(hours=1))):
        store.put_small(m.data_key(backup_id), b"1234")
        m.publish_manifest(store, m.build_manifest(backup_id, "shop", moment, "18.1", "18.1", 4, "a" * 64, 9, {}, 1.0))
    store.put_small(m.data_key(later), b"12")  # truncated after the manifest was written
    entries = {e["id"]: e for e in m.list_backups(store, database="shop")}
    assert entries[good]["state"] == "complete"
    assert entries[later]["state"] == "damaged" and "2 bytes, the manifest records 4" in entries[later]["problem"]
    assert m.resolve_backup_id(store, "latest", "shop") == good


def test_latest_refuses_to_mix_clusters(tmp_path):
    store = open_store(str(tmp_path))
    ids = []
    for hours, cluster in ((0, "111"), (1, "222")):
        backup_id = m.new_backup_id("shop", T0 + datetime.timedelta(hours=hours))
        store.put_small(m.data_key(backup_id), b"1234")
        m.publish_manifest(store, m.build_manifest(backup_id, "shop", T0 + datetime.timedelta(hours=hours), "18.1",
                                                   "18.1", 4, "a" * 64, 9, {}, 1.0, system_identifier=cluster))
        ids.append(backup_id)
    with pytest.raises(ConfigurationError, match="come from 2 clusters"):
        m.resolve_backup_id(store, "latest", "shop")
    assert m.resolve_backup_id(store, "latest", "shop", system_identifier="111") == ids[0]
    assert m.resolve_backup_id(store, "latest", "shop", system_identifier="222") == ids[1]
