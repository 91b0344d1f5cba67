"""Steps of a rollout: strategies, per-step overrides, bad input."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.steps import Step, plan_steps


def test_canary_steps_get_the_defaults_and_their_overrides():
    steps = plan_steps("canary", [5, {"percent": 25, "min_duration": 5, "pause": 1}, 100], 30)
    assert steps == [Step(5, 30.0, 60.0, 0.0), Step(25, 5.0, 60.0, 1.0), Step(100, 30.0, 60.0, 0.0)]


def test_bluegreen_and_direct_are_one_step():
    assert plan_steps("bluegreen", [5, 100], 30) == [Step(100)]
    assert plan_steps("direct", None, 30) == [Step(100)]


@pytest.mark.parametrize("steps, message", [
    ([], "steps is empty"),
    ([5, 50], "must end with 100"),
    ([50, 25, 100], "must rise"),
    ([5, 5, 100], "must rise"),
    ([0, 100], "whole number from 1 to 100"),
    ([5.5, 100], "whole number from 1 to 100"),
    ([True, 100], "whole number from 1 to 100"),
    (["x", 100], "whole number from 1 to 100"),
    ([{"percent": 5, "min_duration": 10, "max_duration": 5}, 100], "max_duration 5 is below"),
    ([{"percent": 5, "wait": 3}, 100], "unknown key wait"),
    ([{"percent": 5, "min_duration": float("inf")}, 100], "finite number of seconds"),
])
def test_bad_steps_are_refused(steps, message):
    with pytest.raises(ConfigurationError, match=message):
        plan_steps("canary", steps, 30)


def test_bad_strategy_and_durations():
    with pytest.raises(ConfigurationError, match="strategy must be one of"):
        plan_steps("rolling", [100], 30)
    with pytest.raises(ConfigurationError, match="step_min_duration"):
        plan_steps("canary", [100], -1)
    with pytest.raises(ConfigurationError, match="step_min_duration"):
        plan_steps("canary", [100], float("nan"))
