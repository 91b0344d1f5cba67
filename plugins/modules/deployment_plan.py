#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deployment_plan
short_description: Work out the plan of a deployment or a rollback - slots, URLs, health checks, ledger options
version_added: 1.1.0
description:
  - The one place that plans a deployment. Reads where traffic is on the router (it runs
    M(shipyard.deploy.traffic_info) on the task's host), what the ledger knows (the version last released
    onto each slot, the last succeeded deployment, the good versions) and the inventory's app hosts, and
    returns RV(plan), which playbooks and roles only read.
  - "The live slot is the router's: its active slot, else the one with the largest share. The ledger only
    breaks a tie (an interrupted 50/50 canary); without it a tie is an error. When the router and the ledger
    disagree the router wins (a manual switch leaves the ledger behind) and a warning says so. No traffic
    anywhere is a first deployment: C(live_slot) is empty and the effective C(strategy) is C(direct)."
  - "Two topologies, chosen by O(slots) - C(ports) (no slot names a group; every slot is a port on every app
    host, a release goes onto every app host) and C(host_groups) (every slot names an inventory group of app
    hosts, for example C({blue: {group: app_blue, port: 8000}, green: {group: app_green, port: 8000}}); a
    release goes onto the idle slot's group only, traffic moves between the groups, a rollback returns to the
    other group). The slot URLs, health targets and router members of a group slot are its group's hosts."
  - "A layout that cannot work is refused before anything changes - a slot with a group next to one without,
    a group unknown to the inventory or without hosts, two slots sharing a group or a host, a group host that
    is not in O(app_group), an app host in none of the slots' groups."
  - "Each app host is reached at its O(address_variable) host variable (C(shipyard_app_address)), else its
    C(ansible_host), else its inventory name - never a loopback default, which from a separate router host
    would check the router itself."
  - With O(purpose=rollback) the plan is the way back - C(idle_slot) is the slot traffic goes back to and its
    health checks expect the previous good version. The rollback is refused, before anything moves, when the
    ledger says that slot runs another version (a rolled-back canary, a release that never succeeded); the
    message names that version and the command that redeploys the wanted one.
  - An action plugin - it needs the inventory and the ledger, which live on the controller. The ledger is read
    by the controller's Python (boto3 there for an S3 ledger).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Only reads (router, ledger, inventory); the plan is the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
