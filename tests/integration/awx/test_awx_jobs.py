"""AWX jobs without AWX: the deploy and backup-verification job templates through ansible-runner.

ansible-runner is the engine AWX runs every job with.  Each job here gets a private data directory
as AWX writes it: the project (thin playbooks importing the collection's), the inventory (the demo's,
with this stack's ports as inventory variables), the database password as a credential injects it
(an extra variable), and the collection from ANSIBLE_COLLECTIONS_PATH: the build installed by
`ansible-galaxy collection install`, as in an execution environment.  The servers are real (demo stack).
"""

from __future__ import annotations

import os
import re

import pytest
from harness.awx import PrivateDataDir
from harness.playbook import REPO_ROOT
from harness.stack import INVENTORY, running_stack
from harness.webhook import WebhookReceiver

PROJECT_PLAYBOOKS = {"deploy.yml": "shipyard.deploy.deploy", "backup_verify.yml": "shipyard.deploy.backup_verify",
                     "rollback.yml": "shipyard.deploy.rollback"}


@pytest.fixture(scope="module")
def stack():
    with running_stack() as running:
        yield running


@pytest.fixture(scope="module")
def awx_job(stack, installed_collection, tmp_path_factory):
    """Make and run one job: ``awx_job(playbook, ident, survey)`` -> RunnerJob."""
    password = stack.password
    # the inventory must not know the password: only the credential does (demo/infra.py's file is hidden)
    hidden = os.path.join(stack.root, "pg-password")
    os.rename(hidden, hidden + ".away")

    def run(playbook, ident, verbosity=0, project=None, **survey):
        data_dir = PrivateDataDir(tmp_path_factory.mktemp("awx-job-" + ident))
        for name, fqcn in PROJECT_PLAYBOOKS.items():
            data_dir.project_playbook(name, fqcn)
        for name, text in (project or {}).items():
            data_dir.project_file(name, text)
        data_dir.inventory(INVENTORY, overrides=stack.inventory_vars())
        data_dir.env(
            extravars=dict(survey, shipyard_db_password=password),
            envvars={"ANSIBLE_COLLECTIONS_PATH": installed_collection.collections_path,
                     "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "False",
                     "ANSIBLE_LOCAL_TEMP": os.path.join(data_dir.path, "tmp")},
            settings={"job_timeout": 600},
            cmdline="-" + "v" * verbosity if verbosity else None,
        )
        job = data_dir.run(playbook, ident)
        job.password = password
        return job

    try:
        yield run
    finally:
        os.rename(hidden + ".away", hidden)


def assert_no_secret(job, secret=None):
    """Neither ``secret`` nor the database password is in anything the job wrote."""
    for value in filter(None, (job.password, secret)):
        # the search would find it: the job's own input holds it, as AWX's private data directory does
        with open(os.path.join(job.artifact_dir, "..", "..", "env", "extravars")) as handle:
            assert value in handle.read()
        leaks = [path for path, content in job.files() if value.encode() in content]
        assert leaks == [], "a secret is in %s" % leaks


def docs_announce_playbook():
    """The workflow node of docs/awx.md that uses the deploy job's exported stats."""
    with open(os.path.join(REPO_ROOT, "docs", "awx.md"), encoding="utf-8") as handle:
        blocks = re.findall(r"```yaml\n(# announce.yml in the project\n.*?)```", handle.read(), flags=re.S)
    assert len(blocks) == 1, "docs/awx.md has no announce.yml example"
    return blocks[0]


def test_deploy_job_template(stack, awx_job):
    # verbosity 3 (Debug): module arguments and results are in the output, where a secret would show
    job = awx_job("deploy.yml", "deploy", verbosity=3, shipyard_version="1.0.0", shipyard_strategy="bluegreen")
    assert (job.rc, job.status) == (0, "successful"), job.output
    assert stack.serving() == {"slot": "blue", "version": "1.0.0", "path": "/"}
    events = [e for e in job.events if e["event"] != "verbose"]  # -vvv adds free-text lines
    assert events[0]["event"] == "playbook_on_start" and events[-1]["event"] == "playbook_on_stats"
    assert not [e for e in events if e["event"] == "runner_on_failed" and not e["event_data"].get("ignore_errors")]
    assert "PLAY RECAP" in job.stdout
    # what the job template exports (AWX: the job's artifacts, extra variables of later workflow nodes)
    deployment = job.stats()["shipyard_deployment"]
    assert deployment["version"] == "1.0.0" and deployment["outcome"] == "succeeded"
    last = stack.ledger()[-1]
    assert (last["deployment_id"], last["event"]) == (deployment["deployment_id"], "succeeded")
    assert deployment["backup_id"]
    # the deploy report: written next to the ledger (on the EE, for AWX), its place exported
    report = deployment["report"]
    assert os.path.dirname(report["html"]) == os.path.join(stack.root, "reports")
    with open(report["markdown"], encoding="utf-8") as handle:
        assert handle.read().startswith("# shop 1.0.0 to local: succeeded")
    for path in (report["html"], report["markdown"]):  # reports get shared: no secret in them either
        with open(path, "rb") as handle:
            assert job.password.encode() not in handle.read(), path
    assert_no_secret(job)
    stack.exported = job.stats()


