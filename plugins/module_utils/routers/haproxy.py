# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy driver: weights through the runtime API, never a config rewrite or restart.

A slot at 0 % has its servers set to weight 0 and ``state drain`` (no new requests; requests in
flight finish); a slot above 0 % gets its weights and ``state ready``.  Servers that gain traffic
are changed before those that lose it, all in ONE runtime API connection, so the backend never
has zero total weight.  After the change the weights are read back, and ``show servers state``
is written to the server-state file (atomically) so that a reload of HAProxy with
``load-server-state-from-file`` keeps the split instead of returning to the config's weights.
"""

from __future__ import annotations

import os
import re
import tempfile
import time

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    HAProxyAPIError,
    RouterError,
)

# one runtime API client for the collection (module_utils/haproxy_api.py), shared with the canary analysis
from ansible_collections.shipyard.deploy.plugins.module_utils.haproxy_api import RuntimeAPI, parse_show_stat
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import (
    Router,
    Split,
    member_weights,
    split_percent,
)

MAX_WEIGHT = 256
# srv_admin_state bits (HAProxy src/server.h): forced/inherited/config/resolution/hostname maintenance, drain
ADMIN_MAINT = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
ADMIN_DRAIN = 0x08 | 0x10
OP_STATES = {0: "down", 1: "starting", 2: "up", 3: "stopping"}


class RuntimeApi(RuntimeAPI):
    """The shared runtime API client (one connection per batch of commands), failing as RouterError."""

    def __init__(self, address, timeout=10.0):
        try:
            super().__init__(address, timeout)
        except ConfigurationError:
            raise ConfigurationError(
                "haproxy_socket %r is neither a unix socket path (/run/haproxy/admin.sock) nor host:port of a "
                "TCP 'stats socket'" % address
            ) from None

    def execute(self, *commands):
        """Run ``commands`` in one connection (joined with ';' as the runtime API allows); return the answer."""
        try:
            text = self.command("; ".join(commands))
        except HAProxyAPIError as exc:
            raise RouterError(exc.message + " (haproxy_socket; it needs 'level admin')") from None
        if "Permission denied" in text:
            raise RouterError(
                "the HAProxy runtime API at %s refused %r: permission denied; the stats socket needs "
                "'level admin'" % (self.address, commands[0])
            )
        return text


# HAProxy's own rule for proxy and server names; anything else (a ';' or a newline above all) would
# be read by the runtime API as a second command.
HAPROXY_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]+$")


def check_haproxy_name(option, name):
    """Refuse a backend or server name HAProxy could not have (and that would inject a command)."""
    if not HAPROXY_NAME_RE.match(name or ""):
        raise ConfigurationError(
            "%s %r is not an HAProxy name (letters, digits, '-', '_', '.', ':'); give the name as written "
            "in haproxy.cfg" % (option, name), option=option)


def parse_servers_state(text, backend):
    """Rows of ``show servers state`` for ``backend``: [{name, address, port, op_state, admin_state, weight}]."""
    rows = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 19 or line.startswith("#") or fields[1] != backend:
            continue
        rows.append({"name": fields[3], "address": fields[4], "port": fields[18],
                     "op_state": int(fields[5]), "admin_state": int(fields[6]), "weight": int(fields[7])})
    return rows


def admin_state_name(admin_state):
    """'maint', 'drain' or 'ready' for an srv_admin_state bit field."""
    if admin_state & ADMIN_MAINT:
        return "maint"
    if admin_state & ADMIN_DRAIN:
        return "drain"
    return "ready"


def slots_by_prefix(names):
    """Group server names by the part before their first '_' or '-' (``blue_1`` -> ``blue``)."""
    slots = {}
    for name in names:
        slot = re.split(r"[_-]", name, maxsplit=1)[0]
        slots.setdefault(slot, []).append(name)
    return slots


class HAProxyRouter(Router):
    """Servers of one HAProxy backend grouped into slots (``slots`` option, or by name prefix)."""

    driver = "haproxy"

    def __init__(self, socket_address, backend, slots=None, state_file=None, drain_timeout=0.0, timeout=10.0):
        if not socket_address:
            raise ConfigurationError("driver haproxy needs haproxy_socket (unix path or host:port of the runtime API)")
        if not backend:
            raise ConfigurationError("driver haproxy needs haproxy_backend, the backend whose servers form the slots")
        check_haproxy_name("haproxy_backend", backend)
        for slot, members in (slots or {}).items():
            for member in members:
                check_haproxy_name("slots.%s" % slot, member)
        self.api = RuntimeApi(socket_address, timeout)
        self.backend = backend
        self.given_slots = slots
        self.state_file = state_file
        self.drain_timeout = drain_timeout or 0.0
        self._slots = None
        self._last_rows = None
        # the 'show servers state' dump taken right after a write (to save it) doubles as the read-back
        self._fresh_dump = None

    def _rows(self):
        text, self._fresh_dump = self._fresh_dump, None
        if text is None:
            text = self.api.execute("show servers state %s" % self.backend)
        rows = parse_servers_state(text, self.backend)
        if not rows:
            raise RouterError(
                "HAProxy backend %r has no servers or does not exist (runtime API said: %s); check haproxy_backend"
                % (self.backend, text.strip().splitlines()[-1] if text.strip() else "nothing")
            )
        return rows

    def slots(self):
        """{slot: [server name]}: the ``slots`` option checked against the backend, or grouped by prefix."""
        if self._slots is None:
            names = [row["name"] for row in self._rows()]
            if self.given_slots:
                for slot, members in self.given_slots.items():
                    missing = [m for m in members if m not in names]
                    if missing:
                        raise ConfigurationError(
                            "slot %s names server(s) %s that backend %s does not have; its servers are %s"
                            % (slot, ", ".join(missing), self.backend, ", ".join(names))
                        )
                self._slots = dict(self.given_slots)
            else:
                self._slots = slots_by_prefix(names)
        return self._slots

    def read(self):
        """Current weights and states of the backend's servers, as a :class:`Split`."""
        self._last_rows = self._rows()
        rows = {row["name"]: row for row in self._last_rows}
        members, effective, key = {}, {}, {}
        for slot, names in self.slots().items():
            members[slot], effective[slot] = [], []
            for name in names:
                row = rows.get(name)
                if row is None:
                    raise RouterError("server %s of slot %s disappeared from backend %s" % (name, slot, self.backend))
                state = admin_state_name(row["admin_state"])
                members[slot].append({"name": name, "address": "%s:%s" % (row["address"], row["port"]),
                                      "weight": row["weight"], "state": state,
                                      "operational": OP_STATES.get(row["op_state"], str(row["op_state"]))})
                effective[slot].append(row["weight"] if state == "ready" else 0)
                key[name] = (row["weight"], state)
        return Split(split_percent(effective), members, key)

    def plan(self, percent, before):
        """Weights per server for ``percent`` (see routers/base.py for the mapping onto 0..256)."""
        slots = self.slots()
        weights = member_weights(percent, {s: len(m) for s, m in slots.items()}, MAX_WEIGHT)
        members, effective, key = {}, {}, {}
        for slot in slots:
            weight = weights[slot]
            state = "ready" if weight else "drain"
            members[slot], effective[slot] = [], []
            for old in before.members[slot]:
                keep_maint = old["state"] == "maint"  # someone else's maintenance is not ours to lift
                member_state = "maint" if keep_maint else state
                members[slot].append(dict(old, weight=weight, state=member_state))
                effective[slot].append(weight if member_state == "ready" else 0)
                key[old["name"]] = (weight, member_state)
        return Split(split_percent(effective), members, key)

    def unready_slots(self, slots):
        """Those of ``slots`` with no server that is up and not in maintenance (as of the last read)."""
        rows = self._last_rows or self._rows()
        bad = []
        for slot in slots:
            names = set(self.slots()[slot])
            if not any(r["name"] in names and r["op_state"] == 2 and not r["admin_state"] & ADMIN_MAINT for r in rows):
                bad.append(slot)
        return bad

    def apply(self, target, before):
        """One runtime API batch (gaining servers first, drained ones last); then persist and wait for the drain."""
        old = {m["name"]: m for ms in before.members.values() for m in ms}
        # order: servers whose effective weight grows, then those that shrink but stay, then those
        # taken out - so the backend's total effective weight never drops to zero mid-batch
        gaining, shrinking, losing, drained = [], [], [], []
        for members in target.members.values():
            for member in members:
                name, previous = member["name"], old[member["name"]]
                ref = "%s/%s" % (self.backend, name)
                if member["state"] == "drain":
                    if previous["weight"]:
                        losing.append("set server %s weight 0" % ref)
                    if previous["state"] != "drain":
                        losing.append("set server %s state drain" % ref)
                        drained.append(name)
                    continue
                cmds = []
                if previous["weight"] != member["weight"]:
                    cmds.append("set server %s weight %d" % (ref, member["weight"]))
                if previous["state"] == "drain" and member["state"] == "ready":
                    cmds.append("set server %s state ready" % ref)
                was = previous["weight"] if previous["state"] == "ready" else 0
                now = member["weight"] if member["state"] == "ready" else 0
                (gaining if now >= was else shrinking).extend(cmds)
        commands = gaining + shrinking + losing
        if commands:
            answer = self.api.execute(*commands)
            if answer.strip():
                raise RouterError(
                    "HAProxy refused part of the weight change on backend %s: %s (commands: %s); read the "
                    "current split with traffic_info before retrying"
                    % (self.backend, answer.strip(), "; ".join(commands))
                )
        result = {"commands": commands}
        if self.state_file:
            self.save_state()
            result["state_file"] = self.state_file
        else:
            result["warnings"] = ["haproxy_state_file is not set: a reload of HAProxy will reset these weights "
                                  "to the ones in haproxy.cfg"]
        if drained and self.drain_timeout > 0:
            result["drain"] = self.wait_drained(drained)
            if not result["drain"]["complete"]:
                result.setdefault("warnings", []).append(
                    "servers %s still had sessions after %.0fs of draining; they get no new requests"
                    % (", ".join(n for n, c in result["drain"]["sessions"].items() if c), self.drain_timeout))
        return result

    # --- member operations (routers/members.py) -------------------------------------------
    def read_members(self, slot=None):
        """{server: {name, slot, state (ready/drain/maint), weight, address, operational}} of the backend."""
        slots = self.slots()
        if slot is not None and slot not in slots:
            raise ConfigurationError("slot %r is not one of the backend's slots %s" % (slot, ", ".join(slots)))
        split = self.read()
        return {member["name"]: dict(member, slot=name) for name, members in split.members.items()
                if slot is None or name == slot for member in members}

    def member_target(self, row, operation):
        """enabled -> ready; at weight 0 (its slot at 0 %) out of maint into drain, as traffic_switch leaves it.

        drained and maintenance -> maint.
        """
        if operation != "enabled":
            return "maint"
        if row["weight"]:
            return "ready"
        return "drain" if row["state"] == "maint" else row["state"]

    def member_serving(self, row):
        """Ready, with a weight, and not marked down by a health check."""
        return row["state"] == "ready" and row["weight"] > 0 and row.get("operational") != "down"

    def apply_members(self, changes, operation, drain_timeout):
        """``set server ... state``; for ``drained``: drain, wait for sessions to end, then maint; save state."""
        first, then, draining = [], [], []
        for name, (row, target) in changes.items():
            ref = "%s/%s" % (self.backend, name)
            if target == "maint" and operation == "drained":
                if row["state"] != "drain":
                    first.append("set server %s state drain" % ref)
                draining.append(name)
                then.append("set server %s state maint" % ref)
            else:
                first.append("set server %s state %s" % (ref, target))
        result = {"commands": first + then}
        if first:
            self._execute_checked(first)
        if draining:
            result["drain"] = self.wait_drained(draining, drain_timeout)
            if not result["drain"]["complete"]:
                result["warnings"] = [
                    "servers %s still had sessions after %.0fs of draining; they were put in maintenance anyway"
                    % (", ".join(n for n, c in result["drain"]["sessions"].items() if c), drain_timeout)]
        if then:
            self._execute_checked(then)
        if self.state_file:
            self.save_state()
            result["state_file"] = self.state_file
        else:
            result.setdefault("warnings", []).append(
                "haproxy_state_file is not set: a reload of HAProxy will bring these servers back to the "
                "state of haproxy.cfg")
        return result

    def _execute_checked(self, commands):
        answer = self.api.execute(*commands)
        if answer.strip():
            raise RouterError("HAProxy refused %s on backend %s: %s; read the servers' states with traffic_info"
                              % ("; ".join(commands), self.backend, answer.strip()))

    def save_state(self):
        """Write ``show servers state`` (every backend) to the server-state file, atomically."""
        text = self.api.execute("show servers state")
        self._fresh_dump = text
        directory = os.path.dirname(os.path.abspath(self.state_file))
        try:
            fd, tmp = tempfile.mkstemp(prefix=".server-state-", dir=directory)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            if os.path.exists(self.state_file):
                os.chmod(tmp, os.stat(self.state_file).st_mode & 0o7777)
            else:
                os.chmod(tmp, 0o644)
            os.replace(tmp, self.state_file)
        except OSError as exc:
            raise RouterError(
                "the weights are live, but saving them to haproxy_state_file %s failed (%s); a reload of "
                "HAProxy would reset them - fix the path or permissions and run the task again"
                % (self.state_file, exc)
            ) from None

    def sessions(self):
        """{server name: current sessions} of the backend (``show stat``, column scur)."""
        try:
            rows = parse_show_stat(self.api.execute("show stat"))
        except HAProxyAPIError as exc:
            raise RouterError(exc.message) from None
        return {row["svname"]: int(row.get("scur") or 0) for row in rows
                if row.get("pxname") == self.backend and row.get("svname") not in ("FRONTEND", "BACKEND")}

    def wait_drained(self, names, timeout=None):
        """Poll until ``names`` have no sessions or ``timeout`` (default drain_timeout) passes.

        Returns {complete, sessions, waited_s}.
        """
        timeout = self.drain_timeout if timeout is None else timeout
        started = time.monotonic()
        while True:
            current = self.sessions()
            remaining = {name: current.get(name, 0) for name in names}
            waited = time.monotonic() - started
            if not any(remaining.values()) or waited >= timeout:
                return {"complete": not any(remaining.values()), "sessions": remaining, "waited_s": round(waited, 3)}
            time.sleep(0.1)
