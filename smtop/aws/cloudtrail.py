"""The CloudTrail feed: who changed the endpoints, polled incrementally within the account's budget.

LookupEvents allows 2 requests per second per account and region, for the
whole account, 50 events a page, and one lookup attribute per request
(API reference, "LookupEvents").  Event history holds every management
event, reads included ("Working with CloudTrail event history"): on a real
account every tool's Describe*/List*/Get* calls are in it, smtop's own among
them (DescribeEndpoint per endpoint each refresh, DescribeAlarms every 30 s,
these very LookupEvents).  The feed shows writes (who changed something), so
the query is chosen by what a page of 50 holds:

- one ``EventSource`` lookup per followed source (SageMaker, CloudWatch),
  writes picked out by the client: each page holds that source's reads too.
  On an account where reads outnumber writes 100 to 1 a page holds half a
  write.  Three hours with 80 writes and 8,000 reads is ~160 pages, ~90 s of
  the account's whole budget at 1.8 requests/s before the feed shows its
  first deploy; every 15-s poll then re-reads the 10-minute delivery overlap,
  ~9 pages, a third of the account's budget for as long as the console is
  open; and a 500-event buffer of mostly reads holds about 11 minutes;
- one ``ReadOnly=false`` lookup, the followed sources picked out by the
  client: each page holds writes only, of every service.  The same three hours
  are 2 pages (1.1 s) and a poll is one page (4 % of the budget), whatever
  the reads; the cost grows only with the account's other writes (IAM, EC2,
  STS...), which a busy account may have many of.

So the feed asks ``ReadOnly=false`` and keeps its sources' events.  Against
the other services' writes it stays within budget on its own:

- a poll reads at most :data:`PAGES_PER_POLL` pages of its first fill (11 s of
  the budget); the next poll goes on from where it stopped, with the same
  parameters, as a NextToken requires; until it is done the snapshot says how
  far back the feed is complete (:attr:`TrailSnapshot.complete_since`), so
  older deploy markers are missing visibly, never silently;
- every LookupEvents request of every smtop process of the user waits its turn
  at one :class:`LookupPacer` per endpoint, account and region (consoles of one
  ``--serve`` are processes of their own), spaced a little more than 0.5 s
  apart;
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
import hashlib
import json
import logging
import random
import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable

from smtop.aws.session import AwsSession
from smtop.clock import Clock
from smtop.errors import SmtopError, ThrottledError
from smtop.models.cloudtrail import TrailEvent, TrailSnapshot
from smtop.models.names import principal_name

log = logging.getLogger(__name__)

SOURCES = ("sagemaker.amazonaws.com", "monitoring.amazonaws.com")
"""SageMaker's own calls, and CloudWatch's (alarm changes)."""

WRITES = {"AttributeKey": "ReadOnly", "AttributeValue": "false"}
"""The feed's one lookup attribute: write events only, of every service."""

REQUESTS_PER_SECOND = 2.0
"""LookupEvents' quota per account and region."""

DELIVERY_LAG = timedelta(minutes=10)
"""How far back each incremental poll looks again: CloudTrail usually shows an
event within 5 minutes of the call, so a later arrival is still caught."""

PAGE_SIZE = 50
"""LookupEvents' largest page."""

PAGES_PER_POLL = 20
"""Pages of the first fill one poll reads: 11 s of the account's budget at most."""

STALE_PACER_SECONDS = 600.0
"""A shared pacer slot this far ahead is a wall-clock jump or a damaged file, not a queue."""


