# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a deploy report shows, worked out from a deployment's ledger summary.

:func:`deployment_view` turns :func:`ledger.summarize` output into plain data that both renderers
(HTML and Markdown) draw from, so the two formats cannot disagree: the steps with the time each
took, every canary analysis window with its per-slot measurements and the thresholds it was judged
against, the traffic share of the new slot over time, the rollback and the backup.
"""

from __future__ import annotations

import datetime

from ansible_collections.shipyard.deploy.plugins.module_utils.storage import display_location

STEP_LABELS = {
    "started": "Deployment started",
    "evidence": "Release evidence",
    "preflight": "Artifact fetched, preflight checks",
    "backup": "Database backup",
    "migration": "Database migrations",
    "release": "New version started on the idle slot",
    "health": "Health of the idle slot",
    "analysis": "Canary analysis",
    "traffic_step": "Traffic step",
    "approval": "Approval",
    "bake": "Bake (watch after 100%)",
    "smoke": "Smoke test",
    "succeeded": "Deployment succeeded",
    "failed": "Deployment failed",
    "rolled_back": "Rolled back",
    "note": "Note",
}
OUTCOME_LABELS = {
    "succeeded": "succeeded",
    "failed": "failed",
    "rolled_back": "rolled back",
    "in_progress": "in progress (no outcome recorded)",
}
# Rules whose threshold is a rate (shown in percent) and those measured in milliseconds.
RATE_RULES = ("max_error_rate",)
MS_RULES = ("max_latency_ms", "latency_floor_ms")


def number(value):
    """``value`` as a float, or None when it is missing or not a number (ledger data is loose)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def deployment_view(summary):
    """Everything a report shows about one deployment, from ``ledger.summarize(...)``."""
    events = summary["events"]
    started = next((e["data"] for e in events if e["event"] == "started"), {})
    idle_slot = started.get("idle_slot") or _slot_taking_over(events)
    steps = _steps(events)
    analyses = _analyses(events)
    rollback = next((dict(e["data"], offset_seconds=e["offset_seconds"], time=e["time"])
                     for e in reversed(events) if e["event"] == "rolled_back"), None)
    backup = next((e["data"] for e in reversed(events) if e["event"] == "backup"), None)
    if backup and backup.get("location"):
        backup = dict(backup, location=display_location(backup["location"]))
    evidence = next((e["data"] for e in reversed(events) if e["event"] == "evidence"), None)
    release = next((e["data"] for e in reversed(events) if e["event"] == "release"), {})
    return {
        "deployment_id": summary["deployment_id"],
        "application": summary["application"],
        "environment": summary["environment"],
        "version": summary["version"],
        "previous_version": started.get("live_version") or None,
        "strategy": _strategy(started),
        "live_slot": started.get("live_slot") or None,
        "idle_slot": idle_slot or None,
        # ledgers from before host groups knew only slots as ports on every host
        "topology": started.get("topology") or "ports",
        "release_hosts": [str(host) for host in release.get("hosts") or []],
        "outcome": summary["outcome"],
        "outcome_label": OUTCOME_LABELS.get(summary["outcome"], summary["outcome"]),
        "reason": summary.get("reason"),
        "started_at": summary["started_at"],
        "finished_at": summary["finished_at"],
        "duration_seconds": summary["duration_seconds"],
        "steps": steps,
        "analyses": analyses,
        "traffic": _traffic_share(events, idle_slot),
        "samples": samples(events, summary["started_at"]),
        "thresholds": _thresholds(analyses),
        "rollback": rollback,
        "backup": backup,
        "evidence": evidence_view(evidence),
        "smoke": smoke_view(events),
    }


SMOKE_PHASES = {"before_traffic": "before traffic", "after_switch": "after the switch",
                "after_rollback": "after the rollback"}


def smoke_view(events):
    """Every smoke test run: its phase, what it tested, whether it passed, and each step (no secrets recorded)."""
    runs = []
    for event in events:
        if event["event"] != "smoke":
            continue
        data = event["data"]
        steps = [{key: step.get(key) for key in ("name", "method", "url", "status", "status_code", "latency_ms",
                                                 "error")}
                 for step in data.get("steps") or [] if isinstance(step, dict)]
        runs.append({"phase": data.get("phase"), "phase_label": SMOKE_PHASES.get(data.get("phase"), data.get("phase")),
                     "target": data.get("target") or data.get("base_url"), "base_url": data.get("base_url"),
                     "passed": bool(data.get("passed")), "message": data.get("message"), "steps": steps,
                     "offset_seconds": event["offset_seconds"]})
    return runs


