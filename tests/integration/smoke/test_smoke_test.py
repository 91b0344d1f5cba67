"""smoke_test through real ansible-playbook against real backends (tests/harness/backend.py), directly
and through a real HAProxy: log in -> capture a token -> call the API with it -> check fields."""

from __future__ import annotations

import pytest
from harness.backend import BackendServer
from harness.haproxy import HAProxyServer
from harness.playbook import play

# the password comes from secret_variables (no_log); the body itself is not secret
LOGIN = {"name": "log in", "url": "/login", "method": "POST", "read_only": True,
         "body": {"user": "smoke", "password": "${password}"},
         "expect": {"status": 200, "json": {"user": "smoke"}, "max_latency": 5},
         "capture": {"token": {"json": "token", "secret": True}, "request_id": {"header": "X-Request-Id"}}}
ME = {"name": "me", "url": "/api/me", "secret_headers": {"Authorization": "Bearer ${token}"},
      "expect": {"json": {"user": "smoke", "roles.0": "admin", "version": "${version}"}}}
# the token in a URL (some APIs want it so): only the module's own redaction keeps it out of the result
IN_URL = {"name": "token in the url", "url": "/api/items?access_token=${token}", "expect": {"json": {"slot": "blue"}}}
DASHBOARD = {"name": "dashboard", "url": "/dashboard",
             "expect": {"body_pattern": "<title>Dashboard", "max_latency": 3,
                        "headers": {"Content-Type": "text/html"}}}


@pytest.fixture(scope="module")
def app():
    server = BackendServer("blue", version="2.1").start()
    yield server
    server.stop()


def smoke(base_url, steps, password_variable="app_password", **extra):
    """smoke_test options; the password comes from an extra variable, as from a vault (Ansible 2.19 quotes
    a failed task's source lines, so a password written into the playbook itself would be shown)."""
    return dict({"base_url": base_url, "steps": steps, "variables": {"version": "2.1"},
                 "secret_variables": {"password": "{{ %s }}" % password_variable}}, **extra)


def leaked(run, secrets):
    """The secrets found in anything the playbook printed or the callback recorded."""
    text = run.output + repr(run.records)
    return [s for s in secrets if s in text]


def test_login_api_dashboard_direct_and_through_haproxy_never_show_a_secret(app, playbook):
    proxy = HAProxyServer({"blue": [app]}).start()
    # a secret body (no_log as a whole) rather than a secret variable
    literal = dict(LOGIN, name="log in (secret body)", body=None, capture={},
                   secret_body={"user": "operator-7", "password": "{{ app_password }}"}, expect={"status": 200})
    try:
        run = playbook.run(play([
            {"name": "idle slot", "shipyard.deploy.smoke_test": smoke(app.url, [LOGIN, ME, IN_URL, DASHBOARD])},
            {"name": "through the load balancer",
             "shipyard.deploy.smoke_test": smoke(proxy.url, [LOGIN, ME, IN_URL, DASHBOARD])},
            {"name": "secret body", "shipyard.deploy.smoke_test": {"base_url": app.url, "steps": [literal]}},
        ]), extra_vars={"app_password": app.password}, verbosity=3)
    finally:
        proxy.stop()
    assert run.rc == 0, run.output
    for name in ("idle slot", "through the load balancer"):
        result = run.task(name)
        assert result["passed"] is True and result["changed"] is False and result["ran"] is True
        assert result["summary"] == {"total": 4, "passed": 4, "failed": 0, "not_run": 0}
        steps = result["steps"]
        assert [s["status"] for s in steps] == ["passed"] * 4
        assert steps[2]["url"].endswith("/api/items?access_token=********")
        assert steps[0]["captured"] == ["request_id", "token"] and steps[0]["status_code"] == 200
        assert [a["assertion"] for a in steps[1]["assertions"]] == ["status", "json"]
        assert [a["assertion"] for a in steps[3]["assertions"]] == ["status", "headers.Content-Type",
                                                                    "body_pattern", "max_latency"]
        assert result["captures"]["token"] == "********" and result["captures"]["request_id"]
        assert result["latency"]["count"] == 4
    assert run.task("secret body")["passed"] is True
    tokens = app.tokens_issued()
    assert len(tokens) >= 3
    assert leaked(run, [app.password, *tokens]) == []


def test_failing_steps_stop_the_run_report_why_and_leak_nothing(app, playbook):
    app_requests = app.requests_served()
    wrong_status = dict(LOGIN, expect={"status": 201})  # the 200 answer holds the token: quoted nowhere
    wrong_field = dict(IN_URL, expect={"json": {"slot": "green"}})
    run = playbook.run(play([
        {"name": "status", "shipyard.deploy.smoke_test": smoke(app.url, [wrong_status, ME]),
         "ignore_errors": True},
        {"name": "field", "shipyard.deploy.smoke_test": smoke(app.url, [LOGIN, wrong_field, DASHBOARD]),
         "ignore_errors": True},
        {"name": "bad password", "shipyard.deploy.smoke_test": smoke(app.url, [LOGIN, ME], "wrong_password"),
         "ignore_errors": True},
        {"name": "no url", "shipyard.deploy.smoke_test": smoke(app.url, [LOGIN, {"name": "x"}]),
         "ignore_errors": True},
    ]), extra_vars={"app_password": app.password, "wrong_password": "not-" + app.password}, verbosity=3)
    status = run.task("status")
    assert run.status("status") == "failed"
    assert "smoke test failed at step 1 of 2 (POST %s/login): status 200, expected 201" % app.url in status["msg"]
    assert "withheld" in status["msg"]
    assert [s["status"] for s in status["steps"]] == ["failed", "not_run"]

    field = run.task("field")
    assert [s["status"] for s in field["steps"]] == ["passed", "failed", "not_run"]
    assert 'JSON field slot is "blue", expected "green"' in field["msg"]
    assert "/api/items?access_token=********)" in field["msg"]
    assert field["summary"] == {"total": 3, "passed": 1, "failed": 1, "not_run": 1}

    assert "status 401, expected 200" in run.task("bad password")["msg"]
    assert "step 2 (x) has no url" in run.task("no url")["msg"]
    # every request that was sent: status 1, field 2, bad password 1; none for "no url"
    assert app.requests_served() - app_requests - 1 == 4
    assert leaked(run, [app.password, "not-" + app.password, *app.tokens_issued()]) == []


def test_latency_limit_and_check_mode(app, playbook):
    app.control(delay=0.3)
    try:
        before = app.requests_served()
        writing = dict(LOGIN, read_only=None)  # a POST: not read-only unless said so
        run = playbook.run(play([
            {"name": "skipped", "shipyard.deploy.smoke_test": smoke(app.url, [writing, ME])},
            {"name": "read-only", "shipyard.deploy.smoke_test": smoke(app.url, [LOGIN, ME])},
            {"name": "slow", "shipyard.deploy.smoke_test": smoke(app.url, [dict(DASHBOARD, expect={
                "max_latency": 0.1})]), "ignore_errors": True},
        ]), extra_vars={"app_password": app.password}, check=True)
        after = app.requests_served()
    finally:
        app.control(delay=0.0)
    skipped = run.task("skipped")
    assert skipped["ran"] is False and skipped["passed"] is None
    assert "steps log in are not read-only" in skipped["msg"]
    assert run.task("read-only")["passed"] is True  # GET steps and a read_only login run in check mode
    assert "latency" in run.task("slow")["msg"] and "above the limit of 100 ms" in run.task("slow")["msg"]
    # read-only: 2 requests, slow: 1, skipped: none; the /__stats of `after` counts itself, `before`'s too
    assert after - before - 1 == 3
