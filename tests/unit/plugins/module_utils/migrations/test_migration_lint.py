"""Every lint rule: at least one statement that triggers it and one safe statement that does not."""

from __future__ import annotations

import os

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    MigrationError,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.files import (
    SqlFileError,
    scan_versioned,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.lint import (
    RULES,
    lint_script,
    lint_service,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.markers import (
    GOOSE_DOWN_RE,
    GOOSE_NO_TX_RE,
    GOOSE_UP_RE,
    _goose_annotations,
    no_transaction_marker,
    up_section,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.verdicts import (
    BLUE_GREEN,
    VERDICTS,
    markdown_table,
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
         "ALTER TABLE t ADD COLUMN c bigint GENERATED ALWAYS AS IDENTITY",
         "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED",
         "ALTER TABLE t ADD COLUMN c text DEFAULT my_default()", "ALTER TABLE t ADD COLUMN c text DEFAULT app.f(1)"],
        ["ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now()", "ALTER TABLE t ADD COLUMN c int DEFAULT 7",
         "ALTER TABLE t ADD COLUMN c text DEFAULT lower('X')", "ALTER TABLE t ADD COLUMN c date DEFAULT CURRENT_DATE",
         "CREATE TABLE n (a int); ALTER TABLE n ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED"]),
    "drop_column": (["ALTER TABLE t DROP COLUMN c"], ["ALTER TABLE t ADD COLUMN c text"]),
    "drop_table": (["DROP TABLE t", "DROP TABLE IF EXISTS s.t CASCADE"],
                   ["CREATE TABLE scratch (a int); DROP TABLE scratch", "DROP VIEW v"]),
    "drop_object": (["DROP VIEW v", "DROP FUNCTION f(int)", "DROP MATERIALIZED VIEW m", "DROP SEQUENCE s",
                     "DROP TYPE e", "DROP SCHEMA app CASCADE", "DROP VIEW v; CREATE VIEW w AS SELECT 1"],
                    ["DROP VIEW v; CREATE VIEW v AS SELECT 1 AS a", "CREATE VIEW v AS SELECT 1; DROP VIEW v",
                     "DROP FUNCTION f(); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'",
                     "DROP INDEX CONCURRENTLY i", "DROP TRIGGER tr ON t"]),
    "rename_object": (["ALTER VIEW v RENAME TO w", "ALTER FUNCTION f() RENAME TO g",
                       "ALTER SEQUENCE s RENAME TO s2", "ALTER TYPE e RENAME TO e2", "ALTER SCHEMA a RENAME TO b",
                       "ALTER MATERIALIZED VIEW m RENAME TO n"],
                      ["ALTER INDEX i RENAME TO j", "ALTER TABLE t RENAME CONSTRAINT a TO b",
                       "ALTER TRIGGER tr ON t RENAME TO tr2"]),
    "set_schema": (["ALTER TABLE t SET SCHEMA archive", "ALTER FUNCTION f() SET SCHEMA archive",
                    "ALTER TYPE e SET SCHEMA archive"], ["ALTER TABLE t SET (fillfactor = 70)"]),
    "rename_enum_value": (["ALTER TYPE e RENAME VALUE 'a' TO 'b'"], ["ALTER TYPE e ADD VALUE 'c'"]),
    "drop_default": (["ALTER TABLE t ALTER COLUMN a DROP DEFAULT"],
                     ["ALTER TABLE t ALTER COLUMN a SET DEFAULT 1",
                      "CREATE TABLE n (a int NOT NULL DEFAULT 1); ALTER TABLE n ALTER COLUMN a DROP DEFAULT"]),
    "validate_in_same_transaction": (
        ["ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT c",
         "-- shipyard:no-transaction\nBEGIN; ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id) "
         "NOT VALID; ALTER TABLE t VALIDATE CONSTRAINT f; COMMIT;"],
        ["-- shipyard:no-transaction\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\n"
         "ALTER TABLE t VALIDATE CONSTRAINT c", "ALTER TABLE t VALIDATE CONSTRAINT c",
         "-- shipyard:no-transaction\nBEGIN; ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID; COMMIT;\n"
         "ALTER TABLE t VALIDATE CONSTRAINT c"]),
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
    assert set(CASES) | {"missing_lock_timeout", "invalid_file"} == set(RULES)


def test_missing_lock_timeout_positive_and_negative():
    assert rules("ALTER TABLE t ADD COLUMN c text", runner_sets_lock_timeout=False) == ["missing_lock_timeout"]
    assert rules("SET lock_timeout = '3s'; ALTER TABLE t ADD COLUMN c text", runner_sets_lock_timeout=False) == []
    assert rules("ALTER TABLE t ADD COLUMN c text", runner_sets_lock_timeout=True) == []
    assert rules("CREATE TABLE n (a int); INSERT INTO n VALUES (1)", runner_sets_lock_timeout=False) == []
    # Reported once per script, on the first statement that needs it.
    both = rules("ALTER TABLE t ADD COLUMN c text; ALTER TABLE t ADD COLUMN d text", runner_sets_lock_timeout=False)
    assert both == ["missing_lock_timeout"]
    # A new table referencing an existing one locks that one (SHARE ROW EXCLUSIVE); so does a trigger.
    assert rules("CREATE TABLE n (id int, t_id int REFERENCES t (id))", runner_sets_lock_timeout=False) == [
        "missing_lock_timeout"]
    assert rules("CREATE TABLE n (id int, t_id int, FOREIGN KEY (t_id) REFERENCES t (id))",
                 runner_sets_lock_timeout=False) == ["missing_lock_timeout"]
    assert rules("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
                 runner_sets_lock_timeout=False) == ["missing_lock_timeout"]
    assert rules("CREATE TABLE t_2026 PARTITION OF t FOR VALUES FROM (1) TO (10)",
                 runner_sets_lock_timeout=False) == ["missing_lock_timeout"]
    assert rules("CREATE TABLE p (a int) PARTITION BY RANGE (a); CREATE TABLE p1 PARTITION OF p "
                 "FOR VALUES FROM (1) TO (10)", runner_sets_lock_timeout=False) == []
    assert rules("CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE n (p_id int REFERENCES p (id)); "
                 "CREATE TRIGGER tr BEFORE INSERT ON n FOR EACH ROW EXECUTE FUNCTION f()",
                 runner_sets_lock_timeout=False) == []


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
        "operation": "drop_column", "breaks_running_version": True,
        "verdict_reason": VERDICTS["drop_column"].reason, "suppressed": False, "suppression_reason": None,
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
    (service_params(sql="SELECT 1", disable=["invalid_file"]), "cannot be disabled"),
    (service_params(sql="SELECT 1", disable=["no_such_rule"]), "unknown lint rule"),
    (service_params(), "give paths"),
])
def test_bad_input_gives_a_clear_error(params, pattern):
    with pytest.raises(ConfigurationError, match=pattern):
        lint_service(params, False, False)


