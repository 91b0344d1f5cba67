"""Pure logic of pg_restore: names, plans, manifest ownership, the verifying reader, row counts."""

from __future__ import annotations

import hashlib
import io

import pytest
import zstandard

from ansible_collections.shipyard.deploy.plugins.module_utils.backup import restore, verified_stream
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    IntegrityError,
    StorageError,
)

DATA = bytes(range(256)) * 4000


def manifest_for(data, **changes):
    doc = {"id": "shop-20261122T031500Z-3fa9c1", "database": "shop", "data_key": "data.dump.zst",
           "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "uncompressed_size": 0}
    doc.update(changes)
    return doc


def read_all(reader):
    out = bytearray()
    while True:
        chunk = reader.read(1000)
        if not chunk:
            return bytes(out)
        out += chunk


def test_scratch_name_is_safe_and_bounded():
    assert restore.scratch_name("shop", token="abc123") == "shop_restore_abc123"
    assert restore.scratch_name("my shop=1", token="abc123") == "my_shop_1_restore_abc123"
    long = restore.scratch_name("x" * 80, token="abc123", label="before")
    assert len(long) == 63 and long.endswith("_before_abc123")
    assert restore.scratch_name("shop") != restore.scratch_name("shop")


@pytest.mark.parametrize("exists,swap,force,prev_exists,expected", [
    (False, False, False, False, ("create", None)),
    (False, True, True, True, ("create", None)),
    (True, True, False, False, ("swap", "shop_before")),
    (True, True, True, True, ("swap", "shop_before")),
    (True, False, True, False, ("replace", None)),
])
def test_plan_target(exists, swap, force, prev_exists, expected):
    assert restore.plan_target("shop", exists, swap, force, "shop_before", prev_exists) == expected


def test_plan_target_refuses_existing_target_without_swap_or_force():
    with pytest.raises(ConfigurationError, match="target database 'shop' already exists; set swap=true"):
        restore.plan_target("shop", True, False, False, "shop_before", False)
    with pytest.raises(ConfigurationError, match=r"'shop_before'.*already exists.*force=true"):
        restore.plan_target("shop", True, True, False, "shop_before", True)


def test_check_manifest_refuses_other_backup_and_other_database():
    doc = manifest_for(DATA)
    restore.check_manifest(doc, doc["id"], "shop")
    restore.check_manifest(doc, doc["id"], None)
    with pytest.raises(IntegrityError, match="names backup 'other-"):
        restore.check_manifest(dict(doc, id="other-20261122T031500Z-000000"), doc["id"])
    with pytest.raises(IntegrityError, match="backup of database 'shop', not of 'billing'"):
        restore.check_manifest(doc, doc["id"], "billing")


def test_verifying_reader_accepts_exact_data():
    reader = verified_stream.VerifyingReader(io.BytesIO(DATA), len(DATA))
    assert read_all(reader) == DATA
    reader.verdict(manifest_for(DATA), "b1")
    assert reader.sha256 == hashlib.sha256(DATA).hexdigest()


def test_verifying_reader_flipped_byte():
    bad = bytearray(DATA)
    bad[len(bad) // 2] ^= 0x01
    reader = verified_stream.VerifyingReader(io.BytesIO(bytes(bad)), len(DATA))
    read_all(reader)
    with pytest.raises(IntegrityError, match=r"SHA-256 of data.dump.zst is [0-9a-f]{64} but its manifest records"):
        reader.verdict(manifest_for(DATA), "b1")


def test_verifying_reader_truncated_and_oversized():
    reader = verified_stream.VerifyingReader(io.BytesIO(DATA[:-10]), len(DATA))
    read_all(reader)
    with pytest.raises(IntegrityError, match="has %d bytes but its manifest records %d" % (len(DATA) - 10, len(DATA))):
        reader.verdict(manifest_for(DATA), "b1")
    reader = verified_stream.VerifyingReader(io.BytesIO(DATA + b"x" * 5000), len(DATA), chunk=1000)
    read_all(reader)
    reader.drain()
    assert reader.size < len(DATA) + 5000  # stopped reading at the limit, not at the end
    with pytest.raises(IntegrityError, match="larger than the %d bytes" % len(DATA)):
        reader.verdict(manifest_for(DATA), "b1")


def test_stream_decompressed_across_frames():
    payload = b"first frame " * 1000 + bytes(range(256)) * 10
    data = zstandard.ZstdCompressor(threads=2).compress(payload) + zstandard.ZstdCompressor().compress(b"tail")
    got = []
    total = verified_stream.stream_decompressed(io.BytesIO(data), got.append)
    assert b"".join(got) == payload + b"tail" and total == len(payload) + 4


def test_check_decoded_reports_zstd_error_and_size_mismatch():
    doc = manifest_for(DATA, uncompressed_size=100)
    verified_stream._check_decoded(doc, "b1", None, 100)
    with pytest.raises(IntegrityError, match="decompresses to 99 bytes but its manifest records 100"):
        verified_stream._check_decoded(doc, "b1", None, 99)
    with pytest.raises(IntegrityError, match="not valid zstd"):
        verified_stream._check_decoded(doc, "b1", zstandard.ZstdError("bad"), None)


def test_row_count_differences():
    expected = {"public.a": 3, "public.b": 0, "s.c": 7}
    assert restore.row_count_differences(expected, {"public.a": 3, "public.b": 0, "s.c": 7}) == {}
    assert restore.row_count_differences(expected, {"public.a": 2, "public.b": 0}) == {
        "public.a": {"expected": 3, "actual": 2},
        "s.c": {"expected": 7, "actual": None},
    }


def test_major():
    assert restore._major("18.1") == 18
    assert restore._major("15") == 15
    assert restore._major(None) is None


def test_admin_database_is_never_the_target():
    assert restore.admin_database({"database": None, "target": "shop"}) == "postgres"
    assert restore.admin_database({"database": "shop", "target": "shop"}) == "postgres"
    assert restore.admin_database({"database": "template1", "target": "shop"}) == "template1"


def test_verifying_reader_turns_read_failures_into_storage_errors():
    class Broken:
        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise ConnectionResetError("connection reset by peer")
            return b"x" * n

    reader = verified_stream.VerifyingReader(Broken(), 10**6, source="s3://b/p/id/data.dump.zst")
    reader.read(100)
    with pytest.raises(StorageError, match=r"reading s3://b/p/id/data.dump.zst failed after 100 bytes: "
                                           r"connection reset by peer; check the storage and retry"):
        reader.read(100)


@pytest.mark.parametrize("changes,message", [
    ({"jobs": 0}, r"jobs must be 1 or more \(got 0\)"),
    ({"jobs": 4}, r"jobs=4 needs a local copy of the dump .* set allow_local_copy=true"),
    ({"location": "ftp://host/backups"}, r"unknown storage scheme 'ftp://'"),
])
def test_bad_parameters_fail_before_connecting(changes, message):
    params = {"location": "/nonexistent", "backup_id": "latest", "source_database": "shop", "target": "shop_copy",
              "jobs": 1, "allow_local_copy": False, "work_dir": None}
    params.update(changes)
    with pytest.raises(ConfigurationError, match=message):
        restore.restore_service(params, False, False)


def test_row_counts_are_compared_both_ways():
    assert restore.row_count_differences({"public.a": 1}, {"public.a": 1, "public.b": 5}) == {
        "public.b": {"expected": None, "actual": 5}}
    assert restore.row_count_differences({"public.a": 1, "public.b": 2}, {"public.a": 1}) == {
        "public.b": {"expected": 2, "actual": None}}


def test_failure_hint_names_versions_when_the_source_server_is_newer():
    from types import SimpleNamespace

    older = SimpleNamespace(manifest={"server_version": "18.1"}, server_major=15, server_text="15.14")
    assert "PostgreSQL 18.1 and this server is 15.14" in restore.Restore._failure_hint(older)
    same = SimpleNamespace(manifest={"server_version": "15.2"}, server_major=15, server_text="15.14")
    assert "no_owner" in restore.Restore._failure_hint(same)
