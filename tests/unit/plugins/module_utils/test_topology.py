"""Slots as ports on every host or as host groups: which hosts run which slot, and the layouts refused."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils import topology
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

GROUP_SLOTS = {"blue": {"group": "app_blue", "port": 8000}, "green": {"group": "app_green", "port": 8000}}
GROUPS = {"all": ["b1", "b2", "g1", "g2", "lb"], "ungrouped": [], "app": ["b1", "b2", "g1", "g2"],
          "app_blue": ["b1", "b2"], "app_green": ["g1", "g2"], "router": ["lb"]}


def groups(**changes):
    found = dict(GROUPS)
    found.update(changes)
    return found


class TestSlotHosts:
    def test_ports_every_app_host_runs_every_slot(self):
        layout, hosts = topology.slot_hosts({"blue": {"port": 8001}, "green": {"port": 8002}}, ["a", "b"], {})
        assert layout == "ports" and hosts == {"blue": ["a", "b"], "green": ["a", "b"]}
        assert topology.slot_hosts(["blue", "green"], [], {}) == ("ports", {"blue": [], "green": []})

    def test_host_groups_each_slot_its_group_in_group_order(self):
        layout, hosts = topology.slot_hosts(GROUP_SLOTS, ["g2", "g1", "b1", "b2"], GROUPS)
        assert layout == "host_groups" and hosts == {"blue": ["b1", "b2"], "green": ["g1", "g2"]}


class TestBadLayouts:
    @pytest.mark.parametrize("slots, inventory, pattern", [
        ({"blue": {"group": "app_blue", "port": 8000}, "green": {"port": 8002}}, GROUPS,
         r"shipyard_slots. blue name a host group but green does not; give every slot a group"),
        ({"blue": {"group": "app_bleu", "port": 8000}, "green": {"group": "app_green", "port": 8000}}, GROUPS,
         r"slot blue's group 'app_bleu' .shipyard_slots. is not a group of the inventory .its groups: app, "
         r"app_blue, app_green, router."),
        (GROUP_SLOTS, groups(app_green=[]), r"slot green's group app_green .shipyard_slots. has no hosts"),
        (GROUP_SLOTS, groups(app_green=["g1", "g2", "b2"]),
         r"host b2 is in group app_blue .slot blue. and in group app_green .slot green.; the slots' groups must "
         r"not overlap"),
        ({"blue": {"group": "app", "port": 8000}, "green": {"group": "app", "port": 8001}}, GROUPS,
         r"slots blue and green .shipyard_slots. both use group app"),
        (GROUP_SLOTS, groups(app_green=["g1", "g2", "lb"]),
         r"host lb of group app_green .slot green. is not in the app group app .shipyard_app_group."),
        (GROUP_SLOTS, groups(app_green=["g1"]),
         r"app hosts g2 .group app. are in none of the slots' groups .app_blue, app_green."),
        ({"blue": {"group": ["app_blue"], "port": 8000}, "green": {"group": "app_green", "port": 8000}}, GROUPS,
         r"slot blue of slots .shipyard_slots. has group \['app_blue'\]; a group is the name of an inventory group"),
    ])
    def test_refused_before_anything_changes(self, slots, inventory, pattern):
        with pytest.raises(ConfigurationError, match=pattern):
            topology.slot_hosts(slots, ["b1", "b2", "g1", "g2"], inventory)
