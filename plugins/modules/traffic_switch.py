#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: traffic_switch
short_description: Move a share of traffic between blue and green slots on HAProxy, nginx or an AWS ALB
version_added: 1.0.0
description:
  - Declarative traffic split between slots (for example C(blue) and C(green)) of one router, for
    blue-green flips and canary steps. Give the percentages per slot with O(weights), or put all
    traffic on one slot with O(active). A slot may have several members (one per app host).
  - "C(haproxy): sets server weights through the runtime API (never a config rewrite or restart); a slot
    at 0% gets weight 0 and C(state drain), optionally waiting up to O(drain_timeout) for its sessions
    to end; servers that gain traffic are changed first, in one runtime API connection; the weights are
    read back and, with O(haproxy_state_file), saved with C(show servers state) so a reload keeps them."
  - "Percentages become HAProxy weights (0..256) per server: a slot at P% with N servers gives each
    server P*k/N for the smallest whole k that makes all weights whole and at most 256 (one server per
    slot: weight = percentage). When none exists, the largest share gets 256 and the rest is rounded in
    proportion; RV(after.weights) then shows the split in effect. nginx uses the same mapping."
  - "C(nginx): writes the upstream block (weights, C(down) for a slot at 0%) into O(nginx_include),
    validates with C(nginx -t), reloads gracefully and confirms that new workers started; on any
    failure the previous include file is restored and nginx keeps serving the old split."
  - "C(aws_alb): sets the weights of the slots' target groups in the forward action of a listener
    (O(alb_listener_arn)) or rule (O(alb_rule_arn)), keeping other actions, and reads them back."
  - Before a slot gains traffic, it must have a healthy member (HAProxy - a server that is up and not in
    maintenance; ALB - a target reported C(healthy) by describe-target-health); nginx open source
    reports no health, so nothing is checked there. O(require_healthy=false) skips the check.
  - Bad input (weights not summing to 100, an unknown slot, an unreachable socket) fails before anything
    is changed.
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - shipyard.deploy.router
  - shipyard.deploy.aws
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Reads the router and reports the split it would set; changes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows the weights of every slot and member before and after.
options:
  weights:
    description:
      - Percent of the traffic per slot, whole numbers summing to 100. Slots not named get 0.
      - Mutually exclusive with O(active).
    type: dict
  active:
    description:
      - Send all traffic to this slot (100%) and none to the others.
      - Mutually exclusive with O(weights).
    type: str
  drain_timeout:
    description:
      - Seconds to wait, after the switch, until the slots taken out have no sessions left (HAProxy)
        or the old nginx workers have exited. 0 does not wait. Not reaching zero in time is a warning,
        not a failure (they get no new requests either way).
    type: float
    default: 0
  require_healthy:
    description:
      - Refuse to shift traffic to a slot that has no healthy member.
    type: bool
    default: true
  alb_stickiness_duration:
    description:
      - Target group stickiness of the ALB forward action, in seconds (1 to 604800); 0 turns it off.
        When omitted, the current stickiness setting is kept.
    type: int
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Canary - send 5% of the traffic to green
  shipyard.deploy.traffic_switch:
    driver: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    haproxy_backend: app
    haproxy_state_file: /var/lib/haproxy/server-state
    weights: {blue: 95, green: 5}

- name: Flip everything to green and wait for blue's sessions to end
  shipyard.deploy.traffic_switch:
    driver: haproxy
    haproxy_socket: 127.0.0.1:9999
    haproxy_backend: app
    haproxy_state_file: /var/lib/haproxy/server-state
    active: green
    drain_timeout: 30

- name: Same with nginx, which owns /etc/nginx/conf.d/app-upstream.conf
  shipyard.deploy.traffic_switch:
    driver: nginx
    nginx_include: /etc/nginx/conf.d/app-upstream.conf
    nginx_upstream_options: ["keepalive 32"]
    slots:
      blue: [10.0.1.11:8080, 10.0.1.12:8080]
      green: [10.0.2.11:8080, 10.0.2.12:8080]
    weights: {blue: 90, green: 10}

- name: ALB listener, 25% to green with one hour of stickiness
  shipyard.deploy.traffic_switch:
    driver: aws_alb
    region: eu-west-1
    alb_listener_arn: "{{ listener_arn }}"
    slots:
      blue: ["{{ blue_tg_arn }}"]
      green: ["{{ green_tg_arn }}"]
    weights: {blue: 75, green: 25}
    alb_stickiness_duration: 3600
"""

RETURN = r"""
driver:
  description: The driver used.
  returned: always
  type: str
  sample: haproxy
requested:
  description: The split asked for, percent per slot (every slot, 0 for those not named).
  returned: success
  type: dict
  sample: {blue: 95, green: 5}
before:
  description: The split before the task, in the form of RV(after).
  returned: success
  type: dict
after:
  description:
    - The split after the task, read back from the router (in check mode, the prediction).
  returned: success
  type: dict
  contains:
    weights:
      description: Percent of the traffic per slot (a fraction when the weights cannot express it exactly).
      type: dict
      sample: {blue: 95, green: 5}
    active:
      description: The slot receiving all traffic, or null while traffic is split.
      type: str
      sample: green
    slots:
      description:
        - Per slot, its percent (C(weight)) and members (C(name), router C(weight), C(state); for HAProxy
          also C(address) and C(operational) up/down).
      type: dict
duration_ms:
  description: How long the switch took, reading back included.
  returned: success
  type: float
  sample: 3.2
commands:
  description: The HAProxy runtime API commands sent, in order.
  returned: when driver is haproxy and something changed
  type: list
  elements: str
state_file:
  description: The server-state file the HAProxy state was saved to.
  returned: when driver is haproxy, haproxy_state_file is set and something changed
  type: str
include:
  description: The nginx include file written.
  returned: when driver is nginx and something changed
  type: str
drain:
  description:
    - Result of waiting for drained HAProxy servers (C(complete), C(sessions) left per server, C(waited_s))
      or old nginx workers (C(complete), C(old_workers), C(waited_s)).
  returned: when drain_timeout > 0 and a slot was taken out (haproxy) or nginx reloaded
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.aws import aws_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import router_argument_spec, router_rules
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import switch_service
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import NotEmpty, Number

# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = dict(router_rules(), **{
    "active": NotEmpty("a slot name"),
    "drain_timeout": Number(0, 3600),
    "alb_stickiness_duration": Number(0, 604800),
})


def main():
    argument_spec = router_argument_spec()
    argument_spec.update(
        weights=dict(type="dict"),
        active=dict(type="str"),
        drain_timeout=dict(type="float", default=0.0),
        require_healthy=dict(type="bool", default=True),
        alb_stickiness_duration=dict(type="int"),
    )
    argument_spec.update(aws_argument_spec())
    argument_spec.update(deadline_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("weights", "active"), ("alb_listener_arn", "alb_rule_arn")],
        required_one_of=[("weights", "active")],
        supports_check_mode=True,
    )
    run_module(module, switch_service, rules=RULES)


if __name__ == "__main__":
    main()
