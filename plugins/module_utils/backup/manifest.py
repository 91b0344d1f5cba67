# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The manifest of a backup, and how backups are laid out, listed and found in a store.

Layout: ``<location>/<backup_id>/data.dump.zst`` then ``<location>/<backup_id>/manifest.json``,
written last: a backup exists only once its manifest exists.  The backup id is
``<database>-<YYYYmmddTHHMMSSZ>-<6 hex>``, so ids sort by database, then time.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets

from ansible_collections.shipyard.deploy.plugins.module_utils import safe_json
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, IntegrityError
from ansible_collections.shipyard.deploy.plugins.module_utils.storage import StorageNotFound

FORMAT_VERSION = 1
DATA_KEY = "data.dump.zst"
MANIFEST_KEY = "manifest.json"
ID_RE = re.compile(r"^(?P<database>.+)-(?P<stamp>\d{8}T\d{6}Z)-(?P<suffix>[0-9a-f]{6})$")

# field -> accepted Python types (bool is excluded from the integers explicitly below).
MANIFEST_FIELDS = {
    "format_version": int,
    "id": str,
    "database": str,
    "created_at": str,
    "server_version": str,
    "pg_dump_version": str,
    "format": str,
    "compression": str,
    "data_key": str,
    "size": int,
    "sha256": str,
    "uncompressed_size": int,
    "row_counts": dict,
    "duration_seconds": (int, float),
}
# Optional fields (manifests written before they existed lack them): the cluster's
# pg_control_system().system_identifier, as text (null when the role may not read it).
OPTIONAL_FIELDS = {"system_identifier": (str, type(None))}


def utc_now():
    """The current time, timezone-aware UTC."""
    return datetime.datetime.now(datetime.timezone.utc)


def format_time(moment):
    """ISO-8601 UTC with a ``Z``, to the microsecond: ``2026-11-22T03:45:43.123456Z``."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text):
    """Parse a ``created_at`` value (ISO-8601, ``Z`` or offset) into an aware datetime."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment


def id_safe_name(database):
    """The database name as it appears in a backup id: characters unsafe in keys become ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", database) or "_"


def new_backup_id(database, moment=None):
    """A fresh backup id ``<database>-<YYYYmmddTHHMMSSZ>-<6 hex>`` for a backup made at ``moment``."""
    moment = moment or utc_now()
    return "%s-%s-%s" % (id_safe_name(database),
                         moment.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
                         secrets.token_hex(3))


def data_key(backup_id):
    """Store key of a backup's compressed dump."""
    return "%s/%s" % (backup_id, DATA_KEY)


def manifest_key(backup_id):
    """Store key of a backup's manifest."""
    return "%s/%s" % (backup_id, MANIFEST_KEY)


