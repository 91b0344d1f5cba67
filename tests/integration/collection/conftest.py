"""The collection as users get it: built with ``ansible-galaxy collection build`` and installed offline.

The build and the install are the session fixture ``installed_collection`` of tests/conftest.py
(harness/collection.py), shared with the AWX tests: the artifact is built from a copy of the files git
tracks after planting in that copy what a working tree holds besides them (``WORKING_TREE_CLUTTER``),
so these tests can check ``build_ignore`` keeps all of it out, and installed with ``--offline`` into an
empty collections path; its ``env`` puts only that path on ``ANSIBLE_COLLECTIONS_PATH``.
"""

from __future__ import annotations

import os
import shutil

import pytest
from harness.playbook import PlaybookRunner


@pytest.fixture(scope="session")
def built_collection(installed_collection):
    """The artifact the session's ``installed_collection`` was installed from (a BuiltCollection)."""
    return installed_collection.build


@pytest.fixture(scope="session")
def installed_playbook(installed_collection, tmp_path_factory):
    """A PlaybookRunner (result recorder included) whose collections path is only the install."""
    workdir = str(tmp_path_factory.mktemp("installed-playbooks"))
    runner = PlaybookRunner(workdir)
    # PlaybookRunner links the source tree as <workdir>/collections, which Ansible would also search
    # as the generated playbooks' adjacent collections directory: remove it.
    shutil.rmtree(os.path.join(workdir, "collections"))
    runner.collections = installed_collection.collections_path
    return runner
