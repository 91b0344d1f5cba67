"""Run playbooks the way AWX / Automation Controller does: ansible-runner on a private data directory.

AWX writes, for every job, a private data directory with ``project/`` (the project's checkout),
``inventory/`` (the job's inventory), ``env/extravars`` (survey answers, extra variables and what
credentials inject as extra variables), ``env/envvars`` and ``env/settings``, runs ``ansible-runner``
on it, and reads back ``artifacts/<ident>/``: ``rc``, ``status``, ``stdout``, ``command``, and one JSON
file per event in ``job_events/``.  The ``playbook_on_stats`` event carries what the playbook exported
with ``set_stats`` as ``artifact_data``; AWX stores it as the job's artifacts and passes it to the
next nodes of a workflow as extra variables.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys

import yaml


def write_private(path, text):
    """Write ``text`` readable by the owner only (AWX's private data files hold secrets)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


class RunnerJob:
    """What ansible-runner left in ``artifacts/<ident>/`` after a job."""

    def __init__(self, artifact_dir, process):
        self.artifact_dir, self.process = artifact_dir, process

    def read(self, name):
        with open(os.path.join(self.artifact_dir, name)) as handle:
            return handle.read()

    @property
    def rc(self):
        return int(self.read("rc").strip())

    @property
    def status(self):
        """``successful``, ``failed``, ``timeout`` or ``canceled``: the job status AWX shows."""
        return self.read("status").strip()

    @property
    def stdout(self):
        return self.read("stdout")

    @property
    def events(self):
        """The job events in order (AWX's job_events table)."""
        paths = glob.glob(os.path.join(self.artifact_dir, "job_events", "*.json"))
        events = []
        for path in sorted(paths, key=lambda p: int(os.path.basename(p).split("-", 1)[0])):
            with open(path) as handle:
                events.append(json.load(handle))
        return events

    def stats(self):
        """What the job exported with set_stats (the ``artifact_data`` of its playbook_on_stats event).

        AWX shows this as the job's artifacts and hands it to later workflow nodes as extra variables.
        """
        for event in reversed(self.events):
            if event["event"] == "playbook_on_stats":
                return event["event_data"].get("artifact_data", {})
        raise AssertionError("no playbook_on_stats event in %s" % self.artifact_dir)

    def files(self):
        """Every file ansible-runner wrote for this job, as ``(path, bytes)``."""
        for top, _dirs, names in os.walk(self.artifact_dir):
            for name in names:
                path = os.path.join(top, name)
                with open(path, "rb") as handle:
                    yield path, handle.read()

    @property
    def output(self):
        """Everything the job printed, for assertion messages."""
        return self.process.stdout + self.process.stderr


class PrivateDataDir:
    """A private data directory laid out as AWX lays it out for a job."""

    def __init__(self, path):
        self.path = str(path)
        for sub in ("project", "inventory", "env"):
            os.makedirs(os.path.join(self.path, sub), exist_ok=True)

    def project_playbook(self, name, fqcn):
        """A project playbook that runs a collection playbook: AWX job templates pick files of the project."""
        with open(os.path.join(self.path, "project", name), "w") as handle:
            yaml.safe_dump([{"name": "Run " + fqcn, "ansible.builtin.import_playbook": fqcn}], handle, sort_keys=False)

    def project_file(self, name, text):
        """Any other file of the project (a playbook of its own)."""
        with open(os.path.join(self.path, "project", name), "w") as handle:
            handle.write(text)

    def inventory(self, source, overrides=None):
        """Copy an inventory directory (hosts and group_vars); ``overrides`` become group_vars of ``all``.

        They are read after the source's own ``all`` variables, as an AWX inventory's variables would be.
        """
        target = os.path.join(self.path, "inventory")
        shutil.rmtree(target)
        shutil.copytree(source, target)
        group_all = os.path.join(target, "group_vars", "all")
        if os.path.isfile(group_all + ".yml"):
            os.makedirs(group_all)
            os.rename(group_all + ".yml", os.path.join(group_all, "00-source.yml"))
        os.makedirs(group_all, exist_ok=True)
        with open(os.path.join(group_all, "10-overrides.yml"), "w") as handle:
            yaml.safe_dump(overrides or {}, handle, sort_keys=False)

    def env(self, extravars=None, envvars=None, settings=None, cmdline=None):
        """env/extravars, env/envvars and env/settings (YAML files, private); env/cmdline (``-vvv``:
        the job template's verbosity)."""
        for name, data in (("extravars", extravars), ("envvars", envvars), ("settings", settings)):
            if data is not None:
                write_private(os.path.join(self.path, "env", name), yaml.safe_dump(data))
        if cmdline:
            write_private(os.path.join(self.path, "env", "cmdline"), cmdline)

    def run(self, playbook, ident, timeout=600):
        """``ansible-runner run`` on this directory; returns the job's artifacts."""
        bindir = os.path.dirname(sys.executable)
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        process = subprocess.run([os.path.join(bindir, "ansible-runner"), "run", self.path, "-p", playbook,
                                  "--ident", ident], capture_output=True, text=True, env=env, timeout=timeout,
                                 check=False)
        return RunnerJob(os.path.join(self.path, "artifacts", ident), process)