def validate_manifest(doc, backup_id=None):
    """Check the fields and types of a manifest dict; raise IntegrityError naming the problem."""
    where = "manifest of backup %s" % backup_id if backup_id else "manifest"
    if not isinstance(doc, dict):
        raise IntegrityError("%s is not a JSON object; the backup cannot be trusted, use another one" % where)
    missing = [name for name in MANIFEST_FIELDS if name not in doc]
    if missing:
        raise IntegrityError("%s lacks the field(s) %s; the backup cannot be trusted, use another one"
                             % (where, ", ".join(missing)))
    for name, kind in MANIFEST_FIELDS.items():
        value = doc[name]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise IntegrityError("%s: field %s has the wrong type (%s); the backup cannot be trusted"
                                 % (where, name, type(value).__name__))
    if doc["format_version"] != FORMAT_VERSION:
        raise IntegrityError("%s has format_version %r; this collection reads version %d, upgrade "
                             "shipyard.deploy" % (where, doc["format_version"], FORMAT_VERSION))
    if backup_id is not None and doc["id"] != backup_id:
        raise IntegrityError("%s names another backup (%s); it was copied or tampered with"
                             % (where, doc["id"]))
    if not re.match(r"^[0-9a-f]{64}$", doc["sha256"]):
        raise IntegrityError("%s: sha256 is not 64 lowercase hex digits" % where)
    if doc["size"] < 0 or doc["uncompressed_size"] < 0:
        raise IntegrityError("%s: size is negative" % where)
    if doc["format"] != "custom" or doc["compression"] != "zstd":
        raise IntegrityError("%s: format %r / compression %r are not custom / zstd"
                             % (where, doc["format"], doc["compression"]))
    try:
        parse_time(doc["created_at"])
    except ValueError:
        raise IntegrityError("%s: created_at %r is not an ISO-8601 time" % (where, doc["created_at"])) from None
    for table, count in doc["row_counts"].items():
        if not isinstance(table, str) or isinstance(count, bool) or not isinstance(count, int):
            raise IntegrityError("%s: row_counts must map table names to integers (%r: %r)"
                                 % (where, table, count))
    if "/" in doc["data_key"] or doc["data_key"] in ("", ".", ".."):
        raise IntegrityError("%s: data_key %r is not a file name" % (where, doc["data_key"]))
    for name, kind in OPTIONAL_FIELDS.items():
        if name in doc and not isinstance(doc[name], kind):
            raise IntegrityError("%s: field %s has the wrong type (%s); the backup cannot be trusted"
                                 % (where, name, type(doc[name]).__name__))
    if doc.get("system_identifier") is not None and not doc["system_identifier"].isdigit():
        raise IntegrityError("%s: system_identifier %r is not a number" % (where, doc["system_identifier"]))
    return doc


def build_manifest(backup_id, database, created_at, server_version, pg_dump_version, size, sha256,
                   uncompressed_size, row_counts, duration_seconds, system_identifier=None):
    """The manifest dict of a finished backup (validated)."""
    doc = {
        "format_version": FORMAT_VERSION,
        "id": backup_id,
        "database": database,
        "created_at": format_time(created_at),
        "server_version": server_version,
        "pg_dump_version": pg_dump_version,
        "format": "custom",
        "compression": "zstd",
        "data_key": DATA_KEY,
        "size": size,
        "sha256": sha256,
        "uncompressed_size": uncompressed_size,
        "row_counts": dict(sorted(row_counts.items())),
        "duration_seconds": round(duration_seconds, 3),
        "system_identifier": system_identifier,
    }
    return validate_manifest(doc, backup_id)


def publish_manifest(store, manifest):
    """Write the manifest, atomically: from this moment the backup exists."""
    data = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    store.put_small(manifest_key(manifest["id"]), data)


def load_manifest(store, backup_id):
    """Read and validate the manifest of ``backup_id``; IntegrityError when missing or unusable."""
    try:
        raw = store.get_small(manifest_key(backup_id))
    except StorageNotFound:
        raise IntegrityError("manifest missing for backup %s in %s: the backup is incomplete (or "
                             "was never made); use another backup" % (backup_id, store.location)) from None
    try:
        doc = safe_json.loads(raw)
    except ValueError as exc:
        raise IntegrityError("manifest of backup %s in %s is not valid JSON (%s); the backup cannot "
                             "be trusted, use another one" % (backup_id, store.location, exc)) from None
    return validate_manifest(doc, backup_id)


def _age_seconds(created_at, now):
    return max(0.0, round((now - created_at).total_seconds(), 3))


