"""Benchmark: traffic switching on real HAProxy and nginx, in the same run against the same backends.

    .venv/bin/python bench/switch.py [--changes 100] [--steps 5,25,50,100]

Prints, per local driver:
1. time per weight change inside the module (``switch_service``: read, plan, write, read back,
   persist), median and p95, with a baseline measured in the same run - HAProxy: one bare runtime
   API command ``set server ... weight`` on a fresh connection; nginx: a bare ``nginx -s reload``
   waited until new workers run - and the ratio to it.  Target HAProxy <= 20 ms.  HAProxy is also
   timed without the state file: the difference is the fsync'd write of the server-state file.
2. wall time of one ``traffic_switch`` task per canary step (one task sets every slot), from
   real ``ansible-playbook`` runs, minus a playbook with one no-op task measured in the same run.
3. requests served / failed while switching ``--changes`` times under load (4 keep-alive clients;
   nginx also with keep-alive disabled, see docs/traffic.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from harness.backend import BackendServer  # noqa: E402
from harness.haproxy import HAProxyServer, runtime_command  # noqa: E402
from harness.load import LoadGenerator  # noqa: E402
from harness.nginx import NginxServer  # noqa: E402
from harness.playbook import PlaybookRunner, collections_root, play  # noqa: E402

sys.path.insert(0, collections_root())
from ansible_collections.shipyard.deploy.plugins.module_utils.traffic import switch_service  # noqa: E402


def split(i):
    """Alternate between two canary splits so every call is a real change."""
    return {"blue": 90, "green": 10} if i % 2 else {"blue": 70, "green": 30}


def quantiles(samples):
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def per_change(options, changes):
    times = []
    for i in range(changes):
        started = time.perf_counter()
        result = switch_service(dict(options, weights=split(i)), False, False)
        times.append((time.perf_counter() - started) * 1000)
        assert result["changed"]
    return times


def under_load(url, options, changes, keepalive_note="", pause=0.02):
    load = LoadGenerator(url, concurrency=4, duration=300, max_requests=10 ** 8).start()
    time.sleep(0.3)
    started = time.monotonic()
    try:
        for i in range(changes):
            weights = {"blue": 0, "green": 100} if i % 10 == 9 else split(i)
            switch_service(dict(options, weights=weights), False, False)
            time.sleep(pause)  # let requests flow between switches
    finally:
        elapsed = time.monotonic() - started
        time.sleep(0.2)
        load.stop()
    snap = load.snapshot()
    print("  under load%s: %d switches in %.1f s, %d requests served, %d failed %s"
          % (keepalive_note, changes, elapsed, snap["total"], snap["failed"], snap["errors"] or ""))


def bench_haproxy(backends, changes):
    with HAProxyServer(backends) as proxy:
        options = {"driver": "haproxy", "haproxy_socket": proxy.admin_socket, "haproxy_backend": "app",
                   "haproxy_state_file": proxy.state_file}
        bare = []
        for i in range(changes):
            started = time.perf_counter()
            runtime_command(proxy.admin_socket, "set server app/green_1 weight %d" % (10 + i % 2))
            bare.append((time.perf_counter() - started) * 1000)
        module = per_change(options, changes)
        no_state = per_change(dict(options, haproxy_state_file=None), changes)
        (m50, m95), (b50, _b95), (n50, n95) = quantiles(module), quantiles(bare), quantiles(no_state)
        print("haproxy: weight change in the module %.2f ms median, %.2f ms p95 (target <= 20 ms); "
              "bare runtime API command %.3f ms; ratio %.1fx" % (m50, m95, b50, m50 / b50))
        print("  without haproxy_state_file (no fsync'd state file): %.2f ms median, %.2f ms p95" % (n50, n95))
        under_load(proxy.url, options, changes)


def bench_nginx(backends, changes):
    for keepalive in (True, False):
        with NginxServer(backends, keepalive=keepalive, upstream_keepalive=8) as proxy:
            options = {"driver": "nginx", "nginx_include": proxy.include_path, "nginx_config": proxy.config_path,
                       "nginx_pid_file": proxy.pid_path, "slots": proxy.addresses(),
                       "nginx_upstream_options": ["keepalive 8"]}
            if keepalive:
                bare = []
                for _i in range(max(10, changes // 5)):
                    before = proxy.workers()
                    started = time.perf_counter()
                    subprocess.run(proxy.nginx_argv("-s", "reload"), check=True, capture_output=True)
                    while not proxy.workers() - before:
                        time.sleep(0.002)
                    bare.append((time.perf_counter() - started) * 1000)
                module = per_change(options, max(10, changes // 5))
                (m50, m95), (b50, _b95) = quantiles(module), quantiles(bare)
                print("nginx: weight change in the module %.1f ms median, %.1f ms p95; bare reload %.1f ms; "
                      "ratio %.1fx" % (m50, m95, b50, m50 / b50))
            under_load(proxy.url, options, changes,
                       " (client keep-alive %s)" % ("on" if keepalive else "off: keepalive_timeout 0"))


def bench_playbook(backends, steps):
    runner = PlaybookRunner(os.path.join("/tmp", "shipyard-bench-switch-%d" % os.getpid()))
    with HAProxyServer(backends) as proxy:
        options = {"driver": "haproxy", "haproxy_socket": proxy.admin_socket, "haproxy_backend": "app",
                   "haproxy_state_file": proxy.state_file}
        noop = [{"name": "noop", "ansible.builtin.meta": "noop"}]
        started = time.monotonic()
        runner.run(play(noop))
        baseline = time.monotonic() - started
        rows = []
        for green in steps:
            weights = {"blue": 100 - green, "green": green}
            task = [{"name": "step", "shipyard.deploy.traffic_switch": dict(options, weights=weights)}]
            started = time.monotonic()
            run = runner.run(play(task))
            wall = time.monotonic() - started
            if run.rc != 0:
                raise SystemExit(run.output[-2000:])
            rows.append((green, wall, run.task("step")["duration_ms"]))
        print("playbook (HAProxy): empty playbook %.2f s" % baseline)
        for green, wall, inside in rows:
            print("  step green=%3d%%: playbook %.2f s, task %.2f s over the empty playbook, switch itself %.1f ms"
                  % (green, wall, wall - baseline, inside))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--steps", default="5,25,50,100")
    args = parser.parse_args()
    backends = {"blue": [BackendServer("blue").start(), BackendServer("blue").start()],
                "green": [BackendServer("green").start()]}
    try:
        bench_haproxy(backends, args.changes)
        bench_nginx(backends, args.changes)
        bench_playbook(backends, [int(s) for s in args.steps.split(",")])
    finally:
        for slot in backends.values():
            for server in slot:
                server.stop()


if __name__ == "__main__":
    main()
