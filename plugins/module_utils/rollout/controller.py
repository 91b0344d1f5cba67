# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout: moves traffic step by step, watches both slots, rolls back the moment a rule fails.

One call runs the whole traffic progression of a deployment (the service of the ``rollout``
module):

1. health check of the new (idle) slot before it gets any traffic, and an optional preview:
   synthetic requests straight to it, judged like a canary, so a plainly broken release fails no
   user request;
2. the steps of the strategy (``canary``: each percentage of ``steps`` watched by
   :func:`decision.judge` at every sample; ``bluegreen`` and ``direct``: all traffic at once);
3. the bake: all traffic on the new slot for ``bake.duration`` seconds, the old slot still warm,
   judged against the old version's latency measured before the switch;
4. on a failed rule (or an error of the router or a source while traffic is split) all traffic
   goes back to the old slot at once - it still runs the previous version, so nothing is waited
   for - and only then is the rollback written down.

Every traffic change, every sample window and the outcome go to the ledger as they happen
(:mod:`recorder`).  Check mode plans each step with the router (``changed`` predicted from its
settings) and moves nothing.
"""

from __future__ import annotations

import datetime
import time

from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.probe import SlotProbe
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    RolloutError,
    ShipyardError,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.health import check_health, probe_http
from ansible_collections.shipyard.deploy.plugins.module_utils.http_client import new_session
from ansible_collections.shipyard.deploy.plugins.module_utils.ledger import isoformat
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout import decision
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.health_watch import HealthWatch
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.recorder import LedgerRecorder
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.samplers import (
    build_sampler,
    with_router_defaults,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.steps import (
    ON_INCONCLUSIVE,
    plan_steps,
    seconds,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import requested_weights, switch
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke.pipeline import check_smoke, run_smoke
from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import build_router

SUCCEEDED = "succeeded"
ROLLED_BACK = "rolled_back"
HELD = "held"
AWAITING = "awaiting_approval"


def _given(params, key, default):
    """``params[key]`` unless it is missing or None (0 is a value, refused where it makes no sense)."""
    value = params.get(key)
    return default if value is None else value


def _iso(epoch):
    return isoformat(datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc))


def _round(value, digits=3):
    return None if value is None else round(value, digits)


def _figures(measured):
    """The per-slot numbers kept in the ledger (no source details)."""
    if measured is None:
        return None
    return {key: _round(measured.get(key), 4) if isinstance(measured.get(key), float) else measured.get(key)
            for key in ("requests", "errors", "error_rate", "latency_ms", "latency_metric")}


class Rollout:
    """One rollout; :meth:`run` returns the module result or raises RolloutError."""

    def __init__(self, params, router, clock=time.monotonic, sleep=time.sleep):
        self.params = params
        self.router = router
        self.clock = clock
        self.sleep = sleep
        self.live = params.get("live_slot") or ""
        self.idle = params["idle_slot"]
        strategy = params.get("strategy") or "canary"
        # the very first deployment has nothing to compare with or go back to
        self.strategy = strategy if self.live else "direct"
        analysis = with_router_defaults(params.get("analysis"), params)
        self.analysis = analysis
        self.rules = decision.rules_with_defaults(analysis.get("rules"))
        bake = dict(params.get("bake") or {})
        self.bake_duration = seconds("bake.duration", bake.get("duration") or 0.0)
        bake_rules = {k: v for k, v in bake.items() if k in decision.DEFAULT_RULES and v is not None}
        self.bake_rules = decision.rules_with_defaults(dict(
            {k: v for k, v in self.rules.items() if v is not None}, **bake_rules))
        self.baseline_seconds = seconds("bake.baseline_seconds", 5.0 if bake.get("baseline_seconds") is None
                                        else bake["baseline_seconds"])
        self.steps = plan_steps(self.strategy, params.get("steps") or [100], _given(params, "step_min_duration", 60.0),
                                params.get("step_max_duration"), _given(params, "pause", 0.0))
        self.interval = seconds("sample_interval", _given(params, "sample_interval", 0.5), 0.05)
        self.record_every = seconds("record_interval", _given(params, "record_interval", 5.0), 0.5)
        self.on_inconclusive = params.get("on_inconclusive") or "rollback"
        if self.on_inconclusive not in ON_INCONCLUSIVE:
            raise ConfigurationError("on_inconclusive must be one of %s, not %r"
                                     % (", ".join(ON_INCONCLUSIVE), self.on_inconclusive))
        known = list(router.slots())
        for name, slot in (("idle_slot", self.idle), ("live_slot", self.live)):
            if slot and slot not in known:
                raise ConfigurationError("%s %r is not one of the router's slots %s" % (name, slot, ", ".join(known)))
        if self.idle == self.live:
            raise ConfigurationError("idle_slot and live_slot are both %r; the new version goes to the other slot"
                                     % self.idle)
        self.health = dict(params.get("health") or {})
        self.preview = dict(params.get("preview") or {})
        self.slot_urls = params.get("slot_urls") or {}
        self.smoke = check_smoke(params.get("smoke"))
        if self.smoke and self.smoke.get("before_traffic", True) and not self.slot_urls.get(self.idle):
            raise ConfigurationError("smoke.before_traffic runs the steps against the new slot's URLs, but slot_urls "
                                     "has none for %s; give slot_urls (the plan's) or set smoke.before_traffic: false"
                                     % self.idle)
        self.smoke_runs = []
        self.started = clock()
        self.events = []
        self.step_results = []
        self.recorder = None
        self.sampler = None
        self.watch = None
        self.moved = False

    # --- helpers -----------------------------------------------------------------------------

    def offset(self):
        return round(self.clock() - self.started, 3)

    def note(self, event, data):
        """Record ``event`` in the ledger and in the result's event list."""
        self.events.append(dict(data, event=event, offset_seconds=self.offset()))
        self.recorder.record(event, data)

    def weights_for(self, percent):
        if percent >= 100 or not self.live:
            return requested_weights(None, self.idle, list(self.router.slots()))
        return requested_weights({self.idle: percent, self.live: 100 - percent}, None, list(self.router.slots()))

    def move(self, percent):
        """Set ``percent`` on the new slot; return the switch result."""
        result = switch(self.router, self.weights_for(percent), require_healthy=True)
        self.moved = self.moved or result["changed"]
        self.note("traffic_step", {"percent": percent, "weights": result["after"]["weights"],
                                   "switch_ms": result["duration_ms"], "strategy": self.strategy})
        return result

    # --- phases --------------------------------------------------------------------------------

    def check_idle_health(self):
        targets = self.params.get("health_targets") or []
        if not targets:
            return None
        options = {"targets": targets, "timeout": self.health.get("timeout", 60.0),
                   "success_threshold": self.health.get("success_threshold", 2),
                   "failure_threshold": self.health.get("failure_threshold", 3),
                   "interval": self.health.get("interval", 1.0)}
        try:
            checked = check_health(options)
        except ShipyardError as exc:
            self.note("health", {"slot": self.idle, "healthy": False, "reason": exc.message})
            raise RolloutError("the new slot %s is not healthy, no traffic moved: %s" % (self.idle, exc.message),
                               outcome="failed", traffic_moved=False) from None
        self.note("health", {"slot": self.idle, "targets": len(checked["targets"]),
                             "healthy_targets": len(checked["healthy"]), "healthy": True,
                             "latency_ms": [t.get("latency_ms") for t in checked["targets"]]})
        return checked

    def run_preview(self):
        """Synthetic requests straight to the new slot before any user request reaches it."""
        requests = int(self.preview.get("requests") or 0)
        urls = self.slot_urls.get(self.idle) or []
        if requests <= 0:
            return None
        if not urls:
            raise ConfigurationError("preview.requests is %d but slot_urls has no URL of the new slot %s"
                                     % (requests, self.idle))
        path = self.preview.get("path") or "/"
        targets = [url.rstrip("/") + path for url in urls]
        probe = SlotProbe(self.idle, targets, {"timeout": self.preview.get("timeout") or 5.0,
                                               "status_codes": self.preview.get("status_codes") or [200]})
        session = new_session(1)
        try:
            for index in range(requests):
                probe.record(probe_http(probe.targets[index % len(probe.targets)], session))
        finally:
            session.close()
        measured = probe.result("p95")
        check = decision.check_error_rate(measured, self.rules)
        data = {"slot": self.idle, "requests": probe.requests, "errors": probe.errors, "verdict": check["result"],
                "reason": check["reason"], "error_samples": measured["details"]["error_samples"]}
        self.note("analysis", dict(data, phase="preview", percent=0, checks=[check],
                                   measurements={"canary": _figures(measured)}))
        if check["result"] == decision.FAIL:
            raise RolloutError("preview of the new slot %s failed, no user traffic moved: %s"
                               % (self.idle, check["reason"]), outcome="failed", traffic_moved=False)
        return data

    def run_smoke(self, phase, base_url, target):
        """Run the smoke steps against ``base_url`` and record them; ``(passed, message)``."""
        passed, data, message = run_smoke(self.smoke, base_url, phase, target)
        self.smoke_runs.append(data)
        self.note("smoke", data)
        return passed, message

    def smoke_idle_slot(self):
        """The smoke steps against every URL of the new slot (one per app host), before any traffic moves."""
        if not self.smoke or not self.smoke.get("before_traffic", True):
            return
        for url in self.slot_urls[self.idle]:
            passed, message = self.run_smoke("before_traffic", url, "slot %s at %s" % (self.idle, url))
            if not passed:
                raise RolloutError("smoke test of the new slot %s at %s failed, no traffic moved: %s"
                                   % (self.idle, url, message), outcome="failed", traffic_moved=False,
                                   smoke=self.smoke_runs)

    def smoke_through_router(self):
        """The smoke steps through the load balancer once all traffic is on the new slot; None or the failure."""
        if not self.smoke or not self.smoke.get("after_switch", True):
            return None
        passed, message = self.run_smoke("after_switch", self.smoke["url"], "load balancer")
        if passed:
            return None
        if not self.live:
            raise RolloutError("smoke test through the load balancer %s failed after the switch, and there is no "
                               "previous slot to go back to (first deployment): %s" % (self.smoke["url"], message),
                               outcome="failed", traffic_moved=True, smoke=self.smoke_runs)
        return "smoke test through the load balancer failed: %s" % message

    def measure_reference(self):
        """The old version's latency before the switch (the bake's reference), when it is to be measured."""
        if not self.live or self.bake_duration <= 0 or self.baseline_seconds <= 0:
            return None
        self.sampler.reset()
        deadline = self.clock() + self.baseline_seconds
        sample = None
        while self.clock() < deadline:
            self.sleep(min(self.interval, max(0.0, deadline - self.clock())))
            sample = self.sampler.sample()
        return (sample or {}).get("baseline", {}).get("total", {}).get("latency_ms")

    def watch_phase(self, phase, percent, low, high, pause=0.0, reference=None):
        """Sample and judge until a verdict; return ``(verdict dict, step summary)``.

        During ``pause`` (the settle time after a weight change) only a failure counts; the step's
        own figures start after it.
        """
        if pause > 0:
            verdict, summary = self._watch(phase, percent, pause, float("inf"), reference, settle=True)
            if verdict["verdict"] == decision.FAIL:
                return verdict, summary
        return self._watch(phase, percent, low, high, reference)

    def _watch(self, phase, percent, low, high, reference, settle=False):
        rules = self.bake_rules if phase == decision.BAKE else self.rules
        self.sampler.reset()
        began = self.clock()
        state, points, window_start, window_index = {}, [], self.offset(), 0
        window_wall = time.time()
        last_record = began
        tick = 0
        while True:
            tick += 1
            # sample on a fixed schedule, and exactly when the minimum duration is reached
            next_at = began + tick * self.interval
            if began + low > self.clock():
                next_at = min(next_at, began + low)
            self.sleep(max(0.0, next_at - self.clock()))
            sample = self.sampler.sample()
            now = self.clock()
            elapsed = now - began
            canary = sample["canary"]["total"]
            baseline = sample["baseline"]["total"] if percent < 100 and self.live else None
            health = self.watch.consecutive_failures() if self.watch else {}
            verdict = decision.judge(canary, baseline, rules, elapsed, low, high, phase=phase, state=state,
                                     reference_latency_ms=reference, health_failures=health)
            state = verdict["state"]
            if settle and verdict["verdict"] != decision.FAIL:
                verdict = dict(verdict, verdict=decision.PASS if elapsed >= low else decision.WAIT)
            points.append({"t": round(time.time(), 3), "percent": percent,
                           "canary": _figures(sample["canary"]["interval"]),
                           "baseline": _figures(sample["baseline"]["interval"]) if self.live else None})
            final = verdict["verdict"] in (decision.FAIL, decision.PASS, decision.INCONCLUSIVE)
            if final or now - last_record >= self.record_every:
                window_index += 1
                self.note("analysis", {
                    "phase": "settle" if settle else phase, "percent": percent, "attempt": window_index,
                    "verdict": verdict["verdict"] if final else "pending", "reason": verdict["reason"],
                    "checks": verdict["checks"],
                    "measurements": {"canary": dict(_figures(canary), slot=self.idle),
                                     "baseline": dict(_figures(baseline) or {}, slot=self.live)},
                    "window": {"seconds": round(elapsed, 3), "offset_start": window_start,
                               "offset_end": self.offset(), "started": _iso(window_wall), "ended": _iso(time.time())},
                    "points": points,
                })
                points, window_start, last_record, window_wall = [], self.offset(), now, time.time()
            if final:
                return verdict, {"phase": phase, "percent": percent, "seconds": round(elapsed, 3),
                                 "verdict": verdict["verdict"], "reason": verdict["reason"],
                                 "canary": _figures(canary), "baseline": _figures(baseline)}

    def roll_back(self, reason):
        """All traffic to the old slot now (no health wait), then record it."""
        detected = self.clock()
        # the old slot is known good and still warm: no health wait, and no waiting for the
        # failing slot's sessions to drain before the rollback is recorded
        drain = getattr(self.router, "drain_timeout", None)
        if drain:
            self.router.drain_timeout = 0.0
        try:
            result = switch(self.router, self.weights_for(0), require_healthy=False)
        finally:
            if drain:
                self.router.drain_timeout = drain
        data = {"reason": reason, "to_slot": self.live, "switch_ms": result["duration_ms"],
                "seconds_to_switch": round(self.clock() - detected, 3)}
        self.note("rolled_back", data)
        return data

    # --- the whole run -------------------------------------------------------------------------

    def predict(self):
        """Check mode: the router's plan of every step, nothing moved, nothing sampled."""
        before = self.router.read()
        planned, changed = [], False
        current = before
        for step in self.steps:
            target = self.router.plan(self.weights_for(step.percent), current)
            changed = changed or target.key != current.key
            planned.append(dict(step.as_dict(), weights=target.as_dict()["weights"], verdict="predicted"))
            current = target
        return {"changed": changed, "outcome": "predicted", "strategy": self.strategy, "steps": planned,
                "before": before.as_dict()["weights"], "after": current.as_dict()["weights"],
                "msg": "would move traffic to %s in %d step%s (%s)" % (
                    self.idle, len(planned), "" if len(planned) == 1 else "s", self.strategy)}

    def start_from(self):
        """Resume after an approval: skip the steps the new slot already has."""
        if not self.params.get("resume"):
            return self.steps
        current = self.router.read().percent.get(self.idle, 0)
        return [s for s in self.steps if s.percent > current] or self.steps[-1:]

    def run(self):
        self.recorder = LedgerRecorder(self.params.get("record"))
        outcome, reason, rollback, bake = None, None, None, None
        try:
            self.check_idle_health()
            self.smoke_idle_slot()
            self.run_preview()
            if self.live or self.bake_duration > 0:
                self.sampler = build_sampler(self.analysis, {"canary": self.idle, "baseline": self.live or self.idle},
                                             self.router.slots(), self.slot_urls)
            if self.params.get("health_targets"):
                self.watch = HealthWatch(self.params["health_targets"], {}, self.health.get("watch_interval", 1.0))
            reference = self.params.get("baseline_latency_ms")
            if reference is None and self.strategy != "canary" and self.sampler:
                reference = self.measure_reference()
            hold_before_full = bool(self.params.get("hold_before_full"))
            for step in self.start_from():
                if step.percent == 100 and hold_before_full and self.strategy == "canary":
                    outcome = AWAITING
                    reason = "every canary step passed; waiting for approval before 100%"
                    break
                self.move(step.percent)
                if step.percent == 100 or not self.live:
                    self.step_results.append({"percent": step.percent, "verdict": "switched"})
                    continue
                verdict, summary = self.watch_phase(decision.STEP, step.percent, step.min_duration,
                                                    step.max_duration, step.pause, reference)
                self.step_results.append(summary)
                if summary["baseline"] and summary["baseline"].get("latency_ms") is not None:
                    reference = summary["baseline"]["latency_ms"]
                if verdict["verdict"] == decision.FAIL:
                    rollback = self.roll_back("canary at %d%% failed: %s" % (step.percent, verdict["reason"]))
                    outcome, reason = ROLLED_BACK, rollback["reason"]
                    break
                if verdict["verdict"] == decision.INCONCLUSIVE:
                    text = "canary at %d%% inconclusive: %s" % (step.percent, verdict["reason"])
                    if self.on_inconclusive == "rollback":
                        rollback = self.roll_back(text + " (on_inconclusive=rollback)")
                        outcome, reason = ROLLED_BACK, rollback["reason"]
                        break
                    if self.on_inconclusive == "hold":
                        outcome, reason = HELD, text + " (on_inconclusive=hold: traffic stays split)"
                        self.note("note", {"held": True, "percent": step.percent, "reason": reason})
                        break
                    self.note("note", {"promoted": True, "percent": step.percent,
                                       "reason": text + " (on_inconclusive=promote)"})
            smoke_failure = self.smoke_through_router() if outcome is None else None
            if smoke_failure:
                rollback = self.roll_back(smoke_failure)
                outcome, reason = ROLLED_BACK, rollback["reason"]
            if outcome is None and self.bake_duration > 0 and self.live:
                self.note("bake", {"phase": "start", "duration": self.bake_duration, "reference_latency_ms":
                                   _round(reference), "rules": self.bake_rules})
                verdict, bake = self.watch_phase(decision.BAKE, 100, self.bake_duration, self.bake_duration,
                                                 reference=reference)
                self.note("bake", {"phase": "end", "verdict": verdict["verdict"], "reason": verdict["reason"],
                                   "seconds": bake["seconds"]})
                if verdict["verdict"] == decision.FAIL:
                    rollback = self.roll_back("bake failed: %s" % verdict["reason"])
                    outcome, reason = ROLLED_BACK, rollback["reason"]
            if outcome is None:
                outcome, reason = SUCCEEDED, "all traffic on %s" % self.idle
        except RolloutError:
            raise
        except ShipyardError as exc:
            if self.moved and self.live and rollback is None:
                rollback = self.roll_back("the rollout stopped on an error: %s" % exc.message)
                raise RolloutError("rolled back to %s: %s" % (self.live, rollback["reason"]), outcome=ROLLED_BACK,
                                   rollback=rollback, steps=self.step_results) from None
            raise
        except BaseException as exc:
            # the module's deadline (or an interrupt) while traffic is on the new slot: back first
            if self.moved and self.live and rollback is None:
                self.roll_back("the rollout was stopped before it finished (%s)" % (exc or type(exc).__name__))
            raise
        finally:
            for part in (self.watch, self.sampler):
                if part is not None:
                    part.close()
            self.recorder.close()
        result = {
            "changed": self.moved or rollback is not None,
            "outcome": outcome,
            "reason": reason,
            "strategy": self.strategy,
            "live_slot": self.live,
            "idle_slot": self.idle,
            "steps": self.step_results,
            "bake": bake,
            "rollback": rollback,
            "weights": self.router.read().percent,
            "duration_seconds": self.offset(),
            "reference_latency_ms": _round(reference),
            "recorded_events": self.recorder.written,
            "smoke": self.smoke_runs,
        }
        if self.recorder.errors:
            result["warnings"] = self.recorder.errors
        if outcome == ROLLED_BACK:
            raise RolloutError("rolled back to %s: %s" % (self.live, reason), **result)
        if outcome == HELD:
            raise RolloutError("held at %d%%: %s; roll back with shipyard.deploy.rollback or rerun the rollout with "
                               "resume: true" % (self.router.read().percent.get(self.idle, 0), reason), **result)
        result["msg"] = "%s: %s" % (outcome, reason)
        return result


def run_rollout(params, check_mode=False, diff_mode=False):
    """Service of the ``rollout`` module: the router from the task's router options, then the rollout."""
    rollout = Rollout(params, build_router(params))
    if check_mode:
        return rollout.predict()
    return rollout.run()
