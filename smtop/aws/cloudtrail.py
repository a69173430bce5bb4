"""The CloudTrail feed: recent management events about the endpoints, polled incrementally.

LookupEvents allows 2 requests per second per account and region, for the
whole account: a console that pages through three hours of history at full
speed would throttle itself and every other tool of the team.  So:

- every LookupEvents request of the app waits its turn at one
  :class:`LookupPacer` per session and region, which spaces requests a little
  more than 0.5 s apart;
- after the first fill each poll asks only from a little before the previous
  poll started (CloudTrail delivers events minutes late, so the overlap is
  :data:`DELIVERY_LAG`); the overlap is deduplicated by EventId;
- a throttled request is retried after an exponential backoff with jitter, the
  same request again (same StartTime, same NextToken), so a throttle costs
  time but loses or repeats no event; when throttling persists the poll fails
  as a whole and the next one starts from the same place.
"""

from __future__ import annotations

import asyncio
import json
import random
import weakref
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Iterable

from smtop.aws.session import AwsSession
from smtop.clock import Clock
from smtop.errors import ThrottledError
from smtop.models.cloudtrail import TrailEvent, TrailSnapshot

SOURCES = ("sagemaker.amazonaws.com", "monitoring.amazonaws.com")
"""SageMaker's own calls, and CloudWatch's (alarm changes)."""

REQUESTS_PER_SECOND = 2.0
"""LookupEvents' quota per account and region."""

DELIVERY_LAG = timedelta(minutes=10)
"""How far back each incremental poll looks again: CloudTrail usually shows an
event within 5 minutes of the call, so a later arrival is still caught."""

PAGE_SIZE = 50
"""LookupEvents' largest page."""


class LookupPacer:
    """Spaces requests so no one-second window holds more than ``per_second``.

    Args:
        per_second: The quota.
        margin: Extra spacing, so network jitter cannot bunch two requests
            into one of the service's windows.
    """

    def __init__(self, per_second: float = REQUESTS_PER_SECOND, margin: float = 1.1) -> None:
        self.interval = margin / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next request may be sent (first come, first served)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = loop.time()
            self._next = now + self.interval


_PACERS: weakref.WeakKeyDictionary[AwsSession, dict[str | None, LookupPacer]] = weakref.WeakKeyDictionary()


def pacer_for(aws: AwsSession) -> LookupPacer:
    """The one pacer of a session's account and region: every feed of the app shares it."""
    by_region = _PACERS.setdefault(aws, {})
    pacer = by_region.get(aws.region)
    if pacer is None:
        pacer = by_region[aws.region] = LookupPacer()
    return pacer


