#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: release_evidence
short_description: Judge the evidence CI produced for an artifact - tests, coverage, audit, lint, changelog
version_added: 1.1.0
description:
  - Reads the reports CI published for the artifact being deployed and judges them against a policy, one
    rule per concern, each saying what it measured and why it passed or blocked.
  - "B(tests): JUnit XML (pytest, Maven Surefire, jest-junit, go-junit-report) - no failure or error, skipped
    tests only with a reason, at least O(policy) C(tests.min_tests) tests so that an empty report does not pass."
  - "B(coverage): Cobertura XML, JaCoCo XML, lcov or coverage.py JSON - line coverage (and optionally branch
    coverage) at least the threshold (80% by default), compared on the counts."
  - "B(audit): npm audit, pip-audit, OSV-Scanner or Trivy JSON - no vulnerability at or above the blocking
    severity unless an accepted-risk entry with a justification and an unexpired date lists it; an expired
    acceptance blocks again."
  - "B(lint): SARIF 2.1.0 (ruff, ESLint, Semgrep, mypy through a converter) - no error."
  - "B(changelog): an entry for O(version) in Keep a Changelog Markdown or reStructuredText.
    B(version): the artifact's own metadata (C(VERSION), C(package.json), C(pyproject.toml), C(pom.xml)) says
    O(version), and O(version) is newer than O(live_version) unless O(force)."
  - "B(provenance): evidence stored outside the release must come with an C(evidence.json) naming the
    artifact's SHA-256 (O(artifact_sha256)), so evidence of another build never counts. Evidence shipped inside
    the artifact is covered by the artifact's own checksum."
  - Reports are recognised by their content, whatever their names. XML is parsed with defusedxml (no entity
    declarations, nothing external fetched), every file is read up to O(max_file_size); a malformed or
    oversized report is a blocking finding that names the file, never a crash. Missing evidence fails its rule.
  - Reads only; C(changed) is always false and check mode judges exactly as a real run.
attributes:
  check_mode:
    support: full
    details: The same reads and the same verdict as a real run (nothing is ever written).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  location:
    description:
      - Where the evidence is - a folder of the release relative to O(release_dir) (the default C(evidence)),
        an absolute directory, an C(http(s)://) URL, or C(s3://bucket/prefix).
      - A directory or an S3 prefix is listed; a URL cannot be, so there C(evidence.json) must list the files
        (C(files)).
      - "C(evidence.json) (optional inside the release): C({\"artifact_sha256\": \"...\", \"version\": \"1.4.2\",
        \"files\": [\"junit.xml\", ...]}); a C(version) it names must be O(version)."
    type: str
    default: evidence
  release_dir:
    description:
      - The unpacked release. Its root holds the changelog, the version metadata and the accepted-risk file.
    type: path
  version:
    description:
      - The version being deployed.
    type: str
    required: true
  live_version:
    description:
      - The version serving now; empty when nothing is live.
    type: str
    default: ""
  force:
    description:
      - Allow a version that is not newer than O(live_version).
    type: bool
    default: false
  artifact_sha256:
    description:
      - SHA-256 of the artifact (hex, optionally C(sha256:)-prefixed); evidence outside the release must name it.
    type: str
  environment:
    description:
      - The environment deployed to; with O(enforce=auto) it decides the enforcement.
    type: str
  enforce:
    description:
      - What a failed rule does - C(block) refuses the deployment, C(warn) reports it, C(off) checks nothing.
      - C(auto) is C(block) in C(production), C(warn) in C(staging), C(off) in any other environment.
      - Each rule may override it with C(enforce) in O(policy).
    type: str
    choices: [auto, block, warn, 'off']
    default: auto
  policy:
    description:
      - "Per-rule settings over the defaults: C(tests) (C(min_tests: 1), C(max_failures: 0),
        C(skipped_need_reason: true)), C(coverage) (C(min_line: 80), C(min_branch: null)), C(audit)
        (C(block_severity: high), C(unknown_severity: high) - pip-audit gives no severity; C(ignore) skips
        unrated findings), C(lint) (C(max_errors: 0), C(max_warnings: null)), and C(provenance), C(files),
        C(changelog), C(version) - each also takes C(enforce: block|warn|off)."
      - An unknown rule or setting is an error, so a typo cannot loosen the gate.
    type: dict
    default: {}
  changelog:
    description:
      - The changelog, relative to O(release_dir) (or to the evidence). Defaults to the first of C(CHANGELOG.md),
        C(CHANGELOG.rst), C(CHANGES.md), C(CHANGES.rst), C(HISTORY.md), C(HISTORY.rst) found.
    type: str
  accepted_risks_file:
    description:
      - Accepted-risk file (YAML or JSON) relative to O(release_dir); a missing file accepts nothing.
      - "Entries: C(id) (or an alias the audit gives), optional C(package), C(justification), C(expires: YYYY-MM-DD)."
    type: str
    default: accepted-risks.yml
  accepted_risks:
    description:
      - Accepted risks given inline (same entries as the file), for example from the inventory.
    type: list
    elements: dict
    default: []
  max_file_size:
    description:
      - Largest file read, in bytes; a larger one is refused unread (a blocking finding).
    type: int
    default: 33554432
  fail_on_block:
    description:
      - Fail the task when the verdict is C(blocked). With C(false) the task returns the verdict (RV(blocked))
        so that a role can record it first.
    type: bool
    default: true
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - ansible.builtin.action_common_attributes
  - shipyard.deploy.aws
