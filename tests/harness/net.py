"""Small network helpers for the test servers."""

from __future__ import annotations

import socket
import time


def free_port(host="127.0.0.1"):
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def free_port_everywhere(addresses, attempts=50):
    """A TCP port free on every one of ``addresses`` (app hosts that each bind the same slot port on
    their own loopback address)."""
    for _attempt in range(attempts):
        port = free_port(addresses[0])
        try:
            for address in addresses[1:]:
                with socket.socket() as sock:
                    sock.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port free on all of %s" % ", ".join(addresses))


def wait_for_port(port, host="127.0.0.1", timeout=30.0, proc=None):
    """Wait until something accepts TCP connections on ``host:port``; fail if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f}s")
