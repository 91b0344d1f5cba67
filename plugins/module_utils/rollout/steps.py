# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The traffic progression of a rollout: which percentages, how long each is watched."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

STRATEGIES = ("direct", "bluegreen", "canary")
ON_INCONCLUSIVE = ("rollback", "hold", "promote")


@dataclass
class Step:
    """One canary step: ``percent`` on the new slot for ``min_duration``..``max_duration`` seconds."""

    percent: int
    min_duration: float = 0.0
    max_duration: float = 0.0
    pause: float = 0.0

    def as_dict(self):
        return asdict(self)


def seconds(name, value, minimum=0.0):
    """``value`` as finite seconds of at least ``minimum``; ConfigurationError naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError("%s must be a number of seconds, not %r" % (name, value)) from None
    if isinstance(value, bool) or not math.isfinite(number) or number < minimum:
        raise ConfigurationError("%s must be a finite number of seconds of at least %g, not %r"
                                 % (name, minimum, value))
    return number


def plan_steps(strategy, steps, min_duration, max_duration=None, pause=0.0):
    """The list of :class:`Step` for ``strategy``; every canary step below 100 is watched.

    ``steps`` items are percentages or ``{percent, min_duration, max_duration, pause}`` dicts; the
    other arguments are the defaults of each step.  ``max_duration`` defaults to twice the minimum.
    """
    if strategy not in STRATEGIES:
        raise ConfigurationError("strategy must be one of %s, not %r" % (", ".join(STRATEGIES), strategy))
    min_duration = seconds("step_min_duration", min_duration)
    max_duration = 2 * min_duration if max_duration is None else seconds("step_max_duration", max_duration)
    pause = seconds("pause", pause or 0.0)
    if strategy != "canary":
        return [Step(100)]
    if not steps:
        raise ConfigurationError("steps is empty; give the canary percentages, e.g. [5, 25, 50, 100]")
    planned = []
    for index, item in enumerate(steps):
        spec = dict(item) if isinstance(item, dict) else {"percent": item}
        unknown = sorted(set(spec) - {"percent", "min_duration", "max_duration", "pause"})
        if unknown:
            raise ConfigurationError("steps[%d] has unknown key %s; a step has percent, min_duration, max_duration "
                                     "and pause" % (index, ", ".join(unknown)))
        percent = spec.get("percent")
        if isinstance(percent, bool) or not isinstance(percent, (int, float, str)):
            raise ConfigurationError("steps[%d].percent must be a whole number from 1 to 100, not %r"
                                     % (index, percent))
        try:
            number = float(percent)
        except ValueError:
            raise ConfigurationError("steps[%d].percent must be a whole number from 1 to 100, not %r"
                                     % (index, percent)) from None
        if not math.isfinite(number) or number != int(number) or not 1 <= number <= 100:
            raise ConfigurationError("steps[%d].percent must be a whole number from 1 to 100, not %r"
                                     % (index, percent))
        low = seconds("steps[%d].min_duration" % index, spec.get("min_duration", min_duration))
        high = spec.get("max_duration")
        high = max(max_duration, low) if high is None else seconds("steps[%d].max_duration" % index, high)
        if high < low:
            raise ConfigurationError("steps[%d]: max_duration %g is below min_duration %g" % (index, high, low))
        planned.append(Step(int(number), low, high, seconds("steps[%d].pause" % index, spec.get("pause", pause))))
    percents = [s.percent for s in planned]
    if percents != sorted(set(percents)):
        raise ConfigurationError("steps must rise, each percentage once: %s" % percents)
    if percents[-1] != 100:
        raise ConfigurationError("steps must end with 100 (all traffic on the new slot): %s" % percents)
    return planned
