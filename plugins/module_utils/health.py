# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Health checks of many targets at once: HTTP(S), TCP connect and PostgreSQL.

One call checks hundreds of targets concurrently from a thread pool; HTTP goes through one
``requests`` session whose connection pool is as large as the pool of workers, so a target that is
polled again reuses its keep-alive connection.

Waiting semantics (the ones of Docker's ``HEALTHCHECK``, which operators already know):

- every target is polled every ``interval`` seconds until it has ``success_threshold``
  consecutive successful probes (it *passes*), or ``failure_threshold`` consecutive failed probes
  that count (it *fails*), or ``timeout`` seconds have gone by (it *times out*);
- failures during the start period do not count: by default the start period lasts until the
  target's first success, so a target that is still starting is waited for until ``timeout``
  while a target that answered once and then flaps fails fast.  ``start_period: 0`` counts every
  failure from the first probe.

Nothing here imports Ansible; :func:`check_health` is the service of the ``health_check`` module.
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import re
import socket
import time
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.shipyard.deploy.plugins.module_utils import http_client, safe_json
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    HealthCheckError,
    PostgresError,
)

try:
    import requests
except ImportError:  # pragma: no cover - reported by http_client.require_requests()
    requests = None

TARGET_TYPES = ("http", "tcp", "postgres")
# Characters of a response body quoted in an error message: enough to recognise an error page.
BODY_EXCERPT = 200
_MISSING = object()


# --- latency statistics -------------------------------------------------------------------------

def percentile(values, q):
    """The ``q``-th percentile (0..100) of ``values`` by linear interpolation between ranks.

    This is the definition of numpy's default and of most monitoring tools, so a p95 computed
    here agrees with what an operator computes from the same samples.  Returns None for no values.
    """
    if not values:
        return None
    if not 0 <= q <= 100:
        raise ValueError("percentile must be between 0 and 100, not %r" % (q,))
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(seconds):
    """``{count, min, p50, p95, p99, max, avg}`` in milliseconds (rounded to µs) of latencies in seconds.

    Every key is present; with no samples the values are None (never 0, which would look fast).
    """
    def ms(value):
        return None if value is None else round(value * 1000.0, 3)

    return {
        "count": len(seconds),
        "min": ms(min(seconds)) if seconds else None,
        "p50": ms(percentile(seconds, 50)),
        "p95": ms(percentile(seconds, 95)),
        "p99": ms(percentile(seconds, 99)),
        "max": ms(max(seconds)) if seconds else None,
        "avg": ms(sum(seconds) / len(seconds)) if seconds else None,
    }


# --- JSON assertions ----------------------------------------------------------------------------

