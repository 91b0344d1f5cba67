"""What the HAProxy and nginx harnesses share: slots of backends, a work directory, and a
foreground server process that the test owns and stops."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile


class SlotProxy:
    """A reverse proxy process in front of ``slots`` ({slot: [BackendServer, ...]}).

    ``weights`` ({slot: weight}) is the initial weight of every server of a slot; by default the
    first slot gets 100 and the others 0 (all traffic on the first slot).
    """

    prefix = "shipyard-proxy-"

    def __init__(self, slots, workdir=None, weights=None):
        if not slots:
            raise ValueError("%s needs at least one slot of backends" % type(self).__name__)
        self.slots = dict(slots)
        self.workdir = workdir or tempfile.mkdtemp(prefix=self.prefix)
        self._own_workdir = workdir is None
        first = next(iter(self.slots))
        self.weights = dict(weights) if weights else {s: (100 if s == first else 0) for s in self.slots}
        self.port = 0
        self.proc = None
        self._log = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/" % self.port

    def _spawn(self, argv, log_name):
        """Start ``argv`` in its own session with stdout+stderr appended to ``workdir/log_name``."""
        self._log = open(os.path.join(self.workdir, log_name), "ab")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        return self.proc

    def stop(self):
        """Stop the server process (SIGTERM, then SIGKILL after 10 s) and remove our work directory."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):  # pragma: no cover - every subclass defines it
        raise NotImplementedError
