"""`make demo`: the whole release pipeline on local infrastructure, with real playbooks.

1. remove what an earlier demo left in .demo/ (stopping its servers), start PostgreSQL, HAProxy and
   supervisord on loopback (demo/infra.py) and build the artifacts;
2. deploy 1.0.0 (nothing is live yet: straight to blue);
3. deploy 2.0.0 blue-green with a migration, under continuous load through HAProxy;
4. canary of the faulty 3.0.0, which the analysis rolls back automatically;
5. verify the newest backup restores;
6. the host-group layout (inventory/local_groups): app hosts shop-blue (127.0.0.2) and shop-green
   (127.0.0.3) behind a second HAProxy; 1.0.0 goes onto the blue host, 2.0.0 blue-green onto the
   green host only, under load, then a rollback back to the blue host;
then print what happened and how to stop the local infrastructure.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEMO = os.path.join(ROOT, ".demo")
sys.path.insert(0, os.path.join(ROOT, "tests"))

from harness.load import LoadGenerator  # noqa: E402

BIN = os.path.dirname(sys.executable)


def collections_path():
    base = os.path.join(DEMO, "collections")
    link = os.path.join(base, "ansible_collections", "shipyard", "deploy")
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    return base


def playbook(name, version=None, inventory="local", **extra):
    """Run one of the collection's playbooks against inventory/<inventory>; return its exit code."""
    argv = [os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(ROOT, "inventory", inventory),
            "shipyard.deploy." + name]
    variables = dict(extra)
    if version:
        variables["shipyard_version"] = version
    if variables:
        argv += ["-e", json.dumps(variables)]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_DISPLAY_SKIPPED_HOSTS="false",
               ANSIBLE_DISPLAY_OK_HOSTS="false")
    log = os.path.join(DEMO, "logs", "%s%s-%s.log" % ("" if inventory == "local" else inventory + "-", name,
                                                      version or "run"))
    os.makedirs(os.path.dirname(log), exist_ok=True)
    print("\n==> ansible-playbook -i inventory/%s shipyard.deploy.%s %s   (log: %s)" % (
        inventory, name, " ".join("-e %s=%s" % kv for kv in variables.items()), os.path.relpath(log, ROOT)),
        flush=True)
    started = time.monotonic()
    with open(log, "w") as handle:
        rc = subprocess.run(argv, stdout=handle, stderr=subprocess.STDOUT, env=env, check=False).returncode
    print("    exit code %d after %.0f s" % (rc, time.monotonic() - started), flush=True)
    if rc != 0:
        with open(log) as handle:
            failures = [line.strip() for line in handle if line.startswith(("fatal:", "[ERROR]"))]
        for line in failures[-2:]:
            print("    " + line[:300])
    return rc


def ledger(path=None):
    try:
        with open(path or os.path.join(DEMO, "ledger.jsonl")) as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except OSError:
        return []


def host_groups_part():
    """Part 2: the same pipeline with slots as host groups; returns (results, load counts, lines to print)."""
    results = {"host groups: deploy 1.0.0": playbook("deploy", "1.0.0", inventory="local_groups")}
    load = LoadGenerator("http://127.0.0.1:18180/", concurrency=2, duration=600, max_requests=10**8).start()
    results["host groups: deploy 2.0.0"] = playbook("deploy", "2.0.0", inventory="local_groups")
    load.stop()
    results["host groups: rollback"] = playbook("rollback", inventory="local_groups",
                                                rollback_reason="demo: back to the blue host")
    lines = []
    for record in ledger(os.path.join(DEMO, "groups", "ledger.jsonl")):
        if record["event"] == "release":
            hosts = ", ".join(record["data"].get("hosts") or [])
            lines.append("%-10s released onto slot %s of %s" % (record["version"], record["data"].get("slot"), hosts))
    for host in ("shop-blue", "shop-green"):
        releases = os.path.join(DEMO, "groups", host, "app", "releases")
        lines.append("%-10s has releases %s" % (host, sorted(os.listdir(releases)) if os.path.isdir(releases)
                                                else "none"))
    lines.append("host groups, traffic now (after the rollback): %s" % serving(18180))
    return results, load.snapshot(), lines


def serving(port):
    """What the router on 127.0.0.1:``port`` answers with."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/")
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def start_from_nothing():
    """Stop and delete what an earlier demo left in .demo/: the story starts with nothing live, and a
    .demo/ from an older checkout holds releases built from an older demo app, whose new artifacts
    release_artifact rightly refuses to put under the same version."""
    if os.path.isdir(DEMO):
        print("==> .demo/ holds an earlier demo: stopping it and removing its data, to start from nothing",
              flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "infra.py"), "stop", "--dir", DEMO, "--purge"],
                       check=True, stdout=subprocess.DEVNULL)


def main():
    start_from_nothing()
    subprocess.run([sys.executable, os.path.join(HERE, "infra.py"), "start", "--dir", DEMO, "--host-groups"],
                   check=True)
    subprocess.run([sys.executable, os.path.join(HERE, "build_artifacts.py"), os.path.join(DEMO, "artifacts")],
                   check=True, stdout=subprocess.DEVNULL)
    results = {}
    results["deploy 1.0.0"] = playbook("deploy", "1.0.0")

    load = LoadGenerator("http://127.0.0.1:18080/", concurrency=2, duration=600, max_requests=10**8).start()
    results["deploy 2.0.0 (blue-green)"] = playbook("deploy", "2.0.0")
    load.stop()
    under_load = load.snapshot()

    results["canary 3.0.0"] = playbook("deploy", "3.0.0", shipyard_strategy="canary")
    results["backup verification"] = playbook("backup_verify")
    group_results, group_load, group_lines = host_groups_part()
    results.update(group_results)

    print("\n==== summary")
    for step, rc in results.items():
        expected = 2 if step.startswith("canary") else 0
        print("%-28s %s" % (step, "ok" if rc == expected else "UNEXPECTED (exit %d)" % rc))
    print("blue-green switch under load: %d requests, %d failed, by slot %s" % (
        under_load["total"], under_load["failed"], under_load["slots"]))
    print("host groups, blue-green under load: %d requests, %d failed, by slot %s" % (
        group_load["total"], group_load["failed"], group_load["slots"]))
    for line in group_lines:
        print(line)
    deployments = {}
    for record in ledger():
        deployments.setdefault(record["deployment_id"], []).append(record)
    for events in deployments.values():
        last = events[-1]
        reason = last["data"].get("reason", "")
        print("%-10s %-7s %s%s" % (events[0]["version"], last["event"], events[0]["deployment_id"],
                                   ("  reason: " + reason) if reason else ""))
    reports = sorted(glob.glob(os.path.join(DEMO, "reports", "*.html")), key=os.path.getmtime)
    if reports:
        print("deploy reports (open in a browser): %s/\n  newest: %s" % (
            os.path.relpath(os.path.dirname(reports[-1]), ROOT), os.path.relpath(reports[-1], ROOT)))
    print("traffic now: %s" % serving(18080))
    print("\nlocal infrastructure is still running:  %s demo/infra.py stop   (add --purge to delete .demo/)"
          % os.path.relpath(sys.executable, ROOT))
    ok = all(rc == (2 if step.startswith("canary") else 0) for step, rc in results.items())
    return 0 if ok and under_load["failed"] == 0 and group_load["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
