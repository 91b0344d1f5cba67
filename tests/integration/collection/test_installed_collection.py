"""The Galaxy artifact: what it holds, and that an offline install of it runs a real playbook."""

from __future__ import annotations

import json
import os
import re
import tarfile

from harness.collection import WORKING_TREE_CLUTTER
from harness.playbook import REPO_ROOT, play

# Paths that only a working tree has (tools, tests, make demo); none may be in the artifact.
WORKING_TREE_ONLY = (".venv/", "build/", ".demo/", "tests/output/", ".pytest_cache/", ".ruff_cache/",
                     ".ansible/", ".cache/", ".git/", "bench/")


def test_artifact_holds_the_collection_and_nothing_from_the_working_tree(built_collection):
    members = set(built_collection.members)
    tracked = set(built_collection.tracked)

    leaked = sorted(m for m in members if m.startswith(WORKING_TREE_ONLY) or "__pycache__" in m
                    or m.endswith((".pyc", ".tar.gz")))
    assert not leaked, leaked
    assert built_collection.planted == WORKING_TREE_CLUTTER  # the clutter was in the source it was built from
    assert not members & set(WORKING_TREE_CLUTTER)
    # only what git tracks, plus the two files the build writes
    assert members - tracked == {"MANIFEST.json", "FILES.json"}

    content = sorted(f for f in tracked if f.startswith(("plugins/", "roles/", "meta/", "playbooks/",
                                                         "changelogs/"))
                     or f in ("README.md", "requirements.txt") or f.startswith("CHANGELOG"))
    missing = sorted(set(content) - members)
    assert not missing, missing
    modules = [f for f in members if re.match(r"plugins/modules/[a-z_]+\.py$", f)]
    assert len(modules) >= 15, modules

    with tarfile.open(built_collection.tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))
        files = json.load(archive.extractfile("FILES.json"))
    info = manifest["collection_info"]
    expected = ("shipyard", "deploy", built_collection.version)
    assert (info["namespace"], info["name"], info["version"]) == expected
    listed = {f["name"] for f in files["files"] if f["ftype"] == "file"}
    assert listed == members - {"MANIFEST.json", "FILES.json"}


def _ansible_paths(output):
    """Every task file and module file Ansible reports (-vvv) using."""
    paths = re.findall(r"^task path: (\S+?):\d+$", output, re.M)
    paths += re.findall(r"Using module file (\S+)$", output, re.M)
    return paths


def _assert_ran_from(run, install, *expected):
    """Every task and module file of ``run`` lies in ``install`` (but the play the test wrote)."""
    output = run.output
    generated = [a for a in run.argv if a.endswith(".yml")]
    paths = [p for p in _ansible_paths(output) if p not in generated]
    for suffix in expected:
        assert any(p.endswith(suffix) for p in paths), (suffix, output)
    outside = sorted({p for p in paths if not p.startswith(install)})
    assert not outside, outside
    for part in ("plugins", "roles", "playbooks"):
        assert os.path.join(REPO_ROOT, part) not in output


def test_offline_install_runs_backup_and_verification_from_the_install(
        installed_collection, installed_playbook, pg, pg_db, tmp_path):
    install = installed_collection.collection_dir + os.sep
    assert sorted(os.listdir(installed_collection.collections_path)) == ["ansible_collections"]
    assert os.listdir(os.path.dirname(installed_collection.collection_dir)) == ["deploy"]
    with open(os.path.join(installed_collection.collection_dir, "MANIFEST.json")) as handle:
        assert json.load(handle)["collection_info"]["name"] == "deploy"

    with pg.connect(pg_db) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, item text)")
        conn.execute("INSERT INTO orders SELECT g, 'item ' || g FROM generate_series(1, 500) g")
    location = str(tmp_path / "backups")

    run = installed_playbook.run(play([{
        "name": "Back up",
        "shipyard.deploy.pg_backup": dict(pg.conn_options(pg_db), location=location),
        "register": "backup",
    }]), verbosity=3)
    assert run.rc == 0, run.output
    assert run.task("Back up")["changed"] is True
    _assert_ran_from(run, install, "/plugins/modules/pg_backup.py")

    # the collection's own playbook, by its FQCN, from the installed copy
    run = installed_playbook.run("shipyard.deploy.backup_verify", extra_vars={
        "shipyard_backup_verify_group": "localhost",
        "shipyard_db": pg.conn_options(pg_db),
        "shipyard_backup_location": location,
    }, verbosity=3)
    assert run.rc == 0, run.output
    report = run.task("Show the verification")["backup_verify_report"]
    assert report["verified"] is True and int(report["rows"]) == 500, report
    assert pg.password not in run.output

    _assert_ran_from(run, install, "/roles/backup_verify/tasks/main.yml",
                     "/plugins/modules/pg_restore.py")

    with pg.connect() as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                            (pg_db + "_verify_%",)).fetchall()
    assert left == []
