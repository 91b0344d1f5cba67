"""Servers that misbehave on purpose, on loopback, for the bad-input and deadline tests.

- :class:`HangServer` accepts TCP connections (or connections on a unix socket) and never answers:
  what a firewall that drops replies, a stuck load balancer or a frozen S3 endpoint looks like
  to a client. It reads what it is sent, so the client's write never blocks, and holds the socket.
- :class:`AnswerServer` answers every HTTP request with one fixed reply: plain garbage (not
  HTTP at all), an HTML page where JSON was expected, or JSON nested deeper than any parser's stack.
"""

from __future__ import annotations

import os
import socket
import threading

from harness.net import free_port


class _Listener:
    """A loopback TCP (or unix socket) listener whose accepted connections go to ``handle(conn)`` in threads."""

    def __init__(self, unix_path=None):
        self.unix_path = unix_path
        self.port = 0
        self.connections = 0
        self._held = []
        self._sock = None
        self._stop = threading.Event()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        if self.unix_path:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._sock.bind(self.unix_path)
        else:
            self.port = free_port()
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(128)
        self._sock.settimeout(0.2)
        threading.Thread(target=self._accept, name=type(self).__name__, daemon=True).start()
        return self

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _addr = self._sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        raise NotImplementedError

    def stop(self):
        self._stop.set()
        for conn in self._held:
            try:
                conn.close()
            except OSError:
                pass
        if self._sock is not None:
            self._sock.close()
        if self.unix_path and os.path.exists(self.unix_path):
            os.unlink(self.unix_path)


class HangServer(_Listener):
    """Accepts connections and never sends a byte. ``connections`` counts what it accepted."""

    def handle(self, conn):
        conn.settimeout(0.5)
        while not self._stop.is_set():
            try:
                if not conn.recv(65536):
                    return
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return


def deep_json(depth=100000):
    """A JSON document of ``depth`` nested arrays (valid JSON that no recursive parser survives)."""
    return b"[" * depth + b"]" * depth


REPLIES = {
    "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 this is not HTTP \x00\xff\r\n\r\n",
    "html": (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 27\r\nConnection: close\r\n\r\n"
             b"<html><b>maintenance</b></html>"[:27]),
    "deep_json": None,  # built on first use (large)
}


class AnswerServer(_Listener):
    """Answers every connection with the fixed reply ``kind`` (see ``REPLIES``) and closes it."""

    def __init__(self, kind):
        super().__init__()
        if kind == "deep_json":
            body = deep_json()
            self.reply = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                          b"Connection: close\r\n\r\n" % len(body)) + body
        else:
            self.reply = REPLIES[kind]
        self.kind = kind

    def handle(self, conn):
        try:
            conn.settimeout(2)
            try:
                conn.recv(65536)
            except OSError:
                pass
            conn.sendall(self.reply)
        except OSError:
            pass
        finally:
            conn.close()
