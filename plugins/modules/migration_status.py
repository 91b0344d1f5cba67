#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: migration_status
short_description: Check a database's migration state against the release's migration files, for any common tool
version_added: 1.0.0
description:
  - Reads the history table of Flyway (C(flyway_schema_history)), Liquibase (C(databasechangelog)),
    sqitch (C(sqitch.changes) and C(sqitch.events)), Alembic (C(alembic_version)), golang-migrate
    (C(schema_migrations) with C(dirty)), Prisma (C(_prisma_migrations)), Rails
    (C(schema_migrations)) or this collection's own ledger (M(shipyard.deploy.migration_apply)).
  - Given the release's migration files (O(path)), reports each migration as C(applied), C(pending),
    C(out_of_order), C(failed), C(missing) (applied but its file is gone), C(ahead) (applied by a
    newer release - the database is ahead of this one, for example after the application was
    rolled back) or C(drift) (the file's checksum, recomputed the tool's own way, differs from the
    recorded one).
  - C(ahead) is a recorded version above every file's (our ledger, Flyway, golang-migrate, Rails),
    or an Alembic head revision the release does not know; the release's Alembic revisions then
    count as applied and RV(current_version) is the database's head. A head whose file was deleted
    from the chain looks the same to Alembic's table.
  - "Checksums verified: Flyway (CRC32 over the file's lines, BOM and line breaks removed, as the
    signed integer Flyway stores), sqitch (SHA-1 of C(deploy/<change>.sql) against C(script_hash),
    and the change id derived from the C(sqitch.plan) entry against C(change_id)),
    Prisma (SHA-256 of C(migration.sql)), Liquibase formatted SQL (the MD5SUM of each changeset,
    recomputed with Liquibase's checksum version 9; a stored checksum of another version is not
    compared) and our ledger (SHA-256 of the file); Alembic, golang-migrate and Rails store no
    checksum."
  - Repeatable migrations - Flyway C(R__<description>.sql) (reported as C(R__<description>)) and
    Liquibase C(runOnChange)/C(runAlways) changesets - are C(applied) while they match the
    checksum last recorded and C(pending) once changed (their tool runs them again).
  - "Failures: Flyway C(success = false), golang-migrate C(dirty), a Prisma row with neither
    C(finished_at) nor C(rolled_back_at), a sqitch change whose last event is C(fail), a Liquibase
    C(EXECTYPE) of C(FAILED), a failed entry of our ledger."
  - O(fail_on) turns the check into a gate. The module never changes anything.
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - ansible.builtin.action_common_attributes
  - shipyard.deploy.postgres
attributes:
  check_mode:
    support: full
    details: The module only reads, in a read-only session; check mode does the same.
  diff_mode:
    support: none
    details: The module changes nothing, so there is no diff.
  platform:
    platforms: posix
options:
  tool:
    description:
      - The migration tool. C(auto) detects the one whose history table exists and fails when
        none or several are found.
    type: str
    choices: [auto, shipyard, flyway, liquibase, sqitch, alembic, golang_migrate, prisma, rails]
    default: auto
  path:
    description:
      - The release's migration files. Flyway and our ledger, C(V<version>__<description>.sql);
        golang-migrate, C(<version>_<title>.up.sql); Rails, C(db/migrate) with C(<timestamp>_<name>.rb);
        Prisma, C(prisma/migrations) with C(<name>/migration.sql); sqitch, the project directory
        with C(sqitch.plan) and C(deploy/); Alembic, the script directory (C(versions/*.py), read
        without being run); Liquibase, formatted SQL changelogs (C(--liquibase formatted sql)).
      - Without it only the history is reported (no pending, missing or drift).
    type: path
  history_schema:
    description:
      - Schema of the history table, when not the tool's default (C(sqitch) for sqitch, C(public)
        for our ledger, the search path otherwise).
    type: str
  history_table:
    description:
      - Name of the history table, when not the tool's default.
    type: str
  sqitch_project:
    description:
      - sqitch project whose changes to read; defaults to the C(%project) of C(sqitch.plan).
    type: str
  fail_on:
    description:
      - Fail the task when any migration is in one of these states (C(dirty) is golang-migrate's flag).
    type: list
    elements: str
    choices: [pending, out_of_order, failed, drift, missing, ahead, dirty]
    default: []
"""

EXAMPLES = r"""
- name: Before switching traffic, the database must be exactly at this release's migrations
  shipyard.deploy.migration_status:
    conninfo: "{{ vault_shop_uri }}"
    path: "{{ release_dir }}/db/migration"
    fail_on: [pending, failed, drift, missing, dirty]

- name: Which tool, and where is it?
  shipyard.deploy.migration_status:
    host: db.internal
    user: readonly
    password: "{{ vault_ro_password }}"
    database: shop
  register: migrations
"""

RETURN = r"""
tool:
  description: The tool checked (detected with O(tool=auto)).
  returned: always
  type: str
  sample: flyway
history_table:
  description: The history table read.
  returned: always
  type: str
history_table_exists:
  description: False when the table does not exist (then everything in O(path) is pending).
  returned: always
  type: bool
migrations:
  description: One entry per migration, in file order, then history-only ones.
  returned: always
  type: list
  elements: dict
  sample: [{"version": "2", "description": "add orders", "script": "V2__add_orders.sql",
            "state": "drift", "applied_at": "2026-01-02T10:00:00+00:00",
            "checksum_recorded": 1437718339, "checksum_file": -20437331}]
summary:
  description: Versions per state (applied, pending, out_of_order, failed, drift, missing, ahead).
  returned: always
  type: dict
current_version:
  description: The last applied migration, in file order (the database's own version when it is ahead).
  returned: always
  type: str
database_ahead:
  description: True when the database has migrations of a newer release (state C(ahead)).
  returned: always
  type: bool
dirty:
  description: golang-migrate's dirty flag.
  returned: always
  type: bool
checksum_verified:
  description: Which checksum was recomputed, or null when the tool stores none we verify.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.status import (
    FAIL_ON,
    migration_status,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import postgres_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import Identifier

TOOL_CHOICES = ["auto", "shipyard", "flyway", "liquibase", "sqitch", "alembic", "golang_migrate", "prisma", "rails"]


# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "history_schema": Identifier(),
    "history_table": Identifier(),
}


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update(
        tool=dict(type="str", default="auto", choices=TOOL_CHOICES),
        path=dict(type="path"),
        history_schema=dict(type="str"),
        history_table=dict(type="str"),
        sqitch_project=dict(type="str"),
        fail_on=dict(type="list", elements="str", choices=FAIL_ON, default=[]),
    )
    argument_spec.update(deadline_argument_spec())
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), migration_status, rules=RULES)


if __name__ == "__main__":
    main()
