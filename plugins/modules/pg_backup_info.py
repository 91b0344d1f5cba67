#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_backup_info
short_description: List the pg_backup backups in a directory or S3 location, and how old the newest is
version_added: 1.0.0
description:
  - Lists the backups made by M(shipyard.deploy.pg_backup) in a local directory or C(s3://bucket/prefix),
    newest first - id, database, creation time, age, size and whether each is complete.
  - "Each backup is in one of three states: C(complete) - a valid manifest and a data object of exactly the
    manifest's size; C(damaged) - a manifest that cannot be read, or a data object missing or of another size
    (truncated); C(partial) - no manifest (an interrupted run, or one still writing). Only complete backups
    count as RV(latest), so a truncated backup never passes a staleness check."
  - Also lists the leftovers interrupted runs keep out of sight (RV(leftovers)) - hidden temporary files
    and S3 multipart uploads never completed nor aborted; M(shipyard.deploy.pg_backup) removes them after
    O(shipyard.deploy.pg_backup#module:cleanup_partial_after).
  - Returns the newest complete backup and its age, so a playbook can fail when backups are stale.
  - Reads only; it never changes anything.
attributes:
  check_mode:
    support: full
    details: Runs the same listing (it only reads).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  location:
    description:
      - The absolute directory or C(s3://bucket/prefix) to list. A directory that does not exist holds
        no backups.
    type: str
    required: true
  database:
    description:
      - Only list the backups of this database.
    type: str
  system_identifier:
    description:
      - Only list the backups made from the cluster with this system identifier
        (C(SELECT system_identifier FROM pg_control_system())); backups that do not record one are kept.
      - Two clusters sharing a location and a database name are told apart by it.
    type: str
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - ansible.builtin.action_common_attributes
  - shipyard.deploy.aws
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
seealso:
  - module: shipyard.deploy.pg_backup
  - module: shipyard.deploy.pg_restore
"""

EXAMPLES = r"""
- name: List the backups of shop
  shipyard.deploy.pg_backup_info:
    location: s3://acme-backups/postgres
    region: eu-west-1
    database: shop
  register: backups

- name: Fail when the newest complete backup is older than a day
  ansible.builtin.assert:
    that:
      - backups.latest is not none
      - backups.latest_age_seconds < 86400
    fail_msg: "newest backup of shop: {{ backups.latest_id | default('none') }}, {{ backups.latest_age_seconds }} s old"
"""

RETURN = r"""
location:
  description: The location listed, normalised.
  returned: always
  type: str
backups:
  description: Every backup, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Backup id.
      type: str
      sample: shop-20261122T031500Z-3fa9c1
    database:
      description: Database backed up (from the manifest; from the id for incomplete backups).
      type: str
    created_at:
      description: When the backup was made, ISO-8601 UTC.
      type: str
      sample: "2026-11-22T03:15:00.123456Z"
    age_seconds:
      description: Seconds since created_at.
      type: float
    size:
      description: Bytes of the stored dump (0 when it is missing).
      type: int
    expected_size:
      description: Bytes the manifest records for the dump (C(null) without a readable manifest).
      type: int
    state:
      description: C(complete), C(damaged) or C(partial), see the description.
      type: str
    complete:
      description: Whether the state is C(complete).
      type: bool
    system_identifier:
      description: System identifier of the cluster the backup was made from (C(null) when unknown).
      type: str
    finished_at:
      description: When the backup was finished (its manifest's creation time plus duration), or C(null).
      type: str
    problem:
      description: Why the backup is not complete (only when it is not).
      type: str
      returned: when not complete
count:
  description: Number of entries in RV(backups).
  returned: always
  type: int
complete_count:
  description: Number of complete backups.
  returned: always
  type: int
complete_ids:
  description: Ids of the complete backups, oldest first.
  returned: always
  type: list
  elements: str
partial_ids:
  description: Ids of the partial backups (no manifest).
  returned: always
  type: list
  elements: str
damaged_ids:
  description: Ids of the damaged backups (unreadable manifest, missing or truncated data).
  returned: always
  type: list
  elements: str
leftovers:
  description: Hidden temporary files and open S3 multipart uploads of interrupted runs.
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: Key (path below the location) of the object being written.
      type: str
    size:
      description: Bytes so far (C(null) for a multipart upload).
      type: int
    age_seconds:
      description: Seconds since the file was last written or the upload started.
      type: float
    kind:
      description: C(partial file) or C(open multipart upload).
      type: str
clusters:
  description: System identifiers of the clusters the complete backups come from.
  returned: always
  type: list
  elements: str
latest:
  description: The newest complete backup (an entry of RV(backups)), or C(null) when there is none.
  returned: always
  type: dict
latest_id:
  description: Id of RV(latest), or C(null).
  returned: always
  type: str
latest_age_seconds:
  description: Age of RV(latest) in seconds, or C(null).
  returned: always
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.backup.backup_service import pg_backup_info
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.storage import storage_argument_spec


def main():
    argument_spec = storage_argument_spec()
    argument_spec.update(database=dict(type="str"), system_identifier=dict(type="str"))
    argument_spec.update(deadline_argument_spec())
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), pg_backup_info)


if __name__ == "__main__":
    main()
