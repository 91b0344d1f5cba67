#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rolling_gate
short_description: Decide how a rolling deployment goes on after each batch, and how it ends
version_added: 1.1.0
description:
  - The decisions of the C(rolling) strategy between its steps, for playbooks/deploy.yml; it reads its
    inputs and changes nothing (run it on the controller).
  - "O(phase=batch), after a batch of hosts was drained, upgraded in place and health- and smoke-checked -
    from each host's outcome: the members to enable again (the hosts that passed), whether the roll stops
    (more failed hosts than C(max_fail_percentage) of all app hosts, rounded down), and which hosts go back
    to the release they ran before (failed hosts always; every upgraded host when the roll stops)."
  - "O(phase=finish), after the revert - from the versions read back on every host: the outcome
    (C(succeeded) when every batch ran, else C(failed)), a message saying which hosts failed, went back or
    were not upgraded, and the ledger's C(rolling) record (which host runs which version)."
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Changes nothing in either mode; the answer is the same.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  phase:
    description: Which decision - after a batch, or at the end of the roll.
    type: str
    required: true
    choices: [batch, finish]
  plan:
    description: The plan of a rolling deployment (M(shipyard.deploy.deployment_plan) with C(strategy=rolling)).
    type: dict
    required: true
  state:
    description: The roll so far - RV(state) of the previous O(phase=batch) task; empty before the first batch.
    type: dict
    default: {}
  outcomes:
    description:
      - With O(phase=batch), one entry per host of the batch - C(host) (inventory name), C(ok) (bool),
        C(reason) (why it failed) and C(before) (the version its slot ran before the upgrade). A host of the
        batch without an entry counts as failed.
      - With O(phase=finish), one entry per app host, read after the revert - C(host), C(version) (the release
        its slot points at now) and C(back) (C({ok, reason}) of its revert; empty when it was not reverted).
    type: list
    elements: dict
    default: []
seealso:
  - module: shipyard.deploy.deployment_plan
  - module: shipyard.deploy.traffic_member
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Decide after the batch
  shipyard.deploy.rolling_gate:
    phase: batch
    plan: "{{ shipyard_plan }}"
    state: "{{ shipyard_rolling_state | default({}) }}"
    outcomes: "{{ ansible_play_batch | map('extract', hostvars, 'shipyard_rolling_outcome') | list }}"
  delegate_to: localhost
  run_once: true
  register: shipyard_gate
"""

RETURN = r"""
state:
  description:
    - With O(phase=batch), the roll after this batch - C(batches_done), C(upgraded) and C(failed) hosts,
      C(failures) (host -> reason), C(before) (host -> version before), C(stopped), C(enable) (members of this
      batch to enable), C(revert) (host -> C(version), C(member), C(health_targets)), C(cannot_revert) (failed
      hosts with no previous release), C(passed) (hosts of this batch that passed).
  returned: phase is batch
  type: dict
outcome:
  description: C(succeeded) (every batch ran; tolerated failures went back) or C(failed) (the roll stopped).
  returned: phase is finish
  type: str
message:
  description: What happened and where each host stands.
  returned: phase is finish
  type: str
  sample: "rolling deployment of 2.1.0 stopped after batch 3 of 4: 1 host(s) failed, max_fail_percentage 0 tolerates 0"
record:
  description:
    - The ledger's C(rolling) data. After a batch - C(batch), C(stopped), C(failed), C(host_versions) (the
      batch's hosts that passed). At the end - C(outcome), C(host_versions) (every app host), C(upgraded),
      C(failed), C(reverted), C(not_reverted), C(untouched), C(batches_done), C(batches).
  returned: always
  type: dict
host_versions:
  description: The version each app host runs, as read back.
  returned: phase is finish
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.rolling import gate_service
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module


def main():
    argument_spec = dict(
        phase=dict(type="str", required=True, choices=["batch", "finish"]),
        plan=dict(type="dict", required=True),
        state=dict(type="dict", default={}),
        outcomes=dict(type="list", elements="dict", default=[]),
    )
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), gate_service)


if __name__ == "__main__":
    main()
