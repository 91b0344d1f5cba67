"""Each tool's checksum, checked against an independent re-statement of the tool's algorithm."""

from __future__ import annotations

import binascii
import hashlib
import struct

from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.checksums import (
    flyway_checksum,
    liquibase_changeset_checksum,
    sha1_file,
    sha256_file,
    sha256_hex,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.migrations.sources import (
    parse_liquibase_formatted_sql,
)


def java_flyway(text):
    """Flyway as Java does it: BufferedReader.readLine() lines, BOM filtered, one CRC32, (int) cast."""
    lines, current, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if ch in "\r\n":
            lines.append(current)
            current = ""
            if ch == "\r" and text[i + 1:i + 2] == "\n":
                i += 1
        else:
            current += ch
        i += 1
    if current:
        lines.append(current)
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    crc = 0
    for line in lines:
        crc = binascii.crc32(line.encode("utf-8"), crc)
    return struct.unpack(">i", struct.pack(">I", crc))[0]


def test_flyway_matches_line_by_line_crc32_with_signed_result():
    for text in ["CREATE TABLE a (id int);\n", "SELECT 1;\r\nSELECT 2;\r\n", "\ufeffSELECT 'é';\rSELECT 3;",
                 "", "\n\n\n", "a\n\nb"]:
        assert flyway_checksum(text) == java_flyway(text), repr(text)


def test_flyway_ignores_line_endings_and_bom_but_not_content():
    base = flyway_checksum("CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n")
    assert flyway_checksum("\ufeffCREATE TABLE a (id int);\r\nINSERT INTO a VALUES (1);") == base
    assert flyway_checksum("CREATE TABLE a (id bigint);\nINSERT INTO a VALUES (1);\n") != base
    # Java's int is signed: values with the top bit set are negative.
    assert any(flyway_checksum("x%d" % n) < 0 for n in range(20))
    assert all(-(2 ** 31) <= flyway_checksum("x%d" % n) < 2 ** 31 for n in range(50))


def test_sha_digests_of_files(tmp_path):
    path = tmp_path / "deploy.sql"
    path.write_bytes(b"CREATE TABLE a (id int);\n")
    assert sha1_file(str(path)) == hashlib.sha1(b"CREATE TABLE a (id int);\n").hexdigest()  # noqa: S324
    assert sha256_file(str(path)) == hashlib.sha256(b"CREATE TABLE a (id int);\n").hexdigest()
    assert sha256_hex("CREATE TABLE a (id int);\n") == sha256_file(str(path))


def test_liquibase_checksum_version_9():
    # The MD5SUM Liquibase 4.28.1 stored for this changeset (tests/integration/.../test_liquibase_real.py).
    assert liquibase_changeset_checksum(["CREATE TABLE a (id int);"]) == "9:c89e591e0fb4b4e3115b62802f20a3e5"
    # Version 9 ignores every space, tab and line break; the rollback is not part of it.
    changesets = parse_liquibase_formatted_sql(
        "--liquibase formatted sql\n--changeset alice:1\nCREATE TABLE a\n  (id  int);\n--rollback DROP TABLE a;\n"
        "--changeset \"bob\":\"x 2\" runOnChange:true\r\n--comment: made by bob\r\nSELECT 1;\r\n"
        "/* liquibase rollback\nSELECT 2;\n*/\n")
    assert [(a, i, sql) for a, i, _attrs, sql in changesets] == [
        ("alice", "1", "CREATE TABLE a\n  (id  int);"), ("bob", "x 2", "SELECT 1;")]
    assert liquibase_changeset_checksum([changesets[0][3]]) == "9:c89e591e0fb4b4e3115b62802f20a3e5"
