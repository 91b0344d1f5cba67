"""A real HAProxy (Debian package) in front of two (or more) slots of real backend servers.

Used by the traffic-switching tests (issue 5) and by the health-check / canary tests (issue 4).

Layout written into ``workdir`` (a fresh temporary directory when not given):

- ``haproxy.cfg``: one ``frontend`` on ``127.0.0.1:<free port>`` (:attr:`HAProxyServer.url`)
  and ONE backend named ``app`` (``backend=`` to change it), ``balance roundrobin`` so that
  weights set at run time take effect at once, per request (HTTP keep-alive included).
- Servers are named ``<slot>_<n>``, ``n`` counting from 1 in the order given, at 127.0.0.1 or the
  backend's ``address`` when it has one (app hosts on their own loopback addresses):
  ``slots={"blue": [b1, b2], "green": [g1]}`` gives ``blue_1``, ``blue_2``, ``green_1``
  (see :meth:`HAProxyServer.server_names`).  ``traffic_switch`` finds a slot's servers by that
  ``<slot>_`` prefix when it is not told their names.  A server is at ``127.0.0.1:<its port>``, or
  at ``<its host>:<its port>`` when it has a ``host`` (app hosts on their own loopback addresses).
- Initial weights: ``weights={"blue": 100, "green": 0}`` style, the HAProxy weight (0..256)
  given to EVERY server of that slot; by default the first slot gets 100, the others 0.
- Runtime API, admin level, twice: ``<workdir>/admin.sock`` (:attr:`admin_socket`) and
  ``127.0.0.1:<free port>`` (:attr:`admin_tcp`, a ``(host, port)`` tuple; ``admin_tcp_address``
  is the ``"127.0.0.1:port"`` string).  :meth:`command` runs one runtime API command.
- ``server-state-file <workdir>/server-state`` + ``load-server-state-from-file global``:
  a reload restores whatever was last saved there with ``show servers state``
  (:meth:`save_state` does it the way the traffic_switch module does).
- ``extra_defaults="    option idle-close-on-response"``: idle keep-alive clients are told to
  close when a reload stops the old worker (what the member and rolling tests run with).
- ``health_check=True`` adds ``option httpchk GET /health`` and ``check inter <ms>`` to every
  server (for the health-check tests; off by default so weights alone decide).

HAProxy runs in master-worker mode in the foreground (``-W -db``); :meth:`reload` sends SIGUSR2
to the master, which starts a new worker with the same config (old worker finishes its
requests), exactly what ``systemctl reload haproxy`` does.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

from .net import free_port, wait_for_port
from .proxy import SlotProxy

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def runtime_command(address, command, timeout=5.0):
    """Send one runtime API command to ``address`` (unix socket path or (host, port)); return text."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(address)
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode()


