# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The backup stream: ``pg_dump`` -> zstd -> SHA-256 -> storage, manifest last.

One pass, no temporary copy of the dump:

1. A REPEATABLE READ READ ONLY transaction exports its snapshot (``pg_export_snapshot()``) and
   stays open for the whole dump; ``pg_dump --snapshot`` dumps exactly that snapshot and a
   background thread counts the rows of every table in it, so the manifest's row counts describe
   the same data as the dump.
2. ``pg_dump --format=custom -Z0`` writes to a pipe; zstandard (multi-threaded) reads it in
   1 MiB chunks in C (``copy_stream``) and hands compressed chunks to a sink that hashes, counts
   and writes them to the store's writer.  A second thread drains pg_dump's stderr so it can
   never block on a full pipe.
3. Only when pg_dump exited 0 and wrote no error is the data object committed, then the
   manifest written.  Any failure aborts the writer: no partial object, no manifest.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import subprocess
import threading
import time

from ansible_collections.shipyard.deploy.plugins.module_utils import postgres
from ansible_collections.shipyard.deploy.plugins.module_utils.backup import manifest as manifests
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.databases import TABLES_SQL
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.verified_stream import require_zstandard, zstandard
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    BackupError,
    PostgresError,
    ShipyardError,
)

CHUNK_SIZE = 1024 * 1024
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux; the constant is missing before 3.10
STDERR_LIMIT = 64 * 1024
COUNT_BATCH = 200


def default_threads():
    """zstd worker threads when none are asked for: every CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class HashingSink:
    """The file-like end of the compressor: SHA-256 and size of what is stored, then the store.

    zstandard calls ``write`` from C with each compressed chunk; nothing is copied here
    (hashlib releases the GIL on large buffers, so hashing overlaps the zstd workers).
    """

    def __init__(self, writer):
        self.writer = writer
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data):
        """Hash, count and store one chunk."""
        self.digest.update(data)
        self.size += len(data)
        self.writer.write(data)
        return len(data)


class StderrDrain(threading.Thread):
    """Reads a child's stderr to the end so it never blocks; keeps the first 64 KiB."""

    def __init__(self, stream):
        super().__init__(name="pg_dump-stderr", daemon=True)
        self.stream = stream
        self.lines = []
        self._kept = 0

    def run(self):
        """Read lines until pg_dump closes its stderr."""
        for raw in iter(self.stream.readline, b""):
            if self._kept < STDERR_LIMIT:
                line = raw.decode("utf-8", "replace").rstrip()
                self._kept += len(line)
                if line:
                    self.lines.append(line)
        self.stream.close()

    @property
    def errors(self):
        """Lines that report an error (pg_dump prefixes them with ``pg_dump: error:``)."""
        return [line for line in self.lines if "error:" in line or line.startswith(("FATAL", "ERROR"))]

    @property
    def warnings(self):
        """Lines that report a warning (the backup still succeeds)."""
        return [line for line in self.lines if "warning:" in line]


class RowCounter(threading.Thread):
    """Counts the rows of every table inside the exported snapshot while pg_dump runs."""

    def __init__(self, conn):
        super().__init__(name="row-counts", daemon=True)
        self.conn = conn
        self.counts = {}
        self.error = None

    def run(self):
        """Count every table; keep the first error for the main thread to report."""
        from psycopg import sql

        try:
            tables = self.conn.execute(TABLES_SQL).fetchall()
            # Many tables per statement: a database of thousands of small tables would otherwise
            # spend its time in round trips.
            for start in range(0, len(tables), COUNT_BATCH):
                batch = tables[start:start + COUNT_BATCH]
                query = sql.SQL(" UNION ALL ").join(
                    sql.SQL("SELECT {}::int, count(*) FROM ONLY {}.{}").format(
                        sql.Literal(index), sql.Identifier(schema), sql.Identifier(table))
                    for index, (schema, table) in enumerate(batch))
                for index, count in self.conn.execute(query).fetchall():
                    schema, table = batch[index]
                    self.counts["%s.%s" % (schema, table)] = count
        except Exception as exc:  # reported by the main thread, which owns the failure path
            self.error = exc


def open_snapshot(params, conn=None):
    """Open the transaction whose snapshot the backup dumps; return ``(conn, snapshot_id)``.

    REPEATABLE READ so the snapshot is fixed at the first query, READ ONLY because a backup
    must never write.  ``conn``, when given, is a fresh non-autocommit connection on which no
    query ran yet.  The caller keeps the connection open until pg_dump is done.
    """
    from psycopg import IsolationLevel

    conn = conn or params.connect(autocommit=False)
    try:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = conn.execute("SELECT pg_catalog.pg_export_snapshot()").fetchone()[0]
    except Exception as exc:
        conn.close()
        raise PostgresError("cannot export a snapshot of database %s: %s; the role needs to connect "
                            "and read every table" % (params.dbname, postgres._first_line(exc))) from None
    return conn, snapshot


