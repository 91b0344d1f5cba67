# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The services behind ``pg_backup`` and ``pg_backup_info`` (no Ansible imports here).

``pg_backup`` checks everything it can before dumping (server version against pg_dump's,
the storage location), makes the backup, then applies retention.  In check mode it runs the
same checks, writes nothing, and predicts what retention would delete.
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils import postgres, storage
from ansible_collections.shipyard.deploy.plugins.module_utils.backup import manifest as manifests
from ansible_collections.shipyard.deploy.plugins.module_utils.backup import retention, stream
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.interrupt import terminate_cleanly
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

NEW_BACKUP = "(new backup)"


def _complete_ids(entries):
    return [e["id"] for e in entries if e["complete"]]


def pg_backup(params, check_mode, diff_mode):
    """Back up one database to the location; apply retention; see the module's RETURN."""
    retention.check_keep_last(params.get("keep_last"))
    max_age = retention.parse_max_age(params.get("max_age"))
    level = params.get("compression_level")
    if level is not None and not 1 <= level <= 19:
        raise ConfigurationError("compression_level must be between 1 and 19, not %d (3 is a good balance)"
                                 % level)
    threads = params.get("compression_threads") or 0
    if threads < 0:
        raise ConfigurationError("compression_threads must be 0 (one per CPU) or more, not %d" % threads)
    store = storage.store_from_params(params)
    conn_params = postgres.ConnectionParams.from_options(params)
    database = conn_params.dbname
    if not database:
        raise ConfigurationError("no database to back up; set the database option (or name it in conninfo)")

    # One connection serves the version check and then the backup's snapshot (no query runs on
    # it before the snapshot is exported).
    conn = conn_params.connect(autocommit=False)
    try:
        server_major, server_text = postgres.server_version(conn)
        pg_dump, pg_dump_version = postgres.pick_tool("pg_dump", server_major, server_text,
                                                      params.get("pg_dump_path"))
        storage_check = store.probe()
        before = manifests.list_backups(store, database=database)
    except BaseException:
        conn.close()
        raise
    result = {
        "changed": True,
        "location": store.location,
        "database": database,
        "server_version": server_text,
        "pg_dump": pg_dump,
        "pg_dump_version": pg_dump_version,
        "storage_check": storage_check,
    }

    if check_mode:
        conn.close()
        planned = {"id": NEW_BACKUP, "database": database, "complete": True, "age_seconds": 0.0,
                   "created_at": manifests.format_time(manifests.utc_now())}
        doomed = retention.plan_retention([*before, planned], params.get("keep_last"), max_age)
        deleted = [b["id"] for b in doomed]
        result.update(backup_id=None, deleted=deleted,
                      msg="would back up database %s (server %s) with %s %s to %s%s" % (
                          database, server_text, pg_dump, pg_dump_version, store.location,
                          ", then delete %d old backup(s)" % len(deleted) if deleted else ""))
        after = [*_complete_ids(before), NEW_BACKUP]
    else:
        with terminate_cleanly("pg_backup", "partial backup removed"):
            doc = stream.dump_to_store(
                conn_params, store, pg_dump, pg_dump_version, server_text, database,
                compression_level=level or 1, threads=threads, conn=conn,
            )
        current = manifests.list_backups(store, database=database)
        doomed = retention.plan_retention(current, params.get("keep_last"), max_age)
        deleted = []
        for backup in doomed:
            retention.delete_backup(store, backup["id"])
            deleted.append(backup["id"])
        seconds = doc["duration_seconds"] or 0.001
        result.update(
            backup_id=doc["id"],
            created_at=doc["created_at"],
            data_url=store.url(manifests.data_key(doc["id"])),
            size=doc["size"],
            sha256=doc["sha256"],
            uncompressed_size=doc["uncompressed_size"],
            compression_ratio=round(doc["uncompressed_size"] / doc["size"], 2) if doc["size"] else None,
            duration_seconds=doc["duration_seconds"],
            throughput_mib_per_second=round(doc["uncompressed_size"] / seconds / storage.MIB, 1),
            row_counts=doc["row_counts"],
            deleted=deleted,
            pg_dump_warnings=doc["warnings"],
            msg="backed up database %s to %s as %s%s" % (
                database, store.location, doc["id"],
                ", deleted %d old backup(s)" % len(deleted) if deleted else ""),
        )
        after = _complete_ids(current)
    if diff_mode:
        result["diff"] = {
            "before": {"backups": _complete_ids(before)},
            "after": {"backups": [i for i in after if i not in result["deleted"]]},
            "before_header": store.location,
            "after_header": store.location,
        }
    return result


def pg_backup_info(params, check_mode, diff_mode):
    """List the backups of a location, newest first, and the newest complete one."""
    store = storage.store_from_params(params)
    database = params.get("database")
    entries = manifests.list_backups(store, database=database)
    complete = [e for e in entries if e["complete"]]
    latest = complete[-1] if complete else None
    return {
        "changed": False,
        "location": store.location,
        "backups": list(reversed(entries)),
        "count": len(entries),
        "complete_count": len(complete),
        "latest": latest,
        "latest_id": latest["id"] if latest else None,
        "latest_age_seconds": latest["age_seconds"] if latest else None,
    }