def test_a_console_approval_is_refused_before_anything_moves(stack, awx_job):
    """A pause in an AWX job waits for input that never comes: refuse it at once, not at the timeout."""
    before = stack.snapshot()
    ledger_before = len(stack.ledger())
    job = awx_job("deploy.yml", "approval", shipyard_version="2.0.0", shipyard_strategy="canary",
                  shipyard_approval_before_full=True, awx_job_id=42)
    assert (job.rc, job.status) == (2, "failed"), job.output
    failed = [e for e in job.events if e["event"] == "runner_on_failed"]
    assert "workflow approval node" in failed[-1]["event_data"]["res"]["msg"]
    assert stack.snapshot() == before and len(stack.ledger()) == ledger_before
    assert_no_secret(job)


def test_a_later_workflow_node_uses_the_exported_deployment(stack, awx_job):
    """AWX hands a job's artifacts to the next workflow nodes as extra variables: docs/awx.md's announce node."""
    webhook = WebhookReceiver().start()
    try:
        job = awx_job("announce.yml", "announce", project={"announce.yml": docs_announce_playbook()},
                      shipyard_webhook_url=webhook.url, **stack.exported)
    finally:
        webhook.stop()
    assert (job.rc, job.status) == (0, "successful"), job.output
    (message,) = webhook.received
    assert message["text"].startswith(":white_check_mark: Deployment of shop 1.0.0 to local succeeded"), message
    assert "succeeded in " in message["text"]
    assert stack.exported["shipyard_deployment"]["report"]["html"] in message["text"]
    assert_no_secret(job, webhook.token)


def test_backup_verification_job_template(stack, awx_job):
    job = awx_job("backup_verify.yml", "backup-verify")
    assert (job.rc, job.status) == (0, "successful"), job.output
    verification = job.stats()["backup_verification"]
    assert verification["verified"] is True
    # the backup the deploy job took (before the first migration: no rows yet) is the one proven restorable
    deployed = [r for r in stack.ledger() if r["event"] == "backup"][-1]["data"]
    assert (verification["backup_id"], verification["sha256"]) == (deployed["backup_id"], deployed["sha256"])
    assert_no_secret(job)


def test_a_failing_backup_verification_fails_the_job(stack, awx_job):
    """What the nightly schedule's failure notification fires on: the job status."""
    job = awx_job("backup_verify.yml", "backup-stale", shipyard_backup_max_age=0)
    assert (job.rc, job.status) == (2, "failed"), job.output
    failed = [e for e in job.events if e["event"] == "runner_on_failed"]
    assert failed and "h old" in failed[-1]["event_data"]["res"]["msg"]
    assert "backup_verification" not in job.stats()
    assert_no_secret(job)


def test_rollback_job_template_with_survey_answers(stack, awx_job):
    """docs/awx.md's rollback survey: multiple-choice answers arrive as the strings "false"/"true"."""
    job = awx_job("deploy.yml", "deploy-2", shipyard_version="2.0.0", shipyard_strategy="bluegreen")
    assert (job.rc, job.status) == (0, "successful"), job.output
    assert stack.serving()["version"] == "2.0.0"
    job = awx_job("rollback.yml", "rollback", rollback_reason="awx: 2.0.0 misbehaves",
                  rollback_restore_database="false", rollback_emergency="false")
    assert (job.rc, job.status) == (0, "successful"), job.output
    assert stack.serving() == {"slot": "blue", "version": "1.0.0", "path": "/"}
    rolled_back = job.stats()["shipyard_deployment"]
    assert (rolled_back["version"], rolled_back["outcome"]) == ("2.0.0", "rolled_back")
    last = stack.ledger()[-1]
    assert last["event"] == "rolled_back" and last["data"]["reason"] == "awx: 2.0.0 misbehaves"
    assert last["data"]["database_restored"] is False and last["data"]["emergency"] is False
    assert_no_secret(job)
