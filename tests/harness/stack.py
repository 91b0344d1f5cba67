"""The demo's infrastructure for playbook-level tests, on free loopback ports.

PostgreSQL, HAProxy and supervisord running the demo shop's slots (demo/infra.py), with the demo
release artifacts built (demo/build_artifacts.py), driven through inventory/local with its ports
overridden.  Used by the release pipeline tests and by the AWX (ansible-runner) tests.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

from harness.net import free_port
from harness.playbook import REPO_ROOT

INVENTORY = os.path.join(REPO_ROOT, "inventory", "local")
PLAYBOOKS = os.path.join(REPO_ROOT, "playbooks")


def load_infra():
    """demo/infra.py as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("shipyard_demo_infra", os.path.join(REPO_ROOT, "demo", "infra.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Stack:
    """A running demo stack: ``root`` holds its state, ``ports`` its loopback ports."""

    def __init__(self, root, ports, runner=None):
        self.root, self.ports, self.runner = root, ports, runner

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.ports["haproxy"]

    @functools.cached_property
    def password(self):
        """The PostgreSQL superuser password demo/infra.py generated (read once: the AWX tests hide the file)."""
        with open(os.path.join(self.root, "pg-password")) as handle:
            return handle.read().strip()

    def inventory_vars(self, password="{{ shipyard_db_password }}"):
        """What differs from inventory/local here: the demo root and the free ports.

        ``password`` goes into the connection settings; by default a reference to the variable
        ``shipyard_db_password``, which AWX injects from a credential.
        """
        return {
            "shipyard_demo_root": self.root,
            "shipyard_slots": {"blue": {"port": self.ports["blue"]}, "green": {"port": self.ports["green"]}},
            "shipyard_db": {"host": "127.0.0.1", "port": self.ports["postgres"], "user": "postgres",
                            "password": password, "database": "shop"},
            "shipyard_app_env": {"DATABASE_URL": "postgresql://postgres:%s@127.0.0.1:%d/shop"
                                 % (password, self.ports["postgres"]), "LOG_LEVEL": "warn"},
        }

    def extra_vars(self, **more):
        """The inventory overrides with the password itself, plus ``more``: what the pipeline tests pass."""
        variables = self.inventory_vars(self.password)
        variables.update(more)
        return variables

    def run(self, name, check=False, **more):
        return self.runner.run(os.path.join(PLAYBOOKS, name + ".yml"), extra_vars=self.extra_vars(**more),
                               inventory=INVENTORY, check=check, timeout=600)

    def serving(self):
        import requests

        return requests.get(self.url, timeout=5).json()

    def ledger(self):
        path = os.path.join(self.root, "ledger.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [json.loads(line) for line in handle]

    def snapshot(self):
        """Everything a deploy could change: releases, slot links, traffic, ledger, schema history."""
        app = os.path.join(self.root, "app")
        links = {s: os.readlink(os.path.join(app, s)) for s in ("blue", "green")
                 if os.path.islink(os.path.join(app, s))}
        releases = sorted(os.listdir(os.path.join(app, "releases"))) if os.path.isdir(app) else []
        import psycopg

        variables = self.extra_vars()
        db = dict(variables["shipyard_db"])
        with psycopg.connect(dbname=db.pop("database"), **db) as conn:
            history = conn.execute("select version, success from shipyard_schema_history order by 1").fetchall()
        backups = sorted(glob.glob(os.path.join(self.root, "backups", "*")))
        return {"links": links, "releases": releases, "ledger": len(self.ledger()), "history": history,
                "serving": self.serving(), "backups": backups}


@contextlib.contextmanager
def running_stack(runner=None):
    """Start a stack on free ports with the demo artifacts built; stop and remove it afterwards."""
    infra = load_infra()
    # not under pytest's private tmp: the PostgreSQL service user must be able to enter it
    root = tempfile.mkdtemp(prefix="shipyard-stack-")
    os.chmod(root, 0o755)  # noqa: S103
    ports = {name: free_port() for name in ("postgres", "haproxy", "haproxy_admin", "blue", "green")}
    infra.start(root, ports)
    try:
        subprocess.run([sys.executable, os.path.join(REPO_ROOT, "demo", "build_artifacts.py"),
                        os.path.join(root, "artifacts")], check=True, capture_output=True)
        yield Stack(root, ports, runner)
    finally:
        infra.stop(root, purge=True)
