# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration files of each tool, read from a directory, with the tool's own checksum.

Each scanner returns an ordered list of :class:`SourceMigration`.  ``key`` is what the tool's
history table records for the migration (a version, a change name, a revision, a changeset id).
"""

from __future__ import annotations

import ast as pyast
import hashlib
import os
import re
from dataclasses import dataclass

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.checksums import (
    flyway_checksum,
    liquibase_changeset_checksum,
    sha1_file,
    sha256_file,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.files import (
    normalize_version,
    read_text,
    require_directory,
    scan_versioned,
    sorted_versions,
)


@dataclass
class SourceMigration:
    """One migration as its files describe it."""

    key: str
    description: str
    script: str
    checksum: object = None  # the tool's own checksum, None when the tool stores none
    change_id: str = None  # sqitch only: the id sqitch derives from the plan
    repeatable: bool = False  # run again whenever it changes (Flyway R__, Liquibase runOnChange)


def scan_ours(directory):
    """Our runner's ``V<version>__<description>.sql`` files with their SHA-256."""
    migrations, _undos = scan_versioned(directory)
    return [SourceMigration(v, m.description, m.name, m.checksum)
            for v, m in ((v, migrations[v]) for v in sorted_versions(migrations))]


def scan_flyway(directory):
    """Flyway's SQL migrations (recursively) with Flyway's CRC32: the versioned ones
    (``V<version>__<description>.sql``) in version order, then the repeatable ones
    (``R__<description>.sql``, keyed ``R__<description>``) in description order, which is the
    order Flyway applies them in.  Undo (``U``) migrations are left out.
    """
    require_directory(directory)
    found, repeatable = {}, {}
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith(".sql") or "__" not in name:
                continue
            path = os.path.join(root, name)
            prefix, description = name[:name.index("__")], name[name.index("__") + 2:-4]
            if prefix == "R":
                key = "R__" + description
                if key in repeatable:
                    raise ConfigurationError("two Flyway repeatable migrations have description %r: %s and %s; "
                                             "Flyway refuses this too" % (description, repeatable[key].script, name))
                repeatable[key] = SourceMigration(key, description.replace("_", " "), name,
                                                  flyway_checksum(read_text(path)), repeatable=True)
                continue
            if not prefix.startswith("V") or not re.match(r"^\d+(?:[._]\d+)*$", prefix[1:]):
                continue
            version = normalize_version(prefix[1:])
            if version in found:
                raise ConfigurationError("two Flyway migrations have version %s: %s and %s; Flyway "
                                         "refuses this too" % (version, found[version].script, name))
            found[version] = SourceMigration(version, description.replace("_", " "), name,
                                             flyway_checksum(read_text(path)))
    return [found[v] for v in sorted_versions(found)] + [repeatable[k] for k in sorted(repeatable)]


def scan_golang_migrate(directory):
    """golang-migrate's ``<version>_<title>.up.sql`` files (no checksum is stored by the tool)."""
    require_directory(directory)
    found = {}
    for name in os.listdir(directory):
        match = re.match(r"^(\d+)_(.*)\.up\.sql$", name)
        if match:
            found[str(int(match.group(1)))] = SourceMigration(str(int(match.group(1))), match.group(2), name)
    return [found[v] for v in sorted(found, key=int)]


def scan_rails(directory):
    """Rails' ``<timestamp>_<name>.rb`` migrations (no checksum is stored by Rails)."""
    require_directory(directory)
    found = {}
    for name in os.listdir(directory):
        match = re.match(r"^(\d+)_(.*)\.rb$", name)
        if match:
            found[match.group(1)] = SourceMigration(match.group(1), match.group(2).replace("_", " "), name)
    return [found[v] for v in sorted(found, key=int)]


def scan_prisma(directory):
    """Prisma's ``<name>/migration.sql`` directories with the SHA-256 Prisma stores."""
    require_directory(directory)
    found = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name, "migration.sql")
        if os.path.isfile(path):
            found.append(SourceMigration(name, name, os.path.join(name, "migration.sql"), sha256_file(path)))
    return found


SQITCH_CHANGE_RE = re.compile(
    r"^(?P<name>[^\s\[]+)\s*(?:\[(?P<deps>[^\]]*)\])?\s*"
    r"(?P<date>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\s+(?P<planner>.*?)\s*<(?P<email>[^>]*)>"
    r"(?:\s*#\s*(?P<note>.*))?$"
)


