# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restore a backup made by ``pg_backup``, proving it before anyone can see it.

The sequence, and why it keeps the target safe:

1. Resolve the backup (an id or ``latest``), load its manifest and check that it describes the
   backup asked for (its id, its database when ``source_database`` is given, format and
   compression we can read).  A backup without a manifest does not exist.
2. Decide, before touching anything, what will happen to an existing target database: nothing
   may happen to it unless ``swap`` (keep it under another name) or ``force`` (drop it) says so.
3. Create a *scratch* database with a fresh name and restore into it: the stored bytes are
   counted and hashed (SHA-256) as they stream through the zstd decompressor into
   ``pg_restore --exit-on-error``.  With a local copy allowed, the decompressed dump goes to a
   0600 temporary file first, is verified completely, and only then ``pg_restore --jobs N`` reads it.
4. When the stream ended: its size and SHA-256 must equal the manifest's, ``pg_restore`` must
   have succeeded, and every table's row count must equal the manifest's.  Any failure drops the
   scratch database; the target has not been touched.
5. Only then the scratch database takes the target's name.  ``ALTER DATABASE ... RENAME`` is
   transactional (unlike CREATE/DROP DATABASE) but refuses a database with sessions, so: sessions
   of both databases are terminated, then ONE transaction renames target -> previous and
   scratch -> target.  Other sessions see the old state or the new state, never a missing
   target.  A client that reconnects between the termination and the rename makes the rename
   fail (``55006 object in use``); the transaction rolls back whole and is retried.
6. With ``force`` (and no ``swap``) the previous database is dropped after that commit.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time

