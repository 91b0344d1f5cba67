#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: traffic_member
short_description: Drain, put in maintenance or enable single servers of HAProxy, nginx or an AWS ALB
version_added: 1.1.0
description:
  - Takes single members of a router out of rotation and back, for example one app host at a time
    during a rolling upgrade. Members are HAProxy servers of O(haproxy_backend), C(host:port) servers of
    the nginx upstream, or targets of a slot's ALB target group.
  - "O(state=drained): no new requests, then wait until the requests in flight are done. HAProxy -
    C(set server <backend>/<server> state drain), wait until its current sessions (C(scur)) are 0 or
    O(drain_timeout) passes, then C(state maint). nginx - the server gets C(down) in O(nginx_include),
    C(nginx -t), graceful reload, then wait for the old workers to finish their requests. ALB -
    deregister the target and wait out the target group's deregistration delay (at most
    O(drain_timeout))."
  - "O(state=maintenance): out of rotation at once (HAProxy C(state maint), nginx C(down), ALB deregistered),
    without waiting."
  - "O(state=enabled): back in rotation under its slot's weights (HAProxy C(state ready), or C(drain)
    while its slot is at 0%; nginx without C(down); ALB registered again)."
  - A member taken out stays out across M(shipyard.deploy.traffic_switch) and (with O(haproxy_state_file))
    HAProxy reloads until it is enabled again. The state is read back after the change; C(changed) only
    when a member's state changed.
  - Refuses (before changing anything) to take out the last members that receive traffic, unless
    O(force=true). Unknown members fail before anything is changed.
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - shipyard.deploy.router
  - shipyard.deploy.aws
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Reads the members and reports the states they would get; changes and waits for nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Shows each member's state before and after.
options:
  members:
    description:
      - The members to change - HAProxy server names, nginx C(host:port) of upstream servers (as in
        O(slots)), ALB target IDs as C(Id) or C(Id:Port) (instance ID or IP address).
    type: list
    elements: str
    required: true
  state:
    description:
      - What the members should be; see the description.
    type: str
    required: true
    choices: [enabled, drained, maintenance]
  slot:
    description:
      - The slot the members belong to. Required with O(driver=aws_alb) when several slots are given and
        a target is not registered in any of their groups (the module cannot tell where to register it);
        otherwise it restricts the members to that slot.
    type: str
  drain_timeout:
    description:
      - With O(state=drained), the most seconds to wait for the requests in flight (HAProxy sessions,
        old nginx workers, the ALB's deregistration delay). Reaching it is a warning; the member is put
        in maintenance (HAProxy) or stays deregistered (ALB) anyway.
    type: float
    default: 30
  force:
    description:
      - Take the members out even when no other member would receive traffic (an outage).
    type: bool
    default: false
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Take app2 out of rotation before upgrading it
  shipyard.deploy.traffic_member:
    driver: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    haproxy_backend: app
    haproxy_state_file: /var/lib/haproxy/server-state
    members: [blue_2]
    state: drained
    drain_timeout: 60

- name: And back in
  shipyard.deploy.traffic_member:
    driver: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    haproxy_backend: app
    haproxy_state_file: /var/lib/haproxy/server-state
    members: [blue_2]
    state: enabled

- name: nginx - mark one upstream server down
  shipyard.deploy.traffic_member:
    driver: nginx
    nginx_include: /etc/nginx/conf.d/app-upstream.conf
    slots:
      blue: [10.0.1.11:8080, 10.0.1.12:8080]
      green: [10.0.2.11:8080, 10.0.2.12:8080]
    members: [10.0.1.12:8080]
    state: maintenance

- name: ALB - deregister an instance and wait for its connections to drain
  shipyard.deploy.traffic_member:
    driver: aws_alb
    region: eu-west-1
    slots:
      blue: ["{{ blue_tg_arn }}"]
    members: ["{{ instance_id }}:8080"]
    state: drained
    drain_timeout: 120
"""

RETURN = r"""
driver:
  description: The driver used.
  returned: always
  type: str
  sample: haproxy
state:
  description: The operation asked for.
  returned: success
  type: str
  sample: drained
members:
  description:
    - One entry per member of O(members), with its C(name), C(slot), state C(before) and C(after) (read back;
      in check mode the prediction), and whether it C(changed).
    - States - HAProxy C(ready), C(drain), C(maint); nginx C(up), C(down) (slot at 0%), C(maint), C(absent);
      ALB C(registered), C(draining), C(unregistered).
  returned: success
  type: list
  elements: dict
  sample: [{name: blue_2, slot: blue, before: ready, after: maint, changed: true}]
duration_ms:
  description: How long the task took, waiting for the drain included.
  returned: success
  type: float
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
    - The wait of O(state=drained) - C(complete) and C(waited_s), with C(sessions) left per server (HAProxy),
      C(old_workers) left (nginx) or the targets still C(draining) (ALB).
  returned: when state is drained and something changed
  type: dict
deregistration_delay:
  description: The deregistration delay of each slot's target group, in seconds.
  returned: when driver is aws_alb and targets were deregistered
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.aws import aws_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import router_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import member_service


def main():
    argument_spec = router_argument_spec()
    argument_spec.update(
        members=dict(type="list", elements="str", required=True),
        state=dict(type="str", required=True, choices=["enabled", "drained", "maintenance"]),
        slot=dict(type="str"),
        drain_timeout=dict(type="float", default=30.0),
        force=dict(type="bool", default=False),
    )
    argument_spec.update(aws_argument_spec())
    argument_spec.update(deadline_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("alb_listener_arn", "alb_rule_arn")],
        supports_check_mode=True,
    )
    run_module(module, member_service)


if __name__ == "__main__":
    main()
