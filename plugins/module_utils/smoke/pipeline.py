# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke tests in the release pipeline: ``shipyard_smoke`` checked once, run at each base URL, recorded.

``shipyard_smoke`` (the inventory) holds the steps of :mod:`steps` and where they run::

    {"url": "https://shop.example.com",          # through the load balancer, after the switch
     "steps": [...], "variables": {...}, "secret_variables": {...},
     "headers": {...}, "timeout": 10, "validate_certs": true, "ca_path": null,
     "before_traffic": true, "after_switch": true}

The rollout runs the same steps against each of the idle slot's URLs (one per app host, from the
plan) before any traffic moves, and through ``url`` once all traffic is on the new version; the
rollback playbook runs them through ``url`` after traffic is back.  :func:`check_smoke` validates
everything before anything changes; :func:`ledger_data` is what the ledger's ``smoke`` event
holds - per step its name, status, HTTP status, latency, whether it passed and why not, and never
a secret (the results are already redacted by :mod:`sequence`, and no variable's value is kept).
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils import ledger as ledger_records
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, ShipyardError
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke.sequence import smoke_test_service
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke.steps import parse_steps

SMOKE_KEYS = ("url", "steps", "variables", "secret_variables", "headers", "timeout", "validate_certs", "ca_path",
              "before_traffic", "after_switch")
# The phases a smoke test runs in (the ``phase`` of its ledger event).
PHASES = ("before_traffic", "after_switch", "after_rollback")
# A placeholder base URL for validating path steps before the slot's real URLs are known.
_CHECK_BASE = "http://idle-slot.invalid"


def step_options():
    """Argument spec of one smoke step (suboptions of ``steps``; the secret keys are no_log)."""
    return dict(
        name=dict(type="str"),
        url=dict(type="str"),
        method=dict(type="str", default="GET"),
        headers=dict(type="dict"),
        secret_headers=dict(type="dict", no_log=True),
        body=dict(type="raw"),
        secret_body=dict(type="raw", no_log=True),
        expect=dict(type="dict"),
        capture=dict(type="dict"),
        timeout=dict(type="float"),
        read_only=dict(type="bool"),
        follow_redirects=dict(type="bool", default=False),
    )


def request_options():
    """Argument spec of what every step shares: placeholder values, headers, timeout, TLS (smoke_test and rollout)."""
    return dict(
        variables=dict(type="dict", default={}),
        secret_variables=dict(type="dict", default={}, no_log=True),
        headers=dict(type="dict", default={}),
        timeout=dict(type="float", default=10.0),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
    )


def smoke_options():
    """Argument spec of a ``smoke`` option (``shipyard_smoke``) of the rollout module."""
    return dict(
        url=dict(type="str"),
        steps=dict(type="list", elements="dict", options=step_options()),
        before_traffic=dict(type="bool", default=True),
        after_switch=dict(type="bool", default=True),
        **request_options(),
    )


def check_smoke(config, need_url=True):
    """``config`` (``shipyard_smoke``) validated: ``{}`` when there are no steps, else the config.

    Raises ConfigurationError for an unknown key, a step without a URL (or any error the steps
    can show without a request), or - when ``need_url`` and the steps run after the switch - no
    ``url`` of the load balancer.
    """
    config = dict(config or {})
    unknown = sorted(str(k) for k in config if k not in SMOKE_KEYS)
    if unknown:
        raise ConfigurationError("shipyard_smoke has unknown key(s) %s; it takes %s"
                                 % (", ".join(unknown), ", ".join(SMOKE_KEYS)))
    if not config.get("steps"):
        if any(config.get(key) for key in ("url", "variables", "secret_variables")):
            raise ConfigurationError("shipyard_smoke has no steps; give at least one step with a url, or remove "
                                     "shipyard_smoke")
        return {}
    variables, secrets = dict(config.get("variables") or {}), dict(config.get("secret_variables") or {})
    both = sorted(set(variables) & set(secrets))
    if both:
        raise ConfigurationError("shipyard_smoke: %s defined in both variables and secret_variables; keep each name "
                                 "in one" % ", ".join(both))
    try:
        parse_steps(config["steps"], base_url=_CHECK_BASE, variables=list(variables) + list(secrets),
                    default_timeout=config.get("timeout") or 10.0)
    except ConfigurationError as exc:
        raise ConfigurationError("shipyard_smoke: %s" % exc.message) from None
    url = config.get("url") or ""
    if need_url and config.get("after_switch", True) is not False and not url:
        raise ConfigurationError("shipyard_smoke has no url: the steps run through the load balancer after the "
                                 "switch; set shipyard_smoke.url to its public URL (https://shop.example.com), or "
                                 "after_switch: false to test the idle slot only")
    if url and not url.startswith(("http://", "https://")):
        raise ConfigurationError("shipyard_smoke.url %r is not an http(s):// URL" % url)
    return config


def summary(config):
    """What the plan shows of a smoke config: where it runs and the steps' names (no values)."""
    if not config:
        return {"enabled": False}
    names = [str(step.get("name") or "step %d" % index) for index, step in enumerate(config["steps"], 1)]
    return {"enabled": True, "url": config.get("url") or "", "steps": names,
            "before_traffic": config.get("before_traffic", True) is not False,
            "after_switch": config.get("after_switch", True) is not False}


def run_smoke(config, base_url, phase, target=""):
    """Run the steps against ``base_url``; ``(passed, ledger data, message)`` - a failure is not raised."""
    params = {key: config.get(key) for key in ("steps", "variables", "secret_variables", "headers", "timeout",
                                               "validate_certs", "ca_path")}
    params["base_url"] = base_url
    try:
        result = smoke_test_service(params)
    except ShipyardError as exc:
        result = dict(exc.details, passed=False)
        message = exc.message
    else:
        message = result["msg"]
    return bool(result.get("passed")), ledger_data(result, phase, base_url, target, message), message


def ledger_data(result, phase, base_url, target="", message=""):
    """The ``smoke`` event of the ledger from a smoke_test result (redacted already): one entry per step."""
    steps = []
    for step in result.get("steps") or []:
        steps.append({"name": step.get("name"), "method": step.get("method"), "url": step.get("url"),
                      "status": step.get("status"), "status_code": step.get("status_code"),
                      "latency_ms": step.get("latency_ms"), "passed": step.get("status") == "passed",
                      "error": step.get("error")})
    return {"phase": phase, "target": target, "base_url": base_url, "passed": bool(result.get("passed")),
            "summary": result.get("summary") or {}, "elapsed": result.get("elapsed"), "message": message,
            "steps": steps}


def smoke_test_module(params, check_mode=False, diff_mode=False):
    """Service of the smoke_test module: the steps, then (with ``record``) their ``smoke`` event in the ledger.

    The event is written whether the steps pass or fail (the failure is raised after it); in check
    mode nothing is recorded.
    """
    options = dict(params.get("record") or {})
    if not options.get("ledger") or check_mode:
        return smoke_test_service(params, check_mode, diff_mode)
    for key in ("deployment_id", "environment", "application"):
        if not options.get(key):
            raise ConfigurationError("record.%s is required to record the smoke test in the ledger %s"
                                     % (key, options["ledger"]))
    phase = params.get("phase") or "after_rollback"
    try:
        result = smoke_test_service(params, check_mode, diff_mode)
    except ShipyardError as exc:
        _append(options, ledger_data(dict(exc.details, passed=False), phase, params.get("base_url"),
                                     params.get("target") or "", exc.message))
        raise
    _append(options, ledger_data(result, phase, params.get("base_url"), params.get("target") or "", result["msg"]))
    result["changed"] = False  # the ledger is a record of the run, not a change of the service
    return result


def _append(options, data):
    ledger = ledger_records.open_ledger(options["ledger"], options)
    record = ledger_records.new_record(options["deployment_id"], options["environment"], options["application"],
                                       options.get("version"), "smoke", data)
    ledger.append(record)
