"""The log tail: every event of a log group once, in time order, live.

Why it is shaped so:

- **One cursor for every source.**  A tail reads the same group through
  FilterLogEvents pages, repeated polls, reconnects after a failure, and Live
  Tail sessions.  :class:`TailCursor` is the single memory of what was shown,
  so switching between them neither repeats nor drops an event.
- **The dedupe key is the content, not the eventId.**  Live Tail events carry
  no eventId (LiveTailSessionLogEvent has logStreamName, timestamp, message
  and ingestionTime only), so an id-keyed cursor could not tell a Live Tail
  event from the same event read by a catch-up poll.  The key is
  ``(timestamp ms, stream, hash(message))`` with a *count*: the cursor
  remembers how many such events it has shown, each scan (one
  FilterLogEvents walk from one startTime, or one Live Tail session) counts
  how many it has met, and only the excess is new.  Two identical lines
  logged in the same millisecond on the same stream are therefore both shown
  (a set of keys would show one).  The price: such twins straddling the
  start of a Live Tail session can be shown once instead of twice, and two
  different messages with colliding 64-bit hashes at the same millisecond
  on the same stream would merge; both are far rarer than anything a
  person reads.
- **A lag window for late events.**  CloudWatch Logs stamps events with the
  writer's time, and they become searchable only after ingestion, seconds
  later and not in timestamp order across streams.  A cursor that restarted
  exactly at the newest timestamp would skip an event stamped a little
  earlier that was ingested after the poll.  So each scan starts ``lag``
  (10 s) before the newest timestamp shown and the cursor keeps the counts of
  that window: late events inside it are shown (out of order, when they
  arrive), repeats are not.  Events older than the window when they arrive
  are not shown, in either mode; ``TailCursor.late`` counts them.  Memory is
  bounded by ``max_keys``: past it the oldest timestamps are forgotten and
  the window shrinks (never below the newest millisecond), so memory does
  not grow with the event rate.
- **Bounded work per poll.**  A poll reads at most ``max_pages`` pages; if the
  group had more, the scan's nextToken is kept and the next poll continues
  it at once (no sleep), so a backlog is worked off in steps that each reach
  the UI, and a poll always moves forward even when the lag window alone
  holds more events than a poll reads.
- **Initial fill keeps the tail.**  FilterLogEvents only reads forward in
  time, so the events of the last ``since`` are walked from the oldest and
  only the newest ``fill_limit`` are kept (the panel's ring buffer holds no
  more).  A busy group's 12 hours can be millions of events; after
  ``fill_pages`` pages the tail estimates the event rate from what it read,
  jumps (once) to where the last ``2 x fill_limit`` events should start, and
  says so in a notice; the part in between is never read.  Rate estimates
  are only that: for bursty groups the jump can land early (the surplus
  arrives through the following bounded polls) or late (fewer lines shown).
  The newest events are always shown.
- **Live Tail when offered, polling otherwise.**  StartLiveTail pushes events
  within about a second instead of a poll interval, but it is not offered
  everywhere: moto answers and ends the stream at once; an IAM policy may
  deny it; a region or an emulator may not have it.  Until a session has
  run on the tail, any failure to start, or a session that ends within
  ``min_live`` seconds, switches the tail to polling for good, with a
  notice.  Once one has run, Live Tail is offered here, so a later failure
  is passing: the account's concurrent-session quota is taken
  (LimitExceededException), StartLiveTail is throttled, the connection
  dropped.  The tail then polls on the same cursor and tries Live Tail again
  after a backoff that doubles up to :data:`LIVE_RETRY_MAX` (each try may
  open a session, which is billed; polling shows every line meanwhile), and
  the notice says when.  botocore sends StartLiveTail to a
  ``stream-`` prefixed host (the operation's ``hostPrefix`` in the service
  model); an endpoint URL whose host is an IP address or ``localhost`` (the
  simulator, LocalStack) cannot take a prefix (``smtop.aws.session`` turns
  host-prefix injection off for such clients).
- **Live Tail only while someone reads it.**  It is billed per
  session-minute, polling is not: the console holds a
  :class:`~smtop.models.tail.LiveTailGate` and closes it when nobody looks
  (the panel is off screen, no key for ``live_tail_idle``).  A closed gate
  ends the session and the tail polls on the same cursor; an open one
  starts a session again with a catch-up poll.  Neither switch loses or
  repeats a line.  A session is renewed before the service's 3-hour limit, and after
  each session starts a catch-up poll reads what was ingested while no
  session was open (the cursor drops the overlap).  When the service samples
  a busy group, the update says so (``sampled``) and a notice explains it.
- **Failures never end the tail.**  Throttling, dropped connections and
  service errors back off exponentially with jitter (never a tight loop),
  yield a notice saying when the next try is, and resume where they stopped
  (the failed page is asked again with the same nextToken; the cursor drops
  any overlap).
  A log group that does not exist (yet: a new endpoint's group appears with
  its first instance) is waited for the same way.  Denied access, bad
  credentials and an invalid filter pattern end the tail with an smtop
  error the panel shows.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import sys
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Iterable, Mapping

from botocore.exceptions import BotoCoreError, ClientError

from smtop.aws.session import AwsSession
from smtop.clock import Clock, SystemClock
from smtop.errors import (
    AccessDeniedError,
    ConnectionFailedError,
    CredentialsError,
    InvalidFilterPatternError,
    NotFoundError,
    SmtopError,
    ThrottledError,
)
from smtop.models import LogEvent, LogGroup, TailUpdate
from smtop.models.tail import LiveTailGate

log = logging.getLogger(__name__)

DEFAULT_LAG = timedelta(seconds=10)
DEFAULT_MAX_KEYS = 50_000
LIVE_SESSION_LIMIT = timedelta(hours=3)
"""The service ends a Live Tail session after 3 hours."""
LIVE_RENEW_AFTER = timedelta(hours=2, minutes=55)
"""When smtop renews a session itself, before the service cuts it."""
LIVE_RETRY_MAX = 300.0
"""Longest wait, seconds, before trying Live Tail again after it failed to restart."""

_Where = tuple[str, int]  # (stream, hash(message)) at one timestamp


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _seconds(delay: float) -> str:
    return f"{delay:.0f} s" if delay >= 1 else f"{delay:.1f} s"


def _clock_text(ms: int) -> str:
    """A time in a notice, in UTC as the console shows every time."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%H:%M:%SZ")


