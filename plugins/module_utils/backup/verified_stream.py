# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a stored backup back, proving every byte: size and SHA-256 of what storage holds,
then zstd decoding and the uncompressed size, against the manifest.

:class:`VerifyingReader` wraps a storage reader; :func:`verify_stream` reads a whole backup and
changes nothing (check mode, ``backup_verify``); the restore feeds :func:`stream_decompressed`'s
output into pg_restore and asks the reader for its verdict at the end.
"""

from __future__ import annotations

import hashlib
import traceback

from ansible_collections.shipyard.deploy.plugins.module_utils import storage
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    DependencyError,
    IntegrityError,
    StorageError,
)
from ansible_collections.shipyard.deploy.plugins.module_utils.postgres import _first_line

try:
    import zstandard
except ImportError:  # pragma: no cover - reported by require_zstandard()
    zstandard = None
    ZSTD_IMPORT_ERROR = traceback.format_exc()
else:
    ZSTD_IMPORT_ERROR = None

CHUNK = 1 << 20


def require_zstandard():
    """Raise DependencyError when the zstandard library is not importable."""
    if zstandard is None:
        raise DependencyError(
            "the Python library zstandard is required on the host that runs this task; "
            "install it with 'pip install zstandard' into the interpreter Ansible uses",
            import_error=ZSTD_IMPORT_ERROR,
        )


class VerifyingReader:
    """Wrap a storage reader: count and SHA-256 every byte, never read past the manifest's size.

    The hash covers exactly what was read from storage, so a flipped byte, a truncated object or
    trailing garbage is found no matter what the decompressor makes of it.
    """

    def __init__(self, raw, expected_size, chunk=CHUNK, source="the backup"):
        self.raw = raw
        self.source = source
        self.expected_size = expected_size
        self.chunk = chunk
        self.size = 0
        self.sha = hashlib.sha256()
        self.eof = False
        self.oversized = False

    def read(self, n=-1):
        """Read up to ``n`` bytes (a chunk when ``n`` < 0); ``b""`` at the end or past the limit."""
        if self.eof or self.oversized:
            return b""
        try:
            data = self.raw.read(self.chunk if n is None or n < 0 else n)
        except Exception as exc:  # a dropped connection or a disk error, not a damaged backup
            raise StorageError(
                "reading %s failed after %d bytes: %s; check the storage and retry (nothing was put in "
                "place)" % (self.source, self.size, _first_line(exc))) from None
        if not data:
            self.eof = True
            return b""
        self.size += len(data)
        self.sha.update(data)
        if self.size > self.expected_size:
            # More bytes than the manifest says: stop here, the result is refused anyway.
            self.oversized = True
        return data

    def drain(self):
        """Read (and hash) whatever is left, so the final verdict covers the whole object."""
        while self.read(self.chunk):
            pass

    @property
    def sha256(self):
        return self.sha.hexdigest()

    def verdict(self, manifest, backup_id):
        """Raise IntegrityError unless size and SHA-256 equal the manifest's (call after the end)."""
        if self.oversized:
            raise IntegrityError(
                "backup %s: %s is larger than the %d bytes its manifest records (read %d so far); the "
                "data was changed or appended to after the backup; do not use it, restore another backup"
                % (backup_id, manifest["data_key"], manifest["size"], self.size),
                backup_id=backup_id, expected_size=manifest["size"], actual_size=self.size,
            )
        if self.size != manifest["size"]:
            raise IntegrityError(
                "backup %s: %s has %d bytes but its manifest records %d (truncated or tampered); do not "
                "use it, restore another backup" % (backup_id, manifest["data_key"], self.size, manifest["size"]),
                backup_id=backup_id, expected_size=manifest["size"], actual_size=self.size,
            )
        if self.sha256 != manifest["sha256"].lower():
            raise IntegrityError(
                "backup %s: SHA-256 of %s is %s but its manifest records %s (the data or the manifest "
                "was altered); do not use it, restore another backup"
                % (backup_id, manifest["data_key"], self.sha256, manifest["sha256"]),
                backup_id=backup_id, expected_sha256=manifest["sha256"], actual_sha256=self.sha256,
            )


def stream_decompressed(reader, sink):
    """Feed the zstd-decompressed content of ``reader`` to ``sink(bytes)``; return its size.

    Raises ``zstandard.ZstdError`` on undecodable input; a truncated frame is not an error here
    (the size and SHA-256 verdict catches it).
    """
    require_zstandard()
    decompressor = zstandard.ZstdDecompressor().decompressobj(read_across_frames=True)
    total = 0
    while True:
        data = reader.read(CHUNK)
        if not data:
            break
        out = decompressor.decompress(data)
        if out:
            total += len(out)
            sink(out)
    return total


def verify_stream(store, manifest, backup_id):
    """Read the whole backup, check size, SHA-256, zstd and uncompressed size; change nothing."""
    raw, reader = open_verified(store, manifest, backup_id)
    try:
        try:
            uncompressed = stream_decompressed(reader, lambda _chunk: None)
            decode_error = None
        except zstandard.ZstdError as exc:
            uncompressed, decode_error = None, exc
        reader.drain()
    finally:
        raw.close()
    reader.verdict(manifest, backup_id)
    _check_decoded(manifest, backup_id, decode_error, uncompressed)
    return {"size": reader.size, "sha256": reader.sha256, "uncompressed_size": uncompressed}


def _check_decoded(manifest, backup_id, decode_error, uncompressed):
    if decode_error is not None:
        raise IntegrityError(
            "backup %s: its data matches the manifest's SHA-256 but is not valid zstd (%s); the backup "
            "was written wrongly, restore another backup" % (backup_id, decode_error),
            backup_id=backup_id,
        )
    expected = manifest.get("uncompressed_size")
    if uncompressed is not None and isinstance(expected, int) and expected > 0 and uncompressed != expected:
        raise IntegrityError(
            "backup %s decompresses to %d bytes but its manifest records %d; restore another backup"
            % (backup_id, uncompressed, expected),
            backup_id=backup_id,
        )


def open_verified(store, manifest, backup_id):
    """Open the data object; return ``(raw reader, VerifyingReader around it)``."""
    raw = open_data(store, manifest, backup_id)
    source = "%s/%s/%s" % (store.location.rstrip("/"), backup_id, manifest["data_key"])
    return raw, VerifyingReader(raw, manifest["size"], source=source)


def open_data(store, manifest, backup_id):
    """Open the backup's data object; a missing one is an integrity failure, not a storage hiccup."""
    key = "%s/%s" % (backup_id, manifest["data_key"])
    try:
        return store.open_reader(key)
    except storage.StorageNotFound:
        raise IntegrityError(
            "backup %s has a manifest but its data object %s is missing from %s; the backup is "
            "unusable, restore another one" % (backup_id, manifest["data_key"], store.location),
            backup_id=backup_id,
        ) from None
