# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One HTTP layer for everything that is not AWS: sessions, TLS options, timeouts, backoff.

- :func:`new_session` - a ``requests`` session with a bounded connection pool and no hidden
  retries (ours are explicit and jittered).
- :func:`tls_verify` - what ``requests`` takes as ``verify`` from ``validate_certs`` and ``ca_path``.
- :func:`timeouts` - a ``(connect, read)`` pair: a server that accepts and never answers costs at
  most ``read`` seconds per request, never forever.
- :func:`backoff_delay` / :func:`pause` - the one full-jitter exponential backoff of the collection
  (AWS retries, the S3 ledger's lost races, Prometheus, webhooks), so concurrent runs never retry
  in lockstep and no pause outlasts a deadline.
- :func:`short_error` - a requests/urllib3 exception in a line an operator can act on, without
  the URL (which may carry a token).
"""

from __future__ import annotations

import random
import re
import time
import traceback

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import DependencyError

try:
    import requests
    import requests.adapters
except ImportError:  # pragma: no cover - reported by require_requests()
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

# A server must accept a connection within this many seconds, whatever the read timeout.
CONNECT_TIMEOUT_CAP = 10.0


def require_requests():
    """Raise DependencyError when the ``requests`` library is not importable."""
    if requests is None:
        raise DependencyError(
            "the Python library requests is required on the host that runs this task; "
            "install it with 'pip install requests' into the interpreter Ansible uses",
            import_error=REQUESTS_IMPORT_ERROR,
        )


def new_session(pool_size=4):
    """A requests session whose pool keeps ``pool_size`` connections per host; no automatic retries."""
    require_requests()
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def tls_verify(validate_certs=True, ca_path=None):
    """``verify`` for requests: the CA bundle, True (system CAs) or False (only when asked explicitly)."""
    if validate_certs is False:
        return False
    return ca_path or True


def timeouts(seconds):
    """``(connect, read)`` timeouts for one request that may take ``seconds`` in all."""
    seconds = float(seconds)
    return (min(seconds, CONNECT_TIMEOUT_CAP), seconds)


def backoff_delay(attempt, base=0.5, cap=8.0):
    """Full-jitter exponential backoff: a random delay in ``[0, min(cap, base * 2**(attempt-1))]``."""
    return random.uniform(0, min(cap, base * 2 ** max(0, attempt - 1)))  # noqa: S311 - not cryptography


def pause(attempt, base=0.5, cap=8.0, deadline=None, clock=time.monotonic, sleep=time.sleep):
    """Sleep :func:`backoff_delay` (never past the monotonic ``deadline``); return the seconds slept."""
    delay = backoff_delay(attempt, base, cap)
    if deadline is not None:
        delay = max(0.0, min(delay, deadline - clock()))
    if delay:
        sleep(delay)
    return delay


def short_error(exc):
    """``Kind: reason`` of a requests exception, with urllib3's nested repr reduced to its cause."""
    text = str(exc).strip() or type(exc).__name__
    # urllib3 nests the cause in long reprs; the last part is the one an operator can act on.
    match = re.search(r"\(Caused by \w+\((?:.*?: )?(.*)\)\)\s*$", text)
    if match:
        text = match.group(1).strip("'\" ")
    text = re.sub(r"https?://\S+", "<url>", text)
    return "%s: %s" % (type(exc).__name__, text[:300])


def is_timeout(exc):
    """True when ``exc`` is a requests connect or read timeout."""
    return requests is not None and isinstance(exc, (requests.Timeout, requests.exceptions.ConnectTimeout))
