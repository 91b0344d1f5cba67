# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the rollout's events to the deployment ledger as they happen, off the control loop.

A ledger append is a local ``flock`` + ``fsync`` or, for an S3 ledger, a conditional rewrite of
the whole object: tens of milliseconds that must not delay a rollback or stretch a step.  Events
are stamped when they happen and written in order by one background thread; :meth:`close` waits
for the queue to drain, so every event is in the ledger when the task ends.
"""

from __future__ import annotations

import queue
import threading

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.ledger import new_record, open_ledger, utcnow

_STOP = object()


class LedgerRecorder:
    """Queue of ledger events written by a daemon thread; a no-op without ledger options."""

    def __init__(self, record_options):
        options = dict(record_options or {})
        self.enabled = bool(options.get("ledger"))
        self.errors = []
        self.written = 0
        if not self.enabled:
            return
        for key in ("deployment_id", "environment", "application"):
            if not options.get(key):
                raise ConfigurationError("record.%s is required to record the rollout in the ledger %s"
                                         % (key, options["ledger"]))
        self.options = options
        self.ledger = open_ledger(options["ledger"], options)
        self.queue = queue.Queue()
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def record(self, event, data):
        """Stamp ``event`` now and queue it for writing."""
        if not self.enabled:
            return
        opts = self.options
        record = new_record(opts["deployment_id"], opts["environment"], opts.get("application") or "app",
                            opts.get("version"), event, data, moment=utcnow())
        self.queue.put(record)

    def _work(self):
        while True:
            record = self.queue.get()
            if record is _STOP:
                return
            try:
                self.ledger.append(record)
                self.written += 1
            except Exception as exc:
                self.errors.append("%s event not recorded: %s" % (record["event"], exc))

    def close(self, timeout=60.0):
        """Write what is queued (waiting up to ``timeout`` seconds) and stop the thread."""
        if not self.enabled:
            return
        self.queue.put(_STOP)
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.errors.append("the ledger %s did not take every event within %.0f s" % (self.ledger.location, timeout))
