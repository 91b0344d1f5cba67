# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where backups live: a local directory or an S3 prefix, behind one small interface.

:func:`open_store` turns a location (``/var/backups/pg`` or ``s3://bucket/prefix``) into a
:class:`LocalStore` or :class:`S3Store`.  Both offer the same operations on "/"-separated keys:

- ``open_writer(key)``: a streaming writer whose object becomes visible only on ``commit()``
  (local: a hidden temporary file in the same directory, fsync, rename; S3: a multipart upload
  whose parts go up concurrently from a bounded buffer, completed at the end).  ``abort()``
  leaves no trace (temporary file removed, multipart upload aborted).
- ``open_reader(key)``: a streaming binary file-like object.
- ``put_small`` / ``get_small``: whole small objects (manifests), written atomically.
- ``list(prefix)``, ``delete(key)``, ``local_path(key)``.

Nothing here writes anything before a writer is opened, so check mode can use a store freely.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import os
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.shipyard.deploy.plugins.module_utils import aws
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, StorageError

MIB = 1024 * 1024
# S3 refuses parts under 5 MiB (except the last) and more than 10,000 parts per upload.
S3_MIN_PART_SIZE = 5 * MIB
S3_MAX_PARTS = 10000
DEFAULT_PART_SIZE = 16 * MIB
DEFAULT_CONCURRENCY = 4
# Seconds an aborted multipart upload waits for parts still being sent before it is aborted anyway.
ABORT_WAIT = 5.0
SSE_CHOICES = ("AES256", "aws:kms")
# Local temporary files are hidden (leading dot) so that listings never show a partial object.
PARTIAL_MARK = ".partial-"


class StorageNotFound(StorageError):
    """The object asked for does not exist in the store."""


def open_store(location, aws_options=None, sse=None, kms_key_id=None, storage_class=None,
               part_size=None, concurrency=None):
    """Return the store for ``location``: a local directory path or ``s3://bucket/prefix``.

    ``aws_options`` are the module options of :func:`aws.aws_argument_spec` (S3 only);
    ``sse`` (``AES256`` or ``aws:kms``), ``kms_key_id`` and ``storage_class`` apply to every
    object written to S3; ``part_size`` (bytes) and ``concurrency`` tune multipart uploads.
    Any other URL scheme raises ConfigurationError.  Opening a store writes nothing.
    """
    if not location or not isinstance(location, str):
        raise ConfigurationError(
            "location is empty; give a local directory (/var/backups/pg) or s3://bucket/prefix"
        )
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", location)
    if match is None:
        _refuse_s3_options(location, sse, kms_key_id, storage_class)
        return LocalStore(location)
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme == "file":
        _refuse_s3_options(location, sse, kms_key_id, storage_class)
        return LocalStore(rest or "/")
    if scheme == "s3":
        bucket, _sep, prefix = rest.partition("/")
        return S3Store(bucket, prefix, aws_options or {}, sse=sse, kms_key_id=kms_key_id,
                       storage_class=storage_class, part_size=part_size, concurrency=concurrency)
    raise ConfigurationError(
        "location %r uses the unknown storage scheme %r; use a local directory path "
        "(/var/backups/pg or file:///var/backups/pg) or s3://bucket/prefix" % (location, scheme + "://")
    )


def _refuse_s3_options(location, sse, kms_key_id, storage_class):
    given = [name for name, value in (("sse", sse), ("kms_key_id", kms_key_id),
                                      ("storage_class", storage_class)) if value]
    if given:
        raise ConfigurationError(
            "%s only apply to S3, but location %r is a local directory; remove them or use an "
            "s3://bucket/prefix location" % (", ".join(given), location)
        )


def display_location(location):
    """A location as people read it: a local path without ``..`` segments, an ``s3://`` URL as it is."""
    if not location or not isinstance(location, str) or "://" in location:
        return location
    return os.path.normpath(os.path.expanduser(location))


def _check_key(key):
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in key.split("/")):
        raise StorageError("invalid storage key %r (a bug in shipyard.deploy; keys are relative "
                           "paths such as <backup_id>/manifest.json)" % key)
    return key


