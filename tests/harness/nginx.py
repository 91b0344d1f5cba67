"""A real nginx (Debian ``nginx-light``) proxying to two (or more) slots of real backend servers.

Layout written into ``workdir`` (a fresh temporary directory when not given):

- ``nginx.conf``: master + one worker in the foreground (``daemon off``, so the test owns the
  master process), ``pid <workdir>/nginx.pid``, logs and temp paths inside ``workdir``, one
  ``server`` on ``127.0.0.1:<free port>`` (:attr:`NginxServer.url`) that ``proxy_pass``-es to
  ``http://app`` (``upstream=`` to change the name), and ``include <include_path>;`` in ``http``.
- ``include_path`` (default ``<workdir>/upstream.conf``) holds the ``upstream app { ... }``
  block; it is the file ``traffic_switch`` rewrites.  The harness writes the first version:
  one ``server 127.0.0.1:<port> weight=<w>;`` line per backend (``down`` when the slot's
  weight is 0), each followed by ``# slot=<slot>``.  ``weights={"blue": 100, "green": 0}``;
  by default the first slot gets 100, the others 0.
- :meth:`addresses` gives ``{slot: ["127.0.0.1:port", ...]}``, what the nginx driver's
  ``slots`` option wants (``<host>:port`` for a backend with a ``host`` or ``address``).
- ``keepalive=True`` (default) lets clients reuse connections (nginx's defaults);
  ``upstream_keepalive`` adds ``keepalive N;`` to the upstream (reused backend connections).
- When run as root the workers run as root too (``user root;``): the test backends and
  files belong to us, and nothing listens beyond loopback.

:meth:`reload` is ``nginx -s reload`` (SIGHUP to the master: new workers with the new config,
old ones finish their requests) and returns once the old workers are gone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from .net import free_port, wait_for_port
from .proxy import SlotProxy

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class NginxServer(SlotProxy):
    """nginx in front of ``slots`` with the upstream in an include file; see the module docstring."""

    prefix = "shipyard-nginx-"

    def __init__(self, slots, include_path=None, workdir=None, upstream="app", weights=None,
                 keepalive=True, upstream_keepalive=0, worker_processes=1):
        super().__init__(slots, workdir, weights)
        self.include_path = include_path or os.path.join(self.workdir, "upstream.conf")
        self.upstream = upstream
        self.keepalive = keepalive
        self.upstream_keepalive = upstream_keepalive
        self.worker_processes = worker_processes

    @property
    def config_path(self):
        return os.path.join(self.workdir, "nginx.conf")

    @property
    def pid_path(self):
        return os.path.join(self.workdir, "nginx.pid")

    @property
    def error_log(self):
        return os.path.join(self.workdir, "error.log")

    def addresses(self):
        """{slot: ["127.0.0.1:port", ...]} of the backends, in the order given; a backend with an
        ``address`` or ``host`` (an app host on 127.0.0.2, ...) is reached there, as in the HAProxy harness."""
        def address(server):
            return "%s:%d" % (getattr(server, "address", None) or getattr(server, "host", None) or "127.0.0.1",
                              server.port)

        return {slot: [address(s) for s in servers] for slot, servers in self.slots.items()}

    def nginx_argv(self, *args):
        """argv of an nginx command against this instance's config (``-t``, ``-s reload``...)."""
        return [NGINX, "-p", self.workdir + "/", "-c", self.config_path, *args]

    def render_upstream(self):
        lines = ["upstream %s {" % self.upstream]
        for slot, addresses in self.addresses().items():
            weight = self.weights.get(slot, 0)
            for address in addresses:
                option = "weight=%d" % weight if weight else "down"
                lines.append("    server %s %s;  # slot=%s" % (address, option, slot))
        if self.upstream_keepalive:
            lines.append("    keepalive %d;" % self.upstream_keepalive)
        lines.append("}")
        return "\n".join(lines) + "\n"

    def render_config(self):
        temp = os.path.join(self.workdir, "tmp")
        user = "user root;\n" if os.geteuid() == 0 else ""
        keepalive = "" if self.keepalive else "    keepalive_timeout 0;\n"
        return (
            "daemon off;\n"
            "master_process on;\n"
            "worker_processes %d;\n" % self.worker_processes
            + user
            + "pid %s;\n" % self.pid_path
            + "error_log %s notice;\n" % self.error_log
            + "events { worker_connections 1024; }\n"
            "http {\n"
            "    access_log off;\n"
            + keepalive
            + "".join("    %s_temp_path %s/%s;\n" % (kind, temp, kind)
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + "    include %s;\n" % self.include_path
            + "    server {\n"
            "        listen 127.0.0.1:%d;\n" % self.port
            + "        location / {\n"
            "            proxy_pass http://%s;\n" % self.upstream
            + "            proxy_http_version 1.1;\n"
            "            proxy_set_header Connection \"\";\n"
            "            proxy_next_upstream error timeout;\n"
            "        }\n"
            "    }\n"
            "}\n"
        )

    def start(self):
        self.port = self.port or free_port()
        os.makedirs(os.path.join(self.workdir, "tmp"), exist_ok=True)
        if not os.path.exists(self.include_path):
            with open(self.include_path, "w") as handle:
                handle.write(self.render_upstream())
        with open(self.config_path, "w") as handle:
            handle.write(self.render_config())
        check = subprocess.run(self.nginx_argv("-t"), capture_output=True, text=True, check=False)
        if check.returncode != 0:
            raise RuntimeError("nginx rejected the test config:\n%s" % check.stderr)
        self._spawn(self.nginx_argv(), "stderr.log")
        wait_for_port(self.port, proc=self.proc, timeout=30)
        # the master listens before it forks its workers: wait for them too
        deadline = time.monotonic() + 30
        while len(self.workers()) < self.worker_processes:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx started no workers; see %s" % self.error_log)
            time.sleep(0.02)
        return self

    def workers(self):
        """Pids of the master's worker processes right now."""
        # the driver's own /proc reader (a plain function, no Ansible); the collection is on sys.path
        from ansible_collections.shipyard.deploy.plugins.module_utils.routers.nginx import child_pids

        return child_pids(self.proc.pid)

    def reload(self, timeout=20.0):
        """``nginx -s reload``; returns once new workers exist and the old ones have exited
        (they stop accepting, finish their requests and close idle keep-alive connections)."""
        before = self.workers()
        result = subprocess.run(self.nginx_argv("-s", "reload"), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError("nginx -s reload failed: %s" % result.stderr)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.workers()
            if now - before and not now & before:
                return self
            time.sleep(0.02)
        raise TimeoutError("nginx did not replace its workers within %.0fs; see %s" % (timeout, self.error_log))
