# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release evidence: what CI produced for an artifact, read safely and judged against a policy.

One parser per report family (:mod:`junit`, :mod:`coverage_reports`, :mod:`audit`, :mod:`sarif`,
:mod:`changelog`), each turning a file into a small summary of plain data; :mod:`sources` finds
and reads the files (release directory, path, URL or S3), :mod:`documents` parses them safely, and
:mod:`policy` judges the summaries, one rule result per concern, each saying what it measured.
"""