class LookupPacer:
    """Spaces LookupEvents requests so no one-second window holds more than ``per_second``.

    The next free moment lives in a small file, locked while a request claims
    its slot, so every smtop process of the user paces against the same
    account and region together (each console of ``--serve`` is a process of
    its own).  Where the file cannot be used (no ``fcntl`` on Windows, a
    read-only cache directory) the pacer holds for this process only.

    Args:
        path: The shared file; ``None`` paces this process only.
        per_second: The quota.
        margin: Extra spacing, so network jitter cannot bunch two requests
            into one of the service's windows.
    """

    def __init__(self, path: Path | None = None, per_second: float = REQUESTS_PER_SECOND, margin: float = 1.1) -> None:
        self.interval = margin / per_second
        self.path = path
        self._next = 0.0
        self._lock = threading.Lock()

    async def wait(self) -> None:
        """Return when the next request may be sent (first come, first served)."""
        slot = await asyncio.to_thread(self.claim)
        delay = slot - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

    def claim(self) -> float:
        """Take the next free slot (epoch seconds) and return it."""
        with self._lock:
            now = time.time()
            if self.path is not None:
                try:
                    return self._claim_shared(now)
                except OSError as error:
                    log.debug("LookupEvents pacer file %s unusable (%s): pacing this process only", self.path, error)
                    self.path = None
            slot = max(now, self._next)
            self._next = slot + self.interval
            return slot

    def _claim_shared(self, now: float) -> float:
        import fcntl

        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as shared:
            fcntl.flock(shared, fcntl.LOCK_EX)  # released when the file closes
            shared.seek(0)
            try:
                next_free = float(shared.read(64) or 0.0)
            except ValueError:
                next_free = 0.0
            if next_free > now + STALE_PACER_SECONDS:
                next_free = now
            slot = max(now, next_free, self._next)
            shared.seek(0)
            shared.truncate()
            shared.write(repr(slot + self.interval).encode())
            shared.flush()
        self._next = slot + self.interval
        return slot


_PACERS: dict[str, LookupPacer] = {}
_PACERS_LOCK = threading.Lock()


def pacer_for(endpoint_url: str | None, account: str, region: str | None) -> LookupPacer:
    """The one pacer of an account and region (at an endpoint: AWS, or a simulator),
    shared by every feed of this process and, through its file, of the user's other
    smtop processes."""
    key = json.dumps([endpoint_url or "aws", account, region])
    with _PACERS_LOCK:
        pacer = _PACERS.get(key)
        if pacer is None:
            pacer = _PACERS[key] = LookupPacer(_pacer_path(key))
        return pacer


def _pacer_path(key: str) -> Path | None:
    try:
        import fcntl  # noqa: F401 - only where files can be locked

        import platformdirs
    except ImportError:
        return None
    name = hashlib.sha256(key.encode()).hexdigest()[:32]
    return platformdirs.user_cache_path("smtop") / "lookup-events-pacers" / name


