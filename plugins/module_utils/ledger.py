# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment ledger: an append-only record of every deployment's events.

One JSON object per line, in a file on the controller or in one S3 object.  Appends to a file take
an exclusive ``flock`` so parallel playbooks cannot interleave half lines; appends to S3 use
conditional writes (``If-Match`` on the ETag read, ``If-None-Match: *`` to create) and retry when
another writer won, so no event is lost.

The ledger answers the questions a release pipeline asks: what happened in a deployment, what is
the last good version of an application in an environment (for rollback), and has a version
succeeded in an environment (staging before production).
"""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import random
import time

from ansible_collections.shipyard.deploy.plugins.module_utils import aws
from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError, ShipyardError

EVENTS = (
    "started", "evidence", "preflight", "backup", "migration", "release", "health", "analysis", "traffic_step",
    "approval", "bake", "succeeded", "failed", "rolled_back", "note",
)
# A deployment ends with one of these; the last one written wins.
OUTCOMES = ("succeeded", "failed", "rolled_back")


class LedgerError(ShipyardError):
    """The ledger cannot be read or written."""


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def isoformat(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


class FileLedger:
    """A JSON-lines file; created (0600, with its directory) on the first append."""

    def __init__(self, path):
        self.path = os.path.abspath(os.path.expanduser(path))
        self.location = self.path

    def read(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                return parse_lines(handle.read(), self.location)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise LedgerError("cannot read the ledger %s: %s" % (self.path, exc.strerror)) from None

    def append(self, record):
        line = json.dumps(record, sort_keys=True) + "\n"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise LedgerError(
                "cannot append to the ledger %s: %s; check that the directory is writable" % (self.path, exc.strerror)
            ) from None


class S3Ledger:
    """One S3 object holding the JSON lines, updated with conditional writes."""

    def __init__(self, url, aws_options):
        bucket, _sep, key = url[len("s3://"):].partition("/")
        if not bucket or not key or key.endswith("/"):
            raise ConfigurationError(
                "ledger %s must name an object: s3://bucket/path/ledger.jsonl" % url
            )
        self.bucket, self.key, self.location = bucket, key, url
        self.client = aws.client("s3", aws_options)

    def _get(self):
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except Exception as exc:
            if aws.error_code(exc) in ("NoSuchKey", "404"):
                return "", None
            raise LedgerError("cannot read the ledger %s: %s" % (self.location, exc)) from None
        return response["Body"].read().decode("utf-8"), response["ETag"]

    def read(self):
        return parse_lines(self._get()[0], self.location)

    def append(self, record, attempts=8):
        line = json.dumps(record, sort_keys=True) + "\n"
        for attempt in range(attempts):
            text, etag = self._get()
            condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
            try:
                self.client.put_object(Bucket=self.bucket, Key=self.key, Body=(text + line).encode("utf-8"),
                                       ContentType="application/x-ndjson", **condition)
                return
            except Exception as exc:
                if aws.error_code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise LedgerError("cannot write the ledger %s: %s" % (self.location, exc)) from None
            # another writer got there first: read again and retry after a short jittered pause
            time.sleep(random.uniform(0, 0.05 * 2 ** attempt))  # noqa: S311
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


def parse_lines(text, location):
    """Records of a ledger text; a torn last line (a crash mid-write) is skipped, others are errors."""
    records = []
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            if number == len(lines) and not text.endswith("\n"):
                break
            raise LedgerError(
                "ledger %s line %d is not JSON; repair or remove that line" % (location, number)
            ) from None
    return records


def new_record(deployment_id, environment, application, version, event, data=None, moment=None):
    """Build one ledger record (validated)."""
    if event not in EVENTS:
        raise ConfigurationError("event %r is not one of %s" % (event, ", ".join(EVENTS)))
    for name, value in (("deployment_id", deployment_id), ("environment", environment),
                        ("application", application)):
        if not value:
            raise ConfigurationError("%s is required to record an event" % name)
    return {
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
            "data": record.get("data") or {},
        })
    outcome_events = [r for r in events if r["event"] in OUTCOMES]
    last = parse_time(events[-1]["time"])
    backups = [r["data"].get("backup_id") for r in events if r["event"] == "backup" and r.get("data")]
    return {
        "deployment_id": deployment_id,
        "environment": events[0]["environment"],
        "application": events[0]["application"],
        "version": events[0].get("version"),
        "started_at": events[0]["time"],
        "finished_at": outcome_events[-1]["time"] if outcome_events else None,
        "outcome": outcome_events[-1]["event"] if outcome_events else "in_progress",
        "reason": (outcome_events[-1].get("data") or {}).get("reason") if outcome_events else None,
        "duration_seconds": round((last - started).total_seconds(), 3),
        "backup_id": backups[-1] if backups else None,
        "traffic_steps": [r["data"] for r in events if r["event"] == "traffic_step"],
        "events": timeline,
    }


def deployments(records, environment=None, application=None):
    """Summaries of every deployment, oldest first, optionally of one environment/application."""
    order = []
    for record in records:
        if environment and record.get("environment") != environment:
            continue
        if application and record.get("application") != application:
            continue
        if record.get("deployment_id") not in order:
            order.append(record["deployment_id"])
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
    result = {"changed": False, "ledger": ledger.location}
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
                            params["event"], params["data"])
        if not check_mode:
            ledger.append(record)
        records.append(record)
        result["changed"] = True
        result["record"] = record
        if diff_mode:
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
