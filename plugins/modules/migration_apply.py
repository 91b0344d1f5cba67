#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: migration_apply
short_description: Apply a directory of plain SQL migrations safely, with a ledger and undo
version_added: 1.0.0
description:
  - Applies C(V<version>__<description>.sql) files in version order (C(V1_1) and C(V1.1) are both
    version 1.1), recording each in a ledger table with its SHA-256, time, duration and outcome.
  - Takes a session advisory lock per ledger first, so two runs started at the same moment apply
    each migration exactly once.
  - Runs each migration in its own transaction with O(lock_timeout) and O(statement_timeout) set
    locally; a file whose first lines contain C(-- shipyard:no-transaction) runs statement by
    statement outside a transaction (needed for C(CREATE INDEX CONCURRENTLY)).
  - A statement that fails with a lock timeout (SQLSTATE 55P03) is retried up to O(lock_retries)
    times with jittered exponential backoff. When every attempt times out, the migration's
    transaction is rolled back and nothing is recorded (neither applied nor failed), so the next
    run simply tries again; the error says to retry later or raise O(lock_timeout).
  - Any other failure stops the run; the failed migration's transaction is rolled back, so the
    schema is exactly as before it, and the ledger records it as failed.
  - Files that are not UTF-8, hold a NUL byte or do not parse are refused, with the file and line,
    before anything runs.
  - Refuses to run while the ledger shows a failed migration, a checksum drift (an applied file
    was edited) or an applied version whose file is gone, until O(repair=true).
  - O(target) lower than the current version migrates down by running the C(U<version>__*.sql)
    undo files of every applied version above it, newest first.
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
extends_documentation_fragment:
  - shipyard.deploy.deadline.long
  - ansible.builtin.action_common_attributes
  - shipyard.deploy.postgres
attributes:
  check_mode:
    support: partial
    details:
      - Runs every pending migration (or undo) inside one transaction and rolls it back, then
        reports what would apply and the first error it would hit (the task fails on an error).
        The ledger is neither created nor written.
      - Not everything can be tried this way. Non-transactional files (C(-- shipyard:no-transaction))
        are not run and are listed in RV(not_verified); when a later file fails after one of them,
        the task warns instead of failing.
      - The trial is real SQL on the real database. It holds the locks its statements take until
        the rollback (each wait bounded by O(lock_timeout)), and sequences it advances with
        C(nextval) stay advanced, because PostgreSQL never rolls sequences back.
  diff_mode:
    support: none
    details: The result lists the migrations applied or undone; there is no before/after diff.
  platform:
    platforms: posix
options:
  path:
    description:
      - Directory holding the migration and undo files.
    type: path
    required: true
  target:
    description:
      - Version to migrate to. Higher than the current version (or omitted) applies pending
        migrations up to it; lower migrates down with undo files; C(0) undoes everything.
    type: str
  lock_timeout:
    description:
      - PostgreSQL C(lock_timeout) for each migration, e.g. C(5s). C(0) waits forever.
    type: str
    default: 5s
  statement_timeout:
    description:
      - PostgreSQL C(statement_timeout) for each migration. C(0) means no limit.
    type: str
    default: "0"
  lock_retries:
    description:
      - How many times a migration that hit O(lock_timeout) is retried.
    type: int
    default: 5
  retry_delay:
    description:
      - Base delay in seconds of the exponential backoff between lock-timeout retries (jittered,
        at most 30 seconds).
    type: float
    default: 1.0
  out_of_order:
    description:
      - Apply a pending migration whose version is lower than the highest applied one instead of
        refusing.
    type: bool
    default: false
  repair:
    description:
      - Before applying, remove failed entries from the ledger and realign the checksum of edited
        applied files with their current content. Make sure the schema is right first.
    type: bool
    default: false
  lint:
    description:
      - Lint the pending migrations first (see M(shipyard.deploy.migration_lint)) and refuse to
        run when findings block. C(breaking) (the default) blocks findings that break the running
        application version during a blue-green window; C(all) blocks every unsuppressed finding;
        C(off) skips the lint. Undo files are not linted.
      - The lock-timeout rule is not applied because this module sets one.
    type: str
    choices: ["off", breaking, all]
    default: breaking
  ledger_schema:
    description:
      - Schema of the ledger table.
    type: str
    default: public
  ledger_table:
    description:
      - Name of the ledger table; created on the first real run.
    type: str
    default: shipyard_schema_history
requirements:
  - pglast (to split statements and to lint)
"""

EXAMPLES = r"""
- name: Apply pending migrations, refusing any that breaks the running version
  shipyard.deploy.migration_apply:
    host: db.internal
    user: deploy
    password: "{{ vault_db_password }}"
    database: shop
    path: "{{ release_dir }}/migrations"
    lint: breaking
    lock_timeout: 3s

- name: Roll back to version 41 with the undo files
  shipyard.deploy.migration_apply:
    conninfo: "{{ vault_shop_uri }}"
    path: "{{ release_dir }}/migrations"
    target: "41"
"""

RETURN = r"""
applied:
  description: Migrations applied (or, in check mode, that would apply), in order.
  returned: always
  type: list
  elements: dict
  sample: [{"version": "3", "description": "add orders", "script": "V3__add_orders.sql",
            "transactional": true, "duration_ms": 12, "attempts": 1}]
undone:
  description: Undo files run when migrating down, newest first.
  returned: always
  type: list
  elements: dict
previous_version:
  description: Highest applied version before the run.
  returned: success
  type: str
current_version:
  description: Highest applied version after the run (in check mode, after it would have run).
  returned: success
  type: str
direction:
  description: C(up) or C(down).
  returned: success
  type: str
lint_findings:
  description: Lint findings of the pending migrations when O(lint) is not C(off).
  returned: always
  type: list
  elements: dict
repaired:
  description: What O(repair) removed (C(removed_failed)) or realigned (C(realigned)).
  returned: always
  type: dict
check_error:
  description:
    - In check mode, the first error a migration would hit (version, script, line, sqlstate, message).
    - C(after_unverified) lists the skipped non-transactional migrations that ran before it, if any.
  returned: check mode
  type: dict
not_verified:
  description: In check mode, non-transactional migrations that could not be tried in a transaction.
  returned: check mode
  type: list
  elements: str
ledger:
  description: Qualified name of the ledger table.
  returned: always
  type: str
failed_version:
  description: On failure, the version that failed.
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import LONG_DEADLINE, deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.runner import apply_migrations
from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import postgres_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import Identifier, NotEmpty, Number

# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "lock_retries": Number(0, 1000),
    "retry_delay": Number(0, 3600),
    "ledger_schema": Identifier(),
    "ledger_table": Identifier(),
    "target": NotEmpty("a migration version"),
}


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update(
        path=dict(type="path", required=True),
        target=dict(type="str"),
        lock_timeout=dict(type="str", default="5s"),
        statement_timeout=dict(type="str", default="0"),
        lock_retries=dict(type="int", default=5),
        retry_delay=dict(type="float", default=1.0),
        out_of_order=dict(type="bool", default=False),
        repair=dict(type="bool", default=False),
        lint=dict(type="str", choices=["off", "breaking", "all"], default="breaking"),
        ledger_schema=dict(type="str", default="public"),
        ledger_table=dict(type="str", default="shipyard_schema_history"),
    )
    argument_spec.update(deadline_argument_spec(LONG_DEADLINE))
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), apply_migrations, rules=RULES)


if __name__ == "__main__":
    main()
