"""traffic_member (drain / maintenance / enable single servers) and traffic_info's member states,
against a real HAProxy (runtime API + server-state file), a real nginx (include + reload) and
moto_server's ELBv2."""

from __future__ import annotations

import time

import pytest
from harness.haproxy import HAProxyServer
from harness.load import LoadGenerator
from harness.playbook import play

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RouterError
from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import (
    info_service,
    member_service,
    switch_service,
)


def member(options, members, state, **extra):
    return dict(options, members=members, state=state, **extra)


def states(result):
    return {m["name"]: (m["before"], m["after"]) for m in result["members"]}


# --- HAProxy ------------------------------------------------------------------------------------

def test_haproxy_drain_waits_for_sessions_then_maint_under_keepalive_load(backends):
    """Keep-alive clients through HAProxy while blue_1 is drained, upgraded (a reload of HAProxy
    in between, as a config change would do) and enabled: not one request fails."""
    for server in backends["blue"]:
        server.control(delay=0.3)  # requests in flight when the drain starts
    proxy = HAProxyServer(backends, extra_defaults="    option idle-close-on-response").start()
    options = {"driver": "haproxy", "haproxy_socket": proxy.admin_socket, "haproxy_backend": proxy.backend,
               "haproxy_state_file": proxy.state_file}
    try:
        with LoadGenerator(proxy.url, concurrency=6, duration=60) as load:
            time.sleep(0.5)
            drained = member_service(member(options, ["blue_1"], "drained", drain_timeout=10), False, False)
            served = backends["blue"][0].requests_served()
            time.sleep(0.5)
            idle = backends["blue"][0].requests_served() - served - 1  # the /__stats request counts itself
            proxy.reload()  # the state file keeps blue_1 in maintenance
            time.sleep(0.5)
            after_reload = info_service(options, False, False)
            enabled = member_service(member(options, ["blue_1"], "enabled"), False, False)
            time.sleep(0.5)
        assert drained["changed"] and states(drained) == {"blue_1": ("ready", "maint")}
        assert drained["commands"] == ["set server app/blue_1 state drain", "set server app/blue_1 state maint"]
        assert drained["drain"]["complete"] is True and drained["drain"]["sessions"] == {"blue_1": 0}
        assert drained["drain"]["waited_s"] > 0.05  # it waited for the requests in flight on blue_1
        assert idle == 0  # nothing reached blue_1 once it was drained
        assert after_reload["member_states"]["blue"] == {"blue_1": "maint", "blue_2": "ready"}
        assert states(enabled) == {"blue_1": ("maint", "ready")}
        assert load.failed == 0, load.snapshot()
        assert load.total > 50 and load.slots["blue"] > 0
        assert backends["blue"][0].requests_served() > served  # enabled again: it serves
    finally:
        proxy.stop()
        for server in backends["blue"]:
            server.control(delay=0.0)