def topology_text(view):
    """``host groups, release on app3, app4`` - the report's topology row."""
    text = view["topology"].replace("_", " ")
    if view["release_hosts"]:
        text += ", release on %s" % ", ".join(view["release_hosts"])
    return text


def _strategy(started):
    """The strategy that moved the traffic: a first deployment (no live slot) is always ``direct``."""
    if started and not started.get("live_slot"):
        return "direct"
    return started.get("strategy") or None


def evidence_view(data):
    """The release evidence verdict and its rules as the report shows them (None when not checked)."""
    if not data:
        return None
    rules = [{key: rule.get(key) for key in ("rule", "title", "result", "measured", "threshold", "reason")}
             for rule in data.get("rules") or [] if isinstance(rule, dict)]
    return {"verdict": data.get("verdict"), "enforce": data.get("enforce"), "location": data.get("location"),
            "rules": rules, "failed": [r["rule"] for r in rules if r["result"] in ("block", "warn")]}


def step_weights(data):
    """Percent per slot of a traffic step; the roles record the router's whole read-back there."""
    weights = data.get("weights") or {}
    if isinstance(weights.get("weights"), dict):
        weights = weights["weights"]
    return {slot: value for slot, value in weights.items() if number(value) is not None}


def _slot_taking_over(events):
    """The slot whose weight grows in the traffic steps (for ledgers without a started event)."""
    for event in events:
        weights = step_weights(event["data"]) if event["event"] == "traffic_step" else None
        if weights:
            return max(weights, key=lambda slot: number(weights[slot]) or 0)
    return None


def _steps(events):
    """The timeline: each event is the end of a step that took the time since the one before."""
    steps = []
    previous = 0.0
    for event in events:
        offset = event["offset_seconds"]
        steps.append({
            "event": event["event"],
            "label": STEP_LABELS.get(event["event"], event["event"]),
            "time": event["time"],
            "offset_seconds": offset,
            "took_seconds": round(max(offset - previous, 0.0), 3),
            "status": _status(event),
            "detail": describe(event["event"], event["data"]),
        })
        previous = offset
    return steps


def _status(event):
    """``ok``, ``bad`` or ``info``, for colouring a step."""
    name, data = event["event"], event["data"]
    if name in ("failed", "rolled_back"):
        return "bad"
    if name in ("analysis", "traffic_step"):
        verdict = data.get("verdict")
        if verdict in ("fail", "inconclusive", "unhealthy"):
            return "bad"
        # a traffic step without a verdict of its own: the weights moved, its analysis says the rest
        return "ok" if verdict in ("pass", "healthy") or name == "traffic_step" else "info"
    if name == "health":
        return "ok" if data.get("healthy", True) else "bad"
    if name == "evidence":
        return {"pass": "ok", "blocked": "bad"}.get(data.get("verdict"), "info")
    if name == "smoke":
        return "ok" if data.get("passed") else "bad"
    return "ok" if name in ("succeeded", "backup", "migration", "release", "preflight") else "info"


