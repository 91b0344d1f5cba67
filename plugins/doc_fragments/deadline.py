# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The total deadline of every module (see module_utils/deadline.py). LONG is the variant of
    # the modules that move a whole database (pg_backup, pg_restore, migration_apply).
    DOCUMENTATION = r"""
options:
  deadline:
    description:
      - Seconds the whole task may take. When they are up, the module stops, undoes what it started
        (a partial backup file, an open S3 multipart upload, a scratch database, a half-written include file)
        and fails with a message saying so; no module process outlives its task.
      - Every network call has its own, shorter, connect and read timeouts; this bounds the sum.
    type: float
    default: 3600
"""

    LONG = r"""
options:
  deadline:
    description:
      - Seconds the whole task may take. When they are up, the module stops, undoes what it started
        (a partial backup file, an open S3 multipart upload, a scratch database) and fails with a message
        saying so; no module process outlives its task.
      - Every network call has its own, shorter, connect and read timeouts; this bounds the sum. Raise it for
        databases whose dump or restore takes longer than 6 hours.
    type: float
    default: 21600
"""
