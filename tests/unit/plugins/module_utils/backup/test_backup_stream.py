"""Pieces of the backup stream that need no server: argv, the hashing sink, pg_dump's verdict."""

from __future__ import annotations

import hashlib
import io

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.backup import stream
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import BackupError


def test_pg_dump_argv_holds_no_connection_settings():
    argv = stream.pg_dump_argv("/usr/bin/pg_dump", "00000003-0000001B-1")
    assert argv == ["/usr/bin/pg_dump", "--format=custom", "-Z0", "--snapshot=00000003-0000001B-1", "--no-password"]


class Collect:
    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(bytes(data))


def test_hashing_sink_counts_hashes_and_forwards():
    writer = Collect()
    sink = stream.HashingSink(writer)
    for chunk in (b"abc", b"", b"x" * 5000):
        assert sink.write(chunk) == len(chunk)
    assert sink.size == 5003
    assert sink.digest.hexdigest() == hashlib.sha256(b"abc" + b"x" * 5000).hexdigest()
    assert b"".join(writer.chunks) == b"abc" + b"x" * 5000


def test_compression_through_the_sink_round_trips():
    writer = Collect()
    sink = stream.HashingSink(writer)
    data = b"COPY public.t (id) FROM stdin;\n" + b"".join(b"%d\n" % i for i in range(200000))
    read, written = stream.zstandard.ZstdCompressor(level=1, threads=2).copy_stream(io.BytesIO(data), sink)
    assert read == len(data) and written == sink.size
    assert stream.zstandard.ZstdDecompressor().decompressobj().decompress(b"".join(writer.chunks)) == data


def drained(text):
    drain = stream.StderrDrain(io.BytesIO(text.encode()))
    drain.run()
    return drain


def test_pg_dump_exit_status_and_messages():
    stream._check_pg_dump(0, drained(""), "shop", "pg_dump")
    stream._check_pg_dump(0, drained("pg_dump: warning: archive items not in correct section order\n"), "shop",
                          "pg_dump")
    with pytest.raises(BackupError, match="killed by signal 9"):
        stream._check_pg_dump(-9, drained(""), "shop", "pg_dump")
    with pytest.raises(BackupError, match="exit code 1: pg_dump: error: query failed; pg_dump: detail: boom"):
        stream._check_pg_dump(1, drained("pg_dump: error: query failed\npg_dump: detail: boom\n"), "shop",
                              "pg_dump")
    # An error written with a zero exit status still fails the backup.
    with pytest.raises(BackupError, match="reported an error"):
        stream._check_pg_dump(0, drained("pg_dump: error: something\n"), "shop", "pg_dump")


def test_stderr_drain_keeps_a_bounded_amount():
    drain = drained("pg_dump: error: x\n" * 20000)
    assert sum(len(line) for line in drain.lines) <= stream.STDERR_LIMIT + 100
