# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS Application Load Balancer driver: weighted target groups in one forward action.

Each slot is one target group.  The forward action of a listener's default actions (or of one
listener rule) gets ``ForwardConfig.TargetGroups`` with the slots' percentages as weights
(ALB weights are 0..999, so a percentage is used as is), other actions of the listener or rule
(authentication, for instance) are kept.  Before a slot gains traffic, ``describe-target-health``
must show at least one healthy target in its group.  Optional group stickiness is set in the
same call.  Every AWS call goes through module_utils/aws.py (client factory, jittered retries).

Members (routers/members.py) are the targets of a slot's group, named ``Id`` or ``Id:Port``:
``drained`` and ``maintenance`` deregister them (the ALB stops sending new requests and lets
those in flight finish for the group's ``deregistration_delay.timeout_seconds``; ``drained`` waits
that out, up to ``drain_timeout``), ``enabled`` registers them again.
"""

from __future__ import annotations

import time

from ansible_collections.shipyard.deploy.plugins.module_utils import aws
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RouterError
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import Router, Split, split_percent


@aws.retry()
def _describe_listener(client, arn):
    return client.describe_listeners(ListenerArns=[arn])["Listeners"][0]


@aws.retry()
def _describe_rule(client, arn):
    return client.describe_rules(RuleArns=[arn])["Rules"][0]


@aws.retry()
def _modify_listener(client, arn, actions):
    return client.modify_listener(ListenerArn=arn, DefaultActions=actions)


@aws.retry()
def _modify_rule(client, arn, actions):
    return client.modify_rule(RuleArn=arn, Actions=actions)


@aws.retry()
def _target_health(client, arn):
    return client.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]


@aws.retry()
def _register_targets(client, arn, targets):
    return client.register_targets(TargetGroupArn=arn, Targets=targets)


@aws.retry()
def _deregister_targets(client, arn, targets):
    return client.deregister_targets(TargetGroupArn=arn, Targets=targets)


@aws.retry()
def _group_attributes(client, arn):
    return client.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]


def parse_target(name):
    """``i-0abc`` / ``i-0abc:8080`` / ``10.0.1.5:80`` -> (Id, Port or None)."""
    target, sep, port = name.rpartition(":")
    if sep and port.isdigit() and target:
        return target, int(port)
    return name, None


def target_state(health):
    """registered, draining or unregistered, from describe-target-health's State of a target."""
    return {"draining": "draining", "unused": "registered"}.get(health, "registered")


def forward_groups(actions):
    """{target group ARN: weight} of the forward action in ``actions`` (a single group weighs 1)."""
    for action in actions:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
        if groups:
            return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
        if action.get("TargetGroupArn"):
            return {action["TargetGroupArn"]: 1}
    return {}


