# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metric source ``prometheus``: instant queries over the HTTP API with templated PromQL, per slot.

Up to three queries, each returning ONE number per slot (aggregate with ``sum``/``max`` in PromQL):
``requests`` and ``errors`` (counts over the window, e.g. ``sum(increase(...[${window}]))``) and
``latency`` (e.g. a p95 from a histogram with ``histogram_quantile``).  Placeholders use
``string.Template`` syntax - ``${slot}``, ``${role}``, ``${window}`` and any variable of the slot -
because PromQL itself is full of braces.  The queries run at the end of the window, so
``[${window}]`` covers exactly the window that was waited for.

An empty result, NaN or a missing query is missing data (the rules make it inconclusive).
"""

from __future__ import annotations

import math
import string
import time

from ansible_collections.shipyard.deploy.plugins.module_utils import http_client, safe_json
from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.rules import measurement
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import AnalysisError, ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.health import redact_url

QUERY_NAMES = ("requests", "errors", "latency")
LATENCY_SCALE = {"seconds": 1000.0, "milliseconds": 1.0}


def render_query(template, variables):
    """Fill ``${name}`` placeholders; ConfigurationError naming an unknown placeholder."""
    try:
        return string.Template(template).substitute(variables)
    except KeyError as exc:
        raise ConfigurationError("PromQL template %r uses ${%s}, which is not defined; known: %s"
                                 % (template, exc.args[0], ", ".join(sorted(variables)))) from None
    except ValueError as exc:
        raise ConfigurationError("PromQL template %r is not a valid template (%s); write a literal $ as $$"
                                 % (template, exc)) from None


def parse_instant_result(payload, query):
    """One number from an instant query's JSON answer, or None when it has no sample.

    A vector with more than one series is refused: the rules need one number per slot, and
    silently picking one series would judge the wrong thing.
    """
    if not isinstance(payload, dict) or payload.get("status") != "success":
        error = payload.get("error") if isinstance(payload, dict) else None
        raise AnalysisError("Prometheus could not run %r: %s" % (query, error or "unexpected answer %r" % (payload,)))
    data = payload.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        sample = result
    elif kind == "vector":
        if not result:
            return None
        if len(result) > 1:
            raise AnalysisError("query %r returned %d series, not one; aggregate it, e.g. sum(...) or max(...)"
                                % (query, len(result)))
        sample = result[0].get("value")
    else:
        raise AnalysisError("query %r returned a %s, not an instant vector or scalar; drop the range selector "
                            "or wrap it in a function such as increase()" % (query, kind))
    try:
        return float(sample[1])  # "NaN" and "+Inf" parse; the rules treat them as missing
    except (TypeError, ValueError, IndexError):
        return None


class PrometheusClient:
    """Instant queries against a Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics)."""

    def __init__(self, url, headers=None, bearer_token=None, validate_certs=True, ca_path=None, timeout=10.0,
                 attempts=3):
        if not url:
            raise ConfigurationError("prometheus.url is required with source=prometheus, e.g. http://prometheus:9090")
        self.url = url.rstrip("/")
        self.headers = {str(k): str(v) for k, v in (headers or {}).items()}
        if bearer_token:
            self.headers["Authorization"] = "Bearer " + bearer_token
        self.verify = http_client.tls_verify(validate_certs, ca_path)
        self.timeout = timeout
        self.attempts = attempts
        self.session = http_client.new_session(4)

    def query(self, promql, at=None):
        """Run an instant query (at ``at``, a UNIX time, or now); return its one number or None."""
        import requests  # present: http_client.new_session() checked it

        params = {"query": promql}
        if at is not None:
            params["time"] = "%.3f" % at
        last = None
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.session.get(self.url + "/api/v1/query", params=params, headers=self.headers,
                                            timeout=http_client.timeouts(self.timeout), verify=self.verify)
                if response.status_code >= 500 or response.status_code == 429:
                    last = "HTTP %d" % response.status_code
                else:
                    try:
                        payload = safe_json.loads(response.content)
                    except ValueError:
                        raise AnalysisError("Prometheus at %s answered HTTP %d with a body that is not JSON: %r"
                                            % (redact_url(self.url), response.status_code,
                                               response.text[:200])) from None
                    return parse_instant_result(payload, promql)
            except requests.RequestException as exc:
                last = http_client.short_error(exc)
            if attempt < self.attempts:
                # full jitter: concurrent analyses must not retry in lockstep
                http_client.pause(attempt + 1)
        raise AnalysisError("cannot query Prometheus at %s after %d attempts (%s); check prometheus.url and that "
                            "it is reachable from this host" % (redact_url(self.url), self.attempts, last))

    def close(self):
        self.session.close()


def measure_prometheus(slots, window, settings, sleep=time.sleep):
    """Wait for the window, then query each slot; return ``{role: measurement}``.

    ``slots`` is ``{role: {"name": slot name, "vars": {...}}}``; ``settings`` holds ``url``,
    ``queries`` (requests/errors/latency templates), ``latency_unit`` and the HTTP options.
    """
    queries = {k: v for k, v in (settings.get("queries") or {}).items() if v}
    unknown = sorted(set(queries) - set(QUERY_NAMES))
    if unknown:
        raise ConfigurationError("unknown prometheus queries %s; use %s" % (", ".join(unknown), ", ".join(QUERY_NAMES)))
    if not queries:
        raise ConfigurationError("prometheus.queries is empty; give at least requests and errors, e.g. "
                                 "sum(increase(http_requests_total{slot=\"${slot}\"}[${window}]))")
    unit = settings.get("latency_unit") or "seconds"
    if unit not in LATENCY_SCALE:
        raise ConfigurationError("latency_unit must be seconds or milliseconds, not %r" % unit)
    window_text = "%ds" % max(1, round(window))
    rendered = {}
    for role, spec in slots.items():
        variables = {str(k): str(v) for k, v in (spec.get("vars") or {}).items()}
        variables.update(slot=spec.get("name") or role, role=role, window=window_text)
        rendered[role] = {name: render_query(template, variables) for name, template in queries.items()}
    client = PrometheusClient(settings.get("url"), headers=settings.get("headers"),
                              bearer_token=settings.get("bearer_token"),
                              validate_certs=settings.get("validate_certs") is not False,
                              ca_path=settings.get("ca_path"),
                              timeout=settings.get("timeout") or 10.0)
    try:
        # Fail on a bad URL or query before waiting the whole window for nothing.
        for role in rendered:
            for promql in rendered[role].values():
                client.query(promql)
        sleep(window)
        at = time.time()
        results = {}
        for role, named in rendered.items():
            values = {name: client.query(promql, at=at) for name, promql in named.items()}
            latency = values.get("latency")
            results[role] = measurement(
                requests=values.get("requests"),
                errors=values.get("errors"),
                latency_ms=None if latency is None else latency * LATENCY_SCALE[unit],
                latency_metric="query",
                # NaN/Inf are not JSON; they are missing data here as in the rules
                details={"queries": named, "evaluated_at": at,
                         "values": {k: v if v is not None and math.isfinite(v) else None for k, v in values.items()}},
            )
        return results
    finally:
        client.close()
