# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of issue 2: pg_backup and pg_restore against the usual pg_dump/pg_restore.

Builds a ``pgbench -i -s SCALE`` database on a throw-away PostgreSQL server (the embedded
PostgreSQL 18 of the test harness) and overwrites the ``filler`` column of pgbench_accounts with
random text - stock pgbench rows are blank-padded and compress 36:1, which would hide the cost
of compression.  Then, interleaved in every round (the order rotates so that no variant always
runs on a warm or a cold cache):

- floor:        ``pg_dump -Fc -Z0 > /dev/null`` - what reading the database costs at all
- ours:         the pg_backup service to a local directory (same options as the module's defaults)
- pg_dump -Fc:  ``pg_dump -Fc > file`` - the usual way
- restore ours: the pg_restore service (verified stream into a scratch database, row counts, rename)
- restore -Fc:  ``CREATE DATABASE`` + ``pg_restore --exit-on-error`` of the usual dump

and prints each median, the sizes, and the ratios against the targets of the issue.  Ratios,
not absolute times, are what to compare across machines (this one is noisy and shared).

    .venv/bin/python bench/backup.py [--scale 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

from harness import postgres as pg_harness  # noqa: E402
from harness.playbook import collections_root  # noqa: E402

sys.path.insert(0, collections_root())

from ansible_collections.shipyard.deploy.plugins.module_utils.aws import aws_argument_spec  # noqa: E402
from ansible_collections.shipyard.deploy.plugins.module_utils.backup import backup_service  # noqa: E402
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.restore import restore_service  # noqa: E402

TARGETS = {
    "backup_vs_floor": ("ours / floor time", "<=", 1.5),
    "pg_dump_vs_ours": ("pg_dump -Fc / ours time", ">=", 3.0),
    "size_vs_pg_dump": ("ours / pg_dump -Fc size", "<=", 1.0),
    "restore_vs_plain": ("restore ours / restore -Fc time", "<=", 1.3),
}


def log(message):
    print(message, file=sys.stderr, flush=True)


def build_database(server, scale):
    """pgbench -i -s SCALE, then random text in pgbench_accounts.filler (and a compacted table)."""
    server.create_database("bench")
    env = server.client_env("bench")
    subprocess.run([server.tool("pgbench"), "-i", "-q", "-s", str(scale)], env=env, check=True,
                   capture_output=True)
    with server.connect("bench") as conn:
        # 84 characters of hex text per row: about 2:1 compressible, like real text columns.
        conn.execute("UPDATE pgbench_accounts SET filler = substr(md5(random()::text) || md5(random()::text) "
                     "|| md5(random()::text), 1, 84)")
        conn.execute("VACUUM FULL ANALYZE pgbench_accounts")
        size = conn.execute("SELECT pg_database_size('bench')").fetchone()[0]
    return size


def timed(func):
    started = time.perf_counter()
    value = func()
    return time.perf_counter() - started, value


def pg_dump(server, fmt_args, out):
    with open(out, "wb") as handle:
        subprocess.run([server.tool("pg_dump"), "-Fc", *fmt_args], stdout=handle, env=server.client_env("bench"),
                       check=True)


def backup_params(server, location):
    params = {
        "location": location, "pg_dump_path": None, "compression_level": 1, "compression_threads": 0,
        "keep_last": None, "max_age": None, "s3_sse": None, "s3_kms_key_id": None, "s3_storage_class": None,
        "s3_part_size": 16, "s3_concurrency": 4, "sslmode": None, "conninfo": None, "service": None,
        "connect_timeout": 10,
    }
    params.update(dict.fromkeys(aws_argument_spec()))
    params.update(server.conn_options("bench"))
    return params


def restore_params(server, location, backup_id, target):
    params = {
        "location": location, "backup_id": backup_id, "source_database": "bench", "target": target,
        "swap": False, "previous_name": None, "force": False, "owner": None, "no_owner": False, "jobs": 1,
        "allow_local_copy": False, "work_dir": None, "pg_restore_path": None,
        "sslmode": None, "conninfo": None, "service": None, "connect_timeout": 10,
    }
    params.update(dict.fromkeys(aws_argument_spec()))
    params.update(server.conn_options("postgres"))
    return params


def plain_restore(server, dump, target):
    server.create_database(target)
    subprocess.run([server.tool("pg_restore"), "--exit-on-error", "--dbname", target, dump],
                   env=server.client_env(target), check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--scale", type=int, default=10, help="pgbench scale (100,000 accounts each; default 10)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of every measurement (default 5)")
    args = parser.parse_args()

    server = pg_harness.PostgresServer(bindir=pg_harness.embedded_bindir()).start()
    work = tempfile.mkdtemp(prefix="shipyard-bench-")
    try:
        log("building pgbench -s %d with random filler ..." % args.scale)
        db_size = build_database(server, args.scale)
        backups = os.path.join(work, "backups")
        plain_file = os.path.join(work, "plain.dump")
        times = {name: [] for name in ("floor", "ours", "pg_dump_fc", "restore_ours", "restore_plain")}
        sizes = {}
        state = {"backup_id": None, "round": 0}

        def floor():
            pg_dump(server, ["-Z0"], os.devnull)

        def ours():
            if os.path.isdir(backups):
                shutil.rmtree(backups)
            os.makedirs(backups)
            result = backup_service.pg_backup(backup_params(server, backups), False, False)
            state["backup_id"] = result["backup_id"]
            sizes["ours"], sizes["uncompressed"] = result["size"], result["uncompressed_size"]

        def plain():
            pg_dump(server, [], plain_file)
            sizes["pg_dump_fc"] = os.path.getsize(plain_file)

        def restore_ours():
            target = "r_ours_%d" % state["round"]
            restore_service(restore_params(server, backups, state["backup_id"], target), False, False)
            server.drop_database(target)

        def restore_plain():
            target = "r_plain_%d" % state["round"]
            plain_restore(server, plain_file, target)
            server.drop_database(target)

        # Backups first in each round (the restores need this round's files), each group rotated.
        dumps = [("floor", floor), ("ours", ours), ("pg_dump_fc", plain)]
        restores = [("restore_ours", restore_ours), ("restore_plain", restore_plain)]
        for number in range(args.repeat):
            state["round"] = number
            shift_d, shift_r = number % len(dumps), number % len(restores)
            for name, func in dumps[shift_d:] + dumps[:shift_d] + restores[shift_r:] + restores[:shift_r]:
                # Start every step from the same quiet server: the previous step's dirty pages are
                # written now, not during the next measurement.
                with server.connect() as conn:
                    conn.execute("CHECKPOINT")
                seconds, _value = timed(func)
                times[name].append(seconds)
                log("round %d  %-14s %7.2f s" % (number + 1, name, seconds))

        medians = {name: statistics.median(values) for name, values in times.items()}
        ratios = {
            "backup_vs_floor": medians["ours"] / medians["floor"],
            "pg_dump_vs_ours": medians["pg_dump_fc"] / medians["ours"],
            "size_vs_pg_dump": sizes["ours"] / sizes["pg_dump_fc"],
            "restore_vs_plain": medians["restore_ours"] / medians["restore_plain"],
        }
        mib = 1024.0 * 1024.0
        print("pgbench scale %d, database %.1f MiB, uncompressed dump %.1f MiB, %d rounds, %d CPUs"
              % (args.scale, db_size / mib, sizes["uncompressed"] / mib, args.repeat, os.cpu_count() or 0))
        print("%-32s %10s" % ("median", "seconds"))
        for name, label in (("floor", "floor: pg_dump -Fc -Z0 > /dev/null"), ("ours", "ours: pg_backup to local dir"),
                            ("pg_dump_fc", "pg_dump -Fc > file"), ("restore_ours", "restore ours (verified)"),
                            ("restore_plain", "restore: pg_restore of -Fc dump")):
            print("%-36s %6.2f" % (label, medians[name]))
        print("sizes: ours %.1f MiB, pg_dump -Fc %.1f MiB, uncompressed %.1f MiB"
              % (sizes["ours"] / mib, sizes["pg_dump_fc"] / mib, sizes["uncompressed"] / mib))
        for key, (label, op, goal) in TARGETS.items():
            value = ratios[key]
            met = value <= goal if op == "<=" else value >= goal
            print("%-34s %6.2f  (target %s %.1f: %s)" % (label, value, op, goal, "met" if met else "MISSED"))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
