"""Release evidence produced by the real tools: pytest --junitxml, coverage.py, ruff's SARIF.

Each helper writes a tiny project into a directory, runs the tool on it in a subprocess exactly as
CI would, and returns the path of the report the tool wrote.  Audit reports need online databases,
so tests copy the tools' own published examples instead (tests/unit/.../evidence/fixtures/README.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "unit", "plugins", "module_utils", "evidence", "fixtures")

SHOP = '''
def total(prices, discount=0):
    """Sum of prices in cents, less a discount in percent."""
    gross = sum(prices)
    if discount:
        return gross - gross * discount // 100
    return gross


def label(cents):
    if cents < 0:
        raise ValueError("negative")
    return "%d.%02d" % divmod(cents, 100)
'''

GREEN_TESTS = '''
import pytest

from shop import label, total


def test_total():
    assert total([100, 250]) == 350


def test_discount():
    assert total([1000], discount=10) == 900


def test_label():
    assert label(1234) == "12.34"


@pytest.mark.skip(reason="the payment sandbox is down on Sundays")
def test_payment():
    pass
'''

RED_TESTS = GREEN_TESTS + '''

def test_negative_label():
    assert label(-5) == "-0.05"
'''

UNEXPLAINED_SKIP_TESTS = GREEN_TESTS + '''

@pytest.mark.skip
def test_refund():
    pass
'''


def _run(args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_", "COVERAGE_"))}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def _project(workdir, tests):
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "shop.py"), "w") as handle:
        handle.write(textwrap.dedent(SHOP))
    with open(os.path.join(workdir, "test_shop.py"), "w") as handle:
        handle.write(textwrap.dedent(tests))


def pytest_junit(workdir, tests=GREEN_TESTS, name="junit.xml"):
    """Run pytest --junitxml on the little shop project; return the report's path."""
    _project(workdir, tests)
    report = os.path.join(workdir, name)
    _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=" + report,
          "test_shop.py"], workdir)
    assert os.path.exists(report), "pytest wrote no JUnit report"
    return report


def coverage_reports(workdir, tests=GREEN_TESTS, branch=True):
    """Run the shop's tests under coverage.py; return {"xml", "json", "lcov"} report paths."""
    _project(workdir, tests)
    data = os.path.join(workdir, ".coverage")
    run = [sys.executable, "-m", "coverage", "run", "--data-file=" + data, "--include=shop.py"]
    if branch:
        run.append("--branch")
    _run([*run, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_shop.py"], workdir)
    paths = {}
    for kind, name in (("xml", "coverage.xml"), ("json", "coverage.json"), ("lcov", "lcov.info")):
        paths[kind] = os.path.join(workdir, name)
        result = _run([sys.executable, "-m", "coverage", kind, "--data-file=" + data, "-o", paths[kind]], workdir)
        assert result.returncode == 0, result.stderr
    return paths


def ruff_sarif(workdir, source, name="ruff.sarif", select="F,E"):
    """Run ``ruff check --output-format sarif`` on ``source`` (isolated from any ruff config)."""
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "module.py"), "w") as handle:
        handle.write(textwrap.dedent(source))
    report = os.path.join(workdir, name)
    ruff = shutil.which("ruff", path=os.path.dirname(sys.executable)) or shutil.which("ruff")
    result = _run([ruff, "check", "--isolated", "--select", select, "--output-format", "sarif", "--exit-zero",
                   "--output-file", report, "module.py"], workdir)
    assert result.returncode == 0, result.stderr
    return report


def evidence_folder(dest, version, tests=GREEN_TESTS, audit="pip-audit.json", lint_source="X = 1\n",
                    changelog_version=None, artifact_sha256=None):
    """A whole evidence/ folder as CI would publish it: JUnit, coverage, SARIF, an audit, evidence.json."""
    work = dest + ".work"
    os.makedirs(dest, exist_ok=True)
    shutil.copy(pytest_junit(os.path.join(work, "tests"), tests), os.path.join(dest, "junit.xml"))
    shutil.copy(coverage_reports(os.path.join(work, "coverage"), GREEN_TESTS)["xml"],
                os.path.join(dest, "coverage.xml"))
    shutil.copy(ruff_sarif(os.path.join(work, "lint"), lint_source), os.path.join(dest, "ruff.sarif"))
    if audit:
        shutil.copy(os.path.join(FIXTURES, audit), os.path.join(dest, "audit.json"))
    manifest = {"version": version}
    if artifact_sha256:
        manifest["artifact_sha256"] = artifact_sha256
    import json

    with open(os.path.join(dest, "evidence.json"), "w") as handle:
        json.dump(manifest, handle)
    shutil.rmtree(work)
    return dest


def changelog(version, previous="0.9.0"):
    """A Keep a Changelog file with an entry for ``version``."""
    return textwrap.dedent("""\
        # Changelog

        ## [Unreleased]

        ## [%s] - 2026-11-30
        ### Fixed
        - Totals round discounts down.

        ## [%s] - 2026-10-01
        ### Added
        - The shop.
        """ % (version, previous))
