"""Smoke tests and hooks in the release pipeline, through ansible-playbook against the demo stack.

The smoke test is the demo shop's critical path - log in (a secret password, a secret token
captured from the answer), call the API with the token and check who it says we are and which
version answers, load the landing page under 3 s.  It runs against the idle slot before any traffic
and through HAProxy after the switch; demo releases 4.0.0 (API broken) and 5.0.0 (API breaks after
its first call) fail it at each place.  The tests run in order and build on each other:

1.0.0 on blue -> 2.0.0 on green with smoke and every hook -> rollback to blue whose smoke fails ->
4.0.0 stopped on the idle slot -> 5.0.0 rolled back after the switch -> a failing hook -> bad hooks.
"""

from __future__ import annotations

import glob
import os
import secrets

import pytest
from harness.stack import running_stack

SECRET = "smoke-Pw-" + secrets.token_hex(8)
DEPLOY_HOOKS = ("before_fetch", "after_fetch", "before_preflight", "after_preflight", "before_backup", "after_backup",
                "before_migrate", "after_migrate", "before_activate", "after_activate", "before_switch",
                "before_smoke", "after_smoke", "after_switch")


@pytest.fixture(scope="module")
def stack(playbook):
    with running_stack(playbook) as running:
        yield running


@pytest.fixture(scope="module")
def hooks_dir(tmp_path_factory):
    """Task files: one that logs the hook, the plan's slots and the host; one that fails."""
    folder = tmp_path_factory.mktemp("hooks")
    log = folder / "hooks.log"
    (folder / "log.yml").write_text(
        "- name: Log the hook with the plan's facts\n"
        "  ansible.builtin.shell: >-\n"
        "    echo \"{{ shipyard_hook }} idle={{ shipyard_plan.idle_slot }} live={{ shipyard_plan.live_slot }}"
        " host={{ inventory_hostname }}\" >> %s\n"
        "  changed_when: true\n" % log)
    (folder / "fail.yml").write_text(
        "- name: Put the shop into maintenance mode\n"
        "  ansible.builtin.fail:\n"
        "    msg: the maintenance page could not be switched on\n")
    return folder


def hook_log(hooks_dir):
    path = hooks_dir / "hooks.log"
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return lines


def smoke(stack, version, **more):
    """shipyard_smoke: log in -> token -> API -> landing page, through HAProxy after the switch."""
    config = {
        "url": stack.url.rstrip("/"),
        "variables": {"user": "smoke", "version": version},
        "secret_variables": {"password": SECRET},
        "steps": [
            {"name": "log in", "url": "/login", "method": "POST", "read_only": True,
             "secret_body": {"user": "${user}", "password": "${password}"},
             "expect": {"status": 200, "json": {"user": "smoke"}},
             "capture": {"token": {"json": "token", "secret": True}}},
            {"name": "who am I, through the API", "url": "/api/me",
             "secret_headers": {"Authorization": "Bearer ${token}"},
             "expect": {"status": 200, "json": {"user": "smoke", "version": "${version}"}}},
            {"name": "landing page under 3 s", "url": "/", "expect": {"status": 200, "max_latency": 3}},
        ],
    }
    config.update(more)
    return config


def run(stack, name, **more):
    """A playbook run with the demo's API password in the app's environment (the slots' 0600 env file)."""
    env = dict(stack.extra_vars()["shipyard_app_env"], SHOP_API_PASSWORD=SECRET)
    return stack.run(name, shipyard_app_env=env, **more)


def events_of(stack, version):
    """The events of the last deployment of ``version``."""
    records = [r for r in stack.ledger() if r["version"] == version]
    last = records[-1]["deployment_id"]
    return [r for r in records if r["deployment_id"] == last]


