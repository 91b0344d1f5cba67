# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text of a SQL migration file: UTF-8 without NUL bytes, or an error naming file and offset.

Apart from files.py (versioned migration files, which re-exports these names) so that the
lint, which only reads SQL, imports neither hashlib nor dataclasses.
"""

from __future__ import annotations

import os

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError


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
        with open(path, "rb", buffering=0) as handle:  # unbuffered: one read of the whole file
            return handle.readall()
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
