# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Health checks of the new slot, repeated in the background for as long as the rollout runs.

The decision reads :meth:`HealthWatch.consecutive_failures` at every sample: a target that fails
more than ``max_health_failures`` times in a row fails the rollout (the seeds' post-deployment
trigger), whatever the traffic figures say.
"""

from __future__ import annotations

import concurrent.futures
import threading

from ansible_collections.shipyard.deploy.plugins.module_utils.health import Target, probe
from ansible_collections.shipyard.deploy.plugins.module_utils.http_client import new_session


class HealthWatch:
    """Probes every target every ``interval`` seconds from a daemon thread."""

    def __init__(self, target_specs, defaults, interval=1.0):
        self.targets = [Target(dict(spec), defaults) for spec in target_specs]
        self.interval = interval
        self.lock = threading.Lock()
        self.failures = {t.name: 0 for t in self.targets}
        self.last_error = {}
        self.probes = 0
        self.stop = threading.Event()
        self.session = new_session(max(1, len(self.targets)))
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(16, len(self.targets))))
        self.thread = threading.Thread(target=self._work, daemon=True)
        if self.targets:
            self.thread.start()

    def _work(self):
        while not self.stop.is_set():
            results = list(self.pool.map(lambda t: (t, probe(t, self.session)), self.targets))
            with self.lock:
                for target, result in results:
                    self.probes += 1
                    if result.ok:
                        self.failures[target.name] = 0
                    else:
                        self.failures[target.name] += 1
                        self.last_error[target.name] = result.error
            self.stop.wait(self.interval)

    def consecutive_failures(self):
        """``{target: failed probes in a row}`` right now."""
        with self.lock:
            return dict(self.failures)

    def errors(self):
        """The last error of each target that failed at least once."""
        with self.lock:
            return dict(self.last_error)

    def close(self):
        """Stop probing."""
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=30)
        self.pool.shutdown(wait=False)
        self.session.close()
