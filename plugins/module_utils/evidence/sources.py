# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the evidence is: inside the release, in a directory, at a URL or under an S3 prefix.

Directories and S3 go through the collection's storage layer (:mod:`storage`), URLs through the
same reader that fetches artifacts (:func:`release.open_source`).  Every read stops one byte past
the size limit, so an oversized or endless file never fills memory.  A directory or a prefix is
listed; a URL cannot be, so there the manifest (``evidence.json``) must list the files.
"""

from __future__ import annotations

import os
import posixpath
import re

from ansible_collections.shipyard.deploy.plugins.module_utils import release, storage
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, StorageError
from ansible_collections.shipyard.deploy.plugins.module_utils.evidence.documents import MalformedReport

MANIFEST = "evidence.json"
# More files than this is no CI's evidence of one build (a blocking finding, not a partial read).
MAX_FILES = 200


def check_name(name):
    """A file name from a manifest: relative, no ``..``, no empty part (else MalformedReport)."""
    text = str(name or "")
    normal = posixpath.normpath(text)
    if not text or text.startswith("/") or "\\" in text or normal != text or normal.startswith("..") \
            or any(part in ("", ".", "..") for part in text.split("/")):
        raise MalformedReport(MANIFEST, "file name %r must be a relative path inside the evidence location" % text)
    return text


class EvidenceSource:
    """Read access to the files of one evidence location."""

    def __init__(self, location, description, inside_release, store=None, base_url=None):
        self.location = location
        self.description = description
        self.inside_release = inside_release
        self._store = store
        self._base_url = base_url

    @property
    def listable(self):
        """Whether the files can be listed (directory, S3) rather than named by the manifest (URL)."""
        return self._store is not None

    def list(self):
        """``[(name, size)]`` of every file here."""
        return self._store.list("")

    def read(self, name, max_bytes):
        """The bytes of ``name``, or None when it does not exist; MalformedReport when over ``max_bytes``."""
        check_name(name)
        try:
            if self._store is not None:
                reader = self._store.open_reader(name)
            else:
                reader = release.open_source(self._base_url + name)
        except storage.StorageNotFound:
            return None
        except release.ReleaseError as exc:
            if "HTTP 404" in exc.message:
                return None
            raise StorageError(exc.message) from None
        try:
            data = _read_bounded(reader, max_bytes)
        finally:
            reader.close()
        if data is None:
            raise MalformedReport(name, "larger than %d bytes (max_file_size); refused unread" % max_bytes)
        return data


def open_evidence(location, release_dir=None, aws_options=None):
    """The :class:`EvidenceSource` of ``location``: relative to ``release_dir``, a path, http(s) or s3."""
    if not location:
        raise ConfigurationError("evidence location is empty; give a folder of the release (evidence), "
                                 "a directory, an http(s) URL or s3://bucket/prefix")
    if location.startswith(("http://", "https://")):
        base = location if location.endswith("/") else location + "/"
        return EvidenceSource(location, release.describe_source(base), False, base_url=base)
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", location) and not location.startswith(("s3://", "file://")):
        raise ConfigurationError("evidence location %s: use a folder of the release, a path, file://, "
                                 "http(s):// or s3://" % release.describe_source(location))
    if location.startswith(("s3://", "file://")) or os.path.isabs(os.path.expanduser(location)):
        store = storage.open_store(location, aws_options or {})
        return EvidenceSource(location, store.location or location, False, store=store)
    if not release_dir:
        raise ConfigurationError("evidence location %r is relative to the release, but release_dir is not set"
                                 % location)
    check_name(location.rstrip("/"))
    path = os.path.join(release_dir, location)
    return EvidenceSource(location, path, True, store=storage.LocalStore(path))


def release_files(release_dir):
    """An :class:`EvidenceSource` over the release's own root (changelog, VERSION, accepted risks)."""
    return EvidenceSource(release_dir, release_dir, True, store=storage.LocalStore(release_dir))


def _read_bounded(reader, max_bytes):
    """All bytes of ``reader``, or None as soon as there are more than ``max_bytes``."""
    chunks, total = [], 0
    while True:
        chunk = reader.read(min(1024 * 1024, max_bytes + 1 - total))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            return None
