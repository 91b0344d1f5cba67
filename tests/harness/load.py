"""A bounded load generator: keeps requests flowing through a URL and counts what came back.

Runs in worker threads with one keep-alive connection each (``http.client``), stops by itself
after ``duration`` seconds or ``max_requests`` requests, whichever comes first, and only ever
targets loopback.  Each response body's ``slot`` field is counted, so a test can check that the
share of traffic per backend follows the router's weights, and that nothing failed.
"""

from __future__ import annotations

import http.client
import json
import select
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

# what a request on a kept-alive connection the server has just closed ends with
CLOSED_WITHOUT_ANSWER = ("RemoteDisconnected", "ConnectionResetError", "BrokenPipeError")


class LoadGenerator:
    def __init__(self, url, concurrency=4, duration=30.0, max_requests=200000, timeout=5.0,
                 new_connection_every=0, rate=None, check_dropped=False, retry_reused=False):
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("load is only ever sent to loopback, not %s" % parts.hostname)
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = parts.path or "/"
        self.concurrency = concurrency
        self.duration = duration
        self.max_requests = max_requests
        self.timeout = timeout
        # 0 = keep-alive for ever; N = reconnect after N requests (exercises new connections)
        self.new_connection_every = new_connection_every
        # requests per second over all workers (None: as fast as the server answers)
        self.rate = rate
        # True: before reusing a kept-alive connection, look whether the server closed it while it was
        # idle and reconnect if so (what urllib3/requests do, ``is_connection_dropped``); http.client's
        # default, False, sends on it and fails
        self.check_dropped = check_dropped
        self.reconnects = 0
        # True: a request on a REUSED connection that the server closed without any answer is sent once
        # more on a new connection (RFC 9112 9.3.1, what browsers do for idempotent requests); counted in
        # ``retried``, and a failure of the retry counts as failed
        self.retry_reused = retry_reused
        self.retried = 0
        self.lock = threading.Lock()
        self.slots = Counter()
        self.statuses = Counter()
        self.errors = Counter()
        self.latencies = []
        self.timeline = []  # (monotonic time, slot or None, status or error name)
        self._stop = threading.Event()
        self._threads = []
        self._sent = 0

    @property
    def total(self):
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def failed(self):
        """Requests that did not get a 2xx/3xx answer: 5xx, 4xx, resets, timeouts."""
        bad_status = sum(n for code, n in self.statuses.items() if code >= 400)
        return bad_status + sum(self.errors.values())

    def start(self):
        self._deadline = time.monotonic() + self.duration
        for _worker_index in range(self.concurrency):
            thread = threading.Thread(target=self._worker, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def wait(self):
        """Block until the load ends by itself (duration or max_requests reached)."""
        for thread in self._threads:
            thread.join()
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def snapshot(self):
        """Counts so far: {'total', 'failed', 'slots', 'statuses', 'errors'}."""
        with self.lock:
            return {"total": self.total, "failed": self.failed, "slots": dict(self.slots),
                    "statuses": dict(self.statuses), "errors": dict(self.errors), "reconnects": self.reconnects,
                    "retried": self.retried}

    def _take_ticket(self):
        with self.lock:
            if self._sent >= self.max_requests:
                return False
            self._sent += 1
            return True

    def _exchange(self, conn):
        """One GET on ``conn``: (status or error name, the body's slot, conn or None when it closed)."""
        slot = None
        try:
            conn.request("GET", self.path, headers={"Connection": "keep-alive"})
            resp = conn.getresponse()
            body = resp.read()
            try:
                slot = json.loads(body).get("slot")
            except ValueError:
                slot = None
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
            return resp.status, slot, conn
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            return type(exc).__name__, None, None

    def _worker(self):
        conn = None
        used = 0
        gap = self.concurrency / self.rate if self.rate else 0.0
        due = time.monotonic()
        while not self._stop.is_set() and time.monotonic() < self._deadline and self._take_ticket():
            if gap:
                due += gap
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    break
            if conn is not None and self.check_dropped and conn.sock is not None \
                    and select.select([conn.sock], [], [], 0)[0]:
                conn.close()  # readable while idle: closed by the server (EOF) - never reuse it
                conn = None
                with self.lock:
                    self.reconnects += 1
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                used = 0
            started = time.monotonic()
            outcome, slot, conn = self._exchange(conn)
            if self.retry_reused and used and outcome in CLOSED_WITHOUT_ANSWER:
                with self.lock:
                    self.retried += 1
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                used = 0
                outcome, slot, conn = self._exchange(conn)
            elapsed = time.monotonic() - started
            used += 1
            if conn is not None and self.new_connection_every and used >= self.new_connection_every:
                conn.close()
                conn = None
            with self.lock:
                if isinstance(outcome, int):
                    self.statuses[outcome] += 1
                    self.latencies.append(elapsed)
                    if slot:
                        self.slots[slot] += 1
                else:
                    self.errors[outcome] += 1
                self.timeline.append((started, slot, outcome))
        if conn is not None:
            conn.close()