@pytest.mark.parametrize("create", [
    "CREATE TABLE n AS SELECT * FROM t",
    "CREATE TABLE n AS SELECT * FROM t WITH NO DATA",
    "SELECT * INTO n FROM t",
    "CREATE MATERIALIZED VIEW n AS SELECT a FROM t",
    "CREATE TABLE n (LIKE t)",
])
def test_tables_made_earlier_in_the_script_are_new(create):
    """A table (or materialized view) the script itself made is new: building an index, adding a
    constraint or NOT NULL on it, or dropping it again, neither blocks anyone nor breaks the app."""
    for follow in ("CREATE INDEX i ON n (a)", "ALTER TABLE n ADD CONSTRAINT u UNIQUE (a)",
                   "ALTER TABLE n ALTER COLUMN a SET NOT NULL", "ALTER TABLE n ADD COLUMN z int NOT NULL",
                   "ALTER TABLE n ADD CONSTRAINT c CHECK (a > 0)", "DROP TABLE n"):
        if "MATERIALIZED" in create and "ALTER TABLE" in follow:
            continue  # ALTER TABLE does not apply to a materialized view
        assert rules("%s; %s" % (create, follow), runner_sets_lock_timeout=False) == [], (create, follow)


def test_a_view_made_earlier_may_be_dropped_again():
    assert rules("CREATE VIEW v AS SELECT 1 AS a; DROP VIEW v") == []
    assert rules("CREATE TABLE public.n (a int); DROP TABLE n; CREATE TABLE m (a int); DROP TABLE public.m") == []


