#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: canary_analysis
short_description: Compare a canary slot with its baseline over a window and return pass, fail or inconclusive
version_added: 1.0.0
description:
  - Measures the canary and the baseline for O(window) seconds from one metric source, applies the
    rules of O(rules), and returns a verdict - C(pass), C(fail) or C(inconclusive) - with every
    measurement, every threshold and the reason, an auditable record of the decision.
  - "Sources: C(haproxy) reads per-server counters from HAProxy's runtime API (C(show stat)) at the
    start and end of the window - requests, 5xx responses, connection and response errors, average
    response time; C(prometheus) runs templated PromQL instant queries per slot at the end of the
    window; C(probe) sends synthetic requests straight to each slot's URLs during the window."
  - Missing data (no requests, an empty query result, NaN, counters reset by a reload) makes a rule
    inconclusive, never a pass.
  - Fewer than O(rules.min_requests) requests on either slot gives C(inconclusive), not C(fail).
  - A verdict is a result, not a task failure. Carry RV(consecutive_failures) from one step of a
    rollout to the next and roll back when RV(failure_limit_reached) is true.
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: The analysis only reads (the C(probe) source sends GET requests), so it runs in check mode too.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
extends_documentation_fragment:
  - shipyard.deploy.deadline
options:
  source:
    description:
      - Where the measurements come from.
    type: str
    required: true
    choices: [haproxy, prometheus, probe]
  window:
    description:
      - Seconds to measure for, starting when the task starts.
    type: float
    default: 60
  canary:
    description:
      - The slot under test.
    type: dict
    required: true
    suboptions: &slot
      name:
        description:
          - Slot name. It is C(${slot}) in PromQL templates and, with the C(haproxy) source, the prefix
            of the slot's server names (C(<name>_1), C(<name>_2), as C(traffic_switch) names them) when
            O(canary.servers) is not given.
          - Defaults to C(canary) and C(baseline).
        type: str
      servers:
        description:
          - HAProxy server names of the slot in O(haproxy.backend).
        type: list
        elements: str
      urls:
        description:
          - URLs of the slot's own instances, for the C(probe) source.
        type: list
        elements: str
      vars:
        description:
          - Extra placeholders for PromQL templates (C(${name})).
        type: dict
  baseline:
    description:
      - The slot the canary is compared with, usually the one serving production now.
    type: dict
    required: true
    suboptions: *slot
  haproxy:
    description:
      - Settings of the C(haproxy) source.
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
            example C(60s)) and the slot's O(canary.vars).
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
      - Thresholds. A rule left out takes its default; O(rules.max_latency_ms) is off unless set.
    type: dict
    suboptions:
      max_error_rate:
        description:
          - Highest acceptable error rate of the canary, a fraction (C(0.05) is 5%).
          - Defaults to C(0.05).
        type: float
      max_latency_ratio:
        description:
          - Highest acceptable ratio of the canary's latency to the baseline's. Defaults to C(2.0).
          - The C(haproxy) source compares average response times, C(probe) the O(probe.latency_metric),
            C(prometheus) the C(latency) query.
        type: float
      max_latency_ms:
        description:
          - Absolute ceiling of the canary's latency in milliseconds. Off by default.
        type: float
      min_requests:
        description:
          - Requests each slot needs in the window for a verdict; below it the verdict is inconclusive.
          - Defaults to C(50).
        type: int
      latency_floor_ms:
        description:
          - Latencies below this count as this in the ratio, so that a 0 ms baseline (HAProxy counts
            whole milliseconds) does not make any canary infinitely slower. Defaults to C(1.0).
        type: float
      failure_limit:
        description:
          - Consecutive failed analyses (see O(consecutive_failures)) at which RV(failure_limit_reached)
            becomes true. Defaults to C(1).
        type: int
  consecutive_failures:
    description:
      - Failed analyses in a row before this one, from the previous step's RV(consecutive_failures).
    type: int
    default: 0
notes:
  - "Run it once, where the metric source is reachable (C(delegate_to: localhost), C(run_once: true))."
seealso:
  - module: shipyard.deploy.health_check
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Judge green (canary) against blue from HAProxy's counters over 2 minutes
  shipyard.deploy.canary_analysis:
    source: haproxy
    window: 120
    haproxy:
      socket: /run/haproxy/admin.sock
      backend: app
    canary:
      name: green
    baseline:
      name: blue
    rules:
      max_error_rate: 0.01
      max_latency_ratio: 1.5
      min_requests: 200
  register: analysis
  delegate_to: "{{ groups['lb'][0] }}"
  run_once: true

- name: Roll back after two failed steps in a row
  ansible.builtin.fail:
    msg: "canary rejected: {{ analysis.reason }}"
  when: analysis.failure_limit_reached

- name: Same from Prometheus, p95 from a histogram
  shipyard.deploy.canary_analysis:
    source: prometheus
    window: 300
    prometheus:
      url: http://prometheus:9090
      queries:
        requests: 'sum(increase(http_requests_total{slot="${slot}"}[${window}]))'
        errors: 'sum(increase(http_requests_total{slot="${slot}",code=~"5.."}[${window}]))'
        latency: >-
          histogram_quantile(0.95, sum by (le)
          (rate(http_request_duration_seconds_bucket{slot="${slot}"}[${window}])))
    canary: {name: green}
    baseline: {name: blue}
    rules:
      failure_limit: 2
    consecutive_failures: "{{ previous.consecutive_failures | default(0) }}"
  register: analysis

