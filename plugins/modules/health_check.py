#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: health_check
short_description: Check many HTTP(S), TCP and PostgreSQL targets concurrently and wait until they are healthy
version_added: 1.0.0
description:
  - Probes every target of O(targets) concurrently in one task (a pool of O(workers) threads, pooled
    keep-alive HTTP connections), so hundreds of URLs are checked in about a second when healthy.
  - "HTTP(S) targets: expected status codes, assertions on JSON fields, a body pattern, a latency
    budget, extra headers (for example a C(Host) header to check through a load balancer) and a bearer
    token. TLS certificates are verified by default."
  - TCP targets are healthy when a connection opens; PostgreSQL targets when a connection opens and
    O(targets[].query) runs.
  - Keeps polling every O(interval) seconds until every target has O(success_threshold) consecutive
    successes; a target fails after O(failure_threshold) consecutive failures that count, or when
    O(timeout) runs out.
  - Failures during the start period do not count (the semantics of Docker's C(HEALTHCHECK)). By
    default the start period lasts until the target's first success - a target that is still starting
    is waited for until O(timeout), one that answered and then flaps fails fast.
  - The task fails when any target is not healthy; the message names each such target and why, and
    the failure result still holds every per-target result.
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details: Checks only read, so they run in check mode as well and report the real state.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
extends_documentation_fragment:
  - shipyard.deploy.deadline
options:
  targets:
    description:
      - What to check. The type is inferred when O(targets[].type) is omitted - C(http) with
        O(targets[].url), C(postgres) with O(targets[].database), O(targets[].user),
        O(targets[].query) or O(targets[].conninfo), otherwise C(tcp).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the target in results and messages. Defaults to the URL or C(host:port).
          - Must be unique.
        type: str
      type:
        description:
          - Kind of check.
        type: str
        choices: [http, tcp, postgres]
      url:
        description:
          - URL to request (C(http) targets).
        type: str
      method:
        description:
          - HTTP method.
        type: str
        default: GET
      status_codes:
        description:
          - Status codes that count as success.
        type: list
        elements: int
        default: [200]
      json:
        description:
          - "Assertions on fields of a JSON response body, as C(dotted.path) to expected value, for
            example C({status: healthy, version: 1.4.2}). List items are addressed by index (C(items.0.id))."
          - "Scalars compare by their text, so C(version: 1.4) matches C(\"1.4\")."
        type: dict
      body_pattern:
        description:
          - Regular expression (Python syntax) the response body must contain a match of.
        type: str
      headers:
        description:
          - Extra request headers, merged over O(headers).
        type: dict
      bearer_token:
        description:
          - "Sent as C(Authorization: Bearer <token>). Overrides O(bearer_token)."
        type: str
      validate_certs:
        description:
          - Verify the server's TLS certificate. Defaults to O(validate_certs).
        type: bool
      ca_path:
        description:
          - CA bundle (PEM) to verify the server's certificate with. Defaults to O(ca_path).
        type: path
      follow_redirects:
        description:
          - Follow redirects; otherwise a 3xx answer is checked against O(targets[].status_codes).
        type: bool
        default: false
      host:
        description:
          - Host name or address (C(tcp) and C(postgres) targets).
        type: str
      port:
        description:
          - TCP port (C(tcp) and C(postgres) targets; PostgreSQL defaults to 5432).
        type: int
      user:
        description:
          - PostgreSQL role.
        type: str
      password:
        description:
          - PostgreSQL password. Never logged or returned.
        type: str
      database:
        description:
          - PostgreSQL database.
        type: str
      sslmode:
        description:
          - libpq C(sslmode) of a PostgreSQL target.
        type: str
        choices: [disable, allow, prefer, require, verify-ca, verify-full]
      conninfo:
        description:
          - libpq URI or C(key=value) string of a PostgreSQL target; the explicit options override it.
        type: str
      service:
        description:
          - Service name in C(pg_service.conf) of a PostgreSQL target.
        type: str
      query:
        description:
          - Query a PostgreSQL target must answer (C(SELECT 1) when omitted). Its first column of the
            first row is returned as RV(targets[].value).
          - It runs in a C(READ ONLY) transaction that is rolled back, so a check can never change data
            (C(DROP TABLE) or an C(INSERT) fail the probe).
        type: str
      timeout:
        description:
          - Seconds one probe of this target may take. Defaults to O(request_timeout).
        type: float
      max_latency:
        description:
          - Latency budget of one probe in seconds; a slower answer is a failure. Defaults to O(max_latency).
        type: float
  timeout:
    description:
      - Seconds to wait for every target to pass before the task fails.
    type: float
    default: 60
  interval:
    description:
      - Seconds between two probes of the same target.
    type: float
    default: 1
  success_threshold:
    description:
      - Consecutive successful probes a target needs to pass.
    type: int
    default: 1
  failure_threshold:
    description:
      - Consecutive failed probes (that count, see O(start_period)) after which a target fails.
    type: int
    default: 3
  start_period:
    description:
      - Seconds after the start of the task during which failures do not count towards
        O(failure_threshold), unless the target has already succeeded once.
      - When omitted, failures count only after the target's first success. C(0) counts every failure.
    type: float
  request_timeout:
    description:
      - Seconds one probe may take (connect and answer) unless the target sets O(targets[].timeout).
    type: float
    default: 5
  max_latency:
    description:
      - Default latency budget of one probe in seconds.
    type: float
  headers:
    description:
      - Headers sent to every HTTP target, for example C(Host) to check a virtual host through a load balancer.
    type: dict
    default: {}
  bearer_token:
    description:
      - Bearer token sent to every HTTP target. Never logged or returned.
    type: str
  validate_certs:
    description:
      - Verify TLS certificates of HTTPS targets.
    type: bool
    default: true
  ca_path:
    description:
      - CA bundle (PEM) to verify HTTPS targets with, in place of the system's.
    type: path
  workers:
    description:
      - Probes running at the same time (threads), and HTTP connections kept per host.
    type: int
    default: 32
requirements:
  - requests on the host that runs the task (HTTP targets)
  - psycopg >= 3.1 on the host that runs the task (PostgreSQL targets)
notes:
  - "Run it where the targets are reachable from, usually the controller (C(delegate_to: localhost),
    C(run_once: true)) - one task checks every target."