class TrailHistory:
    """Recent CloudTrail write events of the followed sources, newest first, without duplicates.

    Args:
        aws: An open session.
        clock: The one clock ("now" for the first fill's window).
        sources: Event sources to keep (the others' writes are dropped).
        window: How far back the first fill reaches.
        capacity: Events kept (the oldest go first).
        max_attempts: Tries per request when throttled, before the poll fails.
            Each try is itself up to botocore's attempts, so 3 already spans
            seconds; past that the feed says "throttled, retrying in Ns" and
            the next poll resumes from the same place (nothing lost), rather
            than the panel staying silent through a long series of backoffs.
        backoff: First backoff in seconds; doubles each retry (with jitter).
        pages_per_poll: Pages of the first fill one poll reads at most.
        pacer: The rate pacer; by default the account and region's shared one.
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
        pages_per_poll: int = PAGES_PER_POLL,
        pacer: LookupPacer | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._aws = aws
        self._clock = clock
        self.sources = frozenset(sources)
        self._window = window
        self._capacity = capacity
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._pages_per_poll = pages_per_poll
        self._pacer = pacer
        self._sleep = sleep
        self._since: datetime | None = None
        self._fill: dict[str, Any] | None = None
        """The first fill's query (its StartTime, then its NextToken) while pages of it remain."""
        self._fill_reached: datetime | None = None
        """The oldest moment the unfinished fill has read back to."""
        self._events: OrderedDict[str, TrailEvent] = OrderedDict()
        self._rng = random.Random()
        self.backoffs: list[float] = []
        """Every backoff waited so far, in seconds (what "retrying in Ns" reports)."""

    async def poll(self) -> TrailSnapshot:
        """Fetch what is new since the last poll (and more of the first fill) and return the whole feed.

        Raises:
            ThrottledError: LookupEvents stayed throttled through every retry.
            AccessDeniedError: the role lacks cloudtrail:LookupEvents.
            SmtopError: any other failure; the next poll starts from the same place.
        """
        started = self._clock.now()
        client = await self._aws.client("cloudtrail")
        pacer = self._pacer or await self._shared_pacer()
        fetched: list[TrailEvent] = []
        requests = 0
        if self._since is None:
            self._fill = {"StartTime": started - self._window}
            self._fill_reached = started
        else:
            since = max(self._since, started - self._window)
            fetched, requests, _, _ = await self._pages(client, pacer, {"StartTime": since}, newer=0, pages=None)
        if self._fill is not None:
            newer = len(self._events) + len(fetched)
            older, made, token, reached = await self._pages(client, pacer, self._fill, newer=newer, pages=self._pages_per_poll)
            fetched += older
            requests += made
            self._fill = {**self._fill, "NextToken": token} if token else None
            if reached is not None:
                self._fill_reached = min(self._fill_reached or started, reached)
        self._since = started - DELIVERY_LAG
        return self._merge(fetched, requests, started)

    async def _shared_pacer(self) -> LookupPacer:
        """The account and region's pacer; the account comes from STS, once."""
        try:
            account = (await self._aws.whoami()).account
        except SmtopError:
            account = ""  # LookupEvents will say what is wrong; pace by endpoint and region meanwhile
        self._pacer = pacer_for(self._aws.endpoint_url, account, self._aws.region)
        return self._pacer

    async def _pages(
        self, client: Any, pacer: LookupPacer, query: dict[str, Any], *, newer: int, pages: int | None
    ) -> tuple[list[TrailEvent], int, str | None, datetime | None]:
        """Read ``query``'s pages: the kept events, newest first; the requests
        made; the NextToken where it stopped (``None``: nothing more worth
        reading); the time of the oldest event read, kept or not.

        Stops after ``pages`` pages, or once ``newer`` (events the feed holds
        that are newer than these pages) and what it kept fill the capacity:
        anything older would be dropped on arrival."""
        params = {"LookupAttributes": [WRITES], "MaxResults": PAGE_SIZE, **query}
        kept: list[TrailEvent] = []
        reached: datetime | None = None
        requests = read = 0
        while True:
            page, made = await self._request(client, pacer, params)
            requests += made
            read += 1
            events = [event_from(item) for item in page.get("Events", [])]
            kept += [e for e in events if self.keeps(e)]
            reached = min((e.time for e in events), default=reached)
            token = page.get("NextToken")
            if not token or newer + len(kept) >= self._capacity:
                return kept, requests, None, reached
            if pages is not None and read >= pages:
                return kept, requests, token, reached
            params = {**params, "NextToken": token}

    async def _request(self, client: Any, pacer: LookupPacer, params: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """One page, paced; a throttled request is retried as it was, after a backoff."""
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

    def _merge(self, fetched: list[TrailEvent], requests: int, started: datetime) -> TrailSnapshot:
        fresh: OrderedDict[str, TrailEvent] = OrderedDict()
        for event in fetched:
            if event.event_id not in self._events:
                fresh.setdefault(event.event_id, event)
        # EventTime has whole seconds: within one second the service's own
        # (newest first) order stands, so the sort is by time only and stable.
        merged = [*fresh.values(), *self._events.values()]
        ordered = sorted(merged, key=lambda e: e.time, reverse=True)[: self._capacity]
        self._events = OrderedDict((e.event_id, e) for e in ordered)
        added = sum(1 for event_id in fresh if event_id in self._events)
        complete_since: datetime | None = None
        if self._fill is not None:
            complete_since = self._fill_reached
        elif len(ordered) >= self._capacity:
            complete_since = ordered[-1].time  # older events may be beyond what the feed keeps
        if complete_since is not None and complete_since <= started - self._window:
            complete_since = None
        return TrailSnapshot(events=tuple(ordered), added=added, requests=requests, complete_since=complete_since)

    def keeps(self, event: TrailEvent) -> bool:
        """A write of a followed source (reads never, should a page hold one)."""
        return event.source in self.sources and not event.read_only

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
        read_only=str(item.get("ReadOnly", detail.get("readOnly", ""))).lower() == "true",
    )


def _who(identity: Any) -> str:
    """The user name, or the session name of an assumed role, or the service that acted."""
    if not isinstance(identity, dict):
        return ""
    if identity.get("type") == "AssumedRole":
        return principal_name(str(identity.get("arn", "")))
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
