#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: release_artifact
short_description: Fetch a release artifact, verify its SHA-256, unpack it atomically, prune old releases
version_added: 1.0.0
description:
  - Streams an artifact (a path on the host, an http(s) URL, or C(s3://bucket/key)) to a hidden
    temporary file while computing its SHA-256, refuses it unless it matches O(checksum), then
    unpacks it (tar, optionally gzip/bzip2/xz compressed) into a hidden directory renamed to
    C(<app_root>/releases/<version>) in one step. A failed fetch never leaves anything that looks
    like a release.
  - Refuses archive entries that would land outside the release (absolute paths, C(..), links
    leaving it) and device files.
  - Idempotent - a release already unpacked from the same artifact is left alone. A version that
    exists from a different artifact is refused (versions are immutable) unless O(force).
  - Prunes old releases - keeps the newest O(keep), never one that a slot link points at (the live
    and the previous release) nor the one being deployed.
extends_documentation_fragment:
  - shipyard.deploy.deadline
  - ansible.builtin.action_common_attributes
  - shipyard.deploy.aws
attributes:
  check_mode:
    support: full
    details: Reports whether the release would be fetched and which releases would be removed. It fetches
      nothing, so the checksum and the archive's entries are verified only when the task really runs.
  diff_mode:
    support: full
    details: Shows the list of releases before and after.
  platform:
    platforms: posix
options:
  app_root:
    description: Directory of the application on the host (holds C(releases/) and the slot links).
    type: path
    required: true
  version:
    description: Version of the release; the directory name under C(releases/).
    type: str
    required: true
  source:
    description:
      - Where the artifact is - a path on the host, C(file://), C(http://), C(https://) or C(s3://bucket/key).
      - Credentials in a URL are never shown in results.
    type: str
    required: true
  checksum:
    description: Expected SHA-256 of the artifact, as hex or C(sha256:<hex>).
    type: str
    required: true
  keep:
    description: How many releases to keep (at least 1). Releases a slot points at are always kept on top.
    type: int
    default: 5
  slots:
    description: Names of the slot links under O(app_root) whose targets are protected from pruning.
    type: list
    elements: str
    default: [blue, green]
  force:
    description: Replace an existing release of O(version) that came from a different artifact (never one in use).
    type: bool
    default: false
  timeout:
    description:
      - Seconds an C(http(s)://) download may wait to connect and, then, for each piece of the answer. A
        server that accepts the connection and never answers fails the task after this long.
    type: float
    default: 60
  validate_certs:
    description: Verify the TLS certificate of an C(https://) source.
    type: bool
    default: true
  ca_path:
    description: CA bundle (PEM) to verify an C(https://) source with, in place of the system's.
    type: path
author:
  - Shipyard Deploy Maintainers (@shipyard-deploy)
"""

EXAMPLES = r"""
- name: Unpack shop 1.4.2 from S3 after checking its checksum
  shipyard.deploy.release_artifact:
    app_root: /opt/shop
    version: 1.4.2
    source: s3://artifacts/shop/shop-1.4.2.tar.gz
    checksum: "sha256:{{ shop_sha256 }}"
    region: eu-west-1
    keep: 5
"""

RETURN = r"""
path:
  description: Directory of the release.
  returned: always
  type: str
  sample: /opt/shop/releases/1.4.2
unpacked:
  description: Whether the artifact was fetched and unpacked by this run.
  returned: always
  type: bool
sha256:
  description: The verified checksum.
  returned: always
  type: str
source:
  description: The artifact's location, without credentials.
  returned: always
  type: str
slots:
  description: Which release each slot link points at, before this run.
  returned: always
  type: dict
  sample: {blue: 1.4.1, green: 1.4.0}
removed:
  description: Releases deleted by pruning.
  returned: always
  type: list
  elements: str
releases:
  description: Releases present afterwards, oldest first.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.shipyard.deploy.plugins.module_utils.aws import aws_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.deadline import deadline_argument_spec
from ansible_collections.shipyard.deploy.plugins.module_utils.release import run_release_artifact
from ansible_collections.shipyard.deploy.plugins.module_utils.runner import run_module
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import AbsolutePath, NotEmpty, Number

# Checked before anything runs (module_utils/validation.py; shared options have common rules).
RULES = {
    "version": NotEmpty("the version to install"),
    "source": NotEmpty("a URL, s3:// URL or local path of the artifact"),
    "checksum": NotEmpty("sha256:<64 hex digits>"),
    "keep": Number(1, 1000, hint="the releases the slots run are always kept"),
    "slots": NotEmpty("the slot names"),
    "app_root": AbsolutePath(),
    "timeout": Number(above=0, maximum=3600),
}


def main():
    argument_spec = dict(
        app_root=dict(type="path", required=True),
        version=dict(type="str", required=True),
        source=dict(type="str", required=True),
        checksum=dict(type="str", required=True),
        keep=dict(type="int", default=5),
        slots=dict(type="list", elements="str", default=["blue", "green"]),
        force=dict(type="bool", default=False),
        timeout=dict(type="float", default=60),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
    )
    argument_spec.update(aws_argument_spec())
    argument_spec.update(deadline_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, run_release_artifact, rules=RULES)


if __name__ == "__main__":
    main()