def json_lookup(document, path):
    """The value at a dotted ``path`` (``a.b.0.c``; list items by index) or ``_MISSING``."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and re.fullmatch(r"-?\d+", part) and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _same(actual, expected):
    if actual == expected and type(actual) is type(expected):
        return True
    # YAML turns 1.4 into a float and "true" into a bool; compare scalars by their text so that
    # `version: 1.4` matches "1.4" and `ready: true` matches "true", but never a dict to a string.
    scalars = (str, int, float, bool)
    if isinstance(actual, scalars) and isinstance(expected, scalars):
        return _text(actual) == _text(expected)
    return actual == expected


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_json(body, assertions):
    """Check JSON field assertions ``{dotted.path: expected}`` against a response body.

    Returns a list of failure messages, each naming the field, what it was and what was expected;
    an empty list means every assertion holds.
    """
    if not assertions:
        return []
    try:
        document = safe_json.loads(body)
    except ValueError:
        return ["body is not JSON (expected fields %s): %r" % (", ".join(sorted(assertions)), body[:BODY_EXCERPT])]
    failures = []
    for path, expected in assertions.items():
        actual = json_lookup(document, path)
        if actual is _MISSING:
            failures.append("JSON field %s is missing (expected %s)" % (path, json.dumps(expected)))
        elif not _same(actual, expected):
            failures.append("JSON field %s is %s, expected %s" % (path, json.dumps(actual), json.dumps(expected)))
    return failures


# --- targets ------------------------------------------------------------------------------------

def redact_url(url):
    """``url`` without a password in its user part, for names and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = "%s:***@%s" % (parts.username or "", parts.hostname or "")
    if parts.port:
        netloc += ":%d" % parts.port
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class Target:
    """One thing to check, with its expectations, built from a ``targets`` item and the defaults."""

    def __init__(self, spec, defaults):
        self.spec = spec
        self.type = spec.get("type") or self._infer_type(spec)
        if self.type not in TARGET_TYPES:
            raise ConfigurationError("target type %r is not one of %s" % (self.type, ", ".join(TARGET_TYPES)))
        self.timeout = spec.get("timeout") or defaults.get("request_timeout") or 5.0
        self.max_latency = spec.get("max_latency")
        if self.max_latency is None:
            self.max_latency = defaults.get("max_latency")
        if self.type == "http":
            self._init_http(spec, defaults)
        elif self.type == "tcp":
            if not spec.get("host") or not spec.get("port"):
                raise ConfigurationError(
                    "tcp target %r needs host and port; set both, e.g. host: db1, port: 5432"
                    % (spec.get("name") or spec.get("host") or "?")
                )
            self.host, self.port = spec["host"], int(spec["port"])
            self.name = spec.get("name") or "%s:%d" % (self.host, self.port)
        else:
            self._init_postgres(spec)

    @staticmethod
    def _infer_type(spec):
        if spec.get("url"):
            return "http"
        if spec.get("query") or spec.get("database") or spec.get("conninfo") or spec.get("user"):
            return "postgres"
        return "tcp"

    def _init_http(self, spec, defaults):
        url = spec.get("url")
        if not url or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise ConfigurationError(
                "http target %r needs an absolute http:// or https:// url" % redact_url(url or spec.get("name") or "")
            )
        self.url = url
        self.name = spec.get("name") or redact_url(url)
        self.method = (spec.get("method") or "GET").upper()
        self.status_codes = list(spec.get("status_codes") or [200])
        self.json = spec.get("json") or {}
        pattern = spec.get("body_pattern")
        try:
            self.body_pattern = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise ConfigurationError("body_pattern of target %s is not a valid regular expression: %s"
                                     % (self.name, exc)) from None
        headers = dict(defaults.get("headers") or {})
        headers.update(spec.get("headers") or {})
        token = spec.get("bearer_token") or defaults.get("bearer_token")
        if token:
            headers["Authorization"] = "Bearer " + token
        self.headers = {str(k): str(v) for k, v in headers.items()}
        validate = spec.get("validate_certs")
        if validate is None:
            validate = defaults.get("validate_certs")
        # verification is off only when someone said so explicitly
        self.verify = http_client.tls_verify(validate is not False, spec.get("ca_path") or defaults.get("ca_path"))
        self.follow_redirects = bool(spec.get("follow_redirects"))

    def _init_postgres(self, spec):
        # Imported here: psycopg takes a third of a second to load, and most checks are HTTP only.
        from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import ConnectionParams

        options = {key: spec.get(key) for key in ("host", "port", "user", "password", "database", "sslmode",
                                                  "conninfo", "service")}
        if options["port"] is None:
            options["port"] = 5432
        options["connect_timeout"] = max(1, math.ceil(self.timeout))
        self.params = ConnectionParams.from_options(options)
        self.query = spec.get("query") or "SELECT 1"
        self.name = spec.get("name") or "postgres " + self.params.describe()

    def describe(self):
        """Where this target points, without secrets (``url`` or ``host:port``)."""
        if self.type == "http":
            return redact_url(self.url)
        if self.type == "tcp":
            return "%s:%d" % (self.host, self.port)
        return self.params.describe()


