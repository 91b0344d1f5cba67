"""Store selection and the local store's atomic writes (on a real temporary directory)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import storage
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, StorageError


@pytest.mark.parametrize("location, message", [
    ("ftp://host/dir", "unknown storage scheme 'ftp://'"),
    ("gs://bucket/x", "unknown storage scheme 'gs://'"),
    ("s3://", "names no bucket"),
    ("s3:///prefix", "names no bucket"),
    ("s3://Bad Bucket/x", "not a valid S3 bucket name"),
    ("", "location is empty"),
    ("backups/pg", "is a relative path"),
    ("file://backups", "is a relative path"),
])
def test_bad_locations_are_configuration_errors(location, message):
    with pytest.raises(ConfigurationError, match=message):
        storage.open_store(location)


def test_s3_location_is_parsed_without_any_call():
    store = storage.open_store("s3://my-bucket/nightly/pg/", {"region": "eu-west-1"}, sse="aws:kms",
                               kms_key_id="alias/k", storage_class="STANDARD_IA")
    assert not store.is_local and store.location == "s3://my-bucket/nightly/pg"
    assert store.url("a/b") == "s3://my-bucket/nightly/pg/a/b"
    assert store.local_path("a/b") is None
    assert store.object_args == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/k",
                                 "StorageClass": "STANDARD_IA"}
    assert storage.open_store("s3://b-1").location == "s3://b-1"


@pytest.mark.parametrize("kwargs, message", [
    ({"sse": "AES128"}, "sse must be one of"),
    ({"kms_key_id": "k"}, "needs server-side encryption aws:kms"),
    ({"part_size": 1024}, "at least 5 MiB"),
    ({"concurrency": 0}, "at least 1"),
])
def test_bad_s3_settings(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        storage.open_store("s3://bucket/x", **kwargs)


def test_s3_settings_refused_for_a_directory(tmp_path):
    with pytest.raises(ConfigurationError, match="only apply to S3"):
        storage.open_store(str(tmp_path), sse="AES256")


def test_local_writer_is_invisible_until_commit(tmp_path):
    store = storage.open_store("file://" + str(tmp_path / "b"))
    assert store.is_local and store.location == str(tmp_path / "b")
    writer = store.open_writer("id1/data.dump.zst")
    writer.write(b"abc")
    writer.write(memoryview(b"def"))
    assert store.list() == []
    hidden = os.listdir(tmp_path / "b" / "id1")
    assert len(hidden) == 1 and hidden[0].startswith(".data.dump.zst.partial-")
    writer.commit()
    assert store.list() == [("id1/data.dump.zst", 6)]
    assert store.get_small("id1/data.dump.zst") == b"abcdef"
    assert os.stat(store.local_path("id1/data.dump.zst")).st_mode & 0o777 == 0o600
    with store.open_reader("id1/data.dump.zst") as reader:
        assert reader.read(2) == b"ab"


def test_local_abort_leaves_no_trace(tmp_path):
    store = storage.open_store(str(tmp_path / "b"))
    writer = store.open_writer("id1/data.dump.zst")
    writer.write(b"x" * 1000)
    writer.abort()
    writer.abort()  # twice is harmless
    assert not (tmp_path / "b" / "id1").exists()


def test_get_small_missing_and_delete_prunes(tmp_path):
    store = storage.open_store(str(tmp_path))
    with pytest.raises(storage.StorageNotFound, match="does not exist"):
        store.get_small("nope/manifest.json")
    store.put_small("a/x", b"1")
    store.put_small("a/y", b"22")
    assert store.list("a/") == [("a/x", 1), ("a/y", 2)]
    store.delete("a/x")
    store.delete("a/x")  # missing: fine
    assert (tmp_path / "a").exists()
    store.delete("a/y")
    assert not (tmp_path / "a").exists() and tmp_path.exists()


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "."])
def test_keys_cannot_escape_the_store(tmp_path, key):
    with pytest.raises(StorageError, match="invalid storage key"):
        storage.open_store(str(tmp_path)).open_writer(key)


def test_probe(tmp_path):
    assert "is writable" in storage.open_store(str(tmp_path)).probe()
    assert "can be created" in storage.open_store(str(tmp_path / "x" / "y")).probe()
    (tmp_path / "file").write_text("")
    with pytest.raises(StorageError, match="is not a directory"):
        storage.open_store(str(tmp_path / "file" / "sub")).probe()
    assert not (tmp_path / "x").exists()


def test_store_from_params_converts_part_size():
    params = {k: None for k in storage.storage_argument_spec(writes=True)}
    params.update(location="s3://bkt/p", s3_part_size=8, s3_concurrency=2, s3_sse="AES256")
    store = storage.store_from_params(params)
    assert store.part_size == 8 * storage.MIB and store.concurrency == 2
    assert store.object_args == {"ServerSideEncryption": "AES256"}