requirements:
  - defusedxml (for XML reports)
  - boto3 (for S3 locations), requests (for URLs)
seealso:
  - module: shipyard.deploy.deployment_record
  - module: shipyard.deploy.release_artifact
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Judge the evidence shipped in the release's evidence/ folder, blocking in production
  shipyard.deploy.release_evidence:
    release_dir: /opt/shop/releases/1.4.2
    version: 1.4.2
    live_version: 1.4.1
    environment: production

- name: Evidence stored next to the artifact in S3; staging only warns, coverage at 85%
  shipyard.deploy.release_evidence:
    location: s3://acme-artifacts/shop/1.4.2/evidence
    region: eu-west-1
    release_dir: /opt/shop/releases/1.4.2
    version: 1.4.2
    artifact_sha256: "{{ shop_artifact_sha256 }}"
    enforce: warn
    policy:
      coverage: {min_line: 85, min_branch: 70}
      audit: {block_severity: medium}

- name: Judge, record, then stop (what the preflight role does)
  shipyard.deploy.release_evidence:
    release_dir: /opt/shop/releases/1.4.2
    version: 1.4.2
    enforce: block
    fail_on_block: false
  register: evidence
"""

RETURN = r"""
verdict:
  description: C(pass), C(warn) (only warning rules failed), C(blocked), or C(off) (nothing checked).
  returned: always
  type: str
  sample: blocked
blocked:
  description: Whether the deployment must not go on.
  returned: always
  type: bool
enforce:
  description: The enforcement applied (O(enforce) with C(auto) resolved).
  returned: always
  type: str
rules:
  description:
    - One record per rule, in the order provenance, files, tests, coverage, audit, lint, changelog, version.
    - C(result) is C(pass), C(block), C(warn) or C(off); C(measured), C(threshold) and C(reason) are sentences;
      C(files) the files the rule read; C(details) the numbers (counts, percentages, accepted risks).
  returned: always
  type: list
  elements: dict
  sample:
    - rule: tests
      title: Tests
      result: block
      measured: "3 tests: 2 passed, 1 failed, 0 errors, 0 skipped (0 without a reason)"
      threshold: "at most 0 failed, at least 1 tests, skips with a reason"
      reason: "1 failed or errored: tests.test_cart.test_total"
      files: [junit.xml]
      details: {tests: 3, passed: 2, failures: 1, errors: 0, skipped: 0, skipped_without_reason: 0}
summary:
  description: RV(rules) without C(details), the form recorded in the ledger.
  returned: unless the verdict is C(off)
  type: list
  elements: dict
warnings:
  description: The reason of every rule that failed with C(warn).
  returned: always
  type: list
  elements: str
location:
  description: Where the evidence was read.
  returned: unless the verdict is C(off)
  type: str
version:
  description: The version judged.
  returned: always
  type: str
environment:
  description: The environment given.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.service import (
    argument_spec,
    run_release_evidence,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module


def main():
    module = AnsibleModule(argument_spec=dict(argument_spec(), **deadline_argument_spec()), supports_check_mode=True)
    run_module(module, run_release_evidence)


if __name__ == "__main__":
    main()
