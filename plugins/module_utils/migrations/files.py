# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Migration files on disk: ``V<version>__<description>.sql`` and their ``U`` (undo) twins.

The naming is Flyway's (``V1__init.sql``, ``V1_1__x.sql`` or ``V1.1__x.sql`` is version 1.1),
so the same reader serves our runner and the Flyway checker.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.checksums import sha256_hex
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.markers import (
    shipyard_no_transaction,
)

VERSIONED_RE = re.compile(r"^(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<description>.+)\.sql$")


def normalize_version(text):
    """``"1_1"`` and ``"1.1"`` -> ``"1.1"``; leading zeros dropped per part (``"01"`` -> ``"1"``)."""
    return ".".join(str(int(part)) for part in re.split(r"[._]", str(text).strip()))


def version_key(version):
    """Sort key of a version string: a tuple of integers, so 1.10 comes after 1.9."""
    return tuple(int(part) for part in normalize_version(version).split("."))


@dataclass
class MigrationFile:
    """A versioned migration (``V``) or its undo (``U``) read from disk."""

    kind: str  # "V" or "U"
    version: str
    description: str
    path: str
    content: str

    @property
    def name(self):
        """The file name without its directory."""
        return os.path.basename(self.path)

    @property
    def checksum(self):
        """SHA-256 (hex) of the file's bytes, as our ledger stores it."""
        return sha256_hex(self.content)

    @property
    def transactional(self):
        """False when the file's first ten lines say ``-- shipyard:no-transaction``."""
        # CREATE/DROP INDEX CONCURRENTLY and a few other statements need to opt out.
        return not shipyard_no_transaction(self.content)


class SqlFileError(ConfigurationError):
    """A migration file that cannot be used as SQL: not UTF-8, a NUL byte, or a parse error.

    ``details`` carry ``file``, ``line`` and (for bytes) ``offset``, so the lint can report the
    file as a finding while it goes on with the others.
    """


def _line_at(data, offset):
    return data.count(b"\n" if isinstance(data, bytes) else "\n", 0, offset) + 1


def _decode_utf8(data, source):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_at(data, exc.start)
        raise SqlFileError(
            "migration file %s is not UTF-8 (byte offset %d, line %d); save it as UTF-8"
            % (source, exc.start, line), file=source, line=line, offset=exc.start) from None


def decode_sql(data, source):
    """The text of a migration file's bytes, refusing what PostgreSQL would not run as written.

    Invalid UTF-8 and NUL bytes are refused with their byte offset and line: a NUL ends the
    string the parser and libpq see, so the tail of the file would silently never run while the
    checksum covered it all.
    """
    text = _decode_utf8(data, source)
    nul = data.find(b"\0")
    if nul >= 0:
        line = _line_at(data, nul)
        raise SqlFileError(
            "migration file %s holds a NUL byte (byte offset %d, line %d); PostgreSQL would stop reading "
            "there, so remove it (a binary or UTF-16 file saved by mistake?)" % (source, nul, line),
            file=source, line=line, offset=nul)
    return text


def read_bytes(path):
    """The bytes of a migration file (ConfigurationError naming it when unreadable)."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigurationError(
            "cannot read migration file %s: %s; check that it exists and is readable" % (path, exc.strerror)
        ) from None


def read_text(path):
    """Read a migration file as UTF-8 (a BOM is kept: checksums need the exact bytes)."""
    return _decode_utf8(read_bytes(path), path)


def read_sql(path):
    """Read a SQL migration that is going to be linted or run: UTF-8 without NUL bytes."""
    return decode_sql(read_bytes(path), path)


def require_directory(path, option="path"):
    """Raise ConfigurationError unless ``path`` is an existing directory."""
    if not path or not os.path.isdir(path):
        raise ConfigurationError(
            "migration directory %s=%r does not exist or is not a directory; point %s at the "
            "directory that holds the migration files" % (option, path, option)
        )


def scan_versioned(directory):
    """Return ``(migrations, undos)``: dicts version -> MigrationFile, read from ``directory``.

    Two files with the same version are refused, because which one runs would be a guess.
    """
    require_directory(directory)
    migrations, undos = {}, {}
    for name in sorted(os.listdir(directory)):
        match = VERSIONED_RE.match(name)
        if not match:
            continue
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            continue
        version = normalize_version(match.group("version"))
        target = migrations if match.group("prefix") == "V" else undos
        if version in target:
            raise ConfigurationError(
                "two migration files have version %s: %s and %s; give each a unique version"
                % (version, target[version].name, name)
            )
        target[version] = MigrationFile(
            kind=match.group("prefix"), version=version,
            description=match.group("description").replace("_", " "),
            path=path, content=read_sql(path),
        )
    return migrations, undos


def sorted_versions(versions):
    """Versions sorted numerically."""
    return sorted(versions, key=version_key)