def test_one_unparsable_file_is_a_blocking_finding_and_the_others_are_still_linted(tmp_path):
    (tmp_path / "V1__ok.sql").write_text("ALTER TABLE t DROP COLUMN old;\n")
    (tmp_path / "V2__broken.sql").write_text("SELECT 1;\n\nALTER TABEL t ADD COLUMN a int;\n")
    (tmp_path / "V3__ok.sql").write_text("CREATE INDEX i ON t (a);\n")
    result = lint_service(service_params(paths=[str(tmp_path)], block_on="none"), False, False)
    assert [(os.path.basename(f["file"]), f["rule"], f["line"]) for f in result["findings"]] == [
        ("V1__ok.sql", "drop_column", 1), ("V2__broken.sql", "invalid_file", 3),
        ("V3__ok.sql", "create_index_without_concurrently", 1)]
    with pytest.raises(MigrationError) as info:
        lint_service(service_params(paths=[str(tmp_path / "V2__broken.sql"), str(tmp_path / "V3__ok.sql")]),
                     False, False)
    assert "V2__broken.sql line 3 [invalid_file] cannot parse" in info.value.message
    assert [f["rule"] for f in info.value.details["findings"]] == ["invalid_file", "create_index_without_concurrently"]


@pytest.mark.parametrize("data, offset, line, what", [
    (b"SELECT 1;\nALTER TABLE t DROP COLUMN a;\x00\nDROP TABLE t;\n", 38, 2, "NUL byte"),
    (b"SELECT 1;\n-- caf\xe9\nSELECT 2;\n", 16, 2, "not UTF-8"),
])
def test_nul_bytes_and_invalid_utf8_are_refused_with_file_and_offset(tmp_path, data, offset, line, what):
    path = tmp_path / "V1__bad.sql"
    path.write_bytes(data)
    result = lint_service(service_params(paths=[str(path)], fail_on_blocking=False), False, False)
    [finding] = result["findings"]
    assert finding["rule"] == "invalid_file" and finding["file"] == str(path)
    assert finding["line"] == line and finding["offset"] == offset and what in finding["why"]
    assert result["passed"] is False
    # migration_apply reads its files the same way: refused, so nothing runs (and no checksum).
    with pytest.raises(SqlFileError, match=what + r".*byte offset %d, line %d" % (offset, line)):
        scan_versioned(str(tmp_path))


def test_nul_in_sql_text_is_refused():
    with pytest.raises(SqlFileError, match="NUL"):
        lint_script("SELECT 1;\x00DROP TABLE t;", "<sql>")


@pytest.mark.parametrize("text, conf", [
    ("-- postgres-migrations disable-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n", None),
    ("-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n"
     "-- migrate:down\nDROP INDEX CONCURRENTLY i;\n", None),
    ("--liquibase formatted sql\n--changeset alice:1 runInTransaction:false\n"
     "CREATE INDEX CONCURRENTLY i ON t (a);\n", None),
    ("CREATE INDEX CONCURRENTLY i ON t (a);\n", "executeInTransaction=false\n"),
    ("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
     "-- +goose Down\nDROP INDEX CONCURRENTLY i;\nALTER TABLE t DROP COLUMN a;\n", None),
])
def test_other_runners_no_transaction_markers(tmp_path, text, conf):
    path = tmp_path / "V1__index.sql"
    path.write_text(text)
    if conf:
        (tmp_path / "V1__index.sql.conf").write_text(conf)
    result = lint_service(service_params(paths=[str(path)]), False, False)
    assert result["findings"] == []
    # The same statement without a marker fails inside the runner's transaction.
    assert rules("CREATE INDEX CONCURRENTLY i ON t (a);") == ["concurrently_in_transaction"]


def test_dbmate_markers_with_transaction_and_down_section():
    text = ("-- migrate:up\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
            "-- migrate:down\nALTER TABLE t DROP COLUMN a;\nDROP TABLE t;\n")
    # Still in a transaction (no transaction:false), and the down part (drops) is not linted.
    findings = lint_script(text, "x.sql", runner_sets_lock_timeout=True)
    assert [(f["rule"], f["line"]) for f in findings] == [("concurrently_in_transaction", 2)]