from ansible_collections.shipyard.deploy.plugins.module_utils import postgres, storage
from ansible_collections.shipyard.deploy.plugins.module_utils.backup import manifest as manifests
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.databases import (
    count_rows,
    database_exists,
    drop_database,
    rename_into_place,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.interrupt import terminate_cleanly
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.pg_restore_process import PgRestoreProcess
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.verified_stream import (
    _check_decoded,
    open_verified,
    require_zstandard,
    stream_decompressed,
    verify_stream,
    zstandard,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    IntegrityError,
    PostgresError,
    RestoreError,
)

try:
    from psycopg import errors as pg_errors
    from psycopg import sql
except ImportError:  # pragma: no cover - reported by postgres.require_psycopg()
    pg_errors = None
    sql = None

NAME_MAX = 63  # NAMEDATALEN - 1: PostgreSQL truncates longer identifiers silently


def scratch_name(target, token=None, label="restore"):
    """A new database name derived from ``target``, e.g. ``app_restore_3fa9c1``.

    Only letters, digits and underscores, at most 63 bytes, so it never needs quoting in a
    libpq dbname (where ``=`` would turn it into a connection string) and is never truncated.
    """
    token = token or secrets.token_hex(3)
    suffix = "_%s_%s" % (label, token)
    base = re.sub(r"[^A-Za-z0-9_]", "_", target) or "db"
    return base[: NAME_MAX - len(suffix)] + suffix


def check_manifest(manifest, backup_id, source_database=None):
    """Refuse a manifest that does not describe the backup asked for.

    ``load_manifest`` already checked fields, types, format and compression; this checks that
    the manifest belongs here: its id is the requested one and (when given) its database is
    ``source_database``.
    """
    if manifest.get("id") != backup_id:
        raise IntegrityError(
            "manifest of backup %s names backup %r: it was copied from another backup or edited; "
            "restore the backup it belongs to, or restore its original manifest"
            % (backup_id, manifest.get("id")),
            backup_id=backup_id,
        )
    if source_database is not None and manifest.get("database") != source_database:
        raise IntegrityError(
            "backup %s is a backup of database %r, not of %r (source_database); pick a backup of %r "
            "or correct source_database" % (backup_id, manifest.get("database"), source_database,
                                            source_database),
            backup_id=backup_id,
        )


def admin_database(params):
    """The database the task connects to for CREATE/ALTER/DROP DATABASE.

    The ``database`` option, unless it names the target itself (common when one connection dict
    serves every task of a play): sessions of the target are terminated and it is renamed, so
    the task connects to ``postgres`` instead.
    """
    database = params.get("database")
    if not database or database == params.get("target"):
        return "postgres"
    return database


def row_count_differences(expected, actual):
    """Tables whose restored row count differs from the manifest: ``{table: {expected, actual}}``.

    ``actual`` maps table -> count; a table absent from ``actual`` was not restored (``None``), a
    table absent from ``expected`` is not in the manifest (``expected`` is ``None``).
    """
    differences = {}
    for table, count in sorted(expected.items()):
        got = actual.get(table)
        if got != count:
            differences[table] = {"expected": count, "actual": got}
    # and the other way: a table the manifest does not know (dropped from it, or a different dump)
    for table in sorted(set(actual) - set(expected)):
        differences[table] = {"expected": None, "actual": actual[table]}
    return differences


def plan_target(target, target_exists, swap, force, previous_name, previous_exists):
    """Decide what happens to the target database, before anything is done.

    Returns ``(action, previous)``: action ``create`` (target does not exist), ``swap`` (the
    current target is kept as ``previous``) or ``replace`` (the current target is dropped).
    Raises ConfigurationError when the options do not allow what would be needed.
    """
    if not target_exists:
        return "create", None
    if swap:
        if previous_exists and not force:
            raise ConfigurationError(
                "database %r, where swap would keep the current %r, already exists; drop or rename "
                "it, choose another previous_name, or set force=true to drop it" % (previous_name, target)
            )
        return "swap", previous_name
    if force:
        return "replace", None
    raise ConfigurationError(
        "target database %r already exists; set swap=true to restore beside it and swap names "
        "(it is kept as %r), or force=true to replace it, or choose a new target" % (target, previous_name)
    )


class Restore:
    """One restore: options in, a result dictionary out (see the module's RETURN)."""

    def __init__(self, params, store):
        self.params = params
        self.store = store
        self.target = params["target"]
        self.conn_params = postgres.ConnectionParams.from_options(params, database=admin_database(params))
        self.result = {"changed": False, "location": store.location, "target": self.target}

    # -- steps ---------------------------------------------------------------------------------
    def resolve(self):
        """Find the backup and load a manifest that belongs to it."""
        params = self.params
        requested = params.get("backup_id")
        if requested is None:
            requested = "latest"
        elif not requested.strip():
            # an empty id must never mean "the newest one"
            raise ConfigurationError("backup_id is empty; give an id listed by pg_backup_info, or latest")
        source = params.get("source_database")
        if requested == "latest" and not source:
            raise ConfigurationError(
                "backup_id=latest needs source_database (the database whose newest backup to restore), "
                "so that a shared location never hands you another database's backup"
            )
        backup_id = manifests.resolve_backup_id(self.store, requested, database=source,
                                                system_identifier=params.get("source_system_identifier"))
        manifest = manifests.load_manifest(self.store, backup_id)
        check_manifest(manifest, backup_id, source)
        cluster = params.get("source_system_identifier")
        if cluster and manifest.get("system_identifier") not in (None, str(cluster)):
            raise IntegrityError(
                "backup %s was made from the cluster with system identifier %s, not %s (source_system_identifier); "
                "pick a backup of that cluster" % (backup_id, manifest.get("system_identifier"), cluster),
                backup_id=backup_id)
        self.backup_id, self.manifest = backup_id, manifest
        self.result.update({
            "backup_id": backup_id,
            "source_database": manifest["database"],
            "created_at": manifest.get("created_at"),
            "size": manifest["size"],
            "sha256": manifest["sha256"],
        })

    def plan(self, conn):
        """Check the target and decide what happens to it, before anything changes."""
        params = self.params
        self.server_major, self.server_text = postgres.server_version(conn)
        previous_name = params.get("previous_name") or scratch_name(
            self.target, token=time.strftime("%Y%m%d%H%M%S", time.gmtime()), label="before")
        if len(self.target.encode()) > NAME_MAX or len(previous_name.encode()) > NAME_MAX:
            raise ConfigurationError(
                "database names are limited to %d bytes: %r / %r; choose shorter names"
                % (NAME_MAX, self.target, previous_name))
        if self.target == previous_name:
            raise ConfigurationError("previous_name must differ from target (%r)" % self.target)
        if self.target == conn.info.dbname:
            raise ConfigurationError(
                "target %r is the database this task connects to; set the option database to another "
                "database of the server (e.g. template1) to restore into it" % self.target)
        role, can_create = conn.execute(
            "SELECT current_user, rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        if not can_create:
            # Found now, so that check mode predicts it and a real run fails before reading the backup.
            raise ConfigurationError(
                "role %s may not create databases, and a restore creates one; grant it CREATEDB or connect "
                "as another role" % role)
        previous_exists = database_exists(conn, previous_name)
        action, previous = plan_target(
            self.target, database_exists(conn, self.target), params.get("swap"), params.get("force"),
            previous_name, previous_exists)
        self.action, self.previous = action, previous
        # swap + force onto an existing previous_name: that old copy goes, once the new one is proven
        self.drop_previous = action == "swap" and previous_exists
        dump_major = _major(self.manifest.get("pg_dump_version"))
        # The archive written by pg_dump N is readable by pg_restore >= N only.
        need = max(self.server_major, dump_major or 0)
        self.tool, self.tool_version = postgres.pick_tool(
            "pg_restore", need, self.server_text if need == self.server_major else "%s (dump made by pg_dump %s)"
            % (self.server_text, self.manifest.get("pg_dump_version")), params.get("pg_restore_path"))
        self.owner = params.get("owner") or self._inherited_owner(conn, action)
        self.result.update({
            "action": action,
            "owner": self.owner or conn.info.user,
            "previous_database": previous if action == "swap" else None,
            "dropped_database": previous if self.drop_previous else None,
            "server_version": self.server_text,
            "pg_restore_version": self.tool_version,
        })

    def _inherited_owner(self, conn, action):
        # The owner of a database is not in a pg_dump archive; a replacement keeps the owner of the
        # database it replaces, when we are allowed to create databases for that role.
        if action == "create":
            return None
        row = conn.execute(
            "SELECT r.rolname, pg_has_role(current_user, r.oid, 'MEMBER') FROM pg_database d "
            "JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = %s", (self.target,)).fetchone()
        return row[0] if row and row[1] else None

    def create_scratch(self, conn, scratch):
        """CREATE DATABASE scratch (from template0, owned by ``owner`` when one applies)."""
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(scratch))
        if self.owner:
            statement = sql.SQL("{} OWNER {}").format(statement, sql.Identifier(self.owner))
        conn.execute(statement)

    def restore_into(self, scratch):
        """Restore the backup into ``scratch``: verified stream or verified local copy."""
        params = self.params
        jobs = params.get("jobs") or 1
        if params.get("allow_local_copy") or params.get("work_dir"):
            return self._restore_local_copy(scratch, jobs)
        return self._restore_streaming(scratch)

    def _restore_streaming(self, scratch):
        raw, reader = open_verified(self.store, self.manifest, self.backup_id)
        process = PgRestoreProcess(self.tool, self.conn_params, scratch, self.params.get("no_owner"))
        accepted = [True]

        def feed(chunk):
            # Once pg_restore has stopped we keep reading to finish the checksum only.
            if accepted[0]:
                accepted[0] = process.write(chunk)

        try:
            # Bad bytes are the first thing to report: pg_restore's complaint would only be a symptom.
            uncompressed = self._decode_verified(raw, reader, feed)
            returncode, stderr = process.finish()
        except BaseException:
            # Bad data, an interruption or a bug: pg_restore must not go on writing to the scratch database.
            process.kill()
            raise
        self._check_pg_restore(returncode, stderr, scratch)
        return {"mode": "stream", "jobs": 1, "uncompressed_size": uncompressed, "verified_sha256": reader.sha256}

    def _decode_verified(self, raw, reader, sink):
        """Decompress the stored object into ``sink``, then prove it: size and SHA-256 of the stored
        bytes first (a decode error is only a symptom of bad bytes), then the decoded size."""
        decode_error = uncompressed = None
        try:
            try:
                uncompressed = stream_decompressed(reader, sink)
            except zstandard.ZstdError as exc:
                decode_error = exc
            reader.drain()
        finally:
            raw.close()
        reader.verdict(self.manifest, self.backup_id)
        _check_decoded(self.manifest, self.backup_id, decode_error, uncompressed)
        return uncompressed

    def _restore_local_copy(self, scratch, jobs):
        work_dir = self.params.get("work_dir") or tempfile.gettempdir()
        if not os.path.isdir(work_dir):
            raise ConfigurationError("work_dir %s does not exist; create it or choose another" % work_dir)
        needed = self.manifest.get("uncompressed_size") or 0
        free = shutil.disk_usage(work_dir).free
        if needed and free < needed:
            raise RestoreError(
                "work_dir %s has %d bytes free but the decompressed dump needs %d; free space, choose "
                "another work_dir, or set allow_local_copy=false to stream" % (work_dir, free, needed))
        # mkstemp creates the file 0600: the dump holds the whole database.
        fd, path = tempfile.mkstemp(prefix="shipyard-restore-", suffix=".dump", dir=work_dir)
        try:
            with os.fdopen(fd, "wb") as handle:
                raw, reader = open_verified(self.store, self.manifest, self.backup_id)
                uncompressed = self._decode_verified(raw, reader, handle.write)
            process = PgRestoreProcess(self.tool, self.conn_params, scratch, self.params.get("no_owner"),
                                       jobs=jobs, path=path)
            try:
                returncode, stderr = process.finish()
            except BaseException:
                process.kill()
                raise
        finally:
            os.unlink(path)
        self._check_pg_restore(returncode, stderr, scratch)
        return {"mode": "local_copy", "jobs": jobs, "uncompressed_size": uncompressed,
                "verified_sha256": reader.sha256}

    def _check_pg_restore(self, returncode, stderr, scratch):
        if returncode != 0:
            raise RestoreError(
                "pg_restore of backup %s into the scratch database %s failed (exit %d): %s; the target %r "
                "was not touched; %s"
                % (self.backup_id, scratch, returncode, stderr or "no message", self.target, self._failure_hint()),
                backup_id=self.backup_id,
            )

    def _failure_hint(self):
        """What to do about a failed pg_restore: a newer source server first, then missing roles."""
        source = _major(self.manifest.get("server_version"))
        if source is not None and source > self.server_major:
            return ("the backup comes from PostgreSQL %s and this server is %s: a dump of a newer server "
                    "often uses what an older one lacks; restore into a PostgreSQL %d (or newer) server"
                    % (self.manifest.get("server_version"), self.server_text, source))
        return "fix the cause (for missing roles set no_owner=true) and retry"

    def compare_rows(self, scratch):
        """Compare the scratch database's row counts with the manifest; raise on any difference."""
        expected = self.manifest.get("row_counts") or {}
        with self.conn_params.with_database(scratch).connect() as conn:
            actual = count_rows(conn, list(expected))
        differences = row_count_differences(expected, actual)
        self.result["row_counts"] = actual
        self.result["row_count_differences"] = differences
        if differences:
            shown = ", ".join("%s: %s, restored %s" % (
                t, "not in the manifest" if d["expected"] is None else "expected %s" % d["expected"],
                "nothing (table missing)" if d["actual"] is None else d["actual"])
                for t, d in list(differences.items())[:10])
            raise RestoreError(
                "restored row counts of backup %s differ from its manifest (%s); the target %r was not "
                "touched; the backup is not trustworthy, restore another one" % (self.backup_id, shown, self.target),
                backup_id=self.backup_id, row_count_differences=differences,
            )

    # -- the whole thing -------------------------------------------------------------------------
    def run(self, check_mode):
        """Verify, restore into a scratch database, check, and put it in place (unless check mode)."""
        started = time.monotonic()
        self.resolve()
        with self.conn_params.connect() as conn:
            self.plan(conn)
            if check_mode:
                verified = verify_stream(self.store, self.manifest, self.backup_id)
                self.result.update({
                    "changed": True, "verified": True, "uncompressed_size": verified["uncompressed_size"],
                    "row_counts": self.manifest.get("row_counts") or {}, "row_count_differences": {},
                    "duration_seconds": round(time.monotonic() - started, 3),
                })
                return self.result
            scratch = scratch_name(self.target)
            self.create_scratch(conn, scratch)
            self.result["changed"] = True  # a database was created, even if it is dropped again
            placed = False
            try:
                details = self.restore_into(scratch)
                self.compare_rows(scratch)
                replaced = None
                if self.action == "replace":
                    replaced = scratch_name(self.target, label="replaced")
                if self.drop_previous:
                    drop_database(conn, self.previous, self.server_major)
                attempts = rename_into_place(conn, self.target, scratch, self.previous or replaced)
                placed = True
            finally:
                if not placed:
                    _drop_quietly(conn, scratch, self.server_major)
            warnings = []
            if replaced:
                try:
                    drop_database(conn, replaced, self.server_major)
                except Exception as exc:  # the restore itself succeeded; say what is left over
                    warnings.append("the replaced database was kept as %r because dropping it failed: %s"
                                    % (replaced, _first_line(exc)))
            self.result.update(details)
            self.result.update({
                "verified": True,
                "rename_attempts": attempts,
                "dropped_database": (replaced if replaced and not warnings
                                     else self.previous if self.drop_previous else None),
                "duration_seconds": round(time.monotonic() - started, 3),
            })
            if warnings:
                self.result["warnings"] = warnings
            return self.result


def _drop_quietly(conn, name, server_major):
    try:
        drop_database(conn, name, server_major)
    except Exception:  # noqa: S110 - the original error is the one to report
        pass


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _major(version_text):
    match = re.match(r"\s*(\d+)", str(version_text or ""))
    return int(match.group(1)) if match else None


def restore_service(params, check_mode, diff_mode):
    """Module service of ``pg_restore``: see the module documentation for options and result."""
    postgres.require_psycopg()
    require_zstandard()
    jobs = 1 if params.get("jobs") is None else params["jobs"]
    if jobs < 1:
        raise ConfigurationError("jobs must be 1 or more (got %d)" % jobs)
    if jobs > 1 and not (params.get("allow_local_copy") or params.get("work_dir")):
        raise ConfigurationError(
            "jobs=%d needs a local copy of the dump (pg_restore cannot read a pipe in parallel); set "
            "allow_local_copy=true (and optionally work_dir) or jobs=1" % jobs)
    store = storage.store_from_params(params)
    try:
        # A task killed by Ansible (timeout, cancel) still drops its scratch database.
        with terminate_cleanly("pg_restore", "scratch database dropped, target untouched"):
            return Restore(params, store).run(check_mode)
    except PostgresError:
        raise
    except Exception as exc:
        if pg_errors is not None and isinstance(exc, pg_errors.Error):
            raise PostgresError(
                "PostgreSQL refused a restore step: %s; the target %r was not changed; check the privileges "
                "of the connecting role (it needs CREATEDB, and ownership of the target to rename it)"
                % (_first_line(exc), params["target"])) from None
        raise
