# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of issue 3: what the migration gate costs over the bare minimum.

- lint:  ``lint_script`` on a generated script of mixed DDL, against the parse it is built on
  alone, libpg_query's JSON read by ``json.loads`` (the floor: a real parser has to read every
  statement anyway).
- apply: ``migration_apply`` of N one-statement migrations into a fresh database (advisory lock,
  ledger, per-migration transaction, statement split), against running the same files with
  psycopg, one transaction each and nothing else, on the same throw-away PostgreSQL 18 server.

Rounds alternate the variants; medians and ratios are printed (ratios, not times, compare across
this noisy shared machine).

    .venv/bin/python bench/migrations.py [--statements 2000] [--migrations 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

from harness.playbook import collections_root  # noqa: E402
from harness.postgres import PostgresServer, embedded_bindir  # noqa: E402

sys.path.insert(0, collections_root())

from pglast import parser as pg_parser  # noqa: E402

from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.lint import lint_script  # noqa: E402
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.runner import (  # noqa: E402
    apply_migrations,
)

TEMPLATES = [
    "ALTER TABLE t{n} ADD COLUMN c{n} text",
    "CREATE INDEX CONCURRENTLY i{n} ON t{n} (a)",
    "ALTER TABLE t{n} ADD CONSTRAINT f{n} FOREIGN KEY (a) REFERENCES p (id) NOT VALID",
    "UPDATE t{n} SET a = a + 1 WHERE id BETWEEN {n} AND {n} + 100",
    "CREATE TABLE n{n} (id bigint PRIMARY KEY, name text NOT NULL, created timestamptz DEFAULT now())",
    "ALTER TABLE t{n} DROP COLUMN old{n}",
]


def timed(func):
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def bench_lint(statements, repeat):
    sql = ";\n".join(TEMPLATES[n % len(TEMPLATES)].format(n=n) for n in range(statements)) + ";\n"
    parse, lint = [], []
    for _round in range(repeat):
        parse.append(timed(lambda: json.loads(pg_parser.parse_sql_json(sql))))
        lint.append(timed(lambda: lint_script(sql, "bench.sql")))
    return statistics.median(parse), statistics.median(lint)


def bench_apply(server, migrations, repeat):
    workdir = tempfile.mkdtemp(prefix="shipyard-bench-migrations-")
    for n in range(1, migrations + 1):
        with open(os.path.join(workdir, "V%d__t%d.sql" % (n, n)), "w") as handle:
            handle.write("CREATE TABLE t%d (id bigint PRIMARY KEY, note text);\n" % n)
    files = sorted(os.listdir(workdir), key=lambda name: int(name[1:name.index("__")]))
    ours, bare = [], []
    for round_no in range(repeat):
        for variant in (("ours", "bare") if round_no % 2 == 0 else ("bare", "ours")):
            db = "b_" + uuid.uuid4().hex[:10]
            server.create_database(db)
            if variant == "ours":
                params = dict(server.conn_options(db), conninfo=None, sslmode=None, service=None,
                              connect_timeout=10, path=workdir, target=None, lock_timeout="5s",
                              statement_timeout="0", lock_retries=5, retry_delay=1.0, out_of_order=False,
                              repair=False, lint="off", ledger_schema="public",
                              ledger_table="shipyard_schema_history")
                ours.append(timed(lambda p=params: apply_migrations(p, False, False)))
            else:
                def run_bare(db=db):
                    with server.connect(db) as conn:
                        for name in files:
                            with open(os.path.join(workdir, name)) as handle, conn.transaction():
                                conn.execute(handle.read())
                bare.append(timed(run_bare))
            server.drop_database(db)
    return statistics.median(bare), statistics.median(ours)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--migrations", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    parse, lint = bench_lint(args.statements, args.repeat)
    print("lint  %5d statements: parse only %.3fs, lint %.3fs, ratio %.2f (%.0f statements/s)"
          % (args.statements, parse, lint, lint / parse, args.statements / lint))
    server = PostgresServer(bindir=embedded_bindir()).start()
    try:
        bare, ours = bench_apply(server, args.migrations, args.repeat)
    finally:
        server.stop()
    print("apply %5d migrations: bare psycopg %.3fs, migration_apply %.3fs, ratio %.2f (%.1f ms per migration)"
          % (args.migrations, bare, ours, ours / bare, 1000 * ours / args.migrations))


if __name__ == "__main__":
    main()
