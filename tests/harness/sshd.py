"""Real OpenSSH servers (Debian's ``openssh-server``), one per loopback address, for tests whose
app hosts are reached the way users reach theirs: ``ansible_connection: ssh``.

Each :class:`SshServer` gets its own temporary directory with:

- ``sshd_config``: ``ListenAddress <address>:<free port>``, public keys only
  (``AuthenticationMethods publickey``; password and keyboard-interactive off, no PAM),
  ``PermitRootLogin prohibit-password`` when the tests run as root (root logs in with the key,
  never with a password; see below) and ``no`` otherwise, ``AllowUsers`` the one login user,
  no forwarding, ``LogLevel VERBOSE`` into ``sshd.log``;
- its own ed25519 host key, and ``known_hosts`` holding it (the client checks it strictly);
- ``id_ed25519``: the client key generated for this server, whose public half is the only
  entry of ``authorized_keys`` (``AuthorizedKeysFile`` points there, not at ``~/.ssh``).

The login user is the user running the tests.  As root that is root: the shared virtualenv's
Python lives under ``/root`` (mode 700), so an unprivileged account could not run the
collection's modules with it; root is let in by key only.  ``StrictModes no``: the key files
live under ``/tmp`` (world-writable), whose modes sshd would otherwise refuse for
``authorized_keys``.

sshd re-executes itself, so it is started by its absolute path (``/usr/sbin/sshd``); in the
foreground (``-D``) as our child, and stopped with SIGTERM.  As root, the privilege separation
directory ``/run/sshd`` is created when missing.  Any 127.0.0.0/8 address works on Linux's
loopback without configuration: :func:`loopback_addresses` hands out 127.0.0.2, 127.0.0.3, ...

:meth:`SshServer.inventory_vars` gives the host variables of an Ansible inventory entry
(``ansible_connection: ssh``, host, port, user, key, strict known_hosts, and the Python that has
the collection's dependencies).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from .net import free_port, wait_for_port

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
SSH = shutil.which("ssh") or "/usr/bin/ssh"


def available():
    """Whether Debian's openssh-server and -client are installed (else the tests that need them skip)."""
    return os.access(SSHD, os.X_OK) and os.access(SSH_KEYGEN, os.X_OK) and os.access(SSH, os.X_OK)


def loopback_addresses(count, first=2):
    """``count`` loopback addresses from 127.0.0.<first>: each app host of a test gets its own."""
    return ["127.0.0.%d" % n for n in range(first, first + count)]


def keygen(path, comment="shipyard-test"):
    """A new ed25519 key pair without passphrase at ``path`` and ``path``.pub."""
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path], check=True)


