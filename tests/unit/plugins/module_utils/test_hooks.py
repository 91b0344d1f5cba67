"""shipyard_hooks: names checked, files resolved against the inventory directory, before anything runs."""

from __future__ import annotations

import os

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.hooks import HOOK_NAMES, hook_path, resolve_hooks


def test_every_phase_has_a_before_and_an_after_hook_in_deployment_order():
    assert HOOK_NAMES[:4] == ("before_fetch", "after_fetch", "before_preflight", "after_preflight")
    assert HOOK_NAMES[-2:] == ("before_rollback", "after_rollback")
    assert len(HOOK_NAMES) == 16 and "before_smoke" in HOOK_NAMES and "after_switch" in HOOK_NAMES


def test_relative_paths_resolve_against_the_inventory_directory(tmp_path):
    inventory = tmp_path / "inventory" / "production"
    (inventory / "hooks").mkdir(parents=True)
    (inventory / "hooks" / "maintenance.yml").write_text("- ansible.builtin.meta: noop\n")
    absolute = tmp_path / "elsewhere.yml"
    absolute.write_text("[]\n")
    resolved = resolve_hooks({"before_migrate": "hooks/maintenance.yml", "after_migrate": str(absolute),
                              "before_switch": None, "after_switch": ""}, str(inventory))
    assert resolved == {"before_migrate": str(inventory / "hooks" / "maintenance.yml"),
                        "after_migrate": str(absolute)}
    # a null or empty hook (an environment switching one off) is no hook at all


def test_order_of_the_result_is_the_deployment_order(tmp_path):
    (tmp_path / "a.yml").write_text("[]\n")
    resolved = resolve_hooks({"after_switch": "a.yml", "before_fetch": "a.yml"}, str(tmp_path))
    assert list(resolved) == ["before_fetch", "after_switch"]


def test_an_unknown_hook_name_is_refused_with_the_valid_names(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        resolve_hooks({"before_deploy": "x.yml", "after_migrate": "y.yml"}, str(tmp_path))
    message = caught.value.message
    assert "before_deploy, which is not a hook" in message
    assert "before_fetch, after_fetch" in message and "after_rollback" in message
    assert caught.value.details["unknown_hooks"] == ["before_deploy"]


def test_a_missing_file_is_refused_naming_the_hook_and_where_it_was_looked_for(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        resolve_hooks({"before_backup": "hooks/missing.yml"}, str(tmp_path))
    message = caught.value.message
    assert message.startswith("shipyard_hooks.before_backup: the task file %s does not exist"
                              % os.path.join(str(tmp_path), "hooks", "missing.yml"))
    assert "resolved against the inventory directory %s" % tmp_path in message


def test_a_directory_is_not_a_task_file(tmp_path):
    (tmp_path / "hooks").mkdir()
    with pytest.raises(ConfigurationError, match="after_fetch: the task file"):
        resolve_hooks({"after_fetch": "hooks"}, str(tmp_path))


@pytest.mark.parametrize("hooks", [["before_fetch"], "before_fetch.yml", {"before_fetch": 3}])
def test_hooks_of_the_wrong_shape_are_refused(hooks, tmp_path):
    with pytest.raises(ConfigurationError, match="shipyard_hooks"):
        resolve_hooks(hooks, str(tmp_path))


def test_no_hooks_is_an_empty_plan(tmp_path):
    assert resolve_hooks(None, str(tmp_path)) == {} == resolve_hooks({}, str(tmp_path))


def test_hook_path_expands_the_home_directory(tmp_path):
    assert hook_path("~/x.yml", "/srv") == os.path.join(os.path.expanduser("~"), "x.yml")
    assert hook_path("../hooks/x.yml", "/srv/inventory") == "/srv/hooks/x.yml"
