#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: pg_database
short_description: Create or drop a PostgreSQL database
version_added: 1.0.0
description:
  - Makes a database present or absent - what backup verification needs to clean up its scratch
    database, and what a test or a restore rehearsal needs to prepare one.
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - ansible.builtin.action_common_attributes
  - shipyard.deploy.postgres
attributes:
  check_mode:
    support: full
    details: Reports whether the database would be created or dropped.
  diff_mode:
    support: full
    details: Shows whether the database exists before and after.
  platform:
    platforms: posix
options:
  name:
    description: The database to create or drop.
    type: str
    required: true
  state:
    description: Whether the database should exist.
    type: str
    choices: [present, absent]
    default: present
  maintenance_database:
    description: The database to connect to while creating or dropping O(name).
    type: str
    default: postgres
  template:
    description: Template database to create from (C(template0) for a clean copy).
    type: str
  owner:
    description: Owner of a new database.
    type: str
  force:
    description: With O(state=absent), end the sessions still connected (PostgreSQL 13 or newer).
    type: bool
    default: true
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Drop the scratch database of a backup verification
  shipyard.deploy.pg_database:
    host: db.internal
    user: backup_verifier
    password: "{{ vault_backup_verifier_password }}"
    name: shop_verify_20261122
    state: absent
"""

RETURN = r"""
name:
  description: The database.
  returned: always
  type: str
existed:
  description: Whether it existed before the task.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.pg_database import run_pg_database
from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import postgres_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import Identifier

# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "name": Identifier(),
    "maintenance_database": Identifier(),
    "template": Identifier(),
    "owner": Identifier(),
}


def main():
    argument_spec = postgres_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        maintenance_database=dict(type="str", default="postgres"),
        template=dict(type="str"),
        owner=dict(type="str"),
        force=dict(type="bool", default=True),
    )
    argument_spec.update(deadline_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, run_pg_database, rules=RULES)


if __name__ == "__main__":
    main()
