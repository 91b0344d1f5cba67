"""A small real HTTP application server standing in for one app instance of a slot.

Runs as its own process (``python -m harness.backend``) so load tests measure real sockets, not
threads sharing our GIL.  Behaviour can be changed while it runs, through ``POST /__control``
with a JSON body of any of: ``error_rate`` (0..1, share of requests answered 500),
``delay`` (seconds added to every request), ``healthy`` (bool, what /health says),
``version`` (string).

Endpoints:
- ``GET /`` and any other path: ``{"slot": NAME, "version": V}`` (200) or a 500 per error_rate.
- ``GET /health``: ``{"status": "healthy"|"unhealthy", "version": V, "slot": NAME}``,
  200 when healthy, 503 otherwise.
- A small login flow for smoke tests: ``POST /login`` with ``{"user": U, "password": P}``
  answers ``{"token": T, "user": U}`` and header ``X-Request-Id`` when ``P`` is the server's
  password (:attr:`BackendServer.password`, random per server, handed over in the environment,
  never on argv), else 401; ``GET /api/me`` with ``Authorization: Bearer T`` answers
  ``{"user": U, "roles": ["admin"], "slot": NAME, "version": V}``, else 401; ``GET /dashboard``
  is an HTML page.  ``GET /__stats`` lists the tokens issued, so a test can look for them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .net import free_port, wait_for_port

PASSWORD_VARIABLE = "SHIPYARD_BACKEND_PASSWORD"


class _State:
    def __init__(self, name, version, error_rate, delay, healthy):
        self.name = name
        self.version = version
        self.error_rate = error_rate
        self.delay = delay
        self.healthy = healthy
        self.lock = threading.Lock()
        self.requests = 0
        self.password = os.environ.get(PASSWORD_VARIABLE, "")
        self.tokens = {}  # token -> user


def _handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes; avoid the 40 ms stall

        def log_message(self, *args):  # quiet: tests read results, not access logs
            pass

        def _send(self, code, body, content_type="application/json", headers=()):
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _login(self, payload):
            if not state.password or payload.get("password") != state.password:
                self._send(401, {"error": "bad credentials"})
                return
            token = secrets.token_hex(16)
            with state.lock:
                state.tokens[token] = payload.get("user")
            self._send(200, {"token": token, "user": payload.get("user")},
                       headers=[("X-Request-Id", secrets.token_hex(4))])

        def _me(self):
            auth = self.headers.get("Authorization", "")
            user = state.tokens.get(auth[len("Bearer "):]) if auth.startswith("Bearer ") else None
            if user is None:
                self._send(401, {"error": "no or unknown token"})
            else:
                self._send(200, {"user": user, "roles": ["admin"], "slot": state.name, "version": state.version})

        def do_GET(self):
            with state.lock:
                state.requests += 1
                delay, error_rate, healthy = state.delay, state.error_rate, state.healthy
            if delay:
                time.sleep(delay)
            if self.path.startswith("/health"):
                body = {"status": "healthy" if healthy else "unhealthy",
                        "version": state.version, "slot": state.name}
                self._send(200 if healthy else 503, body)
            elif self.path.startswith("/__stats"):
                with state.lock:
                    self._send(200, {"requests": state.requests, "tokens": sorted(state.tokens)})
            elif self.path.startswith("/api/me"):
                self._me()
            elif self.path.startswith("/dashboard"):
                self._send(200, "<html><title>Dashboard %s</title></html>" % state.version, "text/html")
            elif error_rate and random.random() < error_rate:
                self._send(500, {"slot": state.name, "version": state.version, "error": "injected"})
            else:
                self._send(200, {"slot": state.name, "version": state.version})

        def do_HEAD(self):
            self.do_GET()

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            payload = json.loads(self.rfile.read(length) or b"{}")
            if self.path.startswith("/__control"):
                with state.lock:
                    for key in ("error_rate", "delay", "healthy", "version"):
                        if key in payload:
                            setattr(state, key, payload[key])
                self._send(200, {"ok": True})
            elif self.path.startswith("/login"):
                with state.lock:
                    state.requests += 1
                self._login(payload)
            else:
                self.do_GET()

    return Handler


def serve(name, port, version="1", error_rate=0.0, delay=0.0, healthy=True, host="127.0.0.1"):
    """Serve forever in this process (used by the subprocess entry point)."""
    state = _State(name, version, error_rate, delay, healthy)
    server = ThreadingHTTPServer((host, port), _handler(state))
    server.daemon_threads = True
    server.request_queue_size = 1024
    server.serve_forever()


@dataclass
class BackendServer:
    """One backend process. ``url`` is its base URL; ``control(...)`` changes its behaviour."""

    name: str
    version: str = "1"
    error_rate: float = 0.0
    delay: float = 0.0
    healthy: bool = True
    port: int = 0
    proc: subprocess.Popen | None = None
    password: str = field(default_factory=lambda: "pw-" + secrets.token_hex(8))
    host: str = "127.0.0.1"  # any loopback address: app hosts of one test each get their own

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def start(self):
        self.port = self.port or free_port(self.host)
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        argv = [sys.executable, "-m", "harness.backend", "--name", self.name, "--port", str(self.port),
                "--version", self.version, "--error-rate", str(self.error_rate),
                "--delay", str(self.delay), "--host", self.host]
        if not self.healthy:
            argv.append("--unhealthy")
        env = dict(os.environ, **{PASSWORD_VARIABLE: self.password})
        self.proc = subprocess.Popen(argv, cwd=here, start_new_session=True, env=env)
        wait_for_port(self.port, host=self.host, proc=self.proc, timeout=30)
        return self

    def control(self, **changes):
        import requests

        requests.post(self.url + "/__control", json=changes, timeout=5).raise_for_status()

    def requests_served(self):
        import requests

        return requests.get(self.url + "/__stats", timeout=5).json()["requests"]

    def tokens_issued(self):
        """The login tokens this server has handed out."""
        import requests

        return requests.get(self.url + "/__stats", timeout=5).json()["tokens"]

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--version", default="1")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--unhealthy", action="store_true")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    if not args.host.startswith("127."):
        parser.error("the test backend only listens on loopback, not %s" % args.host)
    serve(args.name, args.port, args.version, args.error_rate, args.delay, not args.unhealthy, host=args.host)


if __name__ == "__main__":
    main()
