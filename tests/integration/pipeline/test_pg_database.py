"""pg_database against the real PostgreSQL server, through a playbook."""

from __future__ import annotations

from harness.playbook import play


def db_task(title, pg, **args):
    options = pg.conn_options()
    options.pop("database")
    options.update(args)
    return {"name": title, "shipyard.deploy.pg_database": options}


def exists(pg, name):
    with pg.connect() as conn:
        return conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone() is not None


def test_create_drop_idempotent_and_check_mode(pg, playbook):
    name = "scratch_pgdb_test"
    run = playbook.run(play([db_task("check create", pg, name=name)]), check=True)
    assert run.task("check create")["changed"] is True and not exists(pg, name)
    run = playbook.run(play([
        db_task("create", pg, name=name, template="template0"),
        db_task("create again", pg, name=name),
    ]), verbosity=3)
    assert run.rc == 0, run.output
    assert run.task("create")["changed"] is True and run.task("create again")["changed"] is False
    assert exists(pg, name)
    assert pg.password not in run.output
    holder = pg.connect(name)  # a session still connected must not stop the drop
    try:
        run = playbook.run(play([db_task("drop", pg, name=name, state="absent")]))
    finally:
        holder.close()
    assert run.rc == 0, run.output
    assert run.task("drop")["changed"] is True and not exists(pg, name)


def test_refuses_to_drop_the_maintenance_database(pg, playbook):
    run = playbook.run(play([db_task("bad", pg, name="postgres", state="absent")]))
    assert run.rc != 0 and "maintenance database" in run.task("bad")["msg"]
