# -*- coding: utf-8 -*-
# Copyright: shipyard.deploy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS access shared by the S3 storage and the ALB router: one option set, one client factory,
and a retry with jittered exponential backoff for every call that may fail transiently."""

from __future__ import annotations

import functools
import time
import traceback

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import DependencyError, ShipyardError
from ansible_collections.shipyard.deploy.plugins.module_utils.http_client import backoff_delay

# boto3 takes ~0.4 s to import; load it on first use so that modules which only may talk to AWS
# (traffic_switch with HAProxy, deployment_record with a file ledger) do not pay for it.
boto3 = None
botocore = None
BOTO3_IMPORT_ERROR = None


def _load_boto3():
    global boto3, botocore, BOTO3_IMPORT_ERROR
    if boto3 is None and BOTO3_IMPORT_ERROR is None:
        try:
            import boto3 as loaded_boto3
            import botocore.config  # binds the global name botocore (declared global above)
            import botocore.exceptions
        except ImportError:
            BOTO3_IMPORT_ERROR = traceback.format_exc()
        else:
            boto3 = loaded_boto3
    return boto3


# Error codes worth another try: throttling and the service's own transient failures.
RETRYABLE_CODES = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "SlowDown", "RequestLimitExceeded", "InternalError",
    "ServiceUnavailable", "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
}


# Per attempt; botocore makes at most BOTOCORE_ATTEMPTS attempts of a call (standard retry mode).
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
BOTOCORE_ATTEMPTS = 3


class AwsError(ShipyardError):
    """An AWS API call failed; ``code`` is the service's own error code when it gave one."""

    def __init__(self, message, code=None, **details):
        super().__init__(message, **details)
        self.code = code


def aws_argument_spec():
    """Options of every module that talks to AWS (see the ``aws`` doc fragment)."""
    return dict(
        endpoint_url=dict(type="str", aliases=["aws_endpoint_url"]),
        region=dict(type="str", aliases=["aws_region"]),
        profile=dict(type="str", aliases=["aws_profile"]),
        access_key=dict(type="str", no_log=True, aliases=["aws_access_key_id"]),
        secret_key=dict(type="str", no_log=True, aliases=["aws_secret_access_key"]),
        session_token=dict(type="str", no_log=True, aliases=["aws_session_token"]),
        aws_connect_timeout=dict(type="float", default=DEFAULT_CONNECT_TIMEOUT),
        aws_read_timeout=dict(type="float", default=DEFAULT_READ_TIMEOUT),
    )


def require_boto3():
    """Import boto3 (once); raise DependencyError when it is not installed."""
    if _load_boto3() is None:
        raise DependencyError(
            "the Python library boto3 is required on the host that runs this task; "
            "install it with 'pip install boto3' into the interpreter Ansible uses",
            import_error=BOTO3_IMPORT_ERROR,
        )


def client(service, options, max_pool_connections=10):
    """A boto3 client for ``service`` from the module options of :func:`aws_argument_spec`.

    Credentials not given fall back to boto3's usual chain (environment, profile, instance role).
    boto3's own retries stay on (standard mode, 3 attempts, each bounded by ``aws_connect_timeout``
    and ``aws_read_timeout``); :func:`retry` adds ours on top for throttling only.
    """
    require_boto3()
    try:
        session = boto3.session.Session(
            profile_name=options.get("profile") or None,
            aws_access_key_id=options.get("access_key") or None,
            aws_secret_access_key=options.get("secret_key") or None,
            aws_session_token=options.get("session_token") or None,
            region_name=options.get("region") or None,
        )
        config = botocore.config.Config(
            retries={"mode": "standard", "max_attempts": BOTOCORE_ATTEMPTS},
            max_pool_connections=max_pool_connections,
            connect_timeout=float(options.get("aws_connect_timeout") or DEFAULT_CONNECT_TIMEOUT),
            read_timeout=float(options.get("aws_read_timeout") or DEFAULT_READ_TIMEOUT),
        )
        return session.client(service, endpoint_url=options.get("endpoint_url") or None, config=config)
    except botocore.exceptions.ProfileNotFound:
        raise AwsError(
            "AWS profile %r is not configured on this host; create it or pass access_key/secret_key"
            % options.get("profile")
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise AwsError("cannot create an AWS %s client: %s" % (service, exc)) from None


def error_code(exc):
    """The service error code of a botocore ClientError, else None."""
    response = getattr(exc, "response", None) or {}
    return (response.get("Error") or {}).get("Code")


def describe_error(exc):
    """One line about a failed AWS call: the service's code and message, or what the connection did."""
    code = error_code(exc)
    if code:
        message = ((getattr(exc, "response", None) or {}).get("Error") or {}).get("Message") or ""
        return "%s: %s" % (code, message) if message else code
    if is_timeout(exc):
        return ("the endpoint did not answer in time (%s; raise aws_read_timeout if it is only slow)"
                % type(exc).__name__)
    return "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")


def is_timeout(exc):
    """True for botocore's connect and read timeouts."""
    return boto3 is not None and isinstance(exc, (botocore.exceptions.ConnectTimeoutError,
                                                  botocore.exceptions.ReadTimeoutError))


def retry(attempts=4, base_delay=0.5, max_delay=8.0):
    """Retry a function on throttling and transient service errors with full-jitter exponential backoff.

    Connection failures and timeouts are not retried here: botocore already made its attempts,
    each bounded by the timeouts, and more would only multiply the wait. Non-transient errors
    (access denied, no such bucket…) are raised at once.
    """

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(1, attempts + 1):
                try:
                    return func(*args, **kwargs)
                except Exception as exc:
                    transient = boto3 is not None and error_code(exc) in RETRYABLE_CODES
                    if not transient or attempt == attempts:
                        raise
                    time.sleep(backoff_delay(attempt, base_delay, max_delay))
            return None  # not reached

        return wrapper

    return decorate
