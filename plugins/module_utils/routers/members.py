# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Member-level operations of a router: take single servers (targets) out of rotation and back.

Three operations, the same words for every driver (routers/haproxy.py, nginx.py, alb.py say what
each one does on their router):

- ``drained``: no new requests, wait until the requests in flight are done (HAProxy: ``state
  drain`` until its sessions reach 0 or ``drain_timeout``, then ``maint``; nginx: ``down`` and a
  graceful reload, waiting for the old workers; ALB: deregistration, waiting out the target
  group's deregistration delay), so the member can be stopped or upgraded;
- ``maintenance``: out of rotation at once, without waiting;
- ``enabled``: back under the control of its slot's weights (a member of a slot at 0 % stays
  without traffic until its slot gets some).

A member taken out this way stays out across traffic switches and reloads until it is enabled
again.  The flow is the one of a weight switch: read, plan (check mode stops here), refuse to
take the last serving member out (unless ``force``), apply, read back, compare.
"""

from __future__ import annotations

import time

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RouterError
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import finish_result

OPERATIONS = ("enabled", "drained", "maintenance")


def validate_members(names, operation, drain_timeout):
    """Check the module input before the router is asked anything; return the member names as a list."""
    if operation not in OPERATIONS:
        raise ConfigurationError("state %r is not one of %s" % (operation, ", ".join(OPERATIONS)))
    if isinstance(names, str):
        names = [names]
    names = [str(n).strip() for n in names or []]
    if not names or not all(names):
        raise ConfigurationError("members is empty; name the servers (HAProxy), host:port (nginx) or "
                                 "targets (ALB) to change")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigurationError("members lists %s more than once" % ", ".join(repeated))
    if drain_timeout is not None and drain_timeout < 0:
        raise ConfigurationError("drain_timeout must be zero or more seconds, not %s" % drain_timeout)
    return names


def change_members(router, names, operation, slot=None, drain_timeout=30.0, force=False,
                   check_mode=False, diff_mode=False):
    """Apply ``operation`` to the members ``names`` of ``router``; return the module result.

    Raises ConfigurationError for an unknown member (nothing changed), RouterError when the
    change would leave no member receiving traffic (without ``force``) or when the read-back
    disagrees with the plan.
    """
    names = validate_members(names, operation, drain_timeout)
    started = time.monotonic()
    rows = router.read_members(slot)
    selected = {name: router.member_row(name, slot, rows) for name in names}
    targets = {name: router.member_target(row, operation) for name, row in selected.items()}
    changes = {name: (selected[name], target) for name, target in targets.items()
               if not router.member_reached(target, selected[name]["state"])}
    if changes and not force:
        # rows are keyed by the router's own names (an ALB target's Id:Port), changes by the task's
        _refuse_last_serving(router, rows, {row.get("key", name): target for name, (row, target) in changes.items()})
    extra = {}
    after_rows = dict(selected)
    if changes and not check_mode:
        extra = router.apply_members(changes, operation, drain_timeout or 0.0) or {}
        read_back = router.read_members(slot)
        # each member in the slot it was found in (a deregistered ALB target is in no group's listing)
        after_rows = {name: router.member_row(name, selected[name].get("slot") or slot, read_back) for name in names}
        wrong = {name: after_rows[name]["state"] for name, (_row, target) in changes.items()
                 if not router.member_reached(target, after_rows[name]["state"])}
        if wrong:
            raise RouterError(
                "%s did not take the member change: asked for %s, read back %s; the router may have been "
                "changed concurrently - check it with traffic_info"
                % (router.driver, ", ".join("%s=%s" % (n, changes[n][1]) for n in wrong),
                   ", ".join("%s=%s" % kv for kv in wrong.items())),
                read_back={n: r["state"] for n, r in after_rows.items()},
            )
    elif changes:
        after_rows = {name: dict(row, state=changes[name][1]) if name in changes else row
                      for name, row in selected.items()}
    members = [{"name": name, "slot": selected[name].get("slot"), "before": selected[name]["state"],
                "after": after_rows[name]["state"], "changed": name in changes} for name in names]
    result = {
        "changed": bool(changes),
        "driver": router.driver,
        "state": operation,
        "members": members,
        "duration_ms": round((time.monotonic() - started) * 1000.0, 2),
    }
    diff = None
    if diff_mode:
        diff = ("".join("%s: %s\n" % (m["name"], m["before"]) for m in members),
                "".join("%s: %s\n" % (m["name"], m["after"]) for m in members), "%s members" % router.driver)
    return finish_result(result, extra, diff)


def _refuse_last_serving(router, rows, targets):
    """RouterError when the members serving now would all stop serving with ``targets`` ({key: state})."""
    serving_now = [name for name, row in rows.items() if router.member_serving(row)]
    if not serving_now:
        return
    planned = {name: dict(row, state=targets[name]) if name in targets else row for name, row in rows.items()}
    if not any(router.member_serving(row) for row in planned.values()):
        raise RouterError(
            "refusing to take %s out: %s would be left with no member receiving traffic (serving now: %s); "
            "enable another member or shift traffic first, or set force=true to accept the outage"
            % (", ".join(sorted(targets)), router.driver, ", ".join(sorted(serving_now)))
        )


def member_states(router):
    """{slot: {member: state}} of every member, for traffic_info (every slot, an empty one too)."""
    states = {slot: {} for slot in router.slots()}
    for name, row in router.read_members().items():
        states.setdefault(row.get("slot"), {})[name] = row["state"]
    return states