options:
  purpose:
    description: Plan a deployment of O(version), or a rollback to the previous slot.
    type: str
    choices: [deploy, rollback]
    default: deploy
  router:
    description:
      - Options of M(shipyard.deploy.traffic_info) (C(driver) and its settings), the playbooks'
        C(shipyard_router).
    type: dict
    required: true
  slots:
    description:
      - "The slots and their ports, C(shipyard_slots), for example C({blue: {port: 8001}, green: {port: 8002}})."
      - "Host groups - every slot also names its inventory group, for example
        C({blue: {group: app_blue, port: 8000}, green: {group: app_green, port: 8000}})."
      - A list of slot names is accepted when no URLs are needed (O(app_group) empty).
      - Must be the router's slots; a slot the router sends traffic to but that is not named here is an error.
    type: raw
    required: true
  app_group:
    description:
      - Inventory group of the app hosts (C(shipyard_app_group)); one URL per host and slot.
      - Empty for no URLs and no health checks.
    type: str
    default: app
  address_variable:
    description: Host variable holding the address the router host reaches an app host at.
    type: str
    default: shipyard_app_address
  application:
    description: Application name (C(shipyard_application)); required to deploy.
    type: str
    default: ""
  environment:
    description: Environment name (C(shipyard_environment)); required to deploy.
    type: str
    default: ""
  version:
    description: Version being deployed (C(shipyard_version)); required to deploy.
    type: str
    default: ""
  strategy:
    description:
      - Strategy asked for (C(shipyard_strategy)); C(plan.strategy) is C(direct) on a first deployment.
      - C(rolling) upgrades each app host's one copy in place, batch by batch (see O(rolling) and docs/rolling.md);
        O(slots) then names exactly one slot.
      - With O(purpose=rollback), C(rolling) is refused before anything moves (there is no other slot); the
        message names the command that rolls the previous good version from the ledger out.
    type: str
    choices: [direct, bluegreen, canary, rolling]
    default: bluegreen
  health_path:
    description: Health endpoint of the application (C(shipyard_health_path)).
    type: str
    default: /health
  health_json:
    description:
      - "What the health endpoint's JSON must contain. Default C({version: <version>}) to deploy,
        C({version: <previous good version>}) to roll back (when the ledger knows it)."
    type: dict
  ledger:
    description:
      - The deployment ledger (C(shipyard_ledger)), a file on the controller or C(s3://bucket/key).
      - Empty reads nothing (no live version, no rollback target version).
    type: str
    default: ""
  ledger_aws:
    description:
      - AWS options of an S3 ledger (C(shipyard_ledger_aws)). Credentials in it are not copied into C(plan.record);
        combine them where the record is used.
    type: dict
    default: {}
  report_dest:
    description: Where deploy reports go (C(shipyard_report_dest)); default C(reports/) next to the ledger.
    type: str
    default: ""
  to_slot:
    description: With O(purpose=rollback), the slot to go back to (C(rollback_to_slot)); default the other one.
    type: str
    default: ""
  emergency:
    description: With O(purpose=rollback), plan even when the ledger says the slot runs another version.
    type: bool
    default: false
  hooks:
    description:
      - The team's task files at the phase boundaries (C(shipyard_hooks)) - hook name (C(before_fetch),
        C(after_fetch), ... C(before_rollback), C(after_rollback); see docs/hooks.md) to a task file.
      - Checked before anything is read or changed - an unknown name or a file that does not exist fails the task,
        naming it and the valid names. A null or empty file is no hook.
      - C(plan.hooks) holds the absolute paths, which C(playbooks/tasks/hook.yml) includes.
    type: raw
    default: {}
  hooks_dir:
    description: Directory relative hook paths are resolved against; default the inventory directory (C(inventory_dir)).
    type: str
    default: ""
  smoke:
    description:
      - The smoke tests of the pipeline (C(shipyard_smoke), see O(shipyard.deploy.rollout#module:smoke)). Validated
        before anything changes (a step without a URL, an unknown placeholder, no C(url)); only their names and
        where they run go into C(plan.smoke), never a value.
    type: dict
    default: {}
  rolling:
    description:
      - "With O(strategy=rolling), its options (C(shipyard_rolling)) - C(batch) (hosts per batch: a count, a
        percentage such as C(25%), or a list of them whose last entry repeats; default 1), C(max_fail_percentage)
        (share of all app hosts that may fail with the roll going on, rounded down; default 0),
        C(drain_timeout) (seconds a member drains at the router; default 30), C(health_timeout) (seconds each
        upgraded host has to answer healthy; default 60)."
      - Each app host's router member is its host variable C(shipyard_router_member), else the inventory name
        (HAProxy server) or C(address:port) (nginx, ALB); every member must exist at the router.
    type: dict
    default: {}
seealso:
  - module: shipyard.deploy.traffic_info
  - module: shipyard.deploy.deployment_record
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Plan the deployment
  shipyard.deploy.deployment_plan:
    router: "{{ shipyard_router }}"
    slots: "{{ shipyard_slots }}"
    application: shop
    environment: production
    version: "{{ shipyard_version }}"
    strategy: canary
    ledger: /var/lib/shipyard/ledger.jsonl
  register: planned
  run_once: true

- name: Check the idle slot of every app host
  shipyard.deploy.health_check:
    targets: "{{ planned.plan.idle_health_targets }}"

# host groups (every slot of shipyard_slots names its group): only the idle group's hosts get the release
- name: Leave out the hosts that do not get the release
  ansible.builtin.meta: end_host
  when: inventory_hostname not in planned.plan.release_hosts

- name: Plan a rollback (refused when the other slot does not run the previous good version)
  shipyard.deploy.deployment_plan:
    purpose: rollback
    router: "{{ shipyard_router }}"
    slots: "{{ shipyard_slots }}"
    application: shop
    environment: production
    ledger: /var/lib/shipyard/ledger.jsonl
  register: way_back
"""

RETURN = r"""
plan:
  description:
    - The plan. C(deployment_id), C(application), C(environment), C(version); C(live_slot) (empty on a first
      deployment), C(idle_slot) (the slot getting the new version - or, to roll back, the slot traffic goes
      back to), C(live_version) (the ledger's last release on the live slot), C(slot_versions),
      C(weights_before), C(started) (epoch seconds), C(strategy) (effective - C(direct) without a live slot),
      C(app_hosts), C(topology) (C(ports) or C(host_groups)), C(release_hosts) (inventory names of the hosts
      that get the new version - every app host with C(ports), the idle slot's group with C(host_groups);
      empty to roll back), C(slots) (per slot C(port), C(hosts) - the inventory names running it -, C(urls) -
      one base URL per host - and C(health_targets)),
      C(slot_urls), C(idle_health_targets), C(record) (M(shipyard.deploy.deployment_record) options of this
      deployment, without AWS credentials), C(report_dest), C(warnings), C(hooks) (hook name to absolute path
      of the task file), C(smoke) (C(enabled), C(url), C(steps) - their names - C(before_traffic), C(after_switch)).
    - With O(strategy=rolling) also C(rolling) - C(slot), C(port), C(batches) (inventory names per batch),
      C(serial) (their sizes, for a play's C(serial)), C(max_fail_percentage), C(max_failures), C(drain_timeout),
      C(health_timeout), and per host C(members), C(urls), C(health_targets) and C(previous_versions) (the
      ledger's last C(rolling) record); C(live_slot) and C(idle_slot) are both the one slot.
    - To roll back also C(target_version), C(health_targets) per slot and C(backup_id) (of the deployment rolled
      back, which C(deployment_id), C(version) and C(record) name; empty when the ledger knows none).
  returned: success
  type: dict
  sample:
    deployment_id: shop-production-20261122T050000Z
    application: shop
    environment: production
    version: 1.4.2
    live_slot: blue
    idle_slot: green
    live_version: 1.4.1
    weights_before: {blue: 100, green: 0}
    started: 1795323600.0
    strategy: canary
    topology: ports
    release_hosts: [app1, app2]
    slots:
      green:
        port: 8002
        hosts: [app1, app2]
        urls: [http://10.10.1.11:8002, http://10.10.1.12:8002]
        health_targets: [{url: http://10.10.1.11:8002/health, json: {version: 1.4.2}}]
    slot_urls: {blue: [http://10.10.1.11:8001], green: [http://10.10.1.11:8002]}
    idle_health_targets: [{url: http://10.10.1.11:8002/health, json: {version: 1.4.2}}]
    record: {ledger: /var/lib/shipyard/ledger.jsonl, deployment_id: shop-production-20261122T050000Z,
             environment: production, application: shop, version: 1.4.2}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.plan import argument_spec


def main():
    # the work is done by the action plugin on the controller; this file documents it and its options
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.fail_json(msg="shipyard.deploy.deployment_plan runs as an action plugin on the controller; "
                         "call it by its full name (shipyard.deploy.deployment_plan) from a play")


if __name__ == "__main__":
    main()
