"""The bad inputs, per module: what a user could pass or meet, and what the module must answer.

Each :class:`Case` is one task of the bad-input playbook. ``args(ctx)`` builds the module options
from the shared servers and files of :class:`conftest.World` (``ctx``); ``expect`` is a regular
expression the failure message must match. A case with ``ok=True`` is input the module must
accept and handle (a damaged ledger line skipped and reported, a TCP target inferred): ``check``
then inspects the result. Nothing any case does may change the world (databases, files, S3,
HAProxy weights): the suite compares a snapshot taken before and after the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NAN = float("nan")
INF = float("inf")
LONG_NAME = "n" * 64  # one byte over PostgreSQL's 63
NUL = "victim\x00postgres"
INJECTED_SERVER_BLOCK = "keepalive 8; } server { listen 8081; location / { return 200; } } upstream x {"


@dataclass
class Case:
    module: str
    name: str
    args: object  # ctx -> dict
    expect: str = ""
    ok: bool = False
    check: object = None  # (result, ctx) -> None, for ok cases
    tags: tuple = field(default_factory=tuple)

    @property
    def id(self):
        return "%s-%s" % (self.module, self.name)


def _merged(base, extra):
    merged = dict(base)
    merged.update(extra)
    return merged


def _pg(ctx, **extra):
    return _merged(ctx.pg_options, extra)


def _backup(ctx, **extra):
    return _merged(dict(ctx.pg_options, location=ctx.backup_dir), extra)


def _restore(ctx, **extra):
    base = dict(ctx.pg_admin, location=ctx.backup_dir, source_database=ctx.victim, target="restored_x")
    base.update(extra)
    return base


def _s3(ctx, endpoint, **extra):
    base = dict(ctx.s3_options, endpoint_url=endpoint, aws_connect_timeout=1, aws_read_timeout=1)
    base.update(extra)
    return base


def _haproxy(ctx, **extra):
    return _merged(ctx.haproxy_options, extra)


def _rollout(ctx, **extra):
    base = dict(ctx.haproxy_options, live_slot="blue", idle_slot="green", strategy="canary",
                analysis={"source": "haproxy", "haproxy": {"socket": ctx.haproxy_options["haproxy_socket"]}})
    base.update(extra)
    return base


def _rollout_rules(ctx, **rules):
    return _rollout(ctx, analysis={"source": "haproxy", "rules": rules,
                                   "haproxy": {"socket": ctx.haproxy_options["haproxy_socket"]}})


def _nginx(ctx, **extra):
    base = {"driver": "nginx", "nginx_include": ctx.nginx_include, "nginx_binary": "/usr/sbin/nginx",
            "slots": {"blue": ["127.0.0.1:1"], "green": ["127.0.0.1:2"]}, "active": "green"}
    base.update(extra)
    return base


def _ledger(ctx, **extra):
    base = {"ledger": ctx.ledger, "environment": "prod", "application": "shop"}
    base.update(extra)
    return base


def _record(ctx, **extra):
    return _ledger(ctx, **_merged({"event": "started", "deployment_id": "d-bad", "version": "1.0"}, extra))


def _notify(ctx, **extra):
    base = {"webhook_url": ctx.hang.url + "/hook", "event": "start", "timeout": 1, "retries": 0,
            "fail_on_error": True}
    base.update(extra)
    return base


def _release(ctx, **extra):
    base = {"app_root": ctx.app_root, "version": "2.0", "source": ctx.artifact, "checksum": ctx.artifact_sha}
    base.update(extra)
    return base


def _health(ctx, **extra):
    base = {"targets": [{"host": "127.0.0.1", "port": ctx.pg_port}], "timeout": 2, "interval": 0.2}
    base.update(extra)
    return base


def _pg_query(ctx, query):
    return _health(ctx, targets=[dict(ctx.pg_target, query=query)])


def _prometheus(ctx, url, timeout):
    settings = {"url": url, "queries": {"requests": "r", "errors": "e"}}
    if timeout is not None:
        settings["timeout"] = timeout
    return _canary(ctx, source="prometheus", prometheus=settings)


def _canary(ctx, **extra):
    base = {"source": "probe", "window": 1,
            "canary": {"name": "green", "urls": [ctx.hang.url]}, "baseline": {"name": "blue", "urls": [ctx.hang.url]},
            "probe": {"timeout": 0.5}}
    base.update(extra)
    return base


def _status(ctx, **extra):
    base = dict(ctx.pg_options, tool="flyway", path=ctx.migrations)
    base.update(extra)
    return base


def _apply(ctx, **extra):
    base = dict(ctx.pg_options, path=ctx.migrations)
    base.update(extra)
    return base


def _tcp_inferred(result, ctx):
    assert result["targets"][0]["type"] == "tcp", result["targets"][0]


def _skipped_reported(result, ctx):
    skipped = result["skipped_lines"]
    assert [s["line"] for s in skipped] == [2, 3, 4, 5, 6], skipped
    assert result["last_good_version"] == "1.0"


def _damage_listed(result, ctx):
    damaged = {ctx.damaged[k] for k in ("not_json", "forty_two", "deep", "other_id", "truncated", "no_data")}
    assert set(result["damaged_ids"]) == damaged, result["damaged_ids"]
    assert result["partial_ids"] == [ctx.damaged["partial"]]
    # a flipped byte or an edited row count keep the size: only reading (pg_restore) finds those
    assert set(result["complete_ids"]) == {ctx.good_backup, ctx.damaged["flipped"], ctx.damaged["fewer_tables"]}
    assert result["latest_id"] in result["complete_ids"]


def _warned(result, ctx):
    assert result.get("delivered") is False, result


CASES = [
    # -- pg_backup -------------------------------------------------------------------------------
    Case("pg_backup", "keep_last-zero", lambda c: _backup(c, keep_last=0), r"option keep_last: 0 is out of range"),
    Case("pg_backup", "keep_last-negative", lambda c: _backup(c, keep_last=-3), r"option keep_last: -3"),
    Case("pg_backup", "level-zero", lambda c: _backup(c, compression_level=0), r"compression_level: 0 .*at least 1"),
    Case("pg_backup", "level-20", lambda c: _backup(c, compression_level=20), r"compression_level: 20"),
    Case("pg_backup", "threads-negative", lambda c: _backup(c, compression_threads=-1), r"compression_threads"),
    Case("pg_backup", "max_age-zero", lambda c: _backup(c, max_age="0"), r"max_age must be longer than 0"),
    Case("pg_backup", "max_age-nan", lambda c: _backup(c, max_age="nan"), r"max_age 'nan' is not a duration"),
    Case("pg_backup", "max_age-empty", lambda c: _backup(c, max_age=" "), r"option max_age: ' ' is empty"),
    Case("pg_backup", "port-zero", lambda c: _backup(c, port=0), r"option port: 0 is out of range"),
    Case("pg_backup", "port-huge", lambda c: _backup(c, port=70000), r"option port: 70000"),
    Case("pg_backup", "connect_timeout-zero", lambda c: _backup(c, connect_timeout=0), r"connect_timeout: 0.*forever"),
    Case("pg_backup", "database-nul", lambda c: _backup(c, database=NUL), r"option database: .*NUL byte"),
    Case("pg_backup", "database-64-bytes", lambda c: _backup(c, database=LONG_NAME), r"64 bytes long"),
    Case("pg_backup", "database-empty", lambda c: _backup(c, database=""), r"option database: '' is empty"),
    Case("pg_backup", "database-missing", lambda c: _backup(c, database="no_such_db"), r"cannot connect"),
    Case("pg_backup", "password-wrong", lambda c: _backup(c, password="wrong"), r"cannot connect.*password"),
    Case("pg_backup", "host-hangs", lambda c: _backup(c, host="127.0.0.1", port=c.hang.port, connect_timeout=2),
         r"cannot connect to PostgreSQL"),
    Case("pg_backup", "host-garbage", lambda c: _backup(c, host="127.0.0.1", port=c.garbage.port),
         r"cannot connect to PostgreSQL"),
    Case("pg_backup", "location-relative", lambda c: _backup(c, location="backups"), r"relative path"),
    Case("pg_backup", "location-empty", lambda c: _backup(c, location=""), r"option location: '' is empty"),
    Case("pg_backup", "location-nul", lambda c: _backup(c, location=c.backup_dir + "\x00x"), r"NUL byte"),
    Case("pg_backup", "location-scheme", lambda c: _backup(c, location="ftp://host/x"), r"unknown storage scheme"),
    Case("pg_backup", "location-regular-file", lambda c: _backup(c, location=c.regular_file), r"not a directory"),
    Case("pg_backup", "pg_dump_path-missing", lambda c: _backup(c, pg_dump_path="/nonexistent/pg_dump"),
         r"pg_dump_path /nonexistent/pg_dump does not exist"),
    Case("pg_backup", "s3-part-size-1", lambda c: _backup(c, location="s3://%s/p" % c.bucket, s3_part_size=1,
                                                          **c.s3_options), r"option s3_part_size: 1"),
    Case("pg_backup", "s3-concurrency-0", lambda c: _backup(c, location="s3://%s/p" % c.bucket, s3_concurrency=0,
                                                            **c.s3_options), r"option s3_concurrency: 0"),
    Case("pg_backup", "s3-no-bucket", lambda c: _backup(c, location="s3://no-such-bucket-x/p", **c.s3_options),
         r"bucket 'no-such-bucket-x' does not exist"),
    Case("pg_backup", "s3-endpoint-hangs", lambda c: dict(_backup(c, location="s3://%s/p" % c.bucket),
                                                          **_s3(c, c.hang.url)), r"did not answer|timed out"),
    Case("pg_backup", "s3-endpoint-garbage", lambda c: dict(_backup(c, location="s3://%s/p" % c.bucket),
                                                            **_s3(c, c.garbage.url)), r"S3|s3"),
    Case("pg_backup", "aws-timeout-zero", lambda c: dict(_backup(c, location="s3://%s/p" % c.bucket),
                                                         **_s3(c, c.s3_endpoint, aws_read_timeout=0)),
         r"option aws_read_timeout: 0"),
    Case("pg_backup", "deadline-nan", lambda c: _backup(c, deadline=NAN), r"option deadline: nan"),
    Case("pg_backup", "deadline-zero", lambda c: _backup(c, deadline=0), r"option deadline: 0"),
    # -- pg_backup_info --------------------------------------------------------------------------
    Case("pg_backup_info", "regular-file", lambda c: {"location": c.regular_file}, r"not a directory"),
    Case("pg_backup_info", "location-nul", lambda c: {"location": "/tmp/x\x00y"}, r"NUL byte"),
    Case("pg_backup_info", "database-nul", lambda c: {"location": c.backup_dir, "database": NUL}, r"NUL byte"),
    Case("pg_backup_info", "database-64-bytes", lambda c: {"location": c.backup_dir, "database": LONG_NAME},
         r"64 bytes long"),
    Case("pg_backup_info", "s3-no-bucket-name", lambda c: dict(c.s3_options, location="s3://"), r"names no bucket"),
    Case("pg_backup_info", "s3-bad-bucket-name", lambda c: dict(c.s3_options, location="s3://Bad_Bucket!/x"),
         r"not a valid S3 bucket name"),
    Case("pg_backup_info", "s3-endpoint-hangs", lambda c: dict(_s3(c, c.hang.url), location="s3://%s" % c.bucket),
         r"did not answer|timed out"),
    Case("pg_backup_info", "s3-endpoint-garbage", lambda c: dict(_s3(c, c.garbage.url), location="s3://%s" % c.bucket),
         r"S3|s3"),
    Case("pg_backup_info", "s3-endpoint-html", lambda c: dict(_s3(c, c.html.url), location="s3://%s" % c.bucket),
         r"S3|s3"),
    Case("pg_backup_info", "s3-endpoint-deep-json", lambda c: dict(_s3(c, c.deep.url), location="s3://%s" % c.bucket),
         r"S3|s3"),
    Case("pg_backup_info", "deadline-expires", lambda c: dict(_s3(c, c.hang.url, aws_read_timeout=60),
                                                              location="s3://%s" % c.bucket, deadline=3),
         r"did not finish within its deadline of 3 seconds"),
    Case("pg_backup_info", "damaged-backups-listed", lambda c: {"location": c.backup_dir, "database": c.victim},
         ok=True, check=_damage_listed),
    # -- pg_restore ------------------------------------------------------------------------------
    Case("pg_restore", "backup_id-empty", lambda c: _restore(c, backup_id=""), r"option backup_id: '' is empty"),
    Case("pg_restore", "backup_id-path", lambda c: _restore(c, backup_id="../etc"),
         r"backup id '\.\./etc' is not valid"),
    Case("pg_restore", "backup_id-slash", lambda c: _restore(c, backup_id="a/b"), r"is not valid"),
    Case("pg_restore", "backup_id-nul", lambda c: _restore(c, backup_id="a\x00b"), r"NUL byte"),
    Case("pg_restore", "backup_id-unknown", lambda c: _restore(c, backup_id="victim-20260101T000000Z-abcdef"),
         r"manifest missing"),
    Case("pg_restore", "target-64-bytes", lambda c: _restore(c, target=LONG_NAME), r"option target: .*64 bytes"),
    Case("pg_restore", "target-empty", lambda c: _restore(c, target=""), r"option target: '' is empty"),
    Case("pg_restore", "target-nul", lambda c: _restore(c, target="a\x00b"), r"NUL byte"),
    Case("pg_restore", "previous-64-bytes", lambda c: _restore(c, swap=True, previous_name=LONG_NAME), r"64 bytes"),
    Case("pg_restore", "jobs-zero", lambda c: _restore(c, jobs=0), r"option jobs: 0"),
    Case("pg_restore", "jobs-without-copy", lambda c: _restore(c, jobs=2), r"needs a local copy"),
    Case("pg_restore", "latest-without-source", lambda c: {k: v for k, v in _restore(c).items()
                                                           if k != "source_database"},
         r"source_database"),
    Case("pg_restore", "source-mismatch", lambda c: _restore(c, source_database="other_db"), r"no complete backup"),
    Case("pg_restore", "target-exists", lambda c: _restore(c, target=c.victim), r"exists"),
    Case("pg_restore", "work_dir-missing", lambda c: _restore(c, work_dir="/nonexistent/dir"), r"work_dir"),
    Case("pg_restore", "manifest-not-json", lambda c: _restore(c, backup_id=c.damaged["not_json"]), r"not valid JSON"),
    Case("pg_restore", "manifest-42", lambda c: _restore(c, backup_id=c.damaged["forty_two"]), r"not a JSON object"),
    Case("pg_restore", "manifest-deep", lambda c: _restore(c, backup_id=c.damaged["deep"]),
         r"nested too deep|not valid"),
    Case("pg_restore", "manifest-other-id", lambda c: _restore(c, backup_id=c.damaged["other_id"]),
         r"names another backup"),
    Case("pg_restore", "data-truncated", lambda c: _restore(c, backup_id=c.damaged["truncated"]),
         r"size|truncated|damaged"),
    Case("pg_restore", "data-missing", lambda c: _restore(c, backup_id=c.damaged["no_data"]),
         r"does not exist|missing"),
    Case("pg_restore", "data-flipped", lambda c: _restore(c, backup_id=c.damaged["flipped"]), r"SHA-256|sha256"),
    Case("pg_restore", "no-manifest", lambda c: _restore(c, backup_id=c.damaged["partial"]), r"manifest missing"),
    Case("pg_restore", "row-count-table-dropped", lambda c: _restore(c, backup_id=c.damaged["fewer_tables"]),
         r"row count|tables"),
    # -- pg_database -----------------------------------------------------------------------------
    Case("pg_database", "name-empty", lambda c: _pg(c, name=""), r"option name: '' is empty"),
    Case("pg_database", "name-64-bytes", lambda c: _pg(c, name=LONG_NAME), r"64 bytes"),
    Case("pg_database", "name-nul", lambda c: _pg(c, name="x\x00y"), r"NUL byte"),
    Case("pg_database", "owner-nul", lambda c: _pg(c, name="newdb", owner="a\x00b"), r"NUL byte"),
    Case("pg_database", "template-missing", lambda c: _pg(c, name="newdb_t", template="no_such_template"),
         r"cannot create database"),
    Case("pg_database", "maintenance-64", lambda c: _pg(c, name="x", maintenance_database=LONG_NAME), r"64 bytes"),
    Case("pg_database", "name-is-maintenance", lambda c: _pg(c, name="postgres", state="absent"),
         r"maintenance database"),
    # -- health_check ----------------------------------------------------------------------------
    Case("health_check", "targets-empty", lambda c: {"targets": []}, r"targets"),
    Case("health_check", "timeout-nan", lambda c: _health(c, timeout=NAN), r"option timeout: nan"),
    Case("health_check", "timeout-negative", lambda c: _health(c, timeout=-1), r"option timeout: -1"),
    Case("health_check", "interval-inf", lambda c: _health(c, interval=INF), r"option interval: inf"),
    Case("health_check", "workers-zero", lambda c: _health(c, workers=0), r"option workers: 0"),
    Case("health_check", "success-zero", lambda c: _health(c, success_threshold=0), r"success_threshold: 0"),
    Case("health_check", "failure-zero", lambda c: _health(c, failure_threshold=0), r"failure_threshold: 0"),
    Case("health_check", "request-timeout-zero", lambda c: _health(c, request_timeout=0), r"request_timeout: 0"),
    Case("health_check", "port-zero", lambda c: _health(c, targets=[{"host": "127.0.0.1", "port": 0}]),
         r"targets\[0\]\.port: 0"),
    Case("health_check", "port-huge", lambda c: _health(c, targets=[{"host": "127.0.0.1", "port": 99999}]),
         r"targets\[0\]\.port: 99999"),
    Case("health_check", "status-code-zero", lambda c: _health(c, targets=[{"url": c.hang.url, "status_codes": [0]}]),
         r"status_codes\[0\]: 0"),
    Case("health_check", "target-timeout-nan", lambda c: _health(c, targets=[{"url": c.hang.url, "timeout": NAN}]),
         r"targets\[0\]\.timeout: nan"),
    Case("health_check", "url-scheme", lambda c: _health(c, targets=[{"url": "ftp://x/"}]), r"absolute http"),
    Case("health_check", "url-nul", lambda c: _health(c, targets=[{"url": "http://127.0.0.1/\x00"}]), r"NUL byte"),
    Case("health_check", "body-pattern-invalid",
         lambda c: _health(c, targets=[{"url": c.hang.url, "body_pattern": "("}]), r"not a valid regular expression"),
    Case("health_check", "query-drop-table", lambda c: _pg_query(c, "DROP TABLE items"), r"read-only transaction"),
    Case("health_check", "query-insert", lambda c: _pg_query(c, "INSERT INTO items VALUES (99, 'x') RETURNING id"),
         r"read-only transaction"),
    Case("health_check", "query-set-read-write",
         lambda c: _pg_query(c, "SELECT set_config('transaction_read_only', 'off', true)"),
         r"read-only|transaction_read_only|cannot"),
    Case("health_check", "database-64", lambda c: _health(c, targets=[dict(c.pg_target, database=LONG_NAME)]),
         r"targets\[0\]\.database: .*64 bytes"),
    Case("health_check", "http-hangs", lambda c: _health(c, targets=[{"url": c.hang.url}], request_timeout=0.5),
         r"unhealthy.*(timed out|timeout)"),
    Case("health_check", "http-garbage", lambda c: _health(c, targets=[{"url": c.garbage.url}]), r"unhealthy"),
    Case("health_check", "http-deep-json", lambda c: _health(c, targets=[{"url": c.deep.url, "json": {"a": 1}}]),
         r"unhealthy"),
    Case("health_check", "tcp-hangs-postgres", lambda c: _health(c, targets=[dict(
        c.pg_target, port=c.hang.port)], request_timeout=1), r"unhealthy"),
    Case("health_check", "deadline-expires", lambda c: _health(c, targets=[{"url": c.hang.url}], timeout=600,
                                                               request_timeout=300, deadline=2),
         r"did not finish within its deadline of 2 seconds"),
    Case("health_check", "host-port-is-tcp", _health, ok=True, check=_tcp_inferred),
    # -- canary_analysis -------------------------------------------------------------------------
    Case("canary_analysis", "window-zero", lambda c: _canary(c, window=0), r"option window: 0"),
    Case("canary_analysis", "window-nan", lambda c: _canary(c, window=NAN), r"option window: nan"),
    Case("canary_analysis", "window-negative", lambda c: _canary(c, window=-5), r"option window: -5"),
    Case("canary_analysis", "concurrency-zero", lambda c: _canary(c, probe={"concurrency": 0}),
         r"probe\.concurrency: 0"),
    Case("canary_analysis", "interval-nan", lambda c: _canary(c, probe={"interval": NAN}), r"probe\.interval: nan"),
    Case("canary_analysis", "probe-timeout-zero", lambda c: _canary(c, probe={"timeout": 0}), r"probe\.timeout: 0"),
    Case("canary_analysis", "error-rate-2", lambda c: _canary(c, rules={"max_error_rate": 2}),
         r"rules\.max_error_rate: 2"),
    Case("canary_analysis", "error-rate-nan", lambda c: _canary(c, rules={"max_error_rate": NAN}),
         r"rules\.max_error_rate: nan"),
    Case("canary_analysis", "min-requests-negative", lambda c: _canary(c, rules={"min_requests": -1}),
         r"rules\.min_requests: -1"),
    Case("canary_analysis", "consecutive-negative", lambda c: _canary(c, consecutive_failures=-1),
         r"consecutive_failures: -1"),
    Case("canary_analysis", "prometheus-hangs", lambda c: _prometheus(c, c.hang.url, 1),
         r"Prometheus.*(timed out|timeout|did not answer)"),
    Case("canary_analysis", "prometheus-garbage", lambda c: _prometheus(c, c.garbage.url, 1), r"Prometheus"),
    Case("canary_analysis", "prometheus-html", lambda c: _prometheus(c, c.html.url, 1), r"Prometheus"),
    Case("canary_analysis", "prometheus-deep-json", lambda c: _prometheus(c, c.deep.url, 2), r"Prometheus"),
    Case("canary_analysis", "haproxy-socket-hangs", lambda c: _canary(c, source="haproxy", haproxy={
        "socket": c.hang_socket, "timeout": 1}), r"HAProxy|haproxy"),
    Case("canary_analysis", "prometheus-url-empty", lambda c: _prometheus(c, "", None), r"prometheus\.url"),
    # -- traffic_switch --------------------------------------------------------------------------
    Case("traffic_switch", "timeout-zero", lambda c: _haproxy(c, active="green", timeout=0), r"option timeout: 0"),
    Case("traffic_switch", "timeout-nan", lambda c: _haproxy(c, active="green", timeout=NAN), r"option timeout: nan"),
    Case("traffic_switch", "weight-nan", lambda c: _haproxy(c, weights={"blue": NAN, "green": 100}),
         r"weights\.blue: nan|weight of slot blue"),
    Case("traffic_switch", "weight-inf", lambda c: _haproxy(c, weights={"blue": INF}),
         r"weights\.blue: inf|weight of slot blue"),
    Case("traffic_switch", "weight-nan-text", lambda c: _haproxy(c, weights={"blue": "nan", "green": 100}),
         r"weight of slot blue"),
    Case("traffic_switch", "weights-sum-99", lambda c: _haproxy(c, weights={"blue": 50, "green": 49}), r"sum to 99"),
    Case("traffic_switch", "weight-negative", lambda c: _haproxy(c, weights={"blue": -1, "green": 101}),
         r"weight of slot"),
    Case("traffic_switch", "weight-fraction", lambda c: _haproxy(c, weights={"blue": 50.5, "green": 49.5}),
         r"whole percentages"),
    Case("traffic_switch", "weight-text", lambda c: _haproxy(c, weights={"blue": "x", "green": 100}), r"not a number"),
    Case("traffic_switch", "slot-unknown", lambda c: _haproxy(c, weights={"pink": 100}), r"unknown slot"),
    Case("traffic_switch", "active-empty", lambda c: _haproxy(c, active=""), r"option active: '' is empty"),
    Case("traffic_switch", "active-unknown", lambda c: _haproxy(c, active="pink"), r"pink"),
    Case("traffic_switch", "drain-negative", lambda c: _haproxy(c, active="green", drain_timeout=-1),
         r"drain_timeout: -1"),
    Case("traffic_switch", "drain-nan", lambda c: _haproxy(c, active="green", drain_timeout=NAN),
         r"drain_timeout: nan"),
    Case("traffic_switch", "socket-hangs", lambda c: _haproxy(c, active="green", haproxy_socket=c.hang_socket,
                                                              timeout=1), r"HAProxy|haproxy"),
    Case("traffic_switch", "socket-tcp-hangs", lambda c: _haproxy(c, active="green", haproxy_socket=c.hang.address,
                                                                  timeout=1), r"HAProxy|haproxy"),
    Case("traffic_switch", "socket-missing", lambda c: _haproxy(c, active="green", haproxy_socket="/nonexistent.sock"),
         r"haproxy|HAProxy"),
    Case("traffic_switch", "socket-garbage", lambda c: _haproxy(c, active="green",
                                                                haproxy_socket="127.0.0.1:%d" % c.garbage.port,
                                                                timeout=1), r"HAProxy|haproxy"),
    Case("traffic_switch", "backend-injection", lambda c: _haproxy(c, active="green",
                                                                   haproxy_backend="app\nset weight app/blue1 0"),
         r"not an HAProxy name"),
    Case("traffic_switch", "backend-semicolon", lambda c: _haproxy(c, active="green",
                                                                   haproxy_backend="app; disable server app/blue1"),
         r"not an HAProxy name"),
    Case("traffic_switch", "stickiness-negative", lambda c: _haproxy(c, active="green", alb_stickiness_duration=-1),
         r"alb_stickiness_duration: -1"),
    Case("traffic_switch", "nginx-upstream-option-injection",
         lambda c: _nginx(c, nginx_upstream_options=[INJECTED_SERVER_BLOCK]),
         r"nginx_upstream_options\[0\].*cannot go into an nginx upstream"),
    Case("traffic_switch", "nginx-upstream-option-newline",
         lambda c: _nginx(c, nginx_upstream_options=["keepalive 8\nserver 10.0.0.1:80"]),
         r"nginx_upstream_options\[0\]"),
    Case("traffic_switch", "nginx-server-options-injection", lambda c: _nginx(c, nginx_server_options="max_fails=1;}"),
         r"nginx_server_options"),
    Case("traffic_switch", "nginx-upstream-name-injection", lambda c: _nginx(c, nginx_upstream="app { }"),
         r"nginx_upstream"),
    Case("traffic_switch", "nginx-address-injection", lambda c: _nginx(c, slots={
        "blue": ["127.0.0.1:1; server 10.0.0.9:80"], "green": ["127.0.0.1:2"]}), r"slots\.blue"),
    Case("traffic_switch", "alb-endpoint-hangs", lambda c: dict(_s3(c, c.hang.url), driver="aws_alb", active="green",
                                                                alb_listener_arn=c.fake_listener, timeout=1,
                                                                slots={"blue": ["tg-b"], "green": ["tg-g"]}),
         r"did not answer|timed out|[Tt]imeout"),
    # -- traffic_info ----------------------------------------------------------------------------
    Case("traffic_info", "timeout-zero", lambda c: _haproxy(c, timeout=0), r"option timeout: 0"),
    Case("traffic_info", "socket-hangs", lambda c: _haproxy(c, haproxy_socket=c.hang_socket, timeout=1),
         r"HAProxy|haproxy"),
    Case("traffic_info", "backend-nul", lambda c: _haproxy(c, haproxy_backend="app\x00"), r"NUL byte"),
    # -- deployment_record -----------------------------------------------------------------------
    Case("deployment_record", "ledger-empty", lambda c: _ledger(c, ledger=""), r"option ledger: '' is empty"),
    Case("deployment_record", "ledger-nul", lambda c: _ledger(c, ledger=c.ledger + "\x00"), r"NUL byte"),
    Case("deployment_record", "ledger-scheme", lambda c: _ledger(c, ledger="ftp://x/l"), r"only a file path or s3"),
    Case("deployment_record", "ledger-s3-no-key", lambda c: dict(c.s3_options, **_ledger(c, ledger="s3://b")),
         r"must name an object"),
    Case("deployment_record", "ledger-directory", lambda c: _ledger(c, ledger=c.root), r"directory|cannot read"),
    Case("deployment_record", "ledger-s3-hangs", lambda c: dict(_s3(c, c.hang.url), **_ledger(
        c, ledger="s3://%s/l.jsonl" % c.bucket)), r"did not answer|timed out"),
    Case("deployment_record", "ledger-s3-garbage", lambda c: dict(_s3(c, c.garbage.url), **_ledger(
        c, ledger="s3://%s/l.jsonl" % c.bucket)), r"ledger"),
    Case("deployment_record", "started-without-version", lambda c: _ledger(c, event="started", deployment_id="d1"),
         r"version"),
    Case("deployment_record", "deployment-id-empty", lambda c: _record(c, deployment_id=""),
         r"option deployment_id: '' is empty"),
    Case("deployment_record", "environment-blank", lambda c: _record(c, environment="  "), r"option environment"),
    Case("deployment_record", "data-nan", lambda c: _record(c, data={"ratio": NAN}), r"data\.ratio: nan"),
    Case("deployment_record", "data-deep", lambda c: _record(c, data=c.deep_dict), r"nested more than"),
    Case("deployment_record", "data-nul", lambda c: _record(c, data={"note": "a\x00b"}), r"NUL byte"),
    Case("deployment_record", "history-negative", lambda c: _ledger(c, history_size=-1), r"history_size: -1"),
    Case("deployment_record", "damaged-ledger-read", lambda c: _ledger(c, ledger=c.damaged_ledger), ok=True,
         check=_skipped_reported),
    # -- deployment_report -----------------------------------------------------------------------
    Case("deployment_report", "id-empty", lambda c: {"ledger": c.ledger, "deployment_id": "", "dest": c.report_dir},
         r"option deployment_id: '' is empty"),
    Case("deployment_report", "id-unknown", lambda c: {"ledger": c.ledger, "deployment_id": "nope",
                                                       "dest": c.report_dir}, r"nope"),
    Case("deployment_report", "dest-nul", lambda c: {"ledger": c.ledger, "deployment_id": "d-1",
                                                     "dest": c.report_dir + "\x00"}, r"NUL byte"),
    Case("deployment_report", "dest-regular-file", lambda c: {"ledger": c.ledger, "deployment_id": "d-1",
                                                              "dest": c.regular_file}, r"directory|cannot"),
    Case("deployment_report", "formats-unknown", lambda c: {"ledger": c.ledger, "deployment_id": "d-1",
                                                            "dest": c.report_dir, "formats": ["pdf"]}, r"pdf"),
    # -- notify ----------------------------------------------------------------------------------
    Case("notify", "url-empty", lambda c: _notify(c, webhook_url=""), r"webhook_url"),
    Case("notify", "url-scheme", lambda c: _notify(c, webhook_url="ftp://x/hook"), r"webhook_url|http"),
    Case("notify", "url-nul", lambda c: _notify(c, webhook_url="http://127.0.0.1/\x00"), r"NUL byte"),
    Case("notify", "retries-negative", lambda c: _notify(c, retries=-1), r"option retries: -1"),
    Case("notify", "retries-huge", lambda c: _notify(c, retries=1000), r"option retries: 1000"),
    Case("notify", "timeout-zero", lambda c: _notify(c, timeout=0), r"option timeout: 0"),
    Case("notify", "timeout-nan", lambda c: _notify(c, timeout=NAN), r"option timeout: nan"),
    Case("notify", "fields-deep", lambda c: _notify(c, fields=c.deep_dict), r"nested more than"),
    Case("notify", "webhook-hangs", _notify, r"timed out|timeout|did not answer"),
    Case("notify", "webhook-garbage", lambda c: _notify(c, webhook_url=c.garbage.url + "/hook"), r"webhook|notif"),
    Case("notify", "webhook-hangs-not-fatal", lambda c: _notify(c, fail_on_error=False), ok=True, check=_warned),
    # -- release_artifact ------------------------------------------------------------------------
    Case("release_artifact", "version-empty", lambda c: _release(c, version=""), r"option version: '' is empty"),
    Case("release_artifact", "version-path", lambda c: _release(c, version="../../etc"), r"version"),
    Case("release_artifact", "version-nul", lambda c: _release(c, version="1\x00"), r"NUL byte"),
    Case("release_artifact", "keep-zero", lambda c: _release(c, keep=0), r"option keep: 0"),
    Case("release_artifact", "checksum-md5", lambda c: _release(c, checksum="md5:abc"), r"checksum"),
    Case("release_artifact", "checksum-short", lambda c: _release(c, checksum="sha256:abc"), r"checksum"),
    Case("release_artifact", "checksum-wrong", lambda c: _release(c, checksum="sha256:" + "0" * 64), r"checksum|SHA"),
    Case("release_artifact", "source-missing", lambda c: _release(c, source="/nonexistent/a.tar.gz"), r"nonexistent"),
    Case("release_artifact", "source-hangs", lambda c: _release(c, source=c.hang.url + "/a.tar.gz", timeout=1),
         r"timed out|timeout|did not answer"),
    Case("release_artifact", "source-garbage", lambda c: _release(c, source=c.garbage.url + "/a.tar.gz"),
         r"download|fetch|cannot"),
    Case("release_artifact", "app_root-relative", lambda c: _release(c, app_root="apps"), r"absolute|relative"),
    Case("release_artifact", "slots-empty", lambda c: _release(c, slots=[]), r"option slots"),
    # -- rollout: every case fails before any weight changes (the world's snapshot says so) ----
    Case("rollout", "steps-not-to-100", lambda c: _rollout(c, steps=[5, 50]), r"must end with 100"),
    Case("rollout", "steps-falling", lambda c: _rollout(c, steps=[50, 25, 100]), r"must rise"),
    Case("rollout", "step-percent-nan", lambda c: _rollout(c, steps=[NAN, 100]), r"steps\[0\]: nan"),
    Case("rollout", "step-unknown-key", lambda c: _rollout(c, steps=[{"percent": 5, "wait": 3}, 100]),
         r"unknown key wait"),
    Case("rollout", "sample-interval-zero", lambda c: _rollout(c, sample_interval=0), r"option sample_interval: 0"),
    Case("rollout", "min-duration-nan", lambda c: _rollout(c, step_min_duration=NAN), r"step_min_duration: nan"),
    Case("rollout", "max-below-min", lambda c: _rollout(c, steps=[{"percent": 5, "min_duration": 9,
                                                                   "max_duration": 3}, 100]), r"below min_duration"),
    Case("rollout", "idle-slot-unknown", lambda c: _rollout(c, idle_slot="purple"), r"not one of the router's slots"),
    Case("rollout", "idle-is-live", lambda c: _rollout(c, idle_slot="blue"), r"both 'blue'"),
    Case("rollout", "idle-slot-empty", lambda c: _rollout(c, idle_slot=""), r"option idle_slot"),
    Case("rollout", "rule-out-of-range", lambda c: _rollout_rules(c, max_error_rate=2), r"max_error_rate"),
    Case("rollout", "rule-unknown", lambda c: _rollout_rules(c, max_eror_rate=0.1), r"unknown rule"),
    Case("rollout", "rule-nan", lambda c: _rollout_rules(c, max_latency_ratio=NAN), r"max_latency_ratio"),
    Case("rollout", "bake-negative", lambda c: _rollout(c, bake={"duration": -5}), r"bake\.duration"),
    Case("rollout", "preview-without-urls", lambda c: _rollout(c, preview={"requests": 10}), r"slot_urls"),
    Case("rollout", "probe-without-urls", lambda c: _rollout(c, analysis={"source": "probe"}), r"slot_urls"),
    Case("rollout", "analysis-socket-hangs", lambda c: _rollout(c, analysis={"source": "haproxy", "haproxy": {
        "socket": c.hang_socket, "timeout": 1}}), r"HAProxy|haproxy"),
    Case("rollout", "health-target-down", lambda c: _rollout(c, health_targets=[{"url": c.hang.url + "/health"}],
                                                             health={"timeout": 1, "interval": 0.2}),
         r"not healthy, no traffic moved"),
    # -- migrations ------------------------------------------------------------------------------
    Case("migration_lint", "sql-nul", lambda c: {"sql": "SELECT 1;\x00"}, r"NUL byte"),
    Case("migration_lint", "path-missing", lambda c: {"paths": ["/nonexistent/V1__x.sql"]}, r"nonexistent"),
    Case("migration_status", "table-64", lambda c: _status(c, history_table=LONG_NAME), r"64 bytes"),
    Case("migration_status", "path-nul", lambda c: _status(c, path="/x\x00"), r"NUL byte"),
    Case("migration_apply", "lock-retries-negative", lambda c: _apply(c, lock_retries=-1), r"lock_retries: -1"),
    Case("migration_apply", "retry-delay-nan", lambda c: _apply(c, retry_delay=NAN), r"retry_delay: nan"),
    Case("migration_apply", "ledger-table-64", lambda c: _apply(c, ledger_table=LONG_NAME), r"64 bytes"),
    Case("migration_apply", "lock-timeout-text", lambda c: _apply(c, lock_timeout="soon"), r"lock_timeout"),
    Case("migration_apply", "path-missing", lambda c: _apply(c, path="/nonexistent/migrations"), r"nonexistent"),
]
