"""docs/awx.md stays true: its survey specs ask for variables the playbooks take, with the choices they
accept, and its tables of exported stats list the keys the playbooks export."""

from __future__ import annotations

import json
import os
import re

import yaml
from harness.playbook import REPO_ROOT

from ansible_collections.shipyard.deploy.plugins.module_utils.ledger import summarize

DOC = os.path.join(REPO_ROOT, "docs", "awx.md")


def doc_text():
    with open(DOC, encoding="utf-8") as handle:
        return handle.read()


def fenced(language):
    return re.findall(r"```%s\n(.*?)```" % language, doc_text(), flags=re.S)


def role_options(role):
    with open(os.path.join(REPO_ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


def table_keys(after_heading):
    """The backquoted keys in the first column of the table that follows ``after_heading``."""
    text = doc_text().split(after_heading, 1)[1]
    rows = re.findall(r"^\| (.+?) \|", text.split("\n\n", 2)[1], flags=re.M)
    return {key for row in rows for key in re.findall(r"`([a-z_.]+)`", row)}


def test_survey_specs_ask_for_what_the_playbooks_take():
    surveys = {spec["name"]: spec for spec in (json.loads(block) for block in fenced("json")) if "spec" in spec}
    assert set(surveys) == {"Deploy", "Rollback"}
    deploy = {q["variable"]: q for q in surveys["Deploy"]["spec"]}
    assert set(deploy) == {"shipyard_version", "shipyard_strategy"}
    assert deploy["shipyard_strategy"]["choices"] == role_options("traffic")["traffic_strategy"]["choices"]
    assert deploy["shipyard_version"]["required"] is True
    rollback = {q["variable"]: q for q in surveys["Rollback"]["spec"]}
    options = role_options("rollback")
    for name, question in rollback.items():
        assert name in options, name
        if options[name].get("type") == "bool":
            assert set(question["choices"]) == {"true", "false"}, name


def test_exported_keys_are_the_ones_documented():
    record = {"deployment_id": "d", "environment": "staging", "application": "shop", "version": "1",
              "time": "2026-11-22T05:00:00.000000Z", "event": "started"}
    exported = set(summarize([record], "d")) | {"report.html", "report.markdown"}
    documented = table_keys("`shipyard_deployment` is the deployment's summary")
    assert documented == exported
    with open(os.path.join(REPO_ROOT, "roles", "backup_verify", "tasks", "main.yml")) as handle:
        tasks = yaml.safe_load(handle)
    report = next(t for t in tasks if "backup_verify_report" in t.get("ansible.builtin.set_fact", {}))
    keys = set(report["ansible.builtin.set_fact"]["backup_verify_report"])
    paragraph = next(x for x in doc_text().split("\n\n") if x.startswith("`backup_verification`:"))
    assert set(re.findall(r"`([a-z_0-9]+)`", paragraph.split(":", 1)[1])) == keys
