"""Benchmark: how many user requests a bad release fails, and what a good canary costs in time.

    .venv/bin/python bench/blast_radius.py [--rate 200] [--step 15] [--bake 15]

Everything runs as a user runs it: ``ansible-playbook`` with the role ``shipyard.deploy.traffic``
(one ``shipyard.deploy.rollout`` task), a real HAProxy, real blue/green backend processes, and a
load generator sending ``--rate`` requests per second through HAProxy.  The figures come from the
load generator's own log, not from the module:

1. bad canary: the new version answers 500 to 20 % of its requests; steps 5-25-50-100 with the
   default 60 s minimum per step.  Printed: requests failed, their share, and the seconds from the
   first bad response to the last one (target <= 3 s, about 6 failed requests at 200 req/s; the
   window-based analysis of 1.0 served errors for 10.8-11.0 s, about 22 requests).
2. the same bad canary with ``traffic_preview`` (100 synthetic requests to the new slot before any
   user request): target 0 failed user requests.
3. good canary 5-25-50-100 with ``--step`` seconds per step and a ``--bake`` seconds bake: wall time
   of ``ansible-playbook`` and of the rollout task divided by the configured time
   (3 x step + bake), on a quiet machine and again with two busy-looping processes loading both
   cores.  Targets <= 1.05x quiet, <= 1.15x loaded, 0 failed requests.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from harness.backend import BackendServer  # noqa: E402
from harness.haproxy import HAProxyServer  # noqa: E402
from harness.load import LoadGenerator  # noqa: E402
from harness.playbook import PlaybookRunner, play  # noqa: E402


class Stack:
    def __init__(self):
        self.blue = BackendServer("blue", version="1").start()
        self.green = BackendServer("green", version="2").start()
        self.haproxy = HAProxyServer(slots={"blue": [self.blue], "green": [self.green]},
                                     weights={"blue": 100, "green": 0}).start()

    def role_vars(self, **extra):
        router = {"driver": "haproxy", "haproxy_socket": self.haproxy.admin_socket, "haproxy_backend": "app",
                  "haproxy_state_file": self.haproxy.state_file}
        values = {
            "traffic_strategy": "canary", "traffic_router": router,
            "traffic_live_slot": "blue", "traffic_idle_slot": "green",
            "traffic_health_targets": [{"url": self.green.url + "/health"}],
            "traffic_health_success_threshold": 1,
            "traffic_analysis": {"source": "haproxy", "window": 60,
                                 "haproxy": {"socket": self.haproxy.admin_socket, "backend": "app"},
                                 "rules": {"min_requests": 20}},
            "traffic_canary_steps": [5, 25, 50, 100],
            "traffic_slot_urls": {"blue": [self.blue.url], "green": [self.green.url]},
            "traffic_drain_timeout": 0,
        }
        values.update(extra)
        return values

    def stop(self):
        self.haproxy.stop()
        self.blue.stop()
        self.green.stop()


def run_role(runner, stack, role_vars, rate):
    """One ansible-playbook run of the traffic role under load; (run, load, wall seconds)."""
    task = {"name": "traffic", "vars": role_vars, "ansible.builtin.include_role": {"name": "shipyard.deploy.traffic"}}
    load = LoadGenerator(stack.haproxy.url, concurrency=8, duration=900, max_requests=10 ** 8, rate=rate).start()
    time.sleep(1.0)
    started = time.monotonic()
    run = runner.run(play([task]))
    wall = time.monotonic() - started
    time.sleep(0.5)
    load.stop()
    return run, load, wall


def exposure(load):
    """(failed requests, seconds from the first failed response to the last)."""
    bad = [t for t, _slot, outcome in load.timeline if not (isinstance(outcome, int) and outcome < 400)]
    return len(bad), (max(bad) - min(bad)) if bad else 0.0


def rollout_seconds(run):
    for record in run.results:
        if record["task"].startswith("Move traffic, watch"):
            return record["result"].get("duration_seconds")
    return None


def bad_canary(runner, rate, preview):
    stack = Stack()
    try:
        stack.green.control(error_rate=0.2)
        extra = {"traffic_preview": {"requests": 100}} if preview else {}
        run, load, wall = run_role(runner, stack, stack.role_vars(**extra), rate)
        failed, seconds = exposure(load)
        rolled_back = run.rc != 0 and ("rolled back" in run.output or "preview of the new slot" in run.output)
        return {"failed": failed, "total": load.total, "seconds": seconds, "wall": wall, "stopped": rolled_back}
    finally:
        stack.stop()


def _burn(stop_at):
    while time.monotonic() < stop_at:
        pass


def good_canary(runner, rate, step, bake, loaded):
    stack = Stack()
    burners = []
    try:
        if loaded:
            stop_at = time.monotonic() + 3 * step + bake + 60
            burners = [multiprocessing.Process(target=_burn, args=(stop_at,), daemon=True) for _burner in range(2)]
            for burner in burners:
                burner.start()
        role_vars = stack.role_vars(traffic_step_min_duration=step, traffic_bake={"duration": bake})
        run, load, wall = run_role(runner, stack, role_vars, rate)
        configured = 3 * step + bake
        return {"ok": run.rc == 0, "wall": wall, "task": rollout_seconds(run), "configured": configured,
                "failed": load.failed, "total": load.total, "output": run.output if run.rc else ""}
    finally:
        for burner in burners:
            burner.terminate()
        stack.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--step", type=float, default=15.0)
    parser.add_argument("--bake", type=float, default=15.0)
    args = parser.parse_args()
    runner = PlaybookRunner(tempfile.mkdtemp(prefix="shipyard-bench-blast-"))

    print("load: %.0f req/s through HAProxy, 8 keep-alive clients" % args.rate)
    bad = bad_canary(runner, args.rate, preview=False)
    print("1. bad canary (20%% errors) at 5%%: %d of %d requests failed (%.3f%%), errors served for %.2f s "
          "(target <= 3 s), rolled back: %s, playbook %.1f s"
          % (bad["failed"], bad["total"], 100.0 * bad["failed"] / max(bad["total"], 1), bad["seconds"],
             bad["stopped"], bad["wall"]))
    previewed = bad_canary(runner, args.rate, preview=True)
    print("2. same with traffic_preview 100 requests: %d of %d user requests failed (target 0), stopped: %s"
          % (previewed["failed"], previewed["total"], previewed["stopped"]))
    for loaded in (False, True):
        good = good_canary(runner, args.rate, args.step, args.bake, loaded)
        print("3. good canary 5-25-50-100, %s: playbook %.1f s / configured %.0f s = %.3fx (target <= %.2fx); "
              "rollout task %.1f s = %.3fx; %d of %d requests failed; %s"
              % ("loaded (2 busy cores)" if loaded else "quiet", good["wall"], good["configured"],
                 good["wall"] / good["configured"], 1.15 if loaded else 1.05, good["task"] or 0,
                 (good["task"] or 0) / good["configured"], good["failed"], good["total"],
                 "succeeded" if good["ok"] else "FAILED: " + good["output"][-500:]))


if __name__ == "__main__":
    main()
