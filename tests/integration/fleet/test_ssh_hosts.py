"""App hosts reached over real SSH: one sshd per loopback address (tests/harness/sshd.py), each a
separate inventory host with ``ansible_connection: ssh``, running a shipyard.deploy module."""

from __future__ import annotations

import yaml
from harness.backend import BackendServer
from harness.sshd import keygen


def test_sshd_takes_the_generated_key_and_refuses_passwords_and_other_keys(ssh_hosts):
    (host,) = ssh_hosts(1, first=4)
    ok = host.ssh("echo", "$SSH_CONNECTION")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split()[2:4] == [host.address, str(host.port)]  # server side of the connection
    password_only = ["-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive"]
    refused = host.ssh("true", options=password_only)
    assert refused.returncode == 255 and "Permission denied (publickey)" in refused.stderr
    stranger_key = host.path("stranger_key")
    keygen(stranger_key)
    stranger = host.ssh("true", key=stranger_key)
    assert stranger.returncode == 255 and "Permission denied (publickey)" in stranger.stderr
    assert host.accepted_logins() == 1


def test_playbook_runs_a_module_on_two_hosts_over_ssh(ssh_hosts, playbook, tmp_path):
    hosts = ssh_hosts(2)
    apps = [BackendServer("app%d" % n, version="3.%d" % n, host=h.address).start() for n, h in enumerate(hosts, 1)]
    try:
        inventory = {"all": {"children": {"app": {"hosts": {
            "app%d" % n: dict(h.inventory_vars(), app_port=a.port) for n, (h, a) in enumerate(zip(hosts, apps), 1)}}}}}
        path = tmp_path / "inventory.yml"
        path.write_text(yaml.safe_dump(inventory))
        run = playbook.run([{
            "name": "fleet", "hosts": "app", "gather_facts": False, "tasks": [
                {"name": "connection", "ansible.builtin.command": "printenv SSH_CONNECTION", "changed_when": False},
                {"name": "health", "shipyard.deploy.health_check": {
                    "targets": [{"url": "http://{{ ansible_host }}:{{ app_port }}/health",
                                 "json": {"slot": "{{ inventory_hostname }}", "status": "healthy"}}],
                    "timeout": 20}},
            ]}], inventory=str(path), env={"ANSIBLE_HOST_KEY_CHECKING": "True"})
    finally:
        for app in apps:
            app.stop()
    assert run.rc == 0, run.output
    by_host = {r["host"]: r for r in run.results if r["task"] == "connection"}
    assert set(by_host) == {"app1", "app2"}
    for name, host in zip(("app1", "app2"), hosts):
        # the command ran in an SSH session whose server end is this host's sshd
        assert by_host[name]["result"]["stdout"].split()[2:4] == [host.address, str(host.port)]
        assert host.accepted_logins() >= 1  # Ansible shares one master connection (ControlPersist) per host
    health = {r["host"]: r["result"] for r in run.results if r["task"] == "health"}
    assert health["app1"]["healthy"] == ["http://127.0.0.2:%d/health" % apps[0].port]
    assert health["app2"]["healthy"] == ["http://127.0.0.3:%d/health" % apps[1].port]
