# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client of HAProxy's runtime API (the admin ``stats socket``), over a unix socket or TCP.

Shared by the HAProxy router (set weights, read them back, save the server state) and the
``haproxy`` metric source of canary analysis (``show stat`` counters).
"""

from __future__ import annotations

import socket

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, HAProxyAPIError


def parse_address(address):
    """``/path``, ``unix:/path``, ``host:port`` or ``tcp://host:port`` -> ``(family, sockaddr)``."""
    if not address:
        raise ConfigurationError("haproxy.socket is empty; give the admin socket path or host:port")
    if address.startswith("unix:"):
        return socket.AF_UNIX, address[len("unix:"):]
    if address.startswith("/"):
        return socket.AF_UNIX, address
    text = address[len("tcp://"):] if address.startswith("tcp://") else address
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigurationError("haproxy.socket %r is neither a socket path nor host:port" % address)
    return socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET, (host.strip("[]"), int(port))


class RuntimeAPI:
    """A client of HAProxy's runtime API: one connection per command, as ``socat`` would."""

    def __init__(self, address, timeout=5.0):
        self.address = address
        self.family, self.sockaddr = parse_address(address)
        self.timeout = timeout

    def command(self, command):
        """Send ``command`` and return HAProxy's whole answer as text."""
        try:
            with socket.socket(self.family, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.sockaddr)
                sock.sendall(command.encode() + b"\n")
                chunks = []
                while True:
                    data = sock.recv(65536)
                    if not data:
                        break
                    chunks.append(data)
        except OSError as exc:
            raise HAProxyAPIError(
                "cannot run %r on the HAProxy runtime API at %s: %s; check the path or address of a "
                "'stats socket' line of haproxy.cfg and that this user may open it"
                % (command, self.address, exc.strerror or exc)
            ) from None
        return b"".join(chunks).decode("utf-8", "replace")

    def worker_pid(self):
        """Pid of the HAProxy process answering (``show info``): it changes when HAProxy reloads."""
        for line in self.command("show info").splitlines():
            if line.startswith("Pid:"):
                return line.split(":", 1)[1].strip()
        return None

    def show_stat(self):
        """Parsed ``show stat``: a list of row dicts."""
        return parse_show_stat(self.command("show stat"))


def parse_show_stat(text):
    """Parse the CSV of ``show stat`` (header ``# pxname,svname,...``) into a list of dicts."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("#"):
        first = lines[0][:200] if lines else "(nothing)"
        raise HAProxyAPIError(
            "HAProxy answered 'show stat' with %r instead of CSV; is this an admin or operator stats socket "
            "of HAProxy?" % first
        )
    header = lines[0].lstrip("# ").rstrip(",").split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]
