"""Fixtures of the AWX tests: the collection built and installed the way an execution environment gets it."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

import pytest
from harness.playbook import REPO_ROOT, ansible_bin


def git_files():
    """The files a checkout holds: tracked, plus new ones not ignored (what `make sanity` copies)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                         capture_output=True, check=True).stdout.decode()
    return [f for f in out.split("\0") if f and os.path.isfile(os.path.join(REPO_ROOT, f))]


class InstalledCollection:
    """``path`` is a collections path (it holds ansible_collections/shipyard/deploy); ``tarball`` the build."""

    def __init__(self, path, tarball):
        self.path, self.tarball = path, tarball

    @property
    def root(self):
        return os.path.join(self.path, "ansible_collections", "shipyard", "deploy")


@pytest.fixture(scope="session")
def installed_collection(tmp_path_factory):
    """`ansible-galaxy collection build` of a copy of the checkout, then `install --offline` into a temp path."""
    base = tmp_path_factory.mktemp("awx-collection")
    source = base / "source"
    for name in git_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(REPO_ROOT, name), target)
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(base / "ansible-tmp"))
    build = subprocess.run([ansible_bin("ansible-galaxy"), "collection", "build", "--output-path", str(base / "dist"),
                            str(source)], capture_output=True, text=True, env=env, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    (tarball,) = glob.glob(str(base / "dist" / "shipyard-deploy-*.tar.gz"))
    install = subprocess.run([ansible_bin("ansible-galaxy"), "collection", "install", "--offline", "-p",
                              str(base / "collections"), tarball], capture_output=True, text=True, env=env, check=False)
    assert install.returncode == 0, install.stdout + install.stderr
    collection = InstalledCollection(str(base / "collections"), tarball)
    assert os.path.isfile(os.path.join(collection.root, "MANIFEST.json")), install.stdout
    return collection
