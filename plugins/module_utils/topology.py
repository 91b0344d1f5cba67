# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which app hosts run which slot: the two topologies a deployment plan knows.

- ``ports``: every slot is a port on every app host (no slot of ``shipyard_slots`` names a group);
  a release goes onto every app host, on the idle slot's port.
- ``host_groups``: every slot is an inventory group of app hosts (``{blue: {group: app_blue, port:
  8000}, green: {group: app_green, port: 8000}}``); a release goes onto the idle slot's group only and
  traffic moves between the groups.

Bad layouts (a slot with a group next to one without, an unknown or empty group, a host in two
slots' groups, a group host outside the app group, an app host in no slot's group) are refused here,
before anything changes.  Pure: no Ansible, no I/O.
"""

from __future__ import annotations

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError

PORTS = "ports"
HOST_GROUPS = "host_groups"
TOPOLOGIES = (PORTS, HOST_GROUPS)


def slot_groups(slots):
    """``{slot: group}`` of ``shipyard_slots`` - empty when no slot names a group; a mix is an error."""
    if not isinstance(slots, dict):
        return {}
    named = {}
    for name, spec in slots.items():
        group = spec.get("group") if isinstance(spec, dict) else None
        if group in (None, ""):
            continue
        if not isinstance(group, str):
            raise ConfigurationError(
                "slot %s of slots (shipyard_slots) has group %r; a group is the name of an inventory group, "
                "for example %s: {group: app_%s, port: 8000}" % (name, group, name, name))
        named[str(name)] = group
    bare = [str(name) for name in slots if str(name) not in named]
    if named and bare:
        raise ConfigurationError(
            "slots (shipyard_slots) %s name a host group but %s do%s not; give every slot a group (host groups: "
            "{blue: {group: app_blue, port: 8000}, green: {group: app_green, port: 8000}}) or none (ports on every "
            "app host)" % (", ".join(named), ", ".join(bare), "es" if len(bare) == 1 else ""))
    return named


def _group_members(slot, group, groups):
    if group not in groups:
        raise ConfigurationError(
            "slot %s's group %r (shipyard_slots) is not a group of the inventory (its groups: %s); put the %s "
            "hosts in a group named %s" % (slot, group, ", ".join(sorted(
                g for g in groups if g not in ("all", "ungrouped"))) or "none", slot, group))
    members = list(groups[group])
    if not members:
        raise ConfigurationError(
            "slot %s's group %s (shipyard_slots) has no hosts; add the %s hosts to it in the inventory"
            % (slot, group, slot))
    return members


def slot_hosts(slots, app_hosts, groups, app_group="app"):
    """``(topology, {slot: [inventory names]})`` - the app hosts that run each slot.

    ``slots``: ``shipyard_slots``; ``app_hosts``: the app group's hosts in inventory order (empty when the
    caller plans without hosts: every slot then has none); ``groups``: the inventory's ``groups``.
    """
    names = [str(name) for name in slots] if isinstance(slots, (dict, list, tuple)) else []
    named = slot_groups(slots)
    if not named:
        return PORTS, {name: list(app_hosts) for name in names}
    if not app_hosts:
        return HOST_GROUPS, {name: [] for name in names}
    first_user = {}
    for slot in names:
        group = named[slot]
        if group in first_user:
            raise ConfigurationError(
                "slots %s and %s (shipyard_slots) both use group %s; each slot needs its own group of hosts"
                % (first_user[group], slot, group))
        first_user[group] = slot
    owners = {}
    table = {}
    for slot in names:
        group = named[slot]
        members = _group_members(slot, group, groups or {})
        for host in members:
            if host in owners:
                raise ConfigurationError(
                    "host %s is in group %s (slot %s) and in group %s (slot %s); the slots' groups must not "
                    "overlap - a host runs one slot" % (host, named[owners[host]], owners[host], group, slot))
            if host not in app_hosts:
                raise ConfigurationError(
                    "host %s of group %s (slot %s) is not in the app group %s (shipyard_app_group); add it to %s "
                    "or take it out of %s" % (host, group, slot, app_group, app_group, group))
            owners[host] = slot
        table[slot] = members
    stray = [host for host in app_hosts if host not in owners]
    if stray:
        raise ConfigurationError(
            "app hosts %s (group %s) are in none of the slots' groups (%s), so no release would reach them; put "
            "each in one of those groups or take it out of %s"
            % (", ".join(stray), app_group, ", ".join(named[s] for s in names), app_group))
    return HOST_GROUPS, table
