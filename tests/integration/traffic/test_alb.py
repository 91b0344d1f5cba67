"""traffic_switch / traffic_info with the aws_alb driver against moto_server's ELBv2 and EC2 APIs."""

from __future__ import annotations

import json
import uuid

import pytest
from harness.playbook import play
from harness.s3 import SECRET_KEY


@pytest.fixture
def alb(s3):
    """A VPC with two subnets, an ALB, target groups blue (two running instances) and green (empty),
    a listener forwarding everything to blue, and a path rule forwarding to blue as well."""
    ec2, elb = s3.client("ec2"), s3.client("elbv2")
    tag = uuid.uuid4().hex[:8]
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.%d.0/24" % i, AvailabilityZone="us-east-1" + az)
               ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name="lb-" + tag, Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    groups = {slot: elb.create_target_group(Name="%s-%s" % (slot, tag), Protocol="HTTP", Port=80, VpcId=vpc,
                                            TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
              for slot in ("blue", "green")}
    image = ec2.describe_images()["Images"][0]["ImageId"]

    def instances(count):
        found = ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count, SubnetId=subnets[0])
        return [i["InstanceId"] for i in found["Instances"]]

    elb.register_targets(TargetGroupArn=groups["blue"], Targets=[{"Id": i, "Port": 80} for i in instances(2)])
    listener = elb.create_listener(
        LoadBalancerArn=lb, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": groups["blue"], "Weight": 1}]}}])["Listeners"][0]["ListenerArn"]
    rule = elb.create_rule(ListenerArn=listener, Priority=10,
                           Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                           Actions=[{"Type": "forward", "TargetGroupArn": groups["blue"]}])["Rules"][0]["RuleArn"]
    options = dict(s3.module_options(), driver="aws_alb", alb_listener_arn=listener,
                   slots={"blue": [groups["blue"]], "green": [groups["green"]]})
    return {"elb": elb, "ec2": ec2, "groups": groups, "listener": listener, "rule": rule, "options": options,
            "instances": instances}


def listener_weights(alb, rule=False):
    elb = alb["elb"]
    actions = (elb.describe_rules(RuleArns=[alb["rule"]])["Rules"][0]["Actions"] if rule
               else elb.describe_listeners(ListenerArns=[alb["listener"]])["Listeners"][0]["DefaultActions"])
    forward = next(a for a in actions if a["Type"] == "forward")
    names = {arn: slot for slot, arn in alb["groups"].items()}
    single = {"TargetGroups": [{"TargetGroupArn": forward.get("TargetGroupArn"), "Weight": 1}]}
    config = forward.get("ForwardConfig") or single
    return ({names[g["TargetGroupArn"]]: g.get("Weight") for g in config["TargetGroups"]},
            config.get("TargetGroupStickinessConfig"))


def test_shift_to_a_group_without_healthy_targets_is_refused(alb, playbook):
    options = alb["options"]
    run = playbook.run(play([
        {"name": "empty green", "shipyard.deploy.traffic_switch": dict(options, weights={"blue": 90, "green": 10}),
         "ignore_errors": True},
    ]))
    assert run.status("empty green") == "failed"
    assert "refusing to shift traffic to slot(s) green" in run.task("empty green")["msg"]
    assert listener_weights(alb)[0] == {"blue": 1}

    stopped = alb["instances"](1)
    alb["elb"].register_targets(TargetGroupArn=alb["groups"]["green"], Targets=[{"Id": stopped[0], "Port": 80}])
    alb["ec2"].stop_instances(InstanceIds=stopped)  # its target is no longer healthy
    run = playbook.run(play([
        {"name": "stopped green", "shipyard.deploy.traffic_switch": dict(options, active="green"),
         "ignore_errors": True},
    ]))
    assert run.status("stopped green") == "failed"
    assert "no healthy member" in run.task("stopped green")["msg"]
    assert listener_weights(alb)[0] == {"blue": 1}


def test_weights_set_read_back_with_stickiness_check_mode_and_info(alb, playbook):
    elb, options = alb["elb"], alb["options"]
    elb.register_targets(TargetGroupArn=alb["groups"]["green"],
                         Targets=[{"Id": i, "Port": 80} for i in alb["instances"](1)])
    step = dict(options, weights={"blue": 80, "green": 20}, alb_stickiness_duration=300)
    run = playbook.run(play([{"name": "step", "shipyard.deploy.traffic_switch": step}]), check=True)
    assert run.rc == 0, run.output
    assert run.task("step")["changed"] and listener_weights(alb)[0] == {"blue": 1}

    run = playbook.run(play([
        {"name": "step", "shipyard.deploy.traffic_switch": step},
        {"name": "again", "shipyard.deploy.traffic_switch": step},
        {"name": "where", "shipyard.deploy.traffic_info": options},
    ]), diff=True, verbosity=3)
    assert run.rc == 0, run.output
    step_result = run.task("step")
    assert step_result["changed"] and step_result["before"]["weights"] == {"blue": 100, "green": 0}
    assert step_result["after"]["weights"] == {"blue": 80, "green": 20}
    assert run.task("again")["changed"] is False
    assert run.task("where")["weights"] == {"blue": 80, "green": 20}
    weights, stickiness = listener_weights(alb)
    assert weights == {"blue": 80, "green": 20}
    assert stickiness == {"Enabled": True, "DurationSeconds": 300}
    assert SECRET_KEY not in run.output and SECRET_KEY not in json.dumps(run.records)  # even at -vvv

    flip = playbook.run(play([{"name": "flip", "shipyard.deploy.traffic_switch": dict(options, active="green")}]))
    assert flip.task("flip")["after"]["active"] == "green"
    assert listener_weights(alb) == ({"blue": 0, "green": 100}, {"Enabled": True, "DurationSeconds": 300})


def test_listener_rule_and_bad_input(alb):
    from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
    from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import info_service, switch_service

    alb["elb"].register_targets(TargetGroupArn=alb["groups"]["green"],
                                Targets=[{"Id": i, "Port": 80} for i in alb["instances"](1)])
    options = dict(alb["options"], alb_listener_arn=None, alb_rule_arn=alb["rule"])
    assert info_service(options, False, False)["weights"] == {"blue": 100, "green": 0}
    result = switch_service(dict(options, weights={"blue": 50, "green": 50}), False, False)
    assert result["changed"] and listener_weights(alb, rule=True)[0] == {"blue": 50, "green": 50}
    assert listener_weights(alb)[0] == {"blue": 1}  # the listener's default action is untouched
    with pytest.raises(ConfigurationError, match="sum to 110"):
        switch_service(dict(options, weights={"blue": 60, "green": 50}), False, False)
    with pytest.raises(ConfigurationError, match="exactly one target group ARN"):
        switch_service(dict(options, slots={"blue": [alb["groups"]["blue"], "x"], "green": ["y"]}, active="blue"),
                       False, False)
    assert listener_weights(alb, rule=True)[0] == {"blue": 50, "green": 50}