class TrailHistory:
    """Recent CloudTrail events of the account, newest first, without duplicates.

    Args:
        aws: An open session.
        clock: The one clock ("now" for the first fill's window).
        sources: Event sources to follow (one LookupEvents query each).
        window: How far back the first fill reaches.
        capacity: Events kept (the oldest go first).
        max_attempts: Tries per request when throttled, before the poll fails.
            Each try is itself up to botocore's attempts, so 3 already spans
            seconds; past that the feed says "throttled, retrying in Ns" and
            the next poll resumes from the same place (nothing lost), rather
            than the panel staying silent through a long series of backoffs.
        backoff: First backoff in seconds; doubles each retry (with jitter).
        pacer: The rate pacer; by default the session's shared one.
        sleep: How to wait (tests pass a recorder).
    """

    def __init__(
        self,
        aws: AwsSession,
        clock: Clock,
        *,
        sources: Iterable[str] = SOURCES,
        window: timedelta = timedelta(hours=3),
        capacity: int = 500,
        max_attempts: int = 3,
        backoff: float = 0.5,
        pacer: LookupPacer | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._aws = aws
        self._clock = clock
        self.sources = tuple(sources)
        self._window = window
        self._capacity = capacity
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._pacer = pacer
        self._sleep = sleep
        self._since: datetime | None = None
        self._events: OrderedDict[str, TrailEvent] = OrderedDict()
        self._rng = random.Random()
        self.backoffs: list[float] = []
        """Every backoff waited so far, in seconds (what "retrying in Ns" reports)."""

    async def poll(self) -> TrailSnapshot:
        """Fetch what is new since the last poll and return the whole feed.

        Raises:
            ThrottledError: LookupEvents stayed throttled through every retry.
            AccessDeniedError: the role lacks cloudtrail:LookupEvents.
            SmtopError: any other failure; the next poll starts from the same place.
        """
        started = self._clock.now()
        since = self._since or (started - self._window)
        since = max(since, started - self._window)
        requests = 0
        fetched: list[TrailEvent] = []
        for source in self.sources:
            events, made = await self._lookup(source, since)
            fetched.extend(events)
            requests += made
        fresh: OrderedDict[str, TrailEvent] = OrderedDict()
        for event in fetched:
            if event.event_id not in self._events:
                fresh.setdefault(event.event_id, event)
        self._since = started - DELIVERY_LAG
        # EventTime has whole seconds: within one second the service's own
        # (newest first) order stands, so the sort is by time only and stable.
        merged = [*fresh.values(), *self._events.values()]
        ordered = sorted(merged, key=lambda e: e.time, reverse=True)[: self._capacity]
        self._events = OrderedDict((e.event_id, e) for e in ordered)
        added = sum(1 for event_id in fresh if event_id in self._events)
        return TrailSnapshot(events=tuple(ordered), added=added, requests=requests)

    async def _lookup(self, source: str, since: datetime) -> tuple[list[TrailEvent], int]:
        client = await self._aws.client("cloudtrail")
        params: dict[str, Any] = {
            "LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": source}],
            "StartTime": since,
            "MaxResults": PAGE_SIZE,
        }
        events: list[TrailEvent] = []
        requests = 0
        while True:
            page, made = await self._request(client, params)
            requests += made
            events.extend(event_from(item) for item in page.get("Events", []))
            token = page.get("NextToken")
            if not token or len(events) >= self._capacity:
                return events, requests
            params = {**params, "NextToken": token}

    async def _request(self, client: Any, params: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """One page, paced; a throttled request is retried as it was, after a backoff."""
        pacer = self._pacer or pacer_for(self._aws)
        for attempt in range(1, self._max_attempts + 1):
            await pacer.wait()
            try:
                with self._aws.errors("cloudtrail", "LookupEvents"):
                    return await client.lookup_events(**params), attempt
            except ThrottledError:
                if attempt == self._max_attempts:
                    raise
                # Full jitter over half the exponential step: clients that were
                # throttled together do not come back together.
                step = min(30.0, self._backoff * 2 ** (attempt - 1))
                delay = step * self._rng.uniform(0.5, 1.0)
                self.backoffs.append(delay)
                await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def event_from(item: dict[str, Any]) -> TrailEvent:
    """A LookupEvents ``Events`` entry as a :class:`TrailEvent`."""
    raw = item.get("CloudTrailEvent") or "{}"
    try:
        detail = json.loads(raw)
    except ValueError:
        detail = {}
    if not isinstance(detail, dict):
        detail = {}
    endpoints = _endpoints(item.get("Resources") or [], detail.get("requestParameters"))
    names = [str(r.get("ResourceName", "")) for r in item.get("Resources") or [] if r.get("ResourceName")]
    resource = sorted(endpoints)[0] if endpoints else (names[0] if names else "")
    when = item.get("EventTime")
    if not isinstance(when, datetime):
        when = datetime.fromtimestamp(float(when or 0), timezone.utc)
    return TrailEvent(
        event_id=str(item.get("EventId", "")),
        name=str(item.get("EventName", "")),
        source=str(item.get("EventSource", "")),
        time=when.astimezone(timezone.utc),
        who=str(item.get("Username") or _who(detail.get("userIdentity"))),
        resource=resource,
        endpoints=frozenset(endpoints),
        source_ip=str(detail.get("sourceIPAddress", "")),
        error_code=detail.get("errorCode") or None,
        error_message=detail.get("errorMessage") or None,
        raw=raw,
    )


def _who(identity: Any) -> str:
    """The user name, or the session name of an assumed role, or the service that acted."""
    if not isinstance(identity, dict):
        return ""
    if identity.get("type") == "AssumedRole":
        return str(identity.get("arn", "")).rsplit("/", 1)[-1]
    return str(identity.get("userName") or identity.get("invokedBy") or identity.get("type") or "")


def _endpoints(resources: list[dict[str, Any]], parameters: Any) -> set[str]:
    """Endpoint names an event is about: its endpoint resources, the endpointName it
    was called with, or an EndpointName dimension (an alarm on the endpoint's metric)."""
    found: set[str] = set()
    for resource in resources:
        if resource.get("ResourceType") == "AWS::SageMaker::Endpoint" and resource.get("ResourceName"):
            found.add(str(resource["ResourceName"]).rsplit(":endpoint/", 1)[-1])
    if isinstance(parameters, dict):
        name = parameters.get("endpointName")
        if isinstance(name, str) and name:
            found.add(name)
        for dimension in parameters.get("dimensions") or []:
            if isinstance(dimension, dict) and dimension.get("name") == "EndpointName" and dimension.get("value"):
                found.add(str(dimension["value"]))
    return found
