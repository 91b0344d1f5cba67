#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: migration_lint
short_description: Find dangerous statements in SQL migrations before they reach production
version_added: 1.0.0
description:
  - Parses SQL with a real PostgreSQL parser (pglast, the PostgreSQL 17 grammar) and reports
    each finding with its rule, file, line, statement, why it is dangerous and the safe
    alternative.
  - Each finding says whether it breaks the application version that is still running during a
    blue-green window (C(breaks_running_version), with C(verdict_reason)); the verdict is that of
    the finding's C(operation) in one table (see docs/migrations.md), checked by running the old
    version's SQL on PostgreSQL after each operation. Dropping, renaming, moving or narrowing what
    the old version uses breaks it; adding a nullable column or widening C(varchar(n)) does not.
    By default the task fails on those only, so a playbook allows "expand" migrations and blocks
    "contract" ones.
  - Files are read in natural version order (C(V2) before C(V10)); the columns the earlier files
    create tell whether a type change widens and whether a column is NOT NULL.
  - "Rules: C(not_null_without_default), C(volatile_default), C(drop_column), C(drop_table),
    C(drop_object), C(rename_column), C(rename_table), C(rename_object), C(set_schema),
    C(rename_enum_value), C(drop_default), C(change_column_type),
    C(create_index_without_concurrently), C(drop_index_without_concurrently),
    C(concurrently_in_transaction), C(constraint_without_not_valid),
    C(validate_in_same_transaction), C(unique_constraint), C(set_not_null), C(truncate_cascade),
    C(char_column), C(missing_lock_timeout), C(invalid_file)."
  - Tables and views created earlier in the same script (C(CREATE TABLE), C(CREATE TABLE ... AS),
    C(SELECT ... INTO), C(CREATE [MATERIALIZED] VIEW)) are new, so index, constraint, NOT NULL,
    drop and lock-timeout rules do not fire for them.
  - Every file is linted even when another cannot be read or parsed; such a file is a finding of
    rule C(invalid_file) naming the file and line (and byte offset for invalid UTF-8 or a NUL
    byte), which breaks the running version by definition, so it blocks unless O(block_on=none).
  - Only the C(-- migrate:up) part of a dbmate file is linted.
  - "A finding is suppressed by a comment right before its statement that names the rule and
    gives a reason: C(-- shipyard:ignore drop_column reason: unused since release 41).
    A comment without C(reason:) does not suppress."
  - It only reads files; it never connects to a database.
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads files, so check mode does exactly the same.
  diff_mode:
    support: none
    details: The module changes nothing, so there is no diff.
  platform:
    platforms: posix
options:
  paths:
    description:
      - SQL files, or directories searched recursively for C(*.sql) files.
      - A relative path is resolved on the controller against the playbook's directory (like
        C(include_vars)), not the directory C(ansible-playbook) was started from. Files on a
        managed host need an absolute path.
    type: list
    elements: path
    default: []
  sql:
    description:
      - SQL text to lint in addition to O(paths) (reported as file C(<sql>)).
    type: str
  block_on:
    description:
      - Which findings fail the task. C(breaking) those that break the running version, C(all)
        every unsuppressed finding, C(none) never (see also O(block_on_rules)).
    type: str
    choices: [breaking, all, none]
    default: breaking
  block_on_rules:
    description:
      - Rules whose findings also fail the task, whatever O(block_on) says.
    type: list
    elements: str
    default: []
  disable:
    description:
      - Rules not to check at all.
    type: list
    elements: str
    default: []
  runner_sets_lock_timeout:
    description:
      - The runner sets C(lock_timeout) itself (M(shipyard.deploy.migration_apply) does), so the
        C(missing_lock_timeout) rule does not apply.
    type: bool
    default: false
  transactional:
    description:
      - Whether the runner wraps each file in a transaction, for the C(concurrently_in_transaction)
        rule. C(auto) means yes unless the file carries a runner's no-transaction marker -
        C(-- shipyard:no-transaction) in its first lines (M(shipyard.deploy.migration_apply)),
        C(-- postgres-migrations disable-transaction) (postgres-migrations),
        C(-- migrate:up transaction:false) (dbmate), C(runInTransaction:false) on a
        C(--changeset) line (Liquibase formatted SQL), or a Flyway script configuration file
        C(<file>.sql.conf) with C(executeInTransaction=false). An explicit C(BEGIN) in a file
        always counts.
    type: str
    choices: [auto, "yes", "no"]
    default: auto
  fail_on_blocking:
    description:
      - Fail the task when findings block. With C(false) the task succeeds and RV(passed) says
        the verdict.
    type: bool
    default: true
requirements:
  - pglast
"""

EXAMPLES = r"""
- name: Block migrations that break the version still serving traffic
  shipyard.deploy.migration_lint:
    paths: ["{{ release_dir }}/migrations"]
    runner_sets_lock_timeout: true

- name: Report everything, decide later
  shipyard.deploy.migration_lint:
    paths: ["{{ release_dir }}/db/V42__orders.sql"]
    block_on: none
  register: lint

- name: Allow expand, block contract, and also block unindexed foreign keys
  shipyard.deploy.migration_lint:
    paths: ["{{ release_dir }}/migrations"]
    block_on_rules: [constraint_without_not_valid]
"""

RETURN = r"""
findings:
  description: Unsuppressed findings, in file and statement order.
  returned: always
  type: list
  elements: dict
  sample: [{"rule": "drop_column", "file": "V9__drop.sql", "line": 3,
            "statement": "ALTER TABLE orders DROP COLUMN note",
            "why": "the running version still reads or writes the column; ...",
            "safe_alternative": "stop using the column in a release first, ...",
            "operation": "drop_column", "breaks_running_version": true,
            "verdict_reason": "the old version's SELECT and INSERT naming the column fail: ...",
            "suppressed": false, "suppression_reason": null}]
suppressed:
  description: Findings suppressed by a comment, with C(suppression_reason).
  returned: always
  type: list
  elements: dict
breaking:
  description: Unsuppressed findings that break the running version.
  returned: always
  type: list
  elements: dict
blocking:
  description: Findings that fail the task according to O(block_on) and O(block_on_rules).
  returned: always
  type: list
  elements: dict
passed:
  description: True when nothing blocks.
  returned: always
  type: bool
files:
  description: The files linted.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.lint import lint_service
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module


def main():
    argument_spec = dict(
        paths=dict(type="list", elements="path", default=[]),
        sql=dict(type="str"),
        block_on=dict(type="str", choices=["breaking", "all", "none"], default="breaking"),
        block_on_rules=dict(type="list", elements="str", default=[]),
        disable=dict(type="list", elements="str", default=[]),
        runner_sets_lock_timeout=dict(type="bool", default=False),
        transactional=dict(type="str", choices=["auto", "yes", "no"], default="auto"),
        fail_on_blocking=dict(type="bool", default=True),
    )
    argument_spec.update(deadline_argument_spec())
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), lint_service)


if __name__ == "__main__":
    main()
