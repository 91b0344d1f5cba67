#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: smoke_test
short_description: Run ordered HTTP steps with captures and assertions against a release (log in, call the API, check)
version_added: 1.1.0
description:
  - Runs O(steps) in order through one HTTP session (keep-alive, the collection's HTTP layer shared with
    M(shipyard.deploy.health_check)) - for example log in, capture the token from the JSON answer, call the API
    with it and check a field, load the dashboard under 3 seconds.
  - Each step asserts the status, JSON fields, a body pattern, response headers and a latency limit, and may
    capture values from the JSON body or a response header into C(${name}) placeholders that later steps use
    in their URL, headers and body. Placeholders are resolved by the module, not by Jinja; C($${) is a literal
    C(${).
  - Everything that can be checked without a request is checked before the first one - a step without a URL,
    an unknown assertion, a capture without a path, a placeholder that no earlier step captures and no variable
    defines, an invalid pattern.
  - The run stops at the first failing step and the task fails; the result (also in the failure) lists every
    step with its status (C(passed), C(failed), C(not_run)), HTTP status, latency and each assertion's outcome,
    ready for the deployment ledger and report.
  - "Secrets - O(secret_variables), O(steps[].secret_headers), O(steps[].secret_body) and captures with
    C(secret: true) - never appear in the result, a failure message or the output; the answer of a step that sends
    or captures a secret is never quoted."
  - JSON paths are those of M(shipyard.deploy.health_check) - dotted keys, list items by index (C(items.0.id)).
extends_documentation_fragment:
  - shipyard.deploy.deadline
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: partial
    details:
      - The steps run in check mode only when every step is read-only (method C(GET), C(HEAD) or C(OPTIONS), or
        O(steps[].read_only=true)); otherwise they are validated, nothing is sent, and RV(ran) is false.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  steps:
    description:
      - The requests, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the step in results (default C(step N)). Must be unique.
        type: str
      url:
        description:
          - Absolute C(http://) or C(https://) URL, or a path (C(/login)) completed by O(base_url). May hold
            placeholders. Required.
        type: str
      method:
        description:
          - HTTP method.
        type: str
        default: GET
      headers:
        description:
          - Request headers (merged over O(headers)); values may hold placeholders.
        type: dict
      secret_headers:
        description:
          - Request headers whose values are secret (for example C(Authorization - Bearer ${token})); never shown.
        type: dict
      body:
        description:
          - Request body - a string sent as is, or a dictionary or list sent as JSON (with
            C(Content-Type - application/json) unless a header says otherwise). Placeholders are resolved in strings.
        type: raw
      secret_body:
        description:
          - Like O(steps[].body), for a body that holds secrets (a login form); never shown. Give one of
            O(steps[].body) and O(steps[].secret_body).
        type: raw
      expect:
        description:
          - "The assertions: C(status) (a code or a list, default 200), C(json) (dotted path to expected value;
            scalars compare by their text), C(body_pattern) (Python regular expression the body must contain a
            match of), C(headers) (response header to expected value), C(max_latency) (seconds). Fields, pattern
            and headers are checked only when the status is one expected. Expected values may hold placeholders."
        type: dict
      capture:
        description:
          - "Values to capture from the answer, as name to C({json: path}) or C({header: Name}), optionally with
            C(secret: true); a plain string is a JSON path. A capture that is missing in the answer fails the step.
            A whole-string placeholder in a JSON body keeps the captured value's type."
        type: dict
      timeout:
        description:
          - Seconds for this request. Defaults to O(timeout).
        type: float
      read_only:
        description:
          - Whether the step changes nothing on the server, which lets check mode run it. Default - true for
            C(GET), C(HEAD) and C(OPTIONS), false otherwise (set it on a login C(POST) that only opens a session).
        type: bool
      follow_redirects:
        description:
          - Follow redirects; otherwise a 3xx answer is checked against C(expect.status).
        type: bool
        default: false
  base_url:
    description:
      - Prefix of step URLs that are paths, for example the idle slot's C(http://app1:8081) before the switch and
        the load balancer's URL after it - the same steps test both.
    type: str
  variables:
    description:
      - Values for placeholders, by name.
    type: dict
    default: {}
  secret_variables:
    description:
      - Values for placeholders that are secret (passwords, API keys); never shown. A name must not be in both.
    type: dict
    default: {}
  headers:
    description:
      - Headers sent with every step (for example a C(Host) header to test through a load balancer).
    type: dict
    default: {}
  timeout:
    description:
      - Seconds for each request (connect and read).
    type: float
    default: 10
  validate_certs:
    description:
      - Verify TLS certificates.
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle (PEM) to verify certificates with.
    type: path
  record:
    description:
      - Options of M(shipyard.deploy.deployment_record) (C(ledger), C(deployment_id), C(environment),
        C(application), C(version), and an S3 ledger's AWS options) to append the run to the deployment ledger as a
        C(smoke) event - per step its name, status, HTTP status, latency, whether it passed and why not, never a
        secret. Written whether the steps pass or fail; nothing is recorded in check mode. Empty records nothing.
    type: dict
    default: {}
    suboptions:
      ledger:
        description: The ledger, a file or C(s3://bucket/key).
        type: str
      deployment_id:
        description: The deployment the event belongs to.
        type: str
      environment:
        description: Environment of the deployment.
        type: str
      application:
        description: Application of the deployment.
        type: str
      version:
        description: Version of the deployment.
        type: str
      endpoint_url:
        description: S3 endpoint of the ledger.
        aliases: [aws_endpoint_url]
        type: str
      region:
        description: AWS region of the ledger.
        aliases: [aws_region]
        type: str
      profile:
        description: AWS profile for the ledger.
        aliases: [aws_profile]
        type: str
      access_key:
        description: AWS access key for the ledger.
        aliases: [aws_access_key_id]
        type: str
      secret_key:
        description: AWS secret key for the ledger.
        aliases: [aws_secret_access_key]
        type: str
      session_token:
        description: AWS session token for the ledger.
        aliases: [aws_session_token]
        type: str
      aws_connect_timeout:
        description: Seconds to wait for the ledger's S3 endpoint to accept a connection, per attempt.
        type: float
        default: 10
      aws_read_timeout:
        description: Seconds to wait for an answer of the ledger's S3 endpoint, per attempt.
        type: float
        default: 60
  phase:
    description:
      - The C(phase) of the recorded event - C(before_traffic) (the idle slot), C(after_switch) (through the load
        balancer) or C(after_rollback). M(shipyard.deploy.rollout) records the first two itself.
    type: str
    choices: [before_traffic, after_switch, after_rollback]
    default: after_rollback
  target:
    description: What was tested, for the recorded event (a slot, a host, C(load balancer)).
    type: str
    default: ""
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Smoke test the idle slot before it gets traffic
  shipyard.deploy.smoke_test:
    base_url: "http://{{ inventory_hostname }}:8081"
    secret_variables:
      password: "{{ vault_smoke_password }}"
    steps:
      - name: log in
        url: /login
        method: POST
        read_only: true
        secret_body: {user: smoke, password: "${password}"}
        expect: {status: 200, json: {user: smoke}}
        capture:
          token: {json: token, secret: true}
      - name: profile through the API
        url: /api/me
        secret_headers: {Authorization: "Bearer ${token}"}
        expect: {json: {user: smoke, roles.0: admin}, max_latency: 1}
      - name: dashboard under 3 s
        url: /dashboard
        expect: {body_pattern: "<title>Dashboard", max_latency: 3}
  register: smoke
"""

RETURN = r"""
passed:
  description: Whether every step passed; null when check mode skipped the run.
  returned: always
  type: bool
ran:
  description: Whether the steps were sent; false when check mode did not run them (some step is not read-only).
  returned: always
  type: bool
steps:
  description:
    - One entry per step, in order - C(name), C(method), C(url) (resolved, secrets masked), C(read_only),
      C(status) (C(passed), C(failed) or C(not_run)), C(status_code), C(latency_ms), C(assertions) (each with
      C(assertion), C(ok) and C(detail)), C(captured) (names), C(error).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: log in, method: POST, url: "http://app1:8081/login", read_only: true, status: passed, status_code: 200,
       latency_ms: 4.1, assertions: [{assertion: status, ok: true, detail: status 200}], captured: [token],
       error: null}
summary:
  description: Counts of steps - C(total), C(passed), C(failed), C(not_run).
  returned: always
  type: dict
  sample: {total: 3, passed: 3, failed: 0, not_run: 0}
captures:
  description: The values captured, by name; secret ones as C(********).
  returned: always
  type: dict
latency:
  description: Latency summary of the requests sent (C(count), C(min), C(p50), C(p95), C(p99), C(max), C(avg), ms).
  returned: when the steps ran
  type: dict
elapsed:
  description: Seconds the steps took.
  returned: when the steps ran
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.ledger import record_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke.pipeline import (
    PHASES,
    request_options,
    smoke_test_module,
    step_options,
)


def main():
    argument_spec = dict(
        steps=dict(type="list", elements="dict", required=True, options=step_options()),
        base_url=dict(type="str"),
        **request_options(),
        record=dict(type="dict", default={}, options=record_argument_spec()),
        phase=dict(type="str", choices=list(PHASES), default="after_rollback"),
        target=dict(type="str", default=""),
        **deadline_argument_spec(),
    )
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), smoke_test_module)


if __name__ == "__main__":
    main()
