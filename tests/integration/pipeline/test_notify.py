"""notify through real ansible-playbook runs against a real HTTP webhook receiver."""

from __future__ import annotations

import pytest
from harness.net import free_port
from harness.playbook import play
from harness.webhook import WebhookReceiver


@pytest.fixture
def webhook():
    receiver = WebhookReceiver(responses=[500, 429]).start()
    yield receiver
    receiver.stop()


def notify(name, url, **args):
    task = {"webhook_url": url, "application": "shop", "environment": "production", "version": "1.4.2"}
    task.update(args)
    return {"name": name, "shipyard.deploy.notify": task}


def test_retries_then_delivers_and_never_shows_the_url(playbook, webhook):
    run = playbook.run(play([
        notify("rollback", webhook.url, event="rollback", text="error rate 20% > 5%",
               fields={"deployment": "d-1"}, timeout=5),
    ]), verbosity=3, extra_vars={})
    assert run.rc == 0, run.output
    result = run.task("rollback")
    assert result["delivered"] is True and result["attempts"] == 3 and result["changed"] is False
    assert len(webhook.received) == 1
    message = webhook.received[0]
    assert "rolled back" in message["text"] and "error rate 20% > 5%" in message["text"]
    assert message["blocks"][1]["fields"][0]["text"] == "*deployment*\nd-1"
    assert webhook.token not in run.output


def test_unreachable_webhook_does_not_fail_the_play_unless_asked(playbook):
    dead = "http://127.0.0.1:%d/services/secret-dead-token" % free_port()
    run = playbook.run(play([
        notify("quiet", dead, event="failure", retries=1, timeout=2),
        notify("loud", dead, event="failure", retries=0, timeout=2, fail_on_error=True),
    ]), verbosity=3)
    quiet = run.task("quiet")
    assert quiet["delivered"] is False and quiet["attempts"] == 2
    assert "ConnectionError" in quiet["error"]
    assert run.status("loud") == "failed"
    assert "not delivered" in run.task("loud")["msg"]
    assert "secret-dead-token" not in run.output


def test_check_mode_sends_nothing(playbook, webhook):
    run = playbook.run(play([notify("start", webhook.url, event="start")]), check=True)
    assert run.rc == 0, run.output
    assert run.task("start")["payload"]["text"].startswith(":rocket: Deployment of shop 1.4.2 to production")
    assert webhook.paths == []
