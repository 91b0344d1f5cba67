# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retention of backups: which complete backups ``keep_last`` / ``max_age`` let go, and deleting them.

Only complete (manifested) backups count and only they are ever deleted; the newest complete
backup is never deleted, whatever the limits say.  A backup goes when it exceeds either limit:
it is not among the ``keep_last`` newest, or it is older than ``max_age``.
"""

from __future__ import annotations

import re

from ansible_collections.shipyard.deploy.plugins.module_utils.backup import manifest as manifests
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_max_age(value):
    """Seconds of a ``max_age`` such as ``3600``, ``90m``, ``36h``, ``14d`` or ``2w``; None stays None."""
    if value is None or value == "":
        return None
    match = AGE_RE.match(str(value).lower())
    if not match:
        raise ConfigurationError(
            "max_age %r is not a duration; write a number of seconds or a number followed by s, m, h, "
            "d or w (e.g. 14d)" % (value,)
        )
    seconds = float(match.group(1)) * UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise ConfigurationError("max_age must be longer than 0 (it would delete every backup but the "
                                 "newest); omit it to keep backups of any age")
    return seconds


def check_keep_last(keep_last):
    """Refuse a ``keep_last`` below 1."""
    if keep_last is not None and keep_last < 1:
        raise ConfigurationError(
            "keep_last must be at least 1, not %d (the newest complete backup is always kept); omit "
            "keep_last to keep every backup" % keep_last
        )


def plan_retention(backups, keep_last=None, max_age_seconds=None):
    """The entries of ``backups`` (from ``list_backups``, one database) that retention deletes.

    Returned oldest first.  Incomplete entries are neither counted nor deleted.
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
        if too_many or too_old:
            doomed.append(backup)
    return list(reversed(doomed))


def delete_backup(store, backup_id):
    """Delete one backup: its manifest first (it stops being a backup at once), then the rest."""
    store.delete(manifests.manifest_key(backup_id))
    for key, _size in store.list(backup_id + "/"):
        store.delete(key)