def describe(name, data):
    """One line saying what an event recorded, in words."""
    if name == "started":
        parts = ["strategy %s" % (_strategy(data) or "?")]
        if data.get("idle_slot"):
            parts.append("to slot %s" % data["idle_slot"])
        if data.get("live_version"):
            parts.append("replacing %s on slot %s" % (data["live_version"], data.get("live_slot", "?")))
        return ", ".join(parts)
    if name == "backup":
        size = number(data.get("size"))
        return "%s%s" % (data.get("backup_id") or "no backup id",
                         " (%s)" % human_bytes(size) if size is not None else "")
    if name == "migration":
        applied = data.get("applied") or []
        if not applied:
            return "schema already at %s, nothing applied" % (data.get("current_version") or "the expected version")
        versions = [item.get("version", "?") if isinstance(item, dict) else str(item) for item in applied]
        return "applied %s (schema %s to %s)" % (
            ", ".join(versions), data.get("previous_version") or "empty", data.get("current_version") or "?")
    if name == "preflight":
        hosts = data.get("hosts") or []
        return "release unpacked in %s%s, preflight checks passed" % (
            display_location(data.get("release_dir")) or "?",
            " on %s" % ", ".join(str(h) for h in hosts) if hosts else "")
    if name == "evidence":
        view = evidence_view(data)
        failed = ", ".join(view["failed"]) if view else ""
        said = ": %s failed" % failed if failed else ", every rule passed"
        return "verdict %s (enforce %s)%s" % (data.get("verdict", "?"), data.get("enforce", "?"), said)
    if name == "release":
        hosts = data.get("hosts") or []
        return "version %s on slot %s%s" % (data.get("version", "?"), data.get("slot", "?"),
                                            " of %s" % ", ".join(str(h) for h in hosts) if hosts else "")
    if name == "health":
        return "%s of %s targets healthy" % (data.get("healthy_targets", "?"), data.get("targets", "?"))
    if name == "analysis":
        phase = data.get("phase") or "step"
        where = "bake" if phase == "bake" else "preview" if phase == "preview" else \
            "%s%% %s" % (_percent_text(data.get("percent")), "settle" if phase == "settle" else "step")
        return "%s, window %s: %s - %s" % (where, data.get("attempt", 1), data.get("verdict", "?"),
                                           data.get("reason", ""))
    if name == "bake":
        if data.get("phase") == "start":
            return "watching the new slot for %s s" % _percent_text(data.get("duration"))
        return "%s after %s s: %s" % (data.get("verdict", "?"), _percent_text(data.get("seconds")),
                                      data.get("reason", ""))
    if name == "traffic_step":
        weights = step_weights(data)
        shares = ", ".join("%s %s" % (slot, weights[slot]) for slot in sorted(weights))
        verdict = data.get("verdict")
        said = "; verdict %s" % verdict if verdict not in (None, "none") else ""
        return "weights %s%s" % (shares or "unchanged", said)
    if name in ("failed", "rolled_back"):
        text = data.get("reason") or "no reason recorded"
        if data.get("step"):
            text = "%s: %s" % (data["step"], text)
        if data.get("to_slot"):
            text += " (traffic back on %s)" % data["to_slot"]
        return text
    if name == "succeeded":
        return "all traffic on slot %s" % data.get("slot", "?")
    if name == "smoke":
        counts = data.get("summary") or {}
        said = "%s of %s steps passed" % (counts.get("passed", "?"), counts.get("total", "?"))
        if not data.get("passed"):
            said = "failed (%s): %s" % (said, data.get("message") or "no reason recorded")
        return "%s, %s: %s" % (SMOKE_PHASES.get(data.get("phase"), data.get("phase") or "?"),
                               data.get("target") or data.get("base_url") or "?", said)
    return ", ".join("%s=%s" % (key, data[key]) for key in sorted(data))


def _percent_text(value):
    value = number(value)
    return "?" if value is None else "%g" % value


def _analyses(events):
    """Every analysis window; older ledgers only have the last window of each step."""
    windows = [(e, e["data"]) for e in events if e["event"] == "analysis"]
    if not windows:
        windows = [(e, dict(e["data"]["analysis"], percent=e["data"].get("percent")))
                   for e in events if e["event"] == "traffic_step" and e["data"].get("analysis")]
    analyses = []
    for event, data in windows:
        measurements = data.get("measurements") or {}
        analyses.append({
            "offset_seconds": event["offset_seconds"],
            "time": event["time"],
            "percent": number(data.get("percent")),
            "attempt": data.get("attempt", 1),
            "verdict": data.get("verdict"),
            "reason": data.get("reason"),
            "window": data.get("window") or {},
            "checks": [_check(check) for check in data.get("checks") or []],
            "canary": _measurement(measurements.get("canary")),
            "baseline": _measurement(measurements.get("baseline")),
        })
    return analyses


def _check(check):
    return {
        "rule": check.get("rule"),
        "slot": check.get("slot"),
        "measured": check.get("measured"),
        "threshold": check.get("threshold"),
        "result": check.get("result"),
        "reason": check.get("reason"),
    }


def _measurement(measured):
    measured = measured or {}
    return {
        "slot": measured.get("slot"),
        "requests": number(measured.get("requests")),
        "errors": number(measured.get("errors")),
        "error_rate": number(measured.get("error_rate")),
        "latency_ms": number(measured.get("latency_ms")),
        "latency_metric": measured.get("latency_metric"),
    }


