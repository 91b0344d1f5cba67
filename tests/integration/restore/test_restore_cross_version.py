"""A backup of PostgreSQL 18 restored into a PostgreSQL 15 server: the restore fails, the target is
untouched, and the message is about versions (not roles)."""

from __future__ import annotations

import pytest
from harness import postgres as pg_harness
from restore_helpers import databases, make_backup, restore_params, seed

from ansible_collections.shipyard.deploy.plugins.module_utils.backup.restore import restore_service
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ShipyardError


@pytest.fixture(scope="module")
def pg15():
    bindir = pg_harness.bindir_for("debian")
    if not bindir:
        pytest.skip("no Debian PostgreSQL server on this machine")
    server = pg_harness.PostgresServer(bindir=bindir).start()
    yield server
    server.stop()


def test_restore_of_a_newer_server_into_an_older_one_names_the_versions(pg, pg_db, pg15, tmp_path):
    if pg.major <= pg15.major:
        pytest.skip("needs a source server newer than the Debian one")
    seed(pg, pg_db)
    manifest = make_backup(pg, pg_db, tmp_path)
    before = databases(pg15)
    params = restore_params(pg15, tmp_path, "from_newer", source_database=pg_db)
    message = None
    try:
        result = restore_service(params, False, False)
    except ShipyardError as exc:
        message = exc.message
    else:  # a dump this simple may restore: then there is nothing to hint at, and the data must be there
        assert result["verified"] is True
        pg15.drop_database("from_newer")
        pytest.skip("pg_restore %s restored a %s dump into %s without error" % (
            result["pg_restore_version"], manifest["server_version"], pg15.major))
    assert "the backup comes from PostgreSQL %s and this server is %d." % (manifest["server_version"], pg15.major) \
        in message, message
    assert "restore into a PostgreSQL %d (or newer) server" % pg.major in message
    assert "no_owner" not in message
    assert databases(pg15) == before  # scratch dropped, target never created