class TailCursor:
    """What a tail has shown: a start time plus counts over a lag window.

    Pure (no I/O, no clock): feed it what FilterLogEvents pages or Live Tail
    sessions return, through a :class:`TailScan`, and it returns only what
    was not shown before.  See the module docstring for the key design.

    Args:
        start_ms: the oldest event time the tail shows (epoch ms).
        lag_ms: how far behind the newest timestamp a late event is still
            accepted, and where the next scan starts.
        max_keys: soft bound on remembered ``(timestamp, stream, message)``
            entries; past it the window shrinks from its old end.

    Example:
        >>> cursor = TailCursor(start_ms=0)
        >>> scan = cursor.scan()
        >>> new = scan.accept(page_events)        # first page
        >>> new += scan.accept(next_page_events)  # same scan, next page
        >>> cursor.scan().start_ms                # where the next poll starts
    """

    def __init__(self, start_ms: int, *, lag_ms: int = 10_000, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if lag_ms < 0 or max_keys < 1:
            raise ValueError("lag_ms must be >= 0 and max_keys >= 1")
        self.lag_ms = lag_ms
        self.max_keys = max_keys
        self.newest: int | None = None
        """Newest event time shown (epoch ms), or None before the first event."""
        self.late = 0
        """Events met older than the window (re-reads of forgotten ones, or too late to show)."""
        self.shown = 0
        """Events accepted as new, in total."""
        self._floor = start_ms
        self._shown: dict[int, dict[_Where, int]] = {}
        self._times: list[int] = []  # heap of the timestamps in _shown
        self._size = 0

    @property
    def floor(self) -> int:
        """The oldest event time still accepted (epoch ms): the next scan's start."""
        return self._floor

    @property
    def remembered(self) -> int:
        """How many (timestamp, stream, message) entries are held (tests, bench)."""
        return self._size

    def scan(self) -> TailScan:
        """Begin a scan: one FilterLogEvents walk or one Live Tail session."""
        return TailScan(self, self._floor)

    def _accept(self, scan: TailScan, events: Iterable[LogEvent]) -> list[LogEvent]:
        fresh: list[LogEvent] = []
        for event in events:
            ts = round(event.timestamp * 1000)
            if ts < self._floor:
                # Older than the window: shown before and forgotten, or
                # ingested too late to tell from those.
                self.late += 1
                continue
            where = (event.stream, hash(event.message))
            met = scan.count(ts, where)
            shown = self._shown.get(ts)
            if shown is None:
                shown = self._shown[ts] = {}
                heapq.heappush(self._times, ts)
            before = shown.get(where, 0)
            if met > before:
                if before == 0:
                    self._size += 1
                shown[where] = met
                fresh.append(event)
                if self.newest is None or ts > self.newest:
                    self.newest = ts
        self.shown += len(fresh)
        self._prune()
        return fresh

    def _prune(self) -> None:
        if self.newest is not None:
            self._floor = max(self._floor, self.newest - self.lag_ms)
        times = self._times
        while times and (times[0] < self._floor or (self._size > self.max_keys and times[0] != self.newest)):
            ts = heapq.heappop(times)
            self._size -= len(self._shown.pop(ts, ()))
            # Forgotten means never re-read: the next scan starts after it.
            self._floor = max(self._floor, ts + 1)


class TailScan:
    """One pass over a group (a FilterLogEvents walk or a Live Tail session).

    Counts the events it met per ``(timestamp, stream, message)`` so that the
    cursor can tell the n-th twin from a repeat.  Create with
    :meth:`TailCursor.scan`.
    """

    def __init__(self, cursor: TailCursor, start_ms: int, live: bool = False) -> None:
        self.cursor = cursor
        self.start_ms = start_ms
        """The startTime this scan asks for (epoch ms)."""
        self.live = live
        self.counts: dict[int, dict[_Where, int]] = {}
        self._times: list[int] = []

    def accept(self, events: Iterable[LogEvent]) -> list[LogEvent]:
        """Return the events of this page/update that were not shown before, in input order."""
        return self.cursor._accept(self, events)

    def count(self, ts: int, where: _Where) -> int:
        at = self.counts.get(ts)
        if at is None:
            at = self.counts[ts] = {}
            heapq.heappush(self._times, ts)
            # Counts below the cursor's floor are never consulted again.
            floor = self.cursor.floor
            while self._times and self._times[0] < floor:
                self.counts.pop(heapq.heappop(self._times), None)
        met = at.get(where, 0) + 1
        at[where] = met
        return met


def _event(raw: Mapping[str, Any], group: str) -> LogEvent:
    ingested = raw.get("ingestionTime")
    return LogEvent(
        timestamp=int(raw.get("timestamp", 0)) / 1000,
        message=str(raw.get("message", "")),
        stream=str(raw.get("logStreamName", "")),
        event_id=str(raw.get("eventId", "")),
        group=group,
        ingestion_time=int(ingested) / 1000 if ingested is not None else None,
    )


def _by_time(events: Iterable[LogEvent]) -> tuple[LogEvent, ...]:
    return tuple(sorted(events, key=lambda e: e.timestamp))


@dataclass
class TailStats:
    """What a tail has done so far (tests, bench/, a status line)."""

    polls: int = 0
    pages: int = 0
    events_read: int = 0
    events_shown: int = 0
    live_sessions: int = 0
    failures: int = 0
    last_wait: float = 0.0
    """Seconds the polling loop last waited between polls."""


class _LiveUnavailable(Exception):
    """Live Tail cannot be used here; the tail polls instead."""


class LogTail:
    """Follow one log group: an initial fill, then Live Tail or polling.

    One tail per (group, filter pattern, since): to change any of them the
    UI cancels the task iterating this tail and starts a new one.

    Args:
        aws: an open ``AwsSession``.
        group: the log group name, e.g. ``/aws/sagemaker/Endpoints/fraud``.
        filter_pattern: a CloudWatch Logs filter pattern (``ERROR``,
            ``?ERROR ?WARN``, ``{ $.level = "error" }``); None shows all.
        since: how far back the initial fill reaches.
        clock: where "now" comes from (the fill's start and the jump).
        poll_interval: seconds between polls when caught up.
        page_limit: events per FilterLogEvents page (None: the service's
            default, up to 10,000 or 1 MB).
        max_pages: pages per poll; a longer backlog continues at once in
            the next poll.
        fill_limit: events the initial fill keeps (the panel's buffer size).
        fill_pages: pages the initial fill reads before it jumps ahead.
        lag: the late-event window (see the module docstring).
        max_keys: bound of the cursor's memory.
        live: try Live Tail after the fill.
        live_gate: when Live Tail may run (the console closes it when nobody
            looks); None: always.
        live_renew_after: renew a Live Tail session after this long.
        min_live: a session that ends by itself sooner means "not offered".
        backoff: first retry delay after a failure, seconds; doubles up to
            ``max_backoff``, with jitter.
        max_backoff: longest retry delay, seconds.

    Example:
        >>> tail = LogTail(aws, "/aws/sagemaker/Endpoints/fraud", filter_pattern="ERROR",
        ...                since=timedelta(minutes=30))
        >>> async for update in tail.updates():
        ...     show(update.events, update.notice)
    """

    def __init__(
        self,
        aws: AwsSession,
        group: str,
        *,
        filter_pattern: str | None = None,
        since: timedelta = timedelta(minutes=10),
        clock: Clock | None = None,
        poll_interval: float = 2.0,
        quiet_interval: float | None = None,
        page_limit: int | None = None,
        max_pages: int = 10,
        fill_limit: int = 10_000,
        fill_pages: int = 20,
        lag: timedelta = DEFAULT_LAG,
        max_keys: int = DEFAULT_MAX_KEYS,
        live: bool = True,
        live_gate: LiveTailGate | None = None,
        live_renew_after: timedelta = LIVE_RENEW_AFTER,
        min_live: float = 10.0,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
    ) -> None:
        if max_pages < 1 or fill_pages < 1 or fill_limit < 1:
            raise ValueError("max_pages, fill_pages and fill_limit must be >= 1")
        if page_limit is not None and not 1 <= page_limit <= 10_000:
            raise ValueError("page_limit must be within 1..10000")
        self._aws = aws
        self.group = group
        self.filter_pattern = filter_pattern or None
        self.since = since
        self._clock = clock or SystemClock()
        self.poll_interval = poll_interval
        self.quiet_interval = max(poll_interval, quiet_interval) if quiet_interval else poll_interval
        self.page_limit = page_limit
        self.max_pages = max_pages
        self.fill_limit = fill_limit
        self.fill_pages = fill_pages
        self._lag_ms = int(lag.total_seconds() * 1000)
        self._max_keys = max_keys
        self.live = live
        """Whether Live Tail is still worth trying (False once it proved not offered)."""
        self.live_gate = live_gate or LiveTailGate()
        self._live_ran = False
        """A Live Tail session has run on this tail: the service offers it here."""
        self._live_failures = 0  # restarts in a row that failed or ended at once, for the backoff
        self._live_retry_at = 0.0  # event-loop time before which Live Tail is not tried again
        self._arn: str | None = None
        self.live_renew_after = live_renew_after.total_seconds()
        self.min_live = min_live
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.mode = "poll"
        """"poll" or "live": how events arrive now."""
        self.stats = TailStats()
        self.cursor = TailCursor(0, lag_ms=self._lag_ms, max_keys=max_keys)
        self._scan: TailScan | None = None
        self._token: str | None = None
        self._pending: list[LogEvent] = []  # accepted, not yet yielded (survives a failure)
        self._failures = 0

    def __aiter__(self) -> AsyncIterator[TailUpdate]:
        return self.updates()

    async def updates(self) -> AsyncIterator[TailUpdate]:
        """Yield what the tail delivers, forever (cancel the task to stop).

        The first update is the initial fill, sent even when empty (possibly
        with a notice about skipped events); notices about failures can come
        before it.  Later updates carry new events, in time order
        within each update, and/or a notice (fell back to polling,
        throttled, retrying…).  Updates without events or notice are not
        sent.

        Raises:
            InvalidFilterPatternError: the service rejected the pattern.
            AccessDeniedError, CredentialsError: the user must act first.
        """
        self.cursor = TailCursor(_ms(self._clock.now() - self.since), lag_ms=self._lag_ms, max_keys=self._max_keys)
        self._scan, self._token, self._pending = None, None, []
        async for update in self._fill():
            yield update
        while True:
            if self.live:
                async for update in self._follow_live():
                    yield update
            async for update in self._follow_polling():
                yield update

    @property
    def _live_wanted(self) -> bool:
        return self.live and self.live_gate.is_open and asyncio.get_running_loop().time() >= self._live_retry_at

    async def _wait_for_live(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for Live Tail to be wanted again; return whether it is.

        Returns at once when the gate opens, but never before the retry time
        of a failed restart.
        """
        if not self.live:
            await asyncio.sleep(timeout)
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        hold = self._live_retry_at - loop.time()
        if hold > 0:
            await asyncio.sleep(min(hold, timeout))
        await self.live_gate.wait(True, timeout=max(0.0, deadline - loop.time()))
        return self._live_wanted

    # -- polling -------------------------------------------------------------

    async def _poll(self, max_pages: int) -> bool:
        """Read up to ``max_pages`` pages of the current scan into ``_pending``.

        Returns True when the scan has more pages (a backlog).  On failure the
        pages read so far stay accepted and pending, and the scan keeps its
        nextToken: the retry asks for the failed page again.  (Restarting the
        scan instead would livelock on a flaky link whenever the lag window
        holds more pages than succeed in a row.)
        """
        logs = await self._aws.client("logs")
        if self._scan is None:
            self._scan, self._token = self.cursor.scan(), None
        scan = self._scan
        self.stats.polls += 1
        for _ in range(max_pages):
            request: dict[str, Any] = {
                "logGroupName": self.group,
                "startTime": scan.start_ms,
                # Ignored by CloudWatch (always interleaved since 2019);
                # emulators such as moto sort across streams only with it.
                "interleaved": True,
            }
            if self.filter_pattern:
                request["filterPattern"] = self.filter_pattern
            if self.page_limit:
                request["limit"] = self.page_limit
            if self._token:
                request["nextToken"] = self._token
            reply = await self._call(logs.filter_log_events, "FilterLogEvents", request)
            raw = reply.get("events", [])
            self.stats.pages += 1
            self.stats.events_read += len(raw)
            self._pending.extend(scan.accept(_event(e, self.group) for e in raw))
            self._token = reply.get("nextToken") or None
            if self._token is None:
                self._scan = None
                return False
        return True

    async def _call(self, method: Any, operation: str, request: dict[str, Any]) -> Any:
        with self._aws.errors("logs", operation):
            try:
                return await method(**request)
            except ClientError as error:
                raise self._pattern_error(error, operation) or error

    def _pattern_error(self, error: ClientError, operation: str) -> SmtopError | None:
        body = error.response.get("Error", {})
        if body.get("Code") not in ("InvalidParameterException", "MalformedQueryException"):
            return None
        message = " ".join(str(body.get("Message", "")).split())
        if not self.filter_pattern or not any(w in message.lower() for w in ("pattern", "filter", "term")):
            return None
        return InvalidFilterPatternError(
            f"The filter pattern {self.filter_pattern!r} is not valid: {message or 'CloudWatch Logs rejected it'}",
            pattern=self.filter_pattern,
            service="logs",
            operation=operation,
        )

    def _take(self, *, notice: str | None = None, sampled: bool = False) -> TailUpdate | None:
        events, self._pending = _by_time(self._pending), []
        self.stats.events_shown += len(events)
        if not events and not notice:
            return None
        return TailUpdate(self.group, events, mode=self.mode, sampled=sampled, notice=notice)

    async def _failed(self, error: SmtopError) -> tuple[TailUpdate | None, float]:
        """Decide what a failure means: re-raise, or a notice and a delay."""
        if isinstance(error, (InvalidFilterPatternError, AccessDeniedError, CredentialsError)):
            raise error
        if not (error.retryable or isinstance(error, NotFoundError)):
            raise error
        delay = self._next_delay()
        if isinstance(error, NotFoundError):
            what = f"Log group {self.group} does not exist (yet)"
        elif isinstance(error, ThrottledError):
            what = "CloudWatch Logs is throttling smtop"
        elif isinstance(error, ConnectionFailedError):
            what = "Lost the connection to CloudWatch Logs"
        else:
            what = str(error).rstrip(".")
        log.debug("tail of %s failed (%s); retrying in %.1f s", self.group, error, delay)
        return self._take(notice=f"{what}; retrying in {_seconds(delay)}."), delay

    def _next_delay(self) -> float:
        self._failures += 1
        self.stats.failures += 1
        return _backoff(self.backoff, self._failures, self.max_backoff)

    def _recovered(self) -> str | None:
        if not self._failures:
            return None
        self._failures = 0
        return "Reconnected; no events were lost." if self.mode == "poll" else "Live Tail reconnected."

    async def _fill(self) -> AsyncIterator[TailUpdate]:
        kept: deque[LogEvent] = deque(maxlen=self.fill_limit)
        begin = self.cursor.floor
        read = pages = 0
        first_at: int | None = None  # time of the first event read
        skipped_to: int | None = None
        while True:
            before = self.stats.pages
            try:
                more = await self._poll(self.max_pages)
                failure = None
            except SmtopError as error:
                failure = error
            # Pages read before a failure count: the retry resumes after them.
            pages += self.stats.pages - before
            read += len(self._pending)
            if first_at is None and self._pending:
                first_at = round(min(e.timestamp for e in self._pending) * 1000)
            kept.extend(self._pending)
            self._pending = []
            if failure is not None:
                update, delay = await self._failed(failure)
                if update is not None:
                    yield update
                await asyncio.sleep(delay)
                continue
            self._failures = 0
            if not more:
                break
            if pages < self.fill_pages:
                continue
            # The fill's page budget is spent with more to read.
            newest = self.cursor.newest
            if skipped_to is None and newest is not None and first_at is not None and newest > first_at:
                # The rate where the group has events, with room to spare:
                # the deque trims the surplus, a shortfall shows fewer lines.
                now = _ms(self._clock.now())
                rate = read / (newest - first_at)  # events per ms
                jump = now - int(2 * self.fill_limit / rate)
                if jump > newest:
                    # Forget the old part: a new cursor at the jump point.
                    skipped_to = jump
                    self.cursor = TailCursor(jump, lag_ms=self._lag_ms, max_keys=self._max_keys)
                    self._scan, self._token = None, None
                    kept.clear()
                    read = pages = 0
                    first_at = None
                    continue
            break  # the rest arrives through the following polls
        notice = None
        if skipped_to is not None:
            notice = (
                f"Too many events since {_clock_text(begin)} to load them all: "
                f"showing from {_clock_text(skipped_to)} on."
            )
        elif read > len(kept):
            notice = f"Showing the last {len(kept):,} of {read:,} events since {_clock_text(begin)}."
        # Always sent, even empty: it tells the panel the fill is done.
        events = _by_time(kept)
        self.stats.events_shown += len(events)
        yield TailUpdate(self.group, events, mode="poll", notice=notice)

    async def _poll_retrying(self) -> AsyncIterator[TailUpdate]:
        """One successful :meth:`_poll`, retrying failures after a backoff.

        Yields each failure's notice (with the events of the pages read
        before it).  Afterwards :attr:`_backlog` says whether the scan has
        more pages.
        """
        while True:
            try:
                await self._poll(self.max_pages)
                return
            except SmtopError as error:
                update, delay = await self._failed(error)
            if update is not None:
                yield update
            await asyncio.sleep(delay)

    @property
    def _backlog(self) -> bool:
        # _poll ends the scan when its last page is read.
        return self._scan is not None

    async def _follow_polling(self) -> AsyncIterator[TailUpdate]:
        """Poll until Live Tail is wanted (and offered) again; forever if it never is."""
        self.mode = "poll"
        wait = self.poll_interval
        while True:
            async for update in self._poll_retrying():
                yield update
            update = self._take(notice=self._recovered())
            if update is not None:
                yield update
            if self._live_wanted:
                return
            if not self._backlog:
                # A quiet group is asked less and less often (doubling up to
                # quiet_interval): FilterLogEvents' 5 TPS quota is shared by the
                # whole account and region.  The first new line brings it back
                # to poll_interval.
                wait = self.poll_interval if update is not None and update.events else min(self.quiet_interval, wait * 2)
                self.stats.last_wait = wait
                if await self._wait_for_live(wait):
                    return  # the console wants Live Tail again: at once, not after the wait

    def _interval_label(self) -> str:
        if self.quiet_interval > self.poll_interval:
            return f"{self.poll_interval:g} s ({self.quiet_interval:g} s when quiet)"
        return f"{self.poll_interval:g} s"

    # -- Live Tail -----------------------------------------------------------

    async def _follow_live(self) -> AsyncIterator[TailUpdate]:
        """Follow with Live Tail sessions; return (to polling) when not offered or not wanted."""
        loop = asyncio.get_running_loop()
        if not self.live_gate.is_open:
            yield self._paused()
            return
        try:
            arn = self._arn = self._arn or await self._group_arn()
        except (CredentialsError, InvalidFilterPatternError):
            raise
        except (SmtopError, _LiveUnavailable) as error:
            yield self._fallback(str(error).rstrip("."))
            return
        announce, short, sampled = True, 0, False
        while True:
            if not self.live_gate.is_open:
                yield self._paused()
                return
            started = loop.time()
            try:
                stream = await self._start_live(arn)
            except _LiveUnavailable as error:
                yield self._retry_later(str(error)) if self._live_ran else self._fallback(str(error))
                return
            self.mode = "live"
            self.stats.live_sessions += 1
            scan = TailScan(self.cursor, self.cursor.floor, live=True)
            ended_by = "ended"
            try:
                # What was ingested while no session was open; the cursor drops
                # what the session delivers again.
                async for update in self._catch_up(announce):
                    yield update
                announce = False
                events = stream.__aiter__()
                closed = asyncio.ensure_future(self.live_gate.wait(False))
                try:
                    while True:
                        remaining = started + self.live_renew_after - loop.time()
                        if remaining <= 0:
                            ended_by = "renew"
                            break
                        if closed.done():
                            ended_by = "paused"
                            break
                        # Not asyncio.wait_for: on cancellation it waits for the read
                        # to finish cancelling, and a read inside the event stream can
                        # ignore that; the tail would then never stop.  The read is
                        # abandoned instead, and closing the stream ends it.
                        read = asyncio.ensure_future(events.__anext__())
                        read.add_done_callback(_retrieve)
                        try:
                            done, _ = await asyncio.wait({read, closed}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                        except asyncio.CancelledError:
                            read.cancel()
                            raise
                        if read not in done:
                            read.cancel()
                            ended_by = "paused" if closed.done() else "renew"
                            break
                        try:
                            item = read.result()
                        except StopAsyncIteration:
                            break
                        session = item.get("sessionUpdate")
                        if not session:
                            continue
                        now_sampled = bool(session.get("sessionMetadata", {}).get("sampled"))
                        notice = None
                        if now_sampled != sampled:
                            notice = (
                                "Live Tail is sampling: this group logs faster than Live Tail delivers, "
                                "so some events are not shown; narrow the filter to see them all."
                                if now_sampled
                                else "Live Tail shows every event again."
                            )
                            sampled = now_sampled
                        raw = session.get("sessionResults") or []
                        self.stats.events_read += len(raw)
                        self._pending.extend(scan.accept(_event(e, self.group) for e in raw))
                        update = self._take(notice=notice or self._recovered(), sampled=sampled)
                        if update is not None:
                            yield update
                finally:
                    closed.cancel()
            except ClientError as error:
                # A session error inside the stream (SessionTimeoutException,
                # SessionStreamingException).
                ended_by = str(error.response.get("Error", {}).get("Code") or "error")
            except Exception as error:
                if not _is_connection_error(error):
                    raise
                ended_by = f"connection lost: {error or type(error).__name__}"
            finally:
                _close(stream)
            lasted = loop.time() - started
            if ended_by in ("paused", "renew") or lasted >= self.min_live:
                # The service kept it open until smtop ended it, or long enough.  A
                # session that ends at once does not reset the backoff of restarts.
                self._live_ran, self._live_failures = True, 0
            if ended_by == "paused":
                # Nobody is reading: stop paying for the session and poll on.
                yield self._paused()
                return
            if ended_by == "renew":
                log.debug("renewing the Live Tail session for %s after %.0f s", self.group, lasted)
                short = 0
                continue
            if lasted >= self.min_live:
                short = 0
                yield TailUpdate(self.group, mode="live", notice=f"Live Tail session {ended_by}; reconnecting.")
                continue
            if self._live_ran:
                yield self._retry_later(f"the session {ended_by} after {lasted:.1f} s")
                return
            # Ended at once: the service behind the endpoint does not stream
            # (moto), or keeps failing.
            short += 1
            if ended_by == "ended" or short >= 3:
                yield self._fallback(f"the session {ended_by} after {lasted:.1f} s")
                return
            delay = self._next_delay()
            yield TailUpdate(self.group, mode="live", notice=f"Live Tail session {ended_by}; retrying in {_seconds(delay)}.")
            await asyncio.sleep(delay)

    async def _catch_up(self, first: bool) -> AsyncIterator[TailUpdate]:
        """Poll until the current scan is complete (after a session starts)."""
        while True:
            async for update in self._poll_retrying():
                yield update
            update = self._take(notice="Following with Live Tail." if first else None)
            first = False
            if update is not None:
                yield update
            if not self._backlog:
                return

    async def _start_live(self, arn: str) -> Any:
        from botocore.parsers import ResponseParserError  # loaded by the client already

        logs = await self._aws.client("logs")
        request: dict[str, Any] = {"logGroupIdentifiers": [arn]}
        if self.filter_pattern:
            request["logEventFilterPattern"] = self.filter_pattern
        try:
            reply = await asyncio.wait_for(self._call(logs.start_live_tail, "StartLiveTail", request), 15.0)
        except asyncio.TimeoutError:
            raise _LiveUnavailable("StartLiveTail did not answer in 15 s") from None
        except (InvalidFilterPatternError, CredentialsError):
            raise
        except ConnectionFailedError as error:
            # The URL (a `stream-` host botocore derived) says nothing a person can act on.
            raise _LiveUnavailable("its streaming endpoint could not be reached") from error
        except SmtopError as error:
            raise _LiveUnavailable(str(error).rstrip(".")) from error
        except ResponseParserError as error:
            # Not a BotoCoreError, so aws_errors lets it through: the endpoint
            # answered, but not with a Live Tail event stream.
            raise _LiveUnavailable(f"the answer was not a Live Tail stream: {error}") from error
        return reply["responseStream"]

    async def _group_arn(self) -> str:
        for group in await list_log_groups(self._aws, self.group, limit=50):
            if group.name == self.group:
                if not group.arn:
                    raise _LiveUnavailable("the log group has no ARN")
                return group.arn
        raise NotFoundError(f"Log group {self.group} does not exist", service="logs", operation="DescribeLogGroups")

    def _paused(self) -> TailUpdate:
        """Live Tail stopped because the console closed the gate: the panel says so."""
        self.mode = "poll"
        reason = self.live_gate.reason or "not wanted now"
        return TailUpdate(
            self.group, mode="poll", notice=f"Live Tail paused ({reason}); polling every {self._interval_label()}."
        )

    def _retry_later(self, reason: str) -> TailUpdate:
        """Live Tail ran here before and could not restart now: poll, and try again after a backoff."""
        self.mode = "poll"
        self._live_failures += 1
        self.stats.failures += 1
        delay = _backoff(self.backoff, self._live_failures, LIVE_RETRY_MAX)
        self._live_retry_at = asyncio.get_running_loop().time() + delay
        log.debug("Live Tail of %s could not restart (%s); next try in %.1f s", self.group, reason, delay)
        return TailUpdate(
            self.group,
            mode="poll",
            notice=f"Live Tail could not restart ({reason}); polling every {self._interval_label()}, "
            f"trying Live Tail again in {_seconds(delay)}.",
        )

    def _fallback(self, reason: str) -> TailUpdate:
        self.live = False
        self.mode = "poll"
        self._failures = 0
        return TailUpdate(
            self.group,
            mode="poll",
            notice=f"Live Tail is not available here ({reason}); polling every {self._interval_label()}.",
        )


def _backoff(first: float, failures: int, longest: float) -> float:
    """The wait after ``failures`` failures in a row: doubling from ``first`` up to ``longest``, with jitter."""
    delay = min(longest, first * 2 ** (failures - 1))
    return delay * random.uniform(0.5, 1.0)  # jitter: many tails must not retry in step


def _is_connection_error(error: BaseException) -> bool:
    # aiohttp is loaded by then (aiobotocore uses it); look it up, do not import it.
    aiohttp = sys.modules.get("aiohttp")
    parsers = sys.modules.get("botocore.parsers")
    return (
        isinstance(error, (OSError, asyncio.IncompleteReadError, BotoCoreError))
        or (aiohttp is not None and isinstance(error, aiohttp.ClientError))
        or (parsers is not None and isinstance(error, parsers.ResponseParserError))
    )


def _retrieve(read: asyncio.Future) -> None:
    # An abandoned read's outcome is not wanted; fetching it keeps asyncio quiet.
    if not read.cancelled():
        read.exception()


def _close(stream: Any) -> None:
    try:
        stream.close()
    except Exception:  # closing a dead stream must not hide why it died
        log.debug("closing a Live Tail stream failed", exc_info=True)


async def list_log_groups(aws: AwsSession, prefix: str = "", *, limit: int = 1000) -> list[LogGroup]:
    """Log groups whose name starts with ``prefix``, sorted by name.

    For the panel's "open another log group" list: ``/aws/sagemaker/``
    shows the endpoint, training and processing job groups.

    Args:
        aws: an open session.
        prefix: name prefix ("" for all groups).
        limit: stop after this many groups (accounts can hold thousands).

    Raises:
        SmtopError: an AWS failure, already translated.
    """
    logs = await aws.client("logs")
    paginator = logs.get_paginator("describe_log_groups")
    request: dict[str, Any] = {"PaginationConfig": {"PageSize": 50}}
    if prefix:
        request["logGroupNamePrefix"] = prefix
    groups: list[LogGroup] = []
    with aws.errors("logs", "DescribeLogGroups"):
        async for page in paginator.paginate(**request):
            for raw in page.get("logGroups", []):
                arn = raw.get("logGroupArn") or str(raw.get("arn", "")).removesuffix(":*")
                created = raw.get("creationTime")
                groups.append(
                    LogGroup(
                        name=raw["logGroupName"],
                        arn=arn,
                        created=datetime.fromtimestamp(created / 1000, timezone.utc) if created else None,
                        stored_bytes=raw.get("storedBytes"),
                        retention_days=raw.get("retentionInDays"),
                    )
                )
            if len(groups) >= limit:
                break
    return sorted(groups[:limit], key=lambda g: g.name)
