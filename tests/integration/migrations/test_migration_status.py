"""migration_status against real PostgreSQL: real Alembic and sqitch runs, other tools' documented tables."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import uuid

import pytest
from harness.playbook import play

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    MigrationError,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.checksums import (
    flyway_checksum,
    liquibase_changeset_checksum,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.runner import apply_migrations
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.status import migration_status


def states(result):
    return {m["version"]: m["state"] for m in result["migrations"]}


def execute(pg, db, sql, params=()):
    with pg.connect(db) as conn:
        conn.execute(sql, params)


# -- our own ledger -------------------------------------------------------------------------------

def test_own_ledger_pending_applied_and_drift_gate(pg, pg_db, migdir, apply_opts, status_opts):
    path = migdir({"V1__a.sql": "CREATE TABLE a (id int);\n", "V2__b.sql": "CREATE TABLE b (id int);\n"})
    apply_migrations(apply_opts(target="1"), False, False)
    result = migration_status(status_opts(path=path), False, False)
    assert result["tool"] == "shipyard" and result["changed"] is False
    assert states(result) == {"1": "applied", "2": "pending"}
    assert result["current_version"] == "1"
    with pytest.raises(MigrationError, match="pending: 2"):
        migration_status(status_opts(path=path, fail_on=["pending"]), False, False)
    apply_migrations(apply_opts(), False, False)
    migdir({"V1__a.sql": "CREATE TABLE a (id bigint);\n"})
    with pytest.raises(MigrationError, match="drift: 1") as info:
        migration_status(status_opts(path=path, fail_on=["drift", "pending"]), False, False)
    assert info.value.details["summary"]["drift"] == ["1"]
    # migration_apply sees the same edit and refuses.
    with pytest.raises(MigrationError, match="checksum drift"):
        apply_migrations(apply_opts(), False, False)
    os.remove(os.path.join(path, "V2__b.sql"))
    result = migration_status(status_opts(path=path), False, False)
    # Above every file of the release: the database is ahead (a rolled-back application) ...
    assert states(result) == {"1": "drift", "2": "ahead"}
    assert result["database_ahead"] is True and result["current_version"] == "2"
    # ... below a file of the release: the file of an applied migration is gone.
    migdir({"V3__c.sql": "CREATE TABLE c (id int);\n"})
    assert states(migration_status(status_opts(path=path), False, False)) == {
        "1": "drift", "3": "pending", "2": "missing"}


# -- Alembic (real) --------------------------------------------------------------------------------

ALEMBIC_ENV = """
import os
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(os.environ["SHIPYARD_ALEMBIC_URL"])
with engine.connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""

ALEMBIC_REVISION = '''
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down}


def upgrade():
    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("{table}")
'''