def lint_dir(tmp_path, files, **extra):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return lint_service(service_params(paths=[str(tmp_path)], block_on="none", **extra), False, False)


@pytest.mark.parametrize("before, change, breaks", [
    ("note varchar(50)", "note TYPE varchar(200)", False),
    ("note varchar(50)", "note TYPE varchar(50)", False),
    ("note varchar(50)", "note TYPE text", False),
    ("note varchar", "note TYPE text", False),
    ("note text", "note TYPE varchar", False),
    ("amount numeric(10,2)", "amount TYPE numeric(12,2)", False),
    ("note varchar(200)", "note TYPE varchar(50)", True),
    ("amount numeric(10,2)", "amount TYPE numeric(12,3)", True),
    ("n int", "n TYPE bigint", True),
    ("n int", "n TYPE text", True),
    ("note varchar(50)", "note TYPE text USING upper(note)", True),
])
def test_type_changes_are_judged_on_the_type_the_earlier_files_gave(tmp_path, before, change, breaks):
    result = lint_dir(tmp_path, {"V1__create.sql": "CREATE TABLE orders (id int, %s);\n" % before,
                                 "V10__change.sql": "ALTER TABLE orders ALTER COLUMN %s;\n" % change})
    found = [f for f in result["findings"] if f["rule"] == "change_column_type"]
    assert bool(found) is breaks
    assert all(f["breaks_running_version"] for f in found)


def test_type_change_of_a_column_the_files_do_not_show_is_assumed_breaking():
    assert rules("ALTER TABLE t ALTER COLUMN note TYPE text") == ["change_column_type"]


def test_drop_default_breaks_only_a_not_null_column(tmp_path):
    result = lint_dir(tmp_path, {
        "V1__create.sql": "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL DEFAULT 1, b int DEFAULT 2, "
                          "c int DEFAULT 3);\nALTER TABLE t ALTER COLUMN c SET NOT NULL;\n",
        "V2__drop.sql": "ALTER TABLE t ALTER COLUMN a DROP DEFAULT;\nALTER TABLE t ALTER COLUMN b DROP DEFAULT;\n"
                        "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;\n"})
    assert [(f["rule"], f["line"]) for f in result["findings"]] == [("drop_default", 1), ("drop_default", 3)]
    assert result["breaking"] == result["findings"]


def test_renamed_columns_and_tables_keep_their_type(tmp_path):
    result = lint_dir(tmp_path, {
        "V1__create.sql": "CREATE TABLE t (note varchar(10));\n",
        "V2__rename.sql": "-- shipyard:ignore rename_table,rename_column reason: test\n"
                          "ALTER TABLE t RENAME TO u;\n"
                          "-- shipyard:ignore rename_column reason: test\nALTER TABLE u RENAME COLUMN note TO memo;\n",
        "V3__widen.sql": "ALTER TABLE u ALTER COLUMN memo TYPE varchar(20);\n"})
    assert result["findings"] == []


def test_every_rule_reports_a_verdict_row_and_every_row_names_a_rule_that_exists():
    for verdict in BLUE_GREEN:
        assert set(verdict.rules) <= set(RULES), verdict
    rules_in_table = {r for v in BLUE_GREEN for r in v.rules}
    assert rules_in_table == set(RULES)


def test_docs_show_the_verdict_table_of_the_code():
    docs = os.path.join(os.path.dirname(__file__), *[".."] * 5, "docs", "migrations.md")
    with open(docs) as handle:
        assert markdown_table() in handle.read(), "docs/migrations.md lacks the table of verdicts.py"


def test_goose_down_section_is_not_linted():
    text = ("-- +goose Up\n-- +goose StatementBegin\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- +goose StatementEnd\n"
            "-- +goose Down\nDROP TABLE t;\n")
    assert [(f["rule"], f["line"]) for f in lint_script(text, "x.sql", runner_sets_lock_timeout=True)] == [
        ("concurrently_in_transaction", 3)]