class Store:
    """The common interface of :class:`LocalStore` and :class:`S3Store`."""

    location = ""
    is_local = False

    def open_writer(self, key):
        """A writer with ``write(bytes)``, ``commit()`` and ``abort()`` for a new object ``key``."""
        raise NotImplementedError

    def open_reader(self, key):
        """A streaming binary reader (``read(n)``, ``close()``); StorageNotFound when missing."""
        raise NotImplementedError

    def put_small(self, key, data, content_type=None):
        """Write a whole small object atomically (it appears complete or not at all).

        ``content_type`` is kept by stores that have one (S3), so a browser shows the object.
        """
        writer = self.open_writer(key)
        try:
            writer.write(data)
        except BaseException:
            writer.abort()
            raise
        writer.commit()

    def get_small(self, key):
        """Read a whole small object; StorageNotFound when it does not exist."""
        reader = self.open_reader(key)
        try:
            return reader.read()
        finally:
            reader.close()

    def list(self, prefix=""):
        """``[(key, size)]`` of every visible object whose key starts with ``prefix``, sorted."""
        raise NotImplementedError

    def delete(self, key):
        """Delete object ``key``; deleting a missing object is not an error."""
        raise NotImplementedError

    def local_path(self, key):
        """Filesystem path of ``key`` for a local store; None for remote stores."""
        return None

    def list_leftovers(self):
        """What interrupted writers left: ``[{key, size, age_seconds, kind, handle}]``, never visible objects.

        Local: hidden temporary files of :class:`_LocalWriter`; S3: multipart uploads never
        completed nor aborted. ``handle`` is what :meth:`remove_leftover` needs.
        """
        raise NotImplementedError

    def remove_leftover(self, item):
        """Remove one entry of :meth:`list_leftovers` (missing already is not an error)."""
        raise NotImplementedError

    def probe(self):
        """Check, without writing anything, that backups could be written here.

        Returns a short description of what was checked; raises StorageError when the
        location is unusable (bucket missing, directory not writable).
        """
        raise NotImplementedError

    def url(self, key):
        """The full location of ``key``, for messages and results."""
        raise NotImplementedError


# -- local directory -----------------------------------------------------------------------