def parse_sqitch_plan_entries(text):
    """``(pragmas, [change dicts in plan order])`` from a ``sqitch.plan``.

    Each change dict has name, requires, conflicts, date, planner, note, ``tags`` (the tags right
    after it) and ``reworked`` (a later line reworks it: the name appears again).
    """
    pragmas, entries = {}, []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("%"):
            key, _sep, value = line[1:].partition("=")
            pragmas[key.strip()] = value.strip()
            continue
        if line.startswith("@"):
            if entries:
                entries[-1]["tags"].append(re.split(r"\s", line[1:], maxsplit=1)[0])
            continue
        match = SQITCH_CHANGE_RE.match(line)
        deps = (match.group("deps") or "").split() if match else []
        entries.append({
            "name": match.group("name") if match else re.split(r"[\s\[]", line, maxsplit=1)[0],
            "requires": [d for d in deps if not d.startswith("!")],
            "conflicts": [d[1:] for d in deps if d.startswith("!")],
            "date": match.group("date") if match else None,
            "planner": "%s <%s>" % (match.group("planner"), match.group("email")) if match else None,
            "note": (match.group("note") or "").strip() if match else "",
            "tags": [],
        })
    for index, entry in enumerate(entries):
        entry["reworked"] = any(later["name"] == entry["name"] for later in entries[index + 1:])
    return pragmas, entries


def parse_sqitch_plan(text):
    """``(project, [change names in plan order])`` from a ``sqitch.plan``.

    A reworked change appears more than once; only its last line counts here.
    """
    pragmas, entries = parse_sqitch_plan_entries(text)
    return pragmas.get("project"), [e["name"] for e in entries if not e["reworked"]]


def sqitch_change_ids(pragmas, entries):
    """The change id of each plan entry (a list in plan order; None once a line is unreadable),
    computed as sqitch does: SHA-1 of a git-style object of the change's info - project, uri,
    change name, the previous change's id (parent), planner, date, dependencies and note.

    Reworked changes are ordinary entries here: each instance has its own id (checked against
    ``sqitch plan`` and a real deploy).
    """
    ids, parent = [], None
    for entry in entries:
        if entry["date"] is None or (ids and ids[-1] is None):
            ids.append(None)  # a line we could not read: do not guess this or any later id
            continue
        lines = ["project " + pragmas.get("project", "")]
        if pragmas.get("uri"):
            lines.append("uri " + pragmas["uri"])
        lines.append("change " + entry["name"])
        if parent:
            lines.append("parent " + parent)
        lines += ["planner " + entry["planner"], "date " + entry["date"]]
        if entry["requires"]:
            lines += ["requires"] + ["  + " + d for d in entry["requires"]]
        if entry["conflicts"]:
            lines += ["conflicts"] + ["  - " + d for d in entry["conflicts"]]
        if entry["note"]:
            lines += ["", entry["note"]]
        info = "\n".join(lines).encode("utf-8")
        change_id = hashlib.sha1(b"change %d\0" % len(info) + info).hexdigest()  # noqa: S324 - sqitch's
        ids.append(change_id)
        parent = change_id
    return ids


def _sqitch_script_name(entries, index):
    """``users`` for the deployable instance; ``users@v1.0`` for an instance a later line reworks
    (sqitch copied its scripts to ``deploy/users@v1.0.sql``, named after the first tag after it)."""
    entry = entries[index]
    if not entry["reworked"]:
        return entry["name"]
    for later in entries[index:]:
        if later["tags"]:
            return "%s@%s" % (entry["name"], later["tags"][0])
    return entry["name"]


def scan_sqitch(directory):
    """sqitch's plan and deploy scripts, one SourceMigration per plan entry (a reworked change
    once per instance, the earlier ones keyed ``name@tag``): the SHA-1 of each deploy script (its
    ``script_hash``) and the change id sqitch derives from the plan (in ``change_id``)."""
    require_directory(directory)
    plan_path = os.path.join(directory, "sqitch.plan")
    if not os.path.isfile(plan_path):
        raise ConfigurationError("no sqitch.plan in %s; point path at the sqitch project directory" % directory)
    pragmas, entries = parse_sqitch_plan_entries(read_text(plan_path))
    ids = sqitch_change_ids(pragmas, entries)
    found = []
    for index, entry in enumerate(entries):
        key = _sqitch_script_name(entries, index)
        path = os.path.join(directory, "deploy", key + ".sql")
        found.append(SourceMigration(key, entry["name"], os.path.join("deploy", key + ".sql"),
                                     sha1_file(path) if os.path.isfile(path) else None, ids[index]))
    return found, pragmas.get("project")


def _alembic_revision(path):
    """``(revision, down_revisions tuple)`` of an Alembic script, read without running it."""
    tree = pyast.parse(read_text(path), filename=path)
    values = {}
    for node in tree.body:
        targets, value = [], None
        if isinstance(node, pyast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, pyast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, pyast.Name) and target.id in ("revision", "down_revision"):
                try:
                    values[target.id] = pyast.literal_eval(value)
                except ValueError:
                    values[target.id] = None
    revision = values.get("revision")
    down = values.get("down_revision")
    if down is None:
        down = ()
    elif isinstance(down, str):
        down = (down,)
    return revision, tuple(down)


