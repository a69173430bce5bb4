"""CloudTrail LookupEvents (not implemented in moto 5.2.5), from the recorded trail.

Answered as the service does (API reference, "LookupEvents"):
- at most one LookupAttribute; keys EventId, EventName, ReadOnly, Username,
  ResourceType, ResourceName, EventSource, AccessKeyId; values compared exactly;
- StartTime/EndTime inclusive (default: the whole history up to now);
- newest first, MaxResults 1–50 (default 50), an opaque NextToken that only
  fits the query it came from;
- 2 requests per second per account and region, beyond which the service
  answers ThrottlingException.  That limit is what makes a console's feed
  design matter, so the simulator enforces it on wall-clock time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import deque
from typing import Any

from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.iam.models import iam_backends
from moto.sts.responses import TokenResponse

from smtop.sim.cloudtrail import RecordedEvent, Trail
from smtop.sim.patches.handlers import Handlers
from smtop.sim.wsgi import signing_key

LOOKUP_KEYS = ("EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId")
MAX_RESULTS = 50
REQUESTS_PER_SECOND = 2
"""LookupEvents' quota per account and region."""

_moto_get_caller_identity = TokenResponse.get_caller_identity


class _Error(JsonRESTError):
    code = 400


class LookupRateLimit:
    """A sliding one-second window of LookupEvents calls per (account, region)."""

    def __init__(self, per_second: int = REQUESTS_PER_SECOND, clock=time.monotonic) -> None:
        self.per_second = per_second
        self._clock = clock
        self._calls: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, account: str, region: str) -> bool:
        """Count one call; False when it is over the quota (and then it does not count)."""
        now = self._clock()
        with self._lock:
            calls = self._calls.setdefault((account, region), deque())
            while calls and calls[0] <= now - 1.0:
                calls.popleft()
            if len(calls) >= self.per_second:
                return False
            calls.append(now)
            return True


def lookup_events(response: CloudTrailResponse, *, trail: Trail, lookup_limit: LookupRateLimit) -> str:
    if not lookup_limit.admit(response.current_account, response.region):
        raise _Error("ThrottlingException", "Rate exceeded")
    attribute = _attribute(response._get_param("LookupAttributes") or [])
    category = response._get_param("EventCategory")
    if category not in (None, "insight"):
        raise _Error("InvalidEventCategoryException", f"Event category {category} is not valid.")
    max_results = response._get_param("MaxResults")
    size = MAX_RESULTS if max_results is None else int(max_results)
    if not 1 <= size <= MAX_RESULTS:
        raise _Error("InvalidMaxResultsException", f"Value {size} for MaxResults is invalid; it must be between 1 and {MAX_RESULTS}.")
    now = trail.clock.not_behind_wall()  # the client's "an hour ago" is never after it
    start = _epoch(response._get_param("StartTime"), 0.0)
    end = _epoch(response._get_param("EndTime"), now)
    if start > end:
        raise _Error("InvalidTimeRangeException", "Start time must be less than or equal to end time.")
    # The query as asked (an omitted EndTime means "now" on every page).
    query = _fingerprint(attribute, start, None if response._get_param("EndTime") is None else end, category)
    after = _read_token(response._get_param("NextToken"), query)
    events = [] if category == "insight" else trail.store(response.current_account, response.region).newest_first(start, end)
    if attribute is not None:
        key, value = attribute
        events = [e for e in events if value in e.lookup_value(key)]
    if after is not None:
        events = [e for e in events if (e.time, e.seq) < after]
    page = events[:size]
    answer: dict[str, Any] = {"Events": [_summary(e) for e in page]}
    if len(events) > size:
        last = page[-1]
        answer["NextToken"] = _token(query, last.time, last.seq)
    return json.dumps(answer)


def get_caller_identity(response: TokenResponse, *, trail: Trail) -> ActionResult:
    """STS GetCallerIdentity names the same principal the trail records.

    moto answers a key it did not issue with a fixed ``user/moto``, which
    would not match who the CloudTrail feed says the key belongs to (the
    demo's acknowledgements would read "acked by moto").  Keys moto issued
    (IAM users, assumed roles) keep moto's answer."""
    signed = signing_key(response.headers.get("Authorization", ""))
    if signed is None:
        return _moto_get_caller_identity(response)
    backend = response.backend
    issued = backend.get_assumed_role_from_access_key(signed) or iam_backends[backend.account_id][
        backend.partition
    ].get_user_from_access_key_id(signed)
    if issued:
        return _moto_get_caller_identity(response)
    identity = trail.principal(signed).user_identity(backend.account_id)
    return ActionResult({"UserId": identity["principalId"], "Account": backend.account_id, "Arn": identity["arn"]})


def _attribute(attributes: list[dict[str, Any]]) -> tuple[str, str] | None:
    if not attributes:
        return None
    if len(attributes) > 1:
        raise _Error("InvalidLookupAttributesException", "You can specify only one lookup attribute.")
    key = attributes[0].get("AttributeKey")
    value = attributes[0].get("AttributeValue")
    if key not in LOOKUP_KEYS:
        raise _Error("InvalidLookupAttributesException", f"Lookup attribute key {key} is not valid; use one of {', '.join(LOOKUP_KEYS)}.")
    if not isinstance(value, str) or not value:
        raise _Error("InvalidLookupAttributesException", "The lookup attribute value must not be empty.")
    return key, value


def _epoch(value: Any, default: float) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        from botocore.utils import parse_timestamp

        return parse_timestamp(value).timestamp()


def _fingerprint(attribute: tuple[str, str] | None, start: float, end: float | None, category: str | None) -> str:
    return hashlib.sha256(json.dumps([attribute, start, end, category]).encode()).hexdigest()[:16]


def _token(query: str, at: float, seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"q": query, "t": at, "s": seq}).encode()).decode()


def _read_token(token: str | None, query: str) -> tuple[float, int] | None:
    """Where the previous page ended; a token from another query is refused, as CloudTrail does."""
    if token is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["q"] == query:
            return float(data["t"]), int(data["s"])
    except (ValueError, KeyError, TypeError):
        pass
    raise _Error("InvalidNextTokenException", "Invalid NextToken.")


def _summary(recorded: RecordedEvent) -> dict[str, Any]:
    event = recorded.event
    return {
        "EventId": event["eventID"],
        "EventName": event["eventName"],
        "ReadOnly": str(event["readOnly"]).lower(),
        "AccessKeyId": event["userIdentity"].get("accessKeyId", ""),
        "EventTime": recorded.time,
        "EventSource": event["eventSource"],
        "Username": recorded.username,
        "Resources": [{"ResourceType": kind, "ResourceName": name} for kind, name in recorded.resources],
        "CloudTrailEvent": json.dumps(event),
    }


HANDLERS: Handlers = {
    (CloudTrailResponse, "lookup_events"): lookup_events,
    (TokenResponse, "get_caller_identity"): get_caller_identity,
}
"""LookupEvents, and the caller identity it records: install with ``trail=`` and
``lookup_limit=`` (a :class:`LookupRateLimit`)."""
