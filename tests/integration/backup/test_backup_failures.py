"""A backup interrupted in the middle leaves nothing that looks like a backup, and the password
never shows in the process list nor in -vvv output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from harness.playbook import play

from ansible_collections.shipyard.deploy.plugins.module_utils.backup import backup_service
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.manifest import list_backups
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import BackupError
from ansible_collections.shipyard.deploy.plugins.module_utils.storage import open_store


def dumping_pg_dumps(parent=None):
    """PIDs of the dumping pg_dump processes (not ``--version`` probes) whose parent is ``parent``
    (this test process by default)."""
    parent = parent or os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == parent and b"pg_dump" in cmdline and b"--snapshot=" in cmdline:
            found.append(int(entry))
    return found


def partial_bytes(root):
    """Bytes in hidden (partial) files below ``root``."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files if f.startswith("."))
    return total


def all_files(root):
    return [os.path.join(d, f) for d, _dirs, files in os.walk(root) for f in files]


def run_backup_in_thread(params):
    outcome = {}

    def target():
        try:
            outcome["result"] = backup_service.pg_backup(params, False, False)
        except BaseException as exc:  # the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.002)
    pytest.fail("timed out waiting for " + what)


def test_pg_dump_killed_mid_stream_leaves_no_backup(big_db, service_params, tmp_path):
    location = tmp_path / "b"
    thread, outcome = run_backup_in_thread(service_params(big_db, location))
    pid = wait_until(dumping_pg_dumps, 30, "pg_dump to start")[0]
    # Mid-stream: compressed data has already reached the (hidden) partial file.
    wait_until(lambda: partial_bytes(location), 30, "data to reach the partial file")
    os.kill(pid, signal.SIGKILL)
    thread.join(60)
    assert "result" not in outcome, "the backup finished before pg_dump was killed; use a bigger database"
    error = outcome["error"]
    assert isinstance(error, BackupError)
    assert "killed by signal 9" in str(error) and "nothing was published" in str(error)
    assert all_files(location) == [], "a partial file was left behind"
    assert list_backups(open_store(str(location))) == []


def test_pg_dump_failing_mid_stream_leaves_no_backup(pg, big_db, service_params, tmp_path):
    location = tmp_path / "b"
    thread, outcome = run_backup_in_thread(service_params(big_db, location))
    wait_until(lambda: partial_bytes(location), 30, "data to reach the partial file")
    with pg.connect() as conn:
        killed = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = 'pg_dump'", (big_db,)).fetchall()
    thread.join(60)
    assert killed == [(True,)], "pg_dump's server session was not found"
    error = outcome.get("error")
    assert isinstance(error, BackupError), outcome
    assert "pg_dump" in str(error) and "failed with exit code 1" in str(error)
    assert "terminat" in str(error)  # pg_dump's own message says the connection was terminated
    assert all_files(location) == []


def test_password_never_in_ps_nor_vvv_output(playbook, pg, big_db, backup_options, tmp_path):
    location = tmp_path / "b"
    samples = []
    done = threading.Event()

    def sample_ps():
        while not done.is_set():
            # -ww: whole command lines, never cut at the terminal width.
            out = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True, text=True, check=False).stdout
            samples.append(out)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample_ps)
    sampler.start()
    try:
        run = playbook.run(play([{"name": "backup", "shipyard.deploy.pg_backup": backup_options(big_db, location)}]),
                           verbosity=3)
    finally:
        done.set()
        sampler.join()
    assert run.rc == 0, run.output
    during_dump = [s for s in samples if "--snapshot=" in s]
    assert during_dump, "no ps sample caught pg_dump running (%d samples)" % len(samples)
    assert pg.password not in "".join(samples)
    assert pg.password not in run.output
    assert "ESTABLISH LOCAL CONNECTION" in run.output
    manifest_dir = location / run.task("backup")["backup_id"]
    assert pg.password not in (manifest_dir / "manifest.json").read_text()


SERVICE_SCRIPT = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
from ansible_collections.shipyard.deploy.plugins.module_utils.backup import backup_service
backup_service.pg_backup(json.load(sys.stdin), False, False)
"""


def test_sigterm_mid_stream_removes_the_partial_backup(big_db, service_params, tmp_path):
    """Ansible stops a cancelled or timed-out module with SIGTERM: the backup must clean up."""
    location = tmp_path / "b"
    proc = subprocess.Popen([sys.executable, "-c", SERVICE_SCRIPT, json.dumps(sys.path)], stdin=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdin.write(json.dumps(service_params(big_db, location)))
    proc.stdin.close()

    try:
        pg_dump_pid = wait_until(lambda: dumping_pg_dumps(proc.pid), 30, "pg_dump to start")[0]
        wait_until(lambda: partial_bytes(location), 30, "data to reach the partial file")
        proc.send_signal(signal.SIGTERM)
        stderr = proc.stderr.read()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert "interrupted by signal 15" in stderr, stderr
    assert all_files(location) == [], "a partial file was left behind"
    assert not os.path.exists("/proc/%d" % pg_dump_pid) or "zombie" in open("/proc/%d/status" % pg_dump_pid).read(), \
        "pg_dump kept running after the backup was interrupted"
