# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each migration tool's own checksum of a migration file, recomputed exactly as the tool does.

Only the tools that store a checksum of the file are here: Flyway (CRC32 over lines), sqitch
(SHA-1 of the deploy script), Prisma (SHA-256 of migration.sql), Liquibase (MD5 of a changeset's
SQL, checksum algorithm version 9) and our own ledger (SHA-256).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib

BOM = "\ufeff"
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def flyway_checksum(text):
    """Flyway's checksum of a SQL migration, as the signed 32-bit integer it stores.

    Flyway reads the file line by line (a line ends at ``\\n``, ``\\r`` or ``\\r\\n``), strips a
    UTF-8 BOM from the first line, and updates one CRC32 with each line's UTF-8 bytes without its
    line break; the ``int`` it stores is that CRC32 read as a signed 32-bit value.
    """
    if text.startswith(BOM):
        text = text[len(BOM):]
    crc = 0
    for line in _LINE_BREAKS.split(text):
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= (1 << 31) else crc


def sha256_hex(text):
    """SHA-256 (hex) of the UTF-8 bytes of ``text``: our ledger's and Prisma's checksum."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path):
    """SHA-256 (hex) of a file's raw bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def sha1_file(path):
    """SHA-1 (hex) of a file's raw bytes: sqitch's ``script_hash`` of a deploy script."""
    digest = hashlib.sha1()  # noqa: S324 - sqitch's own choice, not ours
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


LIQUIBASE_CHECKSUM_VERSION = 9
_LIQUIBASE_WHITESPACE = str.maketrans("", "", " \n\r\t")


def liquibase_sql_checksum(sql):
    """Liquibase's version-9 checksum (``9:<md5>``) of a SQL change, as ``AbstractSQLChange``
    computes it: the SQL trimmed, every space, tab, CR and LF removed, MD5 of the UTF-8 bytes."""
    return "%d:%s" % (LIQUIBASE_CHECKSUM_VERSION, hashlib.md5(  # noqa: S324 - Liquibase's own choice
        sql.strip().translate(_LIQUIBASE_WHITESPACE).encode("utf-8")).hexdigest())


def liquibase_changeset_checksum(change_sqls):
    """The ``MD5SUM`` Liquibase 4.22+ stores for a changeset (``ChangeSet.generateCheckSum``,
    version 9): MD5 of each change's checksum followed by ``:``, line endings standardized and the
    text NFC-normalized (``CheckSum.compute(String)``)."""
    text = "".join(liquibase_sql_checksum(sql) + ":" for sql in change_sqls)
    text = unicodedata.normalize("NFC", re.sub(r"\r\n?", "\n", text).replace("\ufffd", ""))
    return "%d:%s" % (LIQUIBASE_CHECKSUM_VERSION, hashlib.md5(text.encode("utf-8")).hexdigest())  # noqa: S324
