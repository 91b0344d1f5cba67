# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""JSON from outside (manifests, ledger lines, HTTP answers) parsed without surprises.

``json.loads`` raises RecursionError on a document nested a few thousand levels deep and
UnicodeDecodeError on bytes that are not UTF-8; neither is a ValueError, so every caller that
handles "not JSON" would crash on them instead. :func:`loads` turns both into ValueError.
"""

from __future__ import annotations

import json


def loads(data):
    """Parse JSON text or UTF-8 bytes; ValueError (with a reason) for anything that is not JSON."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError("not UTF-8 (byte %d)" % exc.start) from None
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("nested too deep to be read") from None
