"""pglast's parser imported with its AST classes and enums deferred (statements.py).

Each check runs in a fresh interpreter: whether pglast.ast is loaded depends on what the
process imported before, and pytest's own process has imported much already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("pglast")

# the collections root conftest.py put on sys.path
COLLECTIONS = next(p for p in sys.path if os.path.isdir(os.path.join(p, "ansible_collections", "shipyard", "deploy")))


def run_fresh(code):
    """Run ``code`` in a new Python with the collection importable; return what it printed as JSON."""
    prelude = "import json, sys, types\nsys.path.insert(0, %r)\n" % COLLECTIONS
    out = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


STATEMENTS = "ansible_collections.shipyard.deploy.plugins.module_utils.migrations.statements"


def test_the_lint_leaves_pglast_ast_and_enums_unloaded():
    seen = run_fresh("""
        import %s as statements
        print(json.dumps({
            "deferred": {name: type(sys.modules[name]) is not types.ModuleType
                         for name in statements.LAZY_PGLAST_MODULES},
            "finder_left": [type(f).__name__ for f in sys.meta_path if "Pglast" in type(f).__name__],
            "parsed": [s.kind for s in statements.split_statements("ALTER TABLE t ADD c int; SELECT 1")],
        }))
    """ % STATEMENTS)
    assert seen["deferred"] == {"pglast.ast": True, "pglast.enums": True}
    assert seen["finder_left"] == []  # installed only while pglast.parser is imported
    assert seen["parsed"] == ["AlterTableStmt", "SelectStmt"]


def test_whoever_uses_pglast_ast_later_gets_the_real_modules():
    seen = run_fresh("""
        import %s as statements
        import pglast
        tree = pglast.parse_sql("SELECT 1")  # builds pglast.ast objects
        print(json.dumps({
            "node": type(tree[0].stmt).__name__,
            "enum": pglast.enums.AlterTableType.AT_AddColumn.name,
            "loaded": {name: type(sys.modules[name]) is types.ModuleType for name in statements.LAZY_PGLAST_MODULES},
        }))
    """ % STATEMENTS)
    assert seen == {"node": "SelectStmt", "enum": "AT_AddColumn", "loaded": {"pglast.ast": True, "pglast.enums": True}}


def test_already_imported_pglast_is_left_as_it_is():
    seen = run_fresh("""
        import pglast.ast
        real = sys.modules["pglast.ast"]
        import %s as statements
        print(json.dumps({"same": sys.modules["pglast.ast"] is real, "eager": type(real) is types.ModuleType,
                          "parsed": [s.kind for s in statements.split_statements("DROP TABLE t")]}))
    """ % STATEMENTS)
    assert seen == {"same": True, "eager": True, "parsed": ["DropStmt"]}