class ProbeResult:
    """The outcome of one probe: ``ok``, ``latency`` (seconds), ``error`` and optional details."""

    __slots__ = ("error", "latency", "ok", "status_code", "value")

    def __init__(self, ok, latency, error=None, status_code=None, value=None):
        self.ok = ok
        self.latency = latency
        self.error = error
        self.status_code = status_code
        self.value = value


def http_request(session, method, url, headers=None, data=None, timeout=5.0, verify=True, allow_redirects=False):
    """One request through ``session``: ``(response, body text, latency seconds, None)``, or
    ``(None, None, latency, short error)`` when no answer came (refused, reset, timeout, TLS).

    The one place where health checks and smoke tests talk HTTP (session from ``http_client.new_session``).
    """
    started = time.monotonic()
    try:
        response = session.request(method, url, headers=headers, data=data, timeout=http_client.timeouts(timeout),
                                   verify=verify, allow_redirects=allow_redirects)
        body = response.text
    except requests.RequestException as exc:
        return None, None, time.monotonic() - started, http_client.short_error(exc)
    return response, body, time.monotonic() - started, None


def probe_http(target, session):
    """Send one request to an HTTP target and check status, body pattern, JSON fields and latency."""
    response, body, latency, error = http_request(session, target.method, target.url, headers=target.headers,
                                                  timeout=target.timeout, verify=target.verify,
                                                  allow_redirects=target.follow_redirects)
    if response is None:
        return ProbeResult(False, latency, error=error)
    problems = []
    if response.status_code not in target.status_codes:
        problems.append("status %d, expected %s (body: %r)" % (
            response.status_code, " or ".join(str(c) for c in target.status_codes), body[:BODY_EXCERPT]))
    else:
        if target.body_pattern is not None and not target.body_pattern.search(body):
            problems.append("body does not match %r (body: %r)" % (target.body_pattern.pattern, body[:BODY_EXCERPT]))
        problems.extend(check_json(body, target.json))
    problems.extend(_latency_problem(target, latency))
    return ProbeResult(not problems, latency, error="; ".join(problems) or None, status_code=response.status_code)


def probe_tcp(target):
    """Open (and close) a TCP connection to ``host:port``."""
    started = time.monotonic()
    try:
        with socket.create_connection((target.host, target.port), timeout=target.timeout):
            pass
    except OSError as exc:
        return ProbeResult(False, time.monotonic() - started, error="cannot connect to %s: %s"
                           % (target.describe(), exc.strerror or exc))
    latency = time.monotonic() - started
    problems = _latency_problem(target, latency)
    return ProbeResult(not problems, latency, error="; ".join(problems) or None)


def probe_postgres(target):
    """Connect to PostgreSQL, run the target's query and fetch its first row."""
    started = time.monotonic()
    try:
        # a query that hangs (locks, a stuck replica) must fail the probe, not the whole task
        # a health check reads: the query runs in a READ ONLY transaction that is rolled back, so
        # not even a writable function or a DROP in the query can change the database
        options = "-c statement_timeout=%d -c default_transaction_read_only=on" % int(target.timeout * 1000)
        with target.params.connect(autocommit=False, options=options) as conn:
            conn.read_only = True
            try:
                row = conn.execute(target.query).fetchone()
            finally:
                conn.rollback()
    except PostgresError as exc:
        return ProbeResult(False, time.monotonic() - started, error=exc.message)
    except Exception as exc:  # a query error (psycopg.Error) is a failed check, not a crash
        reason = http_client.short_error(exc)
        return ProbeResult(False, time.monotonic() - started,
                           error="query %r failed on %s: %s" % (target.query, target.describe(), reason))
    latency = time.monotonic() - started
    problems = _latency_problem(target, latency)
    value = row[0] if row else None
    if not isinstance(value, (str, int, float, bool, type(None))):
        value = str(value)
    return ProbeResult(not problems, latency, error="; ".join(problems) or None, value=value)


