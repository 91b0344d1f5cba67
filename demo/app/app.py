"""shipyard demo shop: the small application `make demo` deploys.

One process per slot.  Configuration comes from the environment (the slot's service manager
loads the shared 0600 env file): ``PORT``, ``BIND_ADDRESS`` (default 127.0.0.1), ``SLOT``,
``DATABASE_URL`` (libpq URI; its password is never printed), ``LOG_LEVEL``.  The release
directory holds ``VERSION`` and ``release.json``.

- ``GET /health``: ``{"status", "version", "slot", "database"}``; 200 when the database answers
  and has the schema this version expects (``release.json: requires_table``), else 503.
- ``GET /`` and ``GET /orders``: a JSON answer naming slot and version.  A release may carry a
  bug: ``release.json: bug_rate`` is the share of requests that fail with 500 (the faulty v3).
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))


def load_release():
    with open(os.path.join(HERE, "release.json")) as handle:
        release = json.load(handle)
    with open(os.path.join(HERE, "VERSION")) as handle:
        release["version"] = handle.read().strip()
    return release


RELEASE = load_release()
SLOT = os.environ.get("SLOT", "unknown")
_local = threading.local()


def database_status():
    """'ok' when the database answers and has the table this version needs, else the reason."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "not configured"
    try:
        import psycopg
    except ImportError:
        return "psycopg missing"
    try:
        conn = getattr(_local, "conn", None)
        if conn is None or conn.closed:
            conn = _local.conn = psycopg.connect(url, autocommit=True, connect_timeout=3)
        table = RELEASE.get("requires_table")
        if table:
            found = conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()[0]
            if not found:
                return "missing table %s" % table
        else:
            conn.execute("select 1")
        return "ok"
    except Exception as exc:  # report, never crash the health endpoint
        _local.conn = None
        return "error: %s" % type(exc).__name__


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if os.environ.get("LOG_LEVEL", "warn") in ("debug", "info"):
            sys.stderr.write("%s %s\n" % (SLOT, fmt % args))

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/health"):
            database = database_status()
            healthy = database == "ok"
            self._send(200 if healthy else 503, {"status": "healthy" if healthy else "unhealthy",
                                                 "version": RELEASE["version"], "slot": SLOT,
                                                 "database": database})
            return
        if random.random() < float(RELEASE.get("bug_rate", 0)):  # noqa: S311 - the deliberate bug
            self._send(500, {"error": "internal error", "version": RELEASE["version"], "slot": SLOT})
            return
        self._send(200, {"slot": SLOT, "version": RELEASE["version"], "path": self.path})


def main():
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer((os.environ.get("BIND_ADDRESS", "127.0.0.1"), port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
