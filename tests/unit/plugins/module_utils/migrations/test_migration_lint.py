"""Every lint rule: at least one statement that triggers it and one safe statement that does not."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    MigrationError,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.lint import (
    RULES,
    lint_script,
    lint_service,
)


def rules(sql, **kwargs):
    kwargs.setdefault("runner_sets_lock_timeout", True)
    return [f["rule"] for f in lint_script(sql, "m.sql", **kwargs) if not f["suppressed"]]


CASES = {
    "not_null_without_default": (
        ["ALTER TABLE t ADD COLUMN c int NOT NULL"],
        ["ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0", "ALTER TABLE t ADD COLUMN c int",
         "CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN c int NOT NULL"]),
    "volatile_default": (
        ["ALTER TABLE t ADD COLUMN c uuid DEFAULT gen_random_uuid()",
         "ALTER TABLE t ADD COLUMN c int DEFAULT (random() * 10)::int", "ALTER TABLE t ADD COLUMN c bigserial",
         "ALTER TABLE t ADD COLUMN c bigint GENERATED ALWAYS AS IDENTITY"],
        ["ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()", "ALTER TABLE t ADD COLUMN c int DEFAULT 7"]),
    "drop_column": (["ALTER TABLE t DROP COLUMN c"], ["ALTER TABLE t ADD COLUMN c text"]),
    "drop_table": (["DROP TABLE t", "DROP TABLE IF EXISTS s.t CASCADE"],
                   ["CREATE TABLE scratch (a int); DROP TABLE scratch", "DROP VIEW v"]),
    "rename_column": (["ALTER TABLE t RENAME COLUMN a TO b"], ["ALTER TABLE t RENAME TO u"]),
    "rename_table": (["ALTER TABLE t RENAME TO u"], ["ALTER TABLE t RENAME COLUMN a TO b"]),
    "change_column_type": (["ALTER TABLE t ALTER COLUMN a TYPE bigint", "ALTER TABLE t ALTER a SET DATA TYPE text"],
                           ["ALTER TABLE t ALTER COLUMN a SET DEFAULT 1"]),
    "create_index_without_concurrently": (
        ["CREATE INDEX i ON t (a)", "CREATE UNIQUE INDEX i ON t (a)"],
        ["CREATE INDEX CONCURRENTLY i ON t (a)", "CREATE TABLE t (a int); CREATE INDEX i ON t (a)"]),
    "drop_index_without_concurrently": (["DROP INDEX i"], ["DROP INDEX CONCURRENTLY i"]),
    "concurrently_in_transaction": (
        ["CREATE INDEX CONCURRENTLY i ON t (a)", "DROP INDEX CONCURRENTLY i", "REINDEX INDEX CONCURRENTLY i"],
        ["-- shipyard:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a)"]),
    "constraint_without_not_valid": (
        ["ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id)",
         "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)", "ALTER TABLE t ADD COLUMN p int REFERENCES p (id)"],
        ["ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id) NOT VALID",
         "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", "ALTER TABLE t VALIDATE CONSTRAINT c"]),
    "unique_constraint": (
        ["ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)", "ALTER TABLE t ADD PRIMARY KEY (a)"],
        ["ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i", "CREATE TABLE t (a int UNIQUE)"]),
    "set_not_null": (["ALTER TABLE t ALTER COLUMN a SET NOT NULL"],
                     ["ALTER TABLE t ALTER COLUMN a DROP NOT NULL",
                      "CREATE TABLE t (a int); ALTER TABLE t ALTER COLUMN a SET NOT NULL"]),
    "truncate_cascade": (["TRUNCATE t CASCADE"], ["TRUNCATE t", "DELETE FROM t WHERE a = 1"]),
    "char_column": (["CREATE TABLE t (a char(3))", "ALTER TABLE t ADD COLUMN c character(2)",
                     "ALTER TABLE t ALTER COLUMN a TYPE char(10)"],
                    ["CREATE TABLE t (a varchar(3), b text, c \"char\")"]),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_dangerous_statements(rule):
    for sql in CASES[rule][0]:
        assert rule in rules(sql), sql


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_is_quiet_on_safe_statements(rule):
    for sql in CASES[rule][1]:
        assert rule not in rules(sql), sql


def test_every_rule_has_cases():
    assert set(CASES) | {"missing_lock_timeout"} == set(RULES)


def test_missing_lock_timeout_positive_and_negative():
    assert rules("ALTER TABLE t ADD COLUMN c text", runner_sets_lock_timeout=False) == ["missing_lock_timeout"]
    assert rules("SET lock_timeout = '3s'; ALTER TABLE t ADD COLUMN c text", runner_sets_lock_timeout=False) == []
    assert rules("ALTER TABLE t ADD COLUMN c text", runner_sets_lock_timeout=True) == []
    assert rules("CREATE TABLE n (a int); INSERT INTO n VALUES (1)", runner_sets_lock_timeout=False) == []
    # Reported once per script, on the first statement that needs it.
    both = rules("ALTER TABLE t ADD COLUMN c text; ALTER TABLE t ADD COLUMN d text", runner_sets_lock_timeout=False)
    assert both == ["missing_lock_timeout"]


def test_explicit_begin_makes_concurrently_fail_even_in_a_non_transactional_file():
    sql = "-- shipyard:no-transaction\nBEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;"
    assert "concurrently_in_transaction" in rules(sql)


def test_finding_has_file_line_statement_why_and_alternative():
    findings = lint_script("SELECT 1;\n\nALTER TABLE orders\n  DROP COLUMN note;\n", "V9__drop.sql",
                           runner_sets_lock_timeout=True)
    assert findings == [{
        "rule": "drop_column", "file": "V9__drop.sql", "line": 3,
        "statement": "ALTER TABLE orders\n  DROP COLUMN note",
        "why": RULES["drop_column"][0], "safe_alternative": RULES["drop_column"][1],
        "breaks_running_version": True, "suppressed": False, "suppression_reason": None,
    }]


def test_breaking_flag_separates_expand_from_contract():
    expand = lint_script("ALTER TABLE t ADD COLUMN c text; CREATE INDEX i ON t (c);", "x",
                         runner_sets_lock_timeout=True)
    contract = lint_script("ALTER TABLE t DROP COLUMN c; ALTER TABLE t RENAME COLUMN a TO b; "
                           "ALTER TABLE t ALTER COLUMN d TYPE text;", "x", runner_sets_lock_timeout=True)
    assert [f["breaks_running_version"] for f in expand] == [False]
    assert [f["breaks_running_version"] for f in contract] == [True, True, True]


def test_suppression_needs_the_rule_and_a_reason():
    sql = ("-- shipyard:ignore drop_column reason: column unused since release 41\n"
           "ALTER TABLE t DROP COLUMN a;\n"
           "-- shipyard:ignore drop_column\n"
           "ALTER TABLE t DROP COLUMN b;\n"
           "-- shipyard:ignore rename_column reason: wrong rule\n"
           "ALTER TABLE t DROP COLUMN c;\n")
    findings = lint_script(sql, "x", runner_sets_lock_timeout=True)
    assert [(f["line"], f["suppressed"]) for f in findings] == [(2, True), (4, False), (6, False)]
    assert findings[0]["suppression_reason"] == "column unused since release 41"
    assert "gives no 'reason:'" in findings[1]["why"]


def test_suppression_applies_to_the_next_statement_only():
    sql = "-- shipyard:ignore drop_column reason: ok\nALTER TABLE t DROP COLUMN a;\nALTER TABLE t DROP COLUMN b;"
    assert [f["suppressed"] for f in lint_script(sql, "x", runner_sets_lock_timeout=True)] == [True, False]


def service_params(**extra):
    params = dict(paths=[], sql=None, block_on="breaking", block_on_rules=[], disable=[],
                  runner_sets_lock_timeout=True, transactional="auto", fail_on_blocking=True)
    params.update(extra)
    return params


def test_service_blocks_breaking_and_allows_expand(tmp_path):
    (tmp_path / "V1__expand.sql").write_text("ALTER TABLE t ADD COLUMN c text;\nCREATE INDEX i ON t (c);\n")
    result = lint_service(service_params(paths=[str(tmp_path)]), False, False)
    assert result["passed"] is True and result["changed"] is False
    assert [f["rule"] for f in result["findings"]] == ["create_index_without_concurrently"]
    (tmp_path / "V2__contract.sql").write_text("ALTER TABLE t DROP COLUMN old;\n")
    with pytest.raises(MigrationError, match=r"V2__contract.sql line 1 \[drop_column\]") as info:
        lint_service(service_params(paths=[str(tmp_path)]), False, False)
    assert [f["rule"] for f in info.value.details["blocking"]] == ["drop_column"]
    assert lint_service(service_params(paths=[str(tmp_path)], block_on="none"), False, False)["passed"] is True
    with pytest.raises(MigrationError):
        lint_service(service_params(paths=[str(tmp_path)], block_on="none",
                                    block_on_rules=["create_index_without_concurrently"]), False, False)


@pytest.mark.parametrize("params, pattern", [
    (service_params(paths=["/nonexistent/migrations"]), "does not exist"),
    (service_params(sql="ALTER TABEL t DROP COLUMN a"), "cannot parse <sql> at line 1"),
    (service_params(sql="SELECT 1", disable=["no_such_rule"]), "unknown lint rule"),
    (service_params(), "give paths"),
])
def test_bad_input_gives_a_clear_error(params, pattern):
    with pytest.raises(ConfigurationError, match=pattern):
        lint_service(params, False, False)
