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

# Re-exported: the readers of migration_status and migration_apply take them from here.
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.sql_text import (  # noqa: F401  # pylint: disable=unused-import
    SqlFileError,
    decode_sql,
    read_bytes,
    read_sql,
    read_text,
    require_directory,
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
