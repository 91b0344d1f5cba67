"""traffic_switch / traffic_info with the nginx driver against a real nginx (include file + reload)."""

from __future__ import annotations

from harness.load import LoadGenerator
from harness.playbook import play
from switching import switch_under_load

# nginx's smooth weighted round robin runs per worker; one worker here, so shares are tight too
TOLERANCE = 3.0


def test_fifty_reloads_under_load_lose_no_request_and_shares_follow_weights(nginx, nginx_options):
    load, changes, shares = switch_under_load(nginx.url, nginx_options)
    assert changes >= 50, changes
    assert load.failed == 0, load.snapshot()
    assert load.total > 1000
    for requested, seen, count in shares:
        assert count > 200
        for slot, percent in requested.items():
            assert abs(seen[slot] - percent) <= TOLERANCE, (requested, seen)


def test_playbook_switch_check_diff_idempotence_and_info(nginx, nginx_options, playbook):
    original = open(nginx.include_path).read()
    step = dict(nginx_options, weights={"blue": 75, "green": 25})
    run = playbook.run(play([{"name": "step", "shipyard.deploy.traffic_switch": step}]), check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.task("step")["changed"] and run.task("step")["after"]["weights"] == {"blue": 75, "green": 25}
    assert open(nginx.include_path).read() == original  # check mode wrote nothing

    workers = nginx.workers()
    run = playbook.run(play([
        {"name": "step", "shipyard.deploy.traffic_switch": step},
        {"name": "again", "shipyard.deploy.traffic_switch": step},
        {"name": "where", "shipyard.deploy.traffic_info": nginx_options},
    ]), diff=True)
    assert run.rc == 0, run.output
    assert run.task("step")["changed"] and run.task("step")["include"] == nginx.include_path
    assert run.task("again")["changed"] is False
    info = run.task("where")
    assert info["weights"] == {"blue": 75, "green": 25} and info["active"] is None
    assert not workers & nginx.workers()  # reloaded: new workers serve
    text = open(nginx.include_path).read()
    assert "weight=75" in text and "weight=3" not in text and "keepalive 8;" in text
    load = LoadGenerator(nginx.url, concurrency=2, max_requests=800, duration=20).start().wait()
    assert load.failed == 0 and abs(100.0 * load.slots["green"] / load.total - 25) <= TOLERANCE


def test_broken_include_is_rejected_and_the_old_split_keeps_serving(nginx, nginx_options, playbook):
    original = open(nginx.include_path).read()
    workers = nginx.workers()
    slots = nginx_options["slots"]
    unresolvable = {"blue": slots["blue"], "green": [*slots["green"], "no-such-host.invalid:80"]}
    cases = {
        "bad option": dict(nginx_options, weights={"blue": 0, "green": 100}, nginx_server_options="bogus=1"),
        "bad address": dict(nginx_options, slots=unresolvable, active="green"),
    }
    with LoadGenerator(nginx.url, concurrency=2, duration=60) as load:
        run = playbook.run(play([{"name": name, "shipyard.deploy.traffic_switch": args, "ignore_errors": True}
                                 for name, args in cases.items()]))
        for name in cases:
            assert run.status(name) == "failed", run.output
            assert "nginx -t rejected the new upstream" in run.task(name)["msg"]
            assert "previous include file was restored" in run.task(name)["msg"]
    assert "bogus" in run.task("bad option")["msg"]
    assert open(nginx.include_path).read() == original
    assert nginx.workers() == workers  # never reloaded
    assert load.failed == 0 and set(load.slots) == {"blue"}, load.snapshot()


def test_bad_input_fails_clearly_and_leaves_the_include_alone(nginx, nginx_options, playbook):
    original = open(nginx.include_path).read()
    cases = {
        "sum": (dict(nginx_options, weights={"blue": 50, "green": 49}), "sum to 99, not 100"),
        "slot": (dict(nginx_options, weights={"red": 100}), "unknown slot 'red'"),
        "no slots": (dict(nginx_options, slots=None, active="blue"), "needs slots"),
        "no master": (dict(nginx_options, nginx_pid_file=nginx.workdir + "/none.pid", active="green"),
                      "cannot read the nginx master pid"),
    }
    run = playbook.run(play([{"name": name, "shipyard.deploy.traffic_switch": args, "ignore_errors": True}
                             for name, (args, _message) in cases.items()]))
    for name, (_args, message) in cases.items():
        assert run.status(name) == "failed", (name, run.task(name))
        assert message in run.task(name)["msg"], (name, run.task(name)["msg"])
    assert open(nginx.include_path).read() == original
