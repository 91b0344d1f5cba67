# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evidence policy: which rules apply, their thresholds, and whether a failed rule blocks or warns.

``enforce`` is the default of every rule: ``block`` (a failed rule refuses the deployment),
``warn`` (it is reported, the deployment goes on) or ``off``; ``auto`` means ``block`` in
production, ``warn`` in staging and ``off`` elsewhere.  Each rule may set its own ``enforce``,
so production can block on tests and warn on coverage.
"""

from __future__ import annotations

import copy

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.audit import SEVERITIES

ENFORCE_CHOICES = ("block", "warn", "off")
AUTO_ENFORCEMENT = {"production": "block", "staging": "warn"}
# The rules in the order a report lists them.
RULES = ("provenance", "files", "tests", "coverage", "audit", "lint", "changelog", "version")
DEFAULT_POLICY = {
    "provenance": {"enforce": None},
    "files": {"enforce": None},
    "tests": {"enforce": None, "min_tests": 1, "max_failures": 0, "skipped_need_reason": True},
    "coverage": {"enforce": None, "min_line": 80.0, "min_branch": None},
    "audit": {"enforce": None, "block_severity": "high", "unknown_severity": "high"},
    "lint": {"enforce": None, "max_errors": 0, "max_warnings": None},
    "changelog": {"enforce": None},
    "version": {"enforce": None},
}
_NUMBERS = {("tests", "min_tests"): int, ("tests", "max_failures"): int, ("coverage", "min_line"): float,
            ("coverage", "min_branch"): float, ("lint", "max_errors"): int, ("lint", "max_warnings"): int}


def resolve_enforcement(enforce, environment):
    """``block``, ``warn`` or ``off`` for the module's ``enforce`` option in ``environment``."""
    if enforce in (None, "", "auto"):
        return AUTO_ENFORCEMENT.get(str(environment or "").strip().lower(), "off")
    if enforce not in ENFORCE_CHOICES:
        raise ConfigurationError("enforce %r is not one of auto, %s" % (enforce, ", ".join(ENFORCE_CHOICES)))
    return enforce


def merge_policy(overrides, enforce):
    """The full policy: DEFAULT_POLICY with ``overrides`` applied and every rule's enforcement set.

    Unknown rules or settings are refused (a typo must not silently loosen the gate).
    """
    policy = copy.deepcopy(DEFAULT_POLICY)
    for rule, settings in (overrides or {}).items():
        if rule not in policy:
            raise ConfigurationError("policy has an unknown rule %r; the rules are %s" % (rule, ", ".join(RULES)))
        if not isinstance(settings, dict):
            raise ConfigurationError("policy.%s must be a mapping of settings, got %r" % (rule, settings))
        for key, value in settings.items():
            if key not in policy[rule]:
                raise ConfigurationError("policy.%s has an unknown setting %r; it has %s"
                                         % (rule, key, ", ".join(sorted(policy[rule]))))
            policy[rule][key] = _check_value(rule, key, value)
    for settings in policy.values():
        if settings["enforce"] is None:
            settings["enforce"] = enforce
    return policy


def _check_value(rule, key, value):
    if value is None:
        return None
    if key == "enforce":
        if value not in ENFORCE_CHOICES:
            raise ConfigurationError("policy.%s.enforce %r is not one of %s"
                                     % (rule, value, ", ".join(ENFORCE_CHOICES)))
        return value
    if key in ("block_severity", "unknown_severity"):
        text = str(value).lower()
        allowed = SEVERITIES + (("ignore",) if key == "unknown_severity" else ())
        if text not in allowed:
            raise ConfigurationError("policy.audit.%s %r is not one of %s" % (key, value, ", ".join(allowed)))
        return text
    if key == "skipped_need_reason":
        if not isinstance(value, bool):
            raise ConfigurationError("policy.tests.skipped_need_reason must be true or false, got %r" % (value,))
        return value
    kind = _NUMBERS[(rule, key)]
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigurationError("policy.%s.%s must be a number, got %r" % (rule, key, value)) from None
    if number < 0 or (rule == "coverage" and number > 100):
        raise ConfigurationError("policy.%s.%s %r is out of range" % (rule, key, value))
    return number


def verdict(results):
    """``blocked`` when a blocking rule failed, ``warn`` when only warning rules did, else ``pass``."""
    outcomes = {r["result"] for r in results}
    if "block" in outcomes:
        return "blocked"
    if "warn" in outcomes:
        return "warn"
    return "pass"
