# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the runner of a migration file will do with it, read from the markers each runner uses.

The lint must know whether a file runs inside a transaction (``CONCURRENTLY`` fails there) and
which part of it is the "up" migration (a dbmate file also holds its "down" part, which drops
what the up part made).  Each marker below is the runner's own, checked against its source or
documentation:

* ours: ``-- shipyard:no-transaction`` in the first ten lines;
* postgres-migrations (npm): ``-- postgres-migrations disable-transaction`` anywhere in the file
  (``migration.sql.includes(...)`` in its ``run-migration.ts``; older releases: first line);
* dbmate: ``-- migrate:up transaction:false`` (options on the ``-- migrate:up`` line), and the up
  section ends at ``-- migrate:down``;
* Liquibase formatted SQL: ``runInTransaction:false`` on a ``--changeset`` line;
* Flyway: a script configuration file next to the script, ``<script>.sql.conf``, with the line
  ``executeInTransaction=false``;
* goose: ``-- +goose NO TRANSACTION`` (annotations are case-insensitive, at the start of their
  line), and the up section runs from ``-- +goose Up`` to ``-- +goose Down``.
"""

from __future__ import annotations

import os
import re

SHIPYARD_RE = re.compile(r"^\s*--\s*shipyard:\s*no-transaction\b", re.IGNORECASE | re.MULTILINE)
POSTGRES_MIGRATIONS_MARK = "-- postgres-migrations disable-transaction"
DBMATE_UP_RE = re.compile(r"^--\s*migrate:up\b(?P<options>[^\n]*)$", re.MULTILINE)
DBMATE_DOWN_RE = re.compile(r"^--\s*migrate:down\b", re.MULTILINE)
DBMATE_NO_TX_RE = re.compile(r"\btransaction:false\b")
LIQUIBASE_NO_TX_RE = re.compile(r"^\s*--\s*changeset\s+\S+.*\brunInTransaction:false\b",
                                re.IGNORECASE | re.MULTILINE)
GOOSE_UP_RE = re.compile(r"^--\s\+goose\s+up\b", re.IGNORECASE | re.MULTILINE)
GOOSE_DOWN_RE = re.compile(r"^--\s\+goose\s+down\b", re.IGNORECASE | re.MULTILINE)
GOOSE_NO_TX_RE = re.compile(r"^--\s\+goose\s+no\s+transaction\b", re.IGNORECASE | re.MULTILINE)
FLYWAY_CONF_NO_TX_RE = re.compile(r"^\s*executeInTransaction\s*=\s*false\s*$", re.IGNORECASE | re.MULTILINE)


def _folded(text):
    """``text`` lower-cased when it is ASCII, else None.

    Most files hold no marker, and a regular expression scan per marker was a tenth of the
    lint's time.  In ASCII text a case-insensitive pattern can only match where its literal
    part occurs lower-cased, so a substring test may skip the scan; in other text re's Unicode
    case folding knows more equivalences (U+017F, the long s, matches ``s``), so the scan
    always runs there.
    """
    return text.lower() if text.isascii() else None


def _may_hold(folded, literal):
    """False only when ``folded`` (from _folded) surely lacks ``literal`` (lower-case)."""
    return folded is None or literal in folded


def _goose_annotations(pattern, text, folded):
    """The matches of ``pattern`` (one of the GOOSE_*_RE, each ``^--\\s\\+goose...``) in ``text``, in
    order, as ``pattern.finditer(text)`` gives them.

    In ASCII text (``folded`` not None) each match starts three characters before a
    ``+goose`` of the lower-cased text, so only those places are tried: a case-insensitive scan
    of the whole text per pattern was most of the lint's time spent on a goose file's markers.
    """
    if folded is None:
        yield from pattern.finditer(text)
        return
    at = folded.find("+goose")
    while at >= 0:
        match = pattern.match(text, at - 3) if at >= 3 else None
        if match is not None:
            yield match
        at = folded.find("+goose", at + 6)


def shipyard_no_transaction(text, folded=False):
    """True when the first ten lines carry our own ``-- shipyard:no-transaction`` marker
    (``folded``: what _folded(text) gave, when the caller has it)."""
    if not _may_hold(_folded(text) if folded is False else folded, "no-transaction"):
        return False
    return SHIPYARD_RE.search("\n".join(text.splitlines()[:10])) is not None


def _flyway_conf_says_no_transaction(path):
    conf = "%s.conf" % path
    if not path or not os.path.isfile(conf):
        return False
    try:
        with open(conf, encoding="utf-8", errors="replace") as handle:
            return FLYWAY_CONF_NO_TX_RE.search(handle.read()) is not None
    except OSError:
        return False


def no_transaction_marker(text, path=None):
    """The name of the runner whose marker says this file runs outside a transaction, else None.

    ``path`` (the file on disk) lets Flyway's ``<script>.sql.conf`` be read.
    """
    folded = _folded(text)
    if shipyard_no_transaction(text, folded):
        return "shipyard"
    if POSTGRES_MIGRATIONS_MARK in text:
        return "postgres-migrations"
    up = DBMATE_UP_RE.search(text) if "migrate:up" in text else None
    if up and DBMATE_NO_TX_RE.search(up.group("options")):
        return "dbmate"
    if _may_hold(folded, "runintransaction:false") and LIQUIBASE_NO_TX_RE.search(text):
        return "liquibase"
    if _may_hold(folded, "+goose") and next(_goose_annotations(GOOSE_NO_TX_RE, text, folded), None):
        return "goose"
    if _flyway_conf_says_no_transaction(path):
        return "flyway"
    return None


def up_section(text):
    """``text`` with the down parts of a dbmate (``-- migrate:down``) or goose (``-- +goose Down``)
    file blanked out (line breaks kept, so line numbers stay right); other files unchanged."""
    if "migrate:up" in text and DBMATE_UP_RE.search(text):
        return _keep_up_parts(text, [m.start() for m in DBMATE_UP_RE.finditer(text)],
                              [m.start() for m in DBMATE_DOWN_RE.finditer(text)])
    folded = _folded(text)
    if _may_hold(folded, "+goose"):
        ups = [m.start() for m in _goose_annotations(GOOSE_UP_RE, text, folded)]
        if ups:
            return _keep_up_parts(text, ups, [m.start() for m in _goose_annotations(GOOSE_DOWN_RE, text, folded)])
    return text


def _keep_up_parts(text, ups, downs):
    """``text`` with what lies between each down mark and the next up mark (offsets) blanked."""
    marks = sorted([(start, "up") for start in ups] + [(start, "down") for start in downs])
    pieces, position, keeping = [], 0, True
    for start, kind in [*marks, (len(text), "up")]:
        chunk = text[position:start]
        pieces.append(chunk if keeping else "\n" * chunk.count("\n"))
        position, keeping = start, kind == "up"
    return "".join(pieces)
