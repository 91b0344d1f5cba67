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
"""

from __future__ import annotations

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

    def __init__(self, aws_options, slots, listener_arn=None, rule_arn=None, stickiness_duration=None):
        if bool(listener_arn) == bool(rule_arn):
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
