# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep secrets out of smoke test results: every string of a result passes through a Redactor.

Ansible masks the values of ``no_log`` options (``secret_variables``, ``secret_headers``,
``secret_body``) itself, but not what the steps resolve them into or what a step captures from an
answer (a session token); this does, for every string the module returns or raises.
"""

from __future__ import annotations

MASK = "********"


class Redactor:
    """Replaces every known secret value in strings, dicts and lists with ``********``."""

    def __init__(self, values=()):
        self._values = set()
        self.add(*values)

    def add(self, *values):
        """Treat ``values`` (their text form) as secret from now on; empty ones are ignored."""
        for value in values:
            if isinstance(value, (dict, list, tuple)):
                self.add(*(value.values() if isinstance(value, dict) else value))
            elif value is not None and not isinstance(value, bool) and str(value):
                self._values.add(str(value))

    def __call__(self, value):
        """``value`` with every secret replaced (longest first, so a secret inside another goes too)."""
        if isinstance(value, str):
            for secret in sorted(self._values, key=len, reverse=True):
                value = value.replace(secret, MASK)
            return value
        if isinstance(value, dict):
            return {self(k): self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        if value is not None and not isinstance(value, bool) and str(value) in self._values:
            return MASK  # a captured secret number
        return value
