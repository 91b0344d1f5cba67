#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deployment_report
short_description: Write the report of a deployment from its ledger, as HTML and Markdown
version_added: 1.0.0
description:
  - Reads the events of one deployment from the ledger that M(shipyard.deploy.deployment_record)
    writes and renders what happened.
  - The HTML report is one self-contained file (inline CSS and SVG, no script, no external asset) -
    the timeline of steps with the time each took, the traffic share of the new slot, error rate and
    latency per slot for every canary analysis window drawn as charts with the thresholds, each
    analysis verdict with its rules, the rollback and its reason, and the backup taken.
  - The Markdown summary holds the same facts as tables, for chat messages, tickets and pull requests.
  - Reports are written to a local directory or an S3 prefix as C(<deployment_id>.html) and
    C(<deployment_id>.md); each is written atomically and only when its content changed. The content
    depends only on the ledger, so writing the report of the same deployment again changes nothing.
  - "Run it on the controller (C(delegate_to: localhost), C(run_once: true)) when the ledger is a file."
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - ansible.builtin.action_common_attributes
  - shipyard.deploy.aws
attributes:
  check_mode:
    support: full
    details: Renders the report and compares it with what is there; reports which files would change, writes nothing.
  diff_mode:
    support: partial
    details: Shows the change of the Markdown summary (the HTML report changes with it and is not shown).
  platform:
    platforms: posix
options:
  ledger:
    description:
      - Path of the ledger (JSON lines) or C(s3://bucket/key), as given to M(shipyard.deploy.deployment_record).
    type: str
    required: true
  deployment_id:
    description:
      - The deployment to report on.
    type: str
    required: true
  dest:
    description:
      - Directory (absolute path, created 0700 when missing) or C(s3://bucket/prefix) to write the reports to.
    type: str
    required: true
  formats:
    description:
      - Which reports to write.
    type: list
    elements: str
    choices: [html, markdown]
    default: [html, markdown]
seealso:
  - module: shipyard.deploy.deployment_record
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Write the deploy report next to the ledger
  shipyard.deploy.deployment_report:
    ledger: /var/lib/shipyard/ledger.jsonl
    deployment_id: "{{ deployment_id }}"
    dest: /var/lib/shipyard/reports
  delegate_to: localhost
  run_once: true
  register: report

- name: Keep the reports in S3 beside an S3 ledger
  shipyard.deploy.deployment_report:
    ledger: s3://acme-deploy-ledger/shop/ledger.jsonl
    deployment_id: "{{ deployment_id }}"
    dest: s3://acme-deploy-ledger/shop/reports
    region: eu-west-1
  delegate_to: localhost
  run_once: true

- name: Export where the report is (AWX shows it with the job)
  ansible.builtin.set_stats:
    data:
      deploy_report: "{{ report.report }}"
"""

RETURN = r"""
report:
  description: Where each report is (path or C(s3://) URL), by format.
  returned: always
  type: dict
  sample: {html: /var/lib/shipyard/reports/shop-production-20261122T050000Z.html,
           markdown: /var/lib/shipyard/reports/shop-production-20261122T050000Z.md}
written:
  description: The formats that were written (or would be, in check mode) because their content changed.
  returned: always
  type: list
  elements: str
  sample: [html, markdown]
outcome:
  description: >-
    Outcome of the deployment according to the ledger - C(succeeded), C(failed), C(rolled_back)
    or C(in_progress).
  returned: always
  type: str
  sample: rolled_back
steps:
  description: Number of steps (ledger events) in the timeline.
  returned: always
  type: int
  sample: 9
analyses:
  description: Number of canary analysis windows in the report.
  returned: always
  type: int
  sample: 3
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.aws import aws_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.report.publish import RENDERERS, run_deployment_report
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import NotEmpty

# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "deployment_id": NotEmpty("the deployment's id"),
    "dest": NotEmpty("a directory or s3://bucket/prefix"),
}


def main():
    argument_spec = dict(
        ledger=dict(type="str", required=True),
        deployment_id=dict(type="str", required=True),
        dest=dict(type="str", required=True),
        formats=dict(type="list", elements="str", choices=sorted(RENDERERS), default=["html", "markdown"]),
    )
    argument_spec.update(aws_argument_spec())
    argument_spec.update(deadline_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, run_deployment_report, rules=RULES)


if __name__ == "__main__":
    main()
