# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention of backups: which complete backups ``keep_last`` / ``max_age`` let go, and deleting them.

Only complete (manifested) backups count and only they are ever deleted; the newest complete
backup is never deleted, whatever the limits say.  A backup goes when it exceeds either limit:
it is not among the ``keep_last`` newest, or it is older than ``max_age``.

Never deleted either: the backup this run made, and any backup that another run finished while
this one ran (``protect_since``) - two concurrent runs with ``keep_last: 1`` would otherwise each
delete the backup the other just reported. The next run applies the limits to them.

Partial leftovers (a backup directory without manifest, a hidden temporary file, an open S3
multipart upload: what a ``kill -9`` or a lost host leaves) older than ``cleanup_partial_after``
are removed too; younger ones may belong to a backup still running.
"""

from __future__ import annotations

import re

from ansible_collections.shipyard.deploy.plugins.module_utils.backup import manifest as manifests
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_max_age(value, option="max_age"):
    """Seconds of a duration such as ``3600``, ``90m``, ``36h``, ``14d`` or ``2w``; None stays None."""
    if value is None or value == "":
        return None
    match = AGE_RE.match(str(value).lower())
    if not match:
        raise ConfigurationError(
            "%s %r is not a duration; write a number of seconds or a number followed by s, m, h, "
            "d or w (e.g. 14d)" % (option, value)
        )
    seconds = float(match.group(1)) * UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise ConfigurationError("%s must be longer than 0 (%s); omit it to keep backups of any age" % (
            option, "it would delete every backup but the newest" if option == "max_age"
            else "a backup still being written would be removed"))
    return seconds


def check_keep_last(keep_last):
    """Refuse a ``keep_last`` below 1."""
    if keep_last is not None and keep_last < 1:
        raise ConfigurationError(
            "keep_last must be at least 1, not %d (the newest complete backup is always kept); omit "
            "keep_last to keep every backup" % keep_last
        )


def plan_retention(backups, keep_last=None, max_age_seconds=None, protect=(), protect_since=None):
    """The entries of ``backups`` (from ``list_backups``, one database) that retention deletes.

    Returned oldest first.  Incomplete entries are neither counted nor deleted; ids in
    ``protect`` and backups finished at or after ``protect_since`` (a datetime) are counted but
    never deleted.
    """
    check_keep_last(keep_last)
    if keep_last is None and max_age_seconds is None:
        return []
    complete = [b for b in backups if b["complete"]]
    newest_first = list(reversed(complete))
    doomed = []
    for index, backup in enumerate(newest_first):
        if index == 0:
            continue  # the newest complete backup is never deleted
        too_many = keep_last is not None and index >= keep_last
        too_old = (max_age_seconds is not None and backup["age_seconds"] is not None
                   and backup["age_seconds"] > max_age_seconds)
        if (too_many or too_old) and not _protected(backup, protect, protect_since):
            doomed.append(backup)
    return list(reversed(doomed))


def _protected(backup, protect, since):
    if backup["id"] in protect:
        return True
    if since is None or not backup.get("finished_at"):
        return False
    return manifests.parse_time(backup["finished_at"]) >= since


def plan_partial_cleanup(backups, leftovers, older_than_seconds):
    """Partial backups (no manifest) and leftovers (hidden files, open uploads) older than the limit.

    ``leftovers`` come from ``store.list_leftovers()``; returns ``(backup entries, leftovers)``.
    None disables the cleanup.
    """
    if older_than_seconds is None:
        return [], []
    partial = [b for b in backups if b["state"] == "partial" and b["age_seconds"] is not None
               and b["age_seconds"] > older_than_seconds]
    old = [item for item in leftovers if item["age_seconds"] > older_than_seconds]
    return partial, old


def delete_backup(store, backup_id):
    """Delete one backup: its manifest first (it stops being a backup at once), then the rest."""
    store.delete(manifests.manifest_key(backup_id))
    for key, _size in store.list(backup_id + "/"):
        store.delete(key)