def scan_alembic(directory):
    """Alembic revisions (``versions/*.py`` or the directory itself), oldest first, and their parents."""
    require_directory(directory)
    versions_dir = os.path.join(directory, "versions")
    base = versions_dir if os.path.isdir(versions_dir) else directory
    parents, scripts = {}, {}
    for name in sorted(os.listdir(base)):
        if name.endswith(".py") and not name.startswith("__"):
            revision, down = _alembic_revision(os.path.join(base, name))
            if revision:
                parents[revision] = down
                scripts[revision] = name
    # Parents before children, iteratively: long histories would exceed Python's recursion limit.
    ordered, seen = [], set()
    for start in sorted(parents):
        stack = [(start, False)]
        while stack:
            rev, expanded = stack.pop()
            if expanded:
                ordered.append(rev)
                continue
            if rev in seen or rev not in parents:
                continue
            seen.add(rev)
            stack.append((rev, True))
            stack.extend((parent, False) for parent in reversed(parents[rev]))
    return [SourceMigration(r, scripts[r][:-3], scripts[r]) for r in ordered], parents


# The line patterns of Liquibase's AbstractFormattedChangeLogParser (case-insensitive, whole line).
CHANGESET_RE = re.compile(r'^\s*--[\s]*changeset\s+("[^"]+"|[^:]+):\s*("[^"]+"|\S+)(?P<attrs>.*)$', re.IGNORECASE)
LIQUIBASE_FIRST_LINE_RE = re.compile(r"^\s*--\s*liquibase\s*formatted.*", re.IGNORECASE)
# Lines Liquibase consumes itself: they are not part of the changeset's SQL (nor its checksum).
LIQUIBASE_META_RES = [re.compile(p, re.IGNORECASE) for p in (
    r"^\s*--[\s]*rollback (.*)$", r"^\s*--[\s]*preconditions(.*)$", r"^\s*--[\s]*precondition\-([a-zA-Z0-9-]+)(.*)$",
    r"^--[\s]*comments?:? (.*)$", r"^--[\s]*validCheckSum:? (.*)$", r"^\s*--[\s]*property\s+(.*:.*)\s+(.*:.*).*$",
)]
LIQUIBASE_IGNORE_LINES_RE = re.compile(r"^--[\s]*ignoreLines:(\w+)", re.IGNORECASE)
LIQUIBASE_ROLLBACK_START_RE = re.compile(r"^\s*/\*\s*liquibase\s*rollback\s*$", re.IGNORECASE)
LIQUIBASE_ROLLBACK_END_RE = re.compile(r".*\s*\*/\s*$")


def _unquote(text):
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] == '"' else text


def parse_liquibase_formatted_sql(text):
    """The changesets of a Liquibase *formatted SQL* changelog: ``[(author, id, attributes, sql)]``.

    The SQL is what Liquibase's parser keeps for the changeset's change: every line up to the
    next ``--changeset`` except the ones it consumes (``--rollback``, ``/* liquibase rollback``
    blocks, ``--comment``, ``--preconditions``, ``--precondition-*``, ``--validCheckSum``,
    ``--property``, ``--ignoreLines`` ranges).  ``${...}`` properties are not expanded.
    """
    changesets, current, in_rollback, ignoring, ignore_count = [], None, False, False, 0
    for line in re.split(r"\r\n|\r|\n", text):
        match = CHANGESET_RE.match(line)
        if match:
            current = [_unquote(match.group(1).strip()), _unquote(match.group(2)), match.group("attrs"), []]
            changesets.append(current)
            in_rollback = ignoring = False
            continue
        if current is None:
            continue
        if in_rollback:
            in_rollback = not LIQUIBASE_ROLLBACK_END_RE.match(line)
            continue
        if LIQUIBASE_ROLLBACK_START_RE.match(line):
            in_rollback = True
            continue
        ignore = LIQUIBASE_IGNORE_LINES_RE.match(line)
        if ignore:
            value = ignore.group(1).lower()
            ignoring = value == "start"
            ignore_count = int(value) if value.isdigit() else 0
            continue
        if ignoring or ignore_count:
            ignore_count = max(0, ignore_count - 1)
            continue
        if any(pattern.match(line) for pattern in LIQUIBASE_META_RES):
            continue
        current[3].append(line)
    return [(author, cid, attrs, "\n".join(lines).strip()) for author, cid, attrs, lines in changesets]


def scan_liquibase(directory):
    """Changesets of Liquibase *formatted SQL* changelogs (``--liquibase formatted sql``) with the
    MD5SUM Liquibase stores (checksum algorithm version 9, recomputed its way).

    XML/YAML/JSON changelogs are not parsed; their changesets cannot be reported as pending.
    A ``runOnChange:true`` or ``runAlways:true`` changeset is ``repeatable``: Liquibase runs it
    again when it changes, so a new checksum there is not drift.
    """
    require_directory(directory)
    found = []
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith(".sql"):
                continue
            path = os.path.join(root, name)
            text = read_text(path)
            if not LIQUIBASE_FIRST_LINE_RE.match(text.lstrip("\ufeff").split("\n", 1)[0]):
                continue
            for author, cid, attrs, sql in parse_liquibase_formatted_sql(text):
                found.append(SourceMigration(
                    "%s::%s" % (cid, author), cid, os.path.relpath(path, directory),
                    liquibase_changeset_checksum([sql]),
                    repeatable=bool(re.search(r"\b(runOnChange|runAlways):true\b", attrs, re.IGNORECASE))))
    return found
