# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The services behind ``pg_backup`` and ``pg_backup_info`` (no Ansible imports here).

``pg_backup`` checks everything it can before dumping (server version against pg_dump's,
the storage location), makes the backup, then applies retention (complete backups beyond
``keep_last``/``max_age`` of the same database and cluster; partial leftovers older than
``cleanup_partial_after``).  In check mode it runs the same checks, writes nothing, and predicts
what retention would delete.
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils import postgres, storage
from ansible_collections.shipyard.deploy.plugins.module_utils.backup import manifest as manifests
from ansible_collections.shipyard.deploy.plugins.module_utils.backup import retention, stream
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.databases import cluster_identifier
from ansible_collections.shipyard.deploy.plugins.module_utils.backup.interrupt import terminate_cleanly
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

NEW_BACKUP = "(new backup)"


DEFAULT_CLEANUP_PARTIAL_AFTER = "1d"


def _complete_ids(entries):
    return [e["id"] for e in entries if e["complete"]]


def _public(leftover):
    return {k: v for k, v in leftover.items() if k != "handle"}


def _own_leftovers(store, database):
    """Leftovers of backups of ``database`` (never another database's, whatever their age)."""
    safe = manifests.id_safe_name(database)
    own = []
    for item in store.list_leftovers():
        match = manifests.ID_RE.match(item["key"].split("/", 1)[0])
        if match and match.group("database") == safe:
            own.append(item)
    return own


def _partial_cleanup(store, database, entries, older_than, check_mode):
    """Remove (or, in check mode, list) partial backups and leftovers older than ``older_than`` seconds."""
    partial, leftovers = retention.plan_partial_cleanup(entries, _own_leftovers(store, database), older_than)
    if not check_mode:
        for backup in partial:
            retention.delete_backup(store, backup["id"])
        for item in leftovers:
            store.remove_leftover(item)
    return [b["id"] for b in partial], [_public(item) for item in leftovers]


def pg_backup(params, check_mode, diff_mode):
    """Back up one database to the location; apply retention; see the module's RETURN."""
    run_started = manifests.utc_now()
    retention.check_keep_last(params.get("keep_last"))
    max_age = retention.parse_max_age(params.get("max_age"))
    cleanup_after = params.get("cleanup_partial_after", DEFAULT_CLEANUP_PARTIAL_AFTER)
    cleanup_after = retention.parse_max_age(cleanup_after, option="cleanup_partial_after")
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
        system_id, system_id_warning = cluster_identifier(conn_params)
        storage_check = store.probe()
        before = manifests.list_backups(store, database=database, system_identifier=system_id)
    except BaseException:
        conn.close()
        raise
    result = {
        "changed": True,
        "location": store.location,
        "database": database,
        "server_version": server_text,
        "system_identifier": system_id,
        "pg_dump": pg_dump,
        "pg_dump_version": pg_dump_version,
        "storage_check": storage_check,
    }
    if system_id_warning:
        result["warnings"] = [system_id_warning]

    if check_mode:
        conn.close()
        planned = {"id": NEW_BACKUP, "database": database, "complete": True, "state": "complete", "age_seconds": 0.0,
                   "created_at": manifests.format_time(manifests.utc_now()), "finished_at": None}
        doomed = retention.plan_retention([*before, planned], params.get("keep_last"), max_age,
                                          protect={NEW_BACKUP}, protect_since=run_started)
        deleted = [b["id"] for b in doomed]
        removed, leftovers = _partial_cleanup(store, database, before, cleanup_after, check_mode=True)
        result.update(backup_id=None, deleted=deleted, removed_partial=removed, removed_leftovers=leftovers,
                      msg="would back up database %s (server %s) with %s %s to %s%s" % (
                          database, server_text, pg_dump, pg_dump_version, store.location,
                          ", then delete %d old backup(s)" % len(deleted) if deleted else ""))
        after = [*_complete_ids(before), NEW_BACKUP]
    else:
        with terminate_cleanly("pg_backup", "partial backup removed"):
            doc = stream.dump_to_store(
                conn_params, store, pg_dump, pg_dump_version, server_text, database,
                compression_level=level or 1, threads=threads, conn=conn, system_identifier=system_id,
            )
        current = manifests.list_backups(store, database=database, system_identifier=system_id)
        # never this run's backup, nor one another run finished meanwhile (it is reporting it now)
        doomed = retention.plan_retention(current, params.get("keep_last"), max_age,
                                          protect={doc["id"]}, protect_since=run_started)
        deleted = []
        for backup in doomed:
            retention.delete_backup(store, backup["id"])
            deleted.append(backup["id"])
        removed, leftovers = _partial_cleanup(store, database, current, cleanup_after, check_mode=False)
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
            removed_partial=removed,
            removed_leftovers=leftovers,
            pg_dump_warnings=doc["warnings"],
            msg="backed up database %s to %s as %s%s" % (
                database, store.location, doc["id"],
                ", deleted %d old backup(s)" % len(deleted) if deleted else ""),
        )
        after = _complete_ids(current)
    if removed or leftovers:
        result["changed"] = True
    if diff_mode:
        result["diff"] = {
            "before": {"backups": _complete_ids(before)},
            "after": {"backups": [i for i in after if i not in result["deleted"]]},
            "before_header": store.location,
            "after_header": store.location,
        }
    return result


def pg_backup_info(params, check_mode, diff_mode):
    """List the backups of a location, newest first, by state; the newest complete one is ``latest``."""
    store = storage.store_from_params(params)
    database = params.get("database")
    system_id = params.get("system_identifier")
    entries = manifests.list_backups(store, database=database, system_identifier=system_id)
    complete = [e for e in entries if e["complete"]]
    latest = complete[-1] if complete else None
    leftovers = store.list_leftovers()
    if database:
        leftovers = _own_leftovers(store, database)
    clusters = sorted({e["system_identifier"] for e in complete if e["system_identifier"]})
    result = {
        "changed": False,
        "location": store.location,
        "backups": list(reversed(entries)),
        "count": len(entries),
        "complete_count": len(complete),
        "complete_ids": [e["id"] for e in complete],
        "partial_ids": [e["id"] for e in entries if e["state"] == "partial"],
        "damaged_ids": [e["id"] for e in entries if e["state"] == "damaged"],
        "leftovers": [_public(item) for item in leftovers],
        "clusters": clusters,
        "latest": latest,
        "latest_id": latest["id"] if latest else None,
        "latest_age_seconds": latest["age_seconds"] if latest else None,
    }
    if len(clusters) > 1 and system_id is None:
        of_database = " of database %s" % database if database else ""
        result["warnings"] = [
            "the complete backups%s come from %d clusters (%s); latest is the newest of all of them - set "
            "system_identifier to pick one cluster's" % (of_database, len(clusters), ", ".join(clusters))]
    return result