def list_backups(store, database=None, now=None, system_identifier=None):
    """Every backup in ``store``, oldest first, in one of three states.

    Each entry: ``id``, ``database``, ``created_at``, ``age_seconds``, ``size`` (bytes of the data
    object, 0 when absent), ``expected_size`` (the manifest's, None without one),
    ``system_identifier`` (of the cluster it was made from, when known), ``finished_at`` (when its
    manifest says it was done), ``state`` and ``complete`` (``state == "complete"``), and, when not
    complete, ``problem``:

    - ``complete``: a valid manifest and a data object of exactly the manifest's size;
    - ``damaged``: a manifest that cannot be read or validated, or a data object missing or of
      another size (truncated, appended to) - never restorable, never counted as latest;
    - ``partial``: no manifest (interrupted, or still being written).

    ``database`` filters by database name, ``system_identifier`` by cluster (backups that do not
    know their cluster are kept by that filter).
    """
    now = now or utc_now()
    groups = {}
    for key, size in store.list():
        backup_id, _sep, name = key.partition("/")
        if not name or "/" in name:
            continue
        groups.setdefault(backup_id, {})[name] = size
    entries = []
    for backup_id, files in groups.items():
        if MANIFEST_KEY in files:
            try:
                doc = load_manifest(store, backup_id)
            except IntegrityError as exc:
                entries.append(_incomplete(backup_id, files, now, str(exc), "damaged"))
                continue
            entries.append(_entry(doc, files, now))
        elif ID_RE.match(backup_id):
            entries.append(_incomplete(backup_id, files, now, "no manifest (interrupted or in progress)", "partial"))
    if database is not None:
        entries = [e for e in entries if e["database"] in (database, id_safe_name(database))]
    if system_identifier is not None:
        entries = [e for e in entries if e["system_identifier"] in (None, str(system_identifier))]
    entries.sort(key=_sort_key)
    return entries


def _entry(doc, files, now):
    created = parse_time(doc["created_at"])
    size = files.get(doc["data_key"])
    entry = {
        "id": doc["id"], "database": doc["database"], "created_at": doc["created_at"],
        "age_seconds": _age_seconds(created, now), "size": size or 0, "expected_size": doc["size"],
        "system_identifier": doc.get("system_identifier"),
        "finished_at": format_time(created + datetime.timedelta(seconds=doc["duration_seconds"])),
        "state": "complete", "complete": True,
    }
    if size is None:
        entry.update(state="damaged", complete=False, problem="data object %s missing" % doc["data_key"])
    elif size != doc["size"]:
        entry.update(state="damaged", complete=False, problem="data object has %d bytes, the manifest records %d "
                     "(truncated or changed)" % (size, doc["size"]))
    return entry


def _sort_key(entry):
    try:
        moment = parse_time(entry["created_at"])
    except ValueError:
        moment = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
    return moment, entry["id"]


def _incomplete(backup_id, files, now, problem, state):
    match = ID_RE.match(backup_id)
    database, created_at, age = None, None, None
    if match:
        database = match.group("database")
        stamp = datetime.datetime.strptime(match.group("stamp"), "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
        created_at = format_time(stamp)
        age = _age_seconds(stamp, now)
    return {"id": backup_id, "database": database, "created_at": created_at or "", "age_seconds": age,
            "size": files.get(DATA_KEY, 0), "expected_size": None, "system_identifier": None, "finished_at": None,
            "state": state, "complete": False, "problem": problem}


def resolve_backup_id(store, backup_id, database=None, system_identifier=None):
    """The id of the newest complete backup (of ``database`` if given) for ``latest``, else ``backup_id``.

    An explicit id is returned as is (its manifest is checked when it is loaded); ``latest``
    with no complete backup raises ConfigurationError, and so does ``latest`` when complete
    backups of ``database`` come from more than one cluster and ``system_identifier`` does not
    say which (two clusters sharing a location and a database name are not one database).
    """
    if backup_id != "latest":
        if not backup_id or "/" in backup_id or backup_id in (".", ".."):
            raise ConfigurationError("backup id %r is not valid; give an id listed by pg_backup_info or "
                                     "'latest'" % backup_id)
        return backup_id
    complete = [e for e in list_backups(store, database=database, system_identifier=system_identifier)
                if e["complete"]]
    clusters = sorted({e["system_identifier"] for e in complete if e["system_identifier"]})
    if system_identifier is None and len(clusters) > 1:
        raise ConfigurationError(
            "backups of database %s in %s come from %d clusters (system identifiers %s), so 'latest' is ambiguous; "
            "set source_system_identifier to the cluster's (SELECT system_identifier FROM pg_control_system()) "
            "or give a backup_id" % (database, store.location, len(clusters), ", ".join(clusters)))
    if not complete:
        raise ConfigurationError(
            "no complete backup%s in %s, so 'latest' names nothing; make one with pg_backup or check the "
            "location" % (" of database %s" % database if database else "", store.location)
        )
    return complete[-1]["id"]
