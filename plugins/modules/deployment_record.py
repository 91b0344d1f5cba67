#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deployment_record
short_description: Record deployment events in a ledger and ask it what happened
version_added: 1.0.0
description:
  - Appends one event of a deployment (started, backup, migration, each traffic step, success,
    rollback…) to an append-only ledger, a JSON-lines file or one S3 object.
  - Answers from the same ledger what a pipeline needs to decide, such as the last good version of
    an application in an environment (for rollback) and whether a version has succeeded in another
    environment (staging before production).
  - Concurrent writers are safe - a file append takes an exclusive lock, an S3 append uses
    conditional writes and retries.
  - "Run it on the controller (C(delegate_to: localhost), C(run_once: true)) when the ledger is a file."
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - ansible.builtin.action_common_attributes
  - shipyard.deploy.aws
attributes:
  check_mode:
    support: full
    details: Reports the record that would be appended and answers queries as if it had been; writes nothing.
  diff_mode:
    support: full
    details: Shows the appended line.
  platform:
    platforms: posix
options:
  ledger:
    description:
      - Path of the JSON-lines file (created 0600 on the first event), or C(s3://bucket/key).
    type: str
    required: true
  deployment_id:
    description:
      - Identifier of the deployment the event belongs to, the same for all its events.
      - Required with O(event).
    type: str
  environment:
    description:
      - Environment name, for example C(staging) or C(production).
    type: str
  application:
    description:
      - Application name.
    type: str
    default: app
  version:
    description:
      - Version being deployed (or checked with O(require_succeeded_in)).
    type: str
  event:
    description:
      - Event to append. Without it the module only answers queries.
    type: str
    choices: [started, evidence, preflight, backup, migration, release, health, analysis, traffic_step, approval,
              bake, smoke, succeeded, failed, rolled_back, note, rolling]
  data:
    description:
      - Details of the event, for example C(backup_id), a traffic step's weights and analysis verdict,
        or a rollback's C(reason); an C(analysis) event holds one canary analysis window (C(percent),
        C(attempt), C(verdict), C(reason), C(checks), C(measurements), C(window)) as the deploy report
        draws it; an C(evidence) event holds the verdict of M(shipyard.deploy.release_evidence) (C(verdict),
        C(enforce), C(rules)); a C(smoke) event holds one smoke test run (C(phase), C(base_url), C(passed),
        C(summary), C(steps) with each step's C(name), C(status), C(status_code), C(latency_ms), C(passed) and
        C(error)).
                a C(rolling) event holds one batch of a rolling deployment or its end
        (C(host_versions) - which app host runs which version - C(upgraded), C(failed), C(reverted)). Never put
        secrets here.
    type: dict
    default: {}
  event_id:
    description:
      - Identifier of this event. An append whose id is already in the ledger writes nothing
        (C(changed=false)), so a task retried after a failure never records the event twice.
      - Defaults to a digest of O(deployment_id), O(environment), O(application), O(version), O(event) and
        O(data) - the same event recorded twice is one event. Give distinct ids to record identical events
        on purpose (a repeated C(note)).
    type: str
  require_succeeded_in:
    description:
      - Fail unless O(version) of O(application) has a succeeded deployment in this environment.
      - Checked before O(event) is appended, so a refused deployment leaves no C(started) event.
    type: str
  history_size:
    description:
      - How many of the latest deployments of O(environment) to return in RV(history).
    type: int
    default: 10
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Refuse a production version that never succeeded in staging
  shipyard.deploy.deployment_record:
    ledger: /var/lib/shipyard/ledger.jsonl
    environment: production
    application: shop
    version: "{{ version }}"
    require_succeeded_in: staging
    deployment_id: "{{ deployment_id }}"
    event: started
  delegate_to: localhost
  run_once: true

- name: Record a canary step and its verdict
  shipyard.deploy.deployment_record:
    ledger: s3://ops-ledgers/shop/ledger.jsonl
    region: eu-west-1
    deployment_id: "{{ deployment_id }}"
    environment: production
    application: shop
    version: "{{ version }}"
    event: traffic_step
    data:
      weights: {blue: 75, green: 25}
      verdict: pass
  delegate_to: localhost
  run_once: true

- name: Where should a rollback go?
  shipyard.deploy.deployment_record:
    ledger: /var/lib/shipyard/ledger.jsonl
    environment: production
    application: shop
  register: ledger
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
ledger:
  description: Where the ledger is.
  returned: always
  type: str
skipped_lines:
  description: Lines of the ledger that are not usable records and were left out (not JSON, not UTF-8, not an
    object, no C(deployment_id)/C(event), a time that is not RFC 3339, a torn last line), each with C(line)
    (1-based) and C(reason). A warning names them too.
  returned: always
  type: list
  elements: dict
  sample: [{line: 17, reason: "not JSON (Expecting value: line 1 column 1 (char 0))"}]
record:
  description: The record appended (or that would be, in check mode), with its C(event_id). When the event
    was already in the ledger, nothing is appended and C(changed) is false.
  returned: when O(event) is given
  type: dict
  sample: {time: "2026-11-22T04:01:02.123456Z", deployment_id: "shop-20261122-0401", environment: production,
           application: shop, version: "1.4.2", event: succeeded, data: {}}
deployment:
  description:
    - Summary of O(deployment_id) - C(outcome) (C(in_progress), C(succeeded), C(failed), C(rolled_back)),
      C(reason), C(started_at), C(finished_at), C(duration_seconds), C(backup_id), C(traffic_steps), and
      C(events), the timeline with each event's offset and duration.
  returned: when O(deployment_id) is given and the ledger knows it
  type: dict
last_good_version:
  description:
    - The version of the newest deployment of O(application) in O(environment) that succeeded and was
      not rolled back; null when there is none.
  returned: when O(environment) is given
  type: str
good_versions:
  description: Every such version, newest first.
  returned: when O(environment) is given
  type: list
  elements: str
history:
  description: The latest O(history_size) deployments of O(application) in O(environment), oldest first.
  returned: when O(environment) is given
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.aws import aws_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.ledger import EVENTS, run_deployment_record
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import NotEmpty, Number

# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "deployment_id": NotEmpty("the deployment's id"),
    "environment": NotEmpty("the environment's name"),
    "application": NotEmpty("the application's name"),
    "version": NotEmpty("the version deployed"),
    "require_succeeded_in": NotEmpty("an environment name"),
    "history_size": Number(0, 10000),
    "event_id": NotEmpty("an id for the event"),
}


def main():
    argument_spec = dict(
        ledger=dict(type="str", required=True),
        deployment_id=dict(type="str"),
        environment=dict(type="str"),
        application=dict(type="str", default="app"),
        version=dict(type="str"),
        event=dict(type="str", choices=list(EVENTS)),
        data=dict(type="dict", default={}),
        require_succeeded_in=dict(type="str"),
        history_size=dict(type="int", default=10),
        event_id=dict(type="str"),
    )
    argument_spec.update(aws_argument_spec())
    argument_spec.update(deadline_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[("event", "started", ["deployment_id", "environment", "version"])],
        required_by={"event": ["deployment_id", "environment"], "require_succeeded_in": ["version"]},
        supports_check_mode=True,
    )
    run_module(module, run_deployment_record, rules=RULES)


if __name__ == "__main__":
    main()
