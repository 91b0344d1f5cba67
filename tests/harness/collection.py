"""The collection as users get it: built with ``ansible-galaxy collection build``, installed offline.

``build_collection`` copies the files git tracks (what a clean checkout, and so CI, holds) into a
scratch source tree, optionally plants files a working tree has besides them (``WORKING_TREE_CLUTTER``:
a virtualenv, build output, caches, ``make demo`` state, test output, an old artifact) so a test can
check that galaxy.yml's ``build_ignore`` keeps them out, and builds the artifact from that copy.
``install_collection`` installs the artifact with ``--offline`` into an empty collections path.

The session fixture ``installed_collection`` of tests/conftest.py does both once for the whole run:
the collection tests (tests/integration/collection) and the AWX tests (tests/integration/awx) share it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass

import yaml

from harness.playbook import REPO_ROOT, ansible_bin

NAMESPACE, NAME = "shipyard", "deploy"

# Paths (relative to the collection root) that exist in a working tree but must never ship.
WORKING_TREE_CLUTTER = (
    ".venv/bin/python3",
    ".venv/lib/python3.11/site-packages/psycopg/__init__.py",
    "build/ansible_collections/shipyard/deploy/galaxy.yml",
    "build/lint-collections/ansible_collections/shipyard/deploy/MANIFEST.json",
    ".demo/postgres/postmaster.pid",
    ".demo/haproxy/haproxy.sock.state",
    "tests/output/junit/python3.11-sanity.xml",
    "plugins/modules/__pycache__/pg_backup.cpython-311.pyc",
    "plugins/module_utils/stale.pyc",
    ".pytest_cache/v/cache/lastfailed",
    ".ruff_cache/0.17.5/12345",
    ".ansible/collections/ansible_collections/shipyard/deploy/galaxy.yml",
    ".cache/ansible-compat/abc/meta.json",
    "shipyard-deploy-0.9.0.tar.gz",
)


def tracked_files():
    """Files git tracks in the repository (with their working-tree content), sorted.

    Files ``git add``-ed but not yet committed count; untracked ones do not, so one engineer's
    unstaged work in a shared tree never lands in the build the others test.
    """
    out = subprocess.run(["git", "ls-files", "-z", "--cached"], cwd=REPO_ROOT, capture_output=True,
                         check=True).stdout.decode()
    return sorted(f for f in out.split("\0") if f and os.path.isfile(os.path.join(REPO_ROOT, f)))


def ansible_env(base, collections_path=None):
    """``os.environ`` without any ``ANSIBLE_*`` setting of the caller; ``collections_path`` the only one.

    Temporary and home directories go under ``base``; nothing comes from the Python path (the test
    process has the source tree's collections root on it).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.pop("PYTHONPATH", None)
    if collections_path is not None:
        env["ANSIBLE_COLLECTIONS_PATH"] = str(collections_path)
    env.update({
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": os.path.join(str(base), "ansible-tmp"),
        "ANSIBLE_HOME": os.path.join(str(base), "ansible-home"),
    })
    return env


@dataclass(frozen=True)
class BuiltCollection:
    """A Galaxy artifact and what it was built from."""

    source: str     # the scratch copy the artifact was built from (tracked files + planted ones)
    tarball: str    # <dist>/shipyard-deploy-<version>.tar.gz
    members: list   # file paths inside the artifact, sorted
    tracked: list   # the git-tracked files copied into ``source``, sorted
    planted: tuple  # the extra files written into ``source`` (which build_ignore must drop)
    version: str    # galaxy.yml's version


@dataclass(frozen=True)
class InstalledCollection:
    """An offline install of a ``BuiltCollection``; ``run`` runs Ansible commands that see only it."""

    collections_path: str  # what ANSIBLE_COLLECTIONS_PATH names: holds ansible_collections/ only
    collection_dir: str    # <collections_path>/ansible_collections/shipyard/deploy
    env: dict              # ansible_env(): only this install on the collections path
    workdir: str           # an empty working directory for commands (no adjacent collections/)
    build: BuiltCollection

    def run(self, argv, env=None):
        """Run an Ansible command (``ansible-doc``, ``ansible-galaxy``…) with only this install.

        ``argv[0]`` is resolved in the running Python's environment; ``env`` adds variables.
        Returns the ``subprocess.CompletedProcess`` (text output captured, return code unchecked).
        """
        argv = [ansible_bin(argv[0]), *list(argv[1:])]
        return subprocess.run(argv, capture_output=True, text=True, env=dict(self.env, **(env or {})),
                              cwd=self.workdir, check=False, timeout=300)


def build_collection(base, planted=()):
    """Copy the tracked files into ``<base>/source``, write ``planted`` paths there, build into ``<base>/dist``.

    Each planted path gets a one-line text file.  Raises ``AssertionError`` with ansible-galaxy's
    output when the build fails.
    """
    base = str(base)
    source = os.path.join(base, "source")
    tracked = tracked_files()
    for rel in tracked:
        dest = os.path.join(source, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(os.path.join(REPO_ROOT, rel), dest)
    for rel in planted:
        dest = os.path.join(source, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w") as handle:
            handle.write("planted by the build test\n")
    dist = os.path.join(base, "dist")
    proc = subprocess.run([ansible_bin("ansible-galaxy"), "collection", "build", "--output-path", dist, source],
                          capture_output=True, text=True, env=ansible_env(base),
                          check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(os.path.join(source, "galaxy.yml")) as handle:
        version = yaml.safe_load(handle)["version"]
    tarball = os.path.join(dist, f"{NAMESPACE}-{NAME}-{version}.tar.gz")
    assert os.path.isfile(tarball), os.listdir(dist)
    with tarfile.open(tarball) as archive:
        members = sorted(m.name for m in archive.getmembers() if m.isfile())
    return BuiltCollection(source, tarball, members, tracked, tuple(planted), version)


def install_collection(built, base):
    """``ansible-galaxy collection install --offline`` of ``built`` into the empty ``<base>/collections``.

    Raises ``AssertionError`` with ansible-galaxy's output when the install fails or leaves no
    MANIFEST.json in the collection directory.
    """
    base = str(base)
    collections_path = os.path.join(base, "collections")
    workdir = os.path.join(base, "work")
    os.makedirs(collections_path)
    os.makedirs(workdir)
    installed = InstalledCollection(
        collections_path=collections_path,
        collection_dir=os.path.join(collections_path, "ansible_collections", NAMESPACE, NAME),
        env=ansible_env(base, collections_path),
        workdir=workdir,
        build=built,
    )
    proc = installed.run(["ansible-galaxy", "collection", "install", "--offline", "-p", collections_path,
                          built.tarball])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert os.path.isfile(os.path.join(installed.collection_dir, "MANIFEST.json")), proc.stdout + proc.stderr
    return installed
