# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Releases on an app host: fetch an artifact, prove its checksum, unpack it atomically, prune old ones.

Layout under ``app_root``::

    releases/<version>/            one unpacked artifact, with .shipyard-release.json
    blue -> releases/<version>     slot links (managed by the app_release role)
    green -> releases/<version>

An artifact is streamed (local path, http(s) URL, or s3://bucket/key) into a hidden temporary file
while its SHA-256 is computed; only when it matches is it unpacked, into a hidden temporary
directory that is renamed to ``releases/<version>`` in one step.  A half-fetched or corrupt
artifact therefore never looks like a release.  Pruning keeps the newest ``keep`` releases and
never removes one that a slot points at.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile

from ansible_collections.shipyard.deploy.plugins.module_utils import http_client, safe_json, storage
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, ShipyardError

MARKER = ".shipyard-release.json"
CHUNK = 1024 * 1024
VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


class ReleaseError(ShipyardError):
    """An artifact could not be fetched, verified or unpacked, or a release cannot be replaced."""


def normalize_checksum(checksum):
    """Accept ``<hex>`` or ``sha256:<hex>``; return the lowercase hex digest."""
    value = (checksum or "").strip().lower()
    if value.startswith("sha256:"):
        value = value[len("sha256:"):]
    if not re.match(r"^[0-9a-f]{64}$", value):
        raise ConfigurationError(
            "checksum must be a SHA-256 hex digest (64 hex digits, optionally prefixed sha256:); "
            "compute it with 'sha256sum <artifact>' where the artifact is built"
        )
    return value


def describe_source(source):
    """The source without credentials (user:password@ or a query string), for messages and results."""
    return re.sub(r"//[^/@]*@", "//", source.split("?", 1)[0])


def open_source(source, aws_options=None, timeout=60, verify=True):
    """A streaming binary reader for a path, an http(s) URL or s3://bucket/key.

    Downloads go through the HTTP layer: ``timeout`` bounds the connect and each read,
    ``verify`` is :func:`http_client.tls_verify` of the module's TLS options.
    """
    if source.startswith("s3://"):
        bucket_path, _sep, key = source[len("s3://"):].rpartition("/")
        if not bucket_path or not key:
            raise ConfigurationError("artifact %s must be s3://bucket/path/file" % source)
        store = storage.open_store("s3://" + bucket_path, aws_options or {})
        return store.open_reader(key)
    if source.startswith(("http://", "https://")):
        session = http_client.new_session(1)
        try:
            response = session.get(source, stream=True, timeout=http_client.timeouts(timeout), verify=verify)
        except http_client.requests.RequestException as exc:
            raise ReleaseError("cannot fetch %s: %s" % (
                describe_source(source), "no answer within %gs (timeout)" % timeout if http_client.is_timeout(exc)
                else http_client.short_error(exc))) from None
        if response.status_code != 200:
            raise ReleaseError("cannot fetch %s: HTTP %d" % (describe_source(source), response.status_code))
        response.raw.decode_content = True
        return response.raw
    if "://" in source and not source.startswith("file://"):
        raise ConfigurationError("artifact %s: use a path, file://, http(s):// or s3:// URL" % describe_source(source))
    path = source[len("file://"):] if source.startswith("file://") else source
    try:
        return open(path, "rb")
    except OSError as exc:
        raise ReleaseError("cannot read artifact %s: %s" % (path, exc.strerror)) from None


def fetch_verified(source, checksum, workdir, aws_options=None, timeout=60, verify=True):
    """Stream ``source`` into a hidden temp file in ``workdir``; return its path if the SHA-256 matches."""
    expected = normalize_checksum(checksum)
    fd, path = tempfile.mkstemp(prefix=".fetch-", dir=workdir)
    digest = hashlib.sha256()
    size = 0
    try:
        reader = open_source(source, aws_options, timeout=timeout, verify=verify)
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = reader.read(CHUNK)
                    if not chunk:
                        break
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        finally:
            reader.close()
        if digest.hexdigest() != expected:
            raise ReleaseError(
                "artifact %s has SHA-256 %s but %s was expected; it is corrupt, truncated or not the "
                "artifact you meant - nothing was unpacked" % (describe_source(source), digest.hexdigest(), expected),
                actual_sha256=digest.hexdigest(), size=size,
            )
        return path, size
    except BaseException:
        os.unlink(path)
        raise


def _safe_members(tar, dest):
    """Refuse absolute paths, '..', links leaving the release, and device files."""
    root = os.path.realpath(dest)
    for member in tar.getmembers():
        target = os.path.realpath(os.path.join(root, member.name))
        if member.name.startswith("/") or not (target == root or target.startswith(root + os.sep)):
            raise ReleaseError("artifact entry %r would land outside the release directory" % member.name)
        if member.isdev():
            raise ReleaseError("artifact entry %r is a device file" % member.name)
        if member.issym() or member.islnk():
            link = os.path.realpath(os.path.join(os.path.dirname(target), member.linkname))
            if not link.startswith(root + os.sep):
                raise ReleaseError("artifact link %r points outside the release directory" % member.name)
    return tar.getmembers()


def unpack(archive, dest):
    """Unpack a tar archive (gz, bz2, xz or plain) into ``dest`` after checking every entry."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = _safe_members(tar, dest)
            tar.extractall(dest, members=members)  # noqa: S202 - members checked above
    except tarfile.TarError as exc:
        raise ReleaseError("artifact is not a readable tar archive: %s" % exc) from None


def read_marker(release_dir):
    try:
        with open(os.path.join(release_dir, MARKER)) as handle:
            return safe_json.loads(handle.read())
    except (OSError, ValueError):
        return None


def slot_targets(app_root, slots):
    """{slot: version} for every slot link that points into releases/."""
    targets = {}
    for slot in slots:
        link = os.path.join(app_root, slot)
        if os.path.islink(link):
            targets[slot] = os.path.basename(os.path.realpath(link))
    return targets


def list_releases(app_root):
    """Releases present, oldest first: [{'version', 'unpacked_at', 'sha256'}]."""
    base = os.path.join(app_root, "releases")
    found = []
    if not os.path.isdir(base):
        return found
    for name in os.listdir(base):
        path = os.path.join(base, name)
        if name.startswith(".") or not os.path.isdir(path):
            continue
        marker = read_marker(path) or {}
        found.append({"version": name, "sha256": marker.get("sha256"),
                      "unpacked_at": marker.get("unpacked_at") or "",
                      "mtime": os.path.getmtime(path)})
    found.sort(key=lambda r: (r["unpacked_at"], r["mtime"]))
    return found


def plan_prune(releases, keep, protected):
    """Versions to delete: all but the newest ``keep``, never a protected one."""
    if keep < 1:
        raise ConfigurationError("keep must be at least 1 (the release being deployed)")
    newest = {r["version"] for r in releases[-keep:]}
    return [r["version"] for r in releases if r["version"] not in newest and r["version"] not in protected]


def run_release_artifact(params, check_mode, diff_mode):
    """Service of the release_artifact module."""
    app_root, version = params["app_root"], params["version"]
    if not VERSION_RE.match(version or ""):
        raise ConfigurationError("version %r may contain only letters, digits, '.', '_', '+' and '-'" % version)
    checksum = normalize_checksum(params["checksum"])
    releases_dir = os.path.join(app_root, "releases")
    release_dir = os.path.join(releases_dir, version)
    result = {"changed": False, "version": version, "path": release_dir, "sha256": checksum,
              "source": describe_source(params["source"]), "unpacked": False, "removed": []}
    marker = read_marker(release_dir) if os.path.isdir(release_dir) else None
    before = sorted(r["version"] for r in list_releases(app_root))
    targets = slot_targets(app_root, params["slots"])
    result["slots"] = targets
    if marker is not None and marker.get("sha256") == checksum:
        pass  # already there, same artifact
    elif os.path.exists(release_dir) and not params["force"]:
        raise ReleaseError(
            "release %s already exists at %s from another artifact (sha256 %s); a version must not change "
            "once released - publish a new version, or set force to replace it" % (
                version, release_dir, (marker or {}).get("sha256", "unknown")))
    elif os.path.exists(release_dir) and version in targets.values():
        raise ReleaseError("release %s is what slot(s) %s point at; it cannot be replaced while in use" % (
            version, ", ".join(s for s, v in targets.items() if v == version)))
    else:
        result["changed"] = result["unpacked"] = True
        if not check_mode:
            os.makedirs(releases_dir, exist_ok=True)
            archive, size = fetch_verified(
                params["source"], checksum, releases_dir, params, timeout=params.get("timeout") or 60,
                verify=http_client.tls_verify(params.get("validate_certs"), params.get("ca_path")))
            staging = tempfile.mkdtemp(prefix=".unpack-%s-" % version, dir=releases_dir)
            try:
                unpack(archive, staging)
                os.chmod(staging, 0o755)  # noqa: S103 - the service user must read the release
                with open(os.path.join(staging, MARKER), "w") as handle:
                    json.dump({"version": version, "sha256": checksum, "size": size,
                               "source": describe_source(params["source"]),
                               "unpacked_at": datetime.datetime.now(datetime.timezone.utc).isoformat()}, handle)
                if os.path.exists(release_dir):  # force: move the old one aside, then drop it
                    old = tempfile.mkdtemp(prefix=".old-%s-" % version, dir=releases_dir)
                    os.rename(release_dir, os.path.join(old, "release"))
                    shutil.rmtree(old)
                os.rename(staging, release_dir)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            finally:
                os.unlink(archive)
    releases = list_releases(app_root)
    if result["unpacked"] and check_mode:
        releases.append({"version": version, "unpacked_at": "9999", "mtime": 0})
    protected = set(targets.values()) | {version}
    doomed = plan_prune(releases, params["keep"], protected)
    for name in doomed:
        if not check_mode:
            shutil.rmtree(os.path.join(releases_dir, name))
    result["removed"] = doomed
    result["changed"] = result["changed"] or bool(doomed)
    result["releases"] = [r["version"] for r in releases if r["version"] not in doomed]
    if diff_mode:
        result["diff"] = {"before": "\n".join(before) + "\n", "after": "\n".join(sorted(result["releases"])) + "\n",
                          "before_header": releases_dir + " (releases)", "after_header": releases_dir + " (releases)"}
    return result