def assert_secret_nowhere(stack, run_):
    assert SECRET not in run_.output + repr(run_.records)
    with open(os.path.join(stack.root, "ledger.jsonl"), encoding="utf-8") as handle:
        assert SECRET not in handle.read()
    for path in glob.glob(os.path.join(stack.root, "reports", "*")):
        with open(path, encoding="utf-8") as handle:
            assert SECRET not in handle.read(), path


def report_markdown(run_):
    with open(run_.stats["custom"]["_run"]["shipyard_deployment"]["report"]["markdown"], encoding="utf-8") as handle:
        return handle.read()


def test_smoke_passes_before_and_after_the_switch_and_hooks_run_in_order(stack, hooks_dir):
    first = run(stack, "deploy", shipyard_version="1.0.0")
    assert first.rc == 0, first.output
    hooks = {name: str(hooks_dir / "log.yml") for name in DEPLOY_HOOKS}
    deploy = run(stack, "deploy", shipyard_version="2.0.0", shipyard_smoke=smoke(stack, "2.0.0"), shipyard_hooks=hooks)
    assert deploy.rc == 0, deploy.output
    assert stack.serving()["version"] == "2.0.0"
    # every hook once, in phase order, with the plan's facts (the only app host is localhost)
    assert hook_log(hooks_dir) == ["%s idle=green live=blue host=localhost" % name for name in DEPLOY_HOOKS]

    events = events_of(stack, "2.0.0")
    names = [e["event"] for e in events]
    assert names == ["started", "preflight", "backup", "migration", "release", "health", "smoke", "traffic_step",
                     "smoke", "succeeded"], names
    before, after = [e["data"] for e in events if e["event"] == "smoke"]
    assert before["phase"] == "before_traffic" and before["passed"] is True
    assert before["base_url"] == "http://127.0.0.1:%d" % stack.ports["green"]
    assert after["phase"] == "after_switch" and after["passed"] is True and after["base_url"] == stack.url.rstrip("/")
    assert [(s["name"], s["status"], s["status_code"]) for s in after["steps"]] == [
        ("log in", "passed", 200), ("who am I, through the API", "passed", 200),
        ("landing page under 3 s", "passed", 200)]
    assert all(s["latency_ms"] > 0 and s["passed"] for s in after["steps"])

    summary = report_markdown(deploy)
    assert "## Smoke tests" in summary
    assert "**before traffic, slot green at http://127.0.0.1:%d: passed**" % stack.ports["green"] in summary, summary
    assert "**after the switch, load balancer: passed**" in summary
    assert "| who am I, through the API | passed | 200 |" in summary
    assert_secret_nowhere(stack, deploy)


def test_rollback_whose_smoke_test_fails_says_so_and_is_recorded(stack):
    # the steps expect 2.0.0 to answer, but the rollback brings back 1.0.0
    rollback = run(stack, "rollback", rollback_reason="test: smoke after rollback",
                   shipyard_smoke=smoke(stack, "2.0.0"))
    assert rollback.rc != 0
    assert stack.serving()["version"] == "1.0.0"
    assert "traffic is back on blue, but the smoke test through the load balancer" in rollback.output
    assert "failed at step 2 of 3" in rollback.output
    events = events_of(stack, "2.0.0")
    assert [e["event"] for e in events][-2:] == ["rolled_back", "smoke"]
    recorded = events[-1]["data"]
    assert recorded["phase"] == "after_rollback" and recorded["passed"] is False
    assert [s["status"] for s in recorded["steps"]] == ["passed", "failed", "not_run"]
    assert "version" in recorded["steps"][1]["error"]
    assert_secret_nowhere(stack, rollback)


