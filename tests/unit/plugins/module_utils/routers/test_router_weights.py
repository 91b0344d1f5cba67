"""Weights arithmetic and validation of the Router interface (pure logic)."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RouterError
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import (
    Router,
    Split,
    active_slot,
    member_weights,
    normalise_slots,
    requested_weights,
    split_percent,
    switch,
)

SLOTS = ["blue", "green"]


def test_weights_are_validated_and_missing_slots_get_zero():
    assert requested_weights({"blue": 95, "green": 5}, None, SLOTS) == {"blue": 95, "green": 5}
    assert requested_weights({"green": 100}, None, SLOTS) == {"blue": 0, "green": 100}
    assert requested_weights({"blue": "70", "green": 30.0}, None, SLOTS) == {"blue": 70, "green": 30}
    assert requested_weights(None, "green", SLOTS) == {"blue": 0, "green": 100}


@pytest.mark.parametrize("weights, active, message", [
    ({"blue": 90, "green": 5}, None, "sum to 95, not 100"),
    ({"blue": 90, "red": 10}, None, "unknown slot 'red'"),
    ({"blue": 101, "green": -1}, None, "whole percentages from 0 to 100"),
    ({"blue": 99.5, "green": 0.5}, None, "whole percentages"),
    ({"blue": "lots"}, None, "not a number"),
    (None, "red", "active slot 'red' is not one of"),
    ({"blue": 100}, "blue", "exactly one of weights"),
    (None, None, "exactly one of weights"),
    ({}, None, "weights is empty"),
])
def test_bad_weights_fail_with_a_message_that_says_what_to_fix(weights, active, message):
    with pytest.raises(ConfigurationError, match=message):
        requested_weights(weights, active, SLOTS)


def test_one_server_per_slot_weight_equals_percent():
    assert member_weights({"blue": 95, "green": 5}, {"blue": 1, "green": 1}, 256) == {"blue": 95, "green": 5}
    assert member_weights({"blue": 0, "green": 100}, {"blue": 1, "green": 1}, 256) == {"blue": 0, "green": 100}


def test_uneven_slots_keep_the_exact_percentages():
    weights = member_weights({"blue": 95, "green": 5}, {"blue": 2, "green": 1}, 256)
    assert weights == {"blue": 95, "green": 10}
    assert split_percent({"blue": [95, 95], "green": [10]}) == {"blue": 95, "green": 5}


def _percent(weights, sizes):
    return split_percent({slot: [w] * sizes[slot] for slot, w in weights.items()})


@pytest.mark.parametrize("sizes", [{"blue": 1, "green": 1}, {"blue": 2, "green": 1}, {"blue": 3, "green": 2},
                                   {"blue": 4, "green": 4}, {"blue": 7, "green": 11}])
def test_every_split_maps_within_half_a_percent_and_within_haproxy_range(sizes):
    for blue in range(0, 101):
        percent = {"blue": blue, "green": 100 - blue}
        weights = member_weights(percent, sizes, 256)
        assert all(0 <= w <= 256 for w in weights.values())
        assert all((w == 0) == (percent[s] == 0) for s, w in weights.items())  # 0 % and only 0 % is off
        effective = _percent(weights, sizes)
        assert all(abs(effective[s] - percent[s]) <= 0.5 for s in percent), (percent, weights, effective)


def test_exact_whenever_whole_weights_exist():
    for sizes in ({"blue": 1, "green": 1}, {"blue": 2, "green": 2}, {"blue": 2, "green": 1}):
        for blue in range(101):
            percent = {"blue": blue, "green": 100 - blue}
            assert _percent(member_weights(percent, sizes, 256), sizes) == percent


def test_three_slots():
    percent = {"a": 50, "b": 30, "c": 20}
    sizes = {"a": 1, "b": 1, "c": 1}
    assert _percent(member_weights(percent, sizes, 256), sizes) == percent


def test_split_percent_and_active_slot():
    assert split_percent({"blue": [0, 0], "green": [0]}) == {"blue": 0, "green": 0}
    assert split_percent({"blue": [1], "green": [2]}) == {"blue": 33.33, "green": 66.67}
    assert active_slot({"blue": 0, "green": 100}) == "green"
    assert active_slot({"blue": 50, "green": 50}) is None


def test_slots_option_normalised_and_members_unique():
    assert normalise_slots({"blue": "tg-1", "green": ["tg-2"]}) == {"blue": ["tg-1"], "green": ["tg-2"]}
    assert normalise_slots(None) is None
    with pytest.raises(ConfigurationError, match="both slot blue and slot green"):
        normalise_slots({"blue": ["a:1"], "green": ["a:1"]})
    with pytest.raises(ConfigurationError, match="non-empty list"):
        normalise_slots({"blue": []})


class MemoryRouter(Router):
    """A router in memory: one member per slot, weights = percent; optionally drops writes."""

    driver = "memory"

    def __init__(self, weights, lossy=False, unhealthy=()):
        self.weights = dict(weights)
        self.lossy = lossy
        self.unhealthy = set(unhealthy)
        self.writes = 0

    def slots(self):
        return {slot: [slot + "_1"] for slot in self.weights}

    def _split(self, weights):
        members = {s: [{"name": s + "_1", "weight": w}] for s, w in weights.items()}
        return Split(split_percent({s: [w] for s, w in weights.items()}), members, tuple(sorted(weights.items())))

    def read(self):
        return self._split(self.weights)

    def plan(self, percent, before):
        return self._split(percent)

    def apply(self, target, before):
        self.writes += 1
        if not self.lossy:
            self.weights = dict(target.percent)
        return {"warnings": ["note"]}

    def unready_slots(self, slots):
        return [s for s in slots if s in self.unhealthy]


def test_switch_changes_reads_back_and_is_idempotent():
    router = MemoryRouter({"blue": 100, "green": 0})
    result = switch(router, {"blue": 90, "green": 10}, diff_mode=True)
    assert result["changed"] and result["after"]["weights"] == {"blue": 90, "green": 10}
    assert result["before"]["active"] == "blue" and result["after"]["active"] is None
    assert "green: 10%" in result["diff"]["after"] and result["warnings"] == ["note"]
    again = switch(router, {"blue": 90, "green": 10})
    assert not again["changed"] and router.writes == 1


def test_check_mode_predicts_without_writing():
    router = MemoryRouter({"blue": 100, "green": 0})
    result = switch(router, {"blue": 0, "green": 100}, check_mode=True)
    assert result["changed"] and result["after"]["active"] == "green"
    assert router.writes == 0 and router.weights == {"blue": 100, "green": 0}


def test_a_write_that_did_not_take_fails():
    router = MemoryRouter({"blue": 100, "green": 0}, lossy=True)
    with pytest.raises(RouterError, match="did not take the new weights"):
        switch(router, {"blue": 50, "green": 50})


def test_growing_an_unhealthy_slot_is_refused_before_any_write():
    router = MemoryRouter({"blue": 100, "green": 0}, unhealthy={"green"})
    with pytest.raises(RouterError, match="refusing to shift traffic to slot"):
        switch(router, {"blue": 50, "green": 50})
    assert router.writes == 0
    # shrinking it, or overriding, is allowed
    switch(router, {"blue": 50, "green": 50}, require_healthy=False)
    assert switch(router, {"blue": 100, "green": 0})["changed"]


def test_all_combinations_of_two_slots_sum_to_one_hundred():
    for blue, green in itertools.product(range(0, 101, 5), repeat=2):
        if blue + green == 100:
            assert sum(requested_weights({"blue": blue, "green": green}, None, SLOTS).values()) == 100