def test_haproxy_member_playbook_check_diff_idempotence_and_a_switch_keeps_maint(
        haproxy, haproxy_options, playbook):
    take_out = member(haproxy_options, ["blue_2"], "maintenance")
    run = playbook.run(play([{"name": "out", "shipyard.deploy.traffic_member": take_out}]), check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.task("out")["changed"] and run.task("out")["members"][0]["after"] == "maint"
    assert "blue_2: maint" in run.output  # the diff
    assert haproxy.server_states()["blue_2"]["status"] == "no check"  # check mode changed nothing

    run = playbook.run(play([
        {"name": "out", "shipyard.deploy.traffic_member": take_out},
        {"name": "again", "shipyard.deploy.traffic_member": take_out},
        {"name": "canary", "shipyard.deploy.traffic_switch": dict(haproxy_options, weights={"blue": 50, "green": 50})},
        {"name": "where", "shipyard.deploy.traffic_info": haproxy_options},
    ]))
    assert run.rc == 0, run.output
    assert run.task("out")["changed"] and run.task("out")["state_file"] == haproxy.state_file
    assert run.task("again")["changed"] is False
    where = run.task("where")
    assert where["member_states"] == {"blue": {"blue_1": "ready", "blue_2": "maint"}, "green": {"green_1": "ready"}}
    assert haproxy.server_states()["blue_2"]["status"] == "MAINT"
    load = LoadGenerator(haproxy.url, concurrency=2, max_requests=400, duration=20).start().wait()
    # blue_1 25 + blue_2 (25, in maintenance) against green_1 50: the switch reports the split in effect
    assert run.task("canary")["after"]["weights"] == {"blue": 33.33, "green": 66.67}
    assert load.failed == 0 and 63 <= 100.0 * load.slots["green"] / load.total <= 70

    # enabled while its slot has weight: ready again, with the weight the switch gave it
    enable = member(haproxy_options, ["blue_2"], "enabled")
    run = playbook.run(play([{"name": "in", "shipyard.deploy.traffic_member": enable}]))
    assert run.task("in")["members"] == [{"name": "blue_2", "slot": "blue", "before": "maint", "after": "ready",
                                          "changed": True}]
    assert haproxy.server_states()["blue_2"]["status"] == "no check"


def test_haproxy_refuses_the_last_serving_member_and_unknown_members(haproxy, haproxy_options):
    with pytest.raises(ConfigurationError, match="blue_9 is not a member"):
        member_service(member(haproxy_options, ["blue_1", "blue_9"], "maintenance"), False, False)
    with pytest.raises(ConfigurationError, match="members is empty"):
        member_service(member(haproxy_options, [], "maintenance"), False, False)
    with pytest.raises(RouterError, match="no member receiving traffic"):
        member_service(member(haproxy_options, ["blue_1", "blue_2"], "drained"), False, False)
    assert {n: r["status"] for n, r in haproxy.server_states().items()} == {
        "blue_1": "no check", "blue_2": "no check", "green_1": "no check"}  # nothing changed
    # green_1 (weight 0) is not in maintenance: enabling it changes nothing; out of maint at weight 0 -> drain
    unchanged = member_service(member(haproxy_options, ["green_1"], "enabled"), False, False)
    assert unchanged["changed"] is False and states(unchanged) == {"green_1": ("ready", "ready")}
    member_service(member(haproxy_options, ["green_1"], "maintenance"), False, False)
    back = member_service(member(haproxy_options, ["green_1"], "enabled"), False, False)
    assert states(back) == {"green_1": ("maint", "drain")}
    assert back["commands"] == ["set server app/green_1 state drain"]
    forced = member_service(member(haproxy_options, ["blue_1", "blue_2"], "maintenance", force=True), False, False)
    assert forced["changed"] and set(states(forced).values()) == {("ready", "maint")}


# --- nginx --------------------------------------------------------------------------------------

def test_nginx_drain_under_load_keeps_down_across_switches_and_enables(nginx, nginx_options, backends):
    address = nginx.addresses()["blue"][0]
    with LoadGenerator(nginx.url, concurrency=4, duration=60) as load:
        time.sleep(0.3)
        drained = member_service(member(nginx_options, [address], "drained", drain_timeout=10), False, False)
        served = backends["blue"][0].requests_served()
        switched = switch_service(dict(nginx_options, weights={"blue": 80, "green": 20}), False, False)
        time.sleep(0.5)
        idle = backends["blue"][0].requests_served() - served - 1  # the /__stats request counts itself
        enabled = member_service(member(nginx_options, [address], "enabled"), False, False)
        time.sleep(0.3)
    assert states(drained) == {address: ("up", "maint")} and drained["drain"]["complete"] is True
    assert switched["after"]["slots"]["blue"]["members"][0]["state"] == "maint"
    assert idle == 0
    assert states(enabled) == {address: ("maint", "up")}
    text = open(nginx.include_path).read()
    assert "members in maintenance" not in text and "server %s weight=" % address in text
    assert load.failed == 0, load.snapshot()
    assert info_service(nginx_options, False, False)["member_states"]["blue"][address] == "up"


def test_nginx_check_mode_idempotence_and_a_rejected_config_is_restored(nginx, nginx_options):
    address = nginx.addresses()["blue"][1]
    original = open(nginx.include_path).read()
    predicted = member_service(member(nginx_options, [address], "maintenance"), True, True)
    assert predicted["changed"] and "%s: maint" % address in predicted["diff"]["after"]
    assert open(nginx.include_path).read() == original
    member_service(member(nginx_options, [address], "maintenance"), False, False)
    text = open(nginx.include_path).read()
    assert "server %s weight=100 down;" % address in text  # the weight waits on the line
    assert member_service(member(nginx_options, [address], "maintenance"), False, False)["changed"] is False

    broken = dict(nginx_options, nginx_server_options="max_fails=nope")
    with pytest.raises(RouterError, match="nginx -t rejected"):
        member_service(member(broken, [address], "enabled"), False, False)
    assert open(nginx.include_path).read() == text  # restored
    with pytest.raises(RouterError, match="no member receiving traffic"):
        member_service(member(nginx_options, nginx.addresses()["blue"][:1], "maintenance"), False, False)


# --- AWS ALB (moto) -----------------------------------------------------------------------------

@pytest.fixture
def alb_groups(s3):
    """Target group blue with two registered instances (deregistration delay 1 s) and an empty green."""
    import uuid

    ec2, elb = s3.client("ec2"), s3.client("elbv2")
    tag = uuid.uuid4().hex[:8]
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    groups = {slot: elb.create_target_group(Name="m%s-%s" % (slot, tag), Protocol="HTTP", Port=80, VpcId=vpc,
                                            TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
              for slot in ("blue", "green")}
    elb.modify_target_group_attributes(TargetGroupArn=groups["blue"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "1"}])
    image = ec2.describe_images()["Images"][0]["ImageId"]
    found = ec2.run_instances(ImageId=image, MinCount=3, MaxCount=3, SubnetId=subnet)["Instances"]
    ids = [i["InstanceId"] for i in found]
    elb.register_targets(TargetGroupArn=groups["blue"], Targets=[{"Id": i, "Port": 80} for i in ids[:2]])
    options = dict(s3.module_options(), driver="aws_alb",
                   slots={"blue": [groups["blue"]], "green": [groups["green"]]})
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    lb = elb.create_load_balancer(Name="lbm-" + tag, Subnets=[subnet, other])["LoadBalancers"][0]["LoadBalancerArn"]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": groups["blue"]}])["Listeners"][0]["ListenerArn"]
    return {"elb": elb, "groups": groups, "ids": ids, "options": options, "listener": listener}


def registered(alb, slot):
    health = alb["elb"].describe_target_health(TargetGroupArn=alb["groups"][slot])["TargetHealthDescriptions"]
    return {"%s:%s" % (h["Target"]["Id"], h["Target"]["Port"]): h["TargetHealth"]["State"] for h in health}


def test_alb_deregister_register_read_back_check_mode_and_errors(alb_groups, playbook):
    options, ids = alb_groups["options"], alb_groups["ids"]
    first = "%s:80" % ids[0]
    run = playbook.run(play([
        {"name": "predict", "shipyard.deploy.traffic_member": member(options, [first], "drained"),
         "check_mode": True},
        {"name": "out", "shipyard.deploy.traffic_member": member(options, [first], "drained", drain_timeout=15)},
        {"name": "again", "shipyard.deploy.traffic_member": member(options, [ids[0]], "maintenance")},
        {"name": "last", "shipyard.deploy.traffic_member": member(options, [ids[1]], "maintenance"),
         "ignore_errors": True},
        {"name": "nowhere", "shipyard.deploy.traffic_member": member(options, [ids[2]], "enabled"),
         "ignore_errors": True},
        {"name": "green", "shipyard.deploy.traffic_member": member(options, [ids[2]], "enabled", slot="green")},
        {"name": "back", "shipyard.deploy.traffic_member": member(options, [first], "enabled", slot="blue")},
    ]))
    assert run.task("predict")["changed"] and run.task("predict")["members"][0]["after"] == "unregistered"
    out = run.task("out")
    assert out["changed"] and out["members"][0]["before"] == "registered"
    assert out["deregistration_delay"] == {"blue": 1} and out["drain"]["complete"] is True
    assert run.task("again")["changed"] is False
    assert run.status("last") == "failed" and "no member receiving traffic" in run.task("last")["msg"]
    assert run.status("nowhere") == "failed" and "give slot:" in run.task("nowhere")["msg"]
    assert run.task("green")["members"][0] == {"name": ids[2], "slot": "green", "before": "unregistered",
                                               "after": "registered", "changed": True}
    assert run.task("back")["members"][0]["after"] == "registered"
    assert set(registered(alb_groups, "blue")) == {first, "%s:80" % ids[1]}
    assert set(registered(alb_groups, "green")) == {"%s:80" % ids[2]}
    info = info_service(dict(options, alb_listener_arn=alb_groups["listener"]), False, False)
    assert info["member_states"] == {"blue": {first: "registered", "%s:80" % ids[1]: "registered"},
                                     "green": {"%s:80" % ids[2]: "registered"}}
