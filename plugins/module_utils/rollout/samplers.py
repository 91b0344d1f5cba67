# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Continuous measurement of both slots for the rollout: one sampler per analysis source.

A sampler is read about twice a second.  :meth:`Sampler.sample` returns, per role (``canary`` is
the slot taking over, ``baseline`` the one serving before), two measurements in the shape of
``analysis.rules.measurement``: ``total`` since the last :meth:`Sampler.reset` (what the
decision judges) and ``interval`` since the previous sample (what the report charts per second).

- ``haproxy``: the per-server counters of ``show stat``; each interval is the difference of two
  reads.  A counter that goes backwards (HAProxy reloaded and its new worker counts from zero) loses
  that one interval, not the step: the next read is the new starting point.
- ``prometheus``: the query templates of ``canary_analysis`` with ``${window}`` set to the time since
  the reset, so each read is the total of the step so far.
- ``probe``: worker threads send requests to each slot's own URLs all the time, which also gives a
  quiet service the traffic it lacks for a verdict.
"""

from __future__ import annotations

import threading
import time

from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.haproxy_stats import (
    COUNTER_FIELDS,
    ERROR_FIELDS,
    RESPONSE_FIELDS,
    servers_by_prefix,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.probe import LATENCY_METRICS, SlotProbe
from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.prometheus import (
    LATENCY_SCALE,
    QUERY_NAMES,
    PrometheusClient,
    render_query,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.rules import measurement
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.haproxy_api import RuntimeAPI
from ansible_collections.shipyard.deploy.plugins.module_utils.health import latency_summary
from ansible_collections.shipyard.deploy.plugins.module_utils.http_client import new_session

SOURCES = ("haproxy", "prometheus", "probe")
ROLES = ("canary", "baseline")


class Sampler:
    """Reads both slots; subclasses implement :meth:`sample`."""

    source = None
    # the shortest sensible time between two reads
    min_interval = 0.1

    def reset(self):
        """Start counting the totals from now."""
        raise NotImplementedError

    def sample(self):
        """``{role: {"total": measurement, "interval": measurement}}``."""
        raise NotImplementedError

    def close(self):
        """Stop threads and close connections."""


class _Counts:
    """Requests, errors and request-weighted latency of one slot, added up interval by interval."""

    def __init__(self):
        self.requests = 0
        self.errors = 0
        self.latency_weight = 0.0
        self.latency_requests = 0

    def add(self, requests, errors, latency_ms):
        self.requests += requests
        self.errors += errors
        if latency_ms is not None and requests > 0:
            self.latency_weight += latency_ms * requests
            self.latency_requests += requests

    def as_measurement(self, metric, details=None):
        latency = self.latency_weight / self.latency_requests if self.latency_requests else None
        return measurement(requests=self.requests, errors=self.errors, latency_ms=latency, latency_metric=metric,
                           details=details)


def _int(row, field):
    try:
        return int(row.get(field))
    except (TypeError, ValueError):
        return None


class HAProxySampler(Sampler):
    """``show stat`` of the servers of each slot, differenced read by read."""

    source = "haproxy"

    def __init__(self, settings, slot_names, slot_servers=None, api=None):
        if api is None and not settings.get("socket"):
            raise ConfigurationError("analysis.haproxy.socket is required with source=haproxy (unless the router "
                                     "is HAProxy, whose haproxy_socket is then used): the runtime API "
                                     "address (a socket path or host:port)")
        self.api = api or RuntimeAPI(settings["socket"], timeout=settings.get("timeout") or 5.0)
        self.backend = settings.get("backend") or "app"
        rows = self.api.show_stat()
        self.servers = {}
        for role, slot in slot_names.items():
            names = list((slot_servers or {}).get(slot) or servers_by_prefix(rows, self.backend, slot))
            if not names:
                raise ConfigurationError("no server of HAProxy backend %r belongs to slot %s; name them %s_1, %s_2 "
                                         "... or list them in the router's slots" % (self.backend, slot, slot, slot))
            self.servers[role] = names
        self.resets = 0
        self.last = self._read(rows)
        self.totals = {role: _Counts() for role in self.servers}

    def _read(self, rows=None):
        rows = self.api.show_stat() if rows is None else rows
        wanted = {name for names in self.servers.values() for name in names}
        return {row["svname"]: row for row in rows
                if row.get("pxname") == self.backend and row.get("svname") in wanted}

    def reset(self):
        self.totals = {role: _Counts() for role in self.servers}

    def sample(self):
        rows = self._read()
        result = {}
        for role, names in self.servers.items():
            interval = _Counts()
            for name in names:
                before, after = self.last.get(name), rows.get(name)
                if before is None or after is None:
                    continue
                deltas = {}
                for field in COUNTER_FIELDS:
                    a, b = _int(before, field), _int(after, field)
                    deltas[field] = 0 if a is None or b is None else b - a
                if any(v < 0 for v in deltas.values()):
                    # HAProxy reloaded: its new worker counts from zero; this interval is lost
                    self.resets += 1
                    continue
                requests = sum(deltas[f] for f in RESPONSE_FIELDS) + sum(deltas[f] for f in ERROR_FIELDS)
                errors = deltas["hrsp_5xx"] + sum(deltas[f] for f in ERROR_FIELDS)
                interval.add(requests, errors, _int(after, "rtime"))
            self.totals[role].add(interval.requests, interval.errors,
                                  interval.latency_weight / interval.latency_requests
                                  if interval.latency_requests else None)
            result[role] = {"total": self.totals[role].as_measurement("avg"),
                            "interval": interval.as_measurement("avg")}
        self.last = rows
        return result


class PrometheusSampler(Sampler):
    """The templated queries, evaluated over the time since the reset."""

    source = "prometheus"
    min_interval = 1.0

    def __init__(self, settings, slot_names, slot_vars=None, clock=time.monotonic):
        queries = {k: v for k, v in (settings.get("queries") or {}).items() if v}
        unknown = sorted(set(queries) - set(QUERY_NAMES))
        if unknown:
            raise ConfigurationError("unknown prometheus queries %s; use %s"
                                     % (", ".join(unknown), ", ".join(QUERY_NAMES)))
        if "requests" not in queries or "errors" not in queries:
            raise ConfigurationError("analysis.prometheus.queries needs requests and errors, e.g. "
                                     "sum(increase(http_requests_total{slot=\"${slot}\"}[${window}]))")
        self.unit = settings.get("latency_unit") or "seconds"
        if self.unit not in LATENCY_SCALE:
            raise ConfigurationError("latency_unit must be seconds or milliseconds, not %r" % self.unit)
        if not settings.get("url"):
            raise ConfigurationError("analysis.prometheus.url is required with source=prometheus")
        self.queries = queries
        self.slot_names = slot_names
        self.slot_vars = slot_vars or {}
        self.clock = clock
        self.client = PrometheusClient(settings["url"], headers=settings.get("headers"),
                                       bearer_token=settings.get("bearer_token"),
                                       validate_certs=settings.get("validate_certs") is not False,
                                       ca_path=settings.get("ca_path"), timeout=settings.get("timeout") or 10.0)
        self.started = clock()
        self.previous = {}
        # fail on a bad URL or query before any traffic moves
        for role in slot_names:
            for promql in self._render(role, 1.0).values():
                self.client.query(promql)

    def _render(self, role, seconds):
        variables = {str(k): str(v) for k, v in (self.slot_vars.get(self.slot_names[role]) or {}).items()}
        variables.update(slot=self.slot_names[role], role=role, window="%ds" % max(1, round(seconds)))
        return {name: render_query(template, variables) for name, template in self.queries.items()}

    def reset(self):
        self.started = self.clock()
        self.previous = {}

    def sample(self):
        seconds = self.clock() - self.started
        result = {}
        for role in self.slot_names:
            values = {name: self.client.query(promql) for name, promql in self._render(role, seconds).items()}
            latency = values.get("latency")
            latency = None if latency is None else latency * LATENCY_SCALE[self.unit]
            total = measurement(requests=values.get("requests"), errors=values.get("errors"), latency_ms=latency,
                                latency_metric="query")
            before = self.previous.get(role) or measurement(requests=0, errors=0)
            interval = measurement(
                requests=max(0.0, (total["requests"] or 0) - (before["requests"] or 0)),
                errors=max(0.0, (total["errors"] or 0) - (before["errors"] or 0)),
                latency_ms=latency, latency_metric="query")
            self.previous[role] = total
            result[role] = {"total": total, "interval": interval}
        return result

    def close(self):
        self.client.close()


class _Mark:
    def __init__(self, probe):
        with probe.lock:
            self.requests, self.errors, self.latencies = probe.requests, probe.errors, len(probe.latencies)


class ProbeSampler(Sampler):
    """Synthetic requests to each slot's own URLs from worker threads, for as long as the rollout runs."""

    source = "probe"

    def __init__(self, settings, slot_names, slot_urls):
        self.metric = settings.get("latency_metric") or "p95"
        if self.metric not in LATENCY_METRICS:
            raise ConfigurationError("latency_metric %r is not available from the probe source; use one of %s"
                                     % (self.metric, ", ".join(LATENCY_METRICS)))
        missing = [slot for slot in slot_names.values() if not slot_urls.get(slot)]
        if missing:
            raise ConfigurationError("source=probe needs the URLs of slot %s; set slot_urls (traffic_slot_urls)"
                                     % ", ".join(missing))
        concurrency = settings.get("concurrency") or 2
        interval = settings.get("interval")
        self.pause = 0.05 if interval is None else interval
        self.probes = {role: SlotProbe(slot, slot_urls[slot], settings) for role, slot in slot_names.items()}
        self.session = new_session(concurrency * len(self.probes))
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=probe.work, args=(self.session, float("inf"), self.pause, self.stop),
                                         daemon=True)
                        for probe in self.probes.values() for _worker in range(concurrency)]
        for thread in self.threads:
            thread.start()
        self.start_marks = {role: _Mark(p) for role, p in self.probes.items()}
        self.last_marks = dict(self.start_marks)

    def reset(self):
        self.start_marks = {role: _Mark(p) for role, p in self.probes.items()}
        self.last_marks = dict(self.start_marks)

    def _since(self, probe, mark, now):
        with probe.lock:
            latencies = probe.latencies[mark.latencies:now.latencies]
        summary = latency_summary(latencies)
        return measurement(requests=now.requests - mark.requests, errors=now.errors - mark.errors,
                           latency_ms=summary.get(self.metric), latency_metric=self.metric)

    def sample(self):
        result = {}
        for role, probe in self.probes.items():
            now = _Mark(probe)
            result[role] = {"total": self._since(probe, self.start_marks[role], now),
                            "interval": self._since(probe, self.last_marks[role], now)}
            self.last_marks[role] = now
        return result

    def close(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)
        self.session.close()


