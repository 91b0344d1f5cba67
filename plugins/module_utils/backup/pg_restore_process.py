# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``pg_restore`` child process of a restore: argv, environment, stdin pipe, stderr tail."""

from __future__ import annotations

import subprocess
import tempfile

CHUNK = 1 << 20
STDERR_TAIL = 2000


class PgRestoreProcess:
    """``pg_restore --exit-on-error`` into one database, reading a file or our stdin.

    stderr goes to a temporary file (never a pipe nobody reads, which could block pg_restore);
    its tail ends up in the error message.
    """

    def __init__(self, tool, params, dbname, no_owner=False, jobs=1, path=None):
        argv = [tool, "--exit-on-error", "--dbname", dbname]
        if no_owner:
            argv.append("--no-owner")
        if jobs > 1:
            argv += ["--jobs", str(jobs)]
        if path:
            argv.append(path)
        self.argv = argv
        self.stderr = tempfile.TemporaryFile()
        # The password travels in PGPASSWORD, never in argv.
        self.proc = subprocess.Popen(
            argv, stdin=None if path else subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=self.stderr, env=params.with_database(dbname).child_env(),
        )
        if not path:
            _grow_pipe(self.proc.stdin)

    def write(self, data):
        """Send dump bytes; False once pg_restore stopped reading (it exited)."""
        try:
            self.proc.stdin.write(data)
            return True
        except (BrokenPipeError, ValueError):
            return False

    def finish(self):
        """Close stdin, wait, and return ``(returncode, stderr tail)``."""
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except BrokenPipeError:
                pass
        returncode = self.proc.wait()
        self.stderr.seek(0)
        text = self.stderr.read().decode("utf-8", "replace").strip()
        self.stderr.close()
        return returncode, text[-STDERR_TAIL:]

    def kill(self):
        """Stop pg_restore at once (used when the input proved bad)."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.finish()
        except (OSError, ValueError):
            pass


def _grow_pipe(pipe):
    # A 1 MiB pipe lets decompression run ahead of pg_restore instead of in 64 KiB lock-step.
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), CHUNK)
    except (ImportError, OSError):
        pass