seealso:
  - module: shipyard.deploy.canary_analysis
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Wait until both green instances serve version 1.4.2, twice in a row
  shipyard.deploy.health_check:
    targets:
      - url: http://10.0.1.11:8080/health
        json: {status: healthy, version: 1.4.2}
      - url: http://10.0.1.12:8080/health
        json: {status: healthy, version: 1.4.2}
    success_threshold: 2
    timeout: 120
  delegate_to: localhost
  run_once: true

- name: Check through the load balancer, the database and the cache
  shipyard.deploy.health_check:
    headers:
      Host: shop.example.com
    bearer_token: "{{ vault_health_token }}"
    targets:
      - name: lb
        url: https://lb.example.com/health
        json:
          status: healthy
          version: 1.4.2
        max_latency: 0.5
      - name: primary
        host: db1.example.com
        user: monitor
        password: "{{ vault_monitor_password }}"
        database: shop
        query: SELECT pg_is_in_recovery() = false
      - name: redis
        type: tcp
        host: cache1.example.com
        port: 6379
  register: health
  delegate_to: localhost
  run_once: true

- name: Fail fast on a flapping target, counting every failure
  shipyard.deploy.health_check:
    targets:
      - url: http://10.0.0.5:8080/health
    success_threshold: 3
    failure_threshold: 3
    start_period: 0
"""

RETURN = r"""
targets:
  description: One result per target, in the order of O(targets).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the target.
      type: str
      sample: lb
    type:
      description: Kind of check.
      type: str
      sample: http
    target:
      description: Where the target points (URL without password, C(host:port), or PostgreSQL host, port, database).
      type: str
      sample: https://lb.example.com/health
    state:
      description: C(passed), C(failed) (reached O(failure_threshold)) or C(timed_out).
      type: str
      sample: passed
    healthy:
      description: Whether the target passed.
      type: bool
      sample: true
    attempts:
      description: Probes sent to the target.
      type: int
      sample: 3
    successes:
      description: Probes that succeeded.
      type: int
      sample: 2
    consecutive_successes:
      description: Successes in a row at the end.
      type: int
      sample: 2
    consecutive_failures:
      description: Counted failures in a row at the end.
      type: int
      sample: 0
    latency_ms:
      description: Latency of the last probe in milliseconds.
      type: float
      sample: 1.82
    latency:
      description: Latency statistics of this target's probes in milliseconds (count, min, p50, p95, p99, max, avg).
      type: dict
      sample: {count: 3, min: 1.1, p50: 1.5, p95: 2.9, p99: 3.0, max: 3.0, avg: 1.9}
    status_code:
      description: HTTP status of the last answer (HTTP targets), else null.
      type: int
      sample: 200
    error:
      description: Why the target is not healthy (null when it passed).
      type: str
      sample: JSON field version is "1.4.1", expected "1.4.2"
    last_error:
      description: The last failure seen, even if the target passed afterwards.
      type: str
      sample: "ConnectionError: [Errno 111] Connection refused"
    value:
      description: First column of the first row of the query (PostgreSQL targets only).
      type: raw
      returned: for postgres targets
      sample: 1