- name: Synthetic probes straight to each slot
  shipyard.deploy.canary_analysis:
    source: probe
    window: 30
    canary:
      name: green
      urls: [http://10.0.2.11:8080/, http://10.0.2.12:8080/]
    baseline:
      name: blue
      urls: [http://10.0.1.11:8080/, http://10.0.1.12:8080/]
    probe:
      latency_metric: p99
    rules:
      max_latency_ms: 250
"""

RETURN = r"""
verdict:
  description: C(pass), C(fail) or C(inconclusive).
  returned: always
  type: str
  sample: fail
reason:
  description: Why, in words - the failed or inconclusive checks, or C(every rule passed).
  returned: always
  type: str
  sample: canary error rate 19.80% (99 errors out of 500 requests) is above 5.00%
checks:
  description: Every rule applied, with what was measured and the threshold.
  returned: always
  type: list
  elements: dict
  contains:
    rule:
      description: C(min_requests), C(max_error_rate), C(max_latency_ratio) or C(max_latency_ms).
      type: str
    slot:
      description: C(canary) or C(baseline).
      type: str
    measured:
      description: The measured value (null when missing).
      type: raw
    threshold:
      description: The threshold it was compared with.
      type: raw
    result:
      description: C(pass), C(fail) or C(inconclusive).
      type: str
    reason:
      description: The comparison in words.
      type: str
  sample:
    - {rule: max_error_rate, slot: canary, measured: 0.198, threshold: 0.05, result: fail,
       reason: "canary error rate 19.80% (99 errors out of 500 requests) is above 5.00%"}
rules:
  description: The thresholds applied, defaults included.
  returned: always
  type: dict
  sample: {max_error_rate: 0.05, max_latency_ratio: 2.0, max_latency_ms: null, min_requests: 50,
           latency_floor_ms: 1.0, failure_limit: 1}
measurements:
  description: What was measured for C(canary) and C(baseline).
  returned: always
  type: dict
  contains:
    canary:
      description: >-
        C(slot), C(requests), C(errors), C(error_rate), C(latency_ms), C(latency_metric) and
        source C(details) (per-server counters for C(haproxy), queries and values for C(prometheus),
        latency percentiles and error samples for C(probe)).
      type: dict
    baseline:
      description: The same for the baseline.
      type: dict
consecutive_failures:
  description: Failed analyses in a row including this one (a pass resets it, inconclusive keeps it).
  returned: always
  type: int
  sample: 1
failure_limit_reached:
  description: Whether RV(consecutive_failures) reached O(rules.failure_limit) - time to roll back.
  returned: always
  type: bool
  sample: true
source:
  description: The metric source used.
  returned: always
  type: str
  sample: haproxy
window:
  description: The measured window - C(seconds), C(started) and C(ended) (UTC, ISO 8601).
  returned: always
  type: dict
  sample: {seconds: 60, started: "2026-11-22T05:00:00Z", ended: "2026-11-22T05:01:00Z"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.analysis.canary import (
    analyze_canary,
    source_argument_spec,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import NotEmpty, Number

SLOT_OPTIONS = dict(
    name=dict(type="str"),
    servers=dict(type="list", elements="str"),
    urls=dict(type="list", elements="str"),
    vars=dict(type="dict"),
)


# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "window": Number(above=0, maximum=86400, hint="seconds of traffic to judge"),
    "haproxy.timeout": Number(above=0, maximum=600),
    "prometheus.timeout": Number(above=0, maximum=600),
    "prometheus.url": NotEmpty("the Prometheus base URL"),
    "probe.concurrency": Number(1, 256),
    "probe.interval": Number(0, 60),
    "probe.timeout": Number(above=0, maximum=600),
    "probe.status_codes": Number(100, 599),
    "rules.max_error_rate": Number(0, 1, hint="a fraction, 0.01 is 1 %"),
    "rules.max_latency_ratio": Number(above=0),
    "rules.max_latency_ms": Number(above=0),
    "rules.min_requests": Number(0),
    "rules.latency_floor_ms": Number(0),
    "rules.failure_limit": Number(0),
    "consecutive_failures": Number(0),
}


def main():
    argument_spec = dict(
        source=dict(type="str", required=True, choices=["haproxy", "prometheus", "probe"]),
        window=dict(type="float", default=60),
        canary=dict(type="dict", required=True, options=SLOT_OPTIONS),
        baseline=dict(type="dict", required=True, options=SLOT_OPTIONS),
        **source_argument_spec(),
        consecutive_failures=dict(type="int", default=0),
    )
    argument_spec.update(deadline_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[("source", "haproxy", ["haproxy"]), ("source", "prometheus", ["prometheus"])],
        supports_check_mode=True,
    )
    run_module(module, analyze_canary, rules=RULES)


if __name__ == "__main__":
    main()
