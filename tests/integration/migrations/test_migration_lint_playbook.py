"""migration_lint through a real ansible-playbook: expand passes, contract fails with a clear message."""

from __future__ import annotations

import yaml
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


def test_relative_paths_resolve_against_the_playbook_directory(tmp_path, playbook):
    """``paths: [db/migrations]`` means next to the playbook, whatever directory ansible-playbook
    was started from (the action plugin resolves it on the controller)."""
    project = tmp_path / "project"
    (project / "db" / "migrations").mkdir(parents=True)
    (project / "db" / "migrations" / "V1__drop.sql").write_text("ALTER TABLE orders DROP COLUMN note;\n")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "db" / "migrations").mkdir(parents=True)  # a decoy under the working directory
    (elsewhere / "db" / "migrations" / "V1__fine.sql").write_text("SELECT 1;\n")
    book = project / "lint.yml"
    book.write_text(yaml.safe_dump(play([{
        "name": "lint", "shipyard.deploy.migration_lint": {"paths": ["db/migrations"], "block_on": "none",
                                                           "runner_sets_lock_timeout": True}}])))
    run = playbook.run(str(book), cwd=str(elsewhere))
    assert run.rc == 0, run.output
    result = run.task("lint")
    assert result["files"] == [str(project / "db" / "migrations" / "V1__drop.sql")]
    assert [f["rule"] for f in result["findings"]] == ["drop_column"]
