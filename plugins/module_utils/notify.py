# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployment notifications to Slack-compatible incoming webhooks.

The webhook URL is a credential (whoever has it can post to the channel), so it never appears in
a message, an error or a result.  Delivery is retried with jittered backoff on connection errors,
429 (honouring Retry-After) and 5xx; a notification that still cannot be delivered is reported,
not raised, unless the caller asks for failures (a deploy must not fail because chat is down).
"""

from __future__ import annotations

import re
import time
import traceback

from ansible_collections.shipyard.deploy.plugins.module_utils import http_client
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    DependencyError,
    ShipyardError,
)

try:
    import requests
except ImportError:  # pragma: no cover
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

# event -> (emoji, verb) for the message's first line
EVENT_STYLE = {
    "start": (":rocket:", "started"),
    "success": (":white_check_mark:", "succeeded"),
    "failure": (":x:", "failed"),
    "rollback": (":rewind:", "rolled back"),
    "info": (":information_source:", "update"),
}


class NotifyError(ShipyardError):
    """A notification could not be delivered (raised only when failures were asked for)."""


def build_payload(event, application, environment, version, text=None, fields=None, username=None,
                  channel=None, icon_emoji=None):
    """A Slack-compatible message: ``text`` (what every compatible receiver shows) plus blocks."""
    emoji, verb = EVENT_STYLE[event]
    headline = "%s Deployment of %s %s to %s %s" % (emoji, application, version or "", environment or "", verb)
    headline = " ".join(headline.split())
    body = headline + ("\n" + text if text else "")
    payload = {"text": body}
    details = dict(fields or {})
    if details:
        payload["blocks"] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": "*%s*\n%s" % (key, value)} for key, value in details.items()
            ][:10]},  # Slack allows at most 10 fields per section
        ]
    for key, value in (("username", username), ("channel", channel), ("icon_emoji", icon_emoji)):
        if value:
            payload[key] = value
    return payload


def _retry_after(response, default):
    try:
        return min(float(response.headers.get("Retry-After", default)), 30.0)
    except (TypeError, ValueError):
        return default


def deliver(url, payload, attempts=3, timeout=10.0, base_delay=1.0, session=None):
    """POST ``payload``; return ``{"delivered", "attempts", "status_code", "error"}`` without the URL."""
    if requests is None:
        raise DependencyError("the Python library requests is required on the host that runs this task",
                              import_error=REQUESTS_IMPORT_ERROR)
    session = session or http_client.new_session(1)
    status, error = None, None
    for attempt in range(1, attempts + 1):
        delay = http_client.backoff_delay(attempt, base_delay, cap=30.0)
        try:
            response = session.post(url, json=payload, timeout=http_client.timeouts(timeout))
            status = response.status_code
            if 200 <= status < 300:
                return {"delivered": True, "attempts": attempt, "status_code": status, "error": None}
            error = "the webhook answered HTTP %d" % status
            if status == 429:
                delay = _retry_after(response, delay)
            elif status < 500:
                break  # 4xx other than 429: a wrong URL or payload, another try will not help
        except requests.RequestException as exc:
            # requests puts the URL in most messages; name only the kind of failure
            error = "could not reach the webhook (%s)" % (
                "timed out after %gs" % timeout if http_client.is_timeout(exc) else type(exc).__name__)
        if attempt < attempts:
            time.sleep(delay)
    return {"delivered": False, "attempts": attempt, "status_code": status, "error": error}


def run_notify(params, check_mode, diff_mode):
    """Service of the notify module."""
    payload = build_payload(params["event"], params["application"], params["environment"], params["version"],
                            params["text"], params["fields"], params["username"], params["channel"],
                            params["icon_emoji"])
    result = {"changed": False, "payload": payload}
    if not re.match(r"^https?://[^/\s]+", params["webhook_url"] or ""):
        # the URL is a secret (it carries the token): say what is wrong without quoting it
        raise ConfigurationError("webhook_url is not an http:// or https:// URL; give the webhook's full URL")
    if check_mode:
        result.update(delivered=False, attempts=0, status_code=None, error=None, skipped_in_check_mode=True)
        return result
    outcome = deliver(params["webhook_url"], payload, attempts=params["retries"] + 1, timeout=params["timeout"])
    result.update(outcome)
    if not outcome["delivered"] and params["fail_on_error"]:
        raise NotifyError(
            "notification not delivered after %d attempt(s): %s" % (outcome["attempts"], outcome["error"]), **outcome
        )
    return result
