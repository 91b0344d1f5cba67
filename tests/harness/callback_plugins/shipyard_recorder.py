# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: appends every task result to the JSON-lines file named by
SHIPYARD_TEST_RECORD, next to the normal stdout callback, so tests can read results."""

from __future__ import annotations

DOCUMENTATION = r"""
name: shipyard_recorder
type: aggregate
short_description: record task results as JSON lines (tests only)
description:
  - Writes one JSON object per task result to the file named by E(SHIPYARD_TEST_RECORD).
requirements:
  - enabled with C(callbacks_enabled)
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "shipyard_recorder"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._path = os.environ.get("SHIPYARD_TEST_RECORD")

    def _write(self, result, status):
        if not self._path:
            return
        record = {
            "task": result.task_name,
            "action": result._task.action,
            "host": result._host.get_name(),
            "status": status,
            "result": result._result,
        }
        with open(self._path, "a") as handle:
            handle.write(json.dumps(record, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._write(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._write(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._write(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        if not self._path:
            return
        summary = {host: stats.summarize(host) for host in stats.processed}
        with open(self._path, "a") as handle:
            handle.write(json.dumps({"stats": summary, "custom": stats.custom}, default=str) + "\n")
