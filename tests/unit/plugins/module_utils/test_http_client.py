"""The HTTP layer's pure parts: timeouts, TLS verify, the one backoff, error lines without URLs."""

from __future__ import annotations

import random

from ansible_collections.shipyard.deploy.plugins.module_utils import http_client


def test_timeouts_bound_connect_and_read():
    assert http_client.timeouts(5) == (5.0, 5.0)
    assert http_client.timeouts(120) == (http_client.CONNECT_TIMEOUT_CAP, 120.0)


def test_tls_verify():
    assert http_client.tls_verify(True, None) is True
    assert http_client.tls_verify(None, None) is True  # only an explicit false turns verification off
    assert http_client.tls_verify(True, "/etc/ca.pem") == "/etc/ca.pem"
    assert http_client.tls_verify(False, "/etc/ca.pem") is False


def test_backoff_is_full_jitter_and_capped():
    random.seed(7)
    delays = [http_client.backoff_delay(attempt, base=0.5, cap=8.0) for attempt in range(1, 12) for _count in range(50)]
    assert min(delays) >= 0 and max(delays) <= 8.0
    first = [http_client.backoff_delay(1, base=0.5, cap=8.0) for _count in range(200)]
    assert max(first) <= 0.5 and len(set(first)) > 100  # jittered, not lockstep


def test_pause_never_sleeps_past_the_deadline():
    slept = []
    now = [100.0]
    delay = http_client.pause(10, base=1.0, cap=60.0, deadline=100.25, clock=lambda: now[0], sleep=slept.append)
    assert delay <= 0.25 and sum(slept) <= 0.25
    assert http_client.pause(3, deadline=99.0, clock=lambda: now[0], sleep=slept.append) == 0.0


def test_short_error_hides_urls():
    exc = RuntimeError("HTTPSConnectionPool(host='h', port=443): Max retries exceeded with url: "
                       "https://hooks.example/T000/secret (Caused by ConnectTimeoutError(x, 'timed out'))")
    text = http_client.short_error(exc)
    assert "secret" not in text and text.startswith("RuntimeError: ")
