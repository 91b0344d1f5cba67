"""The collection as users get it: built with ``ansible-galaxy collection build`` and installed offline.

``built_collection`` builds the artifact from a copy of the files git tracks, after planting in that
copy what a working tree holds besides them (a virtualenv, build output, caches, ``make demo`` state,
test output, an old artifact), so the tests can check ``build_ignore`` keeps all of it out.
``installed_collection`` installs that artifact with ``--offline`` into an empty collections path;
its ``env`` puts only that path on ``ANSIBLE_COLLECTIONS_PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass

import pytest
import yaml
from harness.playbook import REPO_ROOT, PlaybookRunner, ansible_bin

# Paths (relative to the collection root) that exist in a working tree but must never ship.
PLANTED = [
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
]


def tracked_files():
    """Files git tracks in the repository (as they are in the working tree)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached"], cwd=REPO_ROOT, capture_output=True,
                         check=True).stdout.decode()
    return sorted(f for f in out.split("\0") if f and os.path.isfile(os.path.join(REPO_ROOT, f)))


@dataclass
class BuiltCollection:
    source: str        # the copy it was built from
    tarball: str
    members: list      # file paths inside the artifact
    tracked: list      # git-tracked files of the repository
    version: str       # galaxy.yml's version


@dataclass
class InstalledCollection:
    root: str          # the collections path (holds ansible_collections/)
    path: str          # <root>/ansible_collections/shipyard/deploy
    env: dict
    workdir: str

    def run(self, argv, env=None):
        """Run an Ansible command (``ansible-doc``, ``ansible-galaxy``…) with only this install."""
        argv = [ansible_bin(argv[0]), *list(argv[1:])]
        return subprocess.run(argv, capture_output=True, text=True, env=dict(self.env, **(env or {})),
                              cwd=self.workdir, check=False, timeout=300)


@pytest.fixture(scope="session")
def built_collection(tmp_path_factory):
    base = tmp_path_factory.mktemp("collection-build")
    source = base / "source"
    tracked = tracked_files()
    for rel in tracked:
        dest = source / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(REPO_ROOT, rel), dest)
    for rel in PLANTED:
        dest = source / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("planted by the build test\n")
    dist = base / "dist"
    proc = subprocess.run([ansible_bin("ansible-galaxy"), "collection", "build", "--output-path",
                           str(dist), str(source)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(source / "galaxy.yml") as handle:
        version = yaml.safe_load(handle)["version"]
    tarball = dist / f"shipyard-deploy-{version}.tar.gz"
    assert tarball.is_file(), os.listdir(dist)
    with tarfile.open(tarball) as archive:
        members = sorted(m.name for m in archive.getmembers() if m.isfile())
    return BuiltCollection(str(source), str(tarball), members, tracked, version)


@pytest.fixture(scope="session")
def installed_collection(built_collection, tmp_path_factory):
    base = tmp_path_factory.mktemp("collection-install")
    root = base / "collections"
    root.mkdir()
    workdir = base / "work"
    workdir.mkdir()
    env = dict(os.environ)
    for name in [n for n in env if n.startswith("ANSIBLE_")]:
        del env[name]
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(root),
        # nothing from the Python path (the test process has the source tree's collections root)
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(base / "ansible-tmp"),
        "ANSIBLE_HOME": str(base / "ansible-home"),
    })
    env.pop("PYTHONPATH", None)
    installed = InstalledCollection(str(root), str(root / "ansible_collections" / "shipyard" / "deploy"),
                                    env, str(workdir))
    proc = installed.run(["ansible-galaxy", "collection", "install", "--offline", "-p", str(root),
                          built_collection.tarball])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return installed


@pytest.fixture(scope="session")
def installed_playbook(installed_collection, tmp_path_factory):
    """A PlaybookRunner (result recorder included) whose collections path is only the install."""
    workdir = str(tmp_path_factory.mktemp("installed-playbooks"))
    runner = PlaybookRunner(workdir)
    # PlaybookRunner links the source tree as <workdir>/collections, which Ansible would also search
    # as the generated playbooks' adjacent collections directory: remove it.
    shutil.rmtree(os.path.join(workdir, "collections"))
    runner.collections = installed_collection.root
    return runner
