# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Router interface shared by the HAProxy, nginx and ALB drivers, and the weight arithmetic.

Users speak in percentages per slot (``{"blue": 95, "green": 5}``).  A router speaks in weights
per member (an HAProxy server, an nginx upstream server, an ALB target group).  This module turns
one into the other, validates the input, and runs a switch: read, plan, (check mode stops here),
apply, read back, compare.

Percent -> member weights (:func:`member_weights`): a slot with percentage ``P`` and ``N``
members gives each member the weight ``P * k / N``, with the smallest integer ``k`` for which every
such weight is a whole number no larger than the router's maximum (256 for HAProxy).  The split is
then exact: one server per slot gives weight = percentage (95/5 -> 95 and 5), two blue servers at
95 % and one green at 5 % give 95, 95 and 10.  When no such ``k`` exists (for example 7 and 11
servers with odd percentages), the member with the largest share gets the maximum weight and the
others are rounded in proportion (never below 1 for a slot above 0 %); the result then reports the
percentages really in effect (``after``), which differ from the request by a fraction of a percent.
"""

from __future__ import annotations

import math
import time

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RouterError
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import NotEmpty, Number

DRIVERS = ("haproxy", "nginx", "aws_alb")


def router_argument_spec():
    """Options shared by traffic_switch and traffic_info (see the ``router`` doc fragment)."""
    return dict(
        driver=dict(type="str", required=True, choices=list(DRIVERS)),
        slots=dict(type="dict"),
        haproxy_socket=dict(type="str"),
        haproxy_backend=dict(type="str"),
        haproxy_state_file=dict(type="path"),
        nginx_include=dict(type="path"),
        nginx_upstream=dict(type="str", default="app"),
        nginx_config=dict(type="path", default="/etc/nginx/nginx.conf"),
        nginx_binary=dict(type="path", default="nginx"),
        nginx_pid_file=dict(type="path", default="/run/nginx.pid"),
        nginx_server_options=dict(type="str", default=""),
        nginx_upstream_options=dict(type="list", elements="str", default=[]),
        alb_listener_arn=dict(type="str"),
        alb_rule_arn=dict(type="str"),
        timeout=dict(type="float", default=10.0),
    )


def router_rules():
    """Validation rules (module_utils/validation.py) of the options of :func:`router_argument_spec`."""
    return {
        "timeout": Number(above=0, maximum=600, hint="seconds one router call may take"),
        "slots": NotEmpty("{slot: [member, ...]}"),
        "haproxy_socket": NotEmpty("the runtime API socket path or host:port"),
        "nginx_upstream": NotEmpty("the upstream name"),
    }


def normalise_slots(slots):
    """``slots`` option -> {slot: [member, ...]}; a single string is a one-member slot."""
    if slots is None:
        return None
    result = {}
    for slot, members in slots.items():
        if isinstance(members, str):
            members = [members]
        if not isinstance(members, (list, tuple)) or not members:
            raise ConfigurationError(
                "slots.%s must be a non-empty list of members (server names, addresses or target group "
                "ARNs), got %r" % (slot, members)
            )
        result[str(slot)] = [str(m) for m in members]
    seen = {}
    for slot, members in result.items():
        for member in members:
            if member in seen:
                raise ConfigurationError(
                    "%s is listed in both slot %s and slot %s; a member belongs to one slot"
                    % (member, seen[member], slot)
                )
            seen[member] = slot
    return result


def requested_weights(weights, active, known_slots):
    """Validate ``weights`` or ``active`` against ``known_slots``; return {slot: int percent} for all slots.

    Slots not named in ``weights`` get 0 %.  Raises ConfigurationError, saying what to fix, when
    a slot is unknown, a weight is not a whole number in 0..100, or the weights do not sum to 100.
    """
    known = list(known_slots)
    if (weights is None) == (active is None):
        raise ConfigurationError("give exactly one of weights (percent per slot) or active (one slot)")
    if active is not None:
        if active not in known:
            raise ConfigurationError(
                "active slot %r is not one of the router's slots %s" % (active, ", ".join(known))
            )
        return {slot: (100 if slot == active else 0) for slot in known}
    if not weights:
        raise ConfigurationError("weights is empty; give a percentage per slot, e.g. {blue: 90, green: 10}")
    unknown = [slot for slot in weights if slot not in known]
    if unknown:
        raise ConfigurationError(
            "unknown slot %s in weights; the router's slots are %s"
            % (", ".join(map(repr, unknown)), ", ".join(known))
        )
    result = {slot: 0 for slot in known}
    for slot, value in weights.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigurationError("weight of slot %s is %r, not a number" % (slot, value)) from None
        if not math.isfinite(number) or number != int(number) or not 0 <= number <= 100:
            raise ConfigurationError(
                "weight of slot %s is %r; weights are whole percentages from 0 to 100" % (slot, value)
            )
        result[slot] = int(number)
    total = sum(result.values())
    if total != 100:
        raise ConfigurationError(
            "weights %s sum to %d, not 100; they are percentages of the traffic"
            % (", ".join("%s=%d" % kv for kv in result.items()), total)
        )
    return result


def member_weights(percent, sizes, max_weight):
    """{slot: weight of each member of that slot} for {slot: percent} and {slot: member count}.

    See the module docstring for the mapping; slots at 0 % get weight 0.
    """
    live = {slot: p for slot, p in percent.items() if p > 0}
    if not live:
        raise ConfigurationError("at least one slot must receive traffic")
    for k in range(1, max_weight + 1):
        if all(p * k % sizes[slot] == 0 for slot, p in live.items()):
            weights = {slot: p * k // sizes[slot] for slot, p in live.items()}
            if max(weights.values()) <= max_weight:
                return {slot: weights.get(slot, 0) for slot in percent}
            break
    top = max(p / sizes[slot] for slot, p in live.items())
    return {slot: (max(1, round(max_weight * p / sizes[slot] / top)) if p > 0 else 0) for slot, p in percent.items()}


def split_percent(weights_by_slot):
    """{slot: [member weight, ...]} -> {slot: percent of traffic}; whole numbers when exact."""
    totals = {slot: sum(ws) for slot, ws in weights_by_slot.items()}
    grand = sum(totals.values())
    result = {}
    for slot, total in totals.items():
        share = 100.0 * total / grand if grand else 0.0
        result[slot] = round(share) if abs(share - round(share)) < 1e-9 else round(share, 2)
    return result


def active_slot(percent):
    """The slot receiving all traffic, or None while the traffic is split."""
    full = [slot for slot, p in percent.items() if p == 100]
    return full[0] if full else None


class Split:
    """What a router does now: percent per slot and the members behind it.

    ``members`` is {slot: [{"name": ..., "weight": ..., "state": ..., ...}]}; ``key`` is the
    driver's comparable form of the settings it manages (equal keys = nothing to change).
    """

    def __init__(self, percent, members, key):
        self.percent = percent
        self.members = members
        self.key = key

    def as_dict(self):
        """The result form: weights, active slot and the members of each slot."""
        return {"weights": dict(self.percent), "active": active_slot(self.percent),
                "slots": {slot: {"weight": self.percent.get(slot, 0), "members": members}
                          for slot, members in self.members.items()}}


class Router:
    """A traffic router with slots of members.  Drivers implement the four methods below."""

    driver = None

    def slots(self):
        """{slot: [member, ...]} this router manages."""
        raise NotImplementedError

    def read(self):
        """The current :class:`Split`."""
        raise NotImplementedError

    def plan(self, percent, before):
        """The :class:`Split` that ``percent`` ({slot: int}) would give, computed without changing anything."""
        raise NotImplementedError

    def apply(self, target, before):
        """Make the router match ``target`` (a :class:`Split` from :meth:`plan`); return extra result keys."""
        raise NotImplementedError

    def unready_slots(self, slots):
        """Those of ``slots`` that have nothing healthy to send traffic to (drivers that can tell)."""
        return []

    # member-level operations (routers/members.py runs them: read, plan, apply, read back)
    def read_members(self, slot=None):
        """{member: {"name", "slot", "state", "weight", ...}} of every member (of ``slot`` when given).

        ``state`` is the driver's own word (HAProxy ready/drain/maint, nginx up/down/maint, ALB
        registered/draining/unregistered); names a member operation may add (an ALB target that
        is not registered yet) are resolved by :meth:`member_row`.
        """
        raise NotImplementedError

    def member_row(self, name, slot, rows):
        """The row of member ``name`` in ``rows`` (from :meth:`read_members`); ConfigurationError if unknown."""
        if name not in rows:
            raise ConfigurationError(
                "%s is not a member of any slot of this %s router; its members are %s"
                % (name, self.driver, ", ".join(sorted(rows)) or "none")
            )
        return rows[name]

    def member_target(self, row, operation):
        """The state ``operation`` (enabled, drained, maintenance) leads ``row`` to."""
        raise NotImplementedError

    def member_reached(self, target, actual):
        """Whether a member in state ``actual`` has reached ``target`` (drivers with in-between states widen this)."""
        return target == actual

    def member_serving(self, row):
        """Whether the member of ``row`` (possibly a planned one) receives new requests."""
        raise NotImplementedError

    def apply_members(self, changes, operation, drain_timeout):
        """Bring each member of ``changes`` ({name: (row before, target state)}) to its target; extra result keys."""
        raise NotImplementedError


def switch(router, percent, check_mode=False, diff_mode=False, require_healthy=True):
    """Move traffic to ``percent`` ({slot: int}, validated) and return the module result.

    ``changed`` only when the managed settings differ; in check mode nothing is written and
    ``after`` is the prediction.  With ``require_healthy``, a slot whose share would grow must
    have something healthy behind it, else RouterError before anything changes.  After writing,
    the router is read back and a mismatch raises RouterError (the write did not take).
    """
    started = time.monotonic()
    before = router.read()
    target = router.plan(percent, before)
    changed = target.key != before.key
    if changed and require_healthy:
        growing = [slot for slot, p in percent.items() if p > 0 and p > before.percent.get(slot, 0)]
        unready = router.unready_slots(growing) if growing else []
        if unready:
            raise RouterError(
                "refusing to shift traffic to slot(s) %s: no healthy member behind them (%s); fix or "
                "register them first, or set require_healthy=false to override"
                % (", ".join(unready), router.driver),
                before=before.as_dict()["weights"],
            )
    extra = {}
    if changed and not check_mode:
        extra = router.apply(target, before) or {}
        after = router.read()
        if after.key != target.key:
            raise RouterError(
                "%s did not take the new weights: asked for %s, read back %s; the router may have been "
                "changed concurrently or refused part of the change - check it with traffic_info"
                % (router.driver, target.percent, after.percent),
                before=before.as_dict()["weights"], read_back=after.as_dict()["weights"],
            )
    else:
        after = target if changed else before
    result = {
        "changed": changed,
        "driver": router.driver,
        "requested": dict(percent),
        "before": before.as_dict(),
        "after": after.as_dict(),
        "duration_ms": round((time.monotonic() - started) * 1000.0, 2),
    }
    return finish_result(result, extra, (_diff_text(before), _diff_text(after), "%s weights" % router.driver)
                         if diff_mode else None)


def finish_result(result, extra, diff=None):
    """Add a driver's ``extra`` keys to ``result`` (its warnings last) and ``diff`` (before, after, header)."""
    warnings = extra.pop("warnings", None)
    result.update(extra)
    if warnings:
        result["warnings"] = warnings
    if diff is not None:
        before, after, header = diff
        result["diff"] = {"before": before, "after": after, "before_header": header, "after_header": header}
    return result


def _diff_text(split):
    lines = []
    for slot, members in split.members.items():
        lines.append("%s: %s%%" % (slot, split.percent.get(slot, 0)))
        for member in members:
            lines.append("  %s weight=%s%s" % (member["name"], member.get("weight"),
                                               " " + member["state"] if member.get("state") else ""))
    return "\n".join(lines) + "\n"
