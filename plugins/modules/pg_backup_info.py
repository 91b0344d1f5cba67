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
  - A backup is complete when its manifest is valid and its data object exists. Incomplete entries
    (no manifest, an unreadable manifest, missing data) are listed with the problem, so leftovers of an
    interrupted run are visible.
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
extends_documentation_fragment:
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
    complete:
      description: Whether the backup has a valid manifest and its data.
      type: bool
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
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.storage import storage_argument_spec


def main():
    argument_spec = storage_argument_spec()
    argument_spec.update(database=dict(type="str"))
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), pg_backup_info)


if __name__ == "__main__":
    main()
