# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke test steps: their validation, ``${name}`` placeholders, and the check of one answer.

A step is one HTTP request with expectations and captures::

    {"name": "log in", "url": "/login", "method": "POST",
     "secret_body": {"user": "ops", "password": "${password}"},
     "expect": {"status": 200, "json": {"user": "ops"}, "max_latency": 3},
     "capture": {"token": {"json": "token", "secret": True}}}

Placeholders ``${name}`` in ``url``, headers, bodies and expected values are replaced by a variable (the task's
``variables`` or ``secret_variables``) or a value captured by an EARLIER step; ``$${`` is a
literal ``${``.  A string that is exactly one placeholder inside a JSON body keeps the captured
value's type (a number stays a number).  Everything that can be checked without a request is
checked by :func:`parse_steps` before the first one is sent.

JSON paths are those of ``health_check``: dotted keys, list items by index (``items.0.id``).
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.health import (
    _MISSING,
    BODY_EXCERPT,
    check_json,
    json_lookup,
)

STEP_KEYS = ("name", "url", "method", "headers", "secret_headers", "body", "secret_body", "expect", "capture",
             "timeout", "read_only", "follow_redirects")
EXPECT_KEYS = ("status", "json", "body_pattern", "max_latency", "headers")
CAPTURE_SOURCES = ("json", "header")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_METHOD = re.compile(r"^[A-Z]+$")


def placeholders(value):
    """Names of the ``${name}`` placeholders in ``value`` (strings inside dicts and lists too)."""
    if isinstance(value, str):
        return [m.group(1) for m in _PLACEHOLDER.finditer(value) if m.group(0) != "$${"]
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in placeholders(k) + placeholders(v)]
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in placeholders(item)]
    return []