def forward_stickiness(actions):
    """The TargetGroupStickinessConfig of the forward action, or None."""
    for action in actions:
        if action.get("Type") == "forward":
            return (action.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig")
    return None


class AlbRouter(Router):
    """Slots = target groups of the forward action of ``listener_arn`` or ``rule_arn``."""

    driver = "aws_alb"

    def __init__(self, aws_options, slots, listener_arn=None, rule_arn=None, stickiness_duration=None,
                 members_only=False):
        # member operations work on target groups alone; weights need the forward action
        if (listener_arn and rule_arn) or not (listener_arn or rule_arn or members_only):
            raise ConfigurationError("driver aws_alb needs exactly one of alb_listener_arn or alb_rule_arn")
        if not slots:
            raise ConfigurationError("driver aws_alb needs slots: {slot: target group ARN}")
        for slot, members in slots.items():
            if len(members) != 1:
                raise ConfigurationError(
                    "slot %s has %d target groups; with aws_alb each slot is exactly one target group ARN"
                    % (slot, len(members))
                )
        self.client = aws.client("elbv2", aws_options)
        self.listener_arn = listener_arn
        self.rule_arn = rule_arn
        self._slots = slots
        self.groups = {slot: members[0] for slot, members in slots.items()}
        self.stickiness_duration = stickiness_duration

    def slots(self):
        """{slot: [target group ARN]}."""
        return self._slots

    def _call(self, func, *args):
        try:
            return func(self.client, *args)
        except (aws.botocore.exceptions.ClientError, aws.botocore.exceptions.BotoCoreError) as exc:
            raise aws.AwsError(
                "ELBv2 %s failed on %s: %s; check the ARN, the region and the credentials' elasticloadbalancing "
                "permissions" % (func.__name__.strip("_"), args[0], exc), code=aws.error_code(exc)
            ) from None

    def _actions(self):
        if self.listener_arn:
            return self._call(_describe_listener, self.listener_arn)["DefaultActions"]
        return self._call(_describe_rule, self.rule_arn)["Actions"]

    def _split(self, groups, stickiness):
        unknown = [arn for arn in groups if arn not in self.groups.values()]
        if unknown:
            raise ConfigurationError(
                "the forward action also sends traffic to %s, which is in no slot; add it to slots"
                % ", ".join(unknown)
            )
        weights = {slot: [groups.get(arn, 0)] for slot, arn in self.groups.items()}
        members = {slot: [{"name": arn, "weight": groups.get(arn, 0)}] for slot, arn in self.groups.items()}
        sticky = stickiness if stickiness and stickiness.get("Enabled") else None
        key = (tuple(sorted((arn, groups.get(arn, 0)) for arn in self.groups.values())),
               sticky.get("DurationSeconds") if sticky else 0)
        return Split(split_percent(weights), members, key)

    def read(self):
        """The weights of the slots' target groups in the forward action."""
        actions = self._actions()
        groups = forward_groups(actions)
        if not groups:
            raise RouterError("%s has no forward action; create one that forwards to the slots' target groups"
                              % (self.listener_arn or self.rule_arn))
        self._current_actions = actions
        return self._split(groups, forward_stickiness(actions))

    def plan(self, percent, before):
        """Percentages become target group weights unchanged (ALB weights are 0..999)."""
        groups = {arn: int(percent[slot]) for slot, arn in self.groups.items()}
        stickiness = forward_stickiness(self._current_actions)
        if self.stickiness_duration is not None:
            stickiness = ({"Enabled": True, "DurationSeconds": int(self.stickiness_duration)}
                          if self.stickiness_duration > 0 else {"Enabled": False})
        self._target_stickiness = stickiness
        return self._split(groups, stickiness)

    def unready_slots(self, slots):
        """Slots whose target group has no target in state 'healthy'."""
        bad = []
        for slot in slots:
            health = self._call(_target_health, self.groups[slot])
            if not any(t.get("TargetHealth", {}).get("State") == "healthy" for t in health):
                bad.append(slot)
        return bad

    def apply(self, target, before):
        """Replace the forward action (other actions kept) with the new weights and stickiness."""
        forward = {"Type": "forward", "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": self.groups[slot], "Weight": int(target.percent[slot])}
                             for slot in self.groups]}}
        if self._target_stickiness is not None:
            forward["ForwardConfig"]["TargetGroupStickinessConfig"] = self._target_stickiness
        actions = []
        for action in self._current_actions:
            if action.get("Type") == "forward":
                if "Order" in action:
                    forward["Order"] = action["Order"]
                actions.append(forward)
            else:
                actions.append(action)
        if self.listener_arn:
            self._call(_modify_listener, self.listener_arn, actions)
        else:
            self._call(_modify_rule, self.rule_arn, actions)
        return {}

    # --- member operations (routers/members.py) -------------------------------------------
    def read_members(self, slot=None):
        """{Id:Port: {name, slot, state (registered/draining), health, id, port}} of the slots' target groups."""
        if slot is not None and slot not in self.groups:
            raise ConfigurationError("slot %r is not one of %s" % (slot, ", ".join(self.groups)))
        rows = {}
        for name, arn in self.groups.items():
            if slot is not None and name != slot:
                continue
            for description in self._call(_target_health, arn):
                target = description["Target"]
                health = description.get("TargetHealth", {}).get("State")
                key = "%s:%s" % (target["Id"], target.get("Port"))
                rows[key] = {"name": key, "slot": name, "state": target_state(health), "health": health,
                             "id": target["Id"], "port": target.get("Port")}
        return rows

    def member_row(self, name, slot, rows):
        """The target ``name`` (``Id`` or ``Id:Port``) of ``slot``; an unregistered one when not found."""
        target_id, port = parse_target(name)
        found = [row for row in rows.values() if row["id"] == target_id and port in (None, row["port"])
                 and slot in (None, row["slot"])]
        if len(found) > 1:
            raise ConfigurationError("%s is registered %d times (%s); name it with its port, Id:Port"
                                     % (name, len(found), ", ".join(r["name"] for r in found)))
        if found:
            return dict(found[0], key=found[0]["name"], name=name)
        if slot is None and len(self.groups) == 1:
            slot = next(iter(self.groups))
        # slot None: out of every group (fine to keep out; member_target asks where to register it)
        return {"name": name, "key": name, "slot": slot, "state": "unregistered", "health": None,
                "id": target_id, "port": port}

    def member_target(self, row, operation):
        """enabled -> registered; drained and maintenance -> unregistered."""
        if operation != "enabled":
            return "unregistered"
        if row["slot"] is None:
            raise ConfigurationError(
                "target %s is registered in none of the target groups of slots %s; give slot: to say which "
                "group to register it in" % (row["name"], ", ".join(self.groups)))
        return "registered"

    def member_reached(self, target, actual):
        """A draining target counts as deregistered (the ALB sends it no new requests)."""
        return target == actual or (target == "unregistered" and actual == "draining")

    def member_serving(self, row):
        """Registered and healthy (or still in its initial health checks)."""
        return row["state"] == "registered" and row.get("health") in ("healthy", "initial", None)

    def apply_members(self, changes, operation, drain_timeout):
        """register-targets / deregister-targets per target group; ``drained`` waits out the deregistration."""
        by_group = {}
        for row, target in changes.values():
            spec = {"Id": row["id"]}
            if row.get("port"):
                spec["Port"] = int(row["port"])
            by_group.setdefault((self.groups[row["slot"]], target), []).append(spec)
        for (arn, target), specs in by_group.items():
            if target == "registered":
                self._call(_register_targets, arn, specs)
            else:
                self._call(_deregister_targets, arn, specs)
        result = {}
        leaving = [row for row, target in changes.values() if target == "unregistered"]
        if leaving:
            delays = {}
            for slot in sorted({row["slot"] for row in leaving}):
                attributes = {a["Key"]: a["Value"] for a in self._call(_group_attributes, self.groups[slot])}
                delays[slot] = int(attributes.get("deregistration_delay.timeout_seconds", 300))
            result["deregistration_delay"] = delays
            if operation == "drained":
                result["drain"] = self._wait_deregistered(leaving, drain_timeout)
                if not result["drain"]["complete"]:
                    result["warnings"] = [
                        "targets %s were still draining after %.0fs (deregistration delay %s s); the ALB sends them "
                        "no new requests and ends their connections when the delay is over"
                        % (", ".join(result["drain"]["draining"]), drain_timeout, max(delays.values()))]
        return result

    def _wait_deregistered(self, rows, timeout):
        started = time.monotonic()
        while True:
            registered = [(slot, d["Target"]["Id"], d["Target"].get("Port"))
                          for slot in {row["slot"] for row in rows}
                          for d in self._call(_target_health, self.groups[slot])]
            left = [row["name"] for row in rows if any(
                (s, i) == (row["slot"], row["id"]) and row.get("port") in (None, p) for s, i, p in registered)]
            waited = time.monotonic() - started
            if not left or waited >= timeout:
                return {"complete": not left, "draining": left, "waited_s": round(waited, 3)}
            time.sleep(min(1.0, max(0.1, timeout / 20.0)))
