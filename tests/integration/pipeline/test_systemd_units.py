"""The systemd units of app_release, rendered by the role and checked by systemd's own verifier.

There is no systemd running in the test machines, so the restart path is not exercised here;
what can break silently — the unit syntax, the per-slot port — is checked with
``systemd-analyze verify``.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from harness.playbook import play


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_rendered_units_verify(playbook, tmp_path):
    units = tmp_path / "units"
    root = tmp_path / "shop"
    (root / "green").mkdir(parents=True)
    (root / "shared").mkdir()
    units.mkdir()
    (root / "shared" / "app.env").write_text('DATABASE_URL="postgresql://u@h/db"\n')
    run = playbook.run(play([{
        "name": "units",
        "ansible.builtin.include_role": {"name": "shipyard.deploy.app_release", "tasks_from": "systemd_units"},
        "vars": {"app_release_name": "shop", "app_release_version": "1.0.0", "app_release_artifact": "unused",
                 "app_release_checksum": "0" * 64, "app_release_slot": "green", "app_release_root": str(root),
                 "app_release_systemd_unit_dir": str(units), "app_release_user": "root",
                 "app_release_command": "/usr/bin/python3 app.py"},
    }]))
    assert run.rc == 0, run.output
    dropin = (units / "shop@green.service.d" / "slot.conf").read_text()
    assert "Environment=PORT=8002\n" in dropin and "Environment=BIND_ADDRESS=127.0.0.1\n" in dropin, dropin
    instance = units / "shop@green.service"
    shutil.copy(units / "shop@.service", instance)
    check = subprocess.run(["systemd-analyze", "verify", str(instance)], capture_output=True, text=True,
                           timeout=60, check=False, env=dict(os.environ, SYSTEMD_LOG_LEVEL="warning"))
    assert check.returncode == 0 and "shop@green.service" not in check.stderr, check.stderr
