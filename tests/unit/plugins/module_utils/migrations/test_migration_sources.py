"""Reading each tool's migration files: versions, order, plans and revision chains."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations import files, sources


def write(tmp_path, mapping):
    for name, text in mapping.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return str(tmp_path)


def test_versions_sort_numerically_and_normalize():
    assert files.sorted_versions(["1.10", "1.9", "2", "1_2", "01"]) == ["01", "1_2", "1.9", "1.10", "2"]
    assert files.normalize_version("01_002") == "1.2"


def test_scan_versioned_pairs_undo_files_and_reads_no_transaction_marker(tmp_path):
    path = write(tmp_path, {"V1__create_orders.sql": "CREATE TABLE o (id int);",
                            "U1__create_orders.sql": "DROP TABLE o;",
                            "V1_1__index.sql": "-- shipyard:no-transaction\nCREATE INDEX CONCURRENTLY i ON o (id);",
                            "README.md": "not a migration"})
    migrations, undos = files.scan_versioned(path)
    assert sorted(migrations) == ["1", "1.1"] and list(undos) == ["1"]
    assert migrations["1"].description == "create orders" and migrations["1"].transactional
    assert not migrations["1.1"].transactional


def test_duplicate_versions_are_refused(tmp_path):
    path = write(tmp_path, {"V1__a.sql": "SELECT 1;", "V1.0__b.sql": "SELECT 2;", "V01__c.sql": "SELECT 3;"})
    with pytest.raises(ConfigurationError, match="two migration files have version 1"):
        files.scan_versioned(path)


def test_sqitch_plan_skips_pragmas_tags_and_keeps_reworked_changes_once():
    project, changes = sources.parse_sqitch_plan(
        "%syntax-version=1.0.0\n%project=shop\n\nusers 2026-01-01T00:00:00Z A <a@b> # u\n"
        "orders [users] 2026-01-02T00:00:00Z A <a@b>\n@v1.0 2026-01-03T00:00:00Z A <a@b>\n"
        "users [users@v1.0] 2026-01-04T00:00:00Z A <a@b> # reworked\n")
    assert project == "shop" and changes == ["orders", "users"]


def test_alembic_revisions_are_read_without_running_them(tmp_path):
    path = write(tmp_path, {
        "versions/b_second.py": 'raise SystemExit("must not run")\nrevision = "b"\ndown_revision = "a"\n',
        "versions/a_first.py": 'revision: str = "a"\ndown_revision = None\n',
        "versions/c_merge.py": 'revision = "c"\ndown_revision = ("b", "a")\n'})
    found, parents = sources.scan_alembic(path)
    assert [s.key for s in found] == ["a", "b", "c"] and parents["c"] == ("b", "a")


def test_liquibase_formatted_sql_changesets_and_other_files_ignored(tmp_path):
    path = write(tmp_path, {"a.sql": "--liquibase formatted sql\n--changeset alice:1\nSELECT 1;\n"
                                     "-- changeset bob:x-2 runOnChange:true\nSELECT 2;\n",
                            "plain.sql": "--changeset not:counted\n"})
    assert [s.key for s in sources.scan_liquibase(path)] == ["1::alice", "x-2::bob"]


def test_golang_and_rails_file_names(tmp_path):
    go = write(tmp_path / "go", {"000002_b.up.sql": "", "000002_b.down.sql": "", "000010_c.up.sql": "",
                                 "000001_a.up.sql": ""})
    assert [s.key for s in sources.scan_golang_migrate(go)] == ["1", "2", "10"]
    rails = write(tmp_path / "rails", {"20260101000000_create_users.rb": "", "notes.txt": ""})
    assert [(s.key, s.description) for s in sources.scan_rails(rails)] == [("20260101000000", "create users")]


def test_sqitch_change_id_is_a_git_style_sha1_of_the_info():
    import hashlib

    pragmas, entries = sources.parse_sqitch_plan_entries(
        "%project=p\nfirst 2026-01-01T00:00:00Z A B <a@b> # hi\nsecond [first !old] 2026-01-02T00:00:00Z A <a@b>\n")
    ids = dict(zip([e["name"] for e in entries], sources.sqitch_change_ids(pragmas, entries)))
    info = b"project p\nchange first\nplanner A B <a@b>\ndate 2026-01-01T00:00:00Z\n\nhi"
    assert ids["first"] == hashlib.sha1(b"change %d\0" % len(info) + info).hexdigest()  # noqa: S324
    info2 = ("project p\nchange second\nparent %s\nplanner A <a@b>\ndate 2026-01-02T00:00:00Z\n"
             "requires\n  + first\nconflicts\n  - old" % ids["first"]).encode()
    assert ids["second"] == hashlib.sha1(b"change %d\0" % len(info2) + info2).hexdigest()  # noqa: S324


def test_a_long_alembic_history_is_ordered_without_recursion(tmp_path):
    mapping = {"versions/r%04d.py" % n: 'revision = "r%04d"\ndown_revision = %s\n' % (
        n, repr("r%04d" % (n - 1)) if n else None) for n in range(1200)}
    found, _parents = sources.scan_alembic(write(tmp_path, mapping))
    assert [s.key for s in found] == ["r%04d" % n for n in range(1200)]


def test_sqitch_reworked_change_has_one_entry_per_instance(tmp_path):
    # The plan as 'sqitch add users; sqitch tag v1.0; sqitch rework users' writes it; ids from 'sqitch plan'.
    path = write(tmp_path, {
        "sqitch.plan": "%syntax-version=1.0.0\n%project=shop\n\n"
                       "users 2026-12-01T21:34:49Z Test User <test@example.com> # users table\n"
                       "@v1.0 2026-12-01T21:34:50Z Test User <test@example.com> # release 1\n"
                       "users [users@v1.0] 2026-12-01T21:34:51Z Test User <test@example.com> # users again\n",
        "deploy/users.sql": "new", "deploy/users@v1.0.sql": "old"})
    found, project = sources.scan_sqitch(path)
    assert project == "shop"
    assert [(s.key, s.script, s.change_id) for s in found] == [
        ("users@v1.0", "deploy/users@v1.0.sql", "4eae87fb511a457c32152c8c762bb776a0aacb54"),
        ("users", "deploy/users.sql", "8eb28fbf67f508789c458879fedad3c8af222021")]
