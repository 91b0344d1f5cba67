"""migration_lint through a real ansible-playbook: expand passes, contract fails with a clear message."""

from __future__ import annotations

from harness.playbook import play


def test_playbook_allows_expand_and_blocks_contract(migdir, playbook):
    path = migdir({"V1__expand.sql": "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;\n"})
    task = {"name": "lint", "shipyard.deploy.migration_lint": {"paths": [path]}}
    ok = playbook.run(play([task]), check=True)
    assert ok.rc == 0, ok.output
    assert ok.task("lint")["passed"] is True and ok.task("lint")["changed"] is False
    assert ok.task("lint")["findings"] == []
    migdir({"V2__contract.sql": "ALTER TABLE orders RENAME COLUMN total TO amount;\n"})
    blocked = playbook.run(play([task]))
    assert blocked.rc != 0
    result = blocked.task("lint")
    assert blocked.status("lint") == "failed"
    assert "V2__contract.sql line 1 [rename_column]" in result["msg"]
    assert [f["rule"] for f in result["breaking"]] == ["rename_column"]
    assert {f["rule"] for f in result["findings"]} == {"rename_column", "missing_lock_timeout"}