class SshServer:
    """One sshd on ``address`` (a loopback address) and a free port; see the module docstring."""

    def __init__(self, address="127.0.0.2", port=0, workdir=None):
        self.address = address
        self.port = port
        self.workdir = workdir or tempfile.mkdtemp(prefix="shipyard-sshd-")
        self._own_workdir = workdir is None
        self.user = getpass.getuser()
        self.proc = None
        self._log = None

    # --- paths -------------------------------------------------------------------------------
    def path(self, name):
        return os.path.join(self.workdir, name)

    @property
    def client_key(self):
        return self.path("id_ed25519")

    @property
    def known_hosts(self):
        return self.path("known_hosts")

    @property
    def log_path(self):
        return self.path("sshd.log")

    # --- life cycle --------------------------------------------------------------------------
    def render_config(self):
        root = os.geteuid() == 0
        return "\n".join([
            "ListenAddress %s:%d" % (self.address, self.port),
            "HostKey %s" % self.path("ssh_host_ed25519_key"),
            "PidFile %s" % self.path("sshd.pid"),
            "AuthorizedKeysFile %s" % self.path("authorized_keys"),
            "AuthenticationMethods publickey",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "PermitRootLogin %s" % ("prohibit-password" if root else "no"),
            "AllowUsers %s" % self.user,
            "StrictModes no",
            "AllowTcpForwarding no",
            "X11Forwarding no",
            "PermitTTY no",
            "PrintMotd no",
            "LogLevel VERBOSE",
            # one test runs many short sessions at once (Ansible forks); no throttling of them
            "MaxStartups 50",
            "Subsystem sftp internal-sftp",
            "",
        ])

    def start(self):
        """Generate the keys, write the config, check it (``sshd -t``), start sshd and wait until it listens."""
        if not available():
            raise RuntimeError("openssh-server and openssh-client are not installed (make system-deps)")
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.port = self.port or free_port(self.address)
        keygen(self.path("ssh_host_ed25519_key"), "shipyard-test-host")
        keygen(self.client_key, "shipyard-test-client")
        shutil.copyfile(self.client_key + ".pub", self.path("authorized_keys"))
        os.chmod(self.path("authorized_keys"), 0o600)
        with open(self.path("ssh_host_ed25519_key.pub")) as handle:
            key_type, key = handle.read().split()[:2]
        with open(self.known_hosts, "w") as handle:
            handle.write("[%s]:%d %s %s\n" % (self.address, self.port, key_type, key))
        with open(self.path("sshd_config"), "w") as handle:
            handle.write(self.render_config())
        check = subprocess.run([SSHD, "-t", "-f", self.path("sshd_config")], capture_output=True, text=True,
                               check=False)
        if check.returncode != 0:
            raise RuntimeError("sshd rejected the test config: %s" % (check.stderr or check.stdout))
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([SSHD, "-D", "-f", self.path("sshd_config"), "-E", self.log_path],
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, host=self.address, proc=self.proc, timeout=30)
        return self

    def sessions(self):
        """Pids of the listener's session processes (each connection's sshd, and theirs), from /proc."""
        # the driver's own /proc reader, as the nginx harness uses it
        from ansible_collections.shipyard.deploy.plugins.module_utils.routers.nginx import child_pids

        found, parents = set(), {self.proc.pid}
        while parents:
            children = set().union(*(child_pids(p) for p in parents)) - found
            found |= children
            parents = children
        return found

    def stop(self):
        """Stop sshd and the sessions it started (SIGTERM, then SIGKILL); remove the work directory.

        A connection's sshd runs in a session of its own and outlives the listener (an Ansible
        ControlPersist client keeps it open for a minute), so those are ended too.
        """
        if self.proc is not None and self.proc.poll() is None:
            for pid in self.sessions():
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- clients -----------------------------------------------------------------------------
    def ssh_options(self, key=None):
        """``-o`` options of an OpenSSH client for this server: its key (or ``key``) only, strict host key check."""
        return ["-o", "IdentitiesOnly=yes", "-o", "IdentityFile=%s" % (key or self.client_key),
                "-o", "UserKnownHostsFile=%s" % self.known_hosts, "-o", "StrictHostKeyChecking=yes",
                "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]

    def ssh(self, *command, options=(), key=None):
        """Run ``command`` on this server with the ssh client (``key``: another private key); the CompletedProcess."""
        argv = [SSH, "-F", "/dev/null", *options, *self.ssh_options(key), "-p", str(self.port),
                "%s@%s" % (self.user, self.address), *command]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)

    def inventory_vars(self, python=None):
        """Host variables of an inventory entry that reaches this server over SSH."""
        return {
            "ansible_connection": "ssh",
            "ansible_host": self.address,
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": self.client_key,
            "ansible_ssh_common_args": "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
                                       % self.known_hosts,
            "ansible_python_interpreter": python or sys.executable,
        }

    def accepted_logins(self):
        """How many public key logins sshd has accepted so far (from its log)."""
        deadline = time.monotonic() + 2
        while True:  # sshd writes the log line just after the session starts
            try:
                with open(self.log_path, errors="replace") as handle:
                    count = sum(1 for line in handle if "Accepted publickey for %s" % self.user in line)
            except FileNotFoundError:
                count = 0
            if count or time.monotonic() > deadline:
                return count
            time.sleep(0.05)