def resolve(value, variables):
    """``value`` with its placeholders replaced from ``variables`` (names checked by :func:`parse_steps`)."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) is not None:
            return variables[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: "${" if m.group(0) == "$${" else _text(variables[m.group(1)]), value)
    if isinstance(value, dict):
        return {resolve_text(k, variables): resolve(v, variables) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve(item, variables) for item in value]
    return value


def resolve_text(value, variables):
    """Like :func:`resolve` but always a string (URLs, header values)."""
    return _text(resolve(value, variables)) if isinstance(value, str) else _text(value)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class Step:
    """One validated step of a smoke test."""

    def __init__(self, index, spec, base_url, known, default_timeout):
        if not isinstance(spec, dict):
            raise ConfigurationError("step %d is %r, not a dictionary with at least a url" % (index, spec))
        self.name = str(spec.get("name") or "step %d" % index)
        where = "step %d (%s)" % (index, self.name)
        unknown = sorted(set(spec) - set(STEP_KEYS))
        if unknown:
            raise ConfigurationError("%s has unknown key(s) %s; a step takes %s"
                                     % (where, ", ".join(unknown), ", ".join(STEP_KEYS)))
        self.url = spec.get("url")
        if not self.url or not isinstance(self.url, str):
            raise ConfigurationError("%s has no url; give an absolute http(s):// URL or a path (/login) that "
                                     "base_url completes" % where)
        if not re.match(r"^(https?://|/|\$\{)", self.url):
            raise ConfigurationError("%s: url %r is neither an absolute http(s):// URL nor a path starting with /"
                                     % (where, self.url))
        if self.url.startswith("/") and not base_url:
            raise ConfigurationError("%s: url %s is a path; set base_url (e.g. http://app1:8080) or give a full URL"
                                     % (where, self.url))
        self.base_url = base_url
        self.method = str(spec.get("method") or "GET").upper()
        if not _METHOD.match(self.method):
            raise ConfigurationError("%s: method %r is not an HTTP method" % (where, spec.get("method")))
        if spec.get("body") is not None and spec.get("secret_body") is not None:
            raise ConfigurationError("%s has both body and secret_body; give one" % where)
        self.headers = _string_dict(spec.get("headers"), where, "headers")
        self.secret_headers = _string_dict(spec.get("secret_headers"), where, "secret_headers")
        self.secret = spec.get("secret_body") is not None
        self.body = spec.get("secret_body") if self.secret else spec.get("body")
        self.timeout = float(spec.get("timeout") or default_timeout)
        if self.timeout <= 0:
            raise ConfigurationError("%s: timeout must be more than 0 seconds" % where)
        read_only = spec.get("read_only")
        self.read_only = self.method in SAFE_METHODS if read_only is None else bool(read_only)
        self.follow_redirects = bool(spec.get("follow_redirects"))
        self._parse_expect(spec.get("expect") or {}, where)
        self._parse_capture(spec.get("capture") or {}, where)
        self.sensitive = self.secret or bool(self.secret_headers) or any(c[2] for c in self.captures.values())
        used = placeholders([self.url, self.headers, self.secret_headers, self.body, self.json, self.expect_headers])
        missing = sorted({n for n in used if n not in known})
        if missing:
            raise ConfigurationError(
                "%s uses %s, which no earlier step captures and variables/secret_variables do not define%s"
                % (where, ", ".join("${%s}" % n for n in missing),
                   " (known: %s)" % ", ".join(sorted(known)) if known else ""))
        bad = [n for n in used if not _NAME.match(n)]
        if bad:
            raise ConfigurationError("%s: placeholder ${%s} is not a name (letters, digits, _)" % (where, bad[0]))

    def _parse_expect(self, expect, where):
        if not isinstance(expect, dict):
            raise ConfigurationError("%s: expect must be a dictionary of %s" % (where, ", ".join(EXPECT_KEYS)))
        unknown = sorted(set(expect) - set(EXPECT_KEYS))
        if unknown:
            raise ConfigurationError("%s: unknown assertion(s) %s in expect; the assertions are %s"
                                     % (where, ", ".join(unknown), ", ".join(EXPECT_KEYS)))
        status = expect.get("status", [200])
        status = status if isinstance(status, (list, tuple)) else [status]
        try:
            self.status = [int(code) for code in status]
        except (TypeError, ValueError):
            raise ConfigurationError("%s: expect.status %r is not a status code or a list of them"
                                     % (where, expect.get("status"))) from None
        if not self.status or not all(100 <= code <= 599 for code in self.status):
            raise ConfigurationError("%s: expect.status %r has codes outside 100..599" % (where, status))
        self.json = expect.get("json") or {}
        if not isinstance(self.json, dict):
            raise ConfigurationError("%s: expect.json must map JSON paths to expected values" % where)
        pattern = expect.get("body_pattern")
        try:
            self.body_pattern = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise ConfigurationError("%s: expect.body_pattern is not a valid regular expression: %s"
                                     % (where, exc)) from None
        self.max_latency = expect.get("max_latency")
        if self.max_latency is not None:
            try:
                self.max_latency = float(self.max_latency)
            except (TypeError, ValueError):
                self.max_latency = -1.0
            if self.max_latency <= 0:
                raise ConfigurationError("%s: expect.max_latency must be a number of seconds above 0, not %r"
                                         % (where, expect.get("max_latency")))
        self.expect_headers = _string_dict(expect.get("headers"), where, "expect.headers")

    def _parse_capture(self, capture, where):
        if not isinstance(capture, dict):
            raise ConfigurationError("%s: capture must map names to {json: path} or {header: name}" % where)
        self.captures = {}
        for name, spec in capture.items():
            if not _NAME.match(str(name)):
                raise ConfigurationError("%s: capture name %r is not a name (letters, digits, _)" % (where, name))
            spec = {"json": spec} if isinstance(spec, str) else spec
            if not isinstance(spec, dict):
                raise ConfigurationError("%s: capture %s must be {json: path} or {header: name}" % (where, name))
            unknown = sorted(set(spec) - set(CAPTURE_SOURCES) - {"secret"})
            sources = [key for key in CAPTURE_SOURCES if spec.get(key)]
            if unknown or len(sources) != 1:
                raise ConfigurationError(
                    "%s: capture %s needs exactly one non-empty json (a JSON path) or header (a header name), "
                    "and optionally secret: true; got %r" % (where, name, sorted(spec)))
            self.captures[str(name)] = (sources[0], str(spec[sources[0]]), bool(spec.get("secret")))

    def request(self, variables):
        """(method, url, headers, body bytes or None) with the placeholders resolved."""
        url = resolve_text(self.url, variables)
        if url.startswith("/"):
            url = self.base_url.rstrip("/") + url
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ConfigurationError("step %s: url %s is not an absolute http(s) URL once resolved" % (self.name, url))
        headers = {k: resolve_text(v, variables) for k, v in self.headers.items()}
        headers.update({k: resolve_text(v, variables) for k, v in self.secret_headers.items()})
        body = None
        if self.body is not None:
            value = resolve(self.body, variables)
            if isinstance(value, (dict, list)):
                body = json.dumps(value).encode()
                if not any(k.lower() == "content-type" for k in headers):
                    headers["Content-Type"] = "application/json"
            else:
                body = _text(value).encode()
        return self.method, url, headers, body

    def secrets(self, variables):
        """The strings this step sends that are secret (resolved secret headers and body leaves)."""
        values = [resolve_text(v, variables) for v in self.secret_headers.values()]
        if self.secret:
            values.extend(_leaves(resolve(self.body, variables)))
        return values


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, (list, tuple)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [_text(value)]


def _string_dict(value, where, key):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigurationError("%s: %s must be a dictionary of names to values" % (where, key))
    return {str(k): v for k, v in value.items()}


def parse_steps(specs, base_url=None, variables=(), default_timeout=10.0):
    """Validate every step (see the module docstring) and return the list of :class:`Step`."""
    if not specs:
        raise ConfigurationError("steps is empty; give at least one step with a url")
    if base_url and urlsplit(base_url).scheme not in ("http", "https"):
        raise ConfigurationError("base_url %r is not an http(s):// URL" % base_url)
    known = set(variables)
    steps, names = [], set()
    for index, spec in enumerate(specs, 1):
        step = Step(index, spec, base_url, known, default_timeout)
        if step.name in names:
            raise ConfigurationError("two steps are named %r; step names must be unique" % step.name)
        names.add(step.name)
        known.update(step.captures)
        steps.append(step)
    return steps


def evaluate(step, status_code, headers, body, latency, variables=None):
    """Check one answer against ``step``: (assertions, captured values, error or None).

    The captures are taken even when an assertion failed (the caller learns the secret ones), but
    only a passed step's captures are for later steps.  Expected values may hold placeholders,
    resolved from ``variables``.

    ``assertions`` is a list of ``{"assertion", "ok", "detail"}`` in the order status, headers,
    body_pattern, json, max_latency (only those the step has); the JSON and header checks run only
    when the status is one expected (an error page says nothing about the fields).
    """
    assertions = []

    def record(name, ok, detail):
        assertions.append({"assertion": name, "ok": ok, "detail": detail})

    # the answer of a step that sends or captures a secret is never quoted (it may hold more of them)
    excerpt = "withheld, the step is secret" if step.sensitive else repr((body or "")[:BODY_EXCERPT])
    status_ok = status_code in step.status
    record("status", status_ok, "status %d%s" % (status_code, "" if status_ok else ", expected %s (body: %s)" % (
        " or ".join(str(c) for c in step.status), excerpt)))
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    if status_ok:
        for name, expected in resolve(step.expect_headers, variables or {}).items():
            actual = lowered.get(name.lower())
            same = actual == _text(expected)
            record("headers." + name, same, "header %s is %r%s" % (name, actual, "" if same else ", expected %r"
                                                                   % expected))
        if step.body_pattern is not None:
            found = step.body_pattern.search(body or "") is not None
            verb = "matches" if found else "does not match"
            record("body_pattern", found, "body %s %r%s" % (verb, step.body_pattern.pattern,
                                                            "" if found else " (body: %s)" % excerpt))
        if step.json:
            problems = check_json(body or "", resolve(step.json, variables or {}))
            if step.sensitive:
                problems = [p if not p.startswith("body is not JSON") else "body is not JSON (body withheld, the "
                            "step is secret)" for p in problems]
            record("json", not problems, "; ".join(problems) or "fields %s as expected" % ", ".join(sorted(step.json)))
    if step.max_latency is not None:
        fast = latency <= step.max_latency
        limit = "" if fast else ", above the limit of %.0f ms" % (step.max_latency * 1000)
        record("max_latency", fast, "latency %.0f ms%s" % (latency * 1000, limit))
    # captured even when an assertion failed, so that a secret in the answer is known to the redactor
    captured, problems = {}, []
    document = _json_or_missing(body) if any(s == "json" for s, _p, _x in step.captures.values()) else _MISSING
    for name, (source, path, _secret) in step.captures.items():
        if source == "header":
            value = lowered.get(path.lower(), _MISSING)
        else:
            value = _MISSING if document is _MISSING else json_lookup(document, path)
        if value is _MISSING:
            problems.append("capture %s: %s %s is missing in the answer"
                            % (name, "header" if source == "header" else "JSON field", path))
        else:
            captured[name] = value
    if not all(a["ok"] for a in assertions):
        problems = []  # a missing capture says nothing more once an assertion failed
    failed = [a["detail"] for a in assertions if not a["ok"]] + problems
    return assertions, captured, "; ".join(failed) or None


def _json_or_missing(body):
    try:
        return json.loads(body or "")
    except ValueError:
        return _MISSING