class LocalStore(Store):
    """A directory on the host that runs the task; created (0700) on the first write."""

    is_local = True

    def __init__(self, path):
        expanded = os.path.expanduser(path)
        if not os.path.isabs(expanded):
            raise ConfigurationError(
                "location %r is a relative path; give an absolute directory (a module's working "
                "directory is not the playbook's)" % path
            )
        self.root = os.path.normpath(expanded)
        self.location = self.root

    def _path(self, key):
        return os.path.join(self.root, *_check_key(key).split("/"))

    def local_path(self, key):
        return self._path(key)

    def url(self, key):
        return self._path(key)

    def open_writer(self, key):
        return _LocalWriter(self, self._path(key))

    def open_reader(self, key):
        path = self._path(key)
        try:
            return open(path, "rb")
        except FileNotFoundError:
            raise StorageNotFound("%s does not exist" % path) from None
        except OSError as exc:
            raise StorageError("cannot read %s: %s" % (path, exc.strerror or exc)) from None

    def list(self, prefix=""):
        found = []
        if not os.path.isdir(self.root):
            if os.path.exists(self.root):
                raise StorageError("location %s is not a directory; give the directory the backups are in"
                                   % self.root)
            return found
        for dirpath, dirnames, filenames in os.walk(self.root, onerror=self._walk_error):
            # Hidden entries are partial writes (ours) or someone else's; never list them.
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel_dir = os.path.relpath(dirpath, self.root)
            for name in filenames:
                if name.startswith("."):
                    continue
                key = name if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/" + name
                if not key.startswith(prefix):
                    continue
                try:
                    size = os.stat(os.path.join(dirpath, name)).st_size
                except FileNotFoundError:  # deleted while we walked
                    continue
                found.append((key, size))
        return sorted(found)

    def list_leftovers(self):
        found = []
        if not os.path.isdir(self.root):
            return found
        now = time.time()
        for dirpath, dirnames, filenames in os.walk(self.root, onerror=self._walk_error):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not (name.startswith(".") and PARTIAL_MARK in name):
                    continue
                path = os.path.join(dirpath, name)
                try:
                    stat = os.stat(path)
                except FileNotFoundError:
                    continue
                found.append({"key": os.path.relpath(path, self.root).replace(os.sep, "/"), "size": stat.st_size,
                              "age_seconds": round(max(0.0, now - stat.st_mtime), 3), "kind": "partial file",
                              "handle": path})
        return found

    def remove_leftover(self, item):
        try:
            os.unlink(item["handle"])
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError("cannot delete %s: %s" % (item["handle"], exc.strerror or exc)) from None
        self._prune_dirs(os.path.dirname(item["handle"]))

    def _walk_error(self, exc):
        raise StorageError("cannot list %s: %s; check the directory's permissions"
                           % (getattr(exc, "filename", self.root), exc.strerror or exc))

    def delete(self, key):
        path = self._path(key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError("cannot delete %s: %s" % (path, exc.strerror or exc)) from None
        self._prune_dirs(os.path.dirname(path))

    def _prune_dirs(self, directory):
        """Remove directories left empty below the root (a deleted backup leaves no folder)."""
        while directory != self.root and directory.startswith(self.root + os.sep):
            try:
                os.rmdir(directory)
            except OSError:
                return
            directory = os.path.dirname(directory)

    def probe(self):
        path = self.root
        while not os.path.exists(path):
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
        if not os.path.isdir(path):
            raise StorageError("cannot create backup directory %s: %s is not a directory; "
                               "choose another location" % (self.root, path))
        if not os.access(path, os.W_OK | os.X_OK):
            raise StorageError("cannot write to %s (needed for %s); fix its permissions or run the "
                               "task as a user who may write there" % (path, self.root))
        if path == self.root:
            return "directory %s is writable" % self.root
        return "directory %s does not exist yet and can be created in %s" % (self.root, path)


def _make_private_dir(path):
    """Create ``path`` (and parents) if missing; the directory itself gets mode 0700 when we create it."""
    if os.path.isdir(path):
        return
    os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return
    os.chmod(path, 0o700)  # mkdir's mode is masked by the umask; 0700 needs no masking, but be explicit


class _LocalWriter:
    """A hidden temporary file beside the final path; ``commit`` = fsync + rename + fsync dir."""

    def __init__(self, store, path):
        self._store = store
        self.path = path
        directory = os.path.dirname(path)
        try:
            # the location itself is 0700 (os.makedirs gives parents the umask's mode, 0755), and each
            # backup's directory too: a dump holds every row of the database
            _make_private_dir(store.root)
            os.makedirs(directory, mode=0o700, exist_ok=True)
            self.temp_path = os.path.join(
                directory, "." + os.path.basename(path) + PARTIAL_MARK + secrets.token_hex(4))
            # 0600: a dump holds every row of the database.
            fd = os.open(self.temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise StorageError("cannot create a file in %s: %s; check that the directory is "
                               "writable and has free space" % (directory, exc.strerror or exc)) from None
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._done = False

    def write(self, data):
        """Append ``data`` (bytes-like)."""
        view = memoryview(data)
        try:
            while view:
                # A raw write may be partial; loop until the whole chunk is in the file.
                view = view[self._file.write(view):]
        except OSError as exc:
            raise StorageError("cannot write %s: %s; check free space on that filesystem"
                               % (self.temp_path, exc.strerror or exc)) from None

    def commit(self):
        """Make the object visible under its final name, durably."""
        try:
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self.temp_path, self.path)
            dir_fd = os.open(os.path.dirname(self.path), os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            self.abort()
            raise StorageError("cannot publish %s: %s" % (self.path, exc.strerror or exc)) from None
        self._done = True

    def abort(self):
        """Remove the temporary file (and directories left empty); never raises."""
        if self._done:
            return
        self._done = True
        try:
            self._file.close()
        except OSError:
            pass
        try:
            os.unlink(self.temp_path)
        except OSError:
            pass
        self._store._prune_dirs(os.path.dirname(self.path))


# -- S3 ------------------------------------------------------------------------------------

class S3Store(Store):
    """Objects under ``s3://bucket/prefix`` through boto3 (any S3-compatible endpoint)."""

    is_local = False

    def __init__(self, bucket, prefix, aws_options, sse=None, kms_key_id=None, storage_class=None,
                 part_size=None, concurrency=None):
        if not bucket:
            raise ConfigurationError(
                "the S3 location names no bucket; write it as s3://bucket or s3://bucket/prefix"
            )
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$", bucket):
            raise ConfigurationError("%r is not a valid S3 bucket name; check the location" % bucket)
        if sse is not None and sse not in SSE_CHOICES:
            raise ConfigurationError("sse must be one of %s, not %r" % (", ".join(SSE_CHOICES), sse))
        if kms_key_id and sse != "aws:kms":
            raise ConfigurationError("a KMS key id needs server-side encryption aws:kms; set sse to aws:kms")
        self.part_size = DEFAULT_PART_SIZE if part_size is None else int(part_size)
        if self.part_size < S3_MIN_PART_SIZE:
            raise ConfigurationError("the S3 part size must be at least 5 MiB (S3's minimum), not %d bytes"
                                     % self.part_size)
        self.concurrency = DEFAULT_CONCURRENCY if concurrency is None else int(concurrency)
        if self.concurrency < 1:
            raise ConfigurationError("the S3 upload concurrency must be at least 1")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.location = "s3://%s/%s" % (bucket, self.prefix) if self.prefix else "s3://%s" % bucket
        self._aws_options = dict(aws_options)
        self.object_args = {}
        if sse:
            self.object_args["ServerSideEncryption"] = sse
        if kms_key_id:
            self.object_args["SSEKMSKeyId"] = kms_key_id
        if storage_class:
            self.object_args["StorageClass"] = storage_class
        self._client = None

    @property
    def client(self):
        """The boto3 client, created on first use (so a bad location fails before any AWS call)."""
        if self._client is None:
            self._client = aws.client("s3", self._aws_options, max_pool_connections=self.concurrency + 4)
        return self._client

    def _full(self, key):
        key = _check_key(key)
        return self.prefix + "/" + key if self.prefix else key

    def url(self, key):
        return "s3://%s/%s" % (self.bucket, self._full(key))

    def error(self, action, key, exc):
        """A StorageError (StorageNotFound for a missing key) describing a failed S3 call."""
        return s3_error(action, self.url(key) if key else self.location, exc, bucket=self.bucket,
                        location=self.location)

    def _call(self, action, key, func, **kwargs):
        try:
            return aws.retry()(func)(**kwargs)
        except Exception as exc:
            if isinstance(exc, StorageError):
                raise
            raise self.error(action, key, exc) from None

    def open_writer(self, key):
        return _S3Writer(self, key)

    def open_reader(self, key):
        response = self._call("read", key, self.client.get_object, Bucket=self.bucket, Key=self._full(key))
        return response["Body"]

    def put_small(self, key, data, content_type=None):
        extra = {"ContentType": content_type} if content_type else {}
        self._call("write", key, self.client.put_object, Bucket=self.bucket, Key=self._full(key),
                   Body=bytes(data), **self.object_args, **extra)

    def list(self, prefix=""):
        root = self.prefix + "/" if self.prefix else ""
        found = []
        token = None
        while True:
            kwargs = {"Bucket": self.bucket, "Prefix": root + prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._call("list", None, self.client.list_objects_v2, **kwargs)
            if page.get("Name") != self.bucket:
                # an HTML error page or a proxy's answer parses as an empty listing: never trust it
                raise StorageError("the endpoint's answer to listing %s is not an S3 listing of bucket %s; check "
                                   "endpoint_url (a proxy or web server answered?)" % (self.location, self.bucket))
            for item in page.get("Contents", []):
                found.append((item["Key"][len(root):], item["Size"]))
            if not page.get("IsTruncated"):
                break
            token = page["NextContinuationToken"]
        return sorted(found)

    def delete(self, key):
        self._call("delete", key, self.client.delete_object, Bucket=self.bucket, Key=self._full(key))

    def list_leftovers(self):
        root = self.prefix + "/" if self.prefix else ""
        found = []
        kwargs = {"Bucket": self.bucket, "Prefix": root}
        now = datetime.datetime.now(datetime.timezone.utc)
        while True:
            page = self._call("list the uploads of", None, self.client.list_multipart_uploads, **kwargs)
            for upload in page.get("Uploads", []):
                initiated = upload.get("Initiated") or now
                found.append({"key": upload["Key"][len(root):], "size": None,
                              "age_seconds": round(max(0.0, (now - initiated).total_seconds()), 3),
                              "kind": "open multipart upload", "handle": (upload["Key"], upload["UploadId"])})
            if not page.get("IsTruncated"):
                return found
            kwargs.update(KeyMarker=page.get("NextKeyMarker"), UploadIdMarker=page.get("NextUploadIdMarker"))

    def remove_leftover(self, item):
        key, upload_id = item["handle"]
        try:
            aws.retry()(self.client.abort_multipart_upload)(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except Exception as exc:
            if aws.error_code(exc) in ("NoSuchUpload", "404", "NotFound"):
                return
            raise self.error("abort the upload of", None, exc) from None

    def head(self, key):
        """The S3 metadata of ``key`` (size, storage class, encryption), as boto3 returns it."""
        return self._call("inspect", key, self.client.head_object, Bucket=self.bucket, Key=self._full(key))

    def probe(self):
        try:
            aws.retry()(self.client.head_bucket)(Bucket=self.bucket)
        except Exception as exc:
            if aws.error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
                raise StorageError("S3 bucket %r does not exist (location %s); create it or correct the "
                                   "location" % (self.bucket, self.location)) from None
            raise self.error("access", None, exc) from None
        return "S3 bucket %s is reachable" % self.bucket


def s3_error(action, where, exc, bucket=None, location=None):
    """The one mapping of a failed S3 call to a StorageError (StorageNotFound for a missing key).

    ``where`` is the object's URL (or the location's) for the message; backups, releases and the
    deployment ledger all report S3 failures through this.
    """
    code = aws.error_code(exc)
    location = location or where
    if code in ("NoSuchKey", "404", "NotFound"):
        return StorageNotFound("%s does not exist" % where)
    if code == "NoSuchBucket":
        return StorageError("S3 bucket %r does not exist (location %s); create it or correct the "
                            "location" % (bucket, location))
    if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"):
        return StorageError("S3 refused to %s %s (%s); check the credentials and the bucket/KMS "
                            "policies" % (action, where, code))
    if aws.is_timeout(exc):
        return StorageError("cannot %s %s: the S3 endpoint did not answer within aws_read_timeout/"
                            "aws_connect_timeout (%s); check the endpoint, or raise the timeouts if it is only slow"
                            % (action, where, type(exc).__name__))
    return StorageError("cannot %s %s: %s; check the endpoint, region and bucket"
                        % (action, where, aws.describe_error(exc)))


class _S3Writer:
    """A multipart upload fed from a bounded buffer; parts go up concurrently.

    At most ``concurrency`` parts are in flight and one more is being filled, so memory stays
    under ``(concurrency + 1) * part_size`` whatever the size of the object.  A part is the
    concatenation of the chunks written (one copy, by ``join``).  Objects smaller than one part
    are sent with a single PUT.  Parts grow for very large objects so that 10,000 parts suffice.
    """

    def __init__(self, store, key):
        self._store = store
        self.key = key
        self._full_key = store._full(key)
        self._chunks = []
        self._buffered = 0
        self._upload_id = None
        self._executor = None
        self._slots = threading.Semaphore(store.concurrency)
        self._futures = []
        self._next_part = 1
        self._failure = None
        self._done = False

    def _target_size(self):
        # 1000 parts at part_size, the next 1000 at twice that... (16 MiB parts reach ~880 GB).
        return self._store.part_size * (1 + (self._next_part - 1) // 1000)

    def write(self, data):
        """Buffer ``data``; upload a part whenever enough has accumulated."""
        if self._failure is not None:
            raise self._failure
        if not data:
            return
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered >= self._target_size():
            self._send_part()

    def _take_buffer(self):
        body = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks = []
        self._buffered = 0
        return bytes(body) if not isinstance(body, bytes) else body

    def _start_upload(self):
        store = self._store
        response = store._call("start an upload to", self.key, store.client.create_multipart_upload,
                               Bucket=store.bucket, Key=self._full_key, **store.object_args)
        self._upload_id = response["UploadId"]
        self._executor = ThreadPoolExecutor(max_workers=store.concurrency, thread_name_prefix="s3-part")

    def _send_part(self):
        if self._upload_id is None:
            self._start_upload()
        if self._next_part > S3_MAX_PARTS:
            raise StorageError("the object %s needs more than %d parts; raise the part size"
                               % (self._store.url(self.key), S3_MAX_PARTS))
        body = self._take_buffer()
        number = self._next_part
        self._next_part += 1
        # Blocks while `concurrency` parts are in flight: this is what bounds memory.
        self._slots.acquire()
        if self._failure is not None:
            self._slots.release()
            raise self._failure
        future = self._executor.submit(self._upload_part, number, body)
        self._futures.append(future)

    def _upload_part(self, number, body):
        store = self._store
        try:
            response = store._call("upload part %d of" % number, self.key, store.client.upload_part,
                                   Bucket=store.bucket, Key=self._full_key, UploadId=self._upload_id,
                                   PartNumber=number, Body=body)
            part = {"PartNumber": number, "ETag": response["ETag"]}
            for name, value in response.items():
                if name.startswith("Checksum") and name != "ChecksumType":
                    part[name] = value
            return part
        except BaseException as exc:
            if self._failure is None:
                self._failure = exc if isinstance(exc, StorageError) else StorageError(
                    "uploading part %d of %s failed: %s" % (number, store.url(self.key), exc))
            raise
        finally:
            self._slots.release()

    def commit(self):
        """Upload what is buffered and complete the upload; on failure abort and raise."""
        store = self._store
        try:
            if self._upload_id is None:
                body = self._take_buffer() if self._chunks else b""
                store._call("write", self.key, store.client.put_object, Bucket=store.bucket,
                            Key=self._full_key, Body=body, **store.object_args)
                self._done = True
                return
            if self._chunks:
                self._send_part()
            parts = [future.result() for future in self._futures]
            store._call("complete the upload of", self.key, store.client.complete_multipart_upload,
                        Bucket=store.bucket, Key=self._full_key, UploadId=self._upload_id,
                        MultipartUpload={"Parts": parts})
        except BaseException as exc:
            self.abort()
            if isinstance(exc, StorageError) or not isinstance(exc, Exception):
                raise
            raise self._failure or StorageError("cannot write %s: %s" % (store.url(self.key), exc)) from None
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
        self._done = True

    def abort(self):
        """Stop uploading and abort the multipart upload so no part is kept (or billed)."""
        if self._done:
            return
        self._done = True
        self._chunks = []
        in_flight = []
        if self._executor is not None:
            for future in self._futures:
                future.cancel()
            # Parts still uploading could outlive an abort: let them finish first, but not for longer
            # than ABORT_WAIT (a part hung on a frozen endpoint must not keep the upload open), and
            # abort again afterwards for the ones that were still going.
            _done, in_flight = concurrent.futures.wait(self._futures, timeout=ABORT_WAIT)
            self._executor.shutdown(wait=not in_flight, cancel_futures=True)
        if self._upload_id is not None:
            store = self._store
            try:
                store._call("abort the upload of", self.key, store.client.abort_multipart_upload,
                            Bucket=store.bucket, Key=self._full_key, UploadId=self._upload_id)
            except StorageError:
                # Nothing is visible anyway (an unfinished upload is not an object); the next
                # pg_backup's cleanup_partial_after, or a bucket lifecycle rule, removes it.
                pass


# -- module options ------------------------------------------------------------------------

def storage_argument_spec(writes=False):
    """Options naming a store: ``location`` plus the AWS options; with ``writes``, the S3 write options.

    The write options are ``s3_sse``, ``s3_kms_key_id``, ``s3_storage_class``, ``s3_part_size``
    (MiB) and ``s3_concurrency``.
    """
    spec = dict(location=dict(type="str", required=True))
    spec.update(aws.aws_argument_spec())
    if writes:
        spec.update(
            s3_sse=dict(type="str", choices=list(SSE_CHOICES)),
            s3_kms_key_id=dict(type="str", no_log=False),
            s3_storage_class=dict(type="str"),
            s3_part_size=dict(type="int", default=DEFAULT_PART_SIZE // MIB),
            s3_concurrency=dict(type="int", default=DEFAULT_CONCURRENCY),
        )
    return spec


def store_from_params(params):
    """The store a module's ``params`` (see :func:`storage_argument_spec`) name."""
    aws_options = {name: params.get(name) for name in aws.aws_argument_spec()}
    part_size = params.get("s3_part_size")
    return open_store(
        params.get("location"), aws_options, sse=params.get("s3_sse"),
        kms_key_id=params.get("s3_kms_key_id"), storage_class=params.get("s3_storage_class"),
        part_size=None if part_size is None else part_size * MIB, concurrency=params.get("s3_concurrency"),
    )
