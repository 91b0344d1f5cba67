"""The world the bad-input cases run against, and its snapshot.

One PostgreSQL server (the shared ``pg``), one moto S3, one HAProxy in front of two slots, the
fault servers (a hung TCP port and unix socket, a garbage answer, an HTML page, JSON nested
100,000 deep), a local backup location holding one good backup and damaged copies of it, a ledger
and a damaged ledger. :meth:`World.snapshot` records everything a case could change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tarfile
import uuid

import pytest
from harness.backend import BackendServer
from harness.faults import AnswerServer, HangServer
from harness.haproxy import HAProxyServer

from ansible_collections.shipyard.deploy.plugins.module_utils.backup import backup_service


class World:
    """Servers, files and option sets the cases use (attributes are read by cases.py)."""

    def __init__(self, root, pg, s3, haproxy):
        self.root = str(root)
        self.pg = pg
        self.s3 = s3
        self.haproxy = haproxy
        self.victim = "victim"
        self.pg_port = pg.port
        self.pg_options = pg.conn_options(self.victim)
        self.pg_admin = pg.conn_options("postgres")
        self.pg_target = {"host": pg.host, "port": pg.port, "user": pg.user, "password": pg.password,
                          "database": self.victim}
        self.s3_options = s3.module_options()
        self.s3_endpoint = s3.endpoint
        self.haproxy_options = {"driver": "haproxy", "haproxy_socket": haproxy.admin_socket,
                                "haproxy_backend": haproxy.backend, "haproxy_state_file": haproxy.state_file}
        self.fake_listener = ("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/"
                              "0123456789abcdef/0123456789abcdef")
        self.deep_dict = {}
        node = self.deep_dict
        for _count in range(40):  # deeper than validation's 32, shallower than Ansible's own limit
            node["d"] = {}
            node = node["d"]

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def prepare(self):
        """Create the database, files, bucket and backups; start the fault servers."""
        self.pg.create_database(self.victim)
        with self.pg.connect(self.victim) as conn:
            conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text)")
            conn.execute("CREATE TABLE orders (id int PRIMARY KEY, item int)")
            conn.execute("INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 50) i")
            conn.execute("INSERT INTO orders SELECT i, i % 50 + 1 FROM generate_series(1, 20) i")
        self.bucket = "bad-input-" + uuid.uuid4().hex[:8]
        self.s3.client().create_bucket(Bucket=self.bucket)
        self.hang = HangServer().start()
        self.hang_socket = self.path("hang.sock")
        self.hang_unix = HangServer(unix_path=self.hang_socket).start()
        self.garbage = AnswerServer("garbage").start()
        self.html = AnswerServer("html").start()
        self.deep = AnswerServer("deep_json").start()
        self.regular_file = self.path("regular-file")
        with open(self.regular_file, "w") as handle:
            handle.write("not a directory\n")
        self.backup_dir = self.path("backups")
        self.report_dir = self.path("reports")
        self.nginx_include = self.path("nginx", "upstream.conf")
        os.makedirs(os.path.dirname(self.nginx_include))
        self.app_root = self.path("app")
        os.makedirs(self.app_root)
        self.migrations = self.path("migrations")
        os.makedirs(self.migrations)
        with open(os.path.join(self.migrations, "V1__create_t.sql"), "w") as handle:
            handle.write("CREATE TABLE t (id int);\n")
        self._make_artifact()
        self._make_backups()
        self._make_ledgers()

    def _make_artifact(self):
        source = self.path("artifact-src")
        os.makedirs(source)
        with open(os.path.join(source, "app.py"), "w") as handle:
            handle.write("print('hello')\n")
        self.artifact = self.path("app-2.0.tar.gz")
        with tarfile.open(self.artifact, "w:gz") as tar:
            tar.add(os.path.join(source, "app.py"), arcname="app.py")
        with open(self.artifact, "rb") as handle:
            self.artifact_sha = "sha256:" + hashlib.sha256(handle.read()).hexdigest()

    def _backup(self):
        params = {"port": self.pg.port, "connect_timeout": 10, "s3_part_size": 16, "s3_concurrency": 4,
                  "compression_level": 1, "compression_threads": 0, "location": self.backup_dir,
                  **self.pg_options}
        return backup_service.pg_backup(params, False, False)["backup_id"]

    def _copy(self, good, label):
        """A copy of backup ``good`` under a new id (manifest rewritten to that id)."""
        new = "%s-%s" % (good.rsplit("-", 1)[0], hashlib.sha256(label.encode()).hexdigest()[:6])
        shutil.copytree(os.path.join(self.backup_dir, good), os.path.join(self.backup_dir, new))
        manifest_path = os.path.join(self.backup_dir, new, "manifest.json")
        with open(manifest_path) as handle:
            doc = json.load(handle)
        doc["id"] = new
        with open(manifest_path, "w") as handle:
            json.dump(doc, handle)
        return new, manifest_path, os.path.join(self.backup_dir, new, "data.dump.zst")

    def _make_backups(self):
        good = self._backup()
        self.damaged = {}
        new, manifest, _data = self._copy(good, "not_json")
        with open(manifest, "w") as handle:
            handle.write("{not json")
        self.damaged["not_json"] = new
        new, manifest, _data = self._copy(good, "forty_two")
        with open(manifest, "w") as handle:
            handle.write("42")
        self.damaged["forty_two"] = new
        new, manifest, _data = self._copy(good, "deep")
        with open(manifest, "w") as handle:
            handle.write("[" * 100000 + "]" * 100000)
        self.damaged["deep"] = new
        new, manifest, _data = self._copy(good, "other_id")
        with open(manifest) as handle:
            doc = json.load(handle)
        doc["id"] = good
        with open(manifest, "w") as handle:
            json.dump(doc, handle)
        self.damaged["other_id"] = new
        new, _manifest, data = self._copy(good, "truncated")
        with open(data, "r+b") as handle:
            handle.truncate(os.path.getsize(data) // 2)
        self.damaged["truncated"] = new
        new, _manifest, data = self._copy(good, "no_data")
        os.unlink(data)
        self.damaged["no_data"] = new
        new, _manifest, data = self._copy(good, "flipped")
        with open(data, "r+b") as handle:
            handle.seek(os.path.getsize(data) // 2)
            byte = handle.read(1)
            handle.seek(-1, 1)
            handle.write(bytes([byte[0] ^ 0xFF]))
        self.damaged["flipped"] = new
        new, manifest, _data = self._copy(good, "partial")
        os.unlink(manifest)
        self.damaged["partial"] = new
        new, manifest, _data = self._copy(good, "fewer_tables")
        with open(manifest) as handle:
            doc = json.load(handle)
        doc["row_counts"].pop("public.orders")
        with open(manifest, "w") as handle:
            json.dump(doc, handle)
        self.damaged["fewer_tables"] = new
        self.good_backup = good

    def _make_ledgers(self):
        self.ledger = self.path("ledger.jsonl")
        started = {"time": "2026-11-30T10:00:00.000000Z", "deployment_id": "d-1", "environment": "prod",
                   "application": "shop", "version": "1.0", "event": "started", "data": {}}
        done = dict(started, time="2026-11-30T10:05:00Z", event="succeeded")
        with open(self.ledger, "w") as handle:
            handle.write(json.dumps(started) + "\n" + json.dumps(done) + "\n")
        self.damaged_ledger = self.path("damaged-ledger.jsonl")
        with open(self.damaged_ledger, "wb") as handle:
            handle.write(json.dumps(started).encode() + b"\n")
            handle.write(b"42\n")
            handle.write(b"null\n")
            handle.write(b'{"time": "\xff\xfe", "event": "note"}\n')
            handle.write(b"[" * 5000 + b"]" * 5000 + b"\n")
            handle.write(json.dumps(dict(started, time="yesterday")).encode() + b"\n")
            handle.write(json.dumps(dict(done, time="2026-11-30T10:06:00+01:00")).encode() + b"\n")

    def snapshot(self):
        """Everything a case could change: databases and their rows, files, S3 objects, HAProxy."""
        state = {}
        with self.pg.connect() as conn:
            state["databases"] = sorted(r[0] for r in conn.execute("SELECT datname FROM pg_database"))
        with self.pg.connect(self.victim) as conn:
            state["tables"] = sorted(r[0] for r in conn.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"))
            try:
                state["items"] = conn.execute("SELECT count(*), sum(id) FROM items").fetchone()
            except Exception as exc:  # a case dropped it: that is a change to report, not a crash
                state["items"] = "unreadable: %s" % type(exc).__name__
        files = {}
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                full = os.path.join(dirpath, name)
                if full in (self.hang_socket,):
                    continue
                stat = os.lstat(full)
                files[os.path.relpath(full, self.root)] = (stat.st_size, stat.st_mtime_ns, stat.st_mode)
        state["files"] = files
        client = self.s3.client()
        state["s3"] = sorted((o["Key"], o["Size"]) for o in client.list_objects_v2(Bucket=self.bucket)
                             .get("Contents", []))
        state["s3_uploads"] = len(client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", []))
        state["haproxy"] = self.haproxy.server_weights()
        return state

    def stop(self):
        for server in (self.hang, self.hang_unix, self.garbage, self.html, self.deep):
            server.stop()
        self.pg.drop_database(self.victim)


@pytest.fixture(scope="session")
def world(pg, s3, tmp_path_factory):
    servers = {"blue": [BackendServer("blue").start()], "green": [BackendServer("green").start()]}
    with HAProxyServer(servers) as haproxy:
        built = World(tmp_path_factory.mktemp("bad-input"), pg, s3, haproxy)
        built.prepare()
        yield built
        built.stop()
    for slot in servers.values():
        for server in slot:
            server.stop()


def pytest_terminal_summary(terminalreporter):
    """Print the counts of the bad-input run (for the release notes and reviews)."""
    module = sys.modules.get("test_bad_input")
    if module is not None and module.COUNTS:
        terminalreporter.write_line("bad-input counts: " + json.dumps(module.COUNTS, sort_keys=True))