def test_smoke_failing_on_the_idle_slot_moves_no_traffic(stack):
    deploy = run(stack, "deploy", shipyard_version="4.0.0", shipyard_smoke=smoke(stack, "4.0.0"))
    assert deploy.rc != 0
    assert stack.serving()["version"] == "1.0.0"
    events = events_of(stack, "4.0.0")
    names = [e["event"] for e in events]
    assert "traffic_step" not in names and names[-2:] == ["smoke", "failed"], names
    smoke_event = events[-2]["data"]
    assert smoke_event["phase"] == "before_traffic" and smoke_event["passed"] is False
    assert smoke_event["steps"][1]["status_code"] == 500
    assert "smoke test of the new slot green" in events[-1]["data"]["reason"]
    summary = report_markdown(deploy)
    assert summary.startswith("# shop 4.0.0 to local: failed")
    assert "**before traffic, slot green at http://127.0.0.1:%d: failed**" % stack.ports["green"] in summary
    assert_secret_nowhere(stack, deploy)


def test_smoke_failing_after_the_switch_is_rolled_back(stack):
    deploy = run(stack, "deploy", shipyard_version="5.0.0", shipyard_smoke=smoke(stack, "5.0.0"))
    assert deploy.rc != 0
    assert "rolled back to blue" in deploy.output
    assert stack.serving()["version"] == "1.0.0"
    events = events_of(stack, "5.0.0")
    names = [e["event"] for e in events]
    assert names[-4:] == ["smoke", "traffic_step", "smoke", "rolled_back"], names
    before, after = [e["data"] for e in events if e["event"] == "smoke"]
    assert before["passed"] is True and after["passed"] is False and after["phase"] == "after_switch"
    assert "smoke test through the load balancer failed" in events[-1]["data"]["reason"]
    summary = report_markdown(deploy)
    assert summary.startswith("# shop 5.0.0 to local: rolled back")
    assert "**after the switch, load balancer: failed**" in summary
    assert_secret_nowhere(stack, deploy)


def test_a_failing_hook_fails_its_phase_and_nothing_after_it_runs(stack, hooks_dir):
    hooks = {"before_backup": str(hooks_dir / "log.yml"), "before_migrate": str(hooks_dir / "fail.yml"),
             "after_migrate": str(hooks_dir / "log.yml"), "before_activate": str(hooks_dir / "log.yml")}
    deploy = run(stack, "deploy", shipyard_version="2.0.0", shipyard_hooks=hooks)
    assert deploy.rc != 0
    assert hook_log(hooks_dir) == ["before_backup idle=green live=blue host=localhost"]
    events = events_of(stack, "2.0.0")
    assert [e["event"] for e in events] == ["started", "preflight", "backup", "failed"]
    failed = events[-1]["data"]
    assert failed["step"] == "Put the shop into maintenance mode", failed
    assert failed["reason"] == "the maintenance page could not be switched on"
    assert stack.serving()["version"] == "1.0.0"


def test_a_failing_hook_after_the_switch_sends_the_traffic_back(stack, hooks_dir):
    deploy = run(stack, "deploy", shipyard_version="2.0.0",
                 shipyard_hooks={"after_switch": str(hooks_dir / "fail.yml")})
    assert deploy.rc != 0
    assert stack.serving()["version"] == "1.0.0"
    events = events_of(stack, "2.0.0")
    names = [e["event"] for e in events]
    assert names[-2:] == ["traffic_step", "rolled_back"], names
    assert events[-1]["data"]["reason"] == ("Put the shop into maintenance mode failed after the switch: the "
                                            "maintenance page could not be switched on")
    assert deploy.stats["custom"]["_run"]["shipyard_deployment"]["outcome"] == "rolled_back"


@pytest.mark.parametrize("hooks, message", [
    ({"before_deploy": "log.yml"}, "shipyard_hooks names before_deploy, which is not a hook; the hooks are "
                                   "before_fetch, after_fetch"),
    ({"after_switch": "no-such-hook.yml"}, "shipyard_hooks.after_switch: the task file"),
])
def test_bad_hooks_are_refused_before_anything_changes(stack, hooks_dir, hooks, message):
    before = stack.snapshot()
    deploy = run(stack, "deploy", shipyard_version="2.0.0", shipyard_hooks=hooks)
    assert deploy.rc != 0
    assert message in deploy.output
    assert stack.snapshot() == before
