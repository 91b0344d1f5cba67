"""``ansible-doc`` on the installed collection: every module and role entry point renders.

What users read is ``ansible-doc`` (and the docs built from its JSON), so both the JSON and the plain
text rendering must work for every module file and every entry point of every
``roles/*/meta/argument_specs.yml``, and every module must say how it supports check and diff mode.
"""

from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from harness.collection import tracked_files
from harness.playbook import REPO_ROOT

NS = "shipyard.deploy."
TRACKED = tracked_files()
MODULES = sorted(m.group(1) for m in (re.match(r"plugins/modules/([a-z0-9_]+)\.py$", f) for f in TRACKED)
                 if m)
ROLES = sorted(m.group(1) for m in (re.match(r"roles/([a-z0-9_]+)/", f) for f in TRACKED) if m)
ROLES = sorted(set(ROLES))


def _entry_points():
    points = []
    for role in ROLES:
        spec_file = os.path.join(REPO_ROOT, "roles", role, "meta", "argument_specs.yml")
        if not os.path.isfile(spec_file):
            points.append((role, None))  # fails in test_every_role_has_an_argument_spec
            continue
        with open(spec_file) as handle:
            specs = yaml.safe_load(handle)["argument_specs"]
        points += [(role, entry) for entry in sorted(specs)]
    return points


ENTRY_POINTS = [p for p in _entry_points() if p[1]]
SUPPORT = {"full", "partial", "none"}


@pytest.fixture(scope="session")
def ansible_doc(installed_collection):
    """The ansible-doc runs of these tests, {key: process}, a few at a time.

    Modules and roles are rendered in one run per format (ansible-doc fails the whole run, naming
    the plugin, when one of them does not render; a run costs about a second of CPU), and each
    role entry point once more on its own with ``-e``.
    """
    modules = [NS + m for m in MODULES]
    roles = [NS + r for r in ROLES]
    calls = {
        "module-json": ["-t", "module", "--json", *modules],
        "module-text": ["-t", "module", *modules],
        "role-json": ["-t", "role", "--json", *roles],
        "role-text": ["-t", "role", *roles],
        "module-list": ["-t", "module", "--json", "-l", "shipyard.deploy"],
        "role-list": ["-t", "role", "--json", "-l", "shipyard.deploy"],
    }
    for role, entry in ENTRY_POINTS:
        calls[(role, entry)] = ["-t", "role", "--json", NS + role, "-e", entry]
    # terminal width fixed so the text rendering does not depend on where the tests run
    columns = {"COLUMNS": "100"}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(installed_collection.run, ["ansible-doc", *argv], env=columns)
                   for key, argv in calls.items()}
        return {key: future.result() for key, future in futures.items()}


def _sections(text, header):
    """Split ansible-doc's text output of several plugins into {name: its text}."""
    parts = re.split(r"^(?=%s)" % re.escape(header), text, flags=re.M)
    found = {}
    for part in parts:
        # without colour, ansible-doc marks bold text with asterisks
        match = re.match(re.escape(header) + r"\s*\*?([a-z0-9_.]+)", part)
        if match:
            found[match.group(1)] = part
    return found


def _ok(proc):
    """ansible-doc succeeded without an error or warning; returns its stdout."""
    assert proc.returncode == 0, proc.stderr
    assert "[ERROR]" not in proc.stderr and "[WARNING]" not in proc.stderr, proc.stderr
    return proc.stdout


def test_every_module_and_role_is_listed(ansible_doc, installed_collection):
    assert MODULES and ROLES
    modules = json.loads(_ok(ansible_doc["module-list"]))
    assert sorted(modules) == [NS + m for m in MODULES]
    roles = json.loads(_ok(ansible_doc["role-list"]))
    assert sorted(roles) == [NS + r for r in ROLES]
    assert all(info["collection"] == "shipyard.deploy" for info in roles.values())


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_an_argument_spec(role):
    assert os.path.isfile(os.path.join(REPO_ROOT, "roles", role, "meta", "argument_specs.yml"))


@pytest.mark.parametrize("module", MODULES)
def test_module_doc_renders_from_the_install_and_states_check_and_diff_support(
        module, ansible_doc, installed_collection):
    data = json.loads(_ok(ansible_doc["module-json"]))[NS + module]
    doc = data["doc"]
    assert doc["filename"].startswith(installed_collection.collection_dir + os.sep), doc["filename"]
    assert doc["short_description"] and doc["description"] and doc["options"] is not None
    assert data["examples"].strip(), "no EXAMPLES"
    assert data["return"], "no RETURN"

    attributes = doc.get("attributes") or {}
    for name in ("check_mode", "diff_mode"):
        assert name in attributes, "attributes.%s is not documented" % name
        attribute = attributes[name]
        assert attribute.get("support") in SUPPORT, attribute
        assert attribute.get("description"), attribute
        if attribute["support"] == "partial":
            assert attribute.get("details"), "partial %s support must say what is left out" % name

    text = _sections(_ok(ansible_doc["module-text"]), "> MODULE ")[NS + module]
    for heading in ("ATTRIBUTES", "EXAMPLES", "RETURN VALUES"):
        assert heading in text, heading
    assert "check_mode" in text and "diff_mode" in text


@pytest.mark.parametrize("role,entry", ENTRY_POINTS, ids=["%s-%s" % p for p in ENTRY_POINTS])
def test_role_entry_point_doc_renders(role, entry, ansible_doc, installed_collection):
    data = json.loads(_ok(ansible_doc[(role, entry)]))[NS + role]
    assert data["collection"] == "shipyard.deploy"
    assert data["path"] == installed_collection.collection_dir, data["path"]
    spec = data["entry_points"][entry]
    assert spec["short_description"], spec
    for name, option in (spec.get("options") or {}).items():
        assert option.get("description") and option.get("type"), (name, option)
    # the run over all roles has the same entry point
    assert json.loads(_ok(ansible_doc["role-json"]))[NS + role]["entry_points"][entry] == spec

    text = _sections(_ok(ansible_doc["role-text"]), "> ROLE: ")[NS + role]
    assert re.search(r"^ENTRY POINT: \*?%s\*? - %s$" % (entry, re.escape(spec["short_description"])), text,
                     re.M), text[:400]