def pg_dump_argv(pg_dump, snapshot):
    """pg_dump's command line: custom format, uncompressed, our snapshot, never a prompt.

    The connection (database, user, password) travels in the environment, never here.
    """
    return [pg_dump, "--format=custom", "-Z0", "--snapshot=" + snapshot, "--no-password"]


def _widen_pipe(fileobj):
    # A 1 MiB pipe lets pg_dump run ahead while we compress, with fewer context switches.
    try:
        fcntl.fcntl(fileobj.fileno(), F_SETPIPE_SZ, CHUNK_SIZE)
    except OSError:
        pass


def _stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def dump_to_store(params, store, pg_dump, pg_dump_version, server_version, database,
                  compression_level=1, threads=0, backup_id=None, conn=None, system_identifier=None):
    """Make one backup of ``database`` into ``store``; return its manifest (already published).

    ``conn`` (optional) is a fresh non-autocommit connection to use for the snapshot; it is
    closed at the end either way.  Raises BackupError (or the StorageError of the store) when
    anything fails; in that case the data object is aborted and no manifest exists.
    """
    try:
        require_zstandard()
    except BaseException:
        if conn is not None:
            conn.close()
        raise
    started = time.monotonic()
    created_at = manifests.utc_now()
    backup_id = backup_id or manifests.new_backup_id(database, created_at)
    conn, snapshot = open_snapshot(params, conn)
    writer = None
    proc = None
    counter = None
    try:
        writer = store.open_writer(manifests.data_key(backup_id))
        proc = subprocess.Popen(
            pg_dump_argv(pg_dump, snapshot), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=params.child_env(), close_fds=True,
        )
        _widen_pipe(proc.stdout)
        drain = StderrDrain(proc.stderr)
        drain.start()
        counter = RowCounter(conn)
        counter.start()
        compressor = zstandard.ZstdCompressor(level=compression_level, threads=threads or default_threads(),
                                              write_checksum=True)
        sink = HashingSink(writer)
        read, _written = compressor.copy_stream(proc.stdout, sink, read_size=CHUNK_SIZE,
                                                write_size=CHUNK_SIZE)
        returncode = proc.wait()
        drain.join()
        # Judge pg_dump before waiting for the counts: a failed dump cancels the counting.
        _check_pg_dump(returncode, drain, database, pg_dump)
        counter.join()
        if counter.error is not None:
            raise BackupError("counting the rows of database %s in the backup's snapshot failed: %s; "
                              "the role must be able to read every table"
                              % (database, postgres._first_line(counter.error)))
        writer.commit()
    except BaseException:
        if proc is not None:
            _stop(proc)
        if counter is not None and counter.is_alive():
            _cancel_counting(conn, counter)
        if writer is not None:
            writer.abort()
        raise
    finally:
        conn.close()
    duration = time.monotonic() - started
    doc = manifests.build_manifest(
        backup_id, database, created_at, server_version, pg_dump_version, sink.size,
        sink.digest.hexdigest(), read, counter.counts, duration, system_identifier=system_identifier,
    )
    try:
        manifests.publish_manifest(store, doc)
    except BaseException:
        # The data alone is not a backup; do not leave it behind looking like an interrupted one.
        try:
            store.delete(manifests.data_key(backup_id))
        except ShipyardError:
            pass
        raise
    doc["warnings"] = drain.warnings
    return doc


def _cancel_counting(conn, counter):
    # The counting query may run for minutes on a big table; stop it before closing.
    # The connection may already be gone; closing it afterwards suffices then.
    with contextlib.suppress(Exception):
        conn.cancel_safe(timeout=10)
    counter.join(timeout=10)


def _check_pg_dump(returncode, drain, database, pg_dump):
    # Error lines with the detail/hint lines that follow them (the server's own reason).
    detail = "; ".join([line for line in drain.lines if line not in drain.warnings][:10])
    if returncode < 0:
        raise BackupError("pg_dump (%s) of database %s was killed by signal %d%s; nothing was published, "
                          "run the backup again" % (pg_dump, database, -returncode,
                                                    " (" + detail + ")" if detail else ""))
    if returncode != 0:
        raise BackupError("pg_dump (%s) of database %s failed with exit code %d: %s; nothing was published"
                          % (pg_dump, database, returncode, detail or "no message"))
    if drain.errors:
        raise BackupError("pg_dump (%s) of database %s reported an error: %s; nothing was published"
                          % (pg_dump, database, detail))