def with_router_defaults(analysis, router_params):
    """``analysis`` with the HAProxy source's runtime API taken from the router when it names none.

    With ``driver: haproxy`` the router's own ``haproxy_socket`` and ``haproxy_backend`` are the
    counters to read, so ``analysis: {source: haproxy}`` needs no second copy of them.
    """
    analysis = dict(analysis or {})
    if (analysis.get("source") or "haproxy") != "haproxy" or analysis.get("haproxy"):
        return analysis
    if (router_params or {}).get("driver") == "haproxy" and router_params.get("haproxy_socket"):
        analysis["haproxy"] = {"socket": router_params["haproxy_socket"],
                               "backend": router_params.get("haproxy_backend") or "app"}
    return analysis


def build_sampler(analysis, slot_names, router_slots=None, slot_urls=None):
    """The sampler of ``analysis['source']`` for ``{role: slot name}``."""
    source = analysis.get("source") or "haproxy"
    settings = dict(analysis.get(source) or {})
    if source == "haproxy":
        return HAProxySampler(settings, slot_names, router_slots)
    if source == "prometheus":
        return PrometheusSampler(settings, slot_names, analysis.get("slot_vars"))
    if source == "probe":
        return ProbeSampler(settings, slot_names, slot_urls or {})
    raise ConfigurationError("analysis.source %r is not one of %s" % (source, ", ".join(SOURCES)))
