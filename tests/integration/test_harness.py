"""The harness itself: every real server starts, answers, and is reachable the way tests use it."""

from __future__ import annotations

from harness.playbook import play


def test_postgres_requires_password_over_tcp(pg):
    import psycopg
    import pytest

    with pg.connect() as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    wrong = dict(pg.conn_kwargs(), password="wrong")
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(**wrong)


def test_both_server_versions(pg_any):
    with pg_any.connect() as conn:
        assert conn.info.server_version // 10000 == pg_any.major


def test_s3_endpoint_speaks_s3(s3, s3_bucket):
    client = s3.client()
    client.put_object(Bucket=s3_bucket, Key="k", Body=b"v")
    assert client.get_object(Bucket=s3_bucket, Key="k")["Body"].read() == b"v"


def test_playbook_runs_with_collection_on_path(playbook):
    run = playbook.run(play([{"name": "ping", "ansible.builtin.ping": {}}]))
    assert run.rc == 0, run.output
    assert run.task("ping")["ping"] == "pong"


def test_backend_and_load_generator():
    from harness.backend import BackendServer
    from harness.load import LoadGenerator

    backend = BackendServer("blue", error_rate=0.0).start()
    try:
        load = LoadGenerator(backend.url + "/", concurrency=2, duration=1.0).start().wait()
        assert load.total > 50 and load.failed == 0
        assert load.slots == {"blue": load.total}
        backend.control(error_rate=1.0)
        load = LoadGenerator(backend.url + "/", concurrency=1, max_requests=20, duration=5).start().wait()
        assert load.statuses == {500: 20}
    finally:
        backend.stop()
