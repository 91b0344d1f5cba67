"""A restore killed the way Ansible kills a timed-out task (SIGTERM) leaves nothing behind; while it
runs, the password is on no command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from harness.playbook import collections_root
from restore_helpers import databases, make_backup, new_name, restore_params

# Every row checks a constraint that sleeps, but only inside pg_restore (its application_name):
# the restore takes seconds while seeding stays fast.
SLOW_SQL = [
    "CREATE FUNCTION slow_ok(v int) RETURNS boolean LANGUAGE sql AS $$ SELECT CASE WHEN "
    "current_setting('application_name') = 'pg_restore' THEN pg_sleep(0.01) IS NOT NULL ELSE true END $$",
    "CREATE TABLE slow (v int CHECK (slow_ok(v)))",
    "INSERT INTO slow SELECT generate_series(1, 1500)",
]

RUNNER = """
import json, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.restore import restore_service
restore_service(json.load(sys.stdin), False, False)
"""


def test_sigterm_mid_restore_drops_the_scratch_database(pg, pg_db, tmp_path, cleanup):
    with pg.connect(pg_db) as conn:
        for statement in SLOW_SQL:
            conn.execute(statement)
    cleanup(pg)
    make_backup(pg, pg_db, str(tmp_path))
    target = new_name("killed")
    before = databases(pg)
    params = restore_params(pg, tmp_path, target, source_database=pg_db)
    # the password travels on stdin, not argv
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, collections_root()], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdin.write(json.dumps(params))
    proc.stdin.close()
    deadline = time.monotonic() + 30
    while not any(name.startswith(target + "_restore_") for name in databases(pg) - before):
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the scratch database never appeared"
        time.sleep(0.05)
    time.sleep(1.0)  # pg_restore is now busy inside the slow table
    ps = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True, check=True).stdout
    assert "pg_restore --exit-on-error --dbname %s_restore_" % target in ps
    assert pg.password not in ps  # the password is in pg_restore's environment only
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode != 0
    # the restore's own message, not the backup's (the two used to share one handler)
    assert "pg_restore interrupted by signal 15" in proc.stderr.read()
    assert databases(pg) == before  # scratch dropped, target never created
    with pg.connect() as conn:
        left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_restore'").fetchone()[0]
    assert left == 0
    assert os.listdir(tmp_path)  # the backup itself is untouched


def test_deadline_mid_restore_drops_the_scratch_database(pg, pg_db, tmp_path, cleanup, playbook):
    """Through ansible-playbook: the task's deadline passes while pg_restore works (~15 s of sleeping
    constraint checks); the module stops pg_restore, drops the scratch database and says so."""
    from harness.playbook import play

    with pg.connect(pg_db) as conn:
        for statement in SLOW_SQL:
            conn.execute(statement)
    cleanup(pg)
    make_backup(pg, pg_db, str(tmp_path))
    target = new_name("late")
    before = databases(pg)
    args = dict(pg.conn_options("postgres"), location=str(tmp_path), source_database=pg_db, target=target,
                deadline=3)
    started = time.monotonic()
    run = playbook.run(play([{"name": "restore", "shipyard.deploy.pg_restore": args, "ignore_errors": True}]))
    elapsed = time.monotonic() - started
    result = run.task("restore")
    assert "pg_restore did not finish within its deadline of 3 seconds" in result["msg"], result["msg"]
    assert elapsed < 30
    assert databases(pg) == before  # scratch dropped, target never created
    with pg.connect() as conn:
        left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_restore'").fetchone()[0]
    assert left == 0
    assert pg.password not in run.output