class HAProxyServer(SlotProxy):
    """HAProxy with one backend of servers ``<slot>_<n>``; see the module docstring."""

    prefix = "shipyard-haproxy-"

    def __init__(self, slots, workdir=None, backend="app", weights=None, health_check=False,
                 check_interval_ms=500, extra_global="", extra_defaults="", extra_backend=""):
        super().__init__(slots, workdir, weights)
        self.backend = backend
        self.health_check = health_check
        self.check_interval_ms = check_interval_ms
        self.extra_global = extra_global
        self.extra_defaults = extra_defaults
        self.extra_backend = extra_backend
        self.admin_port = 0

    # --- paths and addresses -------------------------------------------------------------
    @property
    def config_path(self):
        return os.path.join(self.workdir, "haproxy.cfg")

    @property
    def admin_socket(self):
        return os.path.join(self.workdir, "admin.sock")

    @property
    def admin_tcp(self):
        return ("127.0.0.1", self.admin_port)

    @property
    def admin_tcp_address(self):
        return "127.0.0.1:%d" % self.admin_port

    @property
    def state_file(self):
        return os.path.join(self.workdir, "server-state")

    @property
    def log_path(self):
        return os.path.join(self.workdir, "haproxy.log")

    def server_names(self):
        """{slot: [server names]} as written in the config (``<slot>_<n>``, n from 1)."""
        return {slot: ["%s_%d" % (slot, i) for i in range(1, len(servers) + 1)]
                for slot, servers in self.slots.items()}

    # --- config --------------------------------------------------------------------------
    def render_config(self):
        check = " check inter %dms fall 2 rise 2" % self.check_interval_ms if self.health_check else ""
        lines = [
            "global",
            "    stats socket %s mode 600 level admin expose-fd listeners" % self.admin_socket,
            "    stats socket 127.0.0.1:%d level admin" % self.admin_port,
            "    stats timeout 30s",
            "    server-state-file %s" % self.state_file,
            # an old worker must not outlive a test because a client keeps a connection open
            "    hard-stop-after 15s",
            self.extra_global,
            "",
            "defaults",
            "    mode http",
            "    timeout connect 2s",
            "    timeout client 30s",
            "    timeout server 30s",
            "    timeout http-keep-alive 10s",
            "    retries 2",
            "    option redispatch 1",
            "    load-server-state-from-file global",
            self.extra_defaults,
            "",
            "frontend web",
            "    bind 127.0.0.1:%d" % self.port,
            "    default_backend %s" % self.backend,
            "",
            "backend %s" % self.backend,
            "    balance roundrobin",
        ]
        if self.health_check:
            lines.append("    option httpchk GET /health")
        lines.append(self.extra_backend)
        names = self.server_names()
        for slot, servers in self.slots.items():
            for name, server in zip(names[slot], servers):
                # a backend with an ``address`` or ``host`` (an app host on 127.0.0.2, ...) is reached there
                address = getattr(server, "address", None) or getattr(server, "host", None) or "127.0.0.1"
                lines.append("    server %s %s:%d weight %d%s"
                             % (name, address, server.port,
                                self.weights.get(slot, 0), check))
        return "\n".join(lines) + "\n"

    def write_config(self):
        with open(self.config_path, "w") as handle:
            handle.write(self.render_config())

    # --- life cycle ----------------------------------------------------------------------
    def start(self):
        self.port = self.port or free_port()
        self.admin_port = self.admin_port or free_port()
        self.write_config()
        check = subprocess.run([HAPROXY, "-c", "-f", self.config_path], capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError("haproxy rejected the test config:\n%s%s" % (check.stdout, check.stderr))
        self._spawn([HAPROXY, "-W", "-db", "-f", self.config_path], os.path.basename(self.log_path))
        wait_for_port(self.port, proc=self.proc, timeout=30)
        wait_for_port(self.admin_port, proc=self.proc, timeout=30)
        self._wait_socket()
        return self

    def _wait_socket(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.command("show info", tcp=False)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def worker_pid(self):
        """Pid of the worker answering the runtime API right now."""
        for line in self.command("show info").splitlines():
            if line.startswith("Pid:"):
                return int(line.split(":", 1)[1])
        raise RuntimeError("no Pid in 'show info'")

    def reload(self, timeout=40.0, resend_after=10.0):
        """Graceful reload (SIGUSR2 to the master); returns once a NEW worker answers.

        On a loaded machine a reload signalled while the master is still settling from the
        previous one has been seen to start no worker; the signal is sent again after
        ``resend_after`` seconds without a new worker (a second reload is harmless).
        """
        old = self.worker_pid()
        self.proc.send_signal(signal.SIGUSR2)
        started = time.monotonic()
        deadline = started + timeout
        resent = False
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("haproxy master exited during reload; see %s" % self.log_path)
            try:
                if self.worker_pid() != old:
                    self._wait_socket()
                    return self
            except (OSError, RuntimeError):
                pass
            if not resent and time.monotonic() - started > resend_after:
                self.proc.send_signal(signal.SIGUSR2)
                resent = True
            time.sleep(0.05)
        with open(self.log_path, errors="replace") as handle:
            tail = "".join(handle.readlines()[-20:])
        raise TimeoutError("haproxy did not start a new worker within %.0fs; %s ends with:\n%s"
                           % (timeout, self.log_path, tail))

    # --- runtime API ---------------------------------------------------------------------
    def command(self, command, tcp=True):
        """Run one runtime API command (TCP admin socket by default, ``tcp=False`` for the unix one)."""
        return runtime_command(self.admin_tcp if tcp else self.admin_socket, command)

    def server_weights(self):
        """{server name: current weight} of the backend, read from ``show servers state``."""
        weights = {}
        for line in self.command("show servers state %s" % self.backend).splitlines():
            fields = line.split()
            if len(fields) > 8 and not line.startswith("#") and fields[1] == self.backend:
                weights[fields[3]] = int(fields[7])
        return weights

    def server_states(self):
        """{server name: row of ``show stat`` as a dict} (status, weight, scur, ...)."""
        text = self.command("show stat")
        lines = [line for line in text.splitlines() if line.strip()]
        header = lines[0].lstrip("# ").split(",")
        rows = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == self.backend and row.get("svname") not in ("FRONTEND", "BACKEND"):
                rows[row["svname"]] = row
        return rows

    def save_state(self):
        """Write ``show servers state`` into the server-state file (what a reload restores)."""
        text = self.command("show servers state")
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(text)
        os.replace(tmp, self.state_file)
