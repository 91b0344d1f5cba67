# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service functions of traffic_switch, traffic_member and traffic_info: build the router a task
names, then switch it, change some of its members, or read it (see routers/base.py for the Router
interface and the weight arithmetic, routers/members.py for member operations)."""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import (
    normalise_slots,
    requested_weights,
    switch,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.members import (
    change_members,
    member_states,
    validate_members,
)


def build_router(params, members_only=False):
    """The Router for ``params['driver']`` from the module options (imports only that driver).

    ``members_only``: the task changes members, not weights (an ALB router then needs no listener).
    """
    driver = params["driver"]
    slots = normalise_slots(params.get("slots"))
    drain_timeout = params.get("drain_timeout") or 0.0
    timeout = params.get("timeout") or 10.0
    if driver == "haproxy":
        from ansible_collections.shipyard.deploy.plugins.module_utils.routers.haproxy import HAProxyRouter

        return HAProxyRouter(params.get("haproxy_socket"), params.get("haproxy_backend"), slots=slots,
                             state_file=params.get("haproxy_state_file"), drain_timeout=drain_timeout,
                             timeout=timeout)
    if driver == "nginx":
        from ansible_collections.shipyard.deploy.plugins.module_utils.routers.nginx import NginxRouter

        return NginxRouter(params.get("nginx_include"), slots, upstream=params.get("nginx_upstream") or "app",
                           config=params.get("nginx_config"), binary=params.get("nginx_binary") or "nginx",
                           pid_file=params.get("nginx_pid_file"),
                           server_options=params.get("nginx_server_options") or "",
                           upstream_options=params.get("nginx_upstream_options") or (),
                           drain_timeout=drain_timeout, timeout=timeout)
    from ansible_collections.shipyard.deploy.plugins.module_utils.routers.alb import AlbRouter

    return AlbRouter(params, slots, listener_arn=params.get("alb_listener_arn"),
                     rule_arn=params.get("alb_rule_arn"), stickiness_duration=params.get("alb_stickiness_duration"),
                     members_only=members_only)


def switch_service(params, check_mode, diff_mode):
    """traffic_switch: validate the requested split, then move the traffic (or predict it in check mode)."""
    router = build_router(params)
    percent = requested_weights(params.get("weights"), params.get("active"), list(router.slots()))
    return switch(router, percent, check_mode=check_mode, diff_mode=diff_mode,
                  require_healthy=params.get("require_healthy", True))


def info_service(params, check_mode, diff_mode):
    """traffic_info: where the traffic goes now (weights, active slot, members of each slot)."""
    router = build_router(params)
    result = {"changed": False, "driver": router.driver}
    result.update(router.read().as_dict())
    result["member_states"] = member_states(router)
    return result


def member_service(params, check_mode, diff_mode):
    """traffic_member: drain, put in maintenance or enable single members (predicted in check mode)."""
    validate_members(params.get("members"), params.get("state"), params.get("drain_timeout"))
    router = build_router(params, members_only=True)
    return change_members(router, params.get("members"), params["state"], slot=params.get("slot"),
                          drain_timeout=params.get("drain_timeout"), force=params.get("force", False),
                          check_mode=check_mode, diff_mode=diff_mode)
