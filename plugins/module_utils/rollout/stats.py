# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Confidence bounds on an error rate, for decisions that stop as soon as the evidence is clear.

A rollout judges a canary many times a second.  Comparing the raw error rate with the limit at
every sample would fail good canaries on the first unlucky request (1 error in 3 requests is 33 %);
waiting for a whole window wastes the users' requests.  The Wilson score interval says, from
``errors`` out of ``requests``, between which bounds the true error rate lies with the chosen
confidence, and it behaves at 0 and at small counts, where the normal approximation does not.
The lower bound above the limit is proof the canary is worse; the point estimate within the limit
after a minimum sample is what lets a step pass.

Repeated looks raise the chance of a false alarm above ``1 - confidence``; the default confidence
(0.99 one-sided) keeps a canary that is exactly at the limit from failing on noise in practice
(see the unit tests), and a canary at a multiple of the limit still fails within a few dozen
requests.
"""

from __future__ import annotations

import math
from statistics import NormalDist


def z_for(confidence):
    """One-sided z quantile for ``confidence`` (0.5 < confidence < 1)."""
    if not 0.5 < confidence < 1:
        raise ValueError("confidence must be between 0.5 and 1, not %r" % confidence)
    return NormalDist().inv_cdf(confidence)


def wilson_bounds(errors, requests, z):
    """(lower, upper) Wilson score bounds of the error rate; (0.0, 1.0) without requests."""
    if requests <= 0:
        return 0.0, 1.0
    errors = min(max(errors, 0), requests)
    p = errors / requests
    z2 = z * z
    denominator = 1 + z2 / requests
    centre = p + z2 / (2 * requests)
    spread = z * math.sqrt(p * (1 - p) / requests + z2 / (4 * requests * requests))
    lower = (centre - spread) / denominator
    upper = (centre + spread) / denominator
    return max(0.0, lower), min(1.0, upper)
