# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment ledger: an append-only record of every deployment's events.

One JSON object per line, in a file on the controller or in one S3 object.  Appends to a file take
an exclusive ``flock`` so parallel playbooks cannot interleave half lines; appends to S3 use
conditional writes (``If-Match`` on the ETag read, ``If-None-Match: *`` to create) and retry when
another writer won, so no event is lost.

Every record carries an ``event_id`` (given, or derived from what the event says), and an append
whose id is already in the ledger writes nothing: a task retried after a failure never records
the same event twice. The reader skips what it cannot use - a line that is not JSON, not UTF-8,
not an object, without a deployment id, event or RFC 3339 time, or a torn last line - and reports
each with its line number (``skipped``) instead of failing the whole ledger.

The ledger answers the questions a release pipeline asks: what happened in a deployment, what is
the last good version of an application in an environment (for rollback), and has a version
succeeded in an environment (staging before production).
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import json
import os
import re

from ansible_collections.shipyard.deploy.plugins.module_utils import aws, http_client, safe_json, storage
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import (
    ConfigurationError,
    ShipyardError,
    StorageError,
)

EVENTS = (
    "started", "evidence", "preflight", "backup", "migration", "release", "health", "analysis", "traffic_step",
    "approval", "bake", "smoke", "succeeded", "failed", "rolled_back", "note", "rolling",
)
# A deployment ends with one of these; the last one written wins.
OUTCOMES = ("succeeded", "failed", "rolled_back")


def record_argument_spec():
    """Suboptions of a module's ``record`` option: the deployment_record options of one deployment, AWS ones too."""
    return dict(
        ledger=dict(type="str"),
        deployment_id=dict(type="str"),
        environment=dict(type="str"),
        application=dict(type="str"),
        version=dict(type="str"),
        # the ledger's AWS options, with the aliases deployment_record takes
        **aws.aws_argument_spec(),
    )


class LedgerError(ShipyardError):
    """The ledger cannot be read or written."""


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def isoformat(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# RFC 3339 date-time: "T", "t" or a space between date and time, optional fraction of any length,
# "Z"/"z" or a numeric offset. What we write (microseconds, Z) is one case of it.
RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$")


def parse_time(text):
    """An aware UTC datetime from an RFC 3339 time; ValueError for anything else.

    Accepts every form RFC 3339 allows: with or without a fraction (of any length, cut to
    microseconds), ``Z`` or an offset, ``T`` or a space; a leap second (``:60``) counts as ``:59.999999``.
    """
    match = RFC3339_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError("not an RFC 3339 time: %r" % (text,))
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    micro = int((match.group(7) or "0")[:6].ljust(6, "0"))
    if second == 60:
        second, micro = 59, 999999
    if match.group(8):
        offset = datetime.timedelta(0)
    else:
        offset = datetime.timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        if match.group(9) == "-":
            offset = -offset
    moment = datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=datetime.timezone(offset))
    return moment.astimezone(datetime.timezone.utc)


