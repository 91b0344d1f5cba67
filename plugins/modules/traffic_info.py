#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: traffic_info
short_description: Read where the traffic goes on HAProxy, nginx or an AWS ALB
version_added: 1.0.0
description:
  - Reads the current split between slots of a router - percent per slot, the active slot (the one
    with 100%, if any) and each member's weight and state - so that playbooks and rollbacks know where
    traffic is before they move it.
  - Takes the same router options as M(shipyard.deploy.traffic_switch).
  - RV(member_states) says which members are in rotation, draining or in maintenance (see
    M(shipyard.deploy.traffic_member)).
  - "C(haproxy): C(show servers state) of the backend (weights, C(ready)/C(drain)/C(maint), up/down).
    C(nginx): the upstream block of O(nginx_include) (a missing file reads as 0% everywhere).
    C(aws_alb): the weights of the target groups in the listener's or rule's forward action, and the
    targets registered in each group."
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - shipyard.deploy.router
  - shipyard.deploy.aws
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Only reads; runs the same in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Where is the traffic?
  shipyard.deploy.traffic_info:
    driver: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    haproxy_backend: app
  register: traffic

- name: Roll back to the slot that was active before
  shipyard.deploy.traffic_switch:
    driver: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    haproxy_backend: app
    haproxy_state_file: /var/lib/haproxy/server-state
    active: "{{ 'blue' if traffic.active == 'green' else 'green' }}"
"""

RETURN = r"""
driver:
  description: The driver used.
  returned: always
  type: str
weights:
  description: Percent of the traffic per slot.
  returned: success
  type: dict
  sample: {blue: 95, green: 5}
active:
  description: The slot receiving all traffic, or null while traffic is split.
  returned: success
  type: str
  sample: blue
slots:
  description:
    - Per slot, its percent (C(weight)) and C(members), each with C(name), router C(weight) and C(state)
      (HAProxy - C(ready), C(drain) or C(maint), plus C(address) and C(operational); nginx - C(up), C(down)
      or C(absent)).
  returned: success
  type: dict
member_states:
  description:
    - The state of every member, by slot - HAProxy C(ready), C(drain) or C(maint); nginx C(up), C(down)
      (slot at 0%), C(maint) (taken out with M(shipyard.deploy.traffic_member)) or C(absent); ALB, per
      registered target C(Id:Port) of the slot's target group, C(registered) or C(draining).
  returned: success
  type: dict
  sample: {blue: {blue_1: ready, blue_2: maint}, green: {green_1: drain}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.aws import aws_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import router_argument_spec, router_rules
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import info_service

# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = router_rules()


def main():
    argument_spec = router_argument_spec()
    argument_spec.update(aws_argument_spec())
    argument_spec.update(deadline_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("alb_listener_arn", "alb_rule_arn")],
        supports_check_mode=True,
    )
    run_module(module, info_service, rules=RULES)


if __name__ == "__main__":
    main()
