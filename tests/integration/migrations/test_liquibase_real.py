"""migration_status against histories written by the real Liquibase (the npm package ``liquibase``,
which bundles Liquibase and runs on a Debian JRE; ``make liquibase`` installs it under build/).

Liquibase's own ``MD5SUM`` of each changeset must equal the one migration_status recomputes; an
edited applied changeset is drift exactly when ``liquibase validate`` refuses it.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import MigrationError
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.status import migration_status

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUNDLED = os.path.join(ROOT, "build", "liquibase", "node_modules", "liquibase", "dist", "liquibase", "liquibase")


def liquibase_bin():
    for candidate in (os.environ.get("SHIPYARD_LIQUIBASE"), BUNDLED, shutil.which("liquibase")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


pytestmark = pytest.mark.skipif(liquibase_bin() is None or shutil.which("java") is None,
                                reason="Liquibase not installed: run 'make liquibase' (needs a JRE)")

CHANGELOG = (
    "-- liquibase formatted sql\n"
    "\n"
    "-- changeset alice:1\n"
    "CREATE TABLE a (id int);\n"
    "-- rollback DROP TABLE a;\n"
    "\n"
    "-- changeset bob:2 labels:x context:prod\n"
    "-- comment: the b table, with a comment and blank lines\n"
    "CREATE TABLE b (\n"
    "    id   int,   -- the key\n"
    "    name text\n"
    ");\n"
    "\n"
    "\n"
    "INSERT INTO b VALUES (1, 'ünïcode');\n"
    "/* liquibase rollback\n"
    "DROP TABLE b;\n"
    "*/\n"
    "-- changeset alice:3 runOnChange:true\r\n"
    "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\r\n"
    "-- changeset \"carol\":\"4\" splitStatements:false\n"
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n"
)


@pytest.fixture
def liquibase(pg, pg_db, tmp_path):
    project = tmp_path / "lq"
    project.mkdir()

    def run(*args):
        # The password travels in Liquibase's own environment variable, never on the command line.
        env = dict(os.environ, LIQUIBASE_COMMAND_URL="jdbc:postgresql://%s:%d/%s" % (pg.host, pg.port, pg_db),
                   LIQUIBASE_COMMAND_USERNAME=pg.user, LIQUIBASE_COMMAND_PASSWORD=pg.password,
                   LIQUIBASE_SEARCH_PATH=str(project), LIQUIBASE_SHOW_BANNER="false",
                   LIQUIBASE_ANALYTICS_ENABLED="false", JAVA_OPTS="-Xmx256m")
        return subprocess.run([liquibase_bin(), "--changelog-file=changelog.sql", *args], cwd=project, env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    run.path = str(project)
    return run


def write(project, text):
    with open(os.path.join(project, "changelog.sql"), "w", newline="") as handle:
        handle.write(text)


def status(status_opts, path, **extra):
    return migration_status(status_opts(path=path, tool="liquibase", **extra), False, False)


def test_liquibase_md5sum_is_recomputed_and_edits_are_drift(liquibase, status_opts):
    write(liquibase.path, CHANGELOG)
    run = liquibase("update")
    assert run.returncode == 0, run.stdout + run.stderr
    result = status(status_opts, liquibase.path)
    assert result["checksum_verified"].startswith("MD5")
    entries = {m["version"]: m for m in result["migrations"]}
    assert list(entries) == ["1::alice", "2::bob", "3::alice", "4::carol"]
    for entry in entries.values():
        assert entry["state"] == "applied", entry
        assert entry["checksum_recorded"].startswith("9:")
        assert entry["checksum_recorded"] == entry["checksum_file"], entry

    # Whitespace and rollback edits keep Liquibase's checksum: still applied, validate agrees.
    write(liquibase.path, CHANGELOG.replace("CREATE TABLE a (id int);", "CREATE TABLE a (id  int);  ")
          .replace("-- rollback DROP TABLE a;", "-- rollback DROP TABLE IF EXISTS a;"))
    assert liquibase("validate").returncode == 0
    assert status(status_opts, liquibase.path)["summary"]["drift"] == []

    # An edited applied changeset: Liquibase refuses it, and so does the gate.
    write(liquibase.path, CHANGELOG.replace("INSERT INTO b VALUES (1, 'ünïcode');", "INSERT INTO b VALUES (2, 'x');"))
    validate = liquibase("validate")
    assert validate.returncode != 0 and "is now: 9:" in validate.stdout + validate.stderr
    with pytest.raises(MigrationError, match="drift: 2::bob"):
        status(status_opts, liquibase.path, fail_on=["drift"])

    # A runOnChange changeset that changed is run again by the next update: pending, not drift.
    write(liquibase.path, CHANGELOG.replace("SELECT id FROM a", "SELECT id, 1 AS one FROM a"))
    assert liquibase("validate").returncode == 0
    rerun = {m["version"]: m for m in status(status_opts, liquibase.path)["migrations"]}
    assert rerun["3::alice"]["state"] == "pending" and rerun["3::alice"]["repeatable"] is True
    assert liquibase("update").returncode == 0
    assert status(status_opts, liquibase.path, fail_on=["pending", "drift"])["summary"]["applied"] == [
        "1::alice", "2::bob", "3::alice", "4::carol"]
