#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rollout
short_description: Move traffic to a new slot step by step, watch both slots, and roll back within seconds
version_added: 1.1.0
description:
  - Runs the whole traffic progression of one deployment in one task, against the router drivers of
    M(shipyard.deploy.traffic_switch) and the metric sources of M(shipyard.deploy.canary_analysis).
  - "Before any traffic moves: the new slot's O(health_targets) must pass, and with C(preview.requests)
    synthetic requests go straight to the new slot and are judged like a canary, so a plainly broken
    release fails no user request."
  - "O(strategy=canary) shifts O(steps) percent at a time. Both slots are sampled every
    O(sample_interval) seconds and judged at every sample: the step fails the moment the one-sided
    confidence bound of the canary's error rate is above C(max_error_rate), or its latency
    stays above C(max_latency_ratio) times the baseline's (and at least C(latency_min_increase_ms) more) for
    C(latency_sustain) samples, or a health check of the new slot fails more than
    C(max_health_failures) times in a row. A step passes only after its minimum duration
    AND C(min_requests) requests on both slots, with every rule within its limit. A step
    with too little evidence by its maximum duration is inconclusive and O(on_inconclusive) decides."
  - O(strategy=bluegreen) and O(strategy=direct) send all traffic at once. The very first deployment
    (no O(live_slot)) is always direct.
  - "After 100%: the bake. For C(bake.duration) seconds the old slot stays warm and the new one is judged
    against the old version's latency measured before the switch (C(bake.baseline_seconds), or the
    baseline of the last canary step), its error rate and its health checks. A failure rolls back."
  - "Rollback is part of the task: all traffic goes back to O(live_slot) at once - it still runs the
    previous version, so no health check is waited for - and only then is it recorded; the task then fails
    with the reason."
  - With O(record), every traffic change, every sample window (with per-sample figures of both slots, for
    the deploy report's charts), the bake and the rollback are appended to the deployment ledger as they
    happen, from a background thread that never delays a decision.
extends_documentation_fragment:
  - shipyard.deploy.router
  - shipyard.deploy.aws
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: >-
      Plans every step with the router and returns the weights each would set; moves, samples and records nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
options:
  strategy:
    description: How traffic moves.
    type: str
    choices: [direct, bluegreen, canary]
    default: canary
  live_slot:
    description: The slot serving now, where traffic returns on a rollback; empty on the very first deployment.
    type: str
    default: ""
  idle_slot:
    description: The slot taking over (where the new version was released).
    type: str
    required: true
  steps:
    description:
      - Canary steps, percent of traffic on the new slot, rising and ending with 100. An item is a number or
        a dict with C(percent) and optionally C(min_duration), C(max_duration) and C(pause) (seconds), which
        override O(step_min_duration), O(step_max_duration) and O(pause) for that step.
    type: list
    elements: raw
    default: [5, 25, 50, 100]
  step_min_duration:
    description: Seconds each canary step below 100 is watched at least.
    type: float
    default: 60
  step_max_duration:
    description: Seconds after which a step without a verdict is inconclusive. Default twice O(step_min_duration).
    type: float
  pause:
    description: Seconds after each weight change before the step's figures start counting (failures count during it).
    type: float
    default: 0
  on_inconclusive:
    description:
      - What to do when a step has too little evidence by its maximum duration.
      - C(rollback) sends all traffic back; C(hold) leaves the traffic where it is and fails the task
        (roll back or resume later); C(promote) goes on to the next step.
    type: str
    choices: [rollback, hold, promote]
    default: rollback
  sample_interval:
    description: Seconds between two samples of both slots (and two judgements).
    type: float
    default: 0.5
  record_interval:
    description: Seconds of samples gathered into one C(analysis) ledger event (a verdict is recorded at once).
    type: float
    default: 5
  analysis:
    description: Where the measurements come from and the rules they are judged by.
    type: dict
    default: {}
    suboptions:
      source:
        description:
          - C(haproxy) (per-server counters of C(show stat)), C(prometheus) (templated queries over the time since
            the step began, C(${window})) or C(probe) (synthetic requests to O(slot_urls), which also gives a quiet
            service the traffic it lacks).
        type: str
        choices: [haproxy, prometheus, probe]
        default: haproxy
      window:
        description:
          - Ignored (the O(shipyard.deploy.canary_analysis#module:window) of existing settings); the steps' durations
            are O(step_min_duration) and O(step_max_duration).
        type: float
      haproxy:
        description:
          - Settings of the C(haproxy) source.
          - Without them, and with O(driver=haproxy), the router's O(haproxy_socket) and O(haproxy_backend).
        type: dict
        suboptions:
          socket:
            description:
              - HAProxy runtime API address - a unix socket path (C(/run/haproxy/admin.sock), C(unix:/path))
                or C(host:port) of a C(stats socket) bound to TCP.
            type: str
            required: true
          backend:
            description:
              - Backend (proxy) that holds the slots' servers.
            type: str
            default: app
          timeout:
            description:
              - Seconds one runtime API command may take.
            type: float
            default: 5
      prometheus:
        description:
          - Settings of the C(prometheus) source.
        type: dict
        suboptions:
          url:
            description:
              - Base URL of the Prometheus HTTP API, for example C(http://prometheus:9090).
            type: str
            required: true
          queries:
            description:
              - PromQL templates, each returning one number per slot (aggregate with C(sum) or C(max)).
                Placeholders - C(${slot}), C(${role}) (C(canary) or C(baseline)), C(${window}) (for
                example C(60s)) and the slot's O(analysis.slot_vars).
              - Without C(latency) the latency rules are inconclusive.
            type: dict
            required: true
            suboptions:
              requests:
                description:
                  - Requests in the window, for example the C(sum) of an C(increase) of a counter over
                    C([${window}]) (see the examples).
                type: str
              errors:
                description:
                  - Failed requests in the window.
                type: str
              latency:
                description:
                  - Latency, for example a p95 from a histogram with C(histogram_quantile) (see the examples).
                type: str
          latency_unit:
            description:
              - Unit of the C(latency) query's result.
            type: str
            choices: [seconds, milliseconds]
            default: seconds
          headers:
            description:
              - Extra HTTP headers (for example a tenant header of Mimir).
            type: dict
          bearer_token:
            description:
              - Bearer token for the API. Never logged or returned.
            type: str
          validate_certs:
            description:
              - Verify the TLS certificate of the API.
            type: bool
            default: true
          ca_path:
            description:
              - CA bundle (PEM) for the API's certificate.
            type: path
          timeout:
            description:
              - Seconds one query may take.
            type: float
            default: 10
      probe:
        description:
          - Settings of the C(probe) source.
        type: dict
        suboptions:
          concurrency:
            description:
              - Requests in flight at once per slot.
            type: int
            default: 2
          interval:
            description:
              - Pause in seconds of each worker between two requests.
            type: float
            default: 0.05
          timeout:
            description:
              - Seconds one request may take; a slower one counts as an error.
            type: float
            default: 5
          status_codes:
            description:
              - Status codes that count as success.
            type: list
            elements: int
            default: [200]
          headers:
            description:
              - Extra request headers.
            type: dict
          bearer_token:
            description:
              - Bearer token sent with every request. Never logged or returned.
            type: str
          validate_certs:
            description:
              - Verify TLS certificates.
            type: bool
            default: true
          ca_path:
            description:
              - CA bundle (PEM) to verify the slots' certificates.
            type: path
          latency_metric:
            description:
              - Which latency statistic the latency rules compare.
            type: str
            choices: [p50, p95, p99, avg, max]
            default: p95
      rules:
        description:
          - C(max_error_rate) (fraction, default 0.05), C(max_latency_ratio) (default 2.0), C(max_latency_ms),
            C(min_requests) (default 50), C(latency_floor_ms) (default 1), C(confidence) of the error-rate bound
            (default 0.99), C(min_errors) failed requests before the error rule can fail (default 3),
            C(latency_min_requests) (default 50), C(latency_sustain) (samples in a row, default 6),
            C(latency_min_increase_ms) the canary must also be slower by for the ratio rule (default 5),
            C(max_health_failures) (consecutive, default 3). C(failure_limit) is accepted and ignored.
        type: dict
      slot_vars:
        description: "Extra PromQL placeholders per slot, for example C({blue: {color: b}})."
        type: dict
  slot_urls:
    description: Base URLs of each slot's instances, for the C(probe) source and O(preview).
    type: dict
    default: {}
  health_targets:
    description:
      - M(shipyard.deploy.health_check) targets of the new slot. Checked before any traffic moves, then probed
        every C(health.watch_interval) seconds until the end of the bake.
    type: list
    elements: dict
    default: []
  health:
    description:
      - C(timeout) (60), C(success_threshold) (2), C(failure_threshold) (3) and C(interval) (1) of the check
        before traffic moves; C(watch_interval) (1) of the probes during the rollout.
    type: dict
    default: {}
  preview:
    description:
      - C(requests) synthetic requests to the new slot's O(slot_urls) plus C(path) (default C(/)), expecting
        C(status_codes) (default 200) within C(timeout) seconds, before any user request reaches it. 0 is off.
    type: dict
    default: {}
  smoke:
    description:
      - "Smoke test steps (the inventory's C(shipyard_smoke), see M(shipyard.deploy.smoke_test)): run against each of
        the new slot's O(slot_urls) (one per app host) after its health checks and before any traffic moves - a
        failure ends the rollout with no traffic moved - and through the load balancer at O(smoke.url) once all
        traffic is on the new slot, before the bake - a failure there rolls back like a failed rule."
      - Each run is a C(smoke) event in the ledger of O(record) (per step its name, status, HTTP status, latency,
        whether it passed and why not); secrets never appear there, in the result or a message.
      - Everything is validated before anything moves (a step without a URL, an unknown placeholder, no O(smoke.url)).
    type: dict
    default: {}
    suboptions:
      url:
        description:
          - Public URL of the load balancer the steps run through after the switch (C(https://shop.example.com)).
            Required when there are steps, unless O(smoke.after_switch=false).
        type: str
      steps:
        description:
          - The requests, in order.
        type: list
        elements: dict
        suboptions:
          name:
            description:
              - Name of the step in results (default C(step N)). Must be unique.
            type: str
          url:
            description:
              - Absolute C(http://) or C(https://) URL, or a path (C(/login)) completed by the base URL (each idle
                slot URL, then O(smoke.url)). May hold placeholders. Required.
            type: str
          method:
            description:
              - HTTP method.
            type: str
            default: GET
          headers:
            description:
              - Request headers (merged over O(smoke.headers)); values may hold placeholders.
            type: dict
          secret_headers:
            description:
              - Request headers whose values are secret (for example C(Authorization - Bearer ${token})); never shown.
            type: dict
          body:
            description:
              - Request body - a string sent as is, or a dictionary or list sent as JSON (with
                C(Content-Type - application/json) unless a header says otherwise). Placeholders are resolved in
                strings.
            type: raw
          secret_body:
            description:
              - Like O(smoke.steps[].body), for a body that holds secrets (a login form); never shown. Give one of
                O(smoke.steps[].body) and O(smoke.steps[].secret_body).
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
              - Seconds for this request. Defaults to O(smoke.timeout).
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
      variables:
        description: Values for placeholders, by name.
        type: dict
        default: {}
      secret_variables:
        description: Values for placeholders that are secret (passwords, API keys); never shown or recorded.
        type: dict
        default: {}
      headers:
        description: Headers sent with every step.
        type: dict
        default: {}
      timeout:
        description: Seconds for each request.
        type: float
        default: 10
      validate_certs:
        description: Verify TLS certificates.
        type: bool
        default: true
      ca_path:
        description: CA bundle (PEM) to verify certificates with.
        type: path
      before_traffic:
        description: Run the steps against the new slot's URLs before any traffic moves.
        type: bool
        default: true
      after_switch:
        description: Run the steps through O(smoke.url) once all traffic is on the new slot.
        type: bool
        default: true
  bake:
    description:
      - C(duration) seconds of watch after 100% (0 is off), C(baseline_seconds) the old slot is measured
        before a blue-green switch for the latency reference (default 5), and any rule of O(analysis.rules)
        to use instead during the bake (for example C(max_error_rate), C(max_latency_ratio),
        C(max_health_failures)).
    type: dict
    default: {}
  baseline_latency_ms:
    description: Latency reference of the old version for the bake, instead of measuring it.
    type: float
  hold_before_full:
    description: Stop after the last canary step below 100 with RV(outcome=awaiting_approval), for an approval.
    type: bool
    default: false
  resume:
    description: Skip the steps the new slot already has (after an approval, or a C(hold)).
    type: bool
    default: false
  drain_timeout:
    description: Seconds to wait for sessions to leave the old slot after the switch to 100% (not on a rollback).
    type: float
    default: 0
  deadline:
    description:
      - Seconds the whole rollout may take, bake included. When they are up while traffic is split or on the new slot,
        all traffic goes back to O(live_slot), the rollback is recorded, and the task fails saying so.
    type: float
    default: 21600
  record:
    description:
      - M(shipyard.deploy.deployment_record) options - C(ledger), C(deployment_id), C(environment), C(application),
        C(version) and the ledger's AWS options - to record the rollout as it happens. Empty records nothing.
    type: dict
    default: {}
    suboptions:
      ledger:
        description: The ledger, a file path or C(s3://bucket/key).
        type: str
      deployment_id:
        description: The deployment.
        type: str
      environment:
        description: The environment.
        type: str
      application:
        description: The application.
        type: str
      version:
        description: The version being deployed.
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
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
seealso:
  - module: shipyard.deploy.traffic_switch
  - module: shipyard.deploy.canary_analysis
  - module: shipyard.deploy.deployment_record
"""

EXAMPLES = r"""
- name: Canary 5-25-50-100, each step at least 60 s, then a 10-minute bake
  shipyard.deploy.rollout:
    driver: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    haproxy_backend: shop
    strategy: canary
    live_slot: blue
    idle_slot: green
    steps: [5, 25, 50, 100]
    step_min_duration: 60
    analysis:
      source: haproxy
      haproxy: {socket: /run/haproxy/admin.sock, backend: shop}
      rules: {max_error_rate: 0.02, max_latency_ratio: 1.5, min_requests: 200}
    health_targets:
      - url: http://app1.internal:8002/health
    bake: {duration: 600}
    record:
      ledger: s3://acme-deploy-ledger/shop/ledger.jsonl
      deployment_id: "{{ shipyard_plan.deployment_id }}"
      environment: production
      application: shop
      version: "1.4.2"

- name: Blue-green with a bake against the old version's latency, quiet service probed
  shipyard.deploy.rollout:
    driver: nginx
    nginx_include: /etc/nginx/conf.d/shop-upstream.conf
    slots: {blue: ["10.0.0.5:8001"], green: ["10.0.0.5:8002"]}
    strategy: bluegreen
    live_slot: blue
    idle_slot: green
    analysis:
      source: probe
    slot_urls: {blue: ["http://10.0.0.5:8001"], green: ["http://10.0.0.5:8002"]}
    bake: {duration: 120, max_latency_ratio: 2, max_health_failures: 3}

- name: First deployment - all traffic at once
  shipyard.deploy.rollout:
    driver: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    strategy: direct
    idle_slot: blue

- name: Predict the steps without moving anything
  shipyard.deploy.rollout:
    driver: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    live_slot: blue
    idle_slot: green
  check_mode: true
"""

RETURN = r"""
outcome:
  description: C(succeeded), C(awaiting_approval) (after O(hold_before_full)) or, in check mode, C(predicted).
    A rollback or a hold fails the task with RV(outcome) C(rolled_back) or C(held).
  returned: always
  type: str
  sample: succeeded
reason:
  description: Why the rollout ended as it did.
  returned: always
  type: str
strategy:
  description: The strategy used (C(direct) on a first deployment).
  returned: always
  type: str
steps:
  description:
    - Each step - C(percent), C(seconds) watched, C(verdict) and C(reason), the canary's and baseline's figures
      (C(requests), C(errors), C(error_rate), C(latency_ms)); in check mode the C(weights) each step would set.
  returned: always
  type: list
  elements: dict
bake:
  description: The bake's C(seconds), C(verdict), C(reason) and the new slot's figures.
  returned: when a bake ran
  type: dict
rollback:
  description: C(reason), C(to_slot), C(switch_ms) and C(seconds_to_switch) from the failing sample to all traffic back.
  returned: when rolled back
  type: dict
weights:
  description: Percent per slot at the end.
  returned: success
  type: dict
  sample: {blue: 0, green: 100}
duration_seconds:
  description: How long the rollout took.
  returned: success
  type: float
reference_latency_ms:
  description: The old version's latency the bake was judged against.
  returned: success
  type: float
recorded_events:
  description: Ledger events written.
  returned: success
  type: int
smoke:
  description:
    - Each smoke test run of O(smoke) - C(phase) (C(before_traffic) or C(after_switch)), C(target), C(base_url),
      C(passed), C(summary), C(message) and C(steps) (each with C(name), C(method), C(url), C(status),
      C(status_code), C(latency_ms), C(passed), C(error)); secrets masked. Also in a failure's result.
  returned: success
  type: list
  elements: dict
before:
  description: Percent per slot before (check mode).
  returned: check mode
  type: dict
after:
  description: Percent per slot after the last step (check mode).
  returned: check mode
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.canary import source_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.aws import aws_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import LONG_DEADLINE, deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.ledger import record_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.rollout.controller import run_rollout
from ansible_collections.shipyard.deploy.plugins.module_utils.routers.base import router_argument_spec, router_rules
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.smoke.pipeline import smoke_options
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import NotEmpty, Number

# Checked before anything runs or moves (module_utils/validation.py); the steps, rules and the
# bake are checked by the rollout itself, with messages naming the step or the rule.
RULES = dict(router_rules(), **{
    "idle_slot": NotEmpty("the slot taking over"),
    "step_min_duration": Number(0, 86400),
    "step_max_duration": Number(0, 604800),
    "pause": Number(0, 86400),
    "sample_interval": Number(0.05, 60, hint="seconds between two samples"),
    "record_interval": Number(0.5, 3600),
    "drain_timeout": Number(0, 3600),
    # HAProxy reports whole milliseconds: a fast old version reads 0 (the latency floor applies)
    "baseline_latency_ms": Number(0),
})


def argument_spec():
    """The rollout module's options (importable, for tools and the role's argument specs)."""
    spec = router_argument_spec()
    spec.update(aws_argument_spec())
    # long canaries and bakes: the whole progression is one task
    spec.update(deadline_argument_spec(LONG_DEADLINE))
    sources = source_argument_spec()
    sources["rules"] = dict(type="dict")
    spec.update(
        strategy=dict(type="str", choices=["direct", "bluegreen", "canary"], default="canary"),
        live_slot=dict(type="str", default=""),
        idle_slot=dict(type="str", required=True),
        steps=dict(type="list", elements="raw", default=[5, 25, 50, 100]),
        step_min_duration=dict(type="float", default=60),
        step_max_duration=dict(type="float"),
        pause=dict(type="float", default=0),
        on_inconclusive=dict(type="str", choices=["rollback", "hold", "promote"], default="rollback"),
        sample_interval=dict(type="float", default=0.5),
        record_interval=dict(type="float", default=5),
        analysis=dict(type="dict", default={}, options=dict(
            source=dict(type="str", choices=["haproxy", "prometheus", "probe"], default="haproxy"),
            window=dict(type="float"),
            slot_vars=dict(type="dict"),
            **sources,
        )),
        slot_urls=dict(type="dict", default={}),
        health_targets=dict(type="list", elements="dict", default=[]),
        health=dict(type="dict", default={}),
        preview=dict(type="dict", default={}),
        smoke=dict(type="dict", default={}, options=smoke_options()),
        bake=dict(type="dict", default={}),
        baseline_latency_ms=dict(type="float"),
        hold_before_full=dict(type="bool", default=False),
        resume=dict(type="bool", default=False),
        drain_timeout=dict(type="float", default=0),
        record=dict(type="dict", default={}, options=record_argument_spec()),
    )
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run_module(module, run_rollout, rules=RULES)


if __name__ == "__main__":
    main()
