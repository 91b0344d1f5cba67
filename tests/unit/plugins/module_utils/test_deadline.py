"""The module deadline interrupts a blocked main thread, lets cleanup run, and abandons a stuck cleanup."""

from __future__ import annotations

import socket
import time

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import deadline


def test_deadline_interrupts_a_blocking_read_and_cleanup_runs():
    cleaned = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    started = time.monotonic()
    with pytest.raises(deadline.DeadlineExceeded) as caught:
        with deadline.enforce(0.3):
            try:
                client.recv(10)  # the server never answers
            finally:
                cleaned.append(True)
    assert time.monotonic() - started < 5
    assert cleaned == [True] and caught.value.seconds == 0.3
    client.close()
    server.close()


def test_deadline_is_not_swallowed_by_except_exception():
    with pytest.raises(deadline.DeadlineExceeded):
        with deadline.enforce(0.2):
            for _count in range(100):
                try:
                    time.sleep(0.05)
                except Exception:  # noqa: S110 - what a probe loop does
                    pass


def test_a_stuck_cleanup_is_abandoned():
    abandoned = []
    with pytest.raises(deadline.DeadlineExceeded):
        with deadline.enforce(0.2, on_abandon=abandoned.append, grace=0.2):
            try:
                time.sleep(5)
            finally:
                time.sleep(1)  # cleanup that hangs; the second alarm calls on_abandon
    assert abandoned == [0.2]


def test_no_deadline_and_finished_work_leave_no_timer():
    with deadline.enforce(None):
        pass
    with deadline.enforce(5):
        pass
    import signal

    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