def _thresholds(analyses):
    """The thresholds the analyses were judged against (the last one given for each rule)."""
    found = {}
    for analysis in analyses:
        for check in analysis["checks"]:
            if check["rule"] and number(check["threshold"]) is not None:
                found[check["rule"]] = number(check["threshold"])
    return found


def _epoch(text):
    try:
        moment = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


def samples(events, started_at, bucket=1.0):
    """Per-second figures of both slots from the rollout's sample points.

    ``[{"offset_seconds", "percent", "canary": {requests, errors, error_rate, latency_ms},
    "baseline": {...}}]``, one per ``bucket`` seconds that had a sample (at the time of its last
    sample), latency weighted by requests.
    Ledgers written by canary_analysis windows have no points: the list is empty.
    """
    start = _epoch(started_at)
    if start is None:
        return []
    buckets = {}
    for event in events:
        if event["event"] != "analysis":
            continue
        for point in event["data"].get("points") or []:
            moment = number(point.get("t"))
            if moment is None:
                continue
            key = int((moment - start) // bucket)
            slot_sums = buckets.setdefault(key, {"percent": point.get("percent")})
            slot_sums["percent"] = point.get("percent")
            # drawn at its last sample: the end of the bucket may lie after the deployment ended
            slot_sums["offset"] = max(slot_sums.get("offset", 0.0), round(moment - start, 3))
            for role in ("canary", "baseline"):
                figures = point.get(role) or {}
                sums = slot_sums.setdefault(role, [0.0, 0.0, 0.0, 0.0])
                requests, errors = number(figures.get("requests")) or 0.0, number(figures.get("errors")) or 0.0
                latency = number(figures.get("latency_ms"))
                sums[0] += requests
                sums[1] += errors
                if latency is not None and requests > 0:
                    sums[2] += latency * requests
                    sums[3] += requests
    result = []
    for key in sorted(buckets):
        row = {"offset_seconds": buckets[key]["offset"], "percent": number(buckets[key]["percent"])}
        for role in ("canary", "baseline"):
            requests, errors, weighted, weight = buckets[key].get(role, [0.0, 0.0, 0.0, 0.0])
            row[role] = {"requests": requests, "errors": errors,
                         "error_rate": errors / requests if requests else None,
                         "latency_ms": weighted / weight if weight else None}
        result.append(row)
    return result


def _traffic_share(events, idle_slot):
    """``[(offset_seconds, percent of traffic on the new slot)]`` from the traffic steps and rollback.

    The share starts at 0 when the new slot's health was checked (or the first step was taken), so a
    blue-green switch draws as the step it is, not as one dot.
    """
    points = []
    health = next((e["offset_seconds"] for e in events if e["event"] == "health"), None)
    if health is not None and idle_slot:
        points.append((health, 0.0))
    for event in events:
        if event["event"] == "traffic_step":
            weights = {slot: number(value) for slot, value in step_weights(event["data"]).items()}
            total = sum(weights.values())
            if idle_slot and total > 0:
                points.append((event["offset_seconds"], round(100.0 * weights.get(idle_slot, 0.0) / total, 2)))
        elif event["event"] == "rolled_back" and points:
            points.append((event["offset_seconds"], 0.0))
    return points


def format_threshold(rule, value):
    """A threshold as people read it: rates in percent, latencies in ms, ratios as 2.00x."""
    value = number(value)
    if value is None:
        return "-"
    if rule in RATE_RULES:
        return "%.2f%%" % (value * 100)
    if rule in MS_RULES:
        return "%.1f ms" % value
    if rule == "max_latency_ratio":
        return "%.2fx" % value
    return "%g" % value


def format_time(text):
    """An ISO 8601 UTC time of the ledger without its microseconds: ``2026-11-22 05:00:03Z``."""
    if not text:
        return "-"
    return text.replace("T", " ").split(".")[0].rstrip("Z") + "Z"


def format_duration(seconds):
    """``42.1 s`` or ``3 min 05 s``."""
    seconds = number(seconds)
    if seconds is None:
        return "-"
    if seconds < 60:
        return "%.1f s" % seconds
    minutes, rest = divmod(round(seconds), 60)
    return "%d min %02d s" % (minutes, rest)


def human_bytes(size):
    """``1.4 MiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            break
        size /= 1024.0
    return ("%d %s" if unit == "B" else "%.1f %s") % (size, unit)
