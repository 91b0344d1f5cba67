# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metric source ``haproxy``: per-server counters from the runtime API (``show stat``) over the window.

HAProxy's counters are cumulative since the worker started, so the window is measured as the
difference between a sample at its start and one at its end, per server, then summed per slot:

- requests: HTTP responses of every class (``hrsp_1xx`` .. ``hrsp_other``) plus connection and
  response errors (``econ``, ``eresp``), which never got a response;
- errors: ``hrsp_5xx`` + ``econ`` + ``eresp`` (counted against the canary, even when HAProxy retried
  the request on another server, because the canary caused it);
- latency: ``rtime``, HAProxy's average response time over the server's last 1024 requests, read at
  the end of the window and weighted by each server's requests in the window.  HAProxy keeps no
  percentiles, so the latency rules compare averages with this source.

When a counter goes backwards (HAProxy reloaded during the window and the new worker started from
zero) the window cannot be measured: the slot's numbers are reported missing, which the rules turn
into an inconclusive verdict, never a pass.
"""

from __future__ import annotations

import time

from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.rules import measurement
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.haproxy_api import RuntimeAPI

RESPONSE_FIELDS = ("hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other")
ERROR_FIELDS = ("econ", "eresp")
COUNTER_FIELDS = (*RESPONSE_FIELDS, *ERROR_FIELDS, "req_tot", "stot", "cli_abrt", "srv_abrt", "wretr", "wredis")


def _int(row, field):
    value = row.get(field)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def select_servers(rows, backend, servers):
    """``{server: row}`` of the named servers of ``backend``; ConfigurationError naming what exists."""
    present = {row.get("svname"): row for row in rows
               if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND")}
    if not present:
        backends = sorted({row.get("pxname") for row in rows if row.get("svname") == "BACKEND"})
        raise ConfigurationError("HAProxy has no backend %r with servers (backends: %s)"
                                 % (backend, ", ".join(backends) or "none"))
    missing = [name for name in servers if name not in present]
    if missing:
        raise ConfigurationError("backend %r of HAProxy has no server %s (servers: %s); fix the servers of the slot"
                                 % (backend, ", ".join(missing), ", ".join(sorted(present))))
    return {name: present[name] for name in servers}


def servers_by_prefix(rows, backend, slot):
    """Servers of ``backend`` whose name starts with ``<slot>_`` (the naming of traffic_switch)."""
    return sorted(row["svname"] for row in rows
                  if row.get("pxname") == backend and str(row.get("svname", "")).startswith(slot + "_"))


def window_measurement(before, after, reloaded=None):
    """Measurement of one slot from ``{server: row}`` samples at the window's start and end.

    ``reloaded`` is a note when HAProxy was reloaded between the samples: the new process counts
    from zero, so the part of the window before the reload is lost and nothing can be measured.
    """
    totals = dict.fromkeys(COUNTER_FIELDS, 0)
    per_server = {}
    weighted_rtime = 0.0
    reset = []
    for name, end in after.items():
        start = before.get(name, {})
        deltas = {}
        for field in COUNTER_FIELDS:
            a, b = _int(start, field), _int(end, field)
            deltas[field] = None if a is None or b is None else b - a
        if any(v is not None and v < 0 for v in deltas.values()):
            reset.append(name)
            continue
        requests = sum(deltas[f] or 0 for f in RESPONSE_FIELDS) + sum(deltas[f] or 0 for f in ERROR_FIELDS)
        errors = (deltas["hrsp_5xx"] or 0) + sum(deltas[f] or 0 for f in ERROR_FIELDS)
        rtime = _int(end, "rtime")
        for field, value in deltas.items():
            totals[field] += value or 0
        per_server[name] = {"requests": requests, "errors": errors, "hrsp_5xx": deltas["hrsp_5xx"],
                            "econ": deltas["econ"], "eresp": deltas["eresp"], "rtime_ms": rtime,
                            "rtime_max_ms": _int(end, "rtime_max"), "status": end.get("status"),
                            "weight": _int(end, "weight")}
        if rtime is not None:
            weighted_rtime += rtime * requests
    details = {"servers": per_server, "counters": totals}
    if reset or reloaded:
        details["note"] = reloaded or ("counters of %s went backwards during the window (HAProxy reloaded?); "
                                       "the window cannot be measured" % ", ".join(reset))
        return measurement(latency_metric="avg", details=details)
    requests = sum(s["requests"] for s in per_server.values())
    errors = sum(s["errors"] for s in per_server.values())
    latency = weighted_rtime / requests if requests else None
    return measurement(requests=requests, errors=errors, latency_ms=latency, latency_metric="avg", details=details)


def measure_haproxy(slots, window, settings, sleep=time.sleep):
    """Measure each slot's servers over ``window`` seconds; return ``{slot: measurement}``.

    ``slots`` is ``{role: {"name": slot name, "servers": [server names] or None}}`` (no servers:
    those named ``<slot name>_*``, the naming of ``traffic_switch``);
    ``settings`` holds ``socket`` (path or host:port), ``backend`` and ``timeout``.
    """
    api = RuntimeAPI(settings.get("socket"), timeout=settings.get("timeout") or 5.0)
    backend = settings.get("backend") or "app"
    pid_before = api.worker_pid()
    rows = api.show_stat()
    servers = {}
    for role, spec in slots.items():
        slot = spec.get("name") or role
        names = list(spec.get("servers") or servers_by_prefix(rows, backend, slot))
        if not names:
            raise ConfigurationError("no server of backend %r is named %s_*; list the servers of the %s slot "
                                     "in %s.servers" % (backend, slot, role, role))
        select_servers(rows, backend, names)
        servers[role] = names
    before = {slot: select_servers(rows, backend, names) for slot, names in servers.items()}
    sleep(window)
    rows = api.show_stat()
    pid_after = api.worker_pid()
    reloaded = None
    if pid_before != pid_after:
        reloaded = ("HAProxy reloaded during the window (process %s, then %s) and its new process counts from "
                    "zero; the window cannot be measured, run the analysis again" % (pid_before, pid_after))
    return {slot: window_measurement(before[slot], select_servers(rows, backend, names), reloaded)
            for slot, names in servers.items()}