def test_alembic_real_upgrade_is_read_through_the_revision_chain(pg, pg_db, tmp_path, status_opts):
    project = tmp_path / "alembic"
    (project / "versions").mkdir(parents=True)
    (project / "env.py").write_text(ALEMBIC_ENV)
    (project / "alembic.ini").write_text("[alembic]\nscript_location = %s\n" % project)
    chain = [("1a2b", None, "users"), ("3c4d", "1a2b", "orders"), ("5e6f", "3c4d", "items")]
    for rev, down, table in chain:
        (project / "versions" / ("%s_%s.py" % (rev, table))).write_text(
            ALEMBIC_REVISION.format(rev=rev, down=repr(down), table=table))
    env = dict(os.environ, SHIPYARD_ALEMBIC_URL="postgresql+psycopg://%s@%s:%d/%s" % (
        pg.user, pg.host, pg.port, pg_db), PGPASSWORD=pg.password)
    alembic = os.path.join(os.path.dirname(sys.executable), "alembic")
    run = subprocess.run([alembic, "-c", str(project / "alembic.ini"), "upgrade", "3c4d"],
                         env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    result = migration_status(status_opts(path=str(project)), False, False)
    assert result["tool"] == "alembic"
    assert [(m["version"], m["state"]) for m in result["migrations"]] == [
        ("1a2b", "applied"), ("3c4d", "applied"), ("5e6f", "pending")]
    assert result["current_version"] == "3c4d" and result["checksum_verified"] is None
    with pytest.raises(MigrationError, match="pending: 5e6f"):
        migration_status(status_opts(path=str(project), fail_on=["pending"]), False, False)
    # The database is ahead of the release: the application was rolled back to a release whose
    # files end before the database's head (Alembic itself says "Can't locate revision").
    run = subprocess.run([alembic, "-c", str(project / "alembic.ini"), "upgrade", "head"],
                         env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    os.remove(project / "versions" / "5e6f_items.py")
    behind = migration_status(status_opts(path=str(project)), False, False)
    assert [(m["version"], m["state"]) for m in behind["migrations"]] == [
        ("1a2b", "applied"), ("3c4d", "applied"), ("5e6f", "ahead")]
    assert behind["current_version"] == "5e6f" and behind["database_ahead"] is True
    assert behind["summary"]["pending"] == [] and behind["summary"]["ahead"] == ["5e6f"]
    with pytest.raises(MigrationError, match=r"ahead: 5e6f.*database is ahead of this release"):
        migration_status(status_opts(path=str(project), fail_on=["ahead"]), False, False)


# -- sqitch (real) ---------------------------------------------------------------------------------

SQITCH_PLAN = """%syntax-version=1.0.0
%project=shop

users 2026-01-01T00:00:00Z Test User <test@example.com> # users table
orders [users] 2026-01-02T00:00:00Z Test User <test@example.com> # orders table
"""


@pytest.fixture
def sqitch_project(tmp_path, pg, pg_db):
    project = tmp_path / "sqitch"
    for sub in ("deploy", "revert", "verify"):
        (project / sub).mkdir(parents=True)
    (project / "sqitch.conf").write_text("[core]\n\tengine = pg\n[engine \"pg\"]\n\tclient = %s\n" % pg.tool("psql"))
    (project / "sqitch.plan").write_text(SQITCH_PLAN)
    for name in ("users", "orders"):
        (project / "deploy" / (name + ".sql")).write_text("BEGIN;\nCREATE TABLE %s (id int);\nCOMMIT;\n" % name)
        (project / "revert" / (name + ".sql")).write_text("DROP TABLE %s;\n" % name)

    def sqitch(*args):
        # The password travels in PGPASSWORD; the target URI names no secret.
        env = dict(pg.client_env(pg_db), SQITCH_FULLNAME="Test User", SQITCH_EMAIL="test@example.com",
                   HOME=str(tmp_path))
        return subprocess.run(["sqitch", *args], cwd=project, env=env, capture_output=True, text=True,
                              check=False)

    sqitch.path = str(project)
    return sqitch


def test_sqitch_real_deploy_checks_script_hash_and_failure(pg, pg_db, sqitch_project, status_opts):
    target = "db:pg://%s@%s:%d/%s" % (pg.user, pg.host, pg.port, pg_db)
    run = sqitch_project("deploy", "--target", target, "--to", "users")
    assert run.returncode == 0, run.stdout + run.stderr
    result = migration_status(status_opts(path=sqitch_project.path), False, False)
    assert result["tool"] == "sqitch" and result["checksum_verified"].startswith("SHA-1")
    assert [(m["version"], m["state"]) for m in result["migrations"]] == [("users", "applied"), ("orders", "pending")]
    # Editing the plan entry of a deployed change changes sqitch's change id: drift too.
    plan_path = os.path.join(sqitch_project.path, "sqitch.plan")
    with open(plan_path) as handle:
        plan = handle.read()
    with open(plan_path, "w") as handle:
        handle.write(plan.replace("# users table", "# the users table"))
    edited = migration_status(status_opts(path=sqitch_project.path), False, False)["migrations"][0]
    assert edited["state"] == "drift" and "change id" in edited["drift_reason"]
    with open(plan_path, "w") as handle:
        handle.write(plan)
    deploy_users = os.path.join(sqitch_project.path, "deploy", "users.sql")
    with open(deploy_users, "a") as handle:
        handle.write("-- edited after deploy\n")
    assert states(migration_status(status_opts(path=sqitch_project.path), False, False))["users"] == "drift"
    with open(os.path.join(sqitch_project.path, "deploy", "orders.sql"), "w") as handle:
        handle.write("CREATE TABLE orders (id int REFERENCES no_such_table);\n")
    run = sqitch_project("deploy", "--target", target)
    assert run.returncode != 0
    with pytest.raises(MigrationError, match="failed: orders"):
        migration_status(status_opts(path=sqitch_project.path, fail_on=["failed"]), False, False)


# -- tools whose tables are built from their documented DDL ----------------------------------------

FLYWAY_DDL = """
CREATE TABLE flyway_schema_history (
    installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL,
    type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER,
    installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(),
    execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL)
"""


def insert_flyway_rows(pg, db, rows):
    """Rows ``(installed_rank, version, description, script, checksum, success)`` of type SQL."""
    for rank, version, desc, script, checksum, success in rows:
        execute(pg, db, "INSERT INTO flyway_schema_history (installed_rank, version, description, type, "
                        "script, checksum, installed_by, execution_time, success) "
                        "VALUES (%s, %s, %s, 'SQL', %s, %s, 'deploy', 5, %s)",
                (rank, version, desc, script, checksum, success))


def test_flyway_crc32_drift_failure_and_out_of_order(pg, pg_db, migdir, status_opts):
    files = {"V1__init.sql": "\ufeffCREATE TABLE a (id int);\r\nINSERT INTO a VALUES (1);\r\n",
             "V1_1__more.sql": "CREATE TABLE b (id int);\n",
             "V2__later.sql": "CREATE TABLE c (id int);\n",
             "V3__broken.sql": "CREATE TABLE d (id int);\n",
             "R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT 1;\n"}
    path = migdir(files)
    execute(pg, pg_db, FLYWAY_DDL)
    rows = [(1, "1", "init", "V1__init.sql", flyway_checksum(files["V1__init.sql"]), True),
            (2, "2", "later", "V2__later.sql", flyway_checksum("CREATE TABLE c (id int);"), True),
            (3, "3", "broken", "V3__broken.sql", 12345, False)]
    insert_flyway_rows(pg, pg_db, rows)
    result = migration_status(status_opts(path=path), False, False)
    assert result["tool"] == "flyway"
    # V2's recorded checksum was computed without the trailing newline's empty line: same CRC.
    assert states(result) == {"1": "applied", "1.1": "out_of_order", "2": "applied", "3": "failed",
                              "R__views": "pending"}
    assert result["current_version"] == "2"
    migdir({"V2__later.sql": "CREATE TABLE c (id bigint);\n"})
    with pytest.raises(MigrationError) as info:
        migration_status(status_opts(path=path, fail_on=["failed", "drift"]), False, False)
    assert info.value.details["summary"]["drift"] == ["2"] and info.value.details["summary"]["failed"] == ["3"]


def test_flyway_repeatable_migrations(pg, pg_db, migdir, status_opts):
    """Rows as Flyway writes them for ``R__`` files (version NULL, one more row each time it runs
    one again; Flyway's schema history documentation): applied while the checksum matches the
    latest row, pending once the file changed (Flyway re-applies it), failed, missing."""
    files = {"V1__cars.sql": "CREATE TABLE cars (id int, color text);\n",
             "R__Blue_cars.sql": "CREATE OR REPLACE VIEW blue_cars AS SELECT id FROM cars WHERE color = 'blue';\n",
             "R__Red_cars.sql": "CREATE OR REPLACE VIEW red_cars AS SELECT id FROM cars WHERE color = 'red';\n"}
    path = migdir(files)
    execute(pg, pg_db, FLYWAY_DDL)
    rows = [(1, "1", "cars", "V1__cars.sql", flyway_checksum(files["V1__cars.sql"]), True),
            (2, None, "Blue cars", "R__Blue_cars.sql", 111, True),
            (3, None, "Red cars", "R__Red_cars.sql", flyway_checksum(files["R__Red_cars.sql"]), True),
            (4, None, "Blue cars", "R__Blue_cars.sql", flyway_checksum(files["R__Blue_cars.sql"]), True),
            (5, None, "Old cars", "R__Old_cars.sql", 222, True)]
    insert_flyway_rows(pg, pg_db, rows)
    result = migration_status(status_opts(path=path), False, False)
    assert [(m["version"], m["state"], m["repeatable"]) for m in result["migrations"]] == [
        ("1", "applied", False), ("R__Blue_cars", "applied", True), ("R__Red_cars", "applied", True),
        ("R__Old_cars", "missing", True)]
    assert result["current_version"] == "1"
    migdir({"R__Red_cars.sql": "CREATE OR REPLACE VIEW red_cars AS SELECT id, color FROM cars WHERE color = 'red';\n"})
    with pytest.raises(MigrationError, match="pending: R__Red_cars"):
        migration_status(status_opts(path=path, fail_on=["pending", "drift"]), False, False)
    insert_flyway_rows(pg, pg_db, [(6, None, "Red cars", "R__Red_cars.sql", 333, False)])
    assert states(migration_status(status_opts(path=path), False, False))["R__Red_cars"] == "failed"


GOLANG_DDL = "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"


def test_golang_migrate_dirty_is_a_failure(pg, pg_db, migdir, status_opts):
    path = migdir({"%06d_step.up.sql" % n: "SELECT %d;\n" % n for n in (1, 2, 3)})
    execute(pg, pg_db, GOLANG_DDL)
    execute(pg, pg_db, "INSERT INTO schema_migrations VALUES (2, false)")
    result = migration_status(status_opts(path=path), False, False)
    assert result["tool"] == "golang_migrate" and states(result) == {"1": "applied", "2": "applied", "3": "pending"}
    execute(pg, pg_db, "UPDATE schema_migrations SET dirty = true")
    with pytest.raises(MigrationError, match="dirty: 2") as info:
        migration_status(status_opts(path=path, fail_on=["dirty"]), False, False)
    assert info.value.details["summary"]["failed"] == ["2"]


PRISMA_DDL = """
CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)
"""


def test_prisma_sha256_and_unfinished_row(pg, pg_db, migdir, status_opts):
    import hashlib

    sqls = {"20260101000000_init": "CREATE TABLE a (id int);\n", "20260102000000_b": "CREATE TABLE b (id int);\n",
            "20260103000000_c": "CREATE TABLE c (id int);\n"}
    path = migdir({name + "/migration.sql": text for name, text in sqls.items()})
    execute(pg, pg_db, PRISMA_DDL)
    for name, finished in (("20260101000000_init", True), ("20260102000000_b", False)):
        execute(pg, pg_db, "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, "
                           "applied_steps_count) VALUES (%s, %s, CASE WHEN %s THEN now() END, %s, 1)",
                (str(uuid.uuid4()), hashlib.sha256(sqls[name].encode()).hexdigest(), finished, name))
    result = migration_status(status_opts(path=path), False, False)
    assert result["tool"] == "prisma"
    assert states(result) == {"20260101000000_init": "applied", "20260102000000_b": "failed",
                              "20260103000000_c": "pending"}
    migdir({"20260101000000_init/migration.sql": "CREATE TABLE a (id bigint);\n"})
    assert states(migration_status(status_opts(path=path), False, False))["20260101000000_init"] == "drift"


def test_rails_schema_migrations(pg, pg_db, migdir, status_opts):
    path = migdir({"20260101120000_create_users.rb": "class CreateUsers < ActiveRecord::Migration[7.1]; end\n",
                   "20260105120000_add_email.rb": "class AddEmail < ActiveRecord::Migration[7.1]; end\n"})
    execute(pg, pg_db, "CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY)")
    execute(pg, pg_db, "INSERT INTO schema_migrations VALUES ('20260101120000'), ('20251201000000')")
    result = migration_status(status_opts(path=path), False, False)
    assert result["tool"] == "rails"
    assert states(result) == {"20260101120000": "applied", "20260105120000": "pending",
                              "20251201000000": "missing"}


RAILS_RUNNER = """
require "active_record"
# The connection comes from libpq's environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).
ActiveRecord::Base.establish_connection(adapter: "postgresql")
ActiveRecord::MigrationContext.new(ARGV[0], ActiveRecord::SchemaMigration).migrate(ARGV[1] && ARGV[1].to_i)
"""
RAILS_MIGRATION = """class {name} < ActiveRecord::Migration[6.1]
  def change
    {body}
  end
end
"""


@pytest.mark.skipif(shutil.which("ruby") is None, reason="ruby with ActiveRecord (ruby-activerecord, ruby-pg) missing")
def test_rails_real_activerecord_migrations(pg, pg_db, migdir, status_opts, tmp_path):
    """Histories written by the real ActiveRecord 6.1 (Debian's ruby-activerecord)."""
    runner = tmp_path / "migrate.rb"
    runner.write_text(RAILS_RUNNER)

    def migrate(*target):
        run = subprocess.run(["ruby", str(runner), migdir.path, *target], env=pg.client_env(pg_db),
                             capture_output=True, text=True, timeout=120, check=False)
        return run.returncode, run.stdout + run.stderr

    create_users = RAILS_MIGRATION.format(name="CreateUsers",
                                          body="create_table :users do |t|\n      t.string :name\n    end")
    add_email = RAILS_MIGRATION.format(name="AddEmail", body="add_column :users, :email, :string")
    migdir({"20260101120000_create_users.rb": create_users, "20260105120000_add_email.rb": add_email})
    rc, output = migrate("20260101120000")
    assert rc == 0, output
    result = migration_status(status_opts(path=migdir.path), False, False)
    assert result["tool"] == "rails"
    assert states(result) == {"20260101120000": "applied", "20260105120000": "pending"}
    rc, output = migrate()
    assert rc == 0, output
    # A failing migration: ActiveRecord rolls its transaction back and records nothing (pending).
    migdir({"20260110120000_broken.rb": RAILS_MIGRATION.format(name="Broken", body="remove_column :nope, :x")})
    rc, output = migrate()
    assert rc != 0
    assert states(migration_status(status_opts(path=migdir.path), False, False)) == {
        "20260101120000": "applied", "20260105120000": "applied", "20260110120000": "pending"}
    # The release of the application rolled back: its files end before what the database has.
    os.remove(os.path.join(migdir.path, "20260110120000_broken.rb"))
    os.remove(os.path.join(migdir.path, "20260105120000_add_email.rb"))
    behind = migration_status(status_opts(path=migdir.path), False, False)
    assert states(behind) == {"20260101120000": "applied", "20260105120000": "ahead"}
    assert behind["current_version"] == "20260105120000"


LIQUIBASE_DDL = """
CREATE TABLE databasechangelog (ID VARCHAR(255) NOT NULL, AUTHOR VARCHAR(255) NOT NULL,
    FILENAME VARCHAR(255) NOT NULL, DATEEXECUTED TIMESTAMP NOT NULL, ORDEREXECUTED INTEGER NOT NULL,
    EXECTYPE VARCHAR(10) NOT NULL, MD5SUM VARCHAR(35), DESCRIPTION VARCHAR(255), COMMENTS VARCHAR(255),
    TAG VARCHAR(255), LIQUIBASE VARCHAR(20), CONTEXTS VARCHAR(255), LABELS VARCHAR(255),
    DEPLOYMENT_ID VARCHAR(10))
"""


def test_liquibase_formatted_sql_changesets(pg, pg_db, migdir, status_opts):
    path = migdir({"changelog.sql": textwrap.dedent("""\
        --liquibase formatted sql

        --changeset alice:1
        CREATE TABLE a (id int);
        --changeset bob:2
        CREATE TABLE b (id int);
        --changeset alice:3
        CREATE TABLE c (id int);
        """)})
    execute(pg, pg_db, LIQUIBASE_DDL)
    # (test_liquibase_real.py checks the checksums against histories the real Liquibase wrote.)
    recorded = (("1", "alice", "EXECUTED", liquibase_changeset_checksum(["CREATE TABLE a (id int);"])),
                ("2", "bob", "FAILED", None))
    for order, (cid, author, exectype, md5sum) in enumerate(recorded, 1):
        execute(pg, pg_db, "INSERT INTO databasechangelog (id, author, filename, dateexecuted, orderexecuted, "
                           "exectype, md5sum) VALUES (%s, %s, 'changelog.sql', now(), %s, %s, %s)",
                (cid, author, order, exectype, md5sum))
    result = migration_status(status_opts(path=path), False, False)
    assert result["tool"] == "liquibase" and result["checksum_verified"].startswith("MD5")
    assert states(result) == {"1::alice": "applied", "2::bob": "failed", "3::alice": "pending"}
    # A checksum of an older algorithm version (8:) is not compared; Liquibase rewrites it itself.
    execute(pg, pg_db, "UPDATE databasechangelog SET md5sum = '8:0123456789abcdef0123456789abcdef' WHERE id = '1'")
    assert states(migration_status(status_opts(path=path), False, False))["1::alice"] == "applied"
    execute(pg, pg_db, "UPDATE databasechangelog SET md5sum = '9:0123456789abcdef0123456789abcdef' WHERE id = '1'")
    assert states(migration_status(status_opts(path=path), False, False))["1::alice"] == "drift"


# -- bad input ------------------------------------------------------------------------------------

def test_bad_input_is_refused_clearly(pg, pg_db, migdir, status_opts):
    with pytest.raises(ConfigurationError, match="does not exist or is not a directory"):
        migration_status(status_opts(path=migdir.path + "/nope"), False, False)
    with pytest.raises(ConfigurationError, match="unknown migration tool 'django'"):
        migration_status(status_opts(tool="django"), False, False)
    with pytest.raises(ConfigurationError, match="no migration history table found"):
        migration_status(status_opts(), False, False)
    execute(pg, pg_db, GOLANG_DDL)
    execute(pg, pg_db, FLYWAY_DDL)
    with pytest.raises(ConfigurationError, match="several migration history tables"):
        migration_status(status_opts(), False, False)
    with pg.connect(pg_db) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"schema_migrations", "flyway_schema_history"}


def test_explicit_tool_without_table_reports_everything_pending(pg, pg_db, migdir, status_opts):
    path = migdir({"V1__a.sql": "SELECT 1;\n"})
    result = migration_status(status_opts(tool="flyway", path=path), False, False)
    assert result["history_table_exists"] is False and states(result) == {"1": "pending"}


# -- through a real playbook ----------------------------------------------------------------------

def test_playbook_gate_passes_then_fails_on_pending(pg, pg_db, migdir, apply_opts, playbook):
    path = migdir({"V1__a.sql": "CREATE TABLE a (id int);\n"})
    apply_migrations(apply_opts(), False, False)
    gate = {"name": "gate", "shipyard.deploy.migration_status": dict(
        pg.conn_options(pg_db), path=path, fail_on=["pending", "failed", "drift", "missing"])}
    run = playbook.run(play([gate]), check=True)
    assert run.rc == 0, run.output
    assert run.task("gate")["summary"]["applied"] == ["1"] and run.task("gate")["changed"] is False
    migdir({"V2__b.sql": "CREATE TABLE b (id int);\n"})
    run = playbook.run(play([gate]), verbosity=3)
    assert run.rc != 0 and run.status("gate") == "failed"
    assert "pending: 2" in run.task("gate")["msg"]
    assert pg.password not in run.output


def test_sqitch_change_ids_match_a_full_real_deploy(pg, pg_db, sqitch_project, status_opts):
    plan_path = os.path.join(sqitch_project.path, "sqitch.plan")
    with open(plan_path, "w") as handle:
        handle.write(SQITCH_PLAN.replace("%project=shop\n", "%project=shop\n%uri=https://example.com/shop/\n")
                     + "items [orders users] 2026-01-03T00:00:00Z Ünï Planner <u@example.com> # items, ünicode\n")
    with open(os.path.join(sqitch_project.path, "deploy", "items.sql"), "w") as handle:
        handle.write("CREATE TABLE items (id int);\n")
    run = sqitch_project("deploy", "--target", "db:pg://%s@%s:%d/%s" % (pg.user, pg.host, pg.port, pg_db))
    assert run.returncode == 0, run.stdout + run.stderr
    result = migration_status(status_opts(path=sqitch_project.path, fail_on=["drift", "pending"]), False, False)
    assert [(m["version"], m["state"]) for m in result["migrations"]] == [
        ("users", "applied"), ("orders", "applied"), ("items", "applied")]


def test_sqitch_rework_is_matched_by_change_id(pg, pg_db, sqitch_project, status_opts):
    """A reworked change (real 'sqitch tag' + 'sqitch rework') not yet deployed is pending, not
    drift; a failed deploy of it is failed; once deployed, both instances are applied."""
    target = "db:pg://%s@%s:%d/%s" % (pg.user, pg.host, pg.port, pg_db)
    assert sqitch_project("deploy", "--target", target).returncode == 0
    run = sqitch_project("tag", "v1.0", "-n", "release 1")
    assert run.returncode == 0, run.stdout + run.stderr
    run = sqitch_project("rework", "users", "-n", "users get a name")
    assert run.returncode == 0, run.stdout + run.stderr
    deploy_users = os.path.join(sqitch_project.path, "deploy", "users.sql")
    assert os.path.isfile(os.path.join(sqitch_project.path, "deploy", "users@v1.0.sql"))
    with open(deploy_users, "w") as handle:
        handle.write("BEGIN;\nALTER TABLE users ADD COLUMN name text;\nCOMMIT;\n")
    result = migration_status(status_opts(path=sqitch_project.path), False, False)
    assert [(m["version"], m["state"]) for m in result["migrations"]] == [
        ("users@v1.0", "applied"), ("orders", "applied"), ("users", "pending")]
    assert result["current_version"] == "orders"
    with pytest.raises(MigrationError, match="apply the pending migrations first") as info:
        migration_status(status_opts(path=sqitch_project.path, fail_on=["pending", "drift"]), False, False)
    assert "drift" not in info.value.message.split("—")[0]
    # A failed deploy of the reworked change is a failure, not drift.
    with open(deploy_users, "w") as handle:
        handle.write("BEGIN;\nALTER TABLE no_such_table ADD COLUMN name text;\nCOMMIT;\n")
    assert sqitch_project("deploy", "--target", target).returncode != 0
    failed = migration_status(status_opts(path=sqitch_project.path), False, False)
    assert states(failed) == {"users@v1.0": "applied", "orders": "applied", "users": "failed"}
    with open(deploy_users, "w") as handle:
        handle.write("BEGIN;\nALTER TABLE users ADD COLUMN name text;\nCOMMIT;\n")
    run = sqitch_project("deploy", "--target", target)
    assert run.returncode == 0, run.stdout + run.stderr
    done = migration_status(status_opts(path=sqitch_project.path, fail_on=["pending", "failed", "drift"]),
                            False, False)
    assert states(done) == {"users@v1.0": "applied", "orders": "applied", "users": "applied"}
    assert done["current_version"] == "users"