def _latency_problem(target, latency):
    if target.max_latency is not None and latency > target.max_latency:
        return ["latency %.0f ms exceeds the budget of %.0f ms" % (latency * 1000, target.max_latency * 1000)]
    return []


def probe(target, session):
    """Run one probe of any target type."""
    if target.type == "http":
        return probe_http(target, session)
    if target.type == "tcp":
        return probe_tcp(target)
    return probe_postgres(target)


# --- waiting ------------------------------------------------------------------------------------

class TargetState:
    """What we know about one target while waiting: counts, streaks, last outcome."""

    def __init__(self, target, start_period_ends):
        self.target = target
        self.attempts = 0
        self.successes = 0
        self.consecutive_successes = 0
        self.consecutive_failures = 0
        self.ever_succeeded = False
        self.start_period_ends = start_period_ends  # monotonic time, or None = until first success
        self.last = None
        self.last_error = None
        self.latencies = []
        self.state = "pending"
        self.next_due = 0.0
        self.probed_at = None

    def record(self, result, probed_at, success_threshold, failure_threshold):
        """Count one probe result and decide the target when a threshold is reached."""
        self.attempts += 1
        self.last = result
        self.latencies.append(result.latency)
        if result.ok:
            self.successes += 1
            self.ever_succeeded = True
            self.consecutive_successes += 1
            self.consecutive_failures = 0
            if self.consecutive_successes >= success_threshold:
                self.state = "passed"
            return
        self.last_error = result.error
        self.consecutive_successes = 0
        if self.start_period_ends is None:
            counts = self.ever_succeeded
        else:
            counts = self.ever_succeeded or probed_at >= self.start_period_ends
        if counts:
            self.consecutive_failures += 1
            if self.consecutive_failures >= failure_threshold:
                self.state = "failed"

    def as_result(self):
        """The per-target dictionary returned by the module."""
        last = self.last
        result = {
            "name": self.target.name,
            "type": self.target.type,
            "target": self.target.describe(),
            "state": self.state,
            "healthy": self.state == "passed",
            "attempts": self.attempts,
            "successes": self.successes,
            "consecutive_successes": self.consecutive_successes,
            "consecutive_failures": self.consecutive_failures,
            "latency_ms": None if last is None else round(last.latency * 1000.0, 3),
            "latency": latency_summary(self.latencies),
            "status_code": None if last is None else last.status_code,
            "last_error": self.last_error,
            "error": None if self.state == "passed" else (last.error if last is not None else "never probed"),
        }
        if self.target.type == "postgres":
            result["value"] = None if last is None else last.value
        return result


