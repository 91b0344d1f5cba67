# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One exception hierarchy for the whole collection.

module_utils raise these; only a module's ``main()`` turns them into ``fail_json``.
Every message says what failed, with which input, and what to do next.
"""

from __future__ import annotations


class ShipyardError(Exception):
    """Base of every error this collection raises on purpose.

    ``details`` is a dictionary that a module may add to its failure result
    (never put a secret in it).
    """

    def __init__(self, message, **details):
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self):
        return self.message


class ConfigurationError(ShipyardError):
    """The options given cannot work together or name something that does not exist."""


class DependencyError(ShipyardError):
    """A Python library or external program the task needs is missing or unusable."""


class PostgresError(ShipyardError):
    """Talking to PostgreSQL failed (connect, query, or a client program)."""


class ToolVersionError(DependencyError):
    """No client program with a suitable version was found."""


class StorageError(ShipyardError):
    """Reading or writing a storage location (directory or S3) failed."""


class BackupError(ShipyardError):
    """Producing a backup failed; nothing was published."""


class IntegrityError(ShipyardError):
    """A backup does not match its manifest, or the manifest itself is unusable."""


class RestoreError(ShipyardError):
    """Restoring a backup failed."""


class MigrationError(ShipyardError):
    """A schema migration is unsafe to run, failed, or its history disagrees with the files."""


class HealthCheckError(ShipyardError):
    """One or more health check targets did not become healthy; ``details`` holds every result."""


class SmokeTestError(ShipyardError):
    """A smoke test step failed (an assertion, a capture, no answer); ``details`` holds every step's result."""


class AnalysisError(ShipyardError):
    """A canary analysis could not measure (metric source unreachable or misconfigured)."""


class RouterError(ShipyardError):
    """Reading or changing the traffic split of a router (HAProxy, nginx, ALB) failed."""


class HAProxyAPIError(ShipyardError):
    """HAProxy's runtime API could not be reached or gave an answer we cannot use."""


class EvidenceError(ShipyardError):
    """Release evidence (test, coverage, audit, lint reports, changelog) cannot be read or judged."""


class RolloutError(ShipyardError):
    """A rollout stopped: rolled back, held, or failed before traffic moved (details say which)."""
