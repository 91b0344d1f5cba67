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
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .net import free_port, wait_for_port


class _State:
    def __init__(self, name, version, error_rate, delay, healthy):
        self.name = name
        self.version = version
        self.error_rate = error_rate
        self.delay = delay
        self.healthy = healthy
        self.lock = threading.Lock()
        self.requests = 0


def _handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes; avoid the 40 ms stall

        def log_message(self, *args):  # quiet: tests read results, not access logs
            pass

        def _send(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

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
                self._send(200, {"requests": state.requests})
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
    # any loopback address (127.0.0.0/8): stands for an app host with its own address
    host: str = "127.0.0.1"

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def start(self):
        self.port = self.port or free_port()
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        argv = [sys.executable, "-m", "harness.backend", "--name", self.name, "--port", str(self.port),
                "--version", self.version, "--error-rate", str(self.error_rate),
                "--delay", str(self.delay), "--host", self.host]
        if not self.healthy:
            argv.append("--unhealthy")
        self.proc = subprocess.Popen(argv, cwd=here, start_new_session=True)
        wait_for_port(self.port, host=self.host, proc=self.proc, timeout=30)
        return self

    def control(self, **changes):
        import requests

        requests.post(self.url + "/__control", json=changes, timeout=5).raise_for_status()

    def requests_served(self):
        import requests

        return requests.get(self.url + "/__stats", timeout=5).json()["requests"]

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
    serve(args.name, args.port, args.version, args.error_rate, args.delay, not args.unhealthy, host=args.host)


if __name__ == "__main__":
    main()
