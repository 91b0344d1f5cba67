"""Benchmark: N local endpoints checked by ``health_check`` in one task vs a playbook looping
``ansible.builtin.uri`` over them, in the same run against the same backends.

    .venv/bin/python bench/health.py [--endpoints 200] [--servers 4] [--repeat 1]

Prints the wall time of each playbook, the time of each task alone (a playbook with an empty
task measured in the same run is subtracted: Ansible's start-up is the same for both), and the
ratios.  Target: health_check >= 50x faster than the uri loop.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from harness.backend import BackendServer  # noqa: E402
from harness.playbook import PlaybookRunner, play  # noqa: E402


def timed(runner, tasks):
    started = time.monotonic()
    run = runner.run(play(tasks))
    elapsed = time.monotonic() - started
    if run.rc != 0:
        raise SystemExit("playbook failed:\n" + run.output[-3000:])
    return elapsed, run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=200)
    parser.add_argument("--servers", type=int, default=4, help="backend processes the endpoints are spread over")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each playbook; the best is kept")
    args = parser.parse_args()

    servers = [BackendServer("bench%d" % i).start() for i in range(args.servers)]
    try:
        urls = ["%s/health/%d" % (servers[i % len(servers)].url, i) for i in range(args.endpoints)]
        runner = PlaybookRunner(tempfile.mkdtemp(prefix="shipyard-bench-health-"))
        empty = [{"name": "noop", "ansible.builtin.meta": "noop"}]
        ours = [{"name": "check", "shipyard.deploy.health_check": {
            "targets": [{"url": url, "json": {"status": "healthy"}} for url in urls]}}]
        # the same check with the builtin: status 200 and the JSON field, one module run per URL
        loop = [{"name": "check", "ansible.builtin.uri": {"url": "{{ item }}", "return_content": True},
                 "loop": urls, "register": "result",
                 "failed_when": "result.status != 200 or result.json.status != 'healthy'"}]

        best = {}
        for _round in range(args.repeat):
            for label, tasks in (("empty", empty), ("health_check", ours), ("uri_loop", loop)):
                elapsed, _run = timed(runner, tasks)
                best[label] = min(best.get(label, elapsed), elapsed)
        base = best["empty"]
        ours_task = max(best["health_check"] - base, 1e-3)
        loop_task = max(best["uri_loop"] - base, 1e-3)
        print("endpoints: %d on %d backend processes" % (args.endpoints, len(servers)))
        print("empty playbook (start-up baseline): %.2fs" % base)
        print("health_check playbook: %.2fs wall, %.2fs task" % (best["health_check"], ours_task))
        print("uri loop playbook:     %.2fs wall, %.2fs task" % (best["uri_loop"], loop_task))
        print("ratio (uri loop / health_check): %.1fx wall, %.1fx task"
              % (best["uri_loop"] / best["health_check"], loop_task / ours_task))
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
