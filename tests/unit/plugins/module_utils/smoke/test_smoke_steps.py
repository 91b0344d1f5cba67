"""Smoke test steps: validation before any request, placeholders, assertions, captures, redaction."""

from __future__ import annotations

import json

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke.redact import MASK, Redactor
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke.steps import (
    evaluate,
    parse_steps,
    placeholders,
    resolve,
)

LOGIN = {"name": "login", "url": "/login", "method": "POST",
         "secret_body": {"user": "ops", "password": "${password}"},
         "capture": {"token": {"json": "token", "secret": True}, "request": {"header": "X-Request-Id"}}}
API = {"name": "me", "url": "/api/me", "secret_headers": {"Authorization": "Bearer ${token}"},
       "expect": {"json": {"user": "ops", "roles.0": "admin"}, "max_latency": 3}}


def test_placeholders_resolve_and_escape():
    variables = {"token": "abc", "n": 7}
    assert placeholders({"a": ["${token}", "x ${n} $${literal}"]}) == ["token", "n"]
    assert resolve("Bearer ${token}", variables) == "Bearer abc"
    assert resolve({"count": "${n}", "text": "n=${n}"}, variables) == {"count": 7, "text": "n=7"}  # type kept
    assert resolve("cost $${price}", variables) == "cost ${price}"


def test_a_chain_validates_and_resolves():
    steps = parse_steps([LOGIN, API], base_url="http://127.0.0.1:8080/", variables={"password": "pw"})
    assert [s.name for s in steps] == ["login", "me"]
    assert steps[0].read_only is False and steps[1].read_only is True
    method, url, headers, body = steps[0].request({"password": "pw"})
    assert (method, url) == ("POST", "http://127.0.0.1:8080/login")
    assert json.loads(body) == {"user": "ops", "password": "pw"} and headers["Content-Type"] == "application/json"
    assert steps[0].secrets({"password": "pw"}) == ["ops", "pw"]
    assert steps[1].request({"token": "t0k"})[2] == {"Authorization": "Bearer t0k"}


@pytest.mark.parametrize("specs, message", [
    ([], "steps is empty"),
    ([{"name": "x"}], r"step 1 \(x\) has no url"),
    ([{"url": "ftp://x/"}], "neither an absolute http"),
    ([{"url": "http://a/", "expect": {"status": 200, "contains": "x"}}], r"unknown assertion\(s\) contains"),
    ([{"url": "http://a/", "expect": {"status": 700}}], "outside 100..599"),
    ([{"url": "http://a/", "expect": {"body_pattern": "("}}], "not a valid regular expression"),
    ([{"url": "http://a/", "expect": {"max_latency": 0}}], "max_latency must be"),
    ([{"url": "http://a/", "capture": {"t": {"json": ""}}}], "capture t needs exactly one non-empty json"),
    ([{"url": "http://a/", "capture": {"t": {"json": "a", "header": "b"}}}], "exactly one"),
    ([{"url": "http://a/", "capture": {"t-1": "a"}}], "not a name"),
    ([{"url": "http://a/${token}"}], r"uses \$\{token\}, which no earlier step captures"),
    ([API, LOGIN], r"uses \$\{token\}"),  # captured only by a LATER step
    ([{"url": "http://a/", "body": "x", "secret_body": "y"}], "both body and secret_body"),
    ([{"url": "http://a/", "bodyy": "x"}], "unknown key"),
    ([{"url": "http://a/", "name": "a"}, {"url": "http://b/", "name": "a"}], "two steps are named 'a'"),
    ([{"url": "http://a/", "method": "GE T"}], "not an HTTP method"),
])
def test_bad_steps_fail_before_any_request(specs, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_steps(specs, base_url="http://h/", variables={"password": "pw"})


def test_a_path_needs_base_url():
    with pytest.raises(ConfigurationError, match="set base_url"):
        parse_steps([{"url": "/health"}])
    with pytest.raises(ConfigurationError, match="base_url 'h:80' is not an http"):
        parse_steps([{"url": "/health"}], base_url="h:80")


def test_evaluate_assertions_and_captures():
    login, api = parse_steps([LOGIN, API], base_url="http://h/", variables={"password": "pw"})
    body = json.dumps({"token": "t0k", "user": "ops"})
    assertions, captured, error = evaluate(login, 200, {"x-request-id": "r-1"}, body, 0.01)
    assert error is None and captured == {"token": "t0k", "request": "r-1"}
    assert [a["assertion"] for a in assertions] == ["status"]

    assertions, captured, error = evaluate(api, 200, {}, json.dumps({"user": "dev", "roles": ["admin"]}), 3.5)
    outcomes = [(a["assertion"], a["ok"]) for a in assertions]
    assert outcomes == [("status", True), ("json", False), ("max_latency", False)]
    assert "JSON field user is \"dev\", expected \"ops\"" in error and "above the limit of 3000 ms" in error

    _assertions, captured, error = evaluate(login, 200, {}, json.dumps({"user": "ops"}), 0.01)
    assert captured == {} and "capture token: JSON field token is missing" in error
    assert "capture request: header X-Request-Id is missing" in error

    assertions, _captured, error = evaluate(api, 401, {}, "denied", 0.01)
    assert [a["assertion"] for a in assertions] == ["status", "max_latency"]  # no field checks on an error page
    assert "status 401, expected 200" in error


def test_body_pattern_and_expected_headers():
    (step,) = parse_steps([{"url": "http://h/", "expect": {"status": [200, 204], "body_pattern": "<title>Dash",
                                                           "headers": {"Content-Type": "text/html"}}}])
    assert evaluate(step, 204, {"content-type": "text/html"}, "<title>Dashboard</title>", 0.1)[2] is None
    error = evaluate(step, 200, {"content-type": "application/json"}, "{}", 0.1)[2]
    assert "header Content-Type is 'application/json', expected 'text/html'" in error
    assert "body does not match '<title>Dash'" in error


def test_redactor_masks_secrets_everywhere():
    redact = Redactor(["hunter2", None, ""])
    redact.add({"token": "abc123"}, 424242)
    assert redact("pw=hunter2 tok=abc123") == "pw=%s tok=%s" % (MASK, MASK)
    assert redact({"k": ["x hunter2", 424242, True]}) == {"k": ["x " + MASK, MASK, True]}
    assert redact("nothing secret") == "nothing secret"


def test_the_answer_of_a_secret_step_is_never_quoted():
    (login,) = parse_steps([dict(LOGIN, expect={"status": 201, "json": {"user": "ops"}})], base_url="http://h/",
                           variables={"password": "pw"})
    _assertions, captured, error = evaluate(login, 200, {}, json.dumps({"token": "t0k"}), 0.01)
    assert "t0k" not in error and "withheld, the step is secret" in error
    assert captured["token"] == "t0k"  # still taken, so the caller can mask it
    (plain,) = parse_steps([{"url": "http://h/", "expect": {"status": 201}}])
    assert "'plain body'" in evaluate(plain, 200, {}, "plain body", 0.01)[2]
