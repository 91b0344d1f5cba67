# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIGTERM as an exception while a backup or restore runs, so a killed task still cleans up.

Ansible stops a timed-out or cancelled module with SIGTERM; Python would otherwise die at once,
leaving a partial file, an open multipart upload or a scratch database behind.
"""

from __future__ import annotations

import contextlib
import signal
import threading


@contextlib.contextmanager
def terminate_cleanly(task, cleanup):
    """Turn SIGTERM into SystemExit("<task> interrupted by signal 15; <cleanup>") inside the block.

    ``task`` names what was interrupted (``pg_backup``, ``pg_restore``), ``cleanup`` what the
    unwinding ``finally``/``except`` blocks undo. Outside the main thread this does nothing
    (signals are only delivered there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _exit(signum, _frame):
        raise SystemExit("%s interrupted by signal %d; %s" % (task, signum, cleanup))

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
