# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The total deadline of a module: after ``deadline`` seconds it stops, cleans up and exits.

:func:`enforce` arms a real-time timer around the service. When it fires, :class:`DeadlineExceeded`
is raised in the main thread wherever it is (a socket read, a join, a sleep). It derives from
BaseException, like SystemExit, so the ``except Exception`` of a probe loop cannot swallow it while
the ``except BaseException: abort(); raise`` and ``finally`` blocks that undo partial work all run.
If the cleanup itself is stuck past ``grace`` seconds, ``on_abandon`` is called (the runner reports
the failure and ends the process): a module process never outlives its task.
"""

from __future__ import annotations

import contextlib
import signal
import threading

DEFAULT_DEADLINE = 3600.0
LONG_DEADLINE = 21600.0
CLEANUP_GRACE = 10.0


class DeadlineExceeded(BaseException):
    """The module's deadline passed; raised into the main thread by the timer."""

    def __init__(self, seconds):
        super().__init__("deadline of %g seconds exceeded" % seconds)
        self.seconds = seconds


def deadline_argument_spec(default=DEFAULT_DEADLINE):
    """The ``deadline`` option (doc fragment ``shipyard.deploy.deadline`` or ``.long``)."""
    return dict(deadline=dict(type="float", default=default))


@contextlib.contextmanager
def enforce(seconds, on_abandon=None, grace=CLEANUP_GRACE):
    """Raise DeadlineExceeded in the main thread once ``seconds`` passed inside the block.

    ``None`` or 0 disables it; outside the main thread (where signals cannot be delivered) it
    does nothing.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    state = {"fired": False}

    def _fire(_signum, _frame):
        if state["fired"]:
            # the cleanup after the deadline is itself stuck: give up on it
            if on_abandon is not None:
                on_abandon(seconds)
            return
        state["fired"] = True
        signal.setitimer(signal.ITIMER_REAL, grace)
        raise DeadlineExceeded(seconds)

    previous = signal.signal(signal.SIGALRM, _fire)
    signal.setitimer(signal.ITIMER_REAL, float(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
