# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canary analysis: metric sources (one module each) and the rules that turn measurements into a verdict.

Every source returns, per slot, a measurement dictionary of the same shape (see
:func:`rules.measurement`), so the rules never know where the numbers came from.
"""
