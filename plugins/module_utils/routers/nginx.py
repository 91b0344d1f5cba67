# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx driver: the upstream of the slots lives in an include file that this driver owns.

A switch writes the new ``upstream`` block (weights; ``down`` for a slot at 0 %), checks the
whole configuration with ``nginx -t``, and reloads gracefully (``nginx -s reload``: new workers
take new connections, old ones finish their requests).  If ``nginx -t`` rejects the candidate, or
the master does not start new workers, the previous include file is put back, so the file always
describes what nginx serves.  Reading the split back parses the include file.

Member operations (routers/members.py) mark single servers ``down`` in the same file and list them
on a ``# members in maintenance:`` line, so that a later switch keeps them down (their weight
stays on the line, ready for when they are enabled again); the file is written, tested and
reloaded the same way, and a drain waits for the old workers to finish their requests.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, RouterError
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import (
    Router,
    Split,
    member_weights,
    split_percent,
)

MAX_WEIGHT = 256
HEADER = "# Managed by shipyard.deploy.traffic_switch; edits here are overwritten by the next switch.\n"
_SERVER = re.compile(r"^server\s+(\S+)\s*(.*)$", re.S)
_WEIGHTS_LINE = re.compile(r"^# weight of each server, by slot: (.*)$", re.M)
_MAINTENANCE_LINE = re.compile(r"^# members in maintenance: (.*)$", re.M)


def _strip_comments(text):
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def parse_upstream(text, name):
    """The ``upstream <name> { ... }`` block of ``text``: ([(address, weight, down, options)], [directives]).

    ``weight`` is nginx's default 1 when absent; ``options`` are the server's other parameters.
    Raises RouterError when the block is missing.
    """
    body = _strip_comments(text)
    match = re.search(r"\bupstream\s+%s\s*\{([^}]*)\}" % re.escape(name), body)
    if not match:
        raise RouterError("no 'upstream %s { ... }' block in the nginx include file; check nginx_upstream" % name)
    servers, directives = [], []
    for statement in match.group(1).split(";"):
        statement = " ".join(statement.split())
        if not statement:
            continue
        server = _SERVER.match(statement)
        if not server:
            directives.append(statement)
            continue
        weight, down, options = 1, False, []
        for param in server.group(2).split():
            if param.startswith("weight="):
                weight = int(param.split("=", 1)[1])
            elif param == "down":
                down = True
            else:
                options.append(param)
        servers.append((server.group(1), weight, down, " ".join(options)))
    return servers, directives


# What may go into the generated upstream block. Each option is one directive or parameter list:
# no ';', braces, quotes, '#' or line breaks, which would end it and start another (a whole
# server block could be injected through one list item).
NGINX_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
NGINX_PARAMS_RE = re.compile(r"^[A-Za-z0-9_.:=/ -]*$")
NGINX_DIRECTIVE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*( [A-Za-z0-9_.:=/$-]+)*$")
NGINX_ADDRESS_RE = re.compile(r"^(unix:/[^\s;{}#'\"]+|\[?[A-Za-z0-9_.:-]+\]?(:\d+)?)$")


def check_nginx_text(option, text, pattern):
    """Refuse text that would not stay one directive, name or address in the upstream block."""
    text = str(text)
    if any(c in text for c in "\r\n\t\x0b\x0c") or not pattern.match(text.strip()):
        raise ConfigurationError(
            "%s %r cannot go into an nginx upstream block: only one directive, name or address per item, "
            "without ';', braces, quotes, '#' or line breaks; fix the value" % (option, text), option=option)


def _header_json(pattern, text):
    match = pattern.search(text)
    if not match:
        return None
    try:
        return json.loads(match.group(1))
    except ValueError:
        raise RouterError("the nginx include file has a damaged line %r; it is written by this driver - "
                          "remove the line or the file and switch again" % match.group(0)) from None


def parse_maintenance(text):
    """Addresses the include file lists as in maintenance (member operations), in file order."""
    return [str(a) for a in _header_json(_MAINTENANCE_LINE, text) or []]


def render_upstream(name, slots, weights, server_options="", upstream_options=(), maintenance=()):
    """The include file for {slot: [address]} and {slot: member weight} (0 -> ``down``).

    Addresses in ``maintenance`` are ``down`` too, keeping their slot's weight on the line.
    """
    lines = [HEADER.rstrip("\n"),
             "# weight of each server, by slot: %s" % json.dumps(weights, sort_keys=True)]
    maintenance = [a for addresses in slots.values() for a in addresses if a in set(maintenance)]
    if maintenance:
        lines.append("# members in maintenance: %s" % json.dumps(maintenance))
    lines.append("upstream %s {" % name)
    for slot, addresses in slots.items():
        for address in addresses:
            params = ["weight=%d" % weights[slot]] if weights[slot] else []
            if not weights[slot] or address in maintenance:
                params.append("down")
            if server_options.strip():
                params.append(" ".join(server_options.split()))
            lines.append("    server %s %s;  # slot=%s" % (address, " ".join(params), slot))
    for option in upstream_options:
        lines.append("    %s;" % option.strip().rstrip(";"))
    lines.append("}")
    return "\n".join(lines) + "\n"


