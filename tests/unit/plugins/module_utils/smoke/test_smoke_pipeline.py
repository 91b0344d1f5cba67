"""shipyard_smoke in the pipeline: checked before anything changes, run at a base URL, recorded without secrets,
and drawn in the deploy report."""

from __future__ import annotations

import datetime
import json

import pytest
from harness.backend import BackendServer

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, SmokeTestError
from ansible_collections.shipyard.deploy.plugins.module_utils.report.model import deployment_view
from ansible_collections.shipyard.deploy.plugins.module_utils.report.render import render_html, render_markdown
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke.pipeline import (
    check_smoke,
    ledger_data,
    run_smoke,
    smoke_test_module,
    summary,
)

STEPS = [{"name": "log in", "url": "/login", "method": "POST", "body": {"user": "smoke", "password": "${password}"},
          "capture": {"token": {"json": "token", "secret": True}}},
         {"name": "me", "url": "/api/me", "secret_headers": {"Authorization": "Bearer ${token}"},
          "expect": {"json": {"user": "smoke", "version": "${version}"}}}]


@pytest.fixture(scope="module")
def app():
    server = BackendServer("green", version="2.0.0").start()
    yield server
    server.stop()


def config(app, **more):
    return dict({"url": "http://lb.invalid", "steps": STEPS, "variables": {"version": "2.0.0"},
                 "secret_variables": {"password": app.password}}, **more)


def test_no_steps_is_no_smoke_test():
    assert check_smoke({}) == {} == check_smoke(None)
    assert summary({}) == {"enabled": False}


@pytest.mark.parametrize("bad, message", [
    ({"url": "http://lb", "steps": [{"name": "home"}]}, "shipyard_smoke: step 1 (home) has no url"),
    ({"url": "http://lb", "steps": [{"url": "/x/${missing}"}]}, "missing"),
    ({"steps": [{"url": "/"}]}, "shipyard_smoke has no url"),
    ({"url": "lb.example.com", "steps": [{"url": "/"}]}, "is not an http(s):// URL"),
    ({"url": "http://lb", "steps": [{"url": "/"}], "stesp": []}, "unknown key(s) stesp"),
    ({"url": "http://lb"}, "shipyard_smoke has no steps"),
    ({"url": "http://lb", "steps": [{"url": "/"}], "variables": {"a": 1}, "secret_variables": {"a": 2}},
     "a defined in both"),
])
def test_bad_smoke_config_is_refused(bad, message):
    with pytest.raises(ConfigurationError) as caught:
        check_smoke(bad)
    assert message in caught.value.message


def test_the_idle_slot_only_needs_no_load_balancer_url():
    assert check_smoke({"steps": [{"url": "/"}], "after_switch": False})
    assert summary(check_smoke({"steps": [{"url": "/"}, {"name": "b", "url": "/b"}], "url": "http://lb"})) == {
        "enabled": True, "url": "http://lb", "steps": ["step 1", "b"], "before_traffic": True, "after_switch": True}


def test_a_passing_run_is_recorded_step_by_step_without_secrets(app):
    passed, data, message = run_smoke(config(app), app.url, "before_traffic", "slot green")
    assert passed is True and message.startswith("all 2 steps passed")
    assert data["phase"] == "before_traffic" and data["target"] == "slot green" and data["base_url"] == app.url
    assert [(s["name"], s["status"], s["status_code"], s["passed"]) for s in data["steps"]] == [
        ("log in", "passed", 200, True), ("me", "passed", 200, True)]
    text = json.dumps(data)
    assert app.password not in text and not [t for t in app.tokens_issued() if t in text]


def test_a_failing_run_is_not_raised_and_says_why(app):
    passed, data, message = run_smoke(config(app, variables={"version": "9.9.9"}), app.url, "after_switch")
    assert passed is False and "step 2 of 2" in message and data["passed"] is False
    assert [s["status"] for s in data["steps"]] == ["passed", "failed"]
    assert "version" in data["steps"][1]["error"] and app.password not in json.dumps(data)


def test_the_smoke_test_module_records_its_run_pass_or_fail(app, tmp_path):
    path = str(tmp_path / "ledger.jsonl")
    record = {"ledger": path, "deployment_id": "shop-test-1", "environment": "test", "application": "shop",
              "version": "2.0.0"}
    params = dict(config(app), base_url=app.url, record=record, phase="after_rollback", target="load balancer",
                  headers={}, timeout=5.0)
    assert smoke_test_module(params)["passed"] is True
    with pytest.raises(SmokeTestError):
        smoke_test_module(dict(params, variables={"version": "1.0.0"}))
    events = ledger.open_ledger(path).read()
    assert [(e["event"], e["data"]["passed"], e["data"]["phase"]) for e in events] == [
        ("smoke", True, "after_rollback"), ("smoke", False, "after_rollback")]
    assert app.password not in open(path).read()
    # check mode records nothing
    smoke_test_module(dict(params, steps=[{"url": "/health"}]), check_mode=True)
    assert len(ledger.open_ledger(path).read()) == 2


def test_the_report_shows_every_smoke_run():
    t0 = datetime.datetime(2026, 12, 1, 22, 0, tzinfo=datetime.timezone.utc)
    run = {"steps": [{"name": "log in", "method": "POST", "url": "http://10.0.0.5:8002/login", "status": "passed",
                      "status_code": 200, "latency_ms": 4.2},
                     {"name": "me", "method": "GET", "url": "http://10.0.0.5:8002/api/me", "status": "failed",
                      "status_code": 500, "latency_ms": 3.0, "error": "status 500, expected 200 (body: withheld)"}],
           "summary": {"total": 2, "passed": 1, "failed": 1, "not_run": 0}, "passed": False}
    records = [
        ledger.new_record("d-1", "production", "shop", "2.0.0", "started", {"idle_slot": "green", "live_slot": "blue"},
                          moment=t0),
        ledger.new_record("d-1", "production", "shop", "2.0.0", "smoke",
                          ledger_data(run, "before_traffic", "http://10.0.0.5:8002", "slot green at 10.0.0.5",
                                      "smoke test failed at step 2 of 2"), moment=t0 + datetime.timedelta(seconds=3)),
        ledger.new_record("d-1", "production", "shop", "2.0.0", "failed", {"reason": "smoke"},
                          moment=t0 + datetime.timedelta(seconds=4)),
    ]
    view = deployment_view(ledger.summarize(records, "d-1"))
    assert view["smoke"][0]["phase_label"] == "before traffic" and view["smoke"][0]["passed"] is False
    markdown = render_markdown(view)
    assert "## Smoke tests" in markdown and "**before traffic, slot green at 10.0.0.5: failed**" in markdown
    assert "| me | failed | 500 | 3.0 ms | http://10.0.0.5:8002/api/me | status 500, expected 200" in markdown
    assert "| Smoke test | +3.0 s | 3.0 s | before traffic, slot green at 10.0.0.5: failed (1 of 2 steps passed)" \
        in markdown
    html = render_html(view)
    assert '<h2 id="smoke">Smoke tests</h2>' in html and 'class="smoke-step"' in html
    assert "No smoke test in this deployment." in render_markdown(deployment_view(ledger.summarize(records[:1], "d-1")))