healthy:
  description: Names of the targets that passed.
  returned: always
  type: list
  elements: str
  sample: [lb, primary]
unhealthy:
  description: Names of the targets that failed or timed out.
  returned: always
  type: list
  elements: str
  sample: [redis]
latency:
  description: Latency statistics over every probe of every target, in milliseconds.
  returned: always
  type: dict
  contains:
    count:
      description: Number of probes.
      type: int
    min:
      description: Fastest probe.
      type: float
    p50:
      description: Median (linear interpolation between ranks).
      type: float
    p95:
      description: 95th percentile.
      type: float
    p99:
      description: 99th percentile.
      type: float
    max:
      description: Slowest probe.
      type: float
    avg:
      description: Mean.
      type: float
  sample: {count: 200, min: 0.9, p50: 2.1, p95: 6.3, p99: 8.0, max: 9.1, avg: 2.6}
probes:
  description: Total number of probes sent.
  returned: always
  type: int
  sample: 200
elapsed:
  description: Seconds the checks took.
  returned: always
  type: float
  sample: 0.41
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.health import check_health
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import Identifier, NotEmpty, Number

TARGET_OPTIONS = dict(
    name=dict(type="str"),
    type=dict(type="str", choices=["http", "tcp", "postgres"]),
    url=dict(type="str"),
    method=dict(type="str", default="GET"),
    status_codes=dict(type="list", elements="int", default=[200]),
    json=dict(type="dict"),
    body_pattern=dict(type="str"),
    headers=dict(type="dict"),
    bearer_token=dict(type="str", no_log=True),
    validate_certs=dict(type="bool"),
    ca_path=dict(type="path"),
    follow_redirects=dict(type="bool", default=False),
    host=dict(type="str"),
    port=dict(type="int"),
    user=dict(type="str"),
    password=dict(type="str", no_log=True),
    database=dict(type="str"),
    sslmode=dict(type="str", choices=["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
    conninfo=dict(type="str", no_log=True),
    service=dict(type="str"),
    query=dict(type="str"),
    timeout=dict(type="float"),
    max_latency=dict(type="float"),
)


# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "targets": NotEmpty("at least one target"),
    "targets[].port": Number(1, 65535),
    "targets[].timeout": Number(above=0, maximum=3600),
    "targets[].max_latency": Number(above=0),
    "targets[].status_codes": Number(100, 599),
    "targets[].database": Identifier(),
    "targets[].user": Identifier(),
    "timeout": Number(0, 86400, hint="0 probes once"),
    "interval": Number(0, 3600),
    "success_threshold": Number(1, 1000),
    "failure_threshold": Number(1, 1000),
    "start_period": Number(0, 86400),
    "request_timeout": Number(above=0, maximum=3600),
    "max_latency": Number(above=0),
    "workers": Number(1, 256),
}


def main():
    argument_spec = dict(
        targets=dict(type="list", elements="dict", required=True, options=TARGET_OPTIONS),
        timeout=dict(type="float", default=60),
        interval=dict(type="float", default=1),
        success_threshold=dict(type="int", default=1),
        failure_threshold=dict(type="int", default=3),
        start_period=dict(type="float"),
        request_timeout=dict(type="float", default=5),
        max_latency=dict(type="float"),
        headers=dict(type="dict", default={}),
        bearer_token=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        workers=dict(type="int", default=32),
    )
    argument_spec.update(deadline_argument_spec())
    run_module(AnsibleModule(argument_spec=argument_spec, supports_check_mode=True), check_health, rules=RULES)


if __name__ == "__main__":
    main()
