# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a smoke test: its steps in order through one HTTP session, captures flowing forward.

The service of the ``smoke_test`` module.  Every step is validated before the first request
(steps.py); the run stops at the first failing step (later ones depend on it and are reported
``not_run``); the result is designed for the ledger and the report: per step its name, method,
URL, status (passed / failed / not_run), HTTP status, latency and each assertion's outcome.
Secrets never reach the result or an error message (redact.py).

Check mode: the steps run only when every one is read-only - method GET, HEAD or OPTIONS, or
marked ``read_only: true`` (a login POST that changes nothing) - since a smoke test of a read-only
path is what check mode asks for: what would happen.  Otherwise nothing is sent and the result
says so (``ran`` is false), after the same validation.
"""

from __future__ import annotations

import time

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, SmokeTestError
from ansible_collections.shipyard.deploy.plugins.module_utils.health import http_request, latency_summary
from ansible_collections.shipyard.deploy.plugins.module_utils.http_client import new_session
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke.redact import MASK, Redactor
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke.steps import evaluate, parse_steps


def smoke_test_service(params, check_mode=False, diff_mode=False):
    """Validate, then run the steps (see the module docstring); SmokeTestError when one fails."""
    variables = dict(params.get("variables") or {})
    secret_variables = dict(params.get("secret_variables") or {})
    both = sorted(set(variables) & set(secret_variables))
    if both:
        raise ConfigurationError("%s defined in both variables and secret_variables; keep each name in one"
                                 % ", ".join(both))
    redact = Redactor(secret_variables.values())
    known = dict(variables, **secret_variables)
    steps = parse_steps(params.get("steps"), base_url=params.get("base_url"), variables=known,
                        default_timeout=params.get("timeout") or 10.0)
    validate = params.get("validate_certs") is not False
    verify = (params.get("ca_path") or True) if validate else False
    defaults = {str(k): str(v) for k, v in (params.get("headers") or {}).items()}
    if check_mode and not all(step.read_only for step in steps):
        writing = [s.name for s in steps if not s.read_only]
        return {"changed": False, "ran": False, "passed": None, "captures": {},
                "steps": [_not_run(s, redact) for s in steps],
                "summary": {"total": len(steps), "passed": 0, "failed": 0, "not_run": len(steps)},
                "msg": "check mode: not run, steps %s are not read-only (set read_only: true on a step that "
                       "changes nothing to let check mode run it)" % ", ".join(writing)}
    started = time.monotonic()
    results, latencies, captures, secret_names = run_steps(steps, known, redact, defaults, verify)
    summary = {state: sum(1 for r in results if r["status"] == state) for state in ("passed", "failed", "not_run")}
    summary["total"] = len(results)
    result = {
        "changed": False,
        "ran": True,
        "passed": summary["failed"] == 0,
        "steps": results,
        "summary": summary,
        "captures": redact({name: (MASK if name in secret_names else value) for name, value in captures.items()}),
        "latency": latency_summary(latencies),
        "elapsed": round(time.monotonic() - started, 3),
    }
    if summary["failed"]:
        failed = next(r for r in results if r["status"] == "failed")
        raise SmokeTestError(redact("smoke test failed at step %d of %d (%s %s): %s"
                                    % (results.index(failed) + 1, len(results), failed["method"], failed["url"],
                                       failed["error"])), **result)
    result["msg"] = "all %d steps passed in %.2fs" % (len(results), result["elapsed"])
    return result


def run_steps(steps, variables, redact, default_headers, verify):
    """Send the steps in order; return (step results, latencies, captured values, names of secret captures)."""
    values = dict(variables)
    results, latencies, captures, secret_names = [], [], {}, set()
    session = new_session(1)
    try:
        for index, step in enumerate(steps):
            try:
                method, url, headers, body = step.request(values)
            except ConfigurationError as exc:  # a captured value made the URL unusable
                results.append(dict(_not_run(step, redact), status="failed", error=redact(exc.message)))
                results.extend(_not_run(s, redact) for s in steps[index + 1:])
                break
            redact.add(*step.secrets(values))
            response, text, latency, error = http_request(
                session, method, url, headers=dict(default_headers, **headers), data=body, timeout=step.timeout,
                verify=verify, allow_redirects=step.follow_redirects)
            latencies.append(latency)
            entry = {"name": step.name, "method": method, "url": redact(url), "read_only": step.read_only,
                     "latency_ms": round(latency * 1000.0, 3), "status_code": None, "assertions": [],
                     "captured": [], "error": None}
            if response is None:
                entry.update(status="failed", error=redact("no answer: %s" % error))
            else:
                assertions, captured, problem = evaluate(step, response.status_code, dict(response.headers), text,
                                                         latency, values)
                for name, (_source, _path, secret) in step.captures.items():
                    if secret and name in captured:
                        redact.add(captured[name])
                        secret_names.add(name)
                entry.update(status="failed" if problem else "passed", status_code=response.status_code,
                             assertions=redact(assertions), error=redact(problem))
                if not problem:
                    entry["captured"] = sorted(captured)
                    values.update(captured)
                    captures.update(captured)
            results.append(entry)
            if entry["status"] == "failed":
                results.extend(_not_run(s, redact) for s in steps[index + 1:])
                break
    finally:
        session.close()
    return results, latencies, captures, secret_names


def _not_run(step, redact):
    return {"name": step.name, "method": step.method, "url": redact(step.url), "read_only": step.read_only,
            "status": "not_run", "latency_ms": None, "status_code": None, "assertions": [], "captured": [],
            "error": None}