def event_id(deployment_id, environment, application, version, event, data):
    """The id of an event when none is given: a digest of what it says (not of when it was written)."""
    text = json.dumps([deployment_id, environment, application, version, event, data or {}], sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class FileLedger:
    """A JSON-lines file; created (0600, with its directory) on the first append."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.location = self.path
        self.skipped = []

    def read(self):
        """Every usable record; what could not be used is in ``self.skipped``."""
        if os.path.isdir(self.path):
            raise LedgerError("the ledger %s is a directory; give the path of a file (it is created on the "
                              "first event)" % self.path)
        try:
            with open(self.path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise LedgerError("cannot read the ledger %s: %s" % (self.path, exc.strerror)) from None
        self.skipped = []
        return parse_lines(data, self.location, self.skipped)

    def append(self, record):
        """Append ``record`` unless its ``event_id`` is already there; True when it was written."""
        line = json.dumps(record, sort_keys=True, allow_nan=False) + "\n"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "r+b") as handle:
                # the lock covers the duplicate check and the write: two retries cannot both append
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.seek(0)
                if has_event(parse_lines(handle.read(), self.location, []), record["event_id"]):
                    return False
                handle.write(line.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise LedgerError(
                "cannot append to the ledger %s: %s; check that the directory is writable" % (self.path, exc.strerror)
            ) from None
        return True


class S3Ledger:
    """One S3 object holding the JSON lines, updated with conditional writes.

    Every call goes through :func:`aws.retry` and the S3 error mapper of the backup store
    (:func:`storage.s3_error`), with the same timeouts as every other S3 call.
    """

    def __init__(self, url, aws_options):
        bucket, _sep, key = url[len("s3://"):].partition("/")
        if not bucket or not key or key.endswith("/"):
            raise ConfigurationError(
                "ledger %s must name an object: s3://bucket/path/ledger.jsonl" % url
            )
        self.bucket, self.key, self.location = bucket, key, url
        self.client = aws.client("s3", aws_options)
        self.skipped = []

    def _call(self, action, func, **kwargs):
        """One S3 call on the ledger object; failures become the StorageError of ``storage.s3_error``."""
        try:
            return aws.retry()(func)(Bucket=self.bucket, Key=self.key, **kwargs)
        except Exception as exc:
            error = storage.s3_error(action, self.location, exc, bucket=self.bucket)
            error.code = aws.error_code(exc)
            raise error from None

    def _get(self):
        try:
            response = self._call("read", self.client.get_object)
            return response["Body"].read(), response["ETag"]
        except storage.StorageNotFound:
            return b"", None
        except StorageError as exc:
            raise LedgerError("ledger: " + exc.message) from None
        except Exception as exc:  # the body stream itself failed (connection dropped, read timeout)
            raise LedgerError("cannot read the ledger %s: %s; check the endpoint and retry"
                              % (self.location, aws.describe_error(exc))) from None

    def read(self):
        """Every usable record; what could not be used is in ``self.skipped``."""
        self.skipped = []
        return parse_lines(self._get()[0], self.location, self.skipped)

    def append(self, record, attempts=8):
        """Append ``record`` unless its ``event_id`` is already there; True when it was written."""
        line = (json.dumps(record, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")
        for attempt in range(1, attempts + 1):
            data, etag = self._get()
            if has_event(parse_lines(data, self.location, []), record["event_id"]):
                return False
            if data and not data.endswith(b"\n"):
                data += b"\n"  # a torn last line stays alone on its line
            condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
            try:
                self._call("write", self.client.put_object, Body=data + line,
                           ContentType="application/x-ndjson", **condition)
                return True
            except StorageError as exc:
                if getattr(exc, "code", None) not in ("PreconditionFailed", "ConditionalRequestConflict", "412",
                                                      "409"):
                    raise LedgerError("ledger: " + exc.message) from None
            # another writer got there first: read again and retry after a short jittered pause
            http_client.pause(attempt, base=0.05, cap=2.0)
        raise LedgerError("the ledger %s kept changing under us; %d attempts lost the race" % (self.location, attempts))


def open_ledger(location, aws_options=None):
    """A FileLedger for a path, an S3Ledger for ``s3://bucket/key``."""
    if not location:
        raise ConfigurationError("ledger is required: a file path on the controller or s3://bucket/key")
    if location.startswith("s3://"):
        return S3Ledger(location, aws_options or {})
    if "://" in location:
        raise ConfigurationError("ledger %s: only a file path or s3://bucket/key is supported" % location)
    return FileLedger(location)


def parse_lines(data, location, skipped=None):
    """Usable records of a ledger's bytes (or text); every other line is left out and, when
    ``skipped`` is a list, reported there as ``{line, reason}`` (1-based line numbers).

    A record is usable when it is a JSON object with a non-empty ``deployment_id``, an ``event``
    and an RFC 3339 ``time``. A torn last line (a crash mid-write) is reported like the others.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    skipped = [] if skipped is None else skipped
    records = []
    lines = data.split(b"\n")
    torn = bool(data) and not data.endswith(b"\n")
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        problem = None
        try:
            record = safe_json.loads(raw)
        except ValueError as exc:
            problem = "not JSON (%s)" % exc
            if torn and number == len(lines):
                problem = "incomplete last line (a write was interrupted)"
        else:
            problem = record_problem(record)
        if problem:
            skipped.append({"line": number, "reason": problem})
            continue
        records.append(record)
    return records


def record_problem(record):
    """Why a parsed ledger line cannot be used as a record, or None."""
    if not isinstance(record, dict):
        return "not a JSON object (%s)" % type(record).__name__
    for name in ("deployment_id", "event"):
        if not isinstance(record.get(name), str) or not record.get(name):
            return "no %s" % name
    try:
        parse_time(record.get("time"))
    except ValueError:
        return "time %r is not an RFC 3339 time" % (record.get("time"),)
    return None


def has_event(records, wanted):
    """True when a record of ``records`` has the event id ``wanted``."""
    return any(r.get("event_id") == wanted for r in records)


def new_record(deployment_id, environment, application, version, event, data=None, moment=None, event_id_=None):
    """Build one ledger record (validated); ``event_id_`` defaults to :func:`event_id` of its content."""
    if event not in EVENTS:
        raise ConfigurationError("event %r is not one of %s" % (event, ", ".join(EVENTS)))
    for name, value in (("deployment_id", deployment_id), ("environment", environment),
                        ("application", application)):
        if not value:
            raise ConfigurationError("%s is required to record an event" % name)
    return {
        "event_id": event_id_ or event_id(deployment_id, environment, application, version, event, data),
        "time": isoformat(moment or utcnow()),
        "deployment_id": deployment_id,
        "environment": environment,
        "application": application,
        "version": version,
        "event": event,
        "data": data or {},
    }


def summarize(records, deployment_id):
    """What happened in one deployment: timeline with durations, outcome, backup, steps."""
    events = [r for r in records if r.get("deployment_id") == deployment_id]
    if not events:
        return None
    started = parse_time(events[0]["time"])
    timeline = []
    for index, record in enumerate(events):
        moment = parse_time(record["time"])
        following = parse_time(events[index + 1]["time"]) if index + 1 < len(events) else moment
        timeline.append({
            "event": record["event"], "time": record["time"],
            "offset_seconds": round((moment - started).total_seconds(), 3),
            "duration_seconds": round((following - moment).total_seconds(), 3),
            "data": _data(record),
        })
    outcome_events = [r for r in events if r["event"] in OUTCOMES]
    last = parse_time(events[-1]["time"])
    backups = [r["data"].get("backup_id") for r in events
               if r["event"] == "backup" and isinstance(r.get("data"), dict)]
    return {
        "deployment_id": deployment_id,
        "environment": events[0].get("environment"),
        "application": events[0].get("application"),
        "version": events[0].get("version"),
        "started_at": events[0]["time"],
        "finished_at": outcome_events[-1]["time"] if outcome_events else None,
        "outcome": outcome_events[-1]["event"] if outcome_events else "in_progress",
        "reason": _data(outcome_events[-1]).get("reason") if outcome_events else None,
        "duration_seconds": round((last - started).total_seconds(), 3),
        "backup_id": backups[-1] if backups else None,
        "traffic_steps": [r.get("data") or {} for r in events if r["event"] == "traffic_step"],
        "events": timeline,
    }


def _data(record):
    data = record.get("data")
    return data if isinstance(data, dict) else {}


def deployments(records, environment=None, application=None):
    """Summaries of every deployment, oldest first, optionally of one environment/application."""
    order = []
    for record in records:
        if environment and record.get("environment") != environment:
            continue
        if application and record.get("application") != application:
            continue
        if record.get("deployment_id") not in order:
            order.append(record.get("deployment_id"))
    return [summarize(records, deployment_id) for deployment_id in order]


def good_versions(records, environment, application):
    """Versions whose latest deployment in ``environment`` succeeded (and was not rolled back), newest first."""
    good = []
    for summary in reversed(deployments(records, environment, application)):
        if summary["outcome"] == "succeeded" and summary["version"] not in good:
            good.append(summary["version"])
    return good


def succeeded_in(records, environment, application, version):
    """True when ``version`` has at least one succeeded deployment in ``environment``."""
    return any(
        s["outcome"] == "succeeded" and s["version"] == version
        for s in deployments(records, environment, application)
    )


def run_deployment_record(params, check_mode, diff_mode):
    """Service of the deployment_record module: append an event and/or answer queries."""
    ledger = open_ledger(params["ledger"], params)
    records = ledger.read()
    environment, application = params["environment"], params["application"]
    result = {"changed": False, "ledger": ledger.location, "skipped_lines": list(ledger.skipped)}
    if ledger.skipped:
        lines = ", ".join(str(s["line"]) for s in ledger.skipped[:20])
        result["warnings"] = ["the ledger %s has %d line(s) that are not records and were skipped (lines %s); "
                              "see skipped_lines" % (ledger.location, len(ledger.skipped), lines)]
    if params["require_succeeded_in"]:
        gate = params["require_succeeded_in"]
        if not succeeded_in(records, gate, application, params["version"]):
            raise LedgerError(
                "version %s of %s has no succeeded deployment in %s according to the ledger %s; "
                "deploy it there first (or force, if you really mean to skip that)"
                % (params["version"], application, gate, ledger.location),
                gate=gate,
            )
    if params["event"]:
        record = new_record(params["deployment_id"], environment, application, params["version"],
                            params["event"], params["data"], event_id_=params.get("event_id"))
        if check_mode:
            written = not has_event(records, record["event_id"])
        else:
            written = ledger.append(record)
        if written:
            records.append(record)
        result["changed"] = written
        result["record"] = record
        if diff_mode and written:
            result["diff"] = {"before": "", "after": json.dumps(record, sort_keys=True) + "\n",
                              "after_header": ledger.location}
    if params["deployment_id"]:
        result["deployment"] = summarize(records, params["deployment_id"])
    if environment and application:
        good = good_versions(records, environment, application)
        result["last_good_version"] = good[0] if good else None
        result["good_versions"] = good
        history = deployments(records, environment, application)
        keys = ("deployment_id", "version", "outcome", "started_at", "finished_at", "duration_seconds")
        result["history"] = [{k: s[k] for k in keys} for s in history[-params["history_size"]:]]
    return result