def test_statements_after_non_ascii_text_keep_their_text_and_line():
    # The parser counts UTF-8 bytes; the statements must still be cut at the right characters.
    text = ("-- Größe, prix en €, 日本語\nCREATE TABLE t (note text DEFAULT 'é');\n\n"
            "-- shipyard:ignore drop_column reason: über\nALTER TABLE u DROP COLUMN c;\nALTER TABLE u DROP COLUMN d;\n")
    findings = lint_script(text, "x.sql", runner_sets_lock_timeout=True)
    assert [(f["rule"], f["line"], f["statement"], f["suppressed"], f["suppression_reason"]) for f in findings] == [
        ("drop_column", 5, "ALTER TABLE u DROP COLUMN c", True, "über"),
        ("drop_column", 6, "ALTER TABLE u DROP COLUMN d", False, None),
    ]
    with pytest.raises(SqlFileError, match="at line 2"):
        lint_script("-- €€€\nSELECT 1 FROM;\n", "x.sql")


@pytest.mark.parametrize("text, runner", [
    ("-- SHIPYARD:No-Transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n", "shipyard"),
    ("-- +GOOSE Up\n-- +goose NO TRANSACTION\nCREATE INDEX CONCURRENTLY i ON t (a);\n", "goose"),
    ("--liquibase formatted sql\n--changeset me:1 RUNINTRANSACTION:FALSE\nSELECT 1;\n", "liquibase"),
    ("-- migrate:up transaction:false\nSELECT 1;\n-- migrate:down\nSELECT 2;\n", "dbmate"),
    ("-- shipyard: no transaction here\n-- goose, changeset: runInTransaction is false\nSELECT 1;\n", None),
])
@pytest.mark.parametrize("tail", ["", "-- é\n"], ids=["ascii", "non-ascii"])
def test_markers_are_found_in_any_case_in_ascii_and_other_text(text, runner, tail):
    # ASCII text skips the regular expressions when the marker's words are absent; other text
    # always runs them: both must give the same answer.
    assert no_transaction_marker(text + tail) == runner
    assert up_section("-- +Goose UP\nSELECT 1;\n-- +GOOSE down\nDROP TABLE t;\n" + tail).count("DROP") == 0


@pytest.mark.parametrize("text", [
    "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n",
    "-- +GOOSE UP\n--\t+goose   down\n-- +goose NO   TRANSACTION\n-- +goose no transaction\n",
    "--\n+goose up\n--\n+goose down\n",  # \s matches the line break: the mark starts a line earlier
    "x-- +goose up\n -- +goose down\n---+goose up\n-- +goose upx\n-- +goose downtown\n+goose up\n",
    "+goose\n-- +goose up -- +goose down\n-- +goose\nup\n",
])
def test_goose_marks_are_the_ones_a_whole_text_scan_finds(text):
    # In ASCII text the goose patterns are tried only three characters before each "+goose".
    for pattern in (GOOSE_UP_RE, GOOSE_DOWN_RE, GOOSE_NO_TX_RE):
        expected = [m.span() for m in pattern.finditer(text)]
        assert [m.span() for m in _goose_annotations(pattern, text, text.lower())] == expected
        assert [m.span() for m in _goose_annotations(pattern, text, None)] == expected


@pytest.mark.parametrize("comment", [
    "-- SHIPYARD:IGNORE DROP_COLUMN reason: upper case",
    "-- \u017fhipyard:ignore drop_column reason: a long s, which re matches as s",
])
def test_a_suppression_is_found_in_any_case(comment):
    # ASCII comments are searched for "shipyard" before the regular expression; other text is not.
    findings = lint_script(comment + "\nALTER TABLE u DROP COLUMN c;\n", "x.sql", runner_sets_lock_timeout=True)
    assert [(f["rule"], f["suppressed"]) for f in findings] == [("drop_column", True)]


def test_a_long_operator_chain_is_linted_not_a_crash():
    # 3,000 chained || nest the parse tree's JSON about 6,000 levels deep, past Python's default
    # recursion limit of 1,000 (pglast's AST objects had no such limit).
    chain = " || ".join(["'x'"] * 3000)
    findings = lint_script("INSERT INTO t VALUES (%s);\nALTER TABLE t DROP COLUMN c;\n" % chain, "x.sql",
                           runner_sets_lock_timeout=True)
    assert [(f["rule"], f["line"]) for f in findings] == [("drop_column", 2)]