def wait_for_targets(targets, timeout=60.0, interval=1.0, success_threshold=1, failure_threshold=3,
                     start_period=None, workers=32, clock=time.monotonic, sleep=time.sleep):
    """Probe ``targets`` concurrently until each passes, fails or ``timeout`` runs out.

    Each target is polled on its own schedule (every ``interval`` seconds from its previous probe),
    so a slow target never delays the others.  Returns the list of :class:`TargetState`, in the
    order of ``targets``, and the elapsed seconds.
    """
    if success_threshold < 1 or failure_threshold < 1:
        raise ConfigurationError("success_threshold and failure_threshold must be at least 1 (got %s and %s)"
                                 % (success_threshold, failure_threshold))
    if workers < 1:
        raise ConfigurationError("workers must be at least 1, not %s" % workers)
    started = clock()
    deadline = started + timeout
    start_period_ends = None if start_period is None else started + start_period
    states = [TargetState(t, start_period_ends) for t in targets]
    pool_size = max(1, min(workers, len(targets)))
    session = http_client.new_session(pool_size) if any(t.type == "http" for t in targets) else None
    inflight = {}
    try:
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=pool_size)
        try:
            while True:
                now = clock()
                busy = {id(s) for s in inflight.values()}
                waiting = [s for s in states if s.state == "pending" and id(s) not in busy]
                if now < deadline:
                    for state in waiting:
                        if state.next_due <= now:
                            inflight[executor.submit(probe, state.target, session)] = state
                            state.probed_at = now
                if not inflight:
                    if now >= deadline or not waiting:
                        break
                    sleep(max(0.0, min(min(s.next_due for s in waiting), deadline) - now))
                    continue
                # Wake up for the first finished probe or the next target that falls due.
                # After the deadline nothing new starts: just let the probes in flight finish.
                upcoming = [s.next_due for s in waiting if s.next_due > now]
                wake = None if now >= deadline else max(0.0, min([*upcoming, deadline]) - now)
                first = concurrent.futures.FIRST_COMPLETED
                done, _pending = concurrent.futures.wait(list(inflight), timeout=wake, return_when=first)
                for future in done:
                    state = inflight.pop(future)
                    state.record(future.result(), state.probed_at, success_threshold, failure_threshold)
                    state.next_due = state.probed_at + interval
        except BaseException:
            # interrupted (the module deadline, a signal): do not wait for probes stuck in the network
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        executor.shutdown(wait=True)
    finally:
        if session is not None:
            session.close()
    for state in states:
        if state.state == "pending":
            state.state = "timed_out"
    return states, clock() - started


def check_health(params, check_mode=False, diff_mode=False):
    """Service of the ``health_check`` module: check every target, fail naming the unhealthy ones.

    Checks only read, so they run in check mode too; ``changed`` is always False.
    """
    default_keys = ("request_timeout", "max_latency", "headers", "bearer_token", "validate_certs", "ca_path")
    defaults = {key: params.get(key) for key in default_keys}
    specs = params.get("targets") or []
    if not specs:
        raise ConfigurationError("targets is empty; give at least one url, host/port or PostgreSQL target")
    targets = [Target(dict(spec), defaults) for spec in specs]
    names = [t.name for t in targets]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError("target names must be unique; %s appear more than once (set name: on each)"
                                 % ", ".join(duplicates))

    def option(key, default):
        # 0 is a value (and refused where it makes no sense), not "use the default"
        value = params.get(key)
        return default if value is None else value

    if option("timeout", 60.0) < 0 or option("interval", 1.0) < 0:
        raise ConfigurationError("timeout and interval must be zero or more seconds")
    states, elapsed = wait_for_targets(
        targets,
        timeout=option("timeout", 60.0),
        interval=option("interval", 1.0),
        success_threshold=option("success_threshold", 1),
        failure_threshold=option("failure_threshold", 3),
        start_period=params.get("start_period"),
        workers=option("workers", 32),
    )
    results = [s.as_result() for s in states]
    all_latencies = [latency for s in states for latency in s.latencies]
    unhealthy = [r for r in results if not r["healthy"]]
    summary = {
        "changed": False,
        "targets": results,
        "healthy": [r["name"] for r in results if r["healthy"]],
        "unhealthy": [r["name"] for r in unhealthy],
        "latency": latency_summary(all_latencies),
        "probes": len(all_latencies),
        "elapsed": round(elapsed, 3),
    }
    if unhealthy:
        reasons = "; ".join(
            "%s %s after %d attempt%s: %s" % (
                r["name"], r["state"].replace("_", " "), r["attempts"], "" if r["attempts"] == 1 else "s",
                r["error"])
            for r in unhealthy[:10]
        )
        more = "" if len(unhealthy) <= 10 else " (and %d more, see unhealthy)" % (len(unhealthy) - 10)
        raise HealthCheckError("%d of %d targets unhealthy: %s%s" % (len(unhealthy), len(results), reasons, more),
                               **summary)
    summary["msg"] = "all %d targets healthy in %.2fs" % (len(results), elapsed)
    return summary
