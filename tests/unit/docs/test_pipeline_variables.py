"""docs/pipeline-variables.yml against the playbooks and the example inventories, so it cannot go stale.

Every shipyard_* variable a playbook reads (and does not set itself) is described there; every one
described there is read by some playbook; every shipyard_* variable an inventory sets is described (or is
a helper the inventory itself uses, like the demo's shipyard_demo_root).
"""

from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

SPEC_HINT = "describe it in docs/pipeline-variables.yml and run `make docs`"


@pytest.fixture(scope="module")
def spec(generator):
    return generator.load_playbook_spec()


def _inputs(generator, name):
    usage = generator.playbook_usage(name)
    return usage.referenced - usage.defined - usage.exports


def test_every_variable_a_playbook_reads_is_described(generator, spec):
    for name in generator.playbook_names():
        missing = sorted(_inputs(generator, name) - set(spec["variables"]))
        assert not missing, "playbooks/%s.yml reads %s: %s" % (name, ", ".join(missing), SPEC_HINT)


def test_every_described_variable_is_read_by_a_playbook(generator, spec):
    read = set().union(*(generator.playbook_usage(name).referenced for name in generator.playbook_names()))
    unused = sorted(set(spec["variables"]) - read)
    assert not unused, "docs/pipeline-variables.yml describes variables no playbook reads: %s" % ", ".join(unused)


def test_variables_set_inside_a_task_file_count_as_read(generator):
    # deploy.yml includes playbooks/tasks/*.yml; what those read is what deploy.yml reads
    included = glob.glob(os.path.join(generator.ROOT, "playbooks", "tasks", "*.yml"))
    usage = generator.playbook_usage("deploy")
    for path in included:
        with open(path) as handle:
            assert set(generator.VARIABLE.findall(handle.read())) <= usage.referenced, path


def _inventory_variables(generator, path):
    """(shipyard_* keys the file sets, shipyard_* words its values use)."""
    with open(path) as handle:
        text = handle.read()
    keys = set()
    for node in generator.mappings(yaml.safe_load(text)):
        keys |= {k for k in node if isinstance(k, str) and k.startswith("shipyard_")}
    values = set(re.findall(r":.*?\b(shipyard_[a-z0-9_]+)", text))
    return keys, values


EXAMPLE_INVENTORIES = ["docs/examples/ports/inventory", "docs/examples/host_groups/inventory"]
DEMO_INVENTORIES = ["inventory/local", "inventory/local_groups"]


@pytest.mark.parametrize("inventory", [*DEMO_INVENTORIES, "inventory/staging", "inventory/production",
                                       *EXAMPLE_INVENTORIES])
def test_every_variable_an_inventory_sets_is_described(generator, spec, inventory):
    folder = os.path.join(generator.ROOT, inventory)
    files = sorted(glob.glob(os.path.join(folder, "*.yml")) + glob.glob(os.path.join(folder, "*_vars", "*.yml")))
    assert files
    keys, values = set(), set()
    for path in files:
        file_keys, file_values = _inventory_variables(generator, path)
        keys |= file_keys
        values |= file_values
    # a variable that no playbook reads is fine only as a helper the inventory's own values use
    unknown = sorted(k for k in keys - set(spec["variables"]) if k not in values)
    assert not unknown, "%s sets %s, which no playbook reads: %s" % (inventory, ", ".join(unknown), SPEC_HINT)


@pytest.mark.parametrize("inventory", ["inventory/staging", "inventory/production", *EXAMPLE_INVENTORIES])
def test_example_inventories_set_every_required_variable(generator, spec, inventory):
    keys = set()
    for path in glob.glob(os.path.join(generator.ROOT, inventory, "**", "*.yml"), recursive=True):
        keys |= _inventory_variables(generator, path)[0]
    required = {v for v, info in spec["variables"].items() if info.get("required")} - {"shipyard_version"}
    assert sorted(required - keys) == []


def test_spec_is_complete_and_consistent(generator, spec):
    assert sorted(spec["playbooks"]) == generator.playbook_names()
    for name, info in spec["variables"].items():
        assert info["section"] in spec["sections"], name
        assert info.get("description"), name
        assert not ("default" in info and info.get("required")), name
    for name, book in spec["playbooks"].items():
        assert book["summary"] and book["description"] and book["run"], name
        for line in book["run"].strip().splitlines():
            assert line.startswith("ansible-playbook shipyard.deploy.%s " % name), line
        for variable in book.get("optional", []):
            assert variable in generator.playbook_inputs(name, spec["variables"]), (name, variable)
        if book.get("role_options"):
            role = book["role_options"]["role"]
            with open(os.path.join(generator.ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
                options = set(yaml.safe_load(handle)["argument_specs"]["main"]["options"])
            assert set(book["role_options"]["options"]) <= options, name


def test_every_set_stats_export_is_described(generator, spec):
    for name in generator.playbook_names():
        exports = set(generator.playbook_usage(name).exports)
        for imported in generator.playbook_usage(name).imports:
            exports |= generator.playbook_usage(imported).exports
        assert exports <= set(spec["playbooks"][name].get("exports", {})), name


def test_the_page_lists_each_playbooks_variables(generator, spec):
    page = generator.playbooks_page(spec)
    section = page.split('<a id="playbook-backup_verify"></a>')[1].split('<a id="playbook-deploy"></a>')[0]
    assert "[`shipyard_backup_location`](#shipyard_backup_location)" in section
    assert "shipyard_strategy" not in section
    # staging imports deploy: it reads what deploy reads
    staging = page.split('<a id="playbook-staging"></a>')[1].split('<a id="variables"></a>')[0]
    assert "[`shipyard_strategy`](#shipyard_strategy)" in staging
    # rollback reads shipyard_version only to redeploy: optional there
    rollback = page.split('<a id="playbook-rollback"></a>')[1].split('<a id="playbook-staging"></a>')[0]
    assert re.search(r"- optional: .*\[`shipyard_version`\]", rollback)


@pytest.mark.parametrize("page", ["getting-started.md", "pipeline.md"])
def test_hand_written_guides_name_only_real_variables_and_playbooks(generator, spec, page):
    with open(os.path.join(generator.DOCS, page)) as handle:
        text = handle.read()
    exports = set().union(*(book.get("exports", {}) for book in spec["playbooks"].values()))
    unknown = sorted(set(generator.VARIABLE.findall(text)) - set(spec["variables"]) - exports)
    assert not unknown, "docs/%s names variables no playbook reads: %s" % (page, ", ".join(unknown))
    content = set(generator.module_names()) | set(generator.role_names()) | set(generator.playbook_names())
    named = set(re.findall(r"\bshipyard\.deploy\.([a-z_]+)\b", text)) - {"postgresql", "aws", "traffic"}
    assert sorted(named - content) == []
    for playbook in re.findall(r"ansible-playbook shipyard\.deploy\.([a-z_]+)", text):
        assert playbook in generator.playbook_names(), playbook
    rollback = spec["playbooks"]["rollback"]["role_options"]["options"]
    assert sorted(set(re.findall(r"-e (rollback_[a-z_]+)=", text)) - set(rollback)) == []