def child_pids(parent):
    """Pids whose parent is ``parent`` (the workers of an nginx master), read from /proc."""
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:  # ppid follows the "(comm)" field
            pids.add(int(entry))
    return pids


def _write_atomic(path, text, mode=None):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".shipyard-", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode if mode is not None else 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class NginxRouter(Router):
    """Slots of ``host:port`` addresses in one nginx upstream, kept in ``include`` (see module docstring)."""

    driver = "nginx"

    def __init__(self, include, slots, upstream="app", config="/etc/nginx/nginx.conf", binary="nginx",
                 pid_file="/run/nginx.pid", server_options="", upstream_options=(), drain_timeout=0.0,
                 timeout=10.0):
        if not include:
            raise ConfigurationError("driver nginx needs nginx_include, the file with the upstream block")
        if not slots:
            raise ConfigurationError("driver nginx needs slots: {slot: [host:port, ...]} of the upstream servers")
        check_nginx_text("nginx_upstream", upstream, NGINX_NAME_RE)
        check_nginx_text("nginx_server_options", server_options or "", NGINX_PARAMS_RE)
        for index, option in enumerate(upstream_options or ()):
            check_nginx_text("nginx_upstream_options[%d]" % index, option.strip().rstrip(";"), NGINX_DIRECTIVE_RE)
        for slot, addresses in slots.items():
            for address in addresses:
                check_nginx_text("slots.%s" % slot, address, NGINX_ADDRESS_RE)
        self.include = include
        self._slots = slots
        self.upstream = upstream
        self.config = config
        self.binary = shutil.which(binary) or binary
        self.pid_file = pid_file
        self.server_options = " ".join((server_options or "").split())
        self.upstream_options = [o.strip().rstrip(";") for o in upstream_options or ()]
        self.drain_timeout = drain_timeout or 0.0
        self.timeout = timeout
        self._maintenance = []
        self._slot_weights = {slot: 0 for slot in slots}

    def slots(self):
        """{slot: [host:port]} from the ``slots`` option."""
        return self._slots

    def read(self):
        """The split described by the include file (all 0 % when the file does not exist yet)."""
        owner = {address: slot for slot, addresses in self._slots.items() for address in addresses}
        entries = {}
        directives = ()
        text = ""
        if os.path.exists(self.include):
            with open(self.include) as handle:
                text = handle.read()
            servers, directives = parse_upstream(text, self.upstream)
            for address, weight, down, options in servers:
                if address not in owner:
                    raise ConfigurationError(
                        "the nginx include %s has server %s, which is in no slot; add it to slots or remove it"
                        % (self.include, address)
                    )
                entries[address] = (weight, down, options)
        self._maintenance = [a for a in parse_maintenance(text) if a in entries]
        self._slot_weights = self._read_slot_weights(text, entries)
        members, effective = {}, {}
        for slot, addresses in self._slots.items():
            members[slot], effective[slot] = [], []
            for address in addresses:
                weight, down, options = entries.get(address, (0, True, None))
                state = "absent" if options is None else ("maint" if address in self._maintenance else
                                                          "down" if down else "up")
                members[slot].append({"name": address, "weight": 0 if down else weight, "state": state})
                effective[slot].append(0 if down else weight)
        key = (tuple(sorted(entries.items())), tuple(directives), tuple(sorted(self._maintenance)))
        return Split(split_percent(effective), members, key)

    def _read_slot_weights(self, text, entries):
        """{slot: member weight}: the header line this driver writes, else the first server up of each slot."""
        written = _header_json(_WEIGHTS_LINE, text) or {}
        weights = {}
        for slot, addresses in self._slots.items():
            if slot in written:
                weights[slot] = int(written[slot])
                continue
            up = [entries[a][0] for a in addresses if a in entries and not entries[a][1]]
            weights[slot] = up[0] if up else 0
        return weights

    def plan(self, percent, before):
        """The include file for ``percent``; the split's key is what :meth:`read` would parse from it."""
        weights = member_weights(percent, {s: len(a) for s, a in self._slots.items()}, MAX_WEIGHT)
        # members someone put in maintenance stay there (as HAProxy keeps 'maint')
        maintenance = self._maintenance
        self._candidate = render_upstream(self.upstream, self._slots, weights, self.server_options,
                                          self.upstream_options, maintenance)
        servers, directives = parse_upstream(self._candidate, self.upstream)

        def state(slot, address):
            return "maint" if address in maintenance else "up" if weights[slot] else "down"

        members = {slot: [{"name": a, "weight": 0 if state(slot, a) != "up" else weights[slot],
                           "state": state(slot, a)} for a in addresses]
                   for slot, addresses in self._slots.items()}
        effective = {slot: [m["weight"] for m in ms] for slot, ms in members.items()}
        key = (tuple(sorted((a, (w, d, o)) for a, w, d, o in servers)), tuple(directives),
               tuple(sorted(maintenance)))
        return Split(split_percent(effective), members, key)

    def _run(self, *args):
        try:
            return subprocess.run([self.binary, "-c", self.config, *args], capture_output=True, text=True,
                                  timeout=self.timeout, check=False)
        except FileNotFoundError:
            raise ConfigurationError("nginx binary %r not found; set nginx_binary" % self.binary) from None
        except subprocess.TimeoutExpired:
            raise RouterError("nginx %s did not finish within %.0fs" % (" ".join(args), self.timeout)) from None

    def _master_pid(self):
        try:
            with open(self.pid_file) as handle:
                return int(handle.read().strip())
        except (OSError, ValueError) as exc:
            raise RouterError(
                "cannot read the nginx master pid from %s (%s); is nginx running? set nginx_pid_file to "
                "the 'pid' of nginx.conf" % (self.pid_file, exc)
            ) from None

    def apply(self, target, before, drain_timeout=None):
        """Write, ``nginx -t``, reload, wait for new workers; put the old file back on any failure.

        Holds an exclusive lock on the include file's directory meanwhile, so that two switches of the
        same nginx (two playbooks at once) cannot test or restore each other's file.
        """
        lock = os.open(os.path.dirname(os.path.abspath(self.include)), os.O_RDONLY)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._apply_locked(self.drain_timeout if drain_timeout is None else drain_timeout)
        finally:
            os.close(lock)

    # --- member operations (routers/members.py) -------------------------------------------
    def read_members(self, slot=None):
        """{host:port: {name, slot, state (up/down/maint/absent), weight}} from the include file."""
        if slot is not None and slot not in self._slots:
            raise ConfigurationError("slot %r is not one of %s" % (slot, ", ".join(self._slots)))
        split = self.read()
        return {member["name"]: dict(member, slot=name) for name, members in split.members.items()
                if slot is None or name == slot for member in members}

    def member_target(self, row, operation):
        """enabled -> up (down while its slot is at 0 %); drained and maintenance -> maint."""
        if operation == "enabled":
            return "up" if self._slot_weights.get(row["slot"]) else "down"
        return "maint"

    def member_serving(self, row):
        """Up with a weight (nginx open source has no health state to add)."""
        return row["state"] == "up" and row["weight"] > 0

    def apply_members(self, changes, operation, drain_timeout):
        """Rewrite the include with the new maintenance list (weights unchanged), test, reload."""
        maintenance = set(self._maintenance)
        for name, (_row, target) in changes.items():
            if target == "maint":
                maintenance.add(name)
            else:
                maintenance.discard(name)
        self._candidate = render_upstream(self.upstream, self._slots, self._slot_weights, self.server_options,
                                          self.upstream_options, maintenance)
        return self.apply(None, None, drain_timeout if operation == "drained" else 0.0)

    def _apply_locked(self, drain_timeout):
        previous = None
        mode = None
        if os.path.exists(self.include):
            with open(self.include) as handle:
                previous = handle.read()
            mode = os.stat(self.include).st_mode & 0o7777
        master = self._master_pid()
        _write_atomic(self.include, self._candidate, mode)
        try:
            check = self._run("-t")
            if check.returncode != 0:
                raise RouterError(
                    "nginx -t rejected the new upstream, so the previous include file was restored and "
                    "nginx keeps serving the old split: %s" % _last_lines(check.stderr),
                    candidate=self._candidate,
                )
            old_workers = child_pids(master)
            reload = self._run("-s", "reload")
            if reload.returncode != 0:
                raise RouterError("nginx -s reload failed (%s); the previous include file was restored"
                                  % _last_lines(reload.stderr))
            deadline = time.monotonic() + self.timeout
            while not child_pids(master) - old_workers:
                if time.monotonic() > deadline:
                    raise RouterError(
                        "nginx (master %d) started no new workers within %.0fs of the reload; it probably "
                        "rejected the configuration (see its error log); the previous include file was restored"
                        % (master, self.timeout)
                    )
                time.sleep(0.01)
        except BaseException:
            if previous is None:
                os.unlink(self.include)
            else:
                _write_atomic(self.include, previous, mode)
            raise
        result = {"include": self.include}
        if drain_timeout > 0:
            result["drain"] = self._wait_old_workers(master, old_workers, drain_timeout)
        return result

    def _wait_old_workers(self, master, old_workers, drain_timeout):
        started = time.monotonic()
        while True:
            left = child_pids(master) & old_workers
            waited = time.monotonic() - started
            if not left or waited >= drain_timeout:
                return {"complete": not left, "old_workers": len(left), "waited_s": round(waited, 3)}
            time.sleep(0.05)


def _last_lines(text, count=3):
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return " / ".join(lines[-count:]) or "no output"
