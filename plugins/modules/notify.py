#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: notify
short_description: Send a deployment notification to a Slack-compatible webhook
version_added: 1.0.0
description:
  - Posts a message about a deployment (start, success, failure, rollback) to a Slack-compatible
    incoming webhook (Slack, Mattermost, Rocket.Chat, Microsoft Teams workflows that accept C(text)).
  - Retries with jittered backoff on connection errors, HTTP 429 (honouring C(Retry-After)) and 5xx.
  - By default a notification that cannot be delivered does not fail the task - the deployment goes
    on and the result says why the message was not delivered.
  - The webhook URL is a secret; it never appears in output, errors or results.
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Builds and returns the payload without sending it.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  webhook_url:
    description:
      - URL of the incoming webhook.
    type: str
    required: true
  event:
    description:
      - What happened; sets the first line of the message.
    type: str
    choices: [start, success, failure, rollback, info]
    required: true
  application:
    description: Application name.
    type: str
    default: app
  environment:
    description: Environment name.
    type: str
  version:
    description: Version deployed.
    type: str
  text:
    description: More lines under the first (a reason, where traffic is, a link to the report).
    type: str
  fields:
    description: Key/value details shown as fields (at most 10 shown).
    type: dict
    default: {}
  username:
    description: Sender name override, where the receiver allows it.
    type: str
  channel:
    description: Channel override, where the receiver allows it.
    type: str
  icon_emoji:
    description: Icon override, where the receiver allows it.
    type: str
  retries:
    description: Further attempts after the first.
    type: int
    default: 3
  timeout:
    description: Seconds to wait for each attempt.
    type: float
    default: 10
  fail_on_error:
    description: Fail the task when the message could not be delivered.
    type: bool
    default: false
notes:
  - C(changed) is always false - a notification changes nothing on the managed hosts.
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Tell the team a rollback happened
  shipyard.deploy.notify:
    webhook_url: "{{ slack_webhook_url }}"
    event: rollback
    application: shop
    environment: production
    version: "{{ version }}"
    text: "canary analysis failed: error rate 20.1% > 5%; all traffic back on blue"
    fields:
      deployment: "{{ deployment_id }}"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
delivered:
  description: Whether the webhook accepted the message (HTTP 2xx).
  returned: always
  type: bool
attempts:
  description: How many requests were made.
  returned: always
  type: int
status_code:
  description: HTTP status of the last attempt, null when none was received.
  returned: always
  type: int
error:
  description: Why the message was not delivered (never contains the URL), null when it was.
  returned: always
  type: str
payload:
  description: The JSON body sent (or that would be, in check mode).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.notify import EVENT_STYLE, run_notify
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import NotEmpty, Number

# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "webhook_url": NotEmpty("the webhook URL"),
    "retries": Number(0, 20),
    "timeout": Number(above=0, maximum=600),
}


def main():
    argument_spec = dict(
        webhook_url=dict(type="str", required=True, no_log=True),
        event=dict(type="str", required=True, choices=list(EVENT_STYLE)),
        application=dict(type="str", default="app"),
        environment=dict(type="str"),
        version=dict(type="str"),
        text=dict(type="str"),
        fields=dict(type="dict", default={}),
        username=dict(type="str"),
        channel=dict(type="str"),
        icon_emoji=dict(type="str"),
        retries=dict(type="int", default=3),
        timeout=dict(type="float", default=10),
        fail_on_error=dict(type="bool", default=False),
    )
    argument_spec.update(deadline_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, run_notify, rules=RULES)


if __name__ == "__main__":
    main()
