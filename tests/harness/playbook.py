"""Run a real ``ansible-playbook`` against localhost with this collection on the collections path.

The collection is exposed as ``<tmp>/ansible_collections/shipyard/deploy`` (a link to the
repository root), which is exactly how users get it after ``ansible-galaxy collection install``.
Extra variables travel in a file (``-e @file``) so secrets never reach argv.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

import yaml

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CALLBACK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callback_plugins")


def collections_root(base=None):
    """Create ``<base>/ansible_collections/shipyard/deploy`` -> repository root; return ``base``.

    Without ``base`` a temporary directory is made and removed when the process exits (the link
    is removed, not what it points to): every pytest and bench run used to leave one behind.
    """
    if not base:
        base = tempfile.mkdtemp(prefix="shipyard-collections-")
        atexit.register(shutil.rmtree, base, True)
    ns = os.path.join(base, "ansible_collections", "shipyard")
    os.makedirs(ns, exist_ok=True)
    link = os.path.join(ns, "deploy")
    if not os.path.islink(link):
        os.symlink(REPO_ROOT, link)
    return base


def ansible_bin(name):
    """An Ansible command from the same environment as the running Python."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else name


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    records: list = field(default_factory=list)
    argv: list = field(default_factory=list)

    @property
    def results(self):
        """Task results in order: dicts with task, action, host, status and result."""
        return [r for r in self.records if "task" in r]

    def task(self, name):
        """The last result of the task named ``name`` (KeyError if it never ran)."""
        for record in reversed(self.results):
            if record["task"] == name:
                return record["result"]
        raise KeyError("task {!r} not in {}".format(name, [r["task"] for r in self.results]))

    def status(self, name):
        for record in reversed(self.results):
            if record["task"] == name:
                return record["status"]
        raise KeyError(name)

    @property
    def stats(self):
        for record in reversed(self.records):
            if "stats" in record:
                return record
        return {}

    @property
    def output(self):
        return self.stdout + self.stderr


class PlaybookRunner:
    """Runs playbooks; one per test session (the collections path is set up once)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.collections = collections_root(os.path.join(workdir, "collections"))
        self.inventory = os.path.join(workdir, "inventory.ini")
        with open(self.inventory, "w") as handle:
            handle.write(
                f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n"
            )
        self._count = 0

    def env(self, extra=None):
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": self.collections,
            "ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIR,
            "ANSIBLE_CALLBACKS_ENABLED": "shipyard_recorder",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.workdir, "ansible-tmp"),
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
        })
        env.update(extra or {})
        return env

    def run(self, playbook, extra_vars=None, check=False, diff=False, verbosity=0,
            env=None, timeout=900, inventory=None, args=None, cwd=None):
        """Run ``playbook`` (a path, or a list of plays written to a file) and collect results."""
        self._count += 1
        if not isinstance(playbook, str):
            path = os.path.join(self.workdir, "playbook-%d.yml" % self._count)
            with open(path, "w") as handle:
                yaml.safe_dump(playbook, handle, sort_keys=False)
            playbook = path
        record = os.path.join(self.workdir, "record-%d.jsonl" % self._count)
        argv = [ansible_bin("ansible-playbook"), "-i", inventory or self.inventory, playbook]
        if extra_vars:
            varfile = os.path.join(self.workdir, "vars-%d.json" % self._count)
            fd = os.open(varfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(extra_vars, handle)
            argv += ["-e", "@" + varfile]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        argv += list(args or [])
        run_env = self.env(env)
        run_env["SHIPYARD_TEST_RECORD"] = record
        proc = subprocess.run(argv, capture_output=True, text=True, env=run_env, timeout=timeout,
                              cwd=cwd or self.workdir, check=False)
        records = []
        if os.path.exists(record):
            with open(record) as handle:
                records = [json.loads(line) for line in handle if line.strip()]
        return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, records, argv)


def play(tasks, name="test", gather_facts=False, **extra):
    """One play against localhost running ``tasks``."""
    body = {"name": name, "hosts": "localhost", "gather_facts": gather_facts, "tasks": tasks}
    body.update(extra)
    return [body]
