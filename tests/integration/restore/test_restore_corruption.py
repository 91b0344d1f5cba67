"""A damaged backup is refused with a clear error, and the target database is left exactly as it was.

Each case starts from a good backup copied to its own directory, damages it one way, and asks
for a restore that would replace a live target (force=true) - so a restore that wrongly went
ahead would show in the target.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from restore_helpers import databases, fingerprint, make_backup, new_name, restore_params, seed

from ansible_collections.shipyard.deploy.plugins.module_utils.backup.restore import restore_service
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import IntegrityError, RestoreError


@pytest.fixture(scope="module")
def good_backups(pg, tmp_path_factory):
    """One backup of a seeded database, and one of another database, in a pristine directory."""
    root = tmp_path_factory.mktemp("pristine")
    source, other = new_name("src"), new_name("other")
    pg.create_database(source)
    pg.create_database(other)
    seed(pg, source)
    with pg.connect(other) as conn:
        conn.execute("CREATE TABLE t (v int); INSERT INTO t VALUES (1)")
    manifest = make_backup(pg, source, str(root))
    other_manifest = make_backup(pg, other, str(root))
    yield {"root": root, "source": source, "manifest": manifest, "other": other, "other_manifest": other_manifest,
           "fingerprint": fingerprint(pg, source)}
    pg.drop_database(source)
    pg.drop_database(other)


@pytest.fixture
def live_target(pg, cleanup):
    """An existing database with its own data, that a wrongful restore would overwrite."""
    cleanup(pg)
    name = new_name("live")
    pg.create_database(name)
    with pg.connect(name) as conn:
        conn.execute("CREATE TABLE marker (v text); INSERT INTO marker VALUES ('live data, keep me')")
    return name


def flip_byte(path):
    with open(path, "r+b") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(size // 2)
        byte = handle.read(1)
        handle.seek(size // 2)
        handle.write(bytes([byte[0] ^ 0x10]))


def truncate(path):
    with open(path, "r+b") as handle:
        handle.truncate(os.fstat(handle.fileno()).st_size - 1000)


def edit_manifest(path, **changes):
    with open(path) as handle:
        doc = json.load(handle)
    doc.update(changes)
    with open(path, "w") as handle:
        json.dump(doc, handle)


def flip_sha(doc):
    return doc["sha256"][:10] + ("0" if doc["sha256"][10] != "0" else "1") + doc["sha256"][11:]


# (case, damage(data_path, manifest_path, backups), expected message)
CASES = {
    "flipped byte": (lambda d, m, b: flip_byte(d),
                     r"SHA-256 of data.dump.zst is [0-9a-f]{64} but its manifest records [0-9a-f]{64}"),
    "truncated": (lambda d, m, b: truncate(d), r"data.dump.zst has \d+ bytes but its manifest records \d+ \(truncated"),
    "appended": (lambda d, m, b: open(d, "ab").write(b"\0" * 4096), r"larger than the \d+ bytes its manifest records"),
    "manifest sha256 changed": (lambda d, m, b: edit_manifest(m, sha256=flip_sha(b["manifest"])),
                                r"SHA-256 of data.dump.zst is [0-9a-f]{64} but its manifest records"),
    "manifest size changed": (lambda d, m, b: edit_manifest(m, size=b["manifest"]["size"] + 1),
                              r"has \d+ bytes but its manifest records \d+"),
    "manifest missing": (lambda d, m, b: os.remove(m), r"manifest missing for backup "),
    "manifest not json": (lambda d, m, b: open(m, "w").write("{not json"), r"is not valid JSON"),
    "data missing": (lambda d, m, b: os.remove(d), r"its data object data.dump.zst is missing"),
    "manifest of another backup": (
        lambda d, m, b: shutil.copy(os.path.join(b["root"], b["other_manifest"]["id"], "manifest.json"), m),
        r"names another backup"),
    "row counts tampered": (
        lambda d, m, b: edit_manifest(m, row_counts=dict(b["manifest"]["row_counts"], **{"public.orders": 19999})),
        r"restored row counts of backup .* differ from its manifest \(public.orders: expected 19999, restored 20000\)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_damaged_backup_is_refused_and_target_untouched(case, pg, good_backups, live_target, tmp_path):
    damage, message = CASES[case]
    backups = tmp_path / "backups"
    shutil.copytree(good_backups["root"], backups)
    backup_id = good_backups["manifest"]["id"]
    damage(str(backups / backup_id / "data.dump.zst"), str(backups / backup_id / "manifest.json"), good_backups)
    before_fp, before_dbs = fingerprint(pg, live_target), databases(pg)

    params = restore_params(pg, backups, live_target, backup_id=backup_id, source_database=good_backups["source"],
                            force=True)
    # row counts are the last proof, after pg_restore: a RestoreError; everything else is refused earlier
    expected = RestoreError if case == "row counts tampered" else IntegrityError
    with pytest.raises(expected, match=message) as failure:
        restore_service(params, False, False)
    assert backup_id in str(failure.value)
    assert fingerprint(pg, live_target) == before_fp  # the target is untouched
    assert databases(pg) == before_dbs  # no scratch database left

    # check mode refuses the same damage (row counts need a real restore to be compared)
    if case != "row counts tampered":
        with pytest.raises(IntegrityError, match=message):
            restore_service(params, True, False)


def test_undamaged_copy_restores(pg, good_backups, live_target, tmp_path):
    """The control case: the same copy, undamaged, replaces the target - so the cases above can fail."""
    backups = tmp_path / "backups"
    shutil.copytree(good_backups["root"], backups)
    params = restore_params(pg, backups, live_target, backup_id=good_backups["manifest"]["id"],
                            source_database=good_backups["source"], force=True)
    restore_service(params, False, False)
    assert fingerprint(pg, live_target) == good_backups["fingerprint"]


def test_backup_of_another_database_is_refused(pg, good_backups, live_target):
    """Asked for a backup of X, given the id of a backup of Y: refused before anything is created."""
    before = databases(pg)
    other_id = good_backups["other_manifest"]["id"]
    params = restore_params(pg, good_backups["root"], live_target, backup_id=other_id,
                            source_database=good_backups["source"], force=True)
    with pytest.raises(IntegrityError, match="backup %s is a backup of database '%s', not of '%s'"
                       % (other_id, good_backups["other"], good_backups["source"])):
        restore_service(params, False, False)
    assert databases(pg) == before


def test_flipped_byte_in_s3_is_refused(pg, good_backups, live_target, s3, s3_bucket):
    client = s3.client()
    backup_id = good_backups["manifest"]["id"]
    for name in ("data.dump.zst", "manifest.json"):
        with open(os.path.join(good_backups["root"], backup_id, name), "rb") as handle:
            body = bytearray(handle.read())
        if name == "data.dump.zst":
            body[len(body) // 3] ^= 0x01
        client.put_object(Bucket=s3_bucket, Key="db/%s/%s" % (backup_id, name), Body=bytes(body))
    before_fp = fingerprint(pg, live_target)
    params = restore_params(pg, "s3://%s/db" % s3_bucket, live_target, source_database=good_backups["source"],
                            force=True, **s3.module_options())
    with pytest.raises(IntegrityError, match=r"SHA-256 of data.dump.zst is .* but its manifest records"):
        restore_service(params, False, False)
    assert fingerprint(pg, live_target) == before_fp
