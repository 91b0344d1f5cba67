"""Bad input through ``ansible-playbook``: every case of cases.py refused cleanly, nothing changed.

All cases run in ONE playbook (two local hosts, ``strategy: free``, each host half of the cases)
so the suite costs one Ansible start. Every task has a task ``timeout``: a module still running
then counts as a hang. The counts (cases, clean errors, handled, wrongly accepted, hangs, unclean
errors, changes) are printed at the end of the run and written to ``bad-input-counts.json`` in the
playbook work directory.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time

import pytest
from cases import CASES

HANG_LIMIT = 40  # seconds: far above any case's own deadline, far below Ansible's defaults
HOSTS = ("bad1", "bad2")
UNCLEAN = re.compile(r"this is a bug in shipyard|Traceback|MODULE FAILURE|Unexpected failure|"
                     r"RecursionError|KeyError|TypeError|ValueError|AttributeError")
# what Ansible says when a task's ``timeout`` expired
ANSIBLE_TIMEOUT = re.compile(r"Timed out after \d+ second|task (exceeded|timed out)|exceeded the timeout", re.I)
COUNTS = {}


def _tasks(world):
    tasks = []
    for index, case in enumerate(CASES):
        tasks.append({
            "name": case.id,
            "shipyard.deploy." + case.module: case.args(world),
            "ignore_errors": True,
            "timeout": HANG_LIMIT,
            "when": "inventory_hostname == %r" % HOSTS[index % len(HOSTS)],
        })
    return tasks


def _module_processes(marker):
    """Pids of processes whose command line mentions ``marker`` (our modules' temporary dir)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                if marker.encode() in handle.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


@pytest.fixture(scope="session")
def outcome(world, playbook):
    inventory = os.path.join(playbook.workdir, "bad-input-hosts.ini")
    remote_tmp = os.path.join(playbook.workdir, "bad-input-remote-tmp")
    with open(inventory, "w") as handle:
        for host in HOSTS:
            handle.write("%s ansible_connection=local ansible_python_interpreter=%s\n" % (host, sys.executable))
    before = world.snapshot()
    started = time.monotonic()
    run = playbook.run(
        [{"name": "bad input", "hosts": "all", "gather_facts": False, "strategy": "free", "tasks": _tasks(world)}],
        inventory=inventory, env={"ANSIBLE_FORKS": "2", "ANSIBLE_REMOTE_TMP": remote_tmp},
        timeout=HANG_LIMIT * len(CASES),
    )
    elapsed = time.monotonic() - started
    leftovers = _module_processes(remote_tmp)
    after = world.snapshot()
    results = {r["task"]: r for r in run.results if r["status"] != "skipped"}
    counts = {"cases": len(CASES), "clean_errors": 0, "handled": 0, "wrongly_accepted": 0, "hangs": 0,
              "unclean_errors": 0, "changes": 0, "message_mismatch": 0, "seconds": round(elapsed, 1)}
    verdicts = {}
    for case in CASES:
        record = results.get(case.id)
        verdicts[case.id] = _verdict(case, record, world)
        counts[verdicts[case.id][0]] += 1
    changed_parts = sorted(k for k in before if before[k] != after[k])
    counts["changes"] += sum(1 for v in verdicts.values() if v[0] != "changes" and v[2]) + (1 if changed_parts else 0)
    counts["leftover_processes"] = len(leftovers)
    COUNTS.update(counts)
    with open(os.path.join(playbook.workdir, "bad-input-counts.json"), "w") as handle:
        json.dump(counts, handle, indent=2)
    with open(os.path.join(playbook.workdir, "bad-input-verdicts.json"), "w") as handle:
        json.dump({"verdicts": verdicts, "changed_parts": changed_parts}, handle, indent=1, default=str)
    return {"run": run, "verdicts": verdicts, "before": before, "after": after, "leftovers": leftovers,
            "changed_parts": changed_parts}


def _verdict(case, record, world):
    """(category, detail, changed) of one case's recorded task result."""
    if record is None:
        return "hangs", "no result recorded", False
    result = record["result"]
    msg = str(result.get("msg", ""))
    changed = bool(result.get("changed"))
    if ANSIBLE_TIMEOUT.search(msg):
        return "hangs", msg, changed
    if changed:
        return "changes", msg, changed
    if case.ok:
        if record["status"] != "ok":
            return "unclean_errors", msg, changed
        try:
            case.check(result, world)
        except (AssertionError, KeyError, TypeError) as exc:
            return "message_mismatch", "check failed: %r" % exc, changed
        return "handled", "", changed
    if record["status"] != "failed":
        return "wrongly_accepted", json.dumps(result, default=str)[:400], changed
    if UNCLEAN.search(msg) or not msg:
        return "unclean_errors", msg, changed
    if case.expect and not re.search(case.expect, msg, re.S):
        return "message_mismatch", msg, changed
    return "clean_errors", msg, changed


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_cleanly(outcome, case):
    category, detail, changed = outcome["verdicts"][case.id]
    assert not changed, "%s reported changed" % case.id
    assert category in ("clean_errors", "handled"), "%s: %s: %s" % (case.id, category, detail)


def test_nothing_changed_and_no_module_process_left(outcome):
    assert outcome["changed_parts"] == [], {k: (outcome["before"][k], outcome["after"][k])
                                            for k in outcome["changed_parts"]}
    assert outcome["leftovers"] == []


def test_counts(outcome):
    counts = dict(COUNTS)
    print("\nbad-input counts: " + json.dumps(counts, sort_keys=True))
    assert counts["wrongly_accepted"] == 0 and counts["hangs"] == 0 and counts["changes"] == 0
    assert not math.isnan(counts["seconds"])
